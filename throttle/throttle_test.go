package throttle_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/latchauth/latch/throttle"
)

func TestLimiterSlowsDown(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := throttle.New(&throttle.MemoryStore{})
	l.Now = func() time.Time { return now }
	ctx := context.Background()
	key := throttle.Key("Ann@Example.com", "192.0.2.1:5555")

	// Free failures cost nothing; then waits of 1s, 2s, 4s ..., capped at
	// MaxDelay however many failures follow: no lockout.
	want := []time.Duration{0, 0, 0, time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second,
		16 * time.Second, 32 * time.Second, 64 * time.Second, 128 * time.Second, 256 * time.Second,
		512 * time.Second, 15 * time.Minute, 15 * time.Minute}
	for i, w := range want {
		got, err := l.Fail(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		if got != w {
			t.Errorf("after failure %d: wait = %v; want %v", i+1, got, w)
		}
		if wait, _ := l.Wait(ctx, key); wait != w {
			t.Errorf("after failure %d: Wait = %v; want %v", i+1, wait, w)
		}
	}
	now = now.Add(15*time.Minute - time.Second)
	if wait, _ := l.Wait(ctx, key); wait != time.Second {
		t.Errorf("1s before the delay ends: Wait = %v; want 1s", wait)
	}
	now = now.Add(time.Second)
	if wait, _ := l.Wait(ctx, key); wait != 0 {
		t.Errorf("when the delay ends: Wait = %v; want 0", wait)
	}
	// Another client for the same account is not affected.
	if wait, _ := l.Wait(ctx, throttle.Key("ann@example.com", "198.51.100.9")); wait != 0 {
		t.Errorf("other client: Wait = %v; want 0", wait)
	}
	// Success forgets.
	if err := l.Succeed(ctx, key); err != nil {
		t.Fatal(err)
	}
	if got, _ := l.Fail(ctx, key); got != 0 {
		t.Errorf("first failure after success: wait = %v; want 0", got)
	}
}

// TestLimiterLockoutIsOptional checks that a Limiter given Max and Lockout
// still refuses for Lockout after Max failures.
func TestLimiterLockoutIsOptional(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := throttle.New(&throttle.MemoryStore{})
	l.Now = func() time.Time { return now }
	l.Max, l.Lockout = 5, time.Hour
	ctx := context.Background()
	var got time.Duration
	for range l.Max {
		got, _ = l.Fail(ctx, "k")
	}
	if got != time.Hour {
		t.Errorf("after Max failures: wait = %v; want the lockout, 1h", got)
	}
}

// TestLimiterLongDelayNeverWraps sets a delay whose doubling would overflow
// a time.Duration long before 100 failures: the wait must grow to MaxDelay
// and stay there, never fall back to nothing.
func TestLimiterLongDelayNeverWraps(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, maxDelay := range []time.Duration{15 * time.Minute, 0} {
		l := throttle.New(&throttle.MemoryStore{})
		l.Now = func() time.Time { return now }
		l.Delay, l.MaxDelay = 10*time.Second, maxDelay
		limit := maxDelay
		if limit == 0 {
			limit = l.Forget
		}
		ctx := context.Background()
		prev := time.Duration(0)
		for i := range 105 {
			got, err := l.Fail(ctx, "k")
			if err != nil {
				t.Fatal(err)
			}
			if got < prev || got > limit {
				t.Fatalf("MaxDelay %v: after failure %d: wait = %v, after %v; want growing up to %v", maxDelay, i+1, got, prev, limit)
			}
			prev = got
		}
		if prev != limit {
			t.Errorf("MaxDelay %v: after 105 failures: wait = %v; want %v", maxDelay, prev, limit)
		}
	}
}

func TestLimiterForgetsOldFailures(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := throttle.New(&throttle.MemoryStore{})
	l.Now = func() time.Time { return now }
	ctx := context.Background()
	for range 5 {
		l.Fail(ctx, "k")
	}
	now = now.Add(l.Forget)
	if got, _ := l.Fail(ctx, "k"); got != 0 {
		t.Errorf("failure after Forget: wait = %v; want 0 (count restarted)", got)
	}
}

// newLimiter returns a Limiter on a MemoryStore whose clock stands still at
// *now.
func newLimiter(now *time.Time) (*throttle.Limiter, *throttle.MemoryStore) {
	store := &throttle.MemoryStore{}
	l := throttle.New(store)
	l.Now = func() time.Time { return *now }
	return l, store
}

// wantState checks the state stored for key.
func wantState(t *testing.T, s throttle.Store, key string, want throttle.State) {
	t.Helper()
	got, err := s.Failures(context.Background(), key)
	if err != nil || got.Failures != want.Failures || !got.LastFailure.Equal(want.LastFailure) {
		t.Errorf("Failures(%q) = %+v, %v; want %+v, nil", key, got, err, want)
	}
}

// TestBeginCountsAttempts checks that Begin counts each attempt it lets go
// ahead, so that attempts begun one after the other without an answer are
// refused as failures would be, and that it refuses without counting.
func TestBeginCountsAttempts(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l, store := newLimiter(&now)
	ctx := context.Background()
	for i := range l.Free + 1 {
		a, wait, err := l.Begin(ctx, "k")
		if a == nil || wait != 0 || err != nil {
			t.Fatalf("Begin %d = %v, %v, %v; want an Attempt, 0, nil", i+1, a, wait, err)
		}
	}
	wantState(t, store, "k", throttle.State{Failures: l.Free + 1, LastFailure: now})
	a, wait, err := l.Begin(ctx, "k")
	if a != nil || wait != l.Delay || err != nil {
		t.Errorf("Begin after %d attempts = %v, %v, %v; want nil, %v, nil", l.Free+1, a, wait, err, l.Delay)
	}
	wantState(t, store, "k", throttle.State{Failures: l.Free + 1, LastFailure: now})

	// Once the wait is over, the next attempt goes ahead, counted on.
	now = now.Add(l.Delay)
	if a, wait, err := l.Begin(ctx, "k"); a == nil || wait != 0 || err != nil {
		t.Errorf("Begin after the wait = %v, %v, %v; want an Attempt, 0, nil", a, wait, err)
	}
	wantState(t, store, "k", throttle.State{Failures: l.Free + 2, LastFailure: now})

	// A state older than Forget counts as none.
	now = now.Add(l.Forget)
	if a, wait, err := l.Begin(ctx, "k"); a == nil || wait != 0 || err != nil {
		t.Errorf("Begin after Forget = %v, %v, %v; want an Attempt, 0, nil", a, wait, err)
	}
	wantState(t, store, "k", throttle.State{Failures: 1, LastFailure: now})
}

// TestBeginStoresMicroseconds checks that Begin records times as stores
// keep them, in UTC and to the microsecond, so that what Failures gives
// back is the state Release looks for.
func TestBeginStoresMicroseconds(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 123456789, time.FixedZone("X", 3600))
	l, store := newLimiter(&now)
	ctx := context.Background()
	a, _, err := l.Begin(ctx, "k")
	if err != nil {
		t.Fatal(err)
	}
	st, _ := store.Failures(ctx, "k")
	if want := now.UTC().Truncate(time.Microsecond); st.LastFailure != want {
		t.Errorf("LastFailure = %v; want %v", st.LastFailure, want)
	}
	if err := a.Release(ctx); err != nil {
		t.Fatal(err)
	}
	wantState(t, store, "k", throttle.State{})
}

