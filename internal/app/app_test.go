package app_test

import (
	"context"
	"fmt"
	"html"
	"io"
	"maps"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/latchauth/latch/internal/app"
	"github.com/latchauth/latch/internal/apptest"
	"github.com/latchauth/latch/password"
	"github.com/latchauth/latch/sqlitestore"
	"github.com/latchauth/latch/throttle"
)

type site struct {
	t       testing.TB
	srv     *httptest.Server
	handler http.Handler // what srv serves, for tests that call it directly
	store   *sqlitestore.DB
	logs    *apptest.Buffer
}

// newSite serves the app with a throttle strict enough to test (3 free
// failures per account, then a minute's wait) and loopback trusted as a
// proxy, so that tests can play several clients through X-Forwarded-For.
func newSite(t testing.TB) *site {
	t.Helper()
	store := apptest.NewStore(t)
	p := throttle.NewPolicy(store)
	p.Account.Free, p.Account.Delay = 3, time.Minute
	return newSiteWith(t, store, app.Config{Throttle: p}, false)
}

// newSiteWith serves the app on store with cfg, trusting loopback as a
// proxy as newSite does. With stillClock, and no Throttle in cfg, the
// default throttling reads a clock that never moves.
func newSiteWith(t testing.TB, store *sqlitestore.DB, cfg app.Config, stillClock bool) *site {
	t.Helper()
	cfg.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	if stillClock && cfg.Throttle == nil {
		cfg.Throttle = throttle.NewPolicy(store)
		now := time.Now()
		cfg.Throttle.SetNow(func() time.Time { return now })
	}
	s := apptest.New(t, store, cfg)
	h := s.App.Handler()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &site{t: t, srv: srv, handler: h, store: store, logs: s.Logs}
}

// browser is a cookie-keeping client that does not follow redirects and
// sends the headers a browser sends with a form from the same site.
type browser struct {
	s       *site
	c       *http.Client
	jar     *recordingJar
	headers map[string]string
}

// recordingJar is a cookie jar that also remembers each cookie as the
// server set it, attributes included, to tell session cookies from
// persistent ones.
type recordingJar struct {
	*cookiejar.Jar
	mu  sync.Mutex
	set map[string]*http.Cookie
}

func (j *recordingJar) SetCookies(u *url.URL, cs []*http.Cookie) {
	j.mu.Lock()
	for _, c := range cs {
		if c.MaxAge < 0 {
			delete(j.set, c.Name)
		} else {
			j.set[c.Name] = c
		}
	}
	j.mu.Unlock()
	j.Jar.SetCookies(u, cs)
}

func (s *site) browser() *browser {
	cj, _ := cookiejar.New(nil)
	jar := &recordingJar{Jar: cj, set: map[string]*http.Cookie{}}
	return &browser{s: s, jar: jar, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}, headers: map[string]string{}}
}

// cookies returns the cookies the browser holds.
func (b *browser) cookies() []*http.Cookie {
	u, _ := url.Parse(b.s.srv.URL)
	return b.jar.Cookies(u)
}

func (b *browser) setCookies(cs []*http.Cookie) {
	u, _ := url.Parse(b.s.srv.URL)
	b.jar.SetCookies(u, cs)
}

type result struct {
	status int
	header http.Header
	body   string
}

func (b *browser) do(method, path string, form url.Values, extra ...string) result {
	b.s.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.s.srv.URL+path, body)
	if err != nil {
		b.s.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", b.s.srv.URL)
		req.Header.Set("Sec-Fetch-Site", "same-origin")
	}
	for k, v := range b.headers {
		req.Header.Set(k, v)
	}
	for i := 0; i+1 < len(extra); i += 2 {
		req.Header.Set(extra[i], extra[i+1])
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.s.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return result{resp.StatusCode, resp.Header, string(data)}
}

func (b *browser) get(path string) result { return b.do("GET", path, nil) }

func (b *browser) post(path string, form url.Values) result { return b.do("POST", path, form) }

// follow posts and then follows one redirect, as a browser does.
func (b *browser) follow(r result) result {
	b.s.t.Helper()
	if r.status != http.StatusSeeOther {
		b.s.t.Fatalf("status = %d; want 303 (body %q)", r.status, r.body)
	}
	return b.get(r.header.Get("Location"))
}

