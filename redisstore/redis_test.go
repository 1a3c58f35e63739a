package redisstore_test

import (
	"context"
	"crypto/rand"
	"strings"
	"testing"
	"time"

	"github.com/latchauth/latch/internal/testservice"
	"github.com/latchauth/latch/redisstore"
	"github.com/latchauth/latch/storetest"
	"github.com/latchauth/latch/throttle"
	"github.com/redis/go-redis/v9"
)

// serverURL returns the URL of the test server (LATCH_TEST_REDIS_URL), or
// skips the test when there is none, unless services are required.
func serverURL(t testing.TB) string {
	t.Helper()
	return testservice.URL(t, "Redis", "LATCH_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
}

// newClient returns a client of the test's own, outside any store, closed
// when the test ends.
func newClient(t testing.TB) *redis.Client {
	t.Helper()
	opt, err := redis.ParseURL(serverURL(t))
	if err != nil {
		t.Fatalf("LATCH_TEST_REDIS_URL: %v", err)
	}
	c := redis.NewClient(opt)
	t.Cleanup(func() { c.Close() })
	return c
}

// newStore opens a store on the test server with a random prefix, and when
// the test ends deletes every key under that prefix and closes the store.
func newStore(t testing.TB) *redisstore.Store {
	t.Helper()
	c := newClient(t)
	s, err := redisstore.Open(t.Context(), serverURL(t))
	if err != nil {
		t.Fatalf("Open() error = %v; want nil", err)
	}
	s.Prefix = "latch-test:" + strings.ToLower(rand.Text()) + ":"
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close() = %v; want nil", err)
		}
		// t.Context is already canceled when cleanups run.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		iter := c.Scan(ctx, 0, s.Prefix+"*", 100).Iterator()
		for iter.Next(ctx) {
			if err := c.Del(ctx, iter.Val()).Err(); err != nil {
				t.Errorf("delete %s: %v", iter.Val(), err)
			}
		}
		if err := iter.Err(); err != nil {
			t.Errorf("scan %s*: %v", s.Prefix, err)
		}
	})
	return s
}

func TestThrottle(t *testing.T) {
	storetest.Throttle(t, newStore(t))
}

// TestPrefix checks that keys live under the store's prefix.
func TestPrefix(t *testing.T) {
	s := newStore(t)
	c := newClient(t)
	ctx := t.Context()
	if _, err := throttle.New(s).Fail(ctx, "ada@example.com|192.0.2.1"); err != nil {
		t.Fatalf("Fail error = %v; want nil", err)
	}
	keys, err := c.Keys(ctx, s.Prefix+"*").Result()
	if want := s.Prefix + "ada@example.com|192.0.2.1"; err != nil || len(keys) != 1 || keys[0] != want {
		t.Errorf("keys under %q = %q, %v; want [%q]", s.Prefix, keys, err, want)
	}
	if err := s.Ping(ctx); err != nil {
		t.Errorf("Ping() = %v; want nil", err)
	}
}

