package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/leadflow/leadflow/internal/store/storetest"
)

// browser is a headless Chromium driven by a test. Every step fails the
// test on a console error, an uncaught exception or a Content-Security-
// Policy violation in any page it visited, and with LEADFLOW_SCREENSHOTS
// set it keeps a PNG of the page after each step, in DIR/<test name>/.
type browser struct {
	t    *testing.T
	ctx  context.Context
	base string
	dir  string // screenshots; "" keeps none
	n    int    // steps taken

	mu       sync.Mutex
	problems []string // console errors, exceptions, CSP violations not yet reported
	// allow are network errors expected by the test (an error page it
	// asked for), as regular expressions on "status URL".
	allow []*regexp.Regexp
}

// cspProbe reports CSP violations on the console, where the listener
// sees them, in case the browser's own report is only a warning. Scripts
// added through the protocol are not subject to the page's CSP.
const cspProbe = `document.addEventListener("securitypolicyviolation", e =>
  console.error("CSP violation: " + e.violatedDirective + " blocked " + (e.blockedURI || "inline") + " at " + e.sourceFile + ":" + e.lineNumber));`

// newBrowser starts Chromium for the test (skipped without it, unless
// LEADFLOW_TEST_STRICT=1); the browser stops at the end of the test.
func newBrowser(t *testing.T, base string) *browser {
	t.Helper()
	chrome := requireChromium(t)
	b := &browser{t: t, base: base}
	if d := os.Getenv("LEADFLOW_SCREENSHOTS"); d != "" {
		b.dir = filepath.Join(d, strings.ReplaceAll(t.Name(), "/", "_"))
		if err := os.MkdirAll(b.dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chrome), chromedp.NoSandbox, chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-component-update", true), chromedp.WindowSize(1400, 1000),
		chromedp.Flag("lang", "en-US"))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	ctx, cancel := context.WithTimeout(bctx, 3*time.Minute)
	t.Cleanup(func() { cancel(); cancelBrowser(); cancelAlloc() })
	b.ctx = ctx
	// Listen sees each event before the command that follows it returns,
	// so a step's errors are known when the step ends.
	if err := chromedp.Listen(ctx, b.listen); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument,
		page.AddScriptToEvaluateOnNewDocumentParams{Source: cspProbe}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.check)
	return b
}

// requireChromium returns the path of Chromium, or skips the test
// without it (fails it with LEADFLOW_TEST_STRICT=1).
func requireChromium(t *testing.T) string {
	t.Helper()
	chrome := chromiumPath()
	if chrome == "" {
		if storetest.Strict() {
			t.Fatal("no chromium and LEADFLOW_TEST_STRICT=1: install it (apt-get install chromium)")
		}
		t.Skip("chromium is not installed")
	}
	return chrome
}

// listen records the problems the pages report; it runs on the browser's
// read loop, so it only appends.
func (b *browser) listen(ev any) {
	var p string
	switch e := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		if e.Type == runtime.ConsoleAPICalledTypeError || e.Type == runtime.ConsoleAPICalledTypeAssert {
			var args []string
			for _, a := range e.Args {
				var str string
				if len(a.Value) > 0 && json.Unmarshal(a.Value, &str) == nil {
					args = append(args, str)
				} else if len(a.Value) > 0 {
					args = append(args, string(a.Value))
				} else {
					args = append(args, a.Description)
				}
			}
			p = "console." + string(e.Type) + ": " + strings.Join(args, " ")
		}
	case *runtime.EventExceptionThrown:
		d := e.ExceptionDetails
		p = fmt.Sprintf("uncaught exception: %s", d.Text)
		if d.Exception != nil {
			p += " " + d.Exception.Description
		}
		p += fmt.Sprintf(" at %s:%d", d.URL, d.LineNumber+1)
	case *log.EventEntryAdded:
		en := e.Entry
		if en.Level == log.EntryLevelError || (en.Source == log.EntrySourceSecurity && en.Level != log.EntryLevelVerbose) {
			p = fmt.Sprintf("browser log (%s): %s %s", en.Source, en.Text, en.URL)
		}
	}
	if p == "" {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, re := range b.allow {
		if re.MatchString(p) {
			return
		}
	}
	b.problems = append(b.problems, p)
}

