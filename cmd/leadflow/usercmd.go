package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/auth"
	"github.com/leadflow/leadflow/internal/routing"
	"github.com/leadflow/leadflow/internal/store"
	"github.com/leadflow/leadflow/internal/web"
)

const userUsage = `usage:
  leadflow user create --name N --role ROLE [--email E] [--team T] [--max-open N] [--display-name TEXT]
  leadflow user update --name N [--role ROLE] [--email E] [--team T] [--max-open N] [--display-name TEXT] [--active=false]
  leadflow user list [--team T] [--json]
roles: admin, marketing, sales, manager, viewer; --max-open 0 means no limit
`

const teamUsage = `usage:
  leadflow team create --name T [--manager USER]
  leadflow team update --name T --manager USER   (--manager "" removes the manager)
  leadflow team list [--json]
`

const routingUsage = `usage:
  leadflow routing validate FILE   check routing rules; exit 1 with line:column errors when invalid
  leadflow routing set FILE        validate FILE and make it the rules in force
  leadflow routing show [--json]   print the rules in force
`

// setFlags returns the names of the flags given on the command line, to
// tell "--team ”" (clear) from no --team at all.
func setFlags(fs *flag.FlagSet) map[string]bool {
	m := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { m[f.Name] = true })
	return m
}

// cmdUser manages users: create, update (e.g. --active=false), list.
func cmdUser(ctx context.Context, e env, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "create" && args[0] != "update" && args[0] != "list") {
		fmt.Fprint(stderr, userUsage)
		return errUsage
	}
	sub := args[0]
	fs := newFlagSet("user "+sub, stderr)
	var dbf dbFlags
	dbf.register(fs, e)
	name := fs.String("name", "", "user name (login and owner name; never changes)")
	role := fs.String("role", "", "role: "+strings.Join(store.Roles, ", "))
	email := fs.String("email", "", "email address")
	team := fs.String("team", "", "team (must exist)")
	maxOpen := fs.Int("max-open", 0, "most open leads routing gives the user (0: no limit)")
	display := fs.String("display-name", "", "name shown to people")
	active := fs.Bool("active", true, "update: false deactivates the user")
	asJSON := fs.Bool("json", false, "list: print JSON")
	pos, err := parse(fs, args[1:])
	if err != nil {
		return err
	}
	given := setFlags(fs)
	if len(pos) != 0 || (sub != "list" && *name == "") || (sub == "create" && *role == "") {
		fmt.Fprint(stderr, userUsage)
		return errUsage
	}
	a, err := openApp(ctx, dbf, newLogger(io.Discard), false)
	if err != nil {
		return err
	}
	defer a.Close()
	switch sub {
	case "create":
		u := &store.User{Name: *name, Role: *role, Email: *email, Team: *team, MaxOpenLeads: *maxOpen, DisplayName: *display}
		// Every user gets a generated password for the web UI, shown once.
		password := auth.NewPassword()
		if err := web.CreateUser(ctx, a.db, u, password, "cli"); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "user %s created (%s%s)\npassword (shown once): %s\n", u.Name, u.Role, inTeam(u.Team), password)
		return nil
	case "update":
		var up store.UserUpdate
		if given["role"] {
			up.Role = role
		}
		if given["email"] {
			up.Email = email
		}
		if given["team"] {
			up.Team = team
		}
		if given["max-open"] {
			up.MaxOpenLeads = maxOpen
		}
		if given["display-name"] {
			up.DisplayName = display
		}
		if given["active"] {
			up.Active = active
		}
		var u *store.User
		err := a.db.InTx(ctx, func(tx *store.Tx) error {
			var err error
			u, err = tx.UpdateUser(ctx, *name, up, "cli")
			return err
		})
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "user %s updated (%s%s, %s)\n", u.Name, u.Role, inTeam(u.Team), activeWord(u.Active))
		return nil
	}
	users, err := a.db.Users(ctx, store.UserFilter{Team: *team})
	if err != nil {
		return err
	}
	counts, err := a.db.OpenLeadCounts(ctx, *team)
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(stdout, users)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tROLE\tTEAM\tACTIVE\tOPEN\tMAX\tEMAIL\tDISPLAY NAME")
	for _, u := range users {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\n", u.Name, u.Role, orDash(u.Team), activeWord(u.Active),
			counts[u.Name], maxOpenText(u.MaxOpenLeads), orDash(u.Email), u.DisplayName)
	}
	return tw.Flush()
}

