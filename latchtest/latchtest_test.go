package latchtest_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/latchauth/latch"
	"github.com/latchauth/latch/latchtest"
	"github.com/latchauth/latch/memstore"
	"github.com/latchauth/latch/password"
)

// newServer serves a login page, a guarded page and a page that needs a
// fresh login, with m's middleware.
func newServer(t *testing.T, tls bool) (*latch.Manager[string], *httptest.Server) {
	t.Helper()
	m := latch.New(&memstore.Store{}, func(ctx context.Context, id string) (string, error) {
		if id != "ada" {
			return "", latch.ErrUnknownUser
		}
		return "Ada", nil
	})
	who := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cur := m.Current(r)
		fmt.Fprintf(w, "%s fresh=%v", cur.User, cur.Fresh)
	})
	mux := http.NewServeMux()
	mux.Handle("GET /private", m.RequireLogin(who))
	mux.Handle("GET /fresh", m.RequireFresh(who))
	srv := httptest.NewUnstartedServer(m.Middleware(mux))
	if tls {
		m.Secure = true
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(srv.Close)
	return m, srv
}

func get(t *testing.T, c *http.Client, url string) (int, string) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestLoginAs(t *testing.T) {
	for _, tls := range []bool{false, true} {
		m, srv := newServer(t, tls)
		tests := []struct {
			name   string
			client *http.Client
			path   string
			status int
			body   string
		}{
			{"fresh", latchtest.LoginAs(t, m, srv.URL, "ada", latch.LoginOptions{}), "/fresh", 200, "Ada fresh=true"},
			{"not fresh", latchtest.LoginAs(t, m, srv.URL, "ada", latch.LoginOptions{NotFresh: true}), "/fresh", 303, ""},
			{"not fresh", latchtest.LoginAs(t, m, srv.URL, "ada", latch.LoginOptions{NotFresh: true}), "/private", 200, "Ada fresh=false"},
			{"remembered", latchtest.RememberedAs(t, m, srv.URL, "ada"), "/private", 200, "Ada fresh=false"},
			{"remembered", latchtest.RememberedAs(t, m, srv.URL, "ada"), "/fresh", 303, ""},
			{"nobody", latchtest.LoginAs(t, m, srv.URL, "nobody", latch.LoginOptions{}), "/private", 303, ""},
		}
		for _, tt := range tests {
			if tls {
				// The test server's certificate is trusted by its own client only.
				tt.client.Transport = srv.Client().Transport
			}
			status, body := get(t, tt.client, srv.URL+tt.path)
			if status != tt.status || status == 200 && body != tt.body {
				t.Errorf("TLS %v, %s: GET %s = %d %q; want %d %q", tls, tt.name, tt.path, status, body, tt.status, tt.body)
			}
		}
	}
}

func TestCookiesUseEffectiveNames(t *testing.T) {
	m, _ := newServer(t, true)
	session, remember := m.CookieNames()
	got := map[string]bool{}
	for _, c := range latchtest.Cookies(t, m, "ada", latch.LoginOptions{Remember: true}) {
		got[c.Name] = true
	}
	if len(got) != 2 || !got[session] || !got[remember] || session != "__Host-latch_session" {
		t.Errorf("Cookies(remember) named %v; want %s and %s", got, session, remember)
	}
}

func TestPasswordParamsHash(t *testing.T) {
	h := password.NewHasher(latchtest.PasswordParams, 1, 1)
	enc, err := h.Hash(context.Background(), "correct horse")
	if err != nil {
		t.Fatalf("Hash with PasswordParams: %v", err)
	}
	if ok, _, err := h.Verify(context.Background(), enc, "correct horse"); !ok || err != nil {
		t.Errorf("Verify(Hash(pw), pw) = %v, %v; want true", ok, err)
	}
}

func TestLoginAsStaysFreshUnderProtection(t *testing.T) {
	m, srv := newServer(t, false)
	m.Protection = latch.ProtectionBasic
	c := latchtest.LoginAs(t, m, srv.URL, "ada", latch.LoginOptions{})
	if status, body := get(t, c, srv.URL+"/fresh"); status != 200 || body != "Ada fresh=true" {
		t.Errorf("GET /fresh under ProtectionBasic = %d %q; want 200 Ada fresh=true", status, body)
	}
}
