package store

import (
	"context"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/auth"
)

// LeadFilter selects leads for a list. Zero values select everything.
type LeadFilter struct {
	Stage        []leadflow.Stage
	Owner        string
	Team         string
	ScoreMin     *float64
	ScoreMax     *float64
	UpdatedSince time.Time
	Q            string // text search on name, email, company
	Email        string
	Source       string
	Campaign     string
	Industry     string
	// Scope restricts the list to the leads someone sees (a salesperson:
	// its own and its team's); nil is every lead.
	Scope *auth.LeadScope
	// Sort is one of score, -score, updated_at, -updated_at, created_at,
	// -created_at (a leading minus sorts descending). Default -updated_at.
	Sort   string
	Cursor string
	Limit  int
}

var sortColumns = map[string]string{"score": "score", "updated_at": "updated_at", "created_at": "created_at"}

// FindLeads lists leads with keyset pagination; the returned cursor is ""
// on the last page.
func (db *DB) FindLeads(ctx context.Context, f LeadFilter) ([]leadflow.Lead, string, error) {
	sortKey := f.Sort
	if sortKey == "" {
		sortKey = "-updated_at"
	}
	desc := strings.HasPrefix(sortKey, "-")
	col, ok := sortColumns[strings.TrimPrefix(sortKey, "-")]
	if !ok {
		return nil, "", leadflow.Invalidf("sort", "unknown sort %q: use score, updated_at or created_at, with - for descending", f.Sort)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	if limit > 1000 {
		return nil, "", leadflow.Invalidf("limit", "limit %d is over the maximum of 1000", limit)
	}

	var where []string
	var args []any
	add := func(cond string, a ...any) { where = append(where, cond); args = append(args, a...) }
	add("erased_at IS NULL")
	if len(f.Stage) > 0 {
		ph := make([]string, len(f.Stage))
		for i, s := range f.Stage {
			if !s.Valid() {
				return nil, "", leadflow.Invalidf("stage", "unknown stage %q", s)
			}
			ph[i] = "?"
			args = append(args, string(s))
		}
		where = append(where, "stage IN ("+strings.Join(ph, ",")+")")
	}
	if f.Owner != "" {
		add("owner = ?", f.Owner)
	}
	if f.Team != "" {
		add("team = ?", f.Team)
	}
	if sc := f.Scope; sc != nil && !sc.All {
		switch {
		case sc.User != "" && sc.Team != "":
			add("(owner = ? OR team = ?)", sc.User, sc.Team)
		case sc.User != "":
			add("owner = ?", sc.User)
		case sc.Team != "":
			add("team = ?", sc.Team)
		default:
			add("1 = 0")
		}
	}
	if f.ScoreMin != nil {
		add("score >= ?", *f.ScoreMin)
	}
	if f.ScoreMax != nil {
		add("score <= ?", *f.ScoreMax)
	}
	if !f.UpdatedSince.IsZero() {
		add("updated_at >= ?", us(f.UpdatedSince))
	}
	if f.Email != "" {
		add("email = ?", NormalizeEmail(f.Email))
	}
	// The indexes on source, campaign and industry (migration 00015) are for
	// the filter choices (a loose index scan). A list filtered by one of them
	// walks its sort order instead (|| '' keeps the planner off them): a
	// source holds tens of thousands of leads, which the index would read and
	// sort in full for a page of 50.
	if f.Source != "" {
		add("source || '' = ?", f.Source)
	}
	if f.Campaign != "" {
		add("campaign || '' = ?", f.Campaign)
	}
	if f.Industry != "" {
		add("industry || '' = ?", f.Industry)
	}
	if q := strings.TrimSpace(f.Q); q != "" {
		ids, indexed, err := db.searchCandidates(ctx, q)
		if err != nil {
			return nil, "", err
		}
		if indexed {
			if len(ids) == 0 {
				return []leadflow.Lead{}, "", nil
			}
			ph := strings.Repeat("?,", len(ids))
			add("id IN ("+ph[:len(ph)-1]+")", ids...)
		}
		// The candidates of the index are checked with the LIKE that
		// defines the search, so that the results are the same with and
		// without the index.
		like := likePattern(q)
		add(`(lower(name) LIKE ? ESCAPE '\' OR email LIKE ? ESCAPE '\' OR lower(company) LIKE ? ESCAPE '\')`, like, like, like)
	}
	cmp, dir := ">", "ASC"
	if desc {
		cmp, dir = "<", "DESC"
	}
	if f.Cursor != "" {
		v, id, err := decodeCursor(f.Cursor)
		if err != nil {
			return nil, "", err
		}
		if col == "score" {
			fv, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return nil, "", leadflow.Invalidf("cursor", "cursor does not belong to this sort")
			}
			add(fmt.Sprintf("(score %s ? OR (score = ? AND id %s ?))", cmp, cmp), fv, fv, id)
		} else {
			iv, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return nil, "", leadflow.Invalidf("cursor", "cursor does not belong to this sort")
			}
			add(fmt.Sprintf("(%s %s ? OR (%s = ? AND id %s ?))", col, cmp, col, cmp), iv, iv, id)
		}
	}
	q := `SELECT id, email, name, company, title, industry, employees, country, region, phone,
       first_touch, last_touch, consent, unsubscribed, traits, bant, stage, stage_at,
       score, fit_score, behavior_score, scored_at, next_decay_at, model_version, owner,
       team, created_at, updated_at FROM leads WHERE ` + strings.Join(where, " AND ") +
		fmt.Sprintf(" ORDER BY %s %s, id %s LIMIT %d", col, dir, dir, limit+1)
	rows, err := db.Read.QueryContext(ctx, db.Dialect.Rebind(q), args...)
	if err != nil {
		return nil, "", wrapDB(err, "list leads")
	}
	defer rows.Close()
	var out []leadflow.Lead
	for rows.Next() {
		l, err := scanLead(rows)
		if err != nil {
			return nil, "", err
		}
		out = append(out, *l)
	}
	if err := rows.Err(); err != nil {
		return nil, "", wrapDB(err, "list leads")
	}
	hasMore := len(out) > limit
	next := ""
	if len(out) > limit {
		out = out[:limit]
	}
	if err := db.fillIdentitiesOf(ctx, out); err != nil {
		return nil, "", err
	}
	if len(out) == limit && hasMore {
		last := out[limit-1]
		switch col {
		case "score":
			next = encodeCursor(strconv.FormatFloat(last.Score, 'g', -1, 64), last.ID)
		case "updated_at":
			next = encodeCursor(strconv.FormatInt(us(last.UpdatedAt), 10), last.ID)
		default:
			next = encodeCursor(strconv.FormatInt(us(last.CreatedAt), 10), last.ID)
		}
	}
	return out, next, nil
}

