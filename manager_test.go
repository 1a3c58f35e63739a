package latch_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchauth/latch"
	"github.com/latchauth/latch/memstore"
)

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// failingStore wraps a store and fails lookups while broken is set. While
// stale is set, lookups return it instead: a record read just before a
// concurrent request changed it.
type failingStore struct {
	latch.SessionStore
	mu     sync.Mutex
	broken bool
	stale  *latch.Session
}

func (f *failingStore) SessionByToken(ctx context.Context, h []byte) (latch.Session, error) {
	f.mu.Lock()
	broken, stale := f.broken, f.stale
	f.mu.Unlock()
	if broken {
		return latch.Session{}, errors.New("database is down")
	}
	if stale != nil {
		return *stale, nil
	}
	return f.SessionStore.SessionByToken(ctx, h)
}

type harness struct {
	t       *testing.T
	m       *latch.Manager[string]
	store   *failingStore
	clock   *clock
	srv     *httptest.Server
	flashes []string
	mu      sync.Mutex
	users   map[string]string // id -> name
	loads   int               // calls of the loader
	loadErr error             // what the loader fails with, if set
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	h := &harness{t: t, store: &failingStore{SessionStore: &memstore.Store{}},
		clock: &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)},
		users: map[string]string{"1": "Anthony", "2": "Bea"}}
	h.m = latch.New(h.store, func(ctx context.Context, id string) (string, error) {
		h.mu.Lock()
		defer h.mu.Unlock()
		h.loads++
		if h.loadErr != nil {
			return "", h.loadErr
		}
		name, ok := h.users[id]
		if !ok {
			return "", latch.ErrUnknownUser
		}
		return name, nil
	})
	h.m.Now = h.clock.Now
	h.m.Flash = func(w http.ResponseWriter, r *http.Request, msg string) {
		h.mu.Lock()
		h.flashes = append(h.flashes, msg)
		h.mu.Unlock()
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		if err := h.m.LogIn(w, r, r.FormValue("user"), latch.LoginOptions{Remember: r.FormValue("remember") != ""}); err != nil {
			http.Error(w, err.Error(), 500)
		}
	})
	mux.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) {
		if err := h.m.LogOut(w, r); err != nil {
			http.Error(w, err.Error(), 500)
		}
	})
	mux.HandleFunc("POST /confirm", func(w http.ResponseWriter, r *http.Request) {
		if err := h.m.ConfirmLogin(w, r); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
		}
	})
	mux.Handle("GET /private", h.m.RequireLogin(http.HandlerFunc(h.whoami)))
	mux.Handle("GET /fresh", h.m.RequireFresh(http.HandlerFunc(h.whoami)))
	mux.HandleFunc("GET /whoami", h.whoami)
	mux.HandleFunc("GET /source", h.source)
	mux.Handle("GET /api/me", h.m.RequireLoginWith(http.HandlerFunc(h.source), latch.DenyJSON(`Bearer realm="test"`)))
	mux.Handle("GET /api/fresh", h.m.RequireFreshWith(http.HandlerFunc(h.source), latch.DenyJSON(`Bearer realm="test"`)))
	mux.HandleFunc("GET /public", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "public") })
	mux.HandleFunc("POST /login-and-show", func(w http.ResponseWriter, r *http.Request) {
		if err := h.m.LogIn(w, r, r.FormValue("user"), latch.LoginOptions{}); err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		h.source(w, r)
	})
	mux.HandleFunc("POST /logout-and-show", func(w http.ResponseWriter, r *http.Request) {
		before := h.m.Current(r).UserID
		if err := h.m.LogOut(w, r); err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		fmt.Fprintf(w, "%s then ", before)
		h.source(w, r)
	})
	h.srv = httptest.NewServer(h.m.Middleware(mux))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *harness) whoami(w http.ResponseWriter, r *http.Request) {
	cur := h.m.Current(r)
	if !cur.Authenticated {
		fmt.Fprint(w, "anonymous")
		return
	}
	fmt.Fprintf(w, "%s fresh=%v", cur.User, cur.Fresh)
}

// source writes who is asking and how the user was loaded.
func (h *harness) source(w http.ResponseWriter, r *http.Request) {
	cur, err := h.m.Lookup(r)
	if err != nil {
		fmt.Fprintf(w, "error: %v", err)
		return
	}
	if !cur.Authenticated {
		fmt.Fprint(w, "anonymous")
		return
	}
	fmt.Fprintf(w, "%s fresh=%v source=%s", cur.User, cur.Fresh, cur.Source)
}

