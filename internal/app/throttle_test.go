package app_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/latchauth/latch/internal/app"
	"github.com/latchauth/latch/internal/apptest"
)

// newDefaultSite serves the app with its default throttling, on a clock
// that stands still, so that no wait runs out during a test however slowly
// it runs.
func newDefaultSite(t *testing.T) *site {
	t.Helper()
	return newSiteWith(t, apptest.NewStore(t), app.Config{}, true)
}

// browserAt returns a new browser whose requests come from client, through
// the trusted loopback proxy.
func (s *site) browserAt(client string) *browser {
	b := s.browser()
	b.headers["X-Forwarded-For"] = client
	return b
}

// knownBrowser signs email up from client, logs in once, so that the
// browser holds a device cookie, and logs out again.
func (s *site) knownBrowser(t *testing.T, email, client string) *browser {
	t.Helper()
	b := s.browserAt(client)
	b.signup(email, "User", goodPassword)
	if r := b.login(email, goodPassword, false); r.header.Get("Location") != "/profile" {
		t.Fatalf("first login of %s = %d → %q; want 303 → /profile", email, r.status, r.header.Get("Location"))
	}
	b.post("/logout", url.Values{})
	return b
}

// wantLoggedIn checks that a login answered with the way to the profile.
func wantLoggedIn(t *testing.T, what string, r result) {
	t.Helper()
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/profile" {
		t.Errorf("%s = %d → %q; want 303 → /profile", what, r.status, r.header.Get("Location"))
	}
}

// wantThrottled checks that r is a 429 with a Retry-After of at most max
// seconds.
func wantThrottled(t *testing.T, what string, r result, max int) {
	t.Helper()
	secs, err := strconv.Atoi(r.header.Get("Retry-After"))
	if r.status != http.StatusTooManyRequests || err != nil || secs < 1 || secs > max {
		t.Errorf("%s = %d, Retry-After %q; want 429 with Retry-After 1 to %d", what, r.status, r.header.Get("Retry-After"), max)
	}
}

// TestDistributedGuessing guesses Ann's password from 30 addresses, 4
// wrong passwords each, each address a new browser. The account-wide limit
// checks no more than its free failures and one; after them, the right
// password from yet another address is refused with 429, while Ann's own
// browser, holding a device cookie, logs in at once.
func TestDistributedGuessing(t *testing.T) {
	s := newDefaultSite(t)
	owner := s.knownBrowser(t, "ann@example.com", "198.51.100.200")
	const free = 10 // throttle.NewPolicy's Account.Free
	checked, refused := 0, 0
	for i := range 30 {
		attacker := s.browserAt(fmt.Sprintf("203.0.113.%d", i))
		for j := range 4 {
			r := attacker.login("ann@example.com", fmt.Sprintf("guess %d-%d!", i, j), false)
			switch r.status {
			case http.StatusSeeOther:
				checked++
			case http.StatusTooManyRequests:
				refused++
				if r.header.Get("Retry-After") == "" {
					t.Fatalf("429 without Retry-After")
				}
			default:
				t.Fatalf("guess %d from address %d = %d; want 303 or 429", j+1, i, r.status)
			}
		}
	}
	if checked != free+1 || refused != 120-checked {
		t.Errorf("30 addresses x 4 guesses: %d checked, %d refused; want %d checked, the rest refused", checked, refused, free+1)
	}
	newcomer := s.browserAt("192.0.2.77")
	wantThrottled(t, "right password from a new address", newcomer.login("ann@example.com", goodPassword, false), 15*60)
	if newcomer.get("/profile").status != http.StatusSeeOther {
		t.Error("the refused login from a new address logged in")
	}
	wantLoggedIn(t, "Ann's browser with its device cookie", owner.login("ann@example.com", goodPassword, false))
}

// TestSharedAddressNotLockedOut sends 40 wrong passwords at once, for 40
// emails, from one address. Bob, behind the same address with a device
// cookie, logs in at once; Carol, behind it on a new browser, waits a
// minute at most: nobody is locked out for 15 minutes.
func TestSharedAddressNotLockedOut(t *testing.T) {
	s := newDefaultSite(t)
	const shared = "203.0.113.50"
	bob := s.knownBrowser(t, "bob@example.com", shared)
	carol := s.browserAt(shared)
	carol.signup("carol@example.com", "Carol", goodPassword)

	var wg sync.WaitGroup
	statuses := make(chan int, 40)
	for i := range 40 {
		wg.Go(func() {
			b := s.browserAt(shared)
			statuses <- b.login(fmt.Sprintf("user%d@example.com", i), "Summer2026!", false).status
		})
	}
	wg.Wait()
	close(statuses)
	checked := 0
	for st := range statuses {
		if st == http.StatusSeeOther {
			checked++
		}
	}
	if checked > 21 {
		t.Errorf("40 parallel failures from one address: %d checked; want at most 21 (the address's free failures and one)", checked)
	}
	wantLoggedIn(t, "Bob's known browser behind the address", bob.login("bob@example.com", goodPassword, false))
	wantThrottled(t, "Carol's new browser behind the address", carol.login("carol@example.com", goodPassword, false), 60)
}