func (b *browser) signup(email, name, pw string) result {
	return b.post("/signup", url.Values{"email": {email}, "name": {name}, "password": {pw}})
}

func (b *browser) login(email, pw string, remember bool) result {
	f := url.Values{"email": {email}, "password": {pw}}
	if remember {
		f.Set("remember", "on")
	}
	return b.post("/login", f)
}

// restart returns a browser holding only b's persistent cookies.
func (b *browser) restart() *browser {
	nb := b.s.browser()
	u, _ := url.Parse(b.s.srv.URL)
	var keep []*http.Cookie
	b.jar.mu.Lock()
	for _, c := range b.jar.set {
		if c.MaxAge > 0 || !c.Expires.IsZero() {
			keep = append(keep, c)
		}
	}
	b.jar.mu.Unlock()
	nb.jar.SetCookies(u, keep)
	return nb
}

func mustContain(t *testing.T, what, body string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(body, w) {
			t.Errorf("%s does not contain %q", what, w)
		}
	}
}

func mustNotContain(t *testing.T, what, body string, nots ...string) {
	t.Helper()
	for _, w := range nots {
		if strings.Contains(body, w) {
			t.Errorf("%s contains %q; want it absent", what, w)
		}
	}
}

const goodPassword = "correct horse battery"

func TestHomeAnonymous(t *testing.T) {
	s := newSite(t)
	r := s.browser().get("/")
	if r.status != 200 {
		t.Fatalf("GET / = %d", r.status)
	}
	mustContain(t, "home", r.body, `href="/login"`, `href="/signup"`, "Latch Login Example")
	mustNotContain(t, "home", r.body, `href="/profile"`, `action="/logout"`, "https://", "<script")
	for h, want := range map[string]string{
		"X-Content-Type-Options":       "nosniff",
		"Referrer-Policy":              "same-origin",
		"Cross-Origin-Opener-Policy":   "same-origin",
		"Cross-Origin-Resource-Policy": "same-origin",
		"Cache-Control":                "no-store",
	} {
		if got := r.header.Get(h); got != want {
			t.Errorf("%s = %q; want %q", h, got, want)
		}
	}
	csp := r.header.Get("Content-Security-Policy")
	mustContain(t, "CSP", csp, "default-src 'none'", "frame-ancestors 'none'", "form-action 'self'")
	mustNotContain(t, "CSP", csp, "unsafe-inline", "script-src")
}

// longLogin is a login page longer than net/http's response buffer: its
// next page, kept in the form, is long.
var longLogin = "/login?next=/" + strings.Repeat("a", 1000)

