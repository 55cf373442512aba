package server

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/routing"
	"github.com/leadflow/leadflow/internal/store"
)

// userView is a user with how many open leads (mql, sal, sql, hql) they own.
type userView struct {
	store.User
	OpenLeads int `json:"open_leads" doc:"Leads owned in mql, sal, sql or hql"`
}

type userOutput struct {
	Body userView
}

type userListOutput struct {
	Body struct {
		Items []userView `json:"items"`
	}
}

type userNameInput struct {
	Name string `path:"name" doc:"User name"`
}

type createUserInput struct {
	Body struct {
		Name         string `json:"name" minLength:"1" maxLength:"100" doc:"Login and owner name (letters, digits, . _ - @); never changes"`
		DisplayName  string `json:"display_name,omitempty" maxLength:"200"`
		Email        string `json:"email,omitempty"`
		Role         string `json:"role" enum:"admin,marketing,sales,manager,viewer"`
		Team         string `json:"team,omitempty" doc:"An existing team"`
		MaxOpenLeads int    `json:"max_open_leads,omitempty" minimum:"0" doc:"Most open leads routing gives the user; 0 for no limit"`
	}
}

type updateUserInput struct {
	Name string `path:"name"`
	Body store.UserUpdate
}

type listUsersInput struct {
	Team   string `query:"team" doc:"Only members of this team"`
	Active string `query:"active" enum:",true,false" doc:"Only active (true) or inactive (false) users"`
}

type teamView struct {
	store.Team
	Members []userView `json:"members"`
}

type teamOutput struct {
	Body teamView
}

type teamListOutput struct {
	Body struct {
		Items []teamView `json:"items"`
	}
}

type teamNameInput struct {
	Name string `path:"name" doc:"Team name"`
}

type createTeamInput struct {
	Body struct {
		Name    string `json:"name" minLength:"1" maxLength:"100" doc:"Team name (letters, digits, . _ - @)"`
		Manager string `json:"manager,omitempty" doc:"User name of the manager (escalations)"`
	}
}

type updateTeamInput struct {
	Name string `path:"name"`
	Body store.TeamUpdate
}

// routingView is the routing rules in force.
type routingView struct {
	Source    string        `json:"source" doc:"The YAML document"`
	Default   bool          `json:"default" doc:"true while no rules were set: every lead goes to the fallback queue"`
	UpdatedBy string        `json:"updated_by,omitempty"`
	UpdatedAt *time.Time    `json:"updated_at,omitempty"`
	Fallback  string        `json:"fallback" doc:"Queue of leads no rule matched"`
	Rules     []routingRule `json:"rules"`
	Warnings  []string      `json:"warnings" doc:"Users or teams the rules name that do not exist or are inactive; such rules fall through"`
}

// routingRule is one rule of the rules in force (a schema of its own: the
// OpenAPI document already has the scoring model's Rule).
type routingRule struct {
	ID       string `json:"id"`
	When     string `json:"when"`
	User     string `json:"user,omitempty"`
	Team     string `json:"team,omitempty"`
	Strategy string `json:"strategy,omitempty" enum:"round_robin,least_loaded"`
}

type routingOutput struct {
	Body routingView
}

type routingInput struct {
	Filename string `query:"filename" doc:"Name used in error positions (default routing.yaml)"`
	RawBody  []byte `contentType:"application/yaml"`
}

type assignInput struct {
	ID   int64 `path:"id" minimum:"1"`
	Body struct {
		Owner string `json:"owner" minLength:"1" doc:"User name of the new owner (must be active)"`
	}
}

type routeOutput struct {
	Body struct {
		Lead       *leadflow.Lead    `json:"lead"`
		Assignment *store.Assignment `json:"assignment" doc:"What changed; null when the lead stays where it is"`
	}
}

type assignmentsOutput struct {
	Body struct {
		Items []store.Assignment `json:"items"`
	}
}

