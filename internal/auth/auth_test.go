package auth

import (
	"strings"
	"testing"
	"time"
)

func TestPassword(t *testing.T) {
	t.Parallel()
	h, err := HashPassword("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash %q is not a PHC argon2id string", h)
	}
	h2, _ := HashPassword("correct horse battery")
	if h == h2 {
		t.Error("two hashes of one password are equal: the salt is not random")
	}
	for _, tc := range []struct {
		hash, pw string
		want     bool
	}{
		{h, "correct horse battery", true},
		{h, "correct horse batterY", false},
		{h, "", false},
		{"", "correct horse battery", false},
		{"$argon2i$v=19$m=19456,t=2,p=1$abc$def", "correct horse battery", false},
		{strings.Replace(h, "t=2", "t=3", 1), "correct horse battery", false},
		{"$argon2id$v=19$m=99999999,t=2,p=1$abc$def", "x", false},
	} {
		if got := VerifyPassword(tc.hash, tc.pw); got != tc.want {
			t.Errorf("VerifyPassword(%q, %q) = %v, want %v", tc.hash, tc.pw, got, tc.want)
		}
	}
	if _, err := HashPassword("short"); err == nil {
		t.Error("a 5-character password was accepted")
	}
	if VerifyUnknown("x") {
		t.Error("VerifyUnknown returned true")
	}
	if p := NewPassword(); len(p) != 20 || CheckPassword(p) != nil {
		t.Errorf("NewPassword() = %q", p)
	}
}

func TestTokens(t *testing.T) {
	t.Parallel()
	a, b := NewToken(), NewToken()
	if a == b || len(a) < 40 {
		t.Fatalf("tokens %q %q", a, b)
	}
	if TokenHash(a) == a || TokenHash(a) != TokenHash(a) || len(TokenHash(a)) != 64 {
		t.Error("TokenHash is not a stable SHA-256 hex")
	}
	now := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		created, seen time.Time
		want          bool
	}{
		{now.Add(-time.Hour), now.Add(-time.Minute), true},
		{now.Add(-9 * time.Hour), now.Add(-IdleTimeout), false},
		{now.Add(-MaxAge), now.Add(-time.Minute), false},
	} {
		if got := Alive(tc.created, tc.seen, now); got != tc.want {
			t.Errorf("Alive(%v, %v) = %v", tc.created, tc.seen, got)
		}
	}
}

func TestCan(t *testing.T) {
	t.Parallel()
	all := []Perm{ViewDashboard, ViewLeads, ExportLeads, WorkQueue, WorkLeads, ReassignLeads, ViewModel, EditModel, ViewSettings, Administer}
	// want lists, per role, the permissions it has; everything else is denied.
	want := map[Role][]Perm{
		Admin:      all,
		Marketing:  {ViewDashboard, ViewLeads, ExportLeads, ViewModel, EditModel, ViewSettings},
		Sales:      {ViewDashboard, ViewLeads, WorkQueue, WorkLeads, ViewModel},
		Manager:    {ViewDashboard, ViewLeads, ExportLeads, WorkQueue, WorkLeads, ReassignLeads, ViewModel, ViewSettings},
		Viewer:     {ViewDashboard, ViewLeads, ViewModel},
		"intruder": {},
	}
	for role, perms := range want {
		has := map[Perm]bool{}
		for _, p := range perms {
			has[p] = true
		}
		for _, p := range all {
			if got := Can(role, p); got != has[p] {
				t.Errorf("Can(%s, %s) = %v, want %v", role, p, got, has[p])
			}
		}
		if !Can(role, Public) {
			t.Errorf("Can(%s, public) = false", role)
		}
		if got := Can(role, Authenticated); got != (role != "intruder") {
			t.Errorf("Can(%s, authenticated) = %v", role, got)
		}
	}
}
