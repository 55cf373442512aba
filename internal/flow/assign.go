package flow

import (
	"context"
	"sync"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/routing"
	"github.com/leadflow/leadflow/internal/store"
)

// rulesCache memoizes the parsed routing rules by document text. It is a
// pure cache (text in, immutable rules out), shared because Flow has no
// field for it; it can move into Flow without other change.
type rulesCache struct {
	mu    sync.Mutex
	src   string
	rules *routing.Rules
}

var defaultRules = sync.OnceValue(routing.Default)

// load returns the rules in force in tx: the stored document, or the
// default rules (everything to the fallback queue) when none was set.
func (c *rulesCache) load(ctx context.Context, tx *store.Tx) (*routing.Rules, error) {
	s, err := tx.Setting(ctx, store.SettingRouting)
	if leadflow.ErrorCode(err) == leadflow.ENOTFOUND {
		return defaultRules(), nil
	} else if err != nil {
		return nil, err
	}
	return c.parse(s.Value)
}

func (c *rulesCache) parse(src string) (*routing.Rules, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.rules != nil && c.src == src {
		return c.rules, nil
	}
	r, err := routing.Parse("routing rules", []byte(src))
	if err != nil {
		// SetRouting stores only valid rules; a broken document in the
		// database is an operator's hand edit, not a client's mistake.
		return nil, leadflow.Internal(err, "stored routing rules do not parse")
	}
	c.src, c.rules = src, r
	return r, nil
}

// routeState serves routing.State from the database inside the unit's
// transaction, loading each team or user once, on first use. A team is
// locked when loaded, so that concurrent routings in one team take turns
// and see each other's picks. The first error is kept in err and ends the
// decision.
type routeState struct {
	ctx   context.Context
	tx    *store.Tx
	teams map[string]teamState
	users map[string]*routing.Candidate
	err   error
}

type teamState struct {
	members []routing.Candidate
	last    string
}

func newRouteState(ctx context.Context, tx *store.Tx) *routeState {
	return &routeState{ctx: ctx, tx: tx, teams: map[string]teamState{}, users: map[string]*routing.Candidate{}}
}

// Team implements routing.State.
func (s *routeState) Team(name string) ([]routing.Candidate, string) {
	if t, ok := s.teams[name]; ok || s.err != nil {
		return t.members, t.last
	}
	t, err := s.loadTeam(name)
	if err != nil {
		s.err = err
		return nil, ""
	}
	s.teams[name] = t
	return t.members, t.last
}

func (s *routeState) loadTeam(name string) (teamState, error) {
	var t teamState
	if err := s.tx.LockTeam(s.ctx, name); err != nil {
		return t, err
	}
	team, err := s.tx.FindTeam(s.ctx, name)
	if leadflow.ErrorCode(err) == leadflow.ENOTFOUND {
		return t, nil // a rule naming a team that does not exist falls through
	} else if err != nil {
		return t, err
	}
	users, err := s.tx.Users(s.ctx, store.UserFilter{Team: name})
	if err != nil {
		return t, err
	}
	counts, err := s.tx.OpenLeadCounts(s.ctx, name)
	if err != nil {
		return t, err
	}
	t.last = team.RoundRobinLast
	for _, u := range users {
		t.members = append(t.members, candidate(u, counts[u.Name]))
	}
	return t, nil
}

// User implements routing.State.
func (s *routeState) User(name string) (routing.Candidate, bool) {
	if c, ok := s.users[name]; ok || s.err != nil {
		if c == nil {
			return routing.Candidate{}, false
		}
		return *c, true
	}
	u, err := s.tx.FindUser(s.ctx, name)
	if leadflow.ErrorCode(err) == leadflow.ENOTFOUND {
		s.users[name] = nil
		return routing.Candidate{}, false
	} else if err != nil {
		s.err = err
		return routing.Candidate{}, false
	}
	n, err := s.tx.OpenLeadCount(s.ctx, name)
	if err != nil {
		s.err = err
		return routing.Candidate{}, false
	}
	c := candidate(*u, n)
	s.users[name] = &c
	return c, true
}

// Now implements routing.State.
func (s *routeState) Now() leadflow.Time { return s.tx.Now }

func candidate(u store.User, open int) routing.Candidate {
	return routing.Candidate{Name: u.Name, Team: u.Team, Active: u.Active, MaxOpen: u.MaxOpenLeads, Open: open}
}

// route decides the lead's owner with the routing rules in force and, when
// the owner, team or queue changes, applies and records it. It reports
// whether anything changed; routeAssignment returns the record itself (for
// the lead.assigned notification).
func (u *unit) route(ctx context.Context, st *leadState, actor string) (changed bool, err error) {
	a, err := u.routeAssignment(ctx, st, actor)
	return a != nil, err
}