// TestRelease checks that Release gives back the attempt's own failure and
// nothing more, whatever other attempts did meanwhile.
func TestRelease(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ctx := context.Background()

	t.Run("Untouched", func(t *testing.T) {
		now := start
		l, store := newLimiter(&now)
		l.Fail(ctx, "k")
		before, _ := store.Failures(ctx, "k")
		now = now.Add(time.Second)
		a, _, _ := l.Begin(ctx, "k")
		if err := a.Release(ctx); err != nil {
			t.Fatalf("Release = %v; want nil", err)
		}
		// Back to the state before, time and all.
		wantState(t, store, "k", before)
	})

	t.Run("FirstAttempt", func(t *testing.T) {
		now := start
		l, store := newLimiter(&now)
		a, _, _ := l.Begin(ctx, "k")
		if err := a.Release(ctx); err != nil {
			t.Fatalf("Release = %v; want nil", err)
		}
		wantState(t, store, "k", throttle.State{})
	})

	t.Run("OthersFailedMeanwhile", func(t *testing.T) {
		now := start
		l, store := newLimiter(&now)
		a, _, _ := l.Begin(ctx, "k")
		now = now.Add(time.Second)
		b, _, _ := l.Begin(ctx, "k")
		now = now.Add(time.Second)
		l.Fail(ctx, "k")
		// a's failure goes; b's and the later one stay, with the time
		// of the latest.
		if err := a.Release(ctx); err != nil {
			t.Fatalf("Release = %v; want nil", err)
		}
		wantState(t, store, "k", throttle.State{Failures: 2, LastFailure: now})
		if err := b.Release(ctx); err != nil {
			t.Fatalf("Release = %v; want nil", err)
		}
		wantState(t, store, "k", throttle.State{Failures: 1, LastFailure: now})
	})

	t.Run("ResetMeanwhile", func(t *testing.T) {
		now := start
		l, store := newLimiter(&now)
		a, _, _ := l.Begin(ctx, "k")
		l.Succeed(ctx, "k")
		if err := a.Release(ctx); err != nil {
			t.Fatalf("Release = %v; want nil", err)
		}
		wantState(t, store, "k", throttle.State{})
	})

	t.Run("Nil", func(t *testing.T) {
		var a *throttle.Attempt
		if err := a.Release(ctx); err != nil {
			t.Errorf("Release of a nil Attempt = %v; want nil", err)
		}
	})
}