// TestPageHeaders checks the headers of pages shorter and longer than
// net/http's response buffer, and of HEAD: the same set, each with a
// Content-Length equal to the body sent, never chunked. It also keeps the
// handler's header map at eight entries at most, the small form of a Go map
// (see securityHeaders): a ninth header fails here, to be weighed first.
func TestPageHeaders(t *testing.T) {
	s := newSite(t)
	want := []string{"Cache-Control", "Content-Length", "Content-Security-Policy", "Content-Type",
		"Cross-Origin-Opener-Policy", "Cross-Origin-Resource-Policy", "Date", "Referrer-Policy",
		"Vary", "X-Content-Type-Options"}
	for _, tc := range []struct {
		method, path string
		long         bool // longer than net/http's buffer
	}{
		{"GET", "/", false},
		{"GET", longLogin, true},
		{"HEAD", "/", false},
		{"HEAD", longLogin, true},
		{"GET", "/no-such-page", false},
	} {
		req, _ := http.NewRequest(tc.method, s.srv.URL+tc.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		got := slices.Sorted(maps.Keys(resp.Header))
		if !slices.Equal(got, want) {
			t.Errorf("%s %s headers = %q; want %q", tc.method, tc.path, got, want)
		}
		if len(resp.TransferEncoding) != 0 {
			t.Errorf("%s %s sent %q; want a Content-Length", tc.method, tc.path, resp.TransferEncoding)
		}
		if tc.method == "GET" && (resp.ContentLength != int64(len(body)) || (len(body) > 2048) != tc.long) {
			t.Errorf("%s %s: Content-Length %d, body %d bytes; want equal, longer than 2048: %v",
				tc.method, tc.path, resp.ContentLength, len(body), tc.long)
		}
		if tc.method == "HEAD" && (resp.ContentLength <= 0 || len(body) != 0) {
			t.Errorf("HEAD %s: Content-Length %d, body %d bytes; want the page's length and no body",
				tc.path, resp.ContentLength, len(body))
		}

		rec := httptest.NewRecorder()
		s.handler.ServeHTTP(rec, httptest.NewRequest(tc.method, tc.path, nil))
		if n := len(rec.Header()); n > 8 && !tc.long && tc.method == "GET" {
			t.Errorf("%s %s: the handler set %d headers %q; want at most 8",
				tc.method, tc.path, n, slices.Sorted(maps.Keys(rec.Header())))
		}
	}
}

// TestHomeFixedPage checks the home page that anonymous visitors get
// without a flash, rendered once at start, through every middleware: it
// matches the page rendered for a request whose flash cookie is unreadable,
// answers HEAD without a body, and gives way to the template as soon as
// there is a flash to show or a user logged in.
func TestHomeFixedPage(t *testing.T) {
	s := newSite(t)
	fixed := s.browser().get("/")

	// A forged flash cookie sends the request through the template, which
	// clears the cookie and shows no message: the same page.
	forged := s.browser()
	u, _ := url.Parse(s.srv.URL)
	forged.jar.SetCookies(u, []*http.Cookie{{Name: "latch_flash", Value: "eyJmIjpbXX0.AAAA"}})
	rendered := forged.get("/")
	if rendered.header.Get("Set-Cookie") == "" {
		t.Fatal("GET / with a forged flash cookie did not clear it; want the template path")
	}
	if fixed.status != 200 || fixed.body != rendered.body {
		t.Errorf("anonymous GET / = %d\n%s\nwant 200 and the rendered page:\n%s", fixed.status, fixed.body, rendered.body)
	}
	for _, h := range []string{"Content-Type", "Content-Length", "Cache-Control", "Vary",
		"Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy",
		"Cross-Origin-Opener-Policy", "Cross-Origin-Resource-Policy"} {
		if got, want := fixed.header.Values(h), rendered.header.Values(h); len(want) == 0 || !slices.Equal(got, want) {
			t.Errorf("anonymous GET / header %s = %q; want %q as rendered", h, got, want)
		}
	}

	head := s.browser().do("HEAD", "/", nil)
	if head.status != 200 || head.body != "" || head.header.Get("Content-Length") != fixed.header.Get("Content-Length") {
		t.Errorf("HEAD / = %d, %d body bytes, Content-Length %q; want 200, none, %q",
			head.status, len(head.body), head.header.Get("Content-Length"), fixed.header.Get("Content-Length"))
	}

	// A flash shows once on the home page, then the fixed page is back.
	b := s.browser()
	b.signup("ann@example.com", "Ann", goodPassword)
	b.follow(b.login("ann@example.com", goodPassword, false))
	in := b.get("/")
	mustContain(t, "home logged in", in.body, `href="/profile"`, `action="/logout"`)
	home := b.follow(b.post("/logout", url.Values{}))
	mustContain(t, "home after logout", home.body, "You have been logged out.")
	if again := b.get("/"); again.body != fixed.body {
		t.Errorf("second GET / after logout =\n%s\nwant the fixed page without the flash", again.body)
	}
}

func TestSignupLoginProfileLogout(t *testing.T) {
	s := newSite(t)
	b := s.browser()
	r := b.signup("Anthony@Example.com", "Anthony", goodPassword)
	if r.status != 303 || r.header.Get("Location") != "/login" {
		t.Fatalf("signup = %d → %q; want 303 → /login", r.status, r.header.Get("Location"))
	}
	page := b.follow(r)
	mustContain(t, "login page after signup", page.body, "Your account has been created")

	u, err := s.store.UserByEmail(context.Background(), "anthony@example.com")
	if err != nil || u.Name != "Anthony" || !strings.HasPrefix(u.PasswordHash, "$argon2id$") {
		t.Fatalf("stored user = %+v, %v; want lower-cased email and an argon2id hash", u, err)
	}

	r = b.login("ANTHONY@example.com ", goodPassword, false)
	if r.status != 303 || r.header.Get("Location") != "/profile" {
		t.Fatalf("login = %d → %q; want 303 → /profile", r.status, r.header.Get("Location"))
	}
	prof := b.follow(r)
	if prof.status != 200 {
		t.Fatalf("GET /profile = %d", prof.status)
	}
	mustContain(t, "profile", prof.body, "Welcome, Anthony!", `href="/profile"`, `action="/logout"`)
	mustNotContain(t, "profile", prof.body, `href="/login"`, `href="/signup"`)
	if cc := prof.header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("profile Cache-Control = %q; want no-store", cc)
	}

	// GET /logout must not log out.
	r = b.get("/logout")
	mustContain(t, "GET /logout", r.body, `<form method="post" action="/logout">`)
	if b.get("/profile").status != 200 {
		t.Fatal("GET /logout logged the user out")
	}
	old := b.cookies()
	r = b.post("/logout", url.Values{})
	if r.status != 303 {
		t.Fatalf("POST /logout = %d; want 303", r.status)
	}
	home := b.follow(r)
	mustContain(t, "home after logout", home.body, "You have been logged out.", `href="/login"`)
	if got := b.get("/profile"); got.status != 303 || !strings.HasPrefix(got.header.Get("Location"), "/login") {
		t.Errorf("profile after logout = %d → %q; want redirect to login", got.status, got.header.Get("Location"))
	}
	// The old cookies, replayed, log nobody in.
	replay := s.browser()
	replay.setCookies(old)
	if got := replay.get("/profile"); got.status != 303 {
		t.Errorf("replayed cookies after logout: /profile = %d; want 303", got.status)
	}
}

