package app_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchauth/latch"
	"github.com/latchauth/latch/internal/app"
	"github.com/latchauth/latch/internal/apptest"
	"github.com/latchauth/latch/password"
	"github.com/latchauth/latch/sqlitestore"
)

// TestProfileBoundedAfterManyLogins logs one user in afresh more often than
// a user may have sessions: the store keeps 100, and the profile lists the
// ten most recently used and counts the rest.
func TestProfileBoundedAfterManyLogins(t *testing.T) {
	s := newSite(t)
	ann := s.browser()
	ann.signup("ann@example.com", "Ann", goodPassword)
	for range 130 {
		if r := s.browser().login("ann@example.com", goodPassword, false); r.status != http.StatusSeeOther {
			t.Fatalf("login = %d; want 303", r.status)
		}
	}
	ann.login("ann@example.com", goodPassword, false)
	all, err := s.store.UserSessions(t.Context(), "1")
	if err != nil || len(all) != 100 {
		t.Fatalf("store holds %d sessions of the user, %v; want 100", len(all), err)
	}
	p := ann.get("/profile")
	if p.status != http.StatusOK {
		t.Fatalf("/profile = %d; want 200", p.status)
	}
	rows := strings.Count(p.body, "<tr>") - 1 // less the header row
	if rows != 10 {
		t.Errorf("profile lists %d sessions; want 10", rows)
	}
	mustContain(t, "profile", p.body, "this device", "and 90 other sessions", "Log out everywhere else")
	if len(p.body) > 20<<10 {
		t.Errorf("profile is %d bytes; want at most 20 KiB", len(p.body))
	}

	r := ann.post("/sessions/revoke-others", url.Values{})
	mustContain(t, "after revoke-others", ann.follow(r).body, "You have been logged out everywhere else.")
	p = ann.get("/profile")
	mustNotContain(t, "profile after revoke-others", p.body, "other session", "Log out everywhere else")
	if rows := strings.Count(p.body, "<tr>") - 1; rows != 1 {
		t.Errorf("profile after revoke-others lists %d sessions; want 1", rows)
	}
}

// gatedStore holds the answers to the first n lookups by remember-me token
// until all n have read, so that n requests restoring one login all read
// the record before any of them rotates it: the race of a browser
// reopening its tabs, made certain instead of likely.
type gatedStore struct {
	*sqlitestore.DB
	mu      sync.Mutex
	waiting int
	open    chan struct{}
}

func (g *gatedStore) SessionByRemember(ctx context.Context, hash []byte) (latch.Session, error) {
	// Read first, then wait for the others: each request then holds
	// the record as it was before any rotation.
	s, err := g.DB.SessionByRemember(ctx, hash)
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

// TestRestoredTabsRotateRememberOnce restores one remembered login in
// several tabs at once, each with its own cookie jar holding the same
// remember-me cookie: every tab is logged in, one rotation happens, and the
// store holds the pair that tab was given.
func TestRestoredTabsRotateRememberOnce(t *testing.T) {
	const tabs = 6
	gs := &gatedStore{DB: apptest.NewStore(t), open: make(chan struct{})}
	a, err := app.New(gs, app.Config{SecretKey: bytes.Repeat([]byte("k"), 32), Hasher: password.NewHasher(apptest.CheapParams, 4, 64)})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(srv.Close)
	s := &site{t: t, srv: srv, handler: a.Handler(), store: gs.DB, logs: &apptest.Buffer{}}

	b := s.browser()
	b.signup("ann@example.com", "Ann", goodPassword)
	b.login("ann@example.com", goodPassword, true)
	remember := b.jar.set["latch_remember"]
	if remember == nil {
		t.Fatal("login with remember me set no remember cookie")
	}
	var browsers [tabs]*browser
	for i := range browsers {
		browsers[i] = b.restart()
	}

	gs.mu.Lock()
	gs.waiting = tabs
	gs.mu.Unlock()
	var (
		wg      sync.WaitGroup
		results [tabs]result
	)
	for i, tab := range browsers {
		wg.Go(func() { results[i] = tab.get("/profile") })
	}
	wg.Wait()

	var rotated []string
	for i, r := range results {
		if r.status != http.StatusOK || !strings.Contains(r.body, "Welcome, Ann!") {
			t.Errorf("tab %d: /profile = %d; want 200, logged in", i, r.status)
		}
		for _, c := range (&http.Response{Header: r.header}).Cookies() {
			if c.Name == "latch_remember" && c.Value != "" {
				rotated = append(rotated, c.Value)
			}
		}
	}
	if len(rotated) != 1 {
		t.Fatalf("%d tabs were given a new remember cookie; want exactly 1", len(rotated))
	}
	old := sha256.Sum256([]byte(remember.Value))
	got, err := gs.DB.SessionByRemember(t.Context(), old[:])
	if err != nil {
		t.Fatalf("SessionByRemember(old token) error = %v; want the rotated session", err)
	}
	if want := sha256.Sum256([]byte(rotated[0])); !bytes.Equal(got.RememberHash, want[:]) || !bytes.Equal(got.PrevRememberHash, old[:]) {
		t.Errorf("stored remember hashes = %x (previous %x); want %x (previous %x): one rotation, to the pair given", got.RememberHash, got.PrevRememberHash, want, old)
	}
	// Each tab goes on: the one rotated with its new cookies, the
	// others with the old token in its grace.
	for i, tab := range browsers {
		if r := tab.get("/profile"); r.status != http.StatusOK {
			t.Errorf("tab %d: second /profile = %d; want 200", i, r.status)
		}
	}
}

// TestRevokeNeedsFreshLogin checks that a session restored by remember-me
// must confirm the password before ending other sessions, and that the
// confirmation page takes it there and back.
func TestRevokeNeedsFreshLogin(t *testing.T) {
	s := newSite(t)
	laptop, phone := s.browser(), s.browser()
	laptop.signup("ann@example.com", "Ann", goodPassword)
	laptop.login("ann@example.com", goodPassword, true)
	phone.login("ann@example.com", goodPassword, false)
	laptop = laptop.restart() // remembered, not fresh

	for _, path := range []string{"/sessions/revoke-others", "/sessions/revoke"} {
		r := laptop.post(path, url.Values{"id": {"whatever"}})
		if r.status != http.StatusSeeOther || r.header.Get("Location") != "/login/confirm" {
			t.Fatalf("POST %s from a remembered session = %d → %q; want 303 → /login/confirm", path, r.status, r.header.Get("Location"))
		}
		page := laptop.follow(r)
		mustContain(t, "confirm page", page.body, "Please reauthenticate", "ann@example.com", `type="password"`, `action="/login/confirm"`)
	}
	if phone.get("/profile").status != http.StatusOK {
		t.Fatal("a revocation from a not fresh session ended the phone's")
	}

	r := laptop.post("/login/confirm", url.Values{"password": {"wrong password"}})
	if r.header.Get("Location") != "/login/confirm" {
		t.Fatalf("wrong password: → %q; want /login/confirm", r.header.Get("Location"))
	}
	mustContain(t, "confirm page after a wrong password", laptop.follow(r).body, "That password is not right.")
	if r := laptop.post("/sessions/revoke-others", url.Values{}); r.header.Get("Location") != "/login/confirm" {
		t.Fatalf("revoke-others after a wrong password → %q; want /login/confirm", r.header.Get("Location"))
	}

	// An unsafe next is not followed.
	r = laptop.post("/login/confirm", url.Values{"password": {goodPassword}, "next": {"//evil.example/"}})
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/profile" {
		t.Fatalf("confirm = %d → %q; want 303 → /profile", r.status, r.header.Get("Location"))
	}
	r = laptop.post("/sessions/revoke-others", url.Values{})
	mustContain(t, "after revoke-others", laptop.follow(r).body, "You have been logged out everywhere else.")
	if got := phone.get("/profile"); got.status != http.StatusSeeOther {
		t.Errorf("phone after a confirmed revoke-others = %d; want 303", got.status)
	}
	logs := s.logs.String()
	if want := `msg="sessions revoked" event=revoke_other_sessions user_id=1 client=127.0.0.1 ended=1`; !strings.Contains(logs, want) {
		t.Errorf("logs lack %q:\n%s", want, logs)
	}

	if r := s.browser().get("/login/confirm"); r.status != http.StatusSeeOther || !strings.HasPrefix(r.header.Get("Location"), "/login?") {
		t.Errorf("anonymous /login/confirm = %d → %q; want redirect to login", r.status, r.header.Get("Location"))
	}
}

