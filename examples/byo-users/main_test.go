package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/latchauth/latch"
	"github.com/latchauth/latch/latchtest"
)

// server starts the app on a test server with a fresh data folder and cheap
// password hashing.
func server(t *testing.T) (*app, *httptest.Server, string) {
	t.Helper()
	dir := t.TempDir()
	a, err := newApp(context.Background(), dir, latchtest.PasswordParams)
	if err != nil {
		t.Fatalf("newApp: %v", err)
	}
	t.Cleanup(func() { a.Close() })
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(srv.Close)
	return a, srv, dir
}

// client is a browser with a cookie jar that shows every redirect.
func client() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func do(t *testing.T, c *http.Client, method, u string, form url.Values, header ...string) (*http.Response, string) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// me is what /api/me answers.
type me struct {
	ID    int64  `json:"id"`
	Email string `json:"email"`
	Name  string `json:"name"`
	Via   string `json:"via"`
}

func TestSignUpLogInAndAPIKey(t *testing.T) {
	_, srv, dir := server(t)
	b := client()
	ada := url.Values{"email": {"Ada@Example.com"}, "name": {"Ada"}, "password": {"correct horse"}}

	if resp, _ := do(t, b, "POST", srv.URL+"/signup", ada); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login" {
		t.Fatalf("POST /signup = %d to %q; want 303 to /login", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, body := do(t, b, "POST", srv.URL+"/signup", ada); resp.StatusCode != http.StatusConflict || !strings.Contains(body, "already exists") {
		t.Errorf("POST /signup again = %d; want 409 saying the address exists", resp.StatusCode)
	}
	wrong := url.Values{"email": {"ada@example.com"}, "password": {"wrong password"}}
	if resp, body := do(t, b, "POST", srv.URL+"/login", wrong); resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "check your login details") {
		t.Errorf("POST /login with a wrong password = %d; want 401 with the message", resp.StatusCode)
	}
	right := url.Values{"email": {"ada@example.com"}, "password": {"correct horse"}, "next": {"/api/me"}}
	if resp, _ := do(t, b, "POST", srv.URL+"/login", right); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/api/me" {
		t.Fatalf("POST /login = %d to %q; want 303 to /api/me", resp.StatusCode, resp.Header.Get("Location"))
	}
	if _, body := do(t, b, "GET", srv.URL+"/", nil); !strings.Contains(body, "Hello, Ada!") {
		t.Errorf("GET / after login = %q; want a greeting", body)
	}
	resp, body := do(t, b, "GET", srv.URL+"/api/me", nil)
	var got me
	if err := json.Unmarshal([]byte(body), &got); resp.StatusCode != 200 || err != nil || got.Email != "ada@example.com" || got.Via != "session" {
		t.Errorf("GET /api/me with the session = %d %q; want Ada via session", resp.StatusCode, body)
	}

	// A new API key, shown once, opens /api/me to a program without cookies.
	_, body = do(t, b, "POST", srv.URL+"/key", nil)
	m := regexp.MustCompile(`<code id="key">([A-Za-z0-9_-]+)</code>`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("POST /key = %q; want a key", body)
	}
	key := m[1]
	program := &http.Client{}
	resp, body = do(t, program, "GET", srv.URL+"/api/me", nil, "Authorization", "Bearer "+key)
	if err := json.Unmarshal([]byte(body), &got); resp.StatusCode != 200 || err != nil || got.Name != "Ada" || got.Via != "request" {
		t.Errorf("GET /api/me with the key = %d %q; want Ada via request", resp.StatusCode, body)
	}

	// Logging out ends the browser's session, not the key.
	do(t, b, "POST", srv.URL+"/logout", nil)
	if _, body := do(t, b, "GET", srv.URL+"/", nil); strings.Contains(body, "Hello") {
		t.Errorf("GET / after logout = %q; want anonymous", body)
	}
	if resp, _ := do(t, program, "GET", srv.URL+"/api/me", nil, "Authorization", "Bearer "+key); resp.StatusCode != 200 {
		t.Errorf("GET /api/me with the key after logout = %d; want 200", resp.StatusCode)
	}

	// The users are in the app's own table named users, in the file that
	// also holds latch's sessions, with the key stored only as its hash.
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "app.db")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM users WHERE email = 'ada@example.com' AND length(api_key_hash) = 32 AND password_hash LIKE '$argon2id$%'`).Scan(&n); err != nil || n != 1 {
		t.Errorf("users rows for Ada with a hashed key = %d, %v; want 1", n, err)
	}
	if err := db.QueryRow(`SELECT count(*) FROM sqlite_schema WHERE name IN ('latch_sessions', 'latch_users')`).Scan(&n); err != nil || n != 2 {
		t.Errorf("latch's tables in app.db = %d, %v; want latch_sessions and latch_users", n, err)
	}
}

// TestLoginThrottled guesses Ada's password until the login is throttled:
// then even the right one is refused with 429 and Retry-After, and an
// unknown email is answered as a wrong password is.
func TestLoginThrottled(t *testing.T) {
	_, srv, _ := server(t)
	b := client()
	if resp, _ := do(t, b, "POST", srv.URL+"/signup", url.Values{"email": {"ada@example.com"}, "name": {"Ada"}, "password": {"correct horse"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("POST /signup = %d; want 303", resp.StatusCode)
	}
	for _, email := range []string{"ada@example.com", "nobody@example.com"} {
		resp, body := do(t, b, "POST", srv.URL+"/login", url.Values{"email": {email}, "password": {"wrong horse"}})
		if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "check your login details") {
			t.Errorf("POST /login %s, wrong password = %d; want 401 asking to check the details", email, resp.StatusCode)
		}
	}
	var resp *http.Response
	for range 20 {
		if resp, _ = do(t, b, "POST", srv.URL+"/login", url.Values{"email": {"ada@example.com"}, "password": {"wrong horse"}}); resp.StatusCode == http.StatusTooManyRequests {
			break
		}
	}
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("POST /login after 20 wrong passwords = %d; want 429", resp.StatusCode)
	}
	resp, _ = do(t, b, "POST", srv.URL+"/login", url.Values{"email": {"ada@example.com"}, "password": {"correct horse"}})
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Errorf("POST /login with the right password while throttled = %d, Retry-After %q; want 429 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
}

func TestAPIAnswers401JSONWithoutCredentials(t *testing.T) {
	_, srv, _ := server(t)
	tests := []struct{ name, accept, auth string }{
		{"curl", "*/*", ""},
		{"fetch", "*/*", ""},
		{"browser", "text/html,application/xhtml+xml", ""},
		{"no Accept", "", ""},
		{"wrong key", "*/*", "Bearer not-a-key"},
		{"another scheme", "*/*", "Basic YWRhOnB3"},
		{"huge key", "*/*", "Bearer " + strings.Repeat("k", 5000)},
	}
	for _, tt := range tests {
		resp, body := do(t, client(), "GET", srv.URL+"/api/me", nil, "Accept", tt.accept, "Authorization", tt.auth)
		if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") != `Bearer realm="byo-users"` ||
			resp.Header.Get("Content-Type") != "application/json" || !json.Valid([]byte(body)) {
			t.Errorf("%s: GET /api/me = %d %q %v; want 401 JSON with WWW-Authenticate", tt.name, resp.StatusCode, body, resp.Header)
		}
	}
	// Pages still send browsers to log in.
	if resp, _ := do(t, client(), "POST", srv.URL+"/key", nil); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login" {
		t.Errorf("anonymous POST /key = %d to %q; want 303 to /login", resp.StatusCode, resp.Header.Get("Location"))
	}
}

func TestSignUpRejectsBadInput(t *testing.T) {
	_, srv, _ := server(t)
	tests := []struct {
		form url.Values
		want string
	}{
		{url.Values{"email": {"not an address"}, "name": {"Ada"}, "password": {"correct horse"}}, "email address such as"},
		{url.Values{"email": {"Ada <ada@example.com>"}, "name": {"Ada"}, "password": {"correct horse"}}, "email address such as"},
		{url.Values{"email": {"ada@example.com"}, "name": {""}, "password": {"correct horse"}}, "enter your name"},
		{url.Values{"email": {"ada@example.com"}, "name": {"Ada"}, "password": {"short"}}, "at least 8"},
		{url.Values{"email": {"ada@example.com"}, "name": {"Ada"}, "password": {strings.Repeat("p", 2000)}}, "at most 1024"},
	}
	for _, tt := range tests {
		resp, body := do(t, client(), "POST", srv.URL+"/signup", tt.form)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, tt.want) {
			t.Errorf("POST /signup %v = %d; want 400 saying %q", tt.form, resp.StatusCode, tt.want)
		}
	}
}

// A test of the app's own pages starts logged in with latchtest, without
// the login form.
func TestKeyNeedsAFreshLogin(t *testing.T) {
	a, srv, _ := server(t)
	res, err := a.users.Exec(`INSERT INTO users (email, name, password_hash, created_at) VALUES ('bea@example.com', 'Bea', 'x', '2026-01-01T00:00:00Z')`)
	if err != nil {
		t.Fatal(err)
	}
	id, _ := res.LastInsertId()
	uid := strconv.FormatInt(id, 10)
	fresh := latchtest.LoginAs(t, a.auth, srv.URL, uid, latch.LoginOptions{})
	if resp, body := do(t, fresh, "POST", srv.URL+"/key", nil); resp.StatusCode != 200 || !strings.Contains(body, `id="key"`) {
		t.Errorf("fresh POST /key = %d; want a key", resp.StatusCode)
	}
	remembered := latchtest.RememberedAs(t, a.auth, srv.URL, uid)
	if resp, _ := do(t, remembered, "POST", srv.URL+"/key", nil); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("remembered POST /key = %d; want 303 to log in again", resp.StatusCode)
	}
}
