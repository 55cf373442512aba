package server

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/auth"
	"github.com/leadflow/leadflow/internal/flow"
	"github.com/leadflow/leadflow/internal/store"
)

// caller is the API key of the request, as bearerAuth found it.
type caller struct {
	key   *store.APIKey
	scope auth.LeadScope
}

const callerKey ctxKey = 2

// callerOf returns the caller of an authenticated API operation; outside
// one (tests calling handlers directly) it sees every lead.
func callerOf(ctx context.Context) caller {
	if c, ok := ctx.Value(callerKey).(caller); ok {
		return c
	}
	return caller{key: &store.APIKey{}, scope: auth.LeadScope{All: true}}
}

// newCaller is the caller of a key: a key of a user acts as that user,
// with the user's lead scope; a key of no one sees every lead (a sales key
// always has a user: authorize refuses one without).
func newCaller(k *store.APIKey) caller {
	c := caller{key: k, scope: auth.LeadScope{All: true}}
	if k.User != "" {
		c.scope = auth.ScopeOf(auth.Role(k.Role), k.User, k.UserTeam)
	}
	return c
}

// actor is how the caller is recorded: the user of a key of a user, else
// the key.
func (c caller) actor() flow.Actor {
	if c.key.User != "" {
		return flow.Actor("user:" + c.key.User)
	}
	return flow.Actor("api:" + c.key.Name)
}

// leadNotFound is the error of a lead the caller may not see: the same as
// for a lead that does not exist, so that ids cannot be probed.
func leadNotFound(id int64) error {
	return leadflow.Errorf(leadflow.ENOTFOUND, "lead %d not found", id)
}

// checkLead is nil when the caller may see and act on lead id, else the
// error of a missing lead.
func (s *Server) checkLead(ctx context.Context, id int64) error {
	sc := callerOf(ctx).scope
	if sc.All {
		return nil
	}
	owner, team, err := s.deps.DB.LeadOwnerTeam(ctx, id)
	if err != nil {
		return err
	}
	if !sc.Sees(owner, team) {
		return leadNotFound(id)
	}
	return nil
}

// leadPathPrefix is the path of every operation on one lead: the
// middleware checks the caller's scope before the handler runs, so that
// no such operation, present or future, can forget it.
const leadPathPrefix = "/api/v1/leads/{id}"

// checkLeadPath refuses with 404 an operation on a lead the caller does
// not see; it returns false when it wrote the response.
func (s *Server) checkLeadPath(ctx huma.Context, c caller) bool {
	op := ctx.Operation()
	if c.scope.All || op == nil || !strings.HasPrefix(op.Path, leadPathPrefix) {
		return true
	}
	id, err := strconv.ParseInt(ctx.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return true // the handler's validation answers
	}
	err = s.checkLead(huma.WithValue(ctx, callerKey, c).Context(), id)
	if err == nil {
		return true
	}
	writeAPIError(s, ctx, apiError(s.log, err))
	return false
}

func writeAPIError(s *Server, ctx huma.Context, err error) {
	status, msg := http.StatusInternalServerError, "internal error"
	if se, ok := err.(huma.StatusError); ok {
		status, msg = se.GetStatus(), se.Error()
	}
	_ = huma.WriteErr(s.api, ctx, status, msg)
}

// salesActor is who does a sales action: the key's user for a key of a
// user (which may not act for anyone else), else the user named in the
// body, else the key.
func (s *Server) salesActor(ctx context.Context, user string) (flow.Actor, error) {
	c := callerOf(ctx)
	if c.key.User != "" {
		if user != "" && user != c.key.User {
			return "", leadflow.Errorf(leadflow.EFORBIDDEN, "API key %q acts for %s only, not for %s", c.key.Name, c.key.User, user)
		}
		return c.actor(), nil
	}
	if user != "" {
		return flow.Actor("user:" + user), nil
	}
	return actorOf(ctx), nil
}

// ownerInScope is the owner a list of tasks or SLA clocks is read for: a
// caller restricted to its own and its team's leads reads its own by
// default and may name a member of its team, nobody else.
func (s *Server) ownerInScope(ctx context.Context, owner string) (string, error) {
	c := callerOf(ctx)
	sc := c.scope
	if sc.All {
		return owner, nil
	}
	if owner == "" || owner == sc.User {
		return sc.User, nil
	}
	if sc.Team != "" {
		if u, err := s.deps.DB.FindUser(ctx, owner); err == nil && u.Team == sc.Team {
			return owner, nil
		}
	}
	return "", leadflow.Errorf(leadflow.EFORBIDDEN, "API key %q sees the leads of %s and of team %q only: %s is neither",
		c.key.Name, sc.User, sc.Team, owner)
}

// checkTask is nil when the caller may complete nurture task id: the same
// rule as the queue page (its own task, or any task with the permission to
// reassign leads); a task of a lead it does not see is not found.
func (s *Server) checkTask(ctx context.Context, id int64) error {
	c := callerOf(ctx)
	t, err := s.deps.DB.Task(ctx, id)
	if err != nil || c.key.User == "" || auth.Can(auth.Role(c.key.Role), auth.ReassignLeads) {
		return err
	}
	if t.Owner == c.key.User {
		return nil
	}
	if err := s.checkLead(ctx, t.LeadID); err != nil {
		return leadflow.Errorf(leadflow.ENOTFOUND, "task %d not found", id)
	}
	return leadflow.Errorf(leadflow.EFORBIDDEN, "task %d belongs to %s", id, t.Owner)
}

// checkEnrolment is nil when the caller sees the lead of enrolment id.
func (s *Server) checkEnrolment(ctx context.Context, id int64) error {
	if callerOf(ctx).scope.All {
		return nil
	}
	e, err := s.deps.DB.Enrolment(ctx, id)
	if err != nil {
		return err
	}
	if s.checkLead(ctx, e.LeadID) != nil {
		return leadflow.Errorf(leadflow.ENOTFOUND, "enrolment %d not found", id)
	}
	return nil
}

// checkDeal is nil when the caller sees the lead a deal update goes to
// (by id or email) and, when the deal exists, the lead it belongs to.
func (s *Server) checkDeal(ctx context.Context, d flow.Deal) error {
	if callerOf(ctx).scope.All {
		return nil
	}
	if d.ExternalID != "" {
		cur, err := s.deps.DB.DealByExternalID(ctx, d.ExternalID)
		switch {
		case err == nil:
			if s.checkLead(ctx, cur.LeadID) != nil {
				return leadflow.Errorf(leadflow.ENOTFOUND, "no deal with external_id %s", d.ExternalID)
			}
		case leadflow.ErrorCode(err) != leadflow.ENOTFOUND:
			return err
		}
	}
	if d.LeadID != 0 {
		return s.checkLead(ctx, d.LeadID)
	}
	if d.Email == "" {
		return nil // the flow says what is missing
	}
	l, err := s.deps.DB.FindLeadByEmail(ctx, d.Email)
	if err != nil {
		return err
	}
	if s.checkLead(ctx, l.ID) != nil {
		return leadflow.Errorf(leadflow.ENOTFOUND, "no lead with email %s", d.Email)
	}
	return nil
}
