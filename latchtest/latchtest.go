// Package latchtest helps test applications built on latch: it logs a user
// in without going through the application's login form, so that a test of
// a guarded page starts where it means to, and gives password hashing
// parameters cheap enough for tests.
//
// A typical test starts the application on a [net/http/httptest.Server]
// with a Manager on a memstore, then:
//
//	c := latchtest.LoginAs(t, m, srv.URL, "42", latch.LoginOptions{})
//	resp, err := c.Get(srv.URL + "/profile")
//
// The session is created through [latch.Manager.LogIn], in the Manager's
// store, so the application sees it exactly as it sees a login made through
// its own form.
package latchtest

import (
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/latchauth/latch"
	"github.com/latchauth/latch/password"
)

// PasswordParams are argon2id parameters that hash in well under a
// millisecond, for tests that create users: 64 KiB of memory, one pass.
// They are far too weak to protect a real password; never use them outside
// tests.
var PasswordParams = password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// goClient is the User-Agent that Go's HTTP client sends by default, so
// that [latch.Manager.Protection] sees the client of LoginAs as the browser
// that logged in.
const goClient = "Go-http-client/1.1"

// Cookies logs userID in with m, as [latch.Manager.LogIn] does with opts,
// and returns the cookies it set: the session cookie and, with
// opts.Remember, the remember-me cookie. Add them to a request to act as
// the user; a request carrying only the remember-me cookie is a login
// restored by it, which is not fresh. The session records the User-Agent of
// Go's HTTP client, which matters only with [latch.Manager.Protection]. It
// fails the test if the login fails.
func Cookies[U any](t testing.TB, m *latch.Manager[U], userID string, opts latch.LoginOptions) []*http.Cookie {
	t.Helper()
	rec := httptest.NewRecorder()
	r := httptest.NewRequest("POST", "/", nil)
	r.Header.Set("User-Agent", goClient)
	if err := m.LogIn(rec, r, userID, opts); err != nil {
		t.Fatalf("latchtest: log in %q: %v", userID, err)
	}
	var set []*http.Cookie
	for _, c := range rec.Result().Cookies() {
		if c.MaxAge >= 0 && c.Value != "" {
			set = append(set, c)
		}
	}
	return set
}

// LoginAs logs userID in with m and returns a client whose cookie jar
// holds the login's cookies for serverURL, the address of a server running
// m's middleware (such as the URL of a [net/http/httptest.Server]). The
// client does not follow redirects, so that a test sees each answer. The
// session is fresh unless opts.NotFresh. With [latch.Manager.Secure],
// serverURL must be https, since the cookies are Secure. It fails the test if the login fails or serverURL is not a URL.
func LoginAs[U any](t testing.TB, m *latch.Manager[U], serverURL, userID string, opts latch.LoginOptions) *http.Client {
	t.Helper()
	u, err := url.Parse(serverURL)
	if err != nil || u.Host == "" {
		t.Fatalf("latchtest: server URL %q is not an absolute URL", serverURL)
	}
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatalf("latchtest: cookie jar: %v", err)
	}
	jar.SetCookies(u, Cookies(t, m, userID, opts))
	return &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// RememberedAs returns a client as [LoginAs] does for a remembered login,
// holding only the remember-me cookie, as a browser does once restarted:
// its first request restores the login, which is then not fresh, so
// [latch.Manager.RequireFresh] turns it away.
func RememberedAs[U any](t testing.TB, m *latch.Manager[U], serverURL, userID string) *http.Client {
	t.Helper()
	c := LoginAs(t, m, serverURL, userID, latch.LoginOptions{Remember: true})
	u, _ := url.Parse(serverURL)
	_, remember := m.CookieNames()
	var keep []*http.Cookie
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == remember {
			keep = append(keep, ck)
		}
	}
	jar, _ := cookiejar.New(nil)
	jar.SetCookies(u, keep)
	c.Jar = jar
	return c
}