// expectHTTPError lets the next pages answer a URL matching pattern with
// an error status (a form the test submits with bad input): Chromium logs
// "Failed to load resource" for it, which is not a page error.
func (b *browser) expectHTTPError(pattern string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.allow = append(b.allow, regexp.MustCompile(`^browser log \(network\): Failed to load resource: the server responded with a status of \d+ .*`+pattern))
}

// check fails the test on the problems reported since the last check.
func (b *browser) check() {
	b.t.Helper()
	b.mu.Lock()
	ps := b.problems
	b.problems = nil
	b.mu.Unlock()
	for _, p := range ps {
		b.t.Errorf("browser, after step %d: %s", b.n, p)
	}
}

var nonWord = regexp.MustCompile(`[^\p{L}\p{N}]+`)

// step runs the actions, fails the test on an error of theirs or of the
// page, and keeps a screenshot.
func (b *browser) step(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	b.n++
	if err := chromedp.Do(b.ctx, actions...); err != nil {
		b.shot(what + " failed")
		b.check()
		b.t.Fatalf("browser, step %d (%s): %v", b.n, what, err)
	}
	b.check()
	b.shot(what)
}

// shot keeps a PNG of the whole page when LEADFLOW_SCREENSHOTS is set.
func (b *browser) shot(what string) {
	b.t.Helper()
	if b.dir == "" {
		return
	}
	buf, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100)) // 100: PNG
	if err != nil {
		b.t.Errorf("screenshot of %s: %v", what, err)
		return
	}
	name := fmt.Sprintf("%02d-%s.png", b.n, strings.Trim(nonWord.ReplaceAllString(strings.ToLower(what), "-"), "-"))
	if err := os.WriteFile(filepath.Join(b.dir, name), buf, 0o644); err != nil {
		b.t.Error(err)
	}
}

// text is the visible text of the first element matching sel.
func (b *browser) text(sel string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Text(sel))
	if err != nil {
		b.t.Fatalf("browser, text of %s: %v", sel, err)
	}
	return s
}

// attr is an attribute of the first element matching sel.
func (b *browser) attr(sel, name string) string {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.AttributeValue(sel, name))
	if err != nil || !v.Exists {
		b.t.Fatalf("browser, attribute %s of %s: %v", name, sel, err)
	}
	return v.Value
}

// eval is the value of a JavaScript expression, as a string.
func (b *browser) eval(expr string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`String(`+expr+`)`))
	if err != nil {
		b.t.Fatalf("browser, %s: %v", expr, err)
	}
	return s
}

// login logs in through the login page.
func (b *browser) login(name, password string) {
	b.t.Helper()
	b.step("log in as "+name,
		chromedp.Navigate(b.base+"/login"),
		chromedp.WaitVisible(`input[name=name]`),
		chromedp.SendKeys(`input[name=name]`, name),
		chromedp.SendKeys(`input[name=password]`, password),
		chromedp.Submit(`input[name=password]`),
		chromedp.WaitVisible(`header.top h1`))
}

// TestBrowserReportsPageErrors checks the checker: a page with a console
// error, an uncaught exception and an inline script its CSP forbids gives
// three problems.
func TestBrowserReportsPageErrors(t *testing.T) {
	requireChromium(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/bad.js":
			w.Header().Set("Content-Type", "text/javascript")
			fmt.Fprint(w, `console.error("logged on purpose"); throw new Error("thrown on purpose");`)
		default:
			w.Header().Set("Content-Security-Policy", "script-src 'self'")
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprint(w, `<!doctype html><link rel="icon" href="data:,"><script src="/bad.js"></script><script>document.title = "inline"</script><p>x</p>`)
		}
	}))
	defer srv.Close()
	b := newBrowser(t, srv.URL)
	if err := chromedp.Do(b.ctx, chromedp.Navigate(srv.URL+"/"), chromedp.Poll[chromedp.Void](`document.readyState === "complete"`)); err != nil {
		t.Fatal(err)
	}
	b.mu.Lock()
	got := strings.Join(b.problems, "\n")
	b.problems = nil
	b.mu.Unlock()
	for _, want := range []string{"console.error: logged on purpose", "uncaught exception", "thrown on purpose", "CSP violation"} {
		if !strings.Contains(got, want) {
			t.Errorf("problems do not include %q:\n%s", want, got)
		}
	}
}