// browser is a client with a cookie jar that does not follow redirects.
func (h *harness) browser() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func (h *harness) do(c *http.Client, method, path string, form url.Values, header ...string) (*http.Response, string) {
	h.t.Helper()
	req, err := http.NewRequest(method, h.srv.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		h.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func (h *harness) whoIs(c *http.Client) string {
	h.t.Helper()
	_, body := h.do(c, "GET", "/whoami", nil)
	return body
}

func cookieNamed(resp *http.Response, name string) *http.Cookie {
	for _, c := range resp.Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// withCookies returns a new browser holding the given cookies, such as
// copies an attacker replays.
func (h *harness) withCookies(cookies ...*http.Cookie) *http.Client {
	nb := h.browser()
	u, _ := url.Parse(h.srv.URL)
	nb.Jar.SetCookies(u, cookies)
	return nb
}

// restart returns a new browser holding those of the given cookies, as the
// server set them, that outlive the browser (a positive Max-Age or an
// Expires), as a browser does after it is closed and opened again.
func (h *harness) restart(set ...*http.Cookie) *http.Client {
	var persistent []*http.Cookie
	for _, c := range set {
		if c.MaxAge > 0 || (c.MaxAge == 0 && !c.Expires.IsZero()) {
			persistent = append(persistent, c)
		}
	}
	return h.withCookies(persistent...)
}

func TestRequireLoginRedirectsWithNextAndFlash(t *testing.T) {
	h := newHarness(t)
	resp, _ := h.do(h.browser(), "GET", "/private?tab=2", nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("GET /private status = %d; want 303", resp.StatusCode)
	}
	if got, want := resp.Header.Get("Location"), "/login?next="+url.QueryEscape("/private?tab=2"); got != want {
		t.Errorf("Location = %q; want %q", got, want)
	}
	if len(h.flashes) != 1 || h.flashes[0] != "Please log in to access this page." {
		t.Errorf("flashes = %q; want the login message", h.flashes)
	}
	resp, body := h.do(h.browser(), "GET", "/private", nil, "Accept", "application/json")
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "login required") {
		t.Errorf("JSON GET /private = %d %q; want 401 with an error", resp.StatusCode, body)
	}
}

func TestLogInSetsSafeSessionCookie(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	resp, _ := h.do(b, "POST", "/login", url.Values{"user": {"1"}})
	c := cookieNamed(resp, "latch_session")
	if c == nil {
		t.Fatal("LogIn set no latch_session cookie")
	}
	if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" {
		t.Errorf("session cookie = %+v; want HttpOnly, SameSite=Lax, Path=/", c)
	}
	if !c.Expires.IsZero() || c.MaxAge != 0 {
		t.Errorf("session cookie expires %v / max-age %d; want a browser-session cookie", c.Expires, c.MaxAge)
	}
	if len(c.Value) < 22 {
		t.Errorf("token %q is too short for 128 bits", c.Value)
	}
	if got := h.whoIs(b); got != "Anthony fresh=true" {
		t.Errorf("after login whoami = %q; want Anthony fresh=true", got)
	}
	if resp, body := h.do(b, "GET", "/private", nil); resp.StatusCode != 200 || body != "Anthony fresh=true" {
		t.Errorf("GET /private = %d %q; want 200", resp.StatusCode, body)
	}
}

func TestStoreKeepsOnlyTokenHashes(t *testing.T) {
	h := newHarness(t)
	resp, _ := h.do(h.browser(), "POST", "/login", url.Values{"user": {"1"}, "remember": {"1"}})
	tok := cookieNamed(resp, "latch_session").Value
	if _, err := h.store.SessionByToken(context.Background(), []byte(tok)); !errors.Is(err, latch.ErrSessionNotFound) {
		t.Errorf("store found a session by the raw token: err = %v", err)
	}
	ss, _ := h.store.UserSessions(context.Background(), "1")
	if len(ss) != 1 {
		t.Fatalf("UserSessions = %d sessions; want 1", len(ss))
	}
	if strings.Contains(string(ss[0].TokenHash), tok) || len(ss[0].TokenHash) != 32 {
		t.Errorf("stored TokenHash = %x; want a 32-byte hash", ss[0].TokenHash)
	}
}

func TestLogInRotatesPlantedSession(t *testing.T) {
	h := newHarness(t)
	attacker := h.browser()
	resp, _ := h.do(attacker, "POST", "/login", url.Values{"user": {"2"}})
	planted := cookieNamed(resp, "latch_session")

	victim := h.browser()
	u, _ := url.Parse(h.srv.URL)
	victim.Jar.SetCookies(u, []*http.Cookie{{Name: planted.Name, Value: planted.Value}})
	resp, _ = h.do(victim, "POST", "/login", url.Values{"user": {"1"}})
	if got := cookieNamed(resp, "latch_session"); got == nil || got.Value == planted.Value {
		t.Fatalf("login kept the planted token")
	}
	if got := h.whoIs(attacker); got != "anonymous" {
		t.Errorf("attacker after victim's login = %q; want anonymous", got)
	}
	if got := h.whoIs(victim); got != "Anthony fresh=true" {
		t.Errorf("victim = %q; want Anthony", got)
	}
}

func TestLogOutEndsSessionOnServer(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	resp, _ := h.do(b, "POST", "/login", url.Values{"user": {"1"}, "remember": {"on"}})
	old := resp.Cookies()
	h.do(b, "POST", "/logout", url.Values{})
	if got := h.whoIs(b); got != "anonymous" {
		t.Errorf("after logout = %q; want anonymous", got)
	}
	replay := h.withCookies(old...)
	if got := h.whoIs(replay); got != "anonymous" {
		t.Errorf("replaying the old cookies after logout = %q; want anonymous", got)
	}
}

func TestRememberMeSurvivesRestartButIsNotFresh(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	resp, _ := h.do(b, "POST", "/login", url.Values{"user": {"1"}, "remember": {"on"}})
	rc := cookieNamed(resp, "latch_remember")
	if rc == nil || rc.MaxAge < 29*24*3600 || !rc.HttpOnly {
		t.Fatalf("remember cookie = %+v; want HttpOnly with about 30 days", rc)
	}
	h.clock.Add(3 * time.Hour) // the browser was closed for a while

	nb := h.restart(rc)
	if got := h.whoIs(nb); got != "Anthony fresh=false" {
		t.Fatalf("after restart = %q; want Anthony fresh=false", got)
	}
	resp, _ = h.do(nb, "GET", "/fresh", nil)
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login?next=%2Ffresh") {
		t.Errorf("GET /fresh when not fresh = %d %q; want 303 to login", resp.StatusCode, resp.Header.Get("Location"))
	}
	if last := h.flashes[len(h.flashes)-1]; last != "Please reauthenticate to access this page." {
		t.Errorf("flash = %q; want the reauthenticate message", last)
	}
	h.do(nb, "POST", "/confirm", url.Values{})
	if resp, body := h.do(nb, "GET", "/fresh", nil); resp.StatusCode != 200 || body != "Anthony fresh=true" {
		t.Errorf("after ConfirmLogin GET /fresh = %d %q; want 200 fresh", resp.StatusCode, body)
	}
}

