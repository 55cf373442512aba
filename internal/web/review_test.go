package web

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/store"
	"github.com/leadflow/leadflow/internal/store/storetest"
)

// TestReviewPage renders the review report in both languages, exports it
// as CSV and JSON, and toggles the user's digest subscription.
func TestReviewPage(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setup(t, db) // now: Monday 2026-06-01 12:00 in Tokyo; one lead created now
		ctx := context.Background()
		for i := range 2 {
			email := "r" + strconv.Itoa(i) + "@example.com"
			l, err := b.flow.CreateLead(ctx, leadflow.LeadPatch{Email: &email}, "test")
			if err != nil {
				t.Fatal(err)
			}
			if i == 0 {
				if _, err := b.flow.MoveLead(ctx, l.ID, leadflow.StageMQL, "", "test"); err != nil {
					t.Fatal(err)
				}
			}
		}
		c := b.login(t, "manager1")
		period := "/review?from=2026-05-25&to=2026-06-01&tz=Asia%2FTokyo"
		r := b.get(t, c, period, "Accept-Language", "en")
		if r.StatusCode != http.StatusOK {
			t.Fatalf("review: %d\n%s", r.StatusCode, r.Body)
		}
		// Leads: 3 now, 0 in the previous 8 days; MQLs: 1.
		for _, want := range []string{"Review meeting", `<td class="num">3</td><td class="num">0</td><td class="num">&#43;3</td>`,
			`<td class="num">1</td><td class="num">0</td><td class="num">&#43;1</td>`, `href="/review.csv?from=2026-05-25`, "Subscribe", "May 25, 2026 – Jun 1, 2026, against May 17, 2026 – May 24, 2026"} {
			if !strings.Contains(r.Body, want) {
				t.Errorf("en review page lacks %q\n%s", want, r.Body[max(0, strings.Index(r.Body, "toolbar")):])
			}
		}
		r = b.get(t, c, period, "Accept-Language", "ja")
		for _, want := range []string{"定例レビュー", "配信を受け取る", "先週"} {
			if !strings.Contains(r.Body, want) {
				t.Errorf("ja review page lacks %q", want)
			}
		}
		r = b.get(t, c, strings.Replace(period, "/review?", "/review.csv?", 1))
		if r.StatusCode != http.StatusOK || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/csv") ||
			!strings.Contains(r.Body, "funnel,leads,current,3") {
			t.Errorf("CSV export: %d %s\n%.500s", r.StatusCode, r.Header.Get("Content-Type"), r.Body)
		}
		r = b.get(t, c, strings.Replace(period, "/review?", "/review.json?", 1))
		var rv struct {
			Funnel struct{ Leads, MQLs int64 } `json:"funnel"`
		}
		if err := json.Unmarshal([]byte(r.Body), &rv); err != nil || rv.Funnel.Leads != 3 {
			t.Errorf("JSON export: %v %+v\n%.300s", err, rv, r.Body)
		}
		if r := b.get(t, c, "/review?from=yesterday"); r.StatusCode != http.StatusBadRequest {
			t.Errorf("bad date: %d", r.StatusCode)
		}

		me, err := db.FindUser(ctx, "manager1")
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range []struct {
			sub  string
			want bool
		}{{"1", true}, {"0", false}} {
			r = b.post(t, c, "/review/subscription", url.Values{"subscribed": {x.sub}, "query": {"from=2026-05-25&to=2026-06-01"}},
				"Accept-Language", "en")
			if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/review?from=2026-05-25&to=2026-06-01" {
				t.Fatalf("subscribe %s: %d %s", x.sub, r.StatusCode, r.Header.Get("Location"))
			}
			on, lang, err := db.ReviewSubscription(ctx, me.ID)
			if err != nil || on != x.want || (on && lang != "en") {
				t.Fatalf("after subscribed=%s: %v %q %v", x.sub, on, lang, err)
			}
			page := b.get(t, c, period, "Accept-Language", "en").Body
			if x.want != strings.Contains(page, "Unsubscribe") {
				t.Errorf("subscribed=%s: the page does not say so", x.sub)
			}
		}
	})
}
