package userimport_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/latchauth/latch/internal/app"
	"github.com/latchauth/latch/internal/apptest"
	"github.com/latchauth/latch/internal/userimport"
)

// client is a browser without redirects: every hop is checked.
type client struct {
	t    *testing.T
	base string
	c    *http.Client
}

func newClient(t *testing.T, base string) *client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &client{t: t, base: base, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

// do sends a request; a form is posted with the Origin a browser sends.
func (c *client) do(method, path string, form url.Values) (*http.Response, string) {
	c.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, c.base+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", c.base)
	}
	resp, err := c.c.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return resp, string(b)
}

// login posts the login form and returns where it redirects to.
func (c *client) login(email, pw string) string {
	c.t.Helper()
	resp, body := c.do("POST", "/login", url.Values{"email": {email}, "password": {pw}})
	if resp.StatusCode != http.StatusSeeOther {
		c.t.Fatalf("POST /login as %s: status %d; want 303 (body %q)", email, resp.StatusCode, body)
	}
	return resp.Header.Get("Location")
}

// TestLoginAfterImport imports the tutorial's users and logs each in through
// the app with the password they had in Flask.
func TestLoginAfterImport(t *testing.T) {
	ctx := context.Background()
	src := flaskSource(t)
	store := newStore(t)
	if _, err := userimport.Import(ctx, store, src.path, userimport.Options{}); err != nil {
		t.Fatalf("Import: %v", err)
	}
	a := apptest.New(t, store, app.Config{})
	srv := httptest.NewServer(a.App.Handler())
	defer srv.Close()

	for _, tt := range []struct {
		email, name string
		v           vector
	}{
		{"ada@example.com", "Ada Lovelace", src.sha256},
		{"bob@example.com", "Bob", src.pbkdf2},
		{"carol@example.com", "Carol", src.scry},
	} {
		// A wrong password fails, legacy hash or not.
		c := newClient(t, srv.URL)
		if to := c.login(tt.email, tt.v.Password+"x"); to != "/login" {
			t.Errorf("%s with a wrong password: redirected to %q; want /login", tt.email, to)
		}
		if resp, _ := c.do("GET", "/profile", nil); resp.StatusCode != http.StatusSeeOther {
			t.Errorf("%s: GET /profile after a failed login: status %d; want 303 to the login page", tt.email, resp.StatusCode)
		}

		if to := c.login(tt.email, tt.v.Password); to != "/profile" {
			t.Fatalf("%s (%s): login redirected to %q; want /profile", tt.email, tt.v.Format, to)
		}
		resp, body := c.do("GET", "/profile", nil)
		if want := "Welcome, " + tt.name + "!"; resp.StatusCode != http.StatusOK || !strings.Contains(body, want) {
			t.Errorf("%s: GET /profile: status %d, body without %q", tt.email, resp.StatusCode, want)
		}

		// The first login replaced the legacy hash with argon2id.
		u, err := store.UserByEmail(ctx, tt.email)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(u.PasswordHash, "$argon2id$") {
			t.Errorf("%s: after login the hash is %.20q...; want $argon2id$", tt.email, u.PasswordHash)
		}
		if u.LastLoginAt.IsZero() {
			t.Errorf("%s: LastLoginAt not set by the login", tt.email)
		}

		// Logging in again checks the new hash.
		c2 := newClient(t, srv.URL)
		if to := c2.login(tt.email, tt.v.Password); to != "/profile" {
			t.Errorf("%s: second login redirected to %q; want /profile", tt.email, to)
		}
		if to := newClient(t, srv.URL).login(tt.email, "not the password"); to != "/login" {
			t.Errorf("%s: wrong password after rehash redirected to %q; want /login", tt.email, to)
		}
	}
}
