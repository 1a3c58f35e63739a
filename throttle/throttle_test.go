package throttle_test

import (
	"context"
	"testing"
	"time"

	"github.com/latchauth/latch/throttle"
)

func TestLimiterSlowsThenLocks(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := throttle.New(&throttle.MemoryStore{})
	l.Now = func() time.Time { return now }
	ctx := context.Background()
	key := throttle.Key("Ann@Example.com", "192.0.2.1:5555")

	// Free failures cost nothing; then waits of 1s, 2s, 4s ...; at Max, the lockout.
	want := []time.Duration{0, 0, 0, time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second,
		16 * time.Second, 32 * time.Second, 15 * time.Minute}
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
		t.Errorf("1s before the lockout ends: Wait = %v; want 1s", wait)
	}
	now = now.Add(time.Second)
	if wait, _ := l.Wait(ctx, key); wait != 0 {
		t.Errorf("when the lockout ends: Wait = %v; want 0", wait)
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

// TestLimiterLongDelayNeverWraps sets a delay whose doubling would overflow
// a time.Duration long before Max: the wait must grow to the lockout and
// stay there, never fall back to nothing.
func TestLimiterLongDelayNeverWraps(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := throttle.New(&throttle.MemoryStore{})
	l.Now = func() time.Time { return now }
	l.Delay, l.Max = 10*time.Second, 100
	ctx := context.Background()
	prev := time.Duration(0)
	for i := range l.Max + 5 {
		got, err := l.Fail(ctx, "k")
		if err != nil {
			t.Fatal(err)
		}
		if got < prev || got > l.Lockout {
			t.Fatalf("after failure %d: wait = %v, after %v; want growing up to %v", i+1, got, prev, l.Lockout)
		}
		prev = got
	}
	if prev != l.Lockout {
		t.Errorf("after %d failures: wait = %v; want the lockout, %v", l.Max+5, prev, l.Lockout)
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