// cmdTeam manages teams: create, update (the manager), list.
func cmdTeam(ctx context.Context, e env, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "create" && args[0] != "update" && args[0] != "list") {
		fmt.Fprint(stderr, teamUsage)
		return errUsage
	}
	sub := args[0]
	fs := newFlagSet("team "+sub, stderr)
	var dbf dbFlags
	dbf.register(fs, e)
	name := fs.String("name", "", "team name")
	manager := fs.String("manager", "", "user name of the manager")
	asJSON := fs.Bool("json", false, "list: print JSON")
	pos, err := parse(fs, args[1:])
	if err != nil {
		return err
	}
	given := setFlags(fs)
	if len(pos) != 0 || (sub != "list" && *name == "") || (sub == "update" && !given["manager"]) {
		fmt.Fprint(stderr, teamUsage)
		return errUsage
	}
	a, err := openApp(ctx, dbf, newLogger(io.Discard), false)
	if err != nil {
		return err
	}
	defer a.Close()
	switch sub {
	case "create":
		t := &store.Team{Name: *name, Manager: *manager}
		if err := a.db.InTx(ctx, func(tx *store.Tx) error { return tx.CreateTeam(ctx, t, "cli") }); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "team %s created\n", t.Name)
		return nil
	case "update":
		err := a.db.InTx(ctx, func(tx *store.Tx) error {
			_, err := tx.UpdateTeam(ctx, *name, store.TeamUpdate{Manager: manager}, "cli")
			return err
		})
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "team %s updated (manager: %s)\n", *name, orDash(*manager))
		return nil
	}
	teams, err := a.db.Teams(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(stdout, teams)
	}
	users, err := a.db.Users(ctx, store.UserFilter{})
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tMANAGER\tMEMBERS\tROUND ROBIN LAST")
	for _, t := range teams {
		var members []string
		for _, u := range users {
			if u.Team == t.Name {
				m := u.Name
				if !u.Active {
					m += " (inactive)"
				}
				members = append(members, m)
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", t.Name, orDash(t.Manager), orDash(strings.Join(members, ", ")), orDash(t.RoundRobinLast))
	}
	return tw.Flush()
}

// cmdRouting validates, sets and shows the routing rules.
func cmdRouting(ctx context.Context, e env, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, routingUsage)
		return errUsage
	}
	sub := args[0]
	fs := newFlagSet("routing "+sub, stderr)
	var dbf dbFlags
	dbf.register(fs, e)
	asJSON := fs.Bool("json", false, "show: print the parsed rules as JSON")
	pos, err := parse(fs, args[1:])
	if err != nil {
		return err
	}
	switch {
	case (sub == "validate" || sub == "set") && len(pos) == 1:
	case sub == "show" && len(pos) == 0:
	default:
		fmt.Fprint(stderr, routingUsage)
		return errUsage
	}
	if sub == "validate" {
		src, err := readFileArg(pos[0])
		if err != nil {
			return err
		}
		r, err := routing.Parse(filepath.Base(pos[0]), src)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s: routing rules are valid (%d rules, fallback queue %s)\n", pos[0], len(r.Rules()), r.Fallback)
		return nil
	}
	a, err := openApp(ctx, dbf, newLogger(io.Discard), false)
	if err != nil {
		return err
	}
	defer a.Close()
	if sub == "set" {
		src, err := readFileArg(pos[0])
		if err != nil {
			return err
		}
		r, _, err := a.flow.SetRouting(ctx, filepath.Base(pos[0]), src, "cli")
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "routing rules set (%d rules, fallback queue %s)\n", len(r.Rules()), r.Fallback)
		for _, w := range routingWarnings(ctx, a.db, r) {
			fmt.Fprintln(stderr, "warning:", w)
		}
		return nil
	}
	r, setting, err := a.flow.Routing(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(stdout, struct {
			Rules    []routing.Rule `json:"rules"`
			Fallback string         `json:"fallback"`
			Default  bool           `json:"default"`
		}{r.Rules(), r.Fallback, setting == nil})
	}
	if setting == nil {
		fmt.Fprintln(stdout, "# default rules (none set yet)")
	} else {
		fmt.Fprintf(stdout, "# set by %s at %s\n", setting.UpdatedBy, setting.UpdatedAt.Format("2006-01-02T15:04:05Z07:00"))
	}
	fmt.Fprint(stdout, string(r.Source))
	if len(r.Source) > 0 && r.Source[len(r.Source)-1] != '\n' {
		fmt.Fprintln(stdout)
	}
	return nil
}

// routingWarnings names the users and teams of the rules that cannot take
// leads (their rules fall through).
func routingWarnings(ctx context.Context, db *store.DB, r *routing.Rules) []string {
	var out []string
	for _, n := range r.Users() {
		u, err := db.FindUser(ctx, n)
		if leadflow.ErrorCode(err) == leadflow.ENOTFOUND {
			out = append(out, fmt.Sprintf("user %q does not exist", n))
		} else if err == nil && !u.Active {
			out = append(out, fmt.Sprintf("user %q is inactive", n))
		}
	}
	for _, n := range r.Teams() {
		if _, err := db.FindTeam(ctx, n); leadflow.ErrorCode(err) == leadflow.ENOTFOUND {
			out = append(out, fmt.Sprintf("team %q does not exist", n))
		}
	}
	return out
}

func inTeam(team string) string {
	if team == "" {
		return ""
	}
	return ", team " + team
}

func activeWord(active bool) string {
	if active {
		return "active"
	}
	return "inactive"
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func maxOpenText(n int) string {
	if n <= 0 {
		return "-"
	}
	return strconv.Itoa(n)
}
