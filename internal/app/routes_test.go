package app_test

import (
	"net/http/httptest"
	"testing"

	"github.com/latchauth/latch/internal/app"
	"github.com/latchauth/latch/internal/apptest"
)

// TestRouting checks, for each route and for what no route matches, the
// status, the redirect, the allowed methods of a 405, and whether the
// request went through the session middleware, which adds "Vary: Cookie".
// Assets, /healthz and /favicon.ico must not: they skip the session lookup.
func TestRouting(t *testing.T) {
	h := apptest.New(t, nil, app.Config{}).App.Handler()
	tests := []struct {
		method, path string
		crossSite    bool // sent by a form on another site
		status       int
		location     string
		allow        string
		session      bool
	}{
		{"GET", "/", false, 200, "", "", true},
		{"HEAD", "/", false, 200, "", "", true},
		{"POST", "/", false, 405, "", "GET, HEAD", true},
		{"GET", "/signup", false, 200, "", "", true},
		{"GET", "/login", false, 200, "", "", true},
		{"GET", "/profile", false, 303, "/login?next=%2Fprofile", "", true},
		{"GET", "/logout", false, 303, "/", "", true},
		{"POST", "/logout", false, 303, "/", "", true},
		{"POST", "/login", true, 403, "", "", false},
		{"POST", "/signup", true, 403, "", "", false},
		{"POST", "/sessions/revoke", false, 303, "/login", "", true},
		{"POST", "/sessions/revoke-others", false, 303, "/login", "", true},
		{"GET", "/sessions/revoke", false, 404, "", "", true},
		{"PUT", "/signup", false, 405, "", "GET, HEAD, POST", true},
		{"OPTIONS", "/login", false, 405, "", "GET, HEAD, POST", true},
		{"DELETE", "/profile", false, 405, "", "GET, HEAD", true},
		{"DELETE", "/profile", true, 403, "", "", false},
		{"POST", "/nope", false, 405, "", "GET, HEAD", true},
		{"GET", "/nope", false, 404, "", "", true},
		{"GET", "/signup/", false, 404, "", "", true},
		{"GET", "/healthz/", false, 404, "", "", true},
		{"POST", "/healthz", false, 405, "", "GET, HEAD", true},
		{"GET", "//signup", false, 307, "/signup", "", false},
		{"GET", "/static/../login", false, 307, "/login", "", false},
		{"GET", "/static", false, 307, "/static/", "", false},
		{"GET", "/static/app.css", false, 200, "", "", false},
		{"HEAD", "/static/app.css", false, 200, "", "", false},
		{"GET", "/static/nope.css", false, 404, "", "", false},
		{"POST", "/static/app.css", false, 405, "", "GET, HEAD", true},
		{"GET", "/healthz", false, 200, "", "", false},
		{"HEAD", "/healthz", false, 200, "", "", false},
		{"GET", "/favicon.ico", false, 204, "", "", false},
	}
	for _, tt := range tests {
		req := httptest.NewRequest(tt.method, tt.path, nil)
		req.Header.Set("Accept", "text/html")
		if tt.crossSite {
			req.Header.Set("Sec-Fetch-Site", "cross-site")
		} else if tt.method != "GET" && tt.method != "HEAD" {
			req.Header.Set("Sec-Fetch-Site", "same-origin")
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		resp := rec.Result()
		if resp.StatusCode != tt.status {
			t.Errorf("%s %s status = %d; want %d", tt.method, tt.path, resp.StatusCode, tt.status)
		}
		if got := resp.Header.Get("Location"); got != tt.location {
			t.Errorf("%s %s Location = %q; want %q", tt.method, tt.path, got, tt.location)
		}
		if got := resp.Header.Get("Allow"); got != tt.allow {
			t.Errorf("%s %s Allow = %q; want %q", tt.method, tt.path, got, tt.allow)
		}
		if got := resp.Header.Get("Vary") == "Cookie"; got != tt.session {
			t.Errorf("%s %s went through the session middleware: %v; want %v", tt.method, tt.path, got, tt.session)
		}
		if resp.Header.Get("Content-Security-Policy") == "" {
			t.Errorf("%s %s has no Content-Security-Policy", tt.method, tt.path)
		}
	}
}