func TestWithoutRememberRestartLogsOut(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	resp, _ := h.do(b, "POST", "/login", url.Values{"user": {"1"}})
	if c := cookieNamed(resp, "latch_remember"); c != nil && c.MaxAge >= 0 {
		t.Errorf("login without remember set a remember cookie %+v", c)
	}
	if got := h.whoIs(h.restart(resp.Cookies()...)); got != "anonymous" {
		t.Errorf("after restart = %q; want anonymous", got)
	}
}

func TestTimeouts(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	h.do(b, "POST", "/login", url.Values{"user": {"1"}})
	h.clock.Add(h.m.IdleTimeout - time.Minute)
	if got := h.whoIs(b); got != "Anthony fresh=true" {
		t.Fatalf("just before idle timeout = %q; want logged in", got)
	}
	h.clock.Add(h.m.IdleTimeout + time.Second)
	if got := h.whoIs(b); got != "anonymous" {
		t.Errorf("after idle timeout = %q; want anonymous", got)
	}

	// Absolute lifetime, however active.
	h.do(b, "POST", "/login", url.Values{"user": {"1"}})
	for elapsed := time.Duration(0); elapsed < h.m.Lifetime; elapsed += time.Hour {
		h.clock.Add(time.Hour)
		h.whoIs(b)
	}
	if got := h.whoIs(b); got != "anonymous" {
		t.Errorf("after absolute lifetime = %q; want anonymous", got)
	}

	// A remembered login outlives the idle timeout, restored as not fresh.
	h.do(b, "POST", "/login", url.Values{"user": {"1"}, "remember": {"on"}})
	h.clock.Add(h.m.IdleTimeout + time.Minute)
	if got := h.whoIs(b); got != "Anthony fresh=false" {
		t.Errorf("remembered after idle = %q; want Anthony fresh=false", got)
	}
	h.clock.Add(h.m.RememberFor)
	if got := h.whoIs(b); got != "anonymous" {
		t.Errorf("remembered after RememberFor = %q; want anonymous", got)
	}
}

