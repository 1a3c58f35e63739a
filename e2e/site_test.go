package e2e_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/latchauth/latch/account"
	"github.com/latchauth/latch/internal/app"
	"github.com/latchauth/latch/internal/apptest"
	"github.com/latchauth/latch/sqlitestore"
	"github.com/latchauth/latch/throttle"
)

// site is the app served on 127.0.0.1 with a temporary SQLite store.
type site struct {
	url      string // origin, as http://127.0.0.1:PORT
	store    *sqlitestore.DB
	accounts *account.Service // the app's own rules, for accounts made behind its back
}

// newSite starts the app for t. Its log is shown when t fails.
func newSite(t *testing.T) *site {
	t.Helper()
	built := apptest.New(t, nil, app.Config{})
	store, logs, hasher := built.Store, built.Logs, built.Hasher
	srv := httptest.NewServer(built.App.Handler())
	t.Cleanup(func() {
		srv.Close()
		if t.Failed() {
			t.Logf("app log:\n%s", logs.String())
		}
	})
	return &site{url: srv.URL, store: store, accounts: account.NewService(store, hasher, throttle.NewPolicy(store))}
}

// addUser creates an account without the sign-up form, for tests about
// what comes after it; the form itself is tested elsewhere.
func (s *site) addUser(t *testing.T, email, name, pw string) {
	t.Helper()
	if _, err := s.accounts.SignUp(context.Background(), email, name, pw); err != nil {
		t.Fatalf("SignUp(%q): %v", email, err)
	}
}

// newOtherSite serves pages from another site than the app's, on
// 127.0.0.2, or, where that address cannot be bound, on localhost: to the
// browser another host is another site, even on the same machine.
func newOtherSite(t *testing.T, pages map[string]string) string {
	t.Helper()
	mux := http.NewServeMux()
	for path, html := range pages {
		mux.HandleFunc("GET "+path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Write([]byte(html))
		})
	}
	// No favicon, but no 404 in the console either.
	mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	})
	srv := httptest.NewUnstartedServer(mux)
	host := "127.0.0.2"
	if l, err := net.Listen("tcp", host+":0"); err == nil {
		srv.Listener.Close()
		srv.Listener = l
	} else {
		host = "localhost"
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return "http://" + net.JoinHostPort(host, portOf(srv.Listener.Addr()))
}

func portOf(a net.Addr) string {
	_, port, _ := net.SplitHostPort(a.String())
	return port
}
