package latch_test

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/latchauth/latch"
	"github.com/latchauth/latch/memstore"
)

// TestRequire checks the predicate guard: anonymous requests go to login,
// refused users get 403 (or the route's own denial), allowed users pass.
func TestRequire(t *testing.T) {
	roles := map[string]string{"1": "admin", "2": ""}
	m := latch.New(&memstore.Store{}, func(_ context.Context, id string) (string, error) {
		r, ok := roles[id]
		if !ok {
			return "", latch.ErrUnknownUser
		}
		return r, nil
	})
	isAdmin := func(role string) bool { return role == "admin" }
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("console")) })
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		if err := m.LogIn(w, r, r.FormValue("user"), latch.LoginOptions{}); err != nil {
			http.Error(w, err.Error(), 500)
		}
	})
	mux.Handle("GET /admin", m.Require(isAdmin, ok))
	mux.Handle("GET /hidden", m.RequireWith(isAdmin, ok, http.NotFoundHandler()))
	srv := httptest.NewServer(m.Middleware(mux))
	t.Cleanup(srv.Close)

	client := func(user string) *http.Client {
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		if user != "" {
			resp, err := c.PostForm(srv.URL+"/login", url.Values{"user": {user}})
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
		}
		return c
	}
	for _, tt := range []struct {
		user, path string
		want       int
	}{
		{"", "/admin", http.StatusSeeOther},
		{"2", "/admin", http.StatusForbidden},
		{"1", "/admin", http.StatusOK},
		{"", "/hidden", http.StatusNotFound},
		{"2", "/hidden", http.StatusNotFound},
		{"1", "/hidden", http.StatusOK},
	} {
		resp, err := client(tt.user).Get(srv.URL + tt.path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.want {
			t.Errorf("user %q GET %s = %d; want %d", tt.user, tt.path, resp.StatusCode, tt.want)
		}
		if tt.want == http.StatusSeeOther && !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
			t.Errorf("user %q GET %s: Location = %q; want the login page", tt.user, tt.path, resp.Header.Get("Location"))
		}
	}
}