func TestMalformedCookiesAreDropped(t *testing.T) {
	h := newHarness(t)
	for _, v := range []string{"x", strings.Repeat("A", 43), strings.Repeat("é", 30), "../../etc/passwd"} {
		b := h.browser()
		u, _ := url.Parse(h.srv.URL)
		b.Jar.SetCookies(u, []*http.Cookie{{Name: "latch_session", Value: url.QueryEscape(v)}, {Name: "latch_remember", Value: url.QueryEscape(v)}})
		resp, body := h.do(b, "GET", "/whoami", nil)
		if resp.StatusCode != 200 || body != "anonymous" {
			t.Errorf("cookie %q: whoami = %d %q; want 200 anonymous", v, resp.StatusCode, body)
		}
	}
}

func TestDeletedUserIsLoggedOut(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	h.do(b, "POST", "/login", url.Values{"user": {"2"}})
	h.mu.Lock()
	delete(h.users, "2")
	h.mu.Unlock()
	if got := h.whoIs(b); got != "anonymous" {
		t.Errorf("after user deletion = %q; want anonymous", got)
	}
	if ss, _ := h.store.UserSessions(context.Background(), "2"); len(ss) != 0 {
		t.Errorf("sessions of a deleted user = %d; want 0", len(ss))
	}
}