// registerUsers registers users, teams, routing rules and lead assignment.
func (s *Server) registerUsers() {
	users, teams, leads := []string{"users"}, []string{"teams"}, []string{"leads"}
	huma.Register(s.api, huma.Operation{OperationID: "create-user", Method: http.MethodPost, Path: "/api/v1/users",
		Summary: "Create a user", Description: "A person leads can be assigned to. Users are referenced by name; the team must exist.",
		DefaultStatus: http.StatusCreated, Tags: users},
		func(ctx context.Context, in *createUserInput) (*userOutput, error) {
			b := in.Body
			u := &store.User{Name: b.Name, DisplayName: b.DisplayName, Email: b.Email, Role: b.Role, Team: b.Team, MaxOpenLeads: b.MaxOpenLeads}
			err := s.deps.DB.InTx(ctx, func(tx *store.Tx) error { return tx.CreateUser(ctx, u, string(actorOf(ctx))) })
			if err != nil {
				return nil, apiError(s.log, err)
			}
			return &userOutput{Body: userView{User: *u}}, nil
		})
	huma.Register(s.api, huma.Operation{OperationID: "list-users", Method: http.MethodGet, Path: "/api/v1/users",
		Summary: "List users", Description: "By name, with their open lead counts.", Tags: users},
		func(ctx context.Context, in *listUsersInput) (*userListOutput, error) {
			f := store.UserFilter{Team: in.Team}
			if in.Active != "" {
				active := in.Active == "true"
				f.Active = &active
			}
			items, err := s.userViews(ctx, f)
			if err != nil {
				return nil, apiError(s.log, err)
			}
			out := &userListOutput{}
			out.Body.Items = items
			return out, nil
		})
	huma.Register(s.api, huma.Operation{OperationID: "get-user", Method: http.MethodGet, Path: "/api/v1/users/{name}",
		Summary: "Get a user", Tags: users},
		func(ctx context.Context, in *userNameInput) (*userOutput, error) {
			u, err := s.deps.DB.FindUser(ctx, in.Name)
			if err != nil {
				return nil, apiError(s.log, err)
			}
			counts, err := s.deps.DB.OpenLeadCounts(ctx, u.Team)
			if err != nil {
				return nil, apiError(s.log, err)
			}
			return &userOutput{Body: userView{User: *u, OpenLeads: counts[u.Name]}}, nil
		})
	huma.Register(s.api, huma.Operation{OperationID: "update-user", Method: http.MethodPatch, Path: "/api/v1/users/{name}",
		Summary: "Update a user", Description: "Sets the given fields. `active: false` deactivates the user: routing skips them " +
			"and their leads move on the next time they are routed.", Tags: users},
		func(ctx context.Context, in *updateUserInput) (*userOutput, error) {
			var u *store.User
			err := s.deps.DB.InTx(ctx, func(tx *store.Tx) error {
				var err error
				u, err = tx.UpdateUser(ctx, in.Name, in.Body, string(actorOf(ctx)))
				return err
			})
			if err != nil {
				return nil, apiError(s.log, err)
			}
			counts, err := s.deps.DB.OpenLeadCounts(ctx, u.Team)
			if err != nil {
				return nil, apiError(s.log, err)
			}
			return &userOutput{Body: userView{User: *u, OpenLeads: counts[u.Name]}}, nil
		})

	huma.Register(s.api, huma.Operation{OperationID: "create-team", Method: http.MethodPost, Path: "/api/v1/teams",
		Summary: "Create a team", Description: "Users join a team by setting their team; routing rules assign to teams by name.",
		DefaultStatus: http.StatusCreated, Tags: teams},
		func(ctx context.Context, in *createTeamInput) (*teamOutput, error) {
			t := &store.Team{Name: in.Body.Name, Manager: in.Body.Manager}
			err := s.deps.DB.InTx(ctx, func(tx *store.Tx) error { return tx.CreateTeam(ctx, t, string(actorOf(ctx))) })
			if err != nil {
				return nil, apiError(s.log, err)
			}
			return &teamOutput{Body: teamView{Team: *t, Members: []userView{}}}, nil
		})
	huma.Register(s.api, huma.Operation{OperationID: "list-teams", Method: http.MethodGet, Path: "/api/v1/teams",
		Summary: "List teams", Description: "Every team with its members and their open lead counts.", Tags: teams},
		func(ctx context.Context, _ *struct{}) (*teamListOutput, error) {
			ts, err := s.deps.DB.Teams(ctx)
			if err != nil {
				return nil, apiError(s.log, err)
			}
			members, err := s.userViews(ctx, store.UserFilter{})
			if err != nil {
				return nil, apiError(s.log, err)
			}
			out := &teamListOutput{}
			out.Body.Items = make([]teamView, len(ts))
			for i, t := range ts {
				out.Body.Items[i] = teamView{Team: t, Members: membersOf(members, t.Name)}
			}
			return out, nil
		})
	huma.Register(s.api, huma.Operation{OperationID: "get-team", Method: http.MethodGet, Path: "/api/v1/teams/{name}",
		Summary: "Get a team", Tags: teams},
		func(ctx context.Context, in *teamNameInput) (*teamOutput, error) {
			t, err := s.deps.DB.FindTeam(ctx, in.Name)
			if err != nil {
				return nil, apiError(s.log, err)
			}
			members, err := s.userViews(ctx, store.UserFilter{Team: t.Name})
			if err != nil {
				return nil, apiError(s.log, err)
			}
			return &teamOutput{Body: teamView{Team: *t, Members: members}}, nil
		})
	huma.Register(s.api, huma.Operation{OperationID: "update-team", Method: http.MethodPatch, Path: "/api/v1/teams/{name}",
		Summary: "Update a team", Description: "Sets the manager (an existing user; empty string for none).", Tags: teams},
		func(ctx context.Context, in *updateTeamInput) (*teamOutput, error) {
			var t *store.Team
			err := s.deps.DB.InTx(ctx, func(tx *store.Tx) error {
				var err error
				t, err = tx.UpdateTeam(ctx, in.Name, in.Body, string(actorOf(ctx)))
				return err
			})
			if err != nil {
				return nil, apiError(s.log, err)
			}
			members, err := s.userViews(ctx, store.UserFilter{Team: t.Name})
			if err != nil {
				return nil, apiError(s.log, err)
			}
			return &teamOutput{Body: teamView{Team: *t, Members: members}}, nil
		})

	settings := []string{"settings"}
	huma.Register(s.api, huma.Operation{OperationID: "get-routing", Method: http.MethodGet, Path: "/api/v1/settings/routing",
		Summary: "The routing rules in force", Tags: settings},
		func(ctx context.Context, _ *struct{}) (*routingOutput, error) {
			rules, setting, err := s.deps.Flow.Routing(ctx)
			if err != nil {
				return nil, apiError(s.log, err)
			}
			v, err := s.routingView(ctx, rules, setting)
			return &routingOutput{Body: v}, apiError(s.log, err)
		})
	huma.Register(s.api, huma.Operation{OperationID: "put-routing", Method: http.MethodPut, Path: "/api/v1/settings/routing",
		Summary: "Set the routing rules",
		Description: "YAML body (see docs/routing.md). Invalid rules are refused with a 400 problem locating every error at " +
			"file:line:column, and the rules in force stay. Rules naming unknown or inactive users or teams are accepted " +
			"with warnings (such rules fall through).", Tags: settings},
		func(ctx context.Context, in *routingInput) (*routingOutput, error) {
			name := in.Filename
			if name == "" {
				name = "routing.yaml"
			}
			rules, setting, err := s.deps.Flow.SetRouting(ctx, name, in.RawBody, actorOf(ctx))
			if err != nil {
				return nil, apiError(s.log, err)
			}
			v, err := s.routingView(ctx, rules, setting)
			return &routingOutput{Body: v}, apiError(s.log, err)
		})

	huma.Register(s.api, huma.Operation{OperationID: "assign-lead", Method: http.MethodPost, Path: "/api/v1/leads/{id}/assign",
		Summary: "Reassign a lead", Description: "Gives the lead to another (active) user by hand; recorded with rule `manual`.", Tags: leads},
		func(ctx context.Context, in *assignInput) (*leadOutput, error) {
			l, err := s.deps.Flow.Reassign(ctx, in.ID, in.Body.Owner, actorOf(ctx))
			if err != nil {
				return nil, apiError(s.log, err)
			}
			return &leadOutput{Body: l}, nil
		})
	huma.Register(s.api, huma.Operation{OperationID: "route-lead", Method: http.MethodPost, Path: "/api/v1/leads/{id}/route",
		Summary: "Route a lead now", Description: "Runs the routing rules for the lead (e.g. for a lead waiting in the fallback queue " +
			"after the rules changed). An active owner who still fits the rules keeps the lead.", Tags: leads},
		func(ctx context.Context, in *leadIDInput) (*routeOutput, error) {
			l, a, err := s.deps.Flow.Route(ctx, in.ID, actorOf(ctx))
			if err != nil {
				return nil, apiError(s.log, err)
			}
			out := &routeOutput{}
			out.Body.Lead, out.Body.Assignment = l, a
			return out, nil
		})
	huma.Register(s.api, huma.Operation{OperationID: "lead-assignments", Method: http.MethodGet, Path: "/api/v1/leads/{id}/assignments",
		Summary: "A lead's owners over time", Description: "Every assignment, oldest first: owner or queue, team, rule, previous owner, who and when.", Tags: leads},
		func(ctx context.Context, in *leadIDInput) (*assignmentsOutput, error) {
			if _, err := s.deps.DB.FindLead(ctx, in.ID); err != nil {
				return nil, apiError(s.log, err)
			}
			items, err := s.deps.DB.AssignmentsOfLead(ctx, in.ID)
			if err != nil {
				return nil, apiError(s.log, err)
			}
			out := &assignmentsOutput{}
			out.Body.Items = items
			return out, nil
		})
}

