package e2e_test

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// tab is one page in a browser context of its own: to the app, one person's
// browser window, with its own cookies.
//
// From the moment it opens, the tab records every fault a person would not
// see but should never happen: a console message, an uncaught exception, a
// browser log entry at warning or error level (which is where Chromium
// reports Content-Security-Policy violations and failed loads), a failed or
// blocked request, and a request to an origin other than the app's. When
// the test ends, any fault it did not take with [tab.takeFaults] fails it.
type tab struct {
	t      *testing.T
	b      *browser
	origin string // the app's origin, as http://127.0.0.1:PORT
	ctx    context.Context
	cancel context.CancelFunc
	closed sync.Once

	mu      sync.Mutex
	allowed []string                     // origins other than origin pages may load from
	urls    map[network.RequestID]string // URL of each request, for failure reports
	faults  []string
}

// newTab opens a tab in a new browser context, for pages of origin.
func (b *browser) newTab(t *testing.T, origin string) *tab {
	t.Helper()
	tb := &tab{t: t, b: b, origin: origin, urls: map[network.RequestID]string{}}
	tb.ctx, tb.cancel = chromedp.NewContext(b.ctx,
		chromedp.WithNewBrowserContext(),
		// A listener given here sees the tab's events from its first one.
		chromedp.WithListener(tb.record),
	)
	t.Cleanup(tb.close)
	// The first run opens the tab and ties it to the context it is given,
	// so, as for the browser, the wait is bounded outside it.
	opened := make(chan error, 1)
	go func() { opened <- chromedp.Do(tb.ctx) }()
	select {
	case err := <-opened:
		if err != nil {
			t.Fatalf("open tab: %v", err)
		}
	case <-time.After(stepTimeout):
		t.Fatalf("open tab: no answer after %v", stepTimeout)
	}
	// chromedp enables the log domain too, but the faults depend on it.
	run(tb, "enable the browser log", func(ctx context.Context, t *chromedp.Target) (cdp.Empty, error) {
		return cdp.Call(ctx, t, log.Enable, cdp.Empty{})
	})
	// Every tab behaves as the window in front, with the keyboard focus,
	// however many windows the tests have open at once.
	run(tb, "focus the window", func(ctx context.Context, t *chromedp.Target) (cdp.Empty, error) {
		return cdp.Call(ctx, t, emulation.SetFocusEmulationEnabled, emulation.SetFocusEmulationEnabledParams{Enabled: true})
	})
	return tb
}

// close checks the tab's faults and closes it, dropping its browser
// context and so its cookies. It is safe to call more than once.
func (tb *tab) close() {
	tb.closed.Do(func() {
		// A round trip lets every event sent before it reach record.
		ctx, cancel := context.WithTimeout(tb.ctx, stepTimeout)
		_, err := chromedp.Run(ctx, chromedp.Evaluate[int]("1"))
		cancel()
		if err != nil && !tb.t.Failed() {
			tb.t.Errorf("last look at the tab: %v", err)
		}
		if f := tb.takeFaults(); len(f) > 0 {
			tb.t.Errorf("the browser reported %d faults; want none:\n\t%s", len(f), strings.Join(f, "\n\t"))
		}
		tb.cancel()
	})
}

// allow lets pages in this tab load from origin too.
func (tb *tab) allow(origin string) {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	tb.allowed = append(tb.allowed, origin)
}

// takeFaults returns the faults recorded so far and forgets them.
func (tb *tab) takeFaults() []string {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	f := tb.faults
	tb.faults = nil
	return f
}

// expectFaults takes the faults recorded so far and fails the test unless
// they are exactly want, for a step that is meant to cause them.
func (tb *tab) expectFaults(what string, want ...string) {
	tb.t.Helper()
	// A round trip lets every event sent before it reach record.
	eval[int](tb, "1")
	if got := tb.takeFaults(); !slices.Equal(got, want) {
		tb.t.Errorf("faults after %s = %q\n\twant %q", what, got, want)
	}
}

// httpErrorLogged is the browser's log entry for a page served with an
// HTTP error status: expected when the app answers a refused form.
func httpErrorLogged(url string, status int) string {
	return fmt.Sprintf("browser log (network error): Failed to load resource: the server responded with a status of %d (%s) [%s]",
		status, http.StatusText(status), url)
}