func TestStoreFailureIs503(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	h.do(b, "POST", "/login", url.Values{"user": {"1"}})
	h.store.mu.Lock()
	h.store.broken = true
	h.store.mu.Unlock()
	resp, _ := h.do(b, "GET", "/whoami", nil)
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Errorf("with the store down: status %d Retry-After %q; want 503 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	h.store.mu.Lock()
	h.store.broken = false
	h.store.mu.Unlock()
	if got := h.whoIs(b); got != "Anthony fresh=true" {
		t.Errorf("after the store recovered = %q; want still logged in", got)
	}
}

func TestSessionsAndRevocation(t *testing.T) {
	h := newHarness(t)
	phone, laptop, other := h.browser(), h.browser(), h.browser()
	h.do(phone, "POST", "/login", url.Values{"user": {"1"}}, "User-Agent", "phone")
	h.do(laptop, "POST", "/login", url.Values{"user": {"1"}, "remember": {"on"}}, "User-Agent", "laptop")
	h.do(other, "POST", "/login", url.Values{"user": {"2"}})
	ctx := context.Background()
	ss, err := h.m.Sessions(ctx, "1")
	if err != nil || len(ss) != 2 {
		t.Fatalf("Sessions(1) = %d, %v; want 2", len(ss), err)
	}
	var phoneID string
	for _, s := range ss {
		if s.UserAgent == "phone" {
			phoneID = s.ID
		}
		if s.IP != "127.0.0.1" || s.CreatedAt.IsZero() {
			t.Errorf("session %+v lacks IP or creation time", s)
		}
	}
	if err := h.m.Revoke(ctx, "2", phoneID); !errors.Is(err, latch.ErrSessionNotFound) {
		t.Errorf("Revoke by another user = %v; want ErrSessionNotFound", err)
	}
	if err := h.m.Revoke(ctx, "1", phoneID); err != nil {
		t.Fatalf("Revoke = %v", err)
	}
	if got := h.whoIs(phone); got != "anonymous" {
		t.Errorf("revoked phone = %q; want anonymous", got)
	}
	if got := h.whoIs(laptop); got != "Anthony fresh=true" {
		t.Errorf("laptop = %q; want still logged in", got)
	}
	if n, err := h.m.RevokeAll(ctx, "1", ""); err != nil || n != 1 {
		t.Errorf("RevokeAll = %d, %v; want 1", n, err)
	}
	if got := h.whoIs(laptop); got != "anonymous" {
		t.Errorf("laptop after RevokeAll = %q; want anonymous", got)
	}
	if got := h.whoIs(other); got != "Bea fresh=true" {
		t.Errorf("other user = %q; want untouched", got)
	}
}

func TestSecureCookiesUseHostPrefix(t *testing.T) {
	h := newHarness(t)
	h.m.Secure = true
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("POST", "/login", nil)
	if err := h.m.LogIn(rec, req, "1", latch.LoginOptions{Remember: true}); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range rec.Result().Cookies() {
		names = append(names, c.Name)
		if !c.Secure {
			t.Errorf("cookie %s is not Secure", c.Name)
		}
	}
	if want := []string{"__Host-latch_session", "__Host-latch_remember"}; !slices.Equal(names, want) {
		t.Errorf("cookies set = %q; want %q", names, want)
	}
}

func TestRememberTokenRotatesWithGraceAndTheftEndsIt(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	resp, _ := h.do(b, "POST", "/login", url.Values{"user": {"1"}, "remember": {"on"}})
	rc := cookieNamed(resp, "latch_remember")
	h.clock.Add(3 * time.Hour)

	// A restored browser reopens two tabs at once: both send the same
	// remember cookie and both are logged in.
	tab1 := h.restart(rc)
	tab2 := h.restart(rc)
	resp, body := h.do(tab1, "GET", "/whoami", nil)
	if body != "Anthony fresh=false" || cookieNamed(resp, "latch_remember") == nil {
		t.Fatalf("first tab = %q; want restored, with a new remember cookie", body)
	}
	resp, body = h.do(tab2, "GET", "/whoami", nil)
	if body != "Anthony fresh=false" {
		t.Errorf("second tab within the grace = %q; want restored", body)
	}
	if c := cookieNamed(resp, "latch_remember"); c != nil {
		t.Errorf("second tab got remember cookie %+v; want its cookies left alone", c)
	}

	// The old token presented after the grace means two parties hold it:
	// the login ends for both.
	h.clock.Add(h.m.RememberGrace)
	if got := h.whoIs(h.restart(rc)); got != "anonymous" {
		t.Errorf("old remember token after the grace = %q; want anonymous", got)
	}
	if got := h.whoIs(tab1); got != "anonymous" {
		t.Errorf("the restored tab after the old token's reuse = %q; want anonymous", got)
	}
}

func TestMiddlewareAddsVaryCookie(t *testing.T) {
	m := latch.New(&memstore.Store{}, func(ctx context.Context, id string) (string, error) { return id, nil })
	tests := []struct {
		name   string
		before []string // Vary set before the middleware
		cookie string
		want   []string
	}{
		{"anonymous", nil, "", []string{"Cookie"}},
		{"after Accept-Encoding", []string{"Accept-Encoding"}, "", []string{"Accept-Encoding", "Cookie"}},
		{"with an unknown session", nil, "latch_session=" + strings.Repeat("A", 43), []string{"Cookie"}},
	}
	for _, tt := range tests {
		// The handler behind adds to Vary, as a compressing
		// middleware would: that must not reach the next response.
		h := m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Add("Vary", "Accept-Language")
		}))
		for range 2 {
			rec := httptest.NewRecorder()
			if tt.before != nil {
				rec.Header()["Vary"] = tt.before
			}
			req := httptest.NewRequest("GET", "/", nil)
			if tt.cookie != "" {
				req.Header.Set("Cookie", tt.cookie)
			}
			h.ServeHTTP(rec, req)
			want := append(tt.want[:len(tt.want):len(tt.want)], "Accept-Language")
			if got := rec.Result().Header.Values("Vary"); !slices.Equal(got, want) {
				t.Errorf("%s: Vary = %q; want %q", tt.name, got, want)
			}
		}
	}
}

