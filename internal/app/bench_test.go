package app_test

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/latchauth/latch/internal/app"
	"github.com/latchauth/latch/internal/apptest"
	"github.com/latchauth/latch/password"
)

// benchWriter is a ResponseWriter that counts bytes and keeps the body only
// when asked, so that the benchmarks measure the app and not a recorder.
type benchWriter struct {
	header http.Header
	status int
	body   *bytes.Buffer
}

func (w *benchWriter) Header() http.Header { return w.header }
func (w *benchWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}

func (w *benchWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if w.body != nil {
		w.body.Write(b)
	}
	return len(b), nil
}

// newBenchApp returns the app's full handler stack on a SQLite store in a
// temporary folder, logging as in production (text, info level) into
// nothing, and the Cookie header of a logged-in user named "Ada Lovelace".
// Passwords are hashed cheaply: their cost is measured in package password.
func newBenchApp(b *testing.B) (http.Handler, string) {
	b.Helper()
	a := apptest.New(b, nil, app.Config{
		Hasher: password.NewHasher(apptest.CheapParams, 1, 8),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	h := a.App.Handler()
	post := func(path string, form url.Values) *http.Response {
		req := httptest.NewRequest("POST", path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Result()
	}
	form := url.Values{"email": {"ada@example.com"}, "name": {"Ada Lovelace"}, "password": {"analytical engine 1843"}}
	if resp := post("/signup", form); resp.StatusCode != http.StatusSeeOther {
		b.Fatalf("POST /signup: status %d; want 303", resp.StatusCode)
	}
	resp := post("/login", form)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/profile" {
		b.Fatalf("POST /login: status %d to %q; want 303 to /profile", resp.StatusCode, resp.Header.Get("Location"))
	}
	var cookies []string
	for _, c := range resp.Cookies() {
		if c.Value != "" {
			cookies = append(cookies, c.Name+"="+c.Value)
		}
	}
	return h, strings.Join(cookies, "; ")
}

// benchPage serves GET path with the cookie header again and again, and
// checks the first response for want.
func benchPage(b *testing.B, h http.Handler, path, cookie, want string) {
	b.Helper()
	base := httptest.NewRequest("GET", path, nil)
	base.Header.Set("Accept", "text/html")
	if cookie != "" {
		base.Header.Set("Cookie", cookie)
	}
	w := &benchWriter{header: http.Header{}, body: &bytes.Buffer{}}
	h.ServeHTTP(w, base.Clone(base.Context()))
	if w.status != http.StatusOK || !strings.Contains(w.body.String(), want) {
		b.Fatalf("GET %s: status %d, body without %q:\n%s", path, w.status, want, w.body)
	}
	w.body = nil
	b.ReportAllocs()
	for b.Loop() {
		clear(w.header)
		w.status = 0
		// The server makes a new request for every one it reads.
		h.ServeHTTP(w, base.Clone(base.Context()))
	}
}

// BenchmarkProfilePage measures the logged-in profile page through every
// middleware: logging, security headers, cross-origin protection, session
// lookup and user load in SQLite, require-login, and rendering.
func BenchmarkProfilePage(b *testing.B) {
	h, cookie := newBenchApp(b)
	benchPage(b, h, "/profile", cookie, "Welcome, Ada Lovelace!")
}

// BenchmarkHomePage measures the anonymous home page through the same
// stack.
func BenchmarkHomePage(b *testing.B) {
	h, _ := newBenchApp(b)
	benchPage(b, h, "/", "", "<!DOCTYPE html>")
}

// BenchmarkProfilePageManySessions measures the profile of a user who
// logged in 150 times afresh: the page lists ten sessions and counts the
// others, so it costs about what a user with one session's does.
func BenchmarkProfilePageManySessions(b *testing.B) {
	h, _ := newBenchApp(b)
	form := url.Values{"email": {"ada@example.com"}, "password": {"analytical engine 1843"}}
	var cookie string
	for range 150 {
		req := httptest.NewRequest("POST", "/login", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusSeeOther {
			b.Fatalf("POST /login: status %d; want 303", rec.Code)
		}
		// The last login's session, the most recently used: the
		// first ones end beyond the hundredth.
		cookie = ""
		for _, c := range rec.Result().Cookies() {
			if c.Value != "" {
				cookie = c.Name + "=" + c.Value
			}
		}
	}
	benchPage(b, h, "/profile", cookie, "and 90 other sessions")
}
