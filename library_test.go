package latch_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchauth/latch"
)

// bearer is a RequestLoader that knows one API key per user.
func bearer(r *http.Request) (string, error) {
	key, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return "", nil
	}
	switch key {
	case "key-1":
		return "1", nil
	case "key-gone":
		return "99", nil // a key whose user was deleted
	case "key-broken":
		return "", errors.New("key table is down")
	}
	return "", nil
}

func TestRequestLoaderPassesGuards(t *testing.T) {
	h := newHarness(t)
	h.m.RequestLoader = bearer
	b := h.browser()
	tests := []struct {
		path, auth string
		status     int
		body       string
	}{
		{"/private", "Bearer key-1", 200, "Anthony fresh=false"},
		{"/source", "Bearer key-1", 200, "Anthony fresh=false source=request"},
		{"/api/me", "Bearer key-1", 200, "Anthony fresh=false source=request"},
		{"/api/me", "Bearer wrong", 401, `{"error":"authentication required"}`},
		{"/api/me", "Bearer key-gone", 401, `{"error":"authentication required"}`},
		{"/api/me", "", 401, `{"error":"authentication required"}`},
		{"/api/me", "Bearer key-broken", 503, "temporarily unavailable"},
		{"/api/fresh", "Bearer key-1", 401, `{"error":"authentication required"}`},
		{"/source", "Bearer key-broken", 200, "error: latch: find the user of the request: key table is down"},
		{"/public", "Bearer key-broken", 200, "public"},
	}
	for _, tt := range tests {
		resp, body := h.do(b, "GET", tt.path, nil, "Authorization", tt.auth)
		if resp.StatusCode != tt.status || !strings.Contains(body, tt.body) {
			t.Errorf("GET %s with %q = %d %q; want %d %q", tt.path, tt.auth, resp.StatusCode, body, tt.status, tt.body)
		}
	}
}

func TestRequestLoaderIsNotAskedWithASession(t *testing.T) {
	h := newHarness(t)
	asked := 0
	h.m.RequestLoader = func(r *http.Request) (string, error) {
		h.mu.Lock()
		asked++
		h.mu.Unlock()
		return bearer(r)
	}
	b := h.browser()
	h.do(b, "POST", "/login", url.Values{"user": {"2"}})
	if _, body := h.do(b, "GET", "/source", nil, "Authorization", "Bearer key-1"); body != "Bea fresh=true source=session" {
		t.Errorf("GET /source with a session and a key = %q; want the session's user", body)
	}
	h.do(b, "GET", "/public", nil, "Authorization", "Bearer key-1")
	h.mu.Lock()
	defer h.mu.Unlock()
	if asked != 0 {
		t.Errorf("RequestLoader asked %d times; want 0 with a session or without Current", asked)
	}
}

func TestDenialHandlers(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	// The default guesses from Accept: "*/*" gets the login page.
	if resp, _ := h.do(b, "GET", "/private", nil, "Accept", "*/*"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("GET /private with Accept */* = %d; want 303 by default", resp.StatusCode)
	}
	// A route's own denial wins over the default, whatever Accept says.
	for _, accept := range []string{"*/*", "text/html", ""} {
		resp, body := h.do(b, "GET", "/api/me", nil, "Accept", accept)
		if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") != `Bearer realm="test"` ||
			resp.Header.Get("Content-Type") != "application/json" || resp.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("GET /api/me with Accept %q = %d %q %v; want 401 JSON with WWW-Authenticate", accept, resp.StatusCode, body, resp.Header)
		}
	}
	// Unauthorized and NeedsRefresh replace the default everywhere else.
	h.m.Unauthorized = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "who are you", http.StatusTeapot) })
	h.m.NeedsRefresh = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "type it again", http.StatusForbidden) })
	if resp, body := h.do(b, "GET", "/fresh", nil); resp.StatusCode != http.StatusTeapot || !strings.Contains(body, "who are you") {
		t.Errorf("anonymous GET /fresh = %d %q; want Unauthorized's answer", resp.StatusCode, body)
	}
	resp, _ := h.do(b, "POST", "/login", url.Values{"user": {"1"}, "remember": {"on"}})
	rb := h.restart(resp.Cookies()...)
	if resp, body := h.do(rb, "GET", "/fresh", nil); resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "type it again") {
		t.Errorf("remembered GET /fresh = %d %q; want NeedsRefresh's answer", resp.StatusCode, body)
	}
	if resp, _ := h.do(rb, "GET", "/api/fresh", nil); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("remembered GET /api/fresh = %d; want the route's 401", resp.StatusCode)
	}
}