func TestAnonymousRequestCostsNoAllocation(t *testing.T) {
	m := latch.New(&memstore.Store{}, func(ctx context.Context, id string) (string, error) { return id, nil })
	h := m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if m.Current(r).Authenticated {
			t.Error("Current(anonymous request).Authenticated = true; want false")
		}
	}))
	w := &benchWriter{header: http.Header{}}
	req := httptest.NewRequest("GET", "/", nil)
	allocs := testing.AllocsPerRun(100, func() {
		clear(w.header)
		h.ServeHTTP(w, req)
	})
	if allocs != 0 {
		t.Errorf("Middleware and Current for a request without cookies: %v allocations; want 0", allocs)
	}
}

// TestTouchKeepsConcurrentRotation has a request that read its session just
// before ConfirmLogin rotated the token touch it afterwards: the touch must
// not write the old token back, which would log the user out and revive a
// token meant to be dead.
func TestTouchKeepsConcurrentRotation(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	resp, _ := h.do(b, "POST", "/login", url.Values{"user": {"1"}})
	oldToken := cookieNamed(resp, "latch_session")
	list, err := h.store.UserSessions(t.Context(), "1")
	if err != nil || len(list) != 1 {
		t.Fatalf("UserSessions = %d, %v; want 1 session", len(list), err)
	}
	before := list[0]

	h.clock.Add(2 * h.m.TouchInterval)
	if resp, _ := h.do(b, "POST", "/confirm", nil); resp.StatusCode != 200 {
		t.Fatalf("confirm = %d; want 200", resp.StatusCode)
	}
	// The late request, holding the record from before the rotation.
	late := h.browser()
	u, _ := url.Parse(h.srv.URL)
	late.Jar.SetCookies(u, []*http.Cookie{{Name: oldToken.Name, Value: oldToken.Value}})
	h.store.mu.Lock()
	h.store.stale = &before
	h.store.mu.Unlock()
	h.whoIs(late)
	h.store.mu.Lock()
	h.store.stale = nil
	h.store.mu.Unlock()

	if got := h.whoIs(b); got != "Anthony fresh=true" {
		t.Errorf("after a late touch, the user with the rotated token is %q; want Anthony fresh=true", got)
	}
	if got := h.whoIs(late); got != "anonymous" {
		t.Errorf("after a late touch, the token from before the rotation is %q; want anonymous", got)
	}
}

// TestLogInEndsLeastRecentlyUsedBeyondMaxSessions logs one user in afresh
// more times than MaxSessions allows: the user keeps MaxSessions sessions,
// the new one and those used last, however often a script logs in.
func TestLogInEndsLeastRecentlyUsedBeyondMaxSessions(t *testing.T) {
	h := newHarness(t)
	h.m.MaxSessions = 3
	h.m.TouchInterval = time.Second
	used, idle := h.browser(), h.browser()
	h.do(used, "POST", "/login", url.Values{"user": {"1"}}, "User-Agent", "used")
	h.clock.Add(time.Minute)
	h.do(idle, "POST", "/login", url.Values{"user": {"1"}}, "User-Agent", "idle")
	h.clock.Add(time.Minute)
	// The first login is used after the second: it is the more recent.
	if got := h.whoIs(used); got != "Anthony fresh=true" {
		t.Fatalf("first browser = %q; want logged in", got)
	}
	other := h.browser()
	h.do(other, "POST", "/login", url.Values{"user": {"2"}})

	var last *http.Client
	for range 20 {
		h.clock.Add(time.Minute)
		last = h.browser()
		h.do(last, "POST", "/login", url.Values{"user": {"1"}}, "User-Agent", "script")
	}
	ss, err := h.m.Sessions(context.Background(), "1")
	if err != nil || len(ss) != 3 {
		t.Fatalf("Sessions(1) after 22 logins = %d sessions, %v; want 3, nil", len(ss), err)
	}
	if got := h.whoIs(last); got != "Anthony fresh=true" {
		t.Errorf("newest login = %q; want logged in", got)
	}
	if got := h.whoIs(idle); got != "anonymous" {
		t.Errorf("least recently used session = %q; want ended", got)
	}
	if got := h.whoIs(other); got != "Bea fresh=true" {
		t.Errorf("another user's session = %q; want untouched", got)
	}

	// Without a limit, every login stays.
	h.m.MaxSessions = 0
	for range 5 {
		h.do(h.browser(), "POST", "/login", url.Values{"user": {"1"}})
	}
	if ss, _ := h.m.Sessions(context.Background(), "1"); len(ss) != 8 {
		t.Errorf("Sessions(1) with MaxSessions 0 = %d; want 8", len(ss))
	}
}

