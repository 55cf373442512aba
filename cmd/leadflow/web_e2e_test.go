package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/server"
	"github.com/leadflow/leadflow/internal/store"
	"github.com/leadflow/leadflow/internal/store/storetest"
	"github.com/leadflow/leadflow/internal/web"
)

// chromiumPath finds a Chromium or Chrome to drive; "" when there is none.
func chromiumPath() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// startWeb opens a database loaded with a synthetic year of leads, and
// serves the UI under / next to the API, as serve mounts them.
func startWeb(t *testing.T) (url string, a *app) {
	t.Helper()
	requireChromium(t)
	ctx := context.Background()
	dsn := storetest.DSN(t, "sqlite")
	env := map[string]string{"LEADFLOW_DB": dsn, "LEADFLOW_DATA_DIR": t.TempDir()}
	var out, errOut bytes.Buffer
	if err := run(ctx, []string{"gen", "--leads", "400", "--seed", "7"}, func(k string) string { return env[k] },
		strings.NewReader(""), &out, &errOut); err != nil {
		t.Fatalf("gen: %v\n%s", err, errOut.String())
	}
	a, err := openApp(ctx, dbFlags{db: dsn}, newLogger(io.Discard), false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	ui, err := web.New(web.Deps{Flow: a.flow, DB: a.db, Logger: newLogger(io.Discard), Version: version})
	if err != nil {
		t.Fatal(err)
	}
	api := server.New(server.Deps{Flow: a.flow, DB: a.db, Version: version})
	mux := http.NewServeMux()
	for _, p := range []string{"/v1/", "/api/", "/healthz", "/metrics"} {
		mux.Handle(p, api)
	}
	mux.Handle("/", ui)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL, a
}

// TestWebBrowser logs in with a real browser, in Japanese, and works a
// lead from the queue: the dashboard draws its charts, the queue moves
// with the keyboard, the lead page accepts the MQL. Screenshots of the
// queue, the dashboard and the lead page go to LEADFLOW_SCREENSHOTS.
func TestWebBrowser(t *testing.T) {
	base, a := startWeb(t)
	ctx := context.Background()

	// A sales rep with three MQLs in the queue.
	u := &store.User{Name: "tanaka", DisplayName: "田中 一郎", Role: store.RoleSales}
	if err := web.CreateUser(ctx, a.db, u, "tanaka-password-1", "test"); err != nil {
		t.Fatal(err)
	}
	mqls, _, err := a.db.FindLeads(ctx, store.LeadFilter{Stage: []leadflow.Stage{leadflow.StageMQL}, Sort: "-score", Limit: 3})
	if err != nil || len(mqls) == 0 {
		t.Fatalf("no MQL in the generated history: %v", err)
	}
	for _, l := range mqls {
		if _, err := a.flow.Reassign(ctx, l.ID, "tanaka", "test"); err != nil {
			t.Fatal(err)
		}
	}

	br := newBrowser(t, base)
	br.step("log in in Japanese",
		chromedp.Navigate(base+"/queue"),
		chromedp.WaitVisible(`input[name=name]`),
		// Switch the login page to Japanese; the choice is remembered.
		chromedp.Click(`form.lang button[value=ja]`),
		chromedp.WaitVisible(`html[lang=ja] input[name=name]`),
		chromedp.SendKeys(`input[name=name]`, "tanaka"),
		chromedp.SendKeys(`input[name=password]`, "tanaka-password-1"),
		chromedp.Submit(`input[name=password]`),
		chromedp.WaitVisible(`table.queue tbody tr[data-href]`))
	title := br.text(`header.top h1`)
	// Keyboard navigation: j selects the first row, Enter opens it.
	br.step("j", chromedp.KeyEvent("j"), chromedp.WaitVisible(`table.queue tbody tr.sel`))
	selected := br.attr(`table.queue tbody tr.sel`, "data-href")
	br.step("open the lead", chromedp.KeyEvent("\r"), chromedp.WaitVisible(`#score`))
	br.step("accept", chromedp.Click(`form[action$="/accept"] button`), chromedp.WaitVisible(`.flash.ok`))
	flash := br.text(`.flash.ok`)
	br.step("dashboard", chromedp.Navigate(base+"/?days=365"), chromedp.WaitVisible(`.chart canvas`),
		chromedp.Sleep(1200*time.Millisecond)) // let the chart animation finish
	canvases := br.eval(`document.querySelectorAll(".chart canvas").length`)
	lang := br.attr(`html`, "lang")
	if title != "マイキュー" || lang != "ja" {
		t.Errorf("queue title %q, lang %q: want Japanese", title, lang)
	}
	if want := "/leads/" + strconv.FormatInt(mqls[0].ID, 10); selected != want {
		t.Errorf("j selected %q, want %q (the queue's first lead)", selected, want)
	}
	if !strings.Contains(flash, "受け入れ") {
		t.Errorf("flash after accept: %q", flash)
	}
	if canvases != "2" {
		t.Errorf("dashboard drew %s charts, want 2", canvases)
	}
	l, err := a.db.FindLead(ctx, mqls[0].ID)
	if err != nil || l.Stage != leadflow.StageSAL {
		t.Errorf("lead after accept in the browser: %v %v", l.Stage, err)
	}
}