// routeAssignment is route returning the assignment it recorded, nil when
// nothing changed. The lead is written at once (besides being marked
// dirty) so that the open-lead counts of a later routing in the same
// transaction (an import, a batch) include it; a round-robin pick moves
// the team's position.
func (u *unit) routeAssignment(ctx context.Context, st *leadState, actor string) (*store.Assignment, error) {
	rules, err := u.f.caches.routing.load(ctx, u.tx)
	if err != nil {
		return nil, err
	}
	rs := newRouteState(ctx, u.tx)
	d := rules.Route(st.lead, rs)
	if rs.err != nil {
		return nil, rs.err
	}
	l := st.lead
	if d.Owner == l.Owner && d.Team == l.Team {
		if d.Queue == "" {
			return nil, nil // kept by its owner
		}
		// Queued and unowned before: a change only if it was not in this
		// queue already.
		last, err := u.tx.LatestAssignment(ctx, l.ID)
		if err == nil && last.Owner == "" && last.Queue == d.Queue {
			return nil, nil
		} else if err != nil && leadflow.ErrorCode(err) != leadflow.ENOTFOUND {
			return nil, err
		}
	}
	a := &store.Assignment{LeadID: l.ID, Owner: d.Owner, Team: d.Team, Queue: d.Queue, Rule: d.Rule,
		PreviousOwner: l.Owner, Actor: actor}
	l.Owner, l.Team, st.dirty = d.Owner, d.Team, true
	if err := u.tx.UpdateLead(ctx, l); err != nil {
		return nil, err
	}
	if d.Strategy == routing.RoundRobin && d.Owner != a.PreviousOwner {
		if err := u.tx.SetRoundRobinLast(ctx, d.Team, d.Owner); err != nil {
			return nil, err
		}
	}
	return a, u.tx.InsertAssignment(ctx, a)
}

// reassign gives the lead to owner by hand (rule "manual"): the user must
// exist and be active; capacity does not apply. It returns the recorded
// assignment, nil when the lead already was the owner's.
func (u *unit) reassign(ctx context.Context, st *leadState, owner string, actor Actor) (*store.Assignment, error) {
	if err := store.ValidName("/owner", "owner", owner); err != nil {
		return nil, err
	}
	usr, err := u.tx.FindUser(ctx, owner)
	if leadflow.ErrorCode(err) == leadflow.ENOTFOUND {
		return nil, leadflow.Invalidf("/owner", "unknown user %q", owner)
	} else if err != nil {
		return nil, err
	}
	if !usr.Active {
		return nil, leadflow.Invalidf("/owner", "user %s is inactive", owner)
	}
	l := st.lead
	if l.Owner == usr.Name && l.Team == usr.Team {
		return nil, nil
	}
	a := &store.Assignment{LeadID: l.ID, Owner: usr.Name, Team: usr.Team, Rule: routing.RuleManual,
		PreviousOwner: l.Owner, Actor: string(actor)}
	l.Owner, l.Team, st.dirty = usr.Name, usr.Team, true
	return a, u.tx.InsertAssignment(ctx, a)
}

// Reassign gives a lead to another user by hand and records it with rule
// "manual". The user must exist and be active.
func (f *Flow) Reassign(ctx context.Context, leadID int64, owner string, actor Actor) (*leadflow.Lead, error) {
	var out *leadflow.Lead
	err := f.db.InTx(ctx, func(tx *store.Tx) error {
		u, err := f.newUnit(ctx, tx)
		if err != nil {
			return err
		}
		st, err := u.load(ctx, leadID)
		if err != nil {
			return err
		}
		a, err := u.reassign(ctx, st, owner, actor)
		if err != nil {
			return err
		}
		if err := u.reassigned(ctx, st, a); err != nil {
			return err
		}
		out = st.lead
		return u.flush(ctx)
	})
	return out, err
}

// Route runs the routing rules for one lead now (after the rules changed,
// or for a lead waiting in the fallback queue). It returns the lead and the
// assignment recorded, nil when the lead stays where it is.
func (f *Flow) Route(ctx context.Context, leadID int64, actor Actor) (*leadflow.Lead, *store.Assignment, error) {
	var out *leadflow.Lead
	var a *store.Assignment
	err := f.db.InTx(ctx, func(tx *store.Tx) error {
		u, err := f.newUnit(ctx, tx)
		if err != nil {
			return err
		}
		st, err := u.load(ctx, leadID)
		if err != nil {
			return err
		}
		if a, err = u.routeAssignment(ctx, st, string(actor)); err != nil {
			return err
		}
		if err := u.reassigned(ctx, st, a); err != nil {
			return err
		}
		out = st.lead
		return u.flush(ctx)
	})
	if err != nil {
		return nil, nil, err
	}
	return out, a, nil
}

// Routing returns the routing rules in force and the setting they came
// from; the setting is nil while the default rules apply.
func (f *Flow) Routing(ctx context.Context) (*routing.Rules, *store.Setting, error) {
	s, err := f.db.Setting(ctx, store.SettingRouting)
	if leadflow.ErrorCode(err) == leadflow.ENOTFOUND {
		return defaultRules(), nil, nil
	} else if err != nil {
		return nil, nil, err
	}
	r, err := f.caches.routing.parse(s.Value)
	return r, s, err
}

// SetRouting validates a rules document and, when valid, stores it as the
// rules in force (audited as actor's). Invalid rules change nothing and
// come back as EINVALID with every problem located at filename:line:col.
func (f *Flow) SetRouting(ctx context.Context, filename string, src []byte, actor Actor) (*routing.Rules, *store.Setting, error) {
	r, err := routing.Parse(filename, src)
	if err != nil {
		return nil, nil, err
	}
	var s *store.Setting
	err = f.db.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.PutSetting(ctx, store.SettingRouting, string(src), string(actor)); err != nil {
			return err
		}
		s = &store.Setting{Key: store.SettingRouting, Value: string(src), UpdatedBy: string(actor), UpdatedAt: tx.Now}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return r, s, nil
}

// reassigned follows a change of owner outside a stage change: the running
// SLA clocks move to the new owner and lead.assigned is sent.
func (u *unit) reassigned(ctx context.Context, st *leadState, a *store.Assignment) error {
	if a == nil {
		return nil
	}
	if err := u.reownSLA(ctx, st); err != nil {
		return err
	}
	return u.assigned(ctx, st, a)
}
