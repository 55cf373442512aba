package main

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/store"
	"github.com/leadflow/leadflow/internal/web"
)

// webUser creates a user with a password for the browser tests.
func webUser(t *testing.T, a *app, name, role string) string {
	t.Helper()
	pw := name + "-password-1"
	if err := web.CreateUser(context.Background(), a.db, &store.User{Name: name, DisplayName: name, Role: role}, pw, "test"); err != nil {
		t.Fatal(err)
	}
	return pw
}

// ingest sends one Segment message to /v1/<kind> with a fresh write key,
// as a website's tracking snippet would.
func ingest(t *testing.T, a *app, base, kind, body string) {
	t.Helper()
	ctx := context.Background()
	var key string
	if err := a.db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		_, key, err = tx.CreateSource(ctx, "browser-test-"+strconv.FormatInt(time.Now().UnixNano(), 36))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, base+"/v1/"+kind, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(key, "")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/v1/%s: %d", kind, resp.StatusCode)
	}
}

// TestWebBrowserBecomesMQL sends a visitor's events to /v1/track until
// the lead is an MQL, and watches it in the UI: a lead first, then in the
// list filtered by MQL, its page with the MQL badge, the transition, and
// a score explanation that lists the events.
func TestWebBrowserBecomesMQL(t *testing.T) {
	base, a := startWeb(t)
	pw := webUser(t, a, "mika", "marketing")
	br := newBrowser(t, base)
	br.login("mika", pw)

	// Fit 25 (target industry, 100+ employees), no behavior yet.
	ingest(t, a, base, "identify", `{"userId":"u-kimura","traits":{"email":"kimura@kimura-seiki.example.jp",
		"name":"木村 花子","company":"木村精機","title":"購買課 担当","industry":"manufacturing","employees":300}}`)
	ingest(t, a, base, "track", `{"userId":"u-kimura","event":"Document Downloaded","properties":{"title":"導入事例集"}}`)
	q := url.Values{"q": {"kimura-seiki"}}
	br.step("find the lead", chromedp.Navigate(base+"/leads?"+q.Encode()), chromedp.WaitVisible(`table.leads tbody a[href^="/leads/"]`))
	href := br.attr(`table.leads tbody a[href^="/leads/"]`, "href")
	br.step("the lead before", chromedp.Navigate(base+href), chromedp.WaitVisible(`#score`))
	if s := br.attr(`.lead-name .badge`, "class"); !strings.Contains(s, "st-lead") {
		t.Errorf("stage badge before the seminar: %q, want a lead", s)
	}
	if n := br.text(`.bigscore .n`); n != "40" {
		t.Errorf("score after the download: %q, want 40", n)
	}

	// A seminar (+20) makes 60: over the MQL threshold of 50.
	ingest(t, a, base, "track", `{"userId":"u-kimura","event":"Seminar Attended","properties":{"name":"製造業DXセミナー"}}`)
	q.Set("stage", "mql")
	br.step("the list of MQLs", chromedp.Navigate(base+"/leads?"+q.Encode()), chromedp.WaitVisible(`table.leads tbody`))
	rows := br.eval(`document.querySelectorAll("table.leads tbody a[href^='/leads/']").length`)
	badge := br.attr(`table.leads tbody tr .badge`, "class")
	br.step("the lead after", chromedp.Navigate(base+href), chromedp.WaitVisible(`#score`))
	stageBadge := br.attr(`.lead-name .badge`, "class")
	score := br.text(`.bigscore .n`)
	explanation := br.eval(`document.querySelector("#score").textContent`)
	history := br.eval(`document.querySelector("ol.history").textContent`)

	if rows != "1" || !strings.Contains(badge, "st-mql") {
		t.Errorf("leads filtered by MQL and the name: %s rows, badge %q", rows, badge)
	}
	if !strings.Contains(stageBadge, "st-mql") || score != "60" {
		t.Errorf("lead page: badge %q, score %q; want MQL, 60", stageBadge, score)
	}
	for _, want := range []string{"whitepaper", "Document Downloaded", "seminar", "Seminar Attended", "target-industry", "company-100plus"} {
		if !strings.Contains(explanation, want) {
			t.Errorf("the score explanation does not list %q:\n%s", want, explanation)
		}
	}
	if !strings.Contains(history, "MQL") {
		t.Errorf("the stage history does not show the move to MQL: %s", history)
	}
	id, _ := strconv.ParseInt(strings.TrimPrefix(href, "/leads/"), 10, 64)
	if l, err := a.db.FindLead(context.Background(), id); err != nil || l.Stage != leadflow.StageMQL {
		t.Errorf("lead in the database: %v %v", l, err)
	}
}