func TestCurrentSeesLogInAndLogOutOfTheSameRequest(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	if _, body := h.do(b, "POST", "/login-and-show", url.Values{"user": {"1"}}); body != "Anthony fresh=true source=session" {
		t.Errorf("Current after LogIn in the request = %q; want Anthony", body)
	}
	if _, body := h.do(b, "POST", "/login-and-show", url.Values{"user": {"2"}}); body != "Bea fresh=true source=session" {
		t.Errorf("Current after LogIn as another user = %q; want Bea", body)
	}
	if _, body := h.do(b, "POST", "/logout-and-show", nil); body != "2 then anonymous" {
		t.Errorf("Current after LogOut in the request = %q; want 2 then anonymous", body)
	}
	if got := h.whoIs(b); got != "anonymous" {
		t.Errorf("after LogOut, whoIs = %q; want anonymous", got)
	}
	h.m.RequestLoader = bearer
	if _, body := h.do(b, "POST", "/logout-and-show", nil, "Authorization", "Bearer key-1"); body != "1 then anonymous" {
		t.Errorf("Current after LogOut of a request-loaded user = %q; want 1 then anonymous", body)
	}
}

func TestUserIsLoadedLazily(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	h.do(b, "POST", "/login", url.Values{"user": {"1"}})
	h.mu.Lock()
	h.loads = 0
	h.loadErr = errors.New("users table is down")
	h.mu.Unlock()
	if resp, body := h.do(b, "GET", "/public", nil); resp.StatusCode != 200 || body != "public" || h.loadCount() != 0 {
		t.Errorf("GET /public with a failing loader = %d %q after %d loads; want 200 public, no load", resp.StatusCode, body, h.loadCount())
	}
	if resp, _ := h.do(b, "GET", "/private", nil); resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("GET /private with a failing loader = %d; want 503 from ErrorHandler", resp.StatusCode)
	}
	if _, body := h.do(b, "GET", "/source", nil); !strings.Contains(body, "users table is down") {
		t.Errorf("Lookup with a failing loader = %q; want its error", body)
	}
	if got := h.whoIs(b); got != "anonymous" {
		t.Errorf("Current with a failing loader = %q; want anonymous", got)
	}
	h.mu.Lock()
	h.loadErr = nil
	h.loads = 0
	h.mu.Unlock()
	if got := h.whoIs(b); got != "Anthony fresh=true" || h.loadCount() != 1 {
		t.Errorf("whoIs after the loader recovers = %q after %d loads; want Anthony after 1", got, h.loadCount())
	}
	// A user deleted meanwhile is anonymous to the guards, and the session
	// ends.
	h.mu.Lock()
	delete(h.users, "1")
	h.mu.Unlock()
	if resp, _ := h.do(b, "GET", "/private", nil); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("GET /private for a deleted user = %d; want 303 to login", resp.StatusCode)
	}
	if ss, _ := h.m.Sessions(context.Background(), "1"); len(ss) != 0 {
		t.Errorf("sessions of a deleted user = %d; want 0", len(ss))
	}
}

// loadCount returns how many times the loader ran.
func (h *harness) loadCount() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.loads
}

