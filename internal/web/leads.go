package web

import (
	"context"
	"encoding/csv"
	"html/template"
	"net/http"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/auth"
	"github.com/leadflow/leadflow/internal/store"
)

// openStages are the stages a rep works.
var openStages = []leadflow.Stage{leadflow.StageMQL, leadflow.StageSAL, leadflow.StageSQL, leadflow.StageHQL}

// allStages are every stage, in funnel order then the side states, for
// the stage filter.
var allStages = append(append([]leadflow.Stage{}, leadflow.FunnelStages...), leadflow.StageRecycled, leadflow.StageDisqualified)

// listQuery is the lead list's filter as the form sends it.
type listQuery struct {
	Stage, Owner, Team, Source, Campaign, Industry string
	ScoreMin, ScoreMax, Updated, Q, Sort, Cursor   string
}

func parseListQuery(v url.Values) listQuery {
	g := func(k string) string { return strings.TrimSpace(v.Get(k)) }
	return listQuery{Stage: g("stage"), Owner: g("owner"), Team: g("team"), Source: g("source"), Campaign: g("campaign"),
		Industry: g("industry"), ScoreMin: g("smin"), ScoreMax: g("smax"), Updated: g("updated"), Q: g("q"),
		Sort: g("sort"), Cursor: g("cursor")}
}

// values encodes the query without the cursor (for export and paging).
func (q listQuery) values() url.Values {
	v := url.Values{}
	for k, s := range map[string]string{"stage": q.Stage, "owner": q.Owner, "team": q.Team, "source": q.Source,
		"campaign": q.Campaign, "industry": q.Industry, "smin": q.ScoreMin, "smax": q.ScoreMax, "updated": q.Updated,
		"q": q.Q, "sort": q.Sort} {
		if s != "" {
			v.Set(k, s)
		}
	}
	return v
}

// URL is path with the query (without the cursor), and the cursor when
// one is given; typed as a URL so the template keeps its & and =.
func (q listQuery) URL(path, cursor string) template.URL {
	v := q.values()
	if cursor != "" {
		v.Set("cursor", cursor)
	}
	if len(v) == 0 {
		return template.URL(path)
	}
	return template.URL(path + "?" + v.Encode())
}

// filter turns the form into a store filter; bad numbers are EINVALID.
func (q listQuery) filter(now time.Time) (store.LeadFilter, error) {
	f := store.LeadFilter{Owner: q.Owner, Team: q.Team, Source: q.Source, Campaign: q.Campaign, Industry: q.Industry,
		Q: q.Q, Sort: q.Sort, Cursor: q.Cursor, Limit: 50}
	if isEmailAddress(q.Q) {
		// A whole address finds that lead through the unique email index
		// instead of a substring scan of every lead.
		f.Q, f.Email = "", strings.TrimSpace(q.Q)
	}
	switch q.Stage {
	case "":
	case "open":
		f.Stage = openStages
	default:
		f.Stage = []leadflow.Stage{leadflow.Stage(q.Stage)}
	}
	num := func(s, where string) (*float64, error) {
		if s == "" {
			return nil, nil
		}
		x, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, leadflow.Invalidf(where, "%q is not a number", s)
		}
		return &x, nil
	}
	var err error
	if f.ScoreMin, err = num(q.ScoreMin, "smin"); err != nil {
		return f, err
	}
	if f.ScoreMax, err = num(q.ScoreMax, "smax"); err != nil {
		return f, err
	}
	if q.Updated != "" {
		days, err := strconv.Atoi(q.Updated)
		if err != nil || days <= 0 {
			return f, leadflow.Invalidf("updated", "%q is not a number of days", q.Updated)
		}
		f.UpdatedSince = now.AddDate(0, 0, -days)
	}
	return f, nil
}

type leadsView struct {
	Q       listQuery
	Leads   []leadflow.Lead
	Next    string
	Stages  []leadflow.Stage
	Values  *store.FilterValues
	Users   []store.User
	Error   string
	Elapsed time.Duration
}