// Text search (LeadFilter.Q) is a case-insensitive substring match on
// name, email and company (the LIKE of FindLeads). A text of at least
// searchMinRunes characters is first looked up in a trigram index
// (migration 00015: FTS5 trigram table leads_search on SQLite, pg_trgm GIN
// indexes on PostgreSQL); when it matches few leads, the list reads those
// leads only instead of walking every lead in its sort order.

// searchMinRunes is the shortest text a trigram index can look up; one or
// two characters are matched by the scan, as before.
const searchMinRunes = 3

// searchMaxCandidates bounds the leads the index hands to the list: a text
// found in more leads (a common word such as 株式会社) is matched by walking
// the list's sort order instead, which stops at the first page because such
// matches are dense. A variable for tests.
var searchMaxCandidates = 2000

// searchCandidates returns the ids of the leads whose name, email or
// company may contain q, from the trigram index, and true; or false when
// the index does not apply (a short text, too many matches).
func (db *DB) searchCandidates(ctx context.Context, q string) ([]any, bool, error) {
	if utf8.RuneCountInString(q) < searchMinRunes {
		return nil, false, nil
	}
	var args []any
	if db.Dialect == Postgres {
		like := likePattern(q)
		args = []any{like, like, like, searchMaxCandidates + 1}
	} else {
		args = []any{`"` + strings.ReplaceAll(q, `"`, `""`) + `"`, searchMaxCandidates + 1}
	}
	rows, err := db.Read.QueryContext(ctx, db.q.get("LeadSearchIDs"), args...)
	if err != nil {
		return nil, false, wrapDB(err, "search leads")
	}
	defer rows.Close()
	ids := []any{}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, false, wrapDB(err, "search leads")
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, false, wrapDB(err, "search leads")
	}
	if len(ids) > searchMaxCandidates {
		return nil, false, nil
	}
	return ids, true, nil
}

// likePattern is the LIKE pattern (escape \) of a substring search.
func likePattern(q string) string {
	return "%" + strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(strings.ToLower(q)) + "%"
}

func encodeCursor(v string, id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(v + "|" + strconv.FormatInt(id, 10)))
}

func decodeCursor(c string) (string, int64, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err == nil {
		if v, idText, ok := strings.Cut(string(b), "|"); ok {
			if id, err := strconv.ParseInt(idText, 10, 64); err == nil {
				return v, id, nil
			}
		}
	}
	return "", 0, leadflow.Invalidf("cursor", "malformed cursor")
}

// fillIdentitiesOf loads the external and anonymous ids of a page of leads
// with one query.
func (db *DB) fillIdentitiesOf(ctx context.Context, leads []leadflow.Lead) error {
	if len(leads) == 0 {
		return nil
	}
	idx := make(map[int64]int, len(leads))
	ph := make([]string, len(leads))
	args := make([]any, len(leads))
	for i, l := range leads {
		idx[l.ID], ph[i], args[i] = i, "?", l.ID
	}
	q := "SELECT lead_id, kind, value FROM lead_identities WHERE lead_id IN (" + strings.Join(ph, ",") + ") ORDER BY created_at, value"
	rows, err := db.Read.QueryContext(ctx, db.Dialect.Rebind(q), args...)
	if err != nil {
		return wrapDB(err, "identities")
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var kind, value string
		if err := rows.Scan(&id, &kind, &value); err != nil {
			return wrapDB(err, "identities")
		}
		l := &leads[idx[id]]
		if kind == IdentityUser {
			l.ExternalIDs = append(l.ExternalIDs, value)
		} else {
			l.AnonymousIDs = append(l.AnonymousIDs, value)
		}
	}
	return wrapDB(rows.Err(), "identities")
}

// LeadOwnerTeam returns the owner and team of a lead (what decides who
// sees it), or ENOTFOUND with the message FindLead gives.
func (db *DB) LeadOwnerTeam(ctx context.Context, id int64) (owner, team string, err error) {
	err = db.queryRow(ctx, "LeadOwnerTeam", id).Scan(&owner, &team)
	if err != nil {
		return "", "", notFound(wrapDB(err, "lead owner"), "lead %d not found", id)
	}
	return owner, team, nil
}
