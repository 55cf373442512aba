package web

import (
	"embed"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/text/language"

	"github.com/leadflow/leadflow/internal/lifecycle"
)

//go:embed i18n/*.json
var i18nFS embed.FS

// langs are the UI languages; the first is the fallback when the browser
// asks for none of them (leadflow's users are Japanese companies first).
var langs = []string{"ja", "en"}

// catalogs holds the messages of every language.
type catalogs struct {
	msgs    map[string]map[string]string
	matcher language.Matcher
}

// loadCatalogs reads i18n/<lang>.json and checks that every language has
// exactly the same keys, so a missing translation fails start-up.
func loadCatalogs() (*catalogs, error) {
	c := &catalogs{msgs: map[string]map[string]string{}}
	var tags []language.Tag
	for _, l := range langs {
		b, err := i18nFS.ReadFile("i18n/" + l + ".json")
		if err != nil {
			return nil, fmt.Errorf("web: catalog %s: %w", l, err)
		}
		m := map[string]string{}
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("web: catalog %s: %w", l, err)
		}
		c.msgs[l] = m
		tags = append(tags, language.MustParse(l))
	}
	base := c.msgs[langs[0]]
	for _, l := range langs[1:] {
		for k := range base {
			if _, ok := c.msgs[l][k]; !ok {
				return nil, fmt.Errorf("web: catalog %s lacks %q", l, k)
			}
		}
		for k := range c.msgs[l] {
			if _, ok := base[k]; !ok {
				return nil, fmt.Errorf("web: catalog %s lacks %q", langs[0], k)
			}
		}
	}
	c.matcher = language.NewMatcher(tags)
	return c, nil
}

func (c *catalogs) has(lang string) bool { return slices.Contains(langs, lang) }

// negotiate picks the language of a request: the remembered choice
// (cookie), else the best match of Accept-Language.
func (c *catalogs) negotiate(r *http.Request) string {
	if ck, err := r.Cookie(langCookie); err == nil && c.has(ck.Value) {
		return ck.Value
	}
	tags, _, _ := language.ParseAcceptLanguage(r.Header.Get("Accept-Language"))
	_, i, conf := c.matcher.Match(tags...)
	if conf == language.No {
		return langs[0]
	}
	return langs[i]
}

// locale formats for one request: messages in its language, times in the
// company's time zone.
type locale struct {
	Lang string
	msgs map[string]string
	loc  *time.Location
	now  time.Time
}

func (h *handler) locale(r *http.Request) *locale {
	l := h.i18n.negotiate(r)
	return &locale{Lang: l, msgs: h.i18n.msgs[l], loc: h.deps.Location, now: h.now()}
}

// T returns the message for key, formatted with args; a missing key shows
// as the key itself (the catalog test prevents it).
func (l *locale) T(key string, args ...any) string {
	s, ok := l.msgs[key]
	if !ok {
		return key
	}
	if len(args) > 0 {
		return fmt.Sprintf(s, args...)
	}
	return s
}

// Has reports whether the catalog has key (for optional labels such as
// event names).
func (l *locale) Has(key string) bool { _, ok := l.msgs[key]; return ok }

// Stage is the name of a stage (a leadflow.Stage or its string) in the
// language.
func (l *locale) Stage(s any) string { return l.T("stage." + fmt.Sprint(s)) }

// Reason is a rejection reason's label in the language.
func (l *locale) Reason(r lifecycle.Reason) string {
	if l.Lang == "ja" && r.JA != "" {
		return r.JA
	}
	if r.EN != "" {
		return r.EN
	}
	return r.ID
}

// Date formats a time with minutes in the company's time zone.
func (l *locale) Date(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	t = t.In(l.loc)
	if l.Lang == "ja" {
		return t.Format("2006/01/02 15:04")
	}
	return t.Format("Jan 2, 2006 15:04")
}

// Day formats a date in the company's time zone.
func (l *locale) Day(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	t = t.In(l.loc)
	if l.Lang == "ja" {
		return t.Format("2006/01/02")
	}
	return t.Format("Jan 2, 2006")
}

// ISODay formats a date for <input type=date>.
func (l *locale) ISODay(t *time.Time) string {
	if t == nil || t.IsZero() {
		return ""
	}
	return t.In(l.loc).Format(time.DateOnly)
}

// Ago says how long ago t was, or in how long it comes, in rough units.
func (l *locale) Ago(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	d := l.now.Sub(t)
	key := "time.ago"
	if d < 0 {
		d, key = -d, "time.in"
	}
	return l.T(key, l.Span(d))
}

// Span is a duration in its largest unit ("3 h", "2 日").
func (l *locale) Span(d time.Duration) string {
	switch {
	case d < time.Hour:
		return l.T("unit.min", int(d.Minutes()))
	case d < 48*time.Hour:
		return l.T("unit.hour", int(d.Hours()))
	}
	return l.T("unit.day", int(d.Hours()/24))
}

// Num formats a number with thousands separators and at most two
// decimals (scores); both languages group by three with commas.
func (l *locale) Num(v any) string {
	var f float64
	switch x := v.(type) {
	case int:
		f = float64(x)
	case int64:
		f = float64(x)
	case float64:
		f = x
	default:
		return fmt.Sprint(v)
	}
	neg := f < 0
	f = math.Abs(f)
	s := strconv.FormatFloat(math.Round(f*100)/100, 'f', -1, 64)
	intPart, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if frac != "" {
		b.WriteByte('.')
		b.WriteString(frac)
	}
	return b.String()
}

// Pct formats a share (0..1) as a percentage with one decimal; "—" when
// there is nothing to divide by.
func (l *locale) Pct(num, den int64) string {
	if den == 0 {
		return "—"
	}
	return strconv.FormatFloat(float64(num)*100/float64(den), 'f', 1, 64) + "%"
}