// TestExpiry checks that Redis drops a count by itself once its forget
// window has passed since the last failure.
func TestExpiry(t *testing.T) {
	s := newStore(t)
	c := newClient(t)
	ctx := t.Context()
	const forget = 200 * time.Millisecond
	key := "expiry|192.0.2.1"
	start := time.Now()
	st := throttle.State{Failures: 1, LastFailure: start.Truncate(time.Microsecond)}
	if ok, err := s.SwapFailures(ctx, key, throttle.State{}, st, forget); !ok || err != nil {
		t.Fatalf("SwapFailures(%q, zero, now, %v) = %v, %v; want true, nil", key, forget, ok, err)
	}
	// The expiry is rounded up to the millisecond.
	ttl, err := c.PTTL(ctx, s.Prefix+key).Result()
	if err != nil || ttl <= 0 || ttl > forget+time.Millisecond {
		t.Errorf("PTTL(%s) = %v, %v; want in (0, %v]", s.Prefix+key, ttl, err, forget+time.Millisecond)
	}
	for {
		n, err := c.Exists(ctx, s.Prefix+key).Result()
		if err != nil {
			t.Fatalf("EXISTS %s: %v", s.Prefix+key, err)
		}
		if n == 0 {
			break
		}
		if time.Since(start) > 5*time.Second {
			t.Fatalf("%s still exists %v after SwapFailures with forget %v", s.Prefix+key, time.Since(start), forget)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if elapsed := time.Since(start); elapsed < forget-50*time.Millisecond {
		t.Errorf("%s expired after %v; want about %v", s.Prefix+key, elapsed, forget)
	}
	if st, err := s.Failures(ctx, key); err != nil || st.Failures != 0 {
		t.Errorf("Failures(%q) after expiry = %+v, %v; want none", key, st, err)
	}
}

// TestExpiryFromLastFailure checks that a key expires forget after the
// last failure it records, not after the swap: a failure given back keeps
// the time of the one before it, and must not keep the key for longer.
func TestExpiryFromLastFailure(t *testing.T) {
	s := newStore(t)
	c := newClient(t)
	ctx := t.Context()
	const forget = time.Hour
	key := "expiry-last|192.0.2.1"
	now := time.Now().Truncate(time.Microsecond)
	older := throttle.State{Failures: 1, LastFailure: now.Add(-50 * time.Minute)}
	newer := throttle.State{Failures: 2, LastFailure: now}
	for _, step := range []struct {
		old, new throttle.State
		ttl      time.Duration
	}{
		{throttle.State{}, older, 10 * time.Minute},
		{older, newer, time.Hour},
		{newer, older, 10 * time.Minute},
	} {
		if ok, err := s.SwapFailures(ctx, key, step.old, step.new, forget); !ok || err != nil {
			t.Fatalf("SwapFailures(%q, %+v, %+v, %v) = %v, %v; want true, nil", key, step.old, step.new, forget, ok, err)
		}
		ttl, err := c.PTTL(ctx, s.Prefix+key).Result()
		if err != nil || ttl <= step.ttl-time.Minute || ttl > step.ttl+time.Millisecond {
			t.Errorf("after SwapFailures to %+v: PTTL(%s) = %v, %v; want about %v", step.new, s.Prefix+key, ttl, err, step.ttl)
		}
	}
}

// TestOpenUnreachable checks that Open fails within seconds when nothing
// listens at the address, and says where it tried. It needs no server.
func TestOpenUnreachable(t *testing.T) {
	const password = "s3cret-pw"
	u := "redis://:" + password + "@127.0.0.1:1/0"
	start := time.Now()
	s, err := redisstore.Open(t.Context(), u)
	if err == nil {
		s.Close()
		t.Fatalf("Open(%q) = nil error; want an error", u)
	}
	if elapsed := time.Since(start); elapsed > 10*time.Second {
		t.Errorf("Open(%q) took %v; want an error within seconds", u, elapsed)
	}
	msg := err.Error()
	for _, want := range []string{"127.0.0.1:1", "running"} {
		if !strings.Contains(msg, want) {
			t.Errorf("Open(%q) error = %q; want it to mention %q", u, msg, want)
		}
	}
	if strings.Contains(msg, password) {
		t.Errorf("Open(%q) error = %q; want no password in it", u, msg)
	}

	for _, bad := range []string{
		"http://127.0.0.1:6379",
		"redis://:" + password + "@127.0.0.1:port/0",
		"redis://:" + password + "@127.0.0.1:1/zero",
	} {
		if s, err := redisstore.Open(t.Context(), bad); err == nil {
			s.Close()
			t.Errorf("Open(%q) = nil error; want an error", bad)
		} else if strings.Contains(err.Error(), password) {
			t.Errorf("Open(%q) error = %q; want no password in it", bad, err)
		}
	}
}

// BenchmarkFailures measures one round trip to Redis, for comparison with
// the PostgreSQL store's lookups.
func BenchmarkFailures(b *testing.B) {
	s := newStore(b)
	ctx := b.Context()
	if _, err := throttle.New(s).Fail(ctx, "bench"); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := s.Failures(ctx, "bench"); err != nil {
			b.Fatal(err)
		}
	}
}
