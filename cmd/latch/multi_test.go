package main

import (
	"crypto/rand"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchauth/latch/internal/eventually"
	"github.com/latchauth/latch/pgstore"
)

// TestSeveralInstances runs three latch processes on one PostgreSQL
// database, as behind a load balancer: they must behave as one.
func TestSeveralInstances(t *testing.T) {
	environ := postgresEnv(t)
	var procs [3]*proc
	var wg sync.WaitGroup
	var mu sync.Mutex
	for i := range procs {
		wg.Add(1)
		go func() { // start together: migrations must cope
			defer wg.Done()
			p := startProc(t, environ...)
			mu.Lock()
			procs[i] = p
			mu.Unlock()
		}()
	}
	wg.Wait()
	a, b, c := procs[0].base, procs[1].base, procs[2].base
	email := strings.ToLower(rand.Text()) + "@example.com"
	form := url.Values{"email": {email}, "name": {"Ann"}, "password": {"correct horse battery"}}

	// Sign up on A, log in on B, use the session on C.
	user := newClient(t)
	if st, loc := user.post(a, "/signup", form); st != 303 || loc != "/login" {
		t.Fatalf("signup on A = %d → %q; want 303 → /login", st, loc)
	}
	if st, loc := user.post(b, "/login", url.Values{"email": {email}, "password": {form.Get("password")}}); st != 303 || loc != "/profile" {
		t.Fatalf("login on B = %d → %q; want 303 → /profile", st, loc)
	}
	for _, base := range []string{a, b, c} {
		if st, body := user.get(base, "/profile"); st != 200 || !strings.Contains(body, "Welcome, Ann!") {
			t.Errorf("profile on %s = %d; want 200 with the greeting", base, st)
		}
	}

	// Log out on C: the session ends on every instance, as soon as each
	// hears of it. The same cookies, replayed against each instance, are
	// dead.
	if st, _ := user.post(c, "/logout", url.Values{}); st != 303 {
		t.Fatalf("logout on C = %d; want 303", st)
	}
	for _, base := range []string{a, b, c} {
		eventually.True(t, 2*time.Second, "after logout on C, profile on "+base, func() error {
			if st, _ := user.get(base, "/profile"); st != http.StatusSeeOther {
				return fmt.Errorf("status %d; want 303", st)
			}
			return nil
		})
	}

	// Revocation on one instance ends a session held on another.
	laptop, phone := newClient(t), newClient(t)
	laptop.post(a, "/login", url.Values{"email": {email}, "password": {form.Get("password")}})
	phone.post(b, "/login", url.Values{"email": {email}, "password": {form.Get("password")}})
	if st, _ := laptop.post(c, "/sessions/revoke-others", url.Values{}); st != 303 {
		t.Fatalf("revoke-others on C = %d; want 303", st)
	}
	for _, base := range []string{a, b, c} {
		eventually.True(t, 2*time.Second, "revoked phone: profile on "+base, func() error {
			if st, _ := phone.get(base, "/profile"); st != http.StatusSeeOther {
				return fmt.Errorf("status %d; want 303", st)
			}
			return nil
		})
		if st, _ := laptop.get(base, "/profile"); st != 200 {
			t.Errorf("laptop on %s: profile = %d; want 200", base, st)
		}
	}

	// Failures count across instances: after the account's 10 free
	// failures spread over A, B and C, an eleventh makes the next attempt
	// wait.
	attacker := newClient(t)
	for i := range 11 {
		base := procs[i%3].base
		st, _ := attacker.post(base, "/login", url.Values{"email": {email}, "password": {fmt.Sprintf("wrong guess %d", i)}})
		if st != 303 {
			t.Fatalf("failure %d on %s = %d; want 303", i+1, base, st)
		}
	}
	if st, _ := attacker.post(b, "/login", url.Values{"email": {email}, "password": {form.Get("password")}}); st != http.StatusTooManyRequests {
		t.Errorf("attempt after 11 failures on other instances = %d; want 429", st)
	}

	// 20 concurrent sign-ups of one email spread over the instances: one
	// account, no 5xx.
	race := strings.ToLower(rand.Text()) + "@example.com"
	statuses := make(chan int, 20)
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st, _ := newClient(t).post(procs[i%3].base, "/signup", url.Values{"email": {race}, "name": {fmt.Sprint("Racer ", i)}, "password": {"correct horse battery"}})
			statuses <- st
		}()
	}
	wg.Wait()
	close(statuses)
	for st := range statuses {
		if st != 303 {
			t.Errorf("concurrent signup = %d; want 303", st)
		}
	}
	var dbURL string
	for _, e := range environ {
		if v, ok := strings.CutPrefix(e, "LATCH_DATABASE_URL="); ok {
			dbURL = v
		}
	}
	db, err := pgstore.Open(t.Context(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	users, err := db.ListUsers(t.Context(), 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, u := range users {
		if u.Email == race {
			n++
		}
	}
	if n != 1 {
		t.Errorf("accounts for the raced email = %d; want exactly 1", n)
	}
}