// TestRevokeSessionLogged checks the record of one revocation.
func TestRevokeSessionLogged(t *testing.T) {
	s := newSite(t)
	laptop, phone := s.browser(), s.browser()
	laptop.signup("ann@example.com", "Ann", goodPassword)
	laptop.login("ann@example.com", goodPassword, false)
	phone.login("ann@example.com", goodPassword, false)
	ids := revokeIDRe.FindAllStringSubmatch(laptop.get("/profile").body, -1)
	if len(ids) != 1 {
		t.Fatalf("profile offers %d sessions to revoke; want 1", len(ids))
	}
	for _, want := range []string{"ended=1", "ended=0"} {
		laptop.do("POST", "/sessions/revoke", url.Values{"id": {ids[0][1]}}, "X-Forwarded-For", "203.0.113.5")
		line := fmt.Sprintf(`msg="sessions revoked" event=revoke_session user_id=1 client=203.0.113.5 %s`, want)
		if !strings.Contains(s.logs.String(), line) {
			t.Errorf("logs lack %q:\n%s", line, s.logs.String())
		}
	}
}

// TestFlashCookieHostPrefix checks that in secure mode the flash cookie has
// the __Host- prefix, and that an unprefixed one, which a subdomain could
// set, is not read.
func TestFlashCookieHostPrefix(t *testing.T) {
	h := apptest.New(t, nil, app.Config{SecureCookies: true}).App.Handler()
	req := httptest.NewRequest("POST", "https://example.com/login", strings.NewReader("email=nobody%40example.com&password=wrong+password"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var flash *http.Cookie
	for _, c := range rec.Result().Cookies() {
		if strings.HasSuffix(c.Name, "latch_flash") {
			flash = c
		}
	}
	if flash == nil || flash.Name != "__Host-latch_flash" || !flash.Secure || flash.Path != "/" || flash.Domain != "" {
		t.Fatalf("flash cookie = %+v; want __Host-latch_flash, Secure, Path=/, no Domain", flash)
	}
	for _, tt := range []struct {
		name string
		want bool
	}{{"__Host-latch_flash", true}, {"latch_flash", false}} {
		req := httptest.NewRequest("GET", "https://example.com/login", nil)
		req.Header.Set("Cookie", tt.name+"="+flash.Value)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if got := strings.Contains(rec.Body.String(), "Please check your login details"); got != tt.want {
			t.Errorf("GET /login with cookie %s: flash shown = %t; want %t", tt.name, got, tt.want)
		}
	}
}