// TestWebBrowserRejectToRecycled has a salesperson reject an MQL with a
// reason: the lead shows up in the list of recycled leads, with the
// reason in its history.
func TestWebBrowserRejectToRecycled(t *testing.T) {
	base, a := startWeb(t)
	ctx := context.Background()
	pw := webUser(t, a, "sato", "sales")
	mqls, _, err := a.db.FindLeads(ctx, store.LeadFilter{Stage: []leadflow.Stage{leadflow.StageMQL}, Sort: "-score", Limit: 1})
	if err != nil || len(mqls) == 0 {
		t.Fatalf("no MQL in the generated history: %v", err)
	}
	l := mqls[0]
	if _, err := a.flow.Reassign(ctx, l.ID, "sato", "test"); err != nil {
		t.Fatal(err)
	}
	page := base + "/leads/" + strconv.FormatInt(l.ID, 10)
	br := newBrowser(t, base)
	br.login("sato", pw)
	br.step("open the MQL", chromedp.Navigate(page), chromedp.WaitVisible(`form[action$="/reject"]`))
	br.step("reject it with a reason",
		chromedp.SetValue(`form[action$="/reject"] select[name=reason]`, "no-budget"),
		chromedp.SendKeys(`form[action$="/reject"] input[name=note]`, "予算は来期"),
		chromedp.Click(`form[action$="/reject"] button`),
		chromedp.WaitVisible(`.flash.ok`))
	flash := br.text(`.flash.ok`)
	q := url.Values{"stage": {"recycled"}, "q": {l.Email}}
	br.step("the recycled list", chromedp.Navigate(base+"/leads?"+q.Encode()), chromedp.WaitVisible(`table.leads tbody`))
	listed := br.eval(`[...document.querySelectorAll("table.leads tbody a[href^='/leads/']")].map(a => a.getAttribute("href")).join(" ")`)
	br.step("its history", chromedp.Navigate(page), chromedp.WaitVisible(`ol.history`))
	history := br.eval(`document.querySelector("ol.history").parentElement.textContent`)

	if !strings.Contains(flash, "差し戻しました") && !strings.Contains(flash, "Rejected") {
		t.Errorf("flash after reject: %q", flash)
	}
	if listed != "/leads/"+strconv.FormatInt(l.ID, 10) {
		t.Errorf("recycled leads matching %s: %q, want the rejected one", l.Email, listed)
	}
	if !strings.Contains(history, "no-budget: 予算は来期") {
		t.Errorf("the history does not show the reason:\n%s", history)
	}
	if got, err := a.db.FindLead(ctx, l.ID); err != nil || got.Stage != leadflow.StageRecycled {
		t.Errorf("lead in the database: %v %v", got.Stage, err)
	}
}