// userViews lists users with their open lead counts.
func (s *Server) userViews(ctx context.Context, f store.UserFilter) ([]userView, error) {
	us, err := s.deps.DB.Users(ctx, f)
	if err != nil {
		return nil, err
	}
	counts, err := s.deps.DB.OpenLeadCounts(ctx, f.Team)
	if err != nil {
		return nil, err
	}
	out := make([]userView, len(us))
	for i, u := range us {
		out[i] = userView{User: u, OpenLeads: counts[u.Name]}
	}
	return out, nil
}

func membersOf(users []userView, team string) []userView {
	out := []userView{}
	for _, u := range users {
		if u.Team == team {
			out = append(out, u)
		}
	}
	return out
}

// routingView describes the rules in force, warning about the users and
// teams they name that cannot take leads.
func (s *Server) routingView(ctx context.Context, rules *routing.Rules, setting *store.Setting) (routingView, error) {
	v := routingView{Source: string(rules.Source), Default: setting == nil, Fallback: rules.Fallback,
		Rules: []routingRule{}, Warnings: []string{}}
	for _, r := range rules.Rules() {
		v.Rules = append(v.Rules, routingRule{ID: r.ID, When: r.When, User: r.User, Team: r.Team, Strategy: string(r.Strategy)})
	}
	if setting != nil {
		at := setting.UpdatedAt
		v.UpdatedBy, v.UpdatedAt = setting.UpdatedBy, &at
	}
	for _, name := range rules.Users() {
		u, err := s.deps.DB.FindUser(ctx, name)
		switch {
		case leadflow.ErrorCode(err) == leadflow.ENOTFOUND:
			v.Warnings = append(v.Warnings, fmt.Sprintf("user %q does not exist", name))
		case err != nil:
			return v, err
		case !u.Active:
			v.Warnings = append(v.Warnings, fmt.Sprintf("user %q is inactive", name))
		}
	}
	for _, name := range rules.Teams() {
		_, err := s.deps.DB.FindTeam(ctx, name)
		switch {
		case leadflow.ErrorCode(err) == leadflow.ENOTFOUND:
			v.Warnings = append(v.Warnings, fmt.Sprintf("team %q does not exist", name))
		case err != nil:
			return v, err
		default:
			active := true
			members, err := s.deps.DB.Users(ctx, store.UserFilter{Team: name, Active: &active})
			if err != nil {
				return v, err
			}
			if len(members) == 0 {
				v.Warnings = append(v.Warnings, fmt.Sprintf("team %q has no active members", name))
			}
		}
	}
	return v, nil
}