func TestDuplicateSignup(t *testing.T) {
	s := newSite(t)
	b := s.browser()
	b.signup("dup@example.com", "First", goodPassword)
	r := b.signup("DUP@example.com", "Second", "another good password")
	if r.status != 303 || r.header.Get("Location") != "/signup" {
		t.Fatalf("duplicate signup = %d → %q; want 303 → /signup", r.status, r.header.Get("Location"))
	}
	page := b.follow(r)
	mustContain(t, "signup after duplicate", page.body, "Email address already exists", `Go to <a href="/login">login page</a>`,
		`value="DUP@example.com"`, `value="Second"`)
	mustNotContain(t, "signup after duplicate", page.body, "another good password")
	// The flash shows once.
	mustNotContain(t, "second visit", b.get("/signup").body, "already exists")
	u, _ := s.store.UserByEmail(context.Background(), "dup@example.com")
	if u.Name != "First" {
		t.Errorf("duplicate signup changed the account: name %q", u.Name)
	}
}

func TestSignupValidation(t *testing.T) {
	s := newSite(t)
	long := strings.Repeat("a", password.MaxLength+1)
	tests := []struct {
		email, name, pw string
		want            string
	}{
		{"", "Ann", goodPassword, "Please enter your email address."},
		{"not-an-email", "Ann", goodPassword, "Please enter a valid email address"},
		{"Ann <ann@example.com>", "Ann", goodPassword, "Please enter a valid email address"},
		{"ann@localhost", "Ann", goodPassword, "Please enter a valid email address"},
		{strings.Repeat("a", 250) + "@example.com", "Ann", goodPassword, "at most 254 characters"},
		{"ann@example.com", "", goodPassword, "Please enter your name."},
		{"ann@example.com", "   ", goodPassword, "Please enter your name."},
		{"ann@example.com", strings.Repeat("n", 101), goodPassword, "at most 100 characters"},
		{"ann@example.com", "Ann\x00", goodPassword, "control characters"},
		{"ann@example.com", "Ann", "short", "at least 8 characters"},
		{"ann@example.com", "Ann", "password123", "too common"},
		{"ann@example.com", "Ann", "Password1", "too common"},
		{"ann@example.com", "Ann", long, "at most 1024 bytes"},
		{"ann@example.com", "Ann", "\xff\xfe invalid utf8", "not valid text"},
		{"ann.lee@example.com", "Ann", "Ann.Lee@Example.com", "don't use your email address"},
		{"annalee99@example.com", "Ann", "AnnaLee99", "don't use your email address"},
		{"ann@example.com", "Ann Lovelace", "ann lovelace", "don't use your name"},
		{"ann@example.com", "Ann", "zzzzzzzzzzzz", "one character repeated"},
		{"an\u200bn@example.com", "Ann", goodPassword, "invisible character (U+200B)"},
		{"\u202eann@example.com", "Ann", goodPassword, "direction of text (U+202E)"},
		{"ann@[192.0.2.1]", "Ann", goodPassword, "not at an IP address"},
	}
	for _, tt := range tests {
		b := s.browser()
		r := b.signup(tt.email, tt.name, tt.pw)
		if r.status != http.StatusUnprocessableEntity {
			t.Errorf("signup(%q, %q, %.20q) = %d; want 422", tt.email, tt.name, tt.pw, r.status)
			continue
		}
		mustContain(t, fmt.Sprintf("signup(%.30q, %.30q, %.20q)", tt.email, tt.name, tt.pw), html.UnescapeString(r.body), tt.want)
		if tt.pw != "" && len(tt.pw) > 3 {
			mustNotContain(t, "re-shown form", r.body, `value="`+html.EscapeString(tt.pw))
		}
		if tt.email == "ann@example.com" && tt.name == "Ann" {
			mustContain(t, "re-shown form", r.body, `value="ann@example.com"`, `value="Ann"`)
		}
	}
	users, err := s.store.ListUsers(context.Background(), 0, 100)
	if err != nil || len(users) != 0 {
		t.Errorf("after invalid signups ListUsers = %d users, %v; want none", len(users), err)
	}
}