func (h *handler) leads(w http.ResponseWriter, r *http.Request) {
	q := parseListQuery(r.URL.Query())
	v := leadsView{Q: q, Stages: allStages}
	var err error
	if v.Values, err = h.deps.DB.LeadFilterValues(r.Context()); err != nil {
		h.fail(w, r, err)
		return
	}
	if v.Users, err = h.deps.DB.Users(r.Context(), store.UserFilter{}); err != nil {
		h.fail(w, r, err)
		return
	}
	status := http.StatusOK
	f, err := q.filter(h.now())
	f.Scope = leadScope(r.Context())
	if err == nil {
		v.Leads, v.Next, err = h.deps.DB.FindLeads(r.Context(), f)
	}
	if err != nil {
		if leadflow.ErrorCode(err) != leadflow.EINVALID {
			h.fail(w, r, err)
			return
		}
		v.Error, status = flowError(h.locale(r), "", "", err), http.StatusBadRequest
	}
	h.render(w, r, status, "leads", "leads.title", v)
}

// exportMax bounds one CSV export.
const exportMax = 50_000

// exportLeads streams the current view of the list (every page) as CSV,
// with a UTF-8 BOM so that Excel opens Japanese text correctly.
func (h *handler) exportLeads(w http.ResponseWriter, r *http.Request) {
	q := parseListQuery(r.URL.Query())
	q.Cursor = ""
	f, err := q.filter(h.now())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	f.Scope, f.Limit = leadScope(r.Context()), 1000
	page, next, err := h.deps.DB.FindLeads(r.Context(), f)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="leads-`+h.now().In(h.deps.Location).Format("20060102-1504")+`.csv"`)
	_, _ = w.Write([]byte("\ufeff"))
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"id", "email", "name", "company", "title", "industry", "employees", "country", "stage", "score",
		"fit_score", "behavior_score", "owner", "team", "source", "campaign", "created_at", "updated_at"})
	n := 0
	for {
		for _, l := range page {
			_ = cw.Write([]string{strconv.FormatInt(l.ID, 10), l.Email, l.Name, l.Company, l.Title, l.Industry,
				strconv.Itoa(l.Employees), l.Country, string(l.Stage), fmtScore(l.Score), fmtScore(l.FitScore),
				fmtScore(l.BehaviorScore), l.Owner, l.Team, l.FirstTouch.Source, l.FirstTouch.Campaign,
				l.CreatedAt.Format(time.RFC3339), l.UpdatedAt.Format(time.RFC3339)})
			n++
		}
		if next == "" || n >= exportMax {
			break
		}
		f.Cursor = next
		if page, next, err = h.deps.DB.FindLeads(r.Context(), f); err != nil {
			h.log.Error("web: export", "err", err)
			break // the header is out; a truncated file is all we can do
		}
	}
	cw.Flush()
}

func fmtScore(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }

// leadScope is the leads the logged-in user sees and acts on: a
// salesperson its own and its team's, everyone else every lead.
func leadScope(ctx context.Context) *auth.LeadScope {
	u := userOf(ctx)
	if u == nil {
		return &auth.LeadScope{}
	}
	sc := auth.ScopeOf(auth.Role(u.Role), u.UserName, u.Team)
	return &sc
}

// checkLeadScope is ENOTFOUND, with the message of a lead that does not
// exist, for a lead the user may not see: another rep's lead by URL looks
// like no lead at all (no enumeration).
func (h *handler) checkLeadScope(ctx context.Context, id int64) error {
	sc := leadScope(ctx)
	if sc.All {
		return nil
	}
	owner, team, err := h.deps.DB.LeadOwnerTeam(ctx, id)
	if err != nil {
		return err
	}
	if !sc.Sees(owner, team) {
		return leadflow.Errorf(leadflow.ENOTFOUND, "lead %d not found", id)
	}
	return nil
}

// isEmailAddress reports whether s, trimmed, is one bare email address
// (local@domain.tld), as typed or pasted into the search box.
func isEmailAddress(s string) bool {
	s = strings.TrimSpace(s)
	at := strings.IndexByte(s, '@')
	if at <= 0 || strings.ContainsAny(s, " \t<>,;\"") || strings.Count(s, "@") != 1 {
		return false
	}
	a, err := mail.ParseAddress(s)
	return err == nil && a.Address == s && strings.Contains(s[at+1:], ".")
}
