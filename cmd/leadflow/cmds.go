package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/store"
)

func cmdMigrate(ctx context.Context, e env, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("migrate", stderr)
	var dbf dbFlags
	dbf.register(fs, e)
	if _, err := parse(fs, args); err != nil {
		return err
	}
	db, err := store.Open(ctx, store.Options{DSN: dbf.db, DataDir: dbf.dataDir})
	if err != nil {
		return err
	}
	defer db.Close()
	a := &app{db: db}
	if err := a.migrate(ctx); err != nil {
		return err
	}
	v, err := db.Migrate(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "database is at migration %d\n", v)
	return nil
}

// cmdSource: leadflow source create --name NAME prints the write key alone
// on standard output.
func cmdSource(ctx context.Context, e env, args []string, stdout, stderr io.Writer) error {
	return createKey(ctx, e, "source", args, stdout, stderr, func(tx *store.Tx, name string) (string, error) {
		s, key, err := tx.CreateSource(ctx, name)
		if err != nil {
			return "", err
		}
		return key, tx.Audit(ctx, "cli", "source.create", "source", s.ID, name)
	})
}

// cmdAPIKey: leadflow apikey create --name NAME [--role ROLE] [--user
// USER] prints the key alone on standard output, so KEY=$(leadflow apikey
// create --name ci) works. The role (default admin) is the key's row of the
// permission matrix; --user (name or email) makes the key act for that
// user, with the user's leads (required for a sales key).
func cmdAPIKey(ctx context.Context, e env, args []string, stdout, stderr io.Writer) error {
	var role, user *string
	flags := func(fs *flag.FlagSet) {
		role = fs.String("role", store.RoleAdmin, "role of the key: "+strings.Join(store.Roles, ", "))
		user = fs.String("user", "", "user (name or email) the key acts for; required for a sales key, which sees that user's and team's leads only")
	}
	return createKey(ctx, e, "apikey", args, stdout, stderr, func(tx *store.Tx, name string) (string, error) {
		k, key, err := tx.CreateAPIKeyFor(ctx, store.NewAPIKey{Name: name, Role: *role, User: *user})
		if err != nil {
			return "", err
		}
		detail := name + " (" + k.Role + ")"
		if k.User != "" {
			detail = name + " (" + k.Role + ", user " + k.User + ")"
		}
		return key, tx.Audit(ctx, "cli", "apikey.create", "api_key", k.ID, detail)
	}, flags)
}

func createKey(ctx context.Context, e env, what string, args []string, stdout, stderr io.Writer,
	create func(tx *store.Tx, name string) (string, error), flags ...func(*flag.FlagSet)) error {
	if len(args) == 0 || args[0] != "create" {
		fmt.Fprintf(stderr, "usage: leadflow %s create --name NAME\n", what)
		return errUsage
	}
	fs := newFlagSet(what+" create", stderr)
	var dbf dbFlags
	dbf.register(fs, e)
	name := fs.String("name", "", "a name to recognise the key by (required)")
	for _, f := range flags {
		f(fs)
	}
	if _, err := parse(fs, args[1:]); err != nil {
		return err
	}
	if *name == "" {
		fmt.Fprintf(stderr, "leadflow %s create: --name is required\n", what)
		return errUsage
	}
	a, err := openApp(ctx, dbf, newLogger(io.Discard), false)
	if err != nil {
		return err
	}
	defer a.Close()
	var key string
	err = a.db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		key, err = create(tx, *name)
		return err
	})
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, key)
	fmt.Fprintln(stderr, "shown once: store it now; only its hash is kept")
	return nil
}

func cmdLead(ctx context.Context, e env, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "explain" {
		fmt.Fprintln(stderr, "usage: leadflow lead explain EMAIL [--json]")
		return errUsage
	}
	fs := newFlagSet("lead explain", stderr)
	var dbf dbFlags
	dbf.register(fs, e)
	asJSON := fs.Bool("json", false, "print the explanation as JSON")
	pos, err := parse(fs, args[1:])
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		fmt.Fprintln(stderr, "usage: leadflow lead explain EMAIL [--json]")
		return errUsage
	}
	a, err := openApp(ctx, dbf, newLogger(io.Discard), false)
	if err != nil {
		return err
	}
	defer a.Close()
	l, err := a.db.FindLeadByEmail(ctx, pos[0])
	if err != nil {
		return err
	}
	x, text, err := a.flow.Explain(ctx, l.ID)
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(stdout, x)
	}
	fmt.Fprintf(stdout, "%s (lead %d) — stage %s, model v%d\n\n%s", displayName(l), l.ID, l.Stage, x.ModelVersion, text)
	return nil
}

func displayName(l *leadflow.Lead) string {
	if l.Name != "" {
		return l.Name + " <" + l.Email + ">"
	}
	return l.Email
}

func readFileArg(path string) ([]byte, error) {
	if path == "-" {
		return io.ReadAll(os.Stdin)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, leadflow.Errorf(leadflow.EINVALID, "cannot read %s: %v", path, err)
	}
	return b, nil
}