// TestSignUpThrottled signs up again and again from one address: after the
// free attempts the answer is 429 with Retry-After and a message, and the
// tutorial's "Email address already exists" until then.
func TestSignUpThrottled(t *testing.T) {
	s := newDefaultSite(t)
	b := s.browserAt("203.0.113.9")
	b.signup("ann@example.com", "Ann", goodPassword)
	const free = 20 // throttle.NewPolicy's SignUp.Free
	for i := range free {
		r := b.signup("ann@example.com", "Ann", goodPassword)
		if r.status != http.StatusSeeOther {
			t.Fatalf("sign-up %d = %d; want 303", i+2, r.status)
		}
		if i == 0 {
			mustContain(t, "sign-up page", b.follow(r).body, "Email address already exists")
		}
	}
	r := b.signup("bob@example.com", "Bob", goodPassword)
	wantThrottled(t, "sign-up past the limit", r, 60)
	mustContain(t, "429 page", r.body, "Too many sign-up attempts from your network. Please try again in", `value="bob@example.com"`)
	if r := s.browserAt("198.51.100.1").signup("bob@example.com", "Bob", goodPassword); r.header.Get("Location") != "/login" {
		t.Errorf("sign-up from another address = %d → %q; want 303 → /login", r.status, r.header.Get("Location"))
	}
}

// TestDeviceCookie checks the device cookie's attributes, that it outlives
// logout, and its name and Secure flag with secure cookies on.
func TestDeviceCookie(t *testing.T) {
	s := newDefaultSite(t)
	b := s.knownBrowser(t, "ann@example.com", "198.51.100.1")
	b.jar.mu.Lock()
	c := b.jar.set["latch_device"]
	b.jar.mu.Unlock()
	if c == nil {
		t.Fatal("no latch_device cookie after login and logout")
	}
	if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.MaxAge < 300*24*3600 || c.Path != "/" {
		t.Errorf("device cookie = %+v; want HttpOnly, SameSite=Lax, Path=/, lasting most of a year", c)
	}

	secure := newSiteWith(t, apptest.NewStore(t), app.Config{SecureCookies: true}, false)
	sb := secure.browser()
	sb.signup("ann@example.com", "Ann", goodPassword)
	r := sb.login("ann@example.com", goodPassword, false)
	var found bool
	for _, line := range r.header.Values("Set-Cookie") {
		if strings.HasPrefix(line, "__Host-latch_device=") {
			found = true
			if !strings.Contains(line, "Secure") || !strings.Contains(line, "HttpOnly") || !strings.Contains(line, "Path=/") || strings.Contains(line, "Domain=") {
				t.Errorf("secure device cookie %q; want Secure, HttpOnly, Path=/ and no Domain", line)
			}
		}
	}
	if !found {
		t.Errorf("login with secure cookies set %q; want a __Host-latch_device cookie", r.header.Values("Set-Cookie"))
	}
}

// TestAuthEventsLogged checks that sign-up, login success, failure and
// throttling, and logout each log one record with their outcome, the
// client and the user, and that no record holds the password or the full
// email.
func TestAuthEventsLogged(t *testing.T) {
	s := newSite(t)
	b := s.browserAt("198.51.100.3")
	b.signup("ann.smith@example.com", "Ann", goodPassword)
	b.login("ann.smith@example.com", goodPassword, false)
	b.post("/logout", url.Values{})
	attacker := s.browserAt("203.0.113.3")
	for range 5 {
		attacker.login("ann.smith@example.com", "wrong password!", false)
	}
	logs := s.logs.String()
	var auth []string
	for line := range strings.Lines(logs) {
		if strings.Contains(line, "msg=auth ") {
			auth = append(auth, line)
		}
	}
	for _, want := range [][]string{
		{"event=signup", "outcome=success", "user_id=1", "client=198.51.100.3", "email=a***@example.com"},
		{"event=login", "outcome=success", "user_id=1", "client=198.51.100.3"},
		{"event=logout", "outcome=success", "user_id=1", "client=198.51.100.3"},
		{"event=login", "outcome=failure", "client=203.0.113.3", `reason="bad credentials"`},
		{"event=login", "outcome=throttled", "client=203.0.113.3", "retry_after="},
	} {
		n := 0
		for _, line := range auth {
			if containsAll(line, want) {
				n++
			}
		}
		if n == 0 {
			t.Errorf("no auth log record with %q; records:\n%s", want, strings.Join(auth, ""))
		}
	}
	mustNotContain(t, "logs", logs, goodPassword, "wrong password!", "ann.smith@example.com")
}

func containsAll(s string, subs []string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

// TestLogOutElsewhereRevokesDevices has Ann log in on two browsers, then
// log out everywhere else from the first while her account is under
// attack. The second browser's device cookie no longer spares it the
// account-wide limit, while the first, given a new cookie, still logs in
// at once.
func TestLogOutElsewhereRevokesDevices(t *testing.T) {
	s := newDefaultSite(t)
	laptop := s.knownBrowser(t, "ann@example.com", "198.51.100.1")
	phone := s.browserAt("198.51.100.2")
	wantLoggedIn(t, "login on the phone", phone.login("ann@example.com", goodPassword, false))
	phone.post("/logout", url.Values{})
	for i := range 12 {
		s.browserAt(fmt.Sprintf("203.0.113.%d", i)).login("ann@example.com", "wrong guess!", false)
	}
	wantLoggedIn(t, "login on the laptop", laptop.login("ann@example.com", goodPassword, false))
	if r := laptop.post("/sessions/revoke-others", url.Values{}); r.status != http.StatusSeeOther || r.header.Get("Location") != "/profile" {
		t.Fatalf("POST /sessions/revoke-others = %d → %q; want 303 → /profile", r.status, r.header.Get("Location"))
	}
	wantThrottled(t, "the phone after log out everywhere else", phone.login("ann@example.com", goodPassword, false), 15*60)
	laptop.post("/logout", url.Values{})
	wantLoggedIn(t, "the laptop with its new device cookie", laptop.login("ann@example.com", goodPassword, false))
}
