package storetest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/latchauth/latch/throttle"
)

// Throttle checks s against the [throttle.Store] contract.
func Throttle(t *testing.T, s throttle.Store) {
	t.Run("Count", func(t *testing.T) { testThrottleCount(t, s) })
	t.Run("Forget", func(t *testing.T) { testThrottleForget(t, s) })
	t.Run("Reset", func(t *testing.T) { testThrottleReset(t, s) })
	t.Run("Unknown", func(t *testing.T) { testThrottleUnknown(t, s) })
	t.Run("Concurrent", func(t *testing.T) { testThrottleConcurrent(t, s) })
}

// newKey returns a random key and registers a cleanup that forgets it.
func newKey(t *testing.T, s throttle.Store) string {
	t.Helper()
	key := "storetest-" + randomID() + "|192.0.2.1"
	t.Cleanup(func() {
		// t.Context is already canceled when cleanups run.
		s.ResetFailures(context.Background(), key)
	})
	return key
}

func formatState(st throttle.State) string {
	return fmt.Sprintf("{Failures:%d LastFailure:%s}", st.Failures, formatTime(st.LastFailure))
}

func equalState(a, b throttle.State) bool {
	return a.Failures == b.Failures && sameTime(a.LastFailure, b.LastFailure)
}

// addFailure calls AddFailure and checks that it returns want and that
// Failures agrees.
func addFailure(t *testing.T, s throttle.Store, key string, now time.Time, forget time.Duration, want throttle.State) {
	t.Helper()
	got, err := s.AddFailure(t.Context(), key, now, forget)
	if err != nil {
		t.Errorf("AddFailure(%q, %s, %v) error = %v; want nil", key, formatTime(now), forget, err)
		return
	}
	if !equalState(got, want) {
		t.Errorf("AddFailure(%q, %s, %v) = %v; want %v", key, formatTime(now), forget, formatState(got), formatState(want))
	}
	wantFailures(t, s, key, want)
}

// wantFailures checks that Failures(key) returns want.
func wantFailures(t *testing.T, s throttle.Store, key string, want throttle.State) {
	t.Helper()
	got, err := s.Failures(t.Context(), key)
	if err != nil {
		t.Errorf("Failures(%q) error = %v; want nil", key, err)
	} else if !equalState(got, want) {
		t.Errorf("Failures(%q) = %v; want %v", key, formatState(got), formatState(want))
	}
}

// wantNoFailures checks that key is unknown or was reset: a count of zero.
// The time of a zero count carries no meaning and is not checked.
func wantNoFailures(t *testing.T, s throttle.Store, key string) {
	t.Helper()
	got, err := s.Failures(t.Context(), key)
	if err != nil || got.Failures != 0 {
		t.Errorf("Failures(%q) = %v, %v; want %v, nil", key, formatState(got), err, formatState(throttle.State{}))
	}
}

func testThrottleCount(t *testing.T, s throttle.Store) {
	key, other := newKey(t, s), newKey(t, s)
	const forget = time.Hour
	now := baseTime()
	for i := 1; i <= 5; i++ {
		at := now.Add(time.Duration(i) * (time.Second + time.Microsecond))
		addFailure(t, s, key, at, forget, throttle.State{Failures: i, LastFailure: at})
	}
	// Keys are counted apart.
	addFailure(t, s, other, now, forget, throttle.State{Failures: 1, LastFailure: now})
	wantFailures(t, s, key, throttle.State{Failures: 5, LastFailure: now.Add(5 * (time.Second + time.Microsecond))})
}

func testThrottleForget(t *testing.T, s throttle.Store) {
	key := newKey(t, s)
	const forget = 15 * time.Minute
	now := baseTime()
	addFailure(t, s, key, now, forget, throttle.State{Failures: 1, LastFailure: now})

	// Just inside the window: the count goes on.
	now = now.Add(forget - time.Second)
	addFailure(t, s, key, now, forget, throttle.State{Failures: 2, LastFailure: now})

	// Beyond the window from the last failure: it starts again.
	now = now.Add(forget + time.Second)
	addFailure(t, s, key, now, forget, throttle.State{Failures: 1, LastFailure: now})
	now = now.Add(time.Second)
	addFailure(t, s, key, now, forget, throttle.State{Failures: 2, LastFailure: now})

	// The window is the caller's, and may change between calls.
	now = now.Add(2 * time.Minute)
	addFailure(t, s, key, now, time.Minute, throttle.State{Failures: 1, LastFailure: now})
}

func testThrottleReset(t *testing.T, s throttle.Store) {
	key, other := newKey(t, s), newKey(t, s)
	const forget = time.Hour
	now := baseTime()
	addFailure(t, s, key, now, forget, throttle.State{Failures: 1, LastFailure: now})
	addFailure(t, s, key, now, forget, throttle.State{Failures: 2, LastFailure: now})
	addFailure(t, s, other, now, forget, throttle.State{Failures: 1, LastFailure: now})

	if err := s.ResetFailures(t.Context(), key); err != nil {
		t.Errorf("ResetFailures(%q) = %v; want nil", key, err)
	}
	wantNoFailures(t, s, key)
	wantFailures(t, s, other, throttle.State{Failures: 1, LastFailure: now})

	now = now.Add(time.Second)
	addFailure(t, s, key, now, forget, throttle.State{Failures: 1, LastFailure: now})

	unknown := newKey(t, s)
	if err := s.ResetFailures(t.Context(), unknown); err != nil {
		t.Errorf("ResetFailures(%q) of an unknown key = %v; want nil", unknown, err)
	}
	wantNoFailures(t, s, unknown)
}

func testThrottleUnknown(t *testing.T, s throttle.Store) {
	key := newKey(t, s)
	got, err := s.Failures(t.Context(), key)
	if err != nil || got != (throttle.State{}) {
		t.Errorf("Failures(%q) = %v, %v; want %v, nil", key, formatState(got), err, formatState(throttle.State{}))
	}
}

// testThrottleConcurrent checks that AddFailure is atomic: concurrent calls
// on one key each see a distinct count and none is lost.
func testThrottleConcurrent(t *testing.T, s throttle.Store) {
	const n = 50
	const forget = time.Hour
	key := newKey(t, s)
	now := baseTime()
	var (
		wg     sync.WaitGroup
		start  = make(chan struct{})
		mu     sync.Mutex
		counts []int
	)
	for range n {
		wg.Go(func() {
			<-start
			st, err := s.AddFailure(t.Context(), key, now, forget)
			if err != nil {
				t.Errorf("AddFailure(%q, %s, %v) error = %v; want nil", key, formatTime(now), forget, err)
				return
			}
			mu.Lock()
			counts = append(counts, st.Failures)
			mu.Unlock()
		})
	}
	close(start)
	wg.Wait()
	wantFailures(t, s, key, throttle.State{Failures: n, LastFailure: now})

	slices.Sort(counts)
	want := make([]int, n)
	for i := range want {
		want[i] = i + 1
	}
	if !slices.Equal(counts, want) {
		t.Errorf("%d concurrent AddFailure(%q) returned counts %v; want each of 1 to %d once", n, key, counts, n)
	}
}