// record is the tab's event listener. It runs in the loop that reads the
// tab's messages, so it must be quick and send no command.
func (tb *tab) record(ev any) {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	switch ev := ev.(type) {
	case *network.EventRequestWillBeSent:
		u := ev.Request.URL
		tb.urls[ev.RequestID] = u
		if !tb.mayLoad(u) {
			tb.faults = append(tb.faults, "request to another origin: "+u)
		}
	case *network.EventLoadingFailed:
		f := "request failed: " + tb.urls[ev.RequestID]
		if ev.ErrorText != "" {
			f += ": " + ev.ErrorText
		}
		if ev.BlockedReason != "" {
			f += " (blocked: " + string(ev.BlockedReason) + ")"
		}
		tb.faults = append(tb.faults, f)
	case *runtime.EventConsoleAPICalled:
		// The app has no script at all, so anything here is a fault.
		var args []string
		for _, a := range ev.Args {
			args = append(args, remoteText(a))
		}
		tb.faults = append(tb.faults, fmt.Sprintf("console.%s: %s", ev.Type, strings.Join(args, " ")))
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		text := d.Text
		if d.Exception != nil {
			text += " " + remoteText(d.Exception)
		}
		tb.faults = append(tb.faults, fmt.Sprintf("uncaught exception at %s:%d: %s", d.URL, d.LineNumber+1, text))
	case *log.EventEntryAdded:
		e := ev.Entry
		if e.Level == log.EntryLevelError || e.Level == log.EntryLevelWarning {
			tb.faults = append(tb.faults, fmt.Sprintf("browser log (%s %s): %s [%s]", e.Source, e.Level, e.Text, e.URL))
		}
	}
}

// mayLoad reports whether a page of the tab may load u: only from the
// app's origin and the ones allowed, or an inline data: URL.
func (tb *tab) mayLoad(u string) bool {
	p, err := url.Parse(u)
	if err != nil {
		return false
	}
	if p.Scheme == "data" || u == "about:blank" {
		return true
	}
	o := p.Scheme + "://" + p.Host
	return o == tb.origin || slices.Contains(tb.allowed, o)
}

// remoteText shows a value from the page as the console would.
func remoteText(o *runtime.RemoteObject) string {
	switch {
	case o.Description != "":
		return o.Description
	case len(o.Value) > 0:
		var v any
		if json.Unmarshal(o.Value, &v) != nil {
			return string(o.Value)
		}
		return fmt.Sprint(v)
	}
	return string(o.Type)
}

// run runs one step, bounded by stepTimeout, and fails the test on error.
func run[T any](tb *tab, what string, a chromedp.Action[T]) T {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		tb.t.Fatalf("%s: %v", what, err)
	}
	return v
}

// do runs actions that return nothing as one step.
func (tb *tab) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	run(tb, what, chromedp.Steps(actions...))
}

// url resolves a path on the app; a full URL stays as it is.
func (tb *tab) url(pathOrURL string) string {
	if strings.HasPrefix(pathOrURL, "/") {
		return tb.origin + pathOrURL
	}
	return pathOrURL
}

// open loads a page as if typed in the address bar and returns the HTTP
// status of the page shown, after any redirect.
func (tb *tab) open(pathOrURL string) int64 {
	tb.t.Helper()
	u := tb.url(pathOrURL)
	return status(run(tb, "open "+u, chromedp.NavigateResponse(u)))
}

// click clicks the first element matching the CSS selector, as a mouse
// does, and waits for the page that follows; it returns that page's status.
func (tb *tab) click(sel string) int64 {
	tb.t.Helper()
	return tb.navigate("click "+sel, chromedp.Click(chromedp.CSS(sel)))
}

// navigate runs actions that load a page and returns its status.
func (tb *tab) navigate(what string, actions ...chromedp.Action[chromedp.Void]) int64 {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, stepTimeout)
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, actions...)
	if err != nil {
		tb.t.Fatalf("%s: %v", what, err)
	}
	return status(resp)
}

func status(r *network.Response) int64 {
	if r == nil {
		return 0
	}
	return r.Status
}

// typeInto clicks into the field and enters text at the caret, all at
// once, as an on-screen keyboard or a password manager does. The keyboard
// itself is tested in TestKeyboardOnly; typing key by key everywhere would
// make the tests slow.
func (tb *tab) typeInto(sel, text string) {
	tb.t.Helper()
	tb.do("type into "+sel, clickOn(sel), func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := cdp.Call(ctx, t, input.InsertText, input.InsertTextParams{Text: text})
		return chromedp.Void{}, err
	})
}

// value returns the current value of a form field.
func (tb *tab) value(sel string) string {
	tb.t.Helper()
	return run(tb, "value of "+sel, chromedp.Value(chromedp.CSS(sel)))
}

// eval evaluates a JavaScript expression in the page.
func eval[T any](tb *tab, js string) T {
	tb.t.Helper()
	return run(tb, "evaluate "+firstLine(js), chromedp.Evaluate[T](js))
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}

// The navbar as a logged-out and a logged-in person see it.
var (
	navOut = []string{"Home", "Login", "Sign Up"}
	navIn  = []string{"Home", "Profile", "Account", "Logout"}
)

// view is what a person sees of a page.
type view struct {
	Path    string   // path and query in the address bar
	Title   string   // the browser tab's title
	Heading string   // the page's title heading
	Alerts  []string // texts of the role="alert" messages
	Nav     []string // texts of the visible navbar links and buttons
}

func (v view) equal(w view) bool {
	return v.Path == w.Path && v.Title == w.Title && v.Heading == w.Heading &&
		slices.Equal(v.Alerts, w.Alerts) && slices.Equal(v.Nav, w.Nav)
}