func TestLoginFailureSameForUnknownEmail(t *testing.T) {
	s := newSite(t)
	b := s.browser()
	b.signup("ann@example.com", "Ann", goodPassword)
	var pages []string
	for _, email := range []string{"ann@example.com", "nobody@example.com"} {
		r := b.login(email, "wrong password!", false)
		if r.status != 303 || r.header.Get("Location") != "/login" {
			t.Fatalf("bad login for %s = %d → %q; want 303 → /login", email, r.status, r.header.Get("Location"))
		}
		p := b.follow(r)
		mustContain(t, "login page after failure", p.body, "Please check your login details and try again.")
		pages = append(pages, strings.ReplaceAll(p.body, email, "EMAIL"))
	}
	if pages[0] != pages[1] {
		t.Errorf("login failure pages differ between a known and an unknown email")
	}
	if got := b.get("/profile"); got.status != 303 {
		t.Errorf("profile after failed login = %d; want 303", got.status)
	}
}

// TestFlashSurvivesLongForms posts emails and names whose echo would not
// fit in the flash cookie once escaped: the message must still show, and a
// plain value must still be kept filled.
func TestFlashSurvivesLongForms(t *testing.T) {
	s := newSite(t)
	b := s.browser()
	for _, email := range []string{strings.Repeat("<", 600), strings.Repeat("é", 300) + "@example.com"} {
		p := b.follow(b.login(email, "wrong password!", false))
		mustContain(t, "login page after a long email", p.body, "Please check your login details and try again.")
		if !utf8.ValidString(p.body) {
			t.Errorf("login page after a long email is not valid UTF-8")
		}
	}
	b.signup("ann@example.com", "Ann", goodPassword)
	p := b.follow(b.signup("ann@example.com", strings.Repeat("&", 100), goodPassword))
	mustContain(t, "sign-up page after a taken email", p.body, "Email address already exists")
	p = b.follow(b.login("ann@example.com", "wrong password!", false))
	mustContain(t, "login page after a short email", p.body, `value="ann@example.com"`)
}

func TestRememberMe(t *testing.T) {
	s := newSite(t)
	b := s.browser()
	b.signup("ann@example.com", "Ann", goodPassword)

	// Without "remember me", closing the browser ends the login.
	b.login("ann@example.com", goodPassword, false)
	if b.get("/profile").status != 200 {
		t.Fatal("not logged in")
	}
	if got := b.restart().get("/profile"); got.status != 303 {
		t.Errorf("after restart without remember: /profile = %d; want 303", got.status)
	}

	// With it, the login survives a restart.
	b2 := s.browser()
	b2.login("ann@example.com", goodPassword, true)
	nb := b2.restart()
	r := nb.get("/profile")
	if r.status != 200 {
		t.Fatalf("after restart with remember: /profile = %d; want 200", r.status)
	}
	mustContain(t, "profile after restart", r.body, "Welcome, Ann!")
	// Logging out ends the remembered login too.
	nb.post("/logout", url.Values{})
	if got := nb.restart().get("/profile"); got.status != 303 {
		t.Errorf("after logout and restart: /profile = %d; want 303", got.status)
	}
}

