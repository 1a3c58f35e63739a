package sqlitestore_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/latchauth/latch"
	"github.com/latchauth/latch/account"
	"github.com/latchauth/latch/internal/eventually"
	"github.com/latchauth/latch/sqlitestore"
	"github.com/latchauth/latch/throttle"
)

// TestCacheOtherProcess checks that what another connection to the same
// file deletes or changes stops being served from this one's cache: the
// server must notice `latch users delete` run beside it.
func TestCacheOtherProcess(t *testing.T) {
	path := filepath.Join(t.TempDir(), "latch.db")
	server, other := openDB(t, path), openDB(t, path)
	ctx := t.Context()

	u, s := seed(t, server, "cache|192.0.2.1")
	// Read twice, so the second read could come from the cache.
	for range 2 {
		if _, err := server.SessionByToken(ctx, s.TokenHash); err != nil {
			t.Fatalf("SessionByToken error = %v; want nil", err)
		}
		if _, err := server.UserByID(ctx, u.ID); err != nil {
			t.Fatalf("UserByID error = %v; want nil", err)
		}
		if list, err := server.UserSessions(ctx, s.UserID); err != nil || len(list) != 1 {
			t.Fatalf("UserSessions = %d sessions, %v; want 1, nil", len(list), err)
		}
	}

	if err := other.SetPasswordHash(ctx, u.ID, "new hash"); err != nil {
		t.Fatalf("other: SetPasswordHash error = %v; want nil", err)
	}
	eventually.True(t, 2*time.Second, "UserByID after another process changed the hash", func() error {
		got, err := server.UserByID(ctx, u.ID)
		if err != nil || got.PasswordHash != "new hash" {
			return fmt.Errorf("hash %q, error %v", got.PasswordHash, err)
		}
		return nil
	})

	if err := other.DeleteSession(ctx, s.ID); err != nil {
		t.Fatalf("other: DeleteSession error = %v; want nil", err)
	}
	eventually.True(t, 2*time.Second, "SessionByToken after another process deleted the session", func() error {
		if got, err := server.SessionByToken(ctx, s.TokenHash); !errors.Is(err, latch.ErrSessionNotFound) {
			return fmt.Errorf("session %q, error %v", got.ID, err)
		}
		return nil
	})
	eventually.True(t, 2*time.Second, "UserSessions after another process deleted the session", func() error {
		if list, err := server.UserSessions(ctx, s.UserID); err != nil || len(list) != 0 {
			return fmt.Errorf("%d sessions, error %v", len(list), err)
		}
		return nil
	})

	if err := other.DeleteUser(ctx, u.ID); err != nil {
		t.Fatalf("other: DeleteUser error = %v; want nil", err)
	}
	eventually.True(t, 2*time.Second, "UserByID after another process deleted the user", func() error {
		if got, err := server.UserByID(ctx, u.ID); !errors.Is(err, account.ErrUserNotFound) {
			return fmt.Errorf("user %q, error %v", got.Email, err)
		}
		return nil
	})
}