// TestBeginParallel begins many attempts on one key at once, none of which
// has an answer yet: no more may go ahead than would one after the other,
// and each that did is counted.
func TestBeginParallel(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l, store := newLimiter(&now)
	ctx := context.Background()
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		attempts []*throttle.Attempt
	)
	for range 100 {
		wg.Go(func() {
			a, wait, err := l.Begin(ctx, "k")
			if err != nil || (a == nil) == (wait == 0) {
				t.Errorf("Begin = %v, %v, %v; want an Attempt or a wait", a, wait, err)
			}
			if a != nil {
				mu.Lock()
				attempts = append(attempts, a)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(attempts) != l.Free+1 {
		t.Errorf("%d parallel Begin let %d attempts go ahead; want %d", 100, len(attempts), l.Free+1)
	}
	wantState(t, store, "k", throttle.State{Failures: len(attempts), LastFailure: now})

	// Released in parallel too, they all give their failures back.
	for _, a := range attempts {
		wg.Go(func() {
			if err := a.Release(ctx); err != nil {
				t.Errorf("Release = %v; want nil", err)
			}
		})
	}
	wg.Wait()
	wantState(t, store, "k", throttle.State{})
}

func TestKey(t *testing.T) {
	tests := []struct{ account, client, want string }{
		{" Ann@Example.COM ", "192.0.2.1:443", "ann@example.com|192.0.2.1"},
		{"a@b.c", "192.0.2.1", "a@b.c|192.0.2.1"},
		{"a@b.c", "[2001:db8:1:2:3:4:5:6]:80", "a@b.c|2001:db8:1:2::/64"},
		{"a@b.c", "2001:db8:1:2:ffff::1", "a@b.c|2001:db8:1:2::/64"},
		{"a@b.c", "::ffff:192.0.2.1", "a@b.c|192.0.2.1"},
	}
	for _, tt := range tests {
		if got := throttle.Key(tt.account, tt.client); got != tt.want {
			t.Errorf("Key(%q, %q) = %q; want %q", tt.account, tt.client, got, tt.want)
		}
	}
}