func TestNext(t *testing.T) {
	s := newSite(t)
	b := s.browser()
	b.signup("ann@example.com", "Ann", goodPassword)
	r := b.get("/profile")
	if r.status != 303 || r.header.Get("Location") != "/login?next=%2Fprofile" {
		t.Fatalf("anonymous /profile = %d → %q; want 303 → /login?next=%%2Fprofile", r.status, r.header.Get("Location"))
	}
	login := b.follow(r)
	mustContain(t, "login page", login.body, "Please log in to access this page.", `name="next" value="/profile"`)

	for _, next := range []string{"//evil.example", "/\\evil.example", "\\/evil.example", "https:evil.example",
		"https://evil.example/", "javascript:alert(1)", "/\r\nLocation: http://evil.example", "/%2F%2Fevil.example"} {
		b := s.browser()
		if p := b.get("/login?next=" + url.QueryEscape(next)); strings.Contains(p.body, "evil") {
			t.Errorf("login page echoes hostile next %q", next)
		}
		r := b.post("/login", url.Values{"email": {"ann@example.com"}, "password": {goodPassword}, "next": {next}})
		if loc := r.header.Get("Location"); r.status != 303 || loc != "/profile" {
			t.Errorf("login with next=%q → %d %q; want 303 /profile", next, r.status, loc)
		}
	}
	b3 := s.browser()
	r = b3.post("/login", url.Values{"email": {"ann@example.com"}, "password": {goodPassword}, "next": {"/profile?x=1"}})
	if loc := r.header.Get("Location"); loc != "/profile?x=1" {
		t.Errorf("login with a safe next → %q; want /profile?x=1", loc)
	}
	// A failed login keeps next for the second try.
	r = s.browser().post("/login", url.Values{"email": {"ann@example.com"}, "password": {"nope nope"}, "next": {"/profile"}})
	if loc := r.header.Get("Location"); loc != "/login?next=%2Fprofile" {
		t.Errorf("failed login with next → %q; want /login?next=%%2Fprofile", loc)
	}
}

func TestCrossSiteRequestsRefused(t *testing.T) {
	s := newSite(t)
	b := s.browser()
	b.signup("ann@example.com", "Ann", goodPassword)
	b.login("ann@example.com", goodPassword, false)

	attacks := []struct {
		path string
		form url.Values
		hdr  []string
	}{
		{"/logout", url.Values{}, []string{"Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site"}},
		{"/logout", url.Values{}, []string{"Origin", "https://evil.example", "Sec-Fetch-Site", ""}},
		{"/login", url.Values{"email": {"ann@example.com"}, "password": {goodPassword}}, []string{"Origin", "null", "Sec-Fetch-Site", "cross-site"}},
		{"/signup", url.Values{"email": {"x@example.com"}, "name": {"X"}, "password": {goodPassword}}, []string{"Origin", "https://evil.example", "Sec-Fetch-Site", ""}},
	}
	for _, a := range attacks {
		r := b.do("POST", a.path, a.form, a.hdr...)
		if r.status != http.StatusForbidden {
			t.Errorf("cross-site POST %s %v = %d; want 403", a.path, a.hdr, r.status)
		}
		mustContain(t, "refusal page", r.body, "sent from another site")
	}
	if got := b.get("/profile"); got.status != 200 {
		t.Errorf("after cross-site logout attempt /profile = %d; want still logged in", got.status)
	}
	if _, err := s.store.UserByEmail(context.Background(), "x@example.com"); err == nil {
		t.Error("cross-site signup created an account")
	}
}

func TestLoginThrottling(t *testing.T) {
	s := newSite(t)
	b := s.browser()
	b.headers["X-Forwarded-For"] = "198.51.100.20"
	b.signup("ann@example.com", "Ann", goodPassword)
	// The owner's browser logs in once, and so becomes a known device.
	if r := b.login("ann@example.com", goodPassword, false); r.header.Get("Location") != "/profile" {
		t.Fatalf("owner's first login = %d → %q; want 303 → /profile", r.status, r.header.Get("Location"))
	}
	b.post("/logout", url.Values{})
	attacker := s.browser()
	attacker.headers["X-Forwarded-For"] = "203.0.113.7"
	for i := range 4 {
		r := attacker.login("ann@example.com", fmt.Sprintf("guess %d!!", i), false)
		if r.status != 303 {
			t.Fatalf("failure %d = %d; want 303", i+1, r.status)
		}
	}
	// Past the free attempts: refused with 429, even the right password.
	r := attacker.login("ann@example.com", goodPassword, false)
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" {
		t.Fatalf("throttled login = %d Retry-After %q; want 429 with Retry-After", r.status, r.header.Get("Retry-After"))
	}
	mustContain(t, "429 page", r.body, "Too many failed login attempts. Please try again in")
	if attacker.get("/profile").status != 303 {
		t.Error("a throttled attempt logged in")
	}
	// The owner's browser is not locked out.
	if r := b.login("ann@example.com", goodPassword, false); r.header.Get("Location") != "/profile" {
		t.Errorf("owner's known browser = %d → %q; want 303 → /profile", r.status, r.header.Get("Location"))
	}
}

