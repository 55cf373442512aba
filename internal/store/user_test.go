package store_test

import (
	"context"
	"strings"
	"testing"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/store"
	"github.com/leadflow/leadflow/internal/store/storetest"
)

func TestUsersAndTeams(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		err := db.InTx(ctx, func(tx *store.Tx) error {
			for _, tm := range []string{"inside-sales", "field"} {
				if err := tx.CreateTeam(ctx, &store.Team{Name: tm}, "cli"); err != nil {
					return err
				}
			}
			for _, u := range []store.User{
				{Name: "sato", Email: " Sato@Example.JP ", Role: store.RoleSales, Team: "field", MaxOpenLeads: 5, DisplayName: "佐藤 花子"},
				{Name: "ito", Role: store.RoleSales, Team: "inside-sales"},
				{Name: "kato", Role: store.RoleSales, Team: "inside-sales"},
				{Name: "boss", Role: store.RoleManager},
			} {
				if err := tx.CreateUser(ctx, &u, "cli"); err != nil {
					return err
				}
				if u.ID == 0 || !u.Active {
					t.Errorf("created user: %+v", u)
				}
			}
			_, err := tx.UpdateTeam(ctx, "field", store.TeamUpdate{Manager: valPtr("boss")}, "cli")
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		u, err := db.FindUser(ctx, "sato")
		if err != nil || u.Email != "sato@example.jp" || u.Team != "field" || u.MaxOpenLeads != 5 || !u.Active || u.DisplayName != "佐藤 花子" {
			t.Fatalf("find user: %v %+v", err, u)
		}
		tm, err := db.FindTeam(ctx, "field")
		if err != nil || tm.Manager != "boss" {
			t.Fatalf("find team: %v %+v", err, tm)
		}
		if teams, err := db.Teams(ctx); err != nil || len(teams) != 2 || teams[0].Name != "field" {
			t.Fatalf("teams: %v %+v", err, teams)
		}

		// Validation and conflicts.
		for _, tc := range []struct {
			name string
			fn   func(tx *store.Tx) error
			code string
			want string
		}{
			{"duplicate user", func(tx *store.Tx) error {
				return tx.CreateUser(ctx, &store.User{Name: "sato", Role: store.RoleSales}, "cli")
			}, leadflow.ECONFLICT, "already exists"},
			{"bad role", func(tx *store.Tx) error {
				return tx.CreateUser(ctx, &store.User{Name: "x", Role: "boss"}, "cli")
			}, leadflow.EINVALID, "unknown role"},
			{"bad name", func(tx *store.Tx) error {
				return tx.CreateUser(ctx, &store.User{Name: "a b", Role: store.RoleSales}, "cli")
			}, leadflow.EINVALID, "may hold only"},
			{"bad email", func(tx *store.Tx) error {
				return tx.CreateUser(ctx, &store.User{Name: "x", Role: store.RoleSales, Email: "nope"}, "cli")
			}, leadflow.EINVALID, "not an email"},
			{"unknown team", func(tx *store.Tx) error {
				return tx.CreateUser(ctx, &store.User{Name: "x", Role: store.RoleSales, Team: "ghost"}, "cli")
			}, leadflow.EINVALID, "unknown team"},
			{"negative capacity", func(tx *store.Tx) error {
				_, err := tx.UpdateUser(ctx, "ito", store.UserUpdate{MaxOpenLeads: valPtr(-1)}, "cli")
				return err
			}, leadflow.EINVALID, "max open leads"},
			{"duplicate team", func(tx *store.Tx) error {
				return tx.CreateTeam(ctx, &store.Team{Name: "field"}, "cli")
			}, leadflow.ECONFLICT, "already exists"},
			{"unknown manager", func(tx *store.Tx) error {
				return tx.CreateTeam(ctx, &store.Team{Name: "t2", Manager: "ghost"}, "cli")
			}, leadflow.EINVALID, "unknown user"},
			{"update missing user", func(tx *store.Tx) error {
				_, err := tx.UpdateUser(ctx, "ghost", store.UserUpdate{}, "cli")
				return err
			}, leadflow.ENOTFOUND, "not found"},
		} {
			err := db.InTx(ctx, tc.fn)
			if leadflow.ErrorCode(err) != tc.code || !strings.Contains(leadflow.ErrorMessage(err), tc.want) {
				t.Errorf("%s: got %v (%s), want %s %q", tc.name, err, leadflow.ErrorCode(err), tc.code, tc.want)
			}
		}

		// Deactivate, move teams, filter.
		err = db.InTx(ctx, func(tx *store.Tx) error {
			u, err := tx.UpdateUser(ctx, "kato", store.UserUpdate{Active: valPtr(false), MaxOpenLeads: valPtr(3)}, "api:test")
			if err != nil {
				return err
			}
			if u.Active || u.MaxOpenLeads != 3 || u.Team != "inside-sales" {
				t.Errorf("updated: %+v", u)
			}
			_, err = tx.UpdateUser(ctx, "boss", store.UserUpdate{Team: valPtr("field")}, "api:test")
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		active := true
		for _, tc := range []struct {
			f    store.UserFilter
			want string
		}{
			{store.UserFilter{}, "boss ito kato sato"},
			{store.UserFilter{Team: "inside-sales"}, "ito kato"},
			{store.UserFilter{Team: "inside-sales", Active: &active}, "ito"},
			{store.UserFilter{Team: "field"}, "boss sato"},
		} {
			users, err := db.Users(ctx, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, u := range users {
				names = append(names, u.Name)
			}
			if got := strings.Join(names, " "); got != tc.want {
				t.Errorf("users %+v: got %q, want %q", tc.f, got, tc.want)
			}
		}
		if audit, err := db.AuditOf(ctx, "user", u.ID); err != nil || len(audit) != 1 || audit[0].Action != "user.create" {
			t.Errorf("audit: %v %+v", err, audit)
		}
	})
}

func TestOpenLeadCountsAndAssignments(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		var leadID int64
		err := db.InTx(ctx, func(tx *store.Tx) error {
			if err := tx.CreateTeam(ctx, &store.Team{Name: "is"}, "cli"); err != nil {
				return err
			}
			for _, n := range []string{"ito", "kato"} {
				if err := tx.CreateUser(ctx, &store.User{Name: n, Role: store.RoleSales, Team: "is"}, "cli"); err != nil {
					return err
				}
			}
			if err := tx.CreateUser(ctx, &store.User{Name: "solo", Role: store.RoleSales}, "cli"); err != nil {
				return err
			}
			for i, l := range []leadflow.Lead{
				{Owner: "ito", Stage: leadflow.StageMQL},
				{Owner: "ito", Stage: leadflow.StageHQL},
				{Owner: "ito", Stage: leadflow.StageCustomer}, // closed: not open
				{Owner: "ito", Stage: leadflow.StageLead},     // not qualified yet
				{Owner: "kato", Stage: leadflow.StageSQL},
				{Owner: "solo", Stage: leadflow.StageSAL},
				{Stage: leadflow.StageMQL},
			} {
				l.Email = "l" + string(rune('a'+i)) + "@x.jp"
				if err := tx.CreateLead(ctx, &l); err != nil {
					return err
				}
				leadID = l.ID
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		counts, err := db.OpenLeadCounts(ctx, "is")
		if err != nil || counts["ito"] != 2 || counts["kato"] != 1 || len(counts) != 2 {
			t.Fatalf("team counts: %v %v", err, counts)
		}
		all, err := db.OpenLeadCounts(ctx, "")
		if err != nil || all["solo"] != 1 || len(all) != 3 {
			t.Fatalf("all counts: %v %v", err, all)
		}

		err = db.InTx(ctx, func(tx *store.Tx) error {
			if n, err := tx.OpenLeadCount(ctx, "ito"); err != nil || n != 2 {
				t.Errorf("open count of ito: %v %d", err, n)
			}
			if _, err := tx.LatestAssignment(ctx, leadID); leadflow.ErrorCode(err) != leadflow.ENOTFOUND {
				t.Errorf("latest of unassigned: %v", err)
			}
			if err := tx.LockTeam(ctx, "is"); err != nil {
				return err
			}
			if err := tx.SetRoundRobinLast(ctx, "is", "kato"); err != nil {
				return err
			}
			if err := tx.SetRoundRobinLast(ctx, "ghost", "kato"); leadflow.ErrorCode(err) != leadflow.ENOTFOUND {
				t.Errorf("round robin of unknown team: %v", err)
			}
			for _, a := range []store.Assignment{
				{LeadID: leadID, Queue: "unassigned", Rule: "fallback", Actor: "system"},
				{LeadID: leadID, Owner: "kato", Team: "is", Rule: "manual", Actor: "api:test"},
			} {
				if err := tx.InsertAssignment(ctx, &a); err != nil {
					return err
				}
			}
			a, err := tx.LatestAssignment(ctx, leadID)
			if err != nil || a.Owner != "kato" {
				t.Errorf("latest: %v %+v", err, a)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if tm, _ := db.FindTeam(ctx, "is"); tm.RoundRobinLast != "kato" {
			t.Errorf("round robin last: %+v", tm)
		}
		as, err := db.AssignmentsOfLead(ctx, leadID)
		if err != nil || len(as) != 2 || as[0].Queue != "unassigned" || as[1].Owner != "kato" || as[1].Rule != "manual" || as[1].At.IsZero() {
			t.Fatalf("assignments: %v %+v", err, as)
		}
	})
}

func valPtr[T any](v T) *T { return &v }