// TestWebBrowserModelEditor validates a model with an error, sees the
// error at its line in the source, then validates and applies a fixed
// one.
func TestWebBrowserModelEditor(t *testing.T) {
	base, a := startWeb(t)
	ctx := context.Background()
	pw := webUser(t, a, "mika", "marketing")
	_, active, err := a.flow.ActiveModel(ctx)
	if err != nil {
		t.Fatal(err)
	}
	src := active.Source
	if !strings.Contains(src, "lead.employees >= 100") {
		t.Fatalf("the default model changed; adapt the test:\n%s", src)
	}
	broken := strings.Replace(src, "lead.employees >= 100", "lead.employes >= 100", 1)
	line := 0
	for i, s := range strings.Split(broken, "\n") {
		if strings.Contains(s, "lead.employes") {
			line = i + 1
		}
	}
	fixed := strings.Replace(src, "lead.employees >= 100", "lead.employees >= 50", 1)

	br := newBrowser(t, base)
	br.login("mika", pw)
	br.expectHTTPError(`/model/(validate|apply)`) // 422 for a draft with errors
	br.step("the editor", chromedp.Navigate(base+"/model/edit"), chromedp.WaitVisible(`textarea[name=source]`))
	br.step("validate a model with an error",
		chromedp.SetValue(`textarea[name=source]`, broken),
		chromedp.Click(`button[formaction="/model/validate"]`),
		chromedp.WaitVisible(`.flash.error`))
	bad := br.eval(`[...document.querySelectorAll("pre.source .ln.bad")].map(e => e.id).join(" ")`)
	problems := br.text(`ul.problems`)
	br.step("validate the fixed model",
		chromedp.SetValue(`textarea[name=source]`, fixed),
		chromedp.Click(`button[formaction="/model/validate"]`),
		chromedp.WaitVisible(`.flash.ok`))
	diff := br.eval(`document.querySelector("main").textContent`)
	br.step("apply it",
		chromedp.Click(`input[name=confirm]`),
		chromedp.Click(`button[formaction="/model/apply"]`),
		chromedp.WaitVisible(`body`),
		chromedp.Poll[chromedp.Void](`location.pathname === "/model"`))

	if bad != "L"+strconv.Itoa(line) {
		t.Errorf("highlighted lines %q, want L%d (the line with the error)", bad, line)
	}
	if !strings.Contains(problems, "model.yaml:"+strconv.Itoa(line)+":") || !strings.Contains(problems, "employes") {
		t.Errorf("problems %q: want the error at line %d", problems, line)
	}
	if !strings.Contains(diff, "company-100plus") {
		t.Errorf("the diff of the fixed model does not name the changed rule")
	}
	_, now, err := a.flow.ActiveModel(ctx)
	if err != nil || now.Version != active.Version+1 || !strings.Contains(now.Source, "lead.employees >= 50") {
		t.Errorf("active model after apply: v%d (was v%d), %v", now.Version, active.Version, err)
	}
}

// TestWebBrowserLanguage switches to English and back; each choice
// survives a reload and a new page.
func TestWebBrowserLanguage(t *testing.T) {
	base, a := startWeb(t)
	pw := webUser(t, a, "viewer", "viewer")
	br := newBrowser(t, base)
	br.step("login page in Japanese",
		chromedp.Navigate(base+"/login"),
		chromedp.WaitVisible(`form.lang button[value=ja]`),
		chromedp.Click(`form.lang button[value=ja]`),
		chromedp.WaitVisible(`html[lang=ja] input[name=name]`))
	br.login("viewer", pw)
	for _, tc := range []struct {
		lang, title string
	}{{"en", "Leads"}, {"ja", "リード一覧"}} {
		br.step("switch to "+tc.lang,
			chromedp.Navigate(base+"/leads"),
			chromedp.WaitVisible(`form.lang button[value=`+tc.lang+`]`),
			chromedp.Click(`form.lang button[value=`+tc.lang+`]`),
			chromedp.WaitVisible(`html[lang=`+tc.lang+`] header.top h1`))
		after := br.text(`header.top h1`)
		br.step("reload in "+tc.lang, chromedp.Reload(), chromedp.WaitVisible(`header.top h1`))
		reloaded, title := br.attr(`html`, "lang"), br.text(`header.top h1`)
		br.step("another page in "+tc.lang, chromedp.Navigate(base+"/model"), chromedp.WaitVisible(`header.top h1`))
		other := br.attr(`html`, "lang")
		if after != tc.title || reloaded != tc.lang || title != tc.title || other != tc.lang {
			t.Errorf("switch to %s: title %q, after reload lang %q title %q, next page lang %q; want %q",
				tc.lang, after, reloaded, title, other, tc.title)
		}
	}
}
