package latch_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/latchauth/latch"
	"github.com/latchauth/latch/memstore"
)

// benchUser is the application's user in the benchmarks.
type benchUser struct{ ID, Name string }

// benchWriter is a ResponseWriter that keeps only the status, as cheap as
// the server's own, so that the benchmarks measure latch and not a recorder.
type benchWriter struct {
	header http.Header
	status int
}

func (w *benchWriter) Header() http.Header         { return w.header }
func (w *benchWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *benchWriter) WriteHeader(code int)        { w.status = code }

// reset readies w for the next request.
func (w *benchWriter) reset() {
	clear(w.header)
	w.status = http.StatusOK
}

// newBenchManager returns a Manager on a memstore whose users load from
// memory, and the session cookie of a logged-in user.
func newBenchManager(b *testing.B) (*latch.Manager[benchUser], *http.Cookie) {
	b.Helper()
	m := latch.New(&memstore.Store{}, func(ctx context.Context, id string) (benchUser, error) {
		return benchUser{ID: id, Name: "Ada"}, nil
	})
	rec := httptest.NewRecorder()
	login := m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := m.LogIn(w, r, "42", latch.LoginOptions{}); err != nil {
			b.Fatalf("LogIn: %v", err)
		}
	}))
	login.ServeHTTP(rec, httptest.NewRequest("POST", "/login", nil))
	for _, c := range rec.Result().Cookies() {
		if c.Name == m.CookieName && c.Value != "" {
			return m, c
		}
	}
	b.Fatalf("LogIn set no %s cookie", m.CookieName)
	return nil, nil
}

// serveBench serves a fresh copy of req (a server makes a new one for
// every request too) and checks the status the first time.
func serveBench(b *testing.B, h http.Handler, req *http.Request, want int) {
	b.Helper()
	w := &benchWriter{header: http.Header{}}
	first := true
	b.ReportAllocs()
	for b.Loop() {
		w.reset()
		r := req.Clone(req.Context())
		h.ServeHTTP(w, r)
		if first && w.status != want {
			b.Fatalf("status %d; want %d", w.status, want)
		}
		first = false
	}
}

// BenchmarkMiddlewareAuthenticated measures what every request of a
// logged-in user pays: reading the cookie, hashing the token, looking the
// session up and loading the user.
func BenchmarkMiddlewareAuthenticated(b *testing.B) {
	m, c := newBenchManager(b)
	h := m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !m.Current(r).Authenticated {
			w.WriteHeader(http.StatusUnauthorized)
		}
	}))
	req := httptest.NewRequest("GET", "/profile", nil)
	req.AddCookie(c)
	serveBench(b, h, req, http.StatusOK)
}

// BenchmarkMiddlewareAnonymous measures the same for a request without a
// cookie.
func BenchmarkMiddlewareAnonymous(b *testing.B) {
	m, _ := newBenchManager(b)
	h := m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	serveBench(b, h, httptest.NewRequest("GET", "/", nil), http.StatusOK)
}

// BenchmarkRequireLogin measures a login-required page behind the
// middleware: let through for a logged-in user, redirected to the login
// page for an anonymous one.
func BenchmarkRequireLogin(b *testing.B) {
	m, c := newBenchManager(b)
	h := m.Middleware(m.RequireLogin(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})))
	b.Run("authenticated", func(b *testing.B) {
		req := httptest.NewRequest("GET", "/profile", nil)
		req.AddCookie(c)
		serveBench(b, h, req, http.StatusOK)
	})
	b.Run("anonymous", func(b *testing.B) {
		serveBench(b, h, httptest.NewRequest("GET", "/profile", nil), http.StatusSeeOther)
	})
}