func TestConcurrentDuplicateSignups(t *testing.T) {
	s := newSite(t)
	var wg sync.WaitGroup
	statuses := make(chan int, 20)
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := s.browser().signup("race@example.com", fmt.Sprintf("Racer %d", i), goodPassword)
			statuses <- r.status
		}()
	}
	wg.Wait()
	close(statuses)
	for st := range statuses {
		if st != 303 {
			t.Errorf("concurrent signup status = %d; want 303", st)
		}
	}
	users, err := s.store.ListUsers(context.Background(), 0, 100)
	if err != nil || len(users) != 1 {
		t.Errorf("accounts after 20 concurrent signups = %d, %v; want exactly 1", len(users), err)
	}
}

func TestHostileInput(t *testing.T) {
	s := newSite(t)
	b := s.browser()
	big := url.Values{"email": {strings.Repeat("a", 100<<10)}, "name": {"x"}, "password": {"y"}}
	if r := b.post("/signup", big); r.status != http.StatusRequestEntityTooLarge {
		t.Errorf("100 KiB signup = %d; want 413", r.status)
	}
	req, _ := http.NewRequest("POST", s.srv.URL+"/login", strings.NewReader("email=%zz&password=%"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("malformed form = %d; want 400", resp.StatusCode)
	}
	for _, f := range []url.Values{
		{},
		{"email": {"\x00"}, "password": {"\x00"}},
		{"email": {"a@b.c", "d@e.f"}, "password": {strings.Repeat("p", 5000)}},
		{"email": {"<script>alert(1)</script>@example.com"}, "name": {"<b>x</b>"}, "password": {"x"}},
	} {
		for _, path := range []string{"/login", "/signup"} {
			r := b.post(path, f)
			if r.status >= 500 {
				t.Errorf("POST %s %v = %d; want no 5xx", path, f, r.status)
			}
			mustNotContain(t, "response", r.body, "<script>alert", "<b>x</b>")
		}
	}
	if r := b.get("/nope"); r.status != 404 {
		t.Errorf("GET /nope = %d; want 404", r.status)
	}
	if r := b.do("DELETE", "/profile", nil); r.status != 405 {
		t.Errorf("DELETE /profile = %d; want 405", r.status)
	}
	if r := b.get("/healthz"); r.status != 200 || strings.TrimSpace(r.body) != "ok" {
		t.Errorf("GET /healthz = %d %q; want 200 ok", r.status, r.body)
	}
	tampered := s.browser()
	u, _ := url.Parse(s.srv.URL)
	tampered.jar.SetCookies(u, []*http.Cookie{{Name: "latch_flash", Value: "eyJmIjpbeyJ0IjoiSGFja2VkIn1dfQ.AAAA"}})
	if r := tampered.get("/login"); strings.Contains(r.body, "Hacked") {
		t.Error("a forged flash cookie was shown")
	}
}

func TestLogsHoldNoSecrets(t *testing.T) {
	s := newSite(t)
	b := s.browser()
	b.signup("ann@example.com", "Ann", goodPassword)
	b.login("ann@example.com", goodPassword, true)
	b.get("/profile?token=sekrit-query")
	logs := s.logs.String()
	mustContain(t, "logs", logs, "path=/profile", "status=200")
	mustNotContain(t, "logs", logs, goodPassword, "sekrit-query")
	for _, c := range b.cookies() {
		if strings.Contains(logs, c.Value) {
			t.Errorf("logs contain the value of cookie %s", c.Name)
		}
	}
}

// TestUnreadableHashIsOurFailure logs in a user whose stored hash no longer
// parses (damaged data): the answer is our 500 page, not "check your
// details" nor "try again in a few seconds", and the error is logged.
func TestUnreadableHashIsOurFailure(t *testing.T) {
	s := newSite(t)
	b := s.browser()
	b.signup("ann@example.com", "Ann", goodPassword)
	u, err := s.store.UserByEmail(t.Context(), "ann@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.store.SetPasswordHash(t.Context(), u.ID, "$argon2id$v=19$m=1,t=0,p=0$bad$hash"); err != nil {
		t.Fatal(err)
	}
	r := b.login("ann@example.com", goodPassword, false)
	if r.status != http.StatusInternalServerError || r.header.Get("Retry-After") != "" {
		t.Errorf("login with an unreadable stored hash = %d, Retry-After %q; want 500 without Retry-After", r.status, r.header.Get("Retry-After"))
	}
	mustContain(t, "error page", r.body, "Something went wrong on our side")
	mustContain(t, "logs", s.logs.String(), "request failed", "unknown password hash format")
}

// TestPasswordSpellings checks that a password signed up with composed
// characters logs in typed with decomposed ones, as another keyboard or
// system may send it, and the other way round.
func TestPasswordSpellings(t *testing.T) {
	s := newSite(t)
	for i, pw := range [][2]string{
		{"cr\u00e8me br\u00fbl\u00e9e", "cre\u0300me bru\u0302le\u0301e"},
		{"pa\u0308ssw\u00f6rd ok", "p\u00e4ssw\u00f6rd ok"},
	} {
		email := fmt.Sprintf("spell%d@example.com", i)
		b := s.browser()
		if r := b.signup(email, "Spell", pw[0]); r.status != 303 || r.header.Get("Location") != "/login" {
			t.Fatalf("signup with %q = %d → %q; want 303 → /login", pw[0], r.status, r.header.Get("Location"))
		}
		for _, typed := range pw {
			if r := s.browser().login(email, typed, false); r.status != 303 || r.header.Get("Location") != "/profile" {
				t.Errorf("login with %q after signup with %q = %d → %q; want 303 → /profile", typed, pw[0], r.status, r.header.Get("Location"))
			}
		}
	}
}

// TestProfileFitsResponseBuffer checks that the profile of a user with one
// session fits net/http's 2 KiB response buffer, with at most eight header
// entries set by the handler (see securityHeaders): a longer page needs a
// Content-Length entry of its own, the ninth.
func TestProfileFitsResponseBuffer(t *testing.T) {
	s := newSite(t)
	b := s.browser()
	b.signup("ada@example.com", "Ada Lovelace", goodPassword)
	b.login("ada@example.com", goodPassword, false)
	page := b.get("/profile")
	if page.status != http.StatusOK || !strings.Contains(page.body, "Welcome, Ada Lovelace!") {
		t.Fatalf("GET /profile: status %d, body %q", page.status, page.body)
	}
	if len(page.body) > 2048 {
		t.Errorf("profile with one session is %d bytes; want at most 2048", len(page.body))
	}
	req := httptest.NewRequest("GET", "/profile", nil)
	for _, c := range b.cookies() {
		req.AddCookie(c)
	}
	rec := httptest.NewRecorder()
	s.handler.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /profile through the handler: status %d", rec.Code)
	}
	if n := len(rec.Header()); n > 8 {
		t.Errorf("the handler set %d headers %q; want at most 8", n, slices.Sorted(maps.Keys(rec.Header())))
	}
}

// TestUnindentedPages checks what unindent relies on: no page template
// holds an element whose blanks show (pre, textarea) or an inline script,
// and pages are sent without indentation.
func TestUnindentedPages(t *testing.T) {
	files, err := filepath.Glob("templates/*.html")
	if err != nil || len(files) == 0 {
		t.Fatalf("page templates: %v, %v", files, err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		text := strings.ToLower(string(b))
		for _, bad := range []string{"<pre", "<textarea", "<script>", "white-space"} {
			if strings.Contains(text, bad) {
				t.Errorf("%s holds %q, whose blanks unindent would remove", f, bad)
			}
		}
	}
	s := newSite(t)
	for _, path := range []string{"/", "/login", "/signup"} {
		body := s.browser().get(path).body
		for line := range strings.Lines(body) {
			if strings.TrimLeft(line, " \t") != line {
				t.Errorf("GET %s: line %q is indented", path, line)
				break
			}
		}
	}
}