// TestCacheReadsOwnWrites hammers one session and one user with reads while
// writing them, and checks after every write that a read returns what was
// written: a read that raced with a write must not leave the old record in
// the cache.
func TestCacheReadsOwnWrites(t *testing.T) {
	db := newDB(t)
	ctx := t.Context()
	u, s := seed(t, db, "race|192.0.2.1")

	var stop atomic.Bool
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for !stop.Load() {
				db.SessionByToken(ctx, s.TokenHash)
				db.UserSessions(ctx, s.UserID)
				db.UserByID(ctx, u.ID)
			}
		})
	}
	defer func() {
		stop.Store(true)
		wg.Wait()
	}()

	for i := range 200 {
		ip := "192.0.2." + strconv.Itoa(i)
		s.IP = ip
		if err := db.UpdateSession(ctx, s); err != nil {
			t.Fatalf("UpdateSession error = %v; want nil", err)
		}
		if got, err := db.SessionByToken(ctx, s.TokenHash); err != nil || got.IP != ip {
			t.Fatalf("write %d: SessionByToken IP = %q, %v; want %q", i, got.IP, err, ip)
		}
		if list, err := db.UserSessions(ctx, s.UserID); err != nil || len(list) != 1 || list[0].IP != ip {
			t.Fatalf("write %d: UserSessions = %+v, %v; want one session with IP %q", i, list, err, ip)
		}
		hash := "hash " + strconv.Itoa(i)
		if err := db.SetPasswordHash(ctx, u.ID, hash); err != nil {
			t.Fatalf("SetPasswordHash error = %v; want nil", err)
		}
		if got, err := db.UserByID(ctx, u.ID); err != nil || got.PasswordHash != hash {
			t.Fatalf("write %d: UserByID hash = %q, %v; want %q", i, got.PasswordHash, err, hash)
		}
	}

	// Revocation, the write that matters most.
	if _, err := db.DeleteUserSessions(ctx, s.UserID, ""); err != nil {
		t.Fatalf("DeleteUserSessions error = %v; want nil", err)
	}
	if got, err := db.SessionByToken(ctx, s.TokenHash); !errors.Is(err, latch.ErrSessionNotFound) {
		t.Errorf("SessionByToken after DeleteUserSessions = %q, %v; want ErrSessionNotFound", got.ID, err)
	}
	if list, err := db.UserSessions(ctx, s.UserID); err != nil || len(list) != 0 {
		t.Errorf("UserSessions after DeleteUserSessions = %d sessions, %v; want none", len(list), err)
	}
}

// TestCacheBounded checks that many sessions can be read and stay correct
// when there are more than the cache holds.
func TestCacheBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 12,000 sessions; skipped with -short")
	}
	db := newDB(t)
	ctx := t.Context()
	const n = 12_000
	sessions := make([]latch.Session, n)
	for i := range sessions {
		sessions[i] = newSession("user" + strconv.Itoa(i%100))
		if err := db.CreateSession(ctx, sessions[i]); err != nil {
			t.Fatalf("CreateSession error = %v; want nil", err)
		}
	}
	for round := range 2 {
		for i, s := range sessions {
			got, err := db.SessionByToken(ctx, s.TokenHash)
			if err != nil || got.ID != s.ID {
				t.Fatalf("round %d, session %d: SessionByToken = %q, %v; want %q", round, i, got.ID, err, s.ID)
			}
		}
	}
}

// BenchmarkSessionByToken measures the lookup every page load makes, served
// from the cache.
func BenchmarkSessionByToken(b *testing.B) {
	db, err := sqlitestore.Open(b.Context(), filepath.Join(b.TempDir(), "latch.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	s := newSession("1")
	if err := db.CreateSession(b.Context(), s); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := db.SessionByToken(b.Context(), s.TokenHash); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLoginWrites measures the store's part of a login beside the
// password hash: the lookup, the failure counted in advance and forgiven,
// the last-login time and the new session, with a request's cancellable
// context.
func BenchmarkLoginWrites(b *testing.B) {
	db, err := sqlitestore.Open(b.Context(), filepath.Join(b.TempDir(), "latch.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	ctx, cancel := context.WithCancel(b.Context())
	defer cancel()
	u, err := db.CreateUser(ctx, account.User{Email: "ann@example.com", Name: "Ann", PasswordHash: "hash"})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		now := time.Now().UTC().Truncate(time.Microsecond)
		if _, err := db.UserByEmail(ctx, u.Email); err != nil {
			b.Fatal(err)
		}
		if ok, err := db.SwapFailures(ctx, "ann@example.com|192.0.2.1", throttle.State{}, throttle.State{Failures: 1, LastFailure: now}, time.Hour); err != nil || !ok {
			b.Fatalf("SwapFailures = %v, %v", ok, err)
		}
		if err := db.RecordLogin(ctx, u.ID, now, ""); err != nil {
			b.Fatal(err)
		}
		if err := db.ResetFailures(ctx, "ann@example.com|192.0.2.1"); err != nil {
			b.Fatal(err)
		}
		s := newSession(strconv.FormatInt(u.ID, 10))
		s.RememberHash, s.Remember = nil, false // as latch-bench's logins
		if err := db.CreateSession(ctx, s); err != nil {
			b.Fatal(err)
		}
	}
}
