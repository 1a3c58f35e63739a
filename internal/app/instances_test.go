package app_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/latchauth/latch/internal/app"
	"github.com/latchauth/latch/internal/apptest"
	"github.com/latchauth/latch/internal/pgtest"
	"github.com/latchauth/latch/password"
	"github.com/latchauth/latch/pgstore"
)

// instances serves n apps, each on its own store, on one PostgreSQL
// schema: n machines behind a load balancer.
func instances(t testing.TB, n int) []string {
	t.Helper()
	u, _ := pgtest.NewSchema(t)
	bases := make([]string, n)
	for i := range bases {
		db, err := pgstore.Open(t.Context(), u)
		if err != nil {
			t.Fatalf("pgstore.Open: %v", err)
		}
		t.Cleanup(func() { db.Close() })
		a, err := app.New(db, app.Config{
			SecretKey: bytes.Repeat([]byte("k"), 32),
			Hasher:    password.NewHasher(apptest.CheapParams, 2, 16),
		})
		if err != nil {
			t.Fatalf("app.New: %v", err)
		}
		srv := httptest.NewServer(a.Handler())
		t.Cleanup(srv.Close)
		bases[i] = srv.URL
	}
	return bases
}

// visit sends a request to base with cookies, as a browser on this site
// would, and returns the status and the cookies set.
func visit(t testing.TB, method, base, path, cookies string, form url.Values) (int, []*http.Cookie) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, base+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "same-origin")
	}
	if cookies != "" {
		req.Header.Set("Cookie", cookies)
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, resp.Cookies()
}

// revocationTrial logs a user in on the first instance, loads the profile
// page on every other one, twice, then logs out on the first and returns,
// for each other instance, how long after the logout's answer it first
// refused the session, polling as fast as it answers. It gives up after
// limit.
func revocationTrial(t testing.TB, bases []string, email, pw string, limit time.Duration) []time.Duration {
	t.Helper()
	st, set := visit(t, "POST", bases[0], "/login", "", url.Values{"email": {email}, "password": {pw}})
	if st != http.StatusSeeOther || len(set) == 0 {
		t.Fatalf("login on %s = %d with %d cookies; want 303 with the session's", bases[0], st, len(set))
	}
	var parts []string
	for _, c := range set {
		parts = append(parts, c.Name+"="+c.Value)
	}
	cookies := strings.Join(parts, "; ")
	for _, base := range bases[1:] {
		for range 2 {
			if st, _ := visit(t, "GET", base, "/profile", cookies, nil); st != http.StatusOK {
				t.Fatalf("profile on %s before logout = %d; want 200", base, st)
			}
		}
	}
	if st, _ := visit(t, "POST", bases[0], "/logout", cookies, url.Values{}); st != http.StatusSeeOther {
		t.Fatalf("logout on %s = %d; want 303", bases[0], st)
	}
	start := time.Now()
	lat := make([]time.Duration, 0, len(bases)-1)
	for _, base := range bases[1:] {
		for {
			st, _ := visit(t, "GET", base, "/profile", cookies, nil)
			if st == http.StatusSeeOther {
				lat = append(lat, time.Since(start))
				break
			}
			if st != http.StatusOK {
				t.Fatalf("profile on %s after logout = %d; want 303, or 200 until it hears", base, st)
			}
			if time.Since(start) > limit {
				t.Fatalf("profile on %s still served %v after logout on %s", base, limit, bases[0])
			}
		}
	}
	return lat
}

// signUp creates an account through the first instance.
func signUp(t testing.TB, bases []string) (email, pw string) {
	t.Helper()
	email, pw = pgtest.RandomName()+"@example.com", "correct horse battery"
	if st, _ := visit(t, "POST", bases[0], "/signup", "", url.Values{"email": {email}, "name": {"Ann"}, "password": {pw}}); st != http.StatusSeeOther {
		t.Fatalf("signup = %d; want 303", st)
	}
	return email, pw
}

// TestRevocationReachesInstances runs three instances on one PostgreSQL
// schema, each serving sessions from memory, and checks that a logout on
// one ends the session on the others within a bounded wait, every time.
func TestRevocationReachesInstances(t *testing.T) {
	bases := instances(t, 3)
	email, pw := signUp(t, bases)
	for range 5 {
		revocationTrial(t, bases, email, pw, 2*time.Second)
	}
}

// BenchmarkRevocation measures how long a logout on one of three instances
// takes to reach the two others: each iteration is one trial, and the
// report gives the 50th and 99th percentiles and the worst over both
// instances, in milliseconds.
//
//	go test -run=NONE -bench=Revocation -benchtime=200x ./internal/app/
func BenchmarkRevocation(b *testing.B) {
	bases := instances(b, 3)
	email, pw := signUp(b, bases)
	var all []time.Duration
	for b.Loop() {
		all = append(all, revocationTrial(b, bases, email, pw, 10*time.Second)...)
	}
	slices.Sort(all)
	at := func(q float64) float64 {
		return float64(all[min(int(q*float64(len(all))), len(all)-1)]) / float64(time.Millisecond)
	}
	b.ReportMetric(at(0.50), "p50-ms")
	b.ReportMetric(at(0.99), "p99-ms")
	b.ReportMetric(at(1), "max-ms")
	b.ReportMetric(0, "ns/op")
	if testing.Verbose() {
		fmt.Printf("revocation over %d instance-trials: p50 %.2f ms, p99 %.2f ms, max %.2f ms\n", len(all), at(0.5), at(0.99), at(1))
	}
}