func TestLogInOptions(t *testing.T) {
	h := newHarness(t)
	login := func(opts latch.LoginOptions) latch.SessionInfo {
		t.Helper()
		m := h.m
		rec := httptest.NewRecorder()
		if err := m.LogIn(rec, httptest.NewRequest("POST", "/login", nil), "2", opts); err != nil {
			t.Fatalf("LogIn(%+v) = %v", opts, err)
		}
		ss, err := m.Sessions(context.Background(), "2")
		if err != nil || len(ss) == 0 {
			t.Fatalf("Sessions(2) = %d, %v; want the new one", len(ss), err)
		}
		return ss[0]
	}
	tests := []struct {
		opts    latch.LoginOptions
		expires time.Duration
		fresh   bool
	}{
		{latch.LoginOptions{}, 24 * time.Hour, true},
		{latch.LoginOptions{Remember: true}, 30 * 24 * time.Hour, true},
		{latch.LoginOptions{Remember: true, Duration: 7 * 24 * time.Hour}, 7 * 24 * time.Hour, true},
		{latch.LoginOptions{Duration: time.Hour, NotFresh: true}, time.Hour, false},
	}
	for _, tt := range tests {
		h.clock.Add(time.Minute) // Sessions lists the newest first
		now := h.clock.Now()
		s := login(tt.opts)
		if got := s.ExpiresAt.Sub(now); got != tt.expires || s.Fresh != tt.fresh || s.Remember != tt.opts.Remember {
			t.Errorf("LogIn(%+v): expires in %v, fresh %v, remember %v; want %v, %v, %v", tt.opts, got, s.Fresh, s.Remember, tt.expires, tt.fresh, tt.opts.Remember)
		}
	}
}

func TestEvents(t *testing.T) {
	h := newHarness(t)
	var mu sync.Mutex
	var got []string
	h.m.OnEvent = func(r *http.Request, e latch.Event) {
		mu.Lock()
		got = append(got, e.Kind.String()+" "+e.UserID+" "+e.Reason)
		mu.Unlock()
	}
	h.m.RequestLoader = bearer
	b := h.browser()
	h.do(b, "GET", "/private", nil)
	resp, _ := h.do(b, "POST", "/login", url.Values{"user": {"1"}, "remember": {"on"}})
	h.do(b, "POST", "/logout", nil)
	rb := h.restart(resp.Cookies()...)
	h.do(rb, "POST", "/login", url.Values{"user": {"2"}, "remember": {"on"}})
	h.clock.Add(3 * time.Hour) // idle: the next request restores it
	h.do(rb, "GET", "/fresh", nil)
	h.do(h.browser(), "GET", "/private", nil, "Authorization", "Bearer key-1")
	want := []string{
		"denied  login required",
		"logged in 1 ",
		"logged out 1 ",
		"logged in 2 ",
		"remembered 2 ",
		"denied 2 fresh login required",
		"loaded from request 1 ",
	}
	mu.Lock()
	defer mu.Unlock()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("events = %q; want %q", got, want)
	}
}

func TestSessionInfoHasNoTokenHashes(t *testing.T) {
	typ := reflect.TypeFor[latch.SessionInfo]()
	for i := range typ.NumField() {
		if f := typ.Field(i); strings.Contains(f.Name, "Hash") || f.Type == reflect.TypeFor[[]byte]() {
			t.Errorf("SessionInfo has field %s %v; want no token hash", f.Name, f.Type)
		}
	}
	h := newHarness(t)
	h.do(h.browser(), "POST", "/login", url.Values{"user": {"1"}, "remember": {"on"}})
	recent, _, err := h.m.RecentSessions(context.Background(), "1", 10)
	if err != nil || len(recent) != 1 || !recent[0].Remember || recent[0].UserID != "1" || recent[0].ID == "" {
		t.Errorf("RecentSessions(1) = %+v, %v; want the one remembered session", recent, err)
	}
}

const (
	firefoxLinux  = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
	firefoxLinux2 = "Mozilla/5.0 (X11; Linux x86_64; rv:134.0) Gecko/20100101 Firefox/134.0"
	chromeWindows = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
	safariIPhone  = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1"
	safariMac     = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15"
)