func (v view) String() string {
	return fmt.Sprintf("{path %q, title %q, heading %q, alerts %q, nav %q}", v.Path, v.Title, v.Heading, v.Alerts, v.Nav)
}

// pageJS reads a page's view, and the faults in its markup that every page
// must be free of.
//
//go:embed testdata/page.js
var pageJS string

// look returns what the page shows and fails the test on a markup fault:
// a form field without a <label for>, a notification without
// role="alert", a page wider than the window.
func (tb *tab) look() view {
	tb.t.Helper()
	got := eval[struct {
		Path    string   `json:"path"`
		Title   string   `json:"title"`
		Heading string   `json:"heading"`
		Alerts  []string `json:"alerts"`
		Nav     []string `json:"nav"`
		Faults  []string `json:"faults"`
	}](tb, pageJS)
	for _, f := range got.Faults {
		tb.t.Errorf("page %s: %s", got.Path, f)
	}
	return view{Path: got.Path, Title: got.Title, Heading: got.Heading, Alerts: got.Alerts, Nav: got.Nav}
}

// expect fails the test unless the page shows want.
func (tb *tab) expect(want view) {
	tb.t.Helper()
	if got := tb.look(); !got.equal(want) {
		tb.t.Errorf("page = %v\n\twant %v", got, want)
	}
}

// wantFocus fails the test unless the element with the keyboard focus is
// the one with id want, or, for an element without an id, its tag and
// text, as "BUTTON Sign Up".
func (tb *tab) wantFocus(want string) {
	tb.t.Helper()
	got := eval[string](tb, `(() => {
		const e = document.activeElement;
		return e.id || e.tagName + " " + e.textContent.trim();
	})()`)
	if got != want {
		tb.t.Errorf("page %s: focused element = %q; want %q", tb.look().Path, got, want)
	}
}

// cookies returns the cookies the tab holds for the app.
func (tb *tab) cookies() []*network.Cookie {
	tb.t.Helper()
	res := run(tb, "read cookies", func(ctx context.Context, t *chromedp.Target) (network.GetCookiesResult, error) {
		return cdp.Call(ctx, t, network.GetCookies, network.GetCookiesParams{URLs: []string{tb.origin + "/"}})
	})
	return res.Cookies
}

// restart does to the app's cookies what quitting the browser and starting
// it again does: session cookies are gone, persistent ones stay. It closes
// the tab and returns a new one in a fresh browser context that holds only
// the persistent cookies of this one.
func (tb *tab) restart() *tab {
	tb.t.Helper()
	var kept []*network.Cookie
	for _, c := range tb.cookies() {
		if !c.Session {
			kept = append(kept, c)
		}
	}
	tb.close()
	nt := tb.b.newTab(tb.t, tb.origin)
	for _, c := range kept {
		run(nt, "set cookie "+c.Name, func(ctx context.Context, t *chromedp.Target) (cdp.Empty, error) {
			return cdp.Call(ctx, t, network.SetCookie, network.SetCookieParams{
				Name: c.Name, Value: c.Value,
				URL: tb.origin + c.Path, Path: c.Path,
				Secure: new(c.Secure), HTTPOnly: new(c.HTTPOnly), SameSite: c.SameSite,
				Expires: cdp.TimeSinceEpoch(c.Expires),
			})
		})
	}
	return nt
}

// screenshot saves a full-page PNG of the page as NAME.png in the folder
// named by LATCH_SCREENSHOTS_DIR (a relative one from the repository's
// root); without it, it does nothing.
func (tb *tab) screenshot(name string) {
	tb.t.Helper()
	dir := os.Getenv("LATCH_SCREENSHOTS_DIR")
	if dir == "" {
		return
	}
	// go test runs the tests in e2e/; a relative folder is meant from the
	// repository's root, where the command is typed.
	if !filepath.IsAbs(dir) {
		dir = filepath.Join("..", dir)
	}
	png := run(tb, "screenshot "+name, func(ctx context.Context, t *chromedp.Target) ([]byte, error) {
		m, err := cdp.Call(ctx, t, page.GetLayoutMetrics, cdp.Empty{})
		if err != nil {
			return nil, err
		}
		if m.CSSContentSize == nil {
			return nil, errors.New("no content size")
		}
		r, err := cdp.Call(ctx, t, page.CaptureScreenshot, page.CaptureScreenshotParams{
			Format:                page.CaptureScreenshotFormatPng,
			CaptureBeyondViewport: new(true),
			Clip:                  &page.Viewport{Width: m.CSSContentSize.Width, Height: m.CSSContentSize.Height, Scale: 1},
		})
		return r.Data, err
	})
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		tb.t.Fatal(err)
	}
}

// clickOn clicks the first element matching the CSS selector, for a click
// that loads no page.
func clickOn(sel string) chromedp.Action[chromedp.Void] {
	return chromedp.Click(chromedp.CSS(sel))
}