func TestRecentSessions(t *testing.T) {
	h := newHarness(t)
	var browsers []*http.Client
	for i := range 5 {
		b := h.browser()
		h.do(b, "POST", "/login", url.Values{"user": {"1"}}, "User-Agent", fmt.Sprint("device ", i))
		browsers = append(browsers, b)
		h.clock.Add(2 * time.Minute)
	}
	h.whoIs(browsers[1]) // now the most recently used
	list, more, err := h.m.RecentSessions(context.Background(), "1", 2)
	if err != nil || len(list) != 2 || more != 3 {
		t.Fatalf("RecentSessions(1, 2) = %d sessions, %d more, %v; want 2, 3 more", len(list), more, err)
	}
	if list[0].UserAgent != "device 1" || list[1].UserAgent != "device 4" {
		t.Errorf("RecentSessions(1, 2) = [%s %s]; want [device 1, device 4]", list[0].UserAgent, list[1].UserAgent)
	}
	// Idle sessions without remember-me are over and not counted.
	h.clock.Add(h.m.IdleTimeout - 3*time.Minute)
	if list, more, err := h.m.RecentSessions(context.Background(), "1", 10); err != nil || len(list) != 2 || more != 0 {
		t.Errorf("RecentSessions(1, 10) after idling = %d sessions, %d more, %v; want 2, 0 more", len(list), more, err)
	}
}

// gatedStore holds the answers to the first n lookups by remember-me
// token until all n have read, so that n requests all read the record
// before any rotates it.
type gatedStore struct {
	latch.SessionStore
	mu      sync.Mutex
	waiting int
	open    chan struct{}
}

func (g *gatedStore) SessionByRemember(ctx context.Context, hash []byte) (latch.Session, error) {
	// Read first, then wait for the others: each request then holds
	// the record as it was before any rotation.
	s, err := g.SessionStore.SessionByRemember(ctx, hash)
	g.mu.Lock()
	if g.waiting > 0 {
		g.waiting--
		if g.waiting == 0 {
			close(g.open)
		}
	}
	g.mu.Unlock()
	select {
	case <-g.open:
	case <-time.After(10 * time.Second): // a bound for a broken test, never reached when it works
	}
	return s, err
}

// TestParallelRestoresRotateOnce restores one remembered login from
// several requests that all read the record before any rotates it: one
// rotates and gets new cookies, the others are logged in as the rotated
// session with their cookies left alone.
func TestParallelRestoresRotateOnce(t *testing.T) {
	const parallel = 8
	store := &gatedStore{SessionStore: &memstore.Store{}, open: make(chan struct{})}
	m := latch.New(store, func(ctx context.Context, id string) (string, error) { return id, nil })
	rec := httptest.NewRecorder()
	if err := m.LogIn(rec, httptest.NewRequest("POST", "/login", nil), "ann", latch.LoginOptions{Remember: true}); err != nil {
		t.Fatal(err)
	}
	var remember *http.Cookie
	for _, c := range rec.Result().Cookies() {
		if c.Name == "latch_remember" {
			remember = c
		}
	}
	store.waiting = parallel
	h := m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, m.Current(r).UserID)
	}))
	var (
		wg   sync.WaitGroup
		recs [parallel]*httptest.ResponseRecorder
	)
	for i := range recs {
		recs[i] = httptest.NewRecorder()
		req := httptest.NewRequest("GET", "/", nil)
		req.AddCookie(remember)
		wg.Go(func() { h.ServeHTTP(recs[i], req) })
	}
	wg.Wait()
	rotations := 0
	for i, rec := range recs {
		if got := rec.Body.String(); got != "ann" {
			t.Errorf("request %d: user %q; want ann", i, got)
		}
		for _, c := range rec.Result().Cookies() {
			switch {
			case c.Name == "latch_remember" && c.Value != "":
				rotations++
			case c.MaxAge < 0:
				t.Errorf("request %d cleared cookie %s", i, c.Name)
			}
		}
	}
	if rotations != 1 {
		t.Errorf("%d requests were given a new remember cookie; want 1", rotations)
	}
	if ss, err := m.Sessions(context.Background(), "ann"); err != nil || len(ss) != 1 {
		t.Errorf("Sessions(ann) = %d, %v; want the one session", len(ss), err)
	}
}