func TestProtection(t *testing.T) {
	tests := []struct {
		protection latch.Protection
		from, to   string
		want       string
	}{
		{latch.ProtectionOff, firefoxLinux, chromeWindows, "Anthony fresh=true"},
		{latch.ProtectionBasic, firefoxLinux, firefoxLinux2, "Anthony fresh=true"},
		{latch.ProtectionBasic, firefoxLinux, chromeWindows, "Anthony fresh=false"},
		{latch.ProtectionBasic, safariMac, safariIPhone, "Anthony fresh=false"},
		{latch.ProtectionStrong, firefoxLinux, firefoxLinux2, "Anthony fresh=true"},
		{latch.ProtectionStrong, firefoxLinux, chromeWindows, "anonymous"},
		{latch.ProtectionStrong, safariIPhone, safariMac, "anonymous"},
	}
	for _, tt := range tests {
		h := newHarness(t)
		h.m.Protection = tt.protection
		b := h.browser()
		h.do(b, "POST", "/login", url.Values{"user": {"1"}}, "User-Agent", tt.from)
		_, got := h.do(b, "GET", "/whoami", nil, "User-Agent", tt.to)
		if got != tt.want {
			t.Errorf("protection %d, login from %q, request from %q: %q; want %q", tt.protection, tt.from, tt.to, got, tt.want)
		}
		// The browser that logged in keeps its login, unless Strong ended it.
		want := "Anthony fresh=true"
		if tt.want == "anonymous" {
			want = "anonymous"
		}
		if _, got := h.do(b, "GET", "/whoami", nil, "User-Agent", tt.from); got != want {
			t.Errorf("protection %d: then from %q: %q; want %q", tt.protection, tt.from, got, want)
		}
	}
}

func TestStrongProtectionRefusesRememberCookieElsewhere(t *testing.T) {
	h := newHarness(t)
	h.m.Protection = latch.ProtectionStrong
	resp, _ := h.do(h.browser(), "POST", "/login", url.Values{"user": {"1"}, "remember": {"on"}}, "User-Agent", firefoxLinux)
	var remember *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "latch_remember" {
			remember = c
		}
	}
	if _, got := h.do(h.withCookies(remember), "GET", "/whoami", nil, "User-Agent", chromeWindows); got != "anonymous" {
		t.Errorf("remember-me cookie from another browser = %q; want anonymous", got)
	}
	if _, got := h.do(h.withCookies(remember), "GET", "/whoami", nil, "User-Agent", firefoxLinux); got != "anonymous" {
		t.Errorf("remember-me cookie back in its browser after theft = %q; want anonymous", got)
	}
}

func TestCookieNames(t *testing.T) {
	h := newHarness(t)
	if s, r := h.m.CookieNames(); s != "latch_session" || r != "latch_remember" {
		t.Errorf("CookieNames() = %q, %q; want latch_session, latch_remember", s, r)
	}
	h.m.Secure = true
	if s, r := h.m.CookieNames(); s != "__Host-latch_session" || r != "__Host-latch_remember" {
		t.Errorf("CookieNames() with Secure = %q, %q; want __Host- prefixed", s, r)
	}
}

func TestOnEventMayAskCurrent(t *testing.T) {
	h := newHarness(t)
	h.m.RequestLoader = bearer
	var mu sync.Mutex
	var names []string
	h.m.OnEvent = func(r *http.Request, e latch.Event) {
		name := h.m.Current(r).User
		mu.Lock()
		names = append(names, e.Kind.String()+" "+name)
		mu.Unlock()
	}
	if _, body := h.do(h.browser(), "GET", "/private", nil, "Authorization", "Bearer key-1"); body != "Anthony fresh=false" {
		t.Errorf("GET /private with a key = %q; want Anthony", body)
	}
	h.do(h.browser(), "POST", "/login-and-show", url.Values{"user": {"2"}})
	mu.Lock()
	defer mu.Unlock()
	if want := []string{"loaded from request Anthony", "logged in Bea"}; !reflect.DeepEqual(names, want) {
		t.Errorf("Current inside OnEvent = %q; want %q", names, want)
	}
}
