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
	t.Run("Add", func(t *testing.T) { testThrottleAdd(t, s) })
	t.Run("AddForget", func(t *testing.T) { testThrottleAddForget(t, s) })
	t.Run("AddConcurrent", func(t *testing.T) { testThrottleAddConcurrent(t, s) })
	t.Run("Insert", func(t *testing.T) { testThrottleInsert(t, s) })
	t.Run("Swap", func(t *testing.T) { testThrottleSwap(t, s) })
	t.Run("Mismatch", func(t *testing.T) { testThrottleMismatch(t, s) })
	t.Run("Delete", func(t *testing.T) { testThrottleDelete(t, s) })
	t.Run("Stale", func(t *testing.T) { testThrottleStale(t, s) })
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

// swap calls SwapFailures and checks that it reports want.
func swap(t *testing.T, s throttle.Store, key string, old, new throttle.State, forget time.Duration, want bool) {
	t.Helper()
	ok, err := s.SwapFailures(t.Context(), key, old, new, forget)
	if err != nil || ok != want {
		t.Errorf("SwapFailures(%q, %v, %v, %v) = %v, %v; want %v, nil", key, formatState(old), formatState(new), forget, ok, err, want)
	}
}

// failures returns the state of key, failing the test on an error.
func failures(t *testing.T, s throttle.Store, key string) throttle.State {
	t.Helper()
	st, err := s.Failures(t.Context(), key)
	if err != nil {
		t.Fatalf("Failures(%q) error = %v; want nil", key, err)
	}
	return st
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

// wantNoFailures checks that key is unknown, was reset or deleted: the zero
// State, which is what a swap from an unknown key must name.
func wantNoFailures(t *testing.T, s throttle.Store, key string) {
	t.Helper()
	got, err := s.Failures(t.Context(), key)
	if err != nil || got != (throttle.State{}) {
		t.Errorf("Failures(%q) = %v, %v; want %v, nil", key, formatState(got), err, formatState(throttle.State{}))
	}
}

// testThrottleInsert checks that a swap from the zero State creates a
// record, once.
func testThrottleInsert(t *testing.T, s throttle.Store) {
	key, other := newKey(t, s), newKey(t, s)
	const forget = time.Hour
	now := baseTime()
	first := throttle.State{Failures: 1, LastFailure: now}
	swap(t, s, key, throttle.State{}, first, forget, true)
	wantFailures(t, s, key, first)
	// The key is no longer absent: a second insert loses.
	swap(t, s, key, throttle.State{}, throttle.State{Failures: 1, LastFailure: now.Add(time.Second)}, forget, false)
	wantFailures(t, s, key, first)
	// Keys are counted apart.
	wantNoFailures(t, s, other)
	// A zero new from a zero old changes nothing, and reports so.
	swap(t, s, other, throttle.State{}, throttle.State{}, forget, true)
	wantNoFailures(t, s, other)
}

// testThrottleSwap checks that a swap from what Failures returned succeeds
// and that Failures then returns exactly the new state, whatever the count
// and the time, forward or back.
func testThrottleSwap(t *testing.T, s throttle.Store) {
	key := newKey(t, s)
	const forget = time.Hour
	now := baseTime()
	steps := []throttle.State{
		{Failures: 1, LastFailure: now},
		{Failures: 2, LastFailure: now.Add(time.Second + time.Microsecond)},
		{Failures: 3, LastFailure: now.Add(time.Second + time.Microsecond)},
		{Failures: 2, LastFailure: now.Add(time.Second + time.Microsecond)}, // an attempt given back
		{Failures: 1000, LastFailure: now.Add(2 * time.Second)},
		{Failures: 1, LastFailure: now.Add(-time.Minute)}, // back in time
	}
	for _, next := range steps {
		swap(t, s, key, failures(t, s, key), next, forget, true)
		wantFailures(t, s, key, next)
	}
}

// testThrottleMismatch checks that a swap whose old is not the current
// state fails and leaves the state as it was.
func testThrottleMismatch(t *testing.T, s throttle.Store) {
	key, unknown := newKey(t, s), newKey(t, s)
	const forget = time.Hour
	now := baseTime()
	cur := throttle.State{Failures: 2, LastFailure: now}
	swap(t, s, key, throttle.State{}, throttle.State{Failures: 1, LastFailure: now.Add(-time.Second)}, forget, true)
	swap(t, s, key, throttle.State{Failures: 1, LastFailure: now.Add(-time.Second)}, cur, forget, true)

	next := throttle.State{Failures: 3, LastFailure: now.Add(time.Second)}
	for _, old := range []throttle.State{
		{},                              // absent, but the key has a record
		{Failures: 1, LastFailure: now}, // wrong count
		{Failures: 3, LastFailure: now}, // wrong count
		{Failures: 2, LastFailure: now.Add(time.Microsecond)},  // wrong time, by a microsecond
		{Failures: 2, LastFailure: now.Add(-time.Microsecond)}, // wrong time, by a microsecond
		{Failures: 2, LastFailure: now.Add(time.Hour)},         // wrong time
	} {
		swap(t, s, key, old, next, forget, false)
		wantFailures(t, s, key, cur)
		// Nor may a wrong old delete the record.
		swap(t, s, key, old, throttle.State{}, forget, false)
		wantFailures(t, s, key, cur)
	}
	// The right old, in another location, is the same instant.
	swap(t, s, key, throttle.State{Failures: 2, LastFailure: now.UTC()}, next, forget, true)
	wantFailures(t, s, key, next)

	// A key with no record is not one with a count.
	swap(t, s, unknown, throttle.State{Failures: 1, LastFailure: now}, next, forget, false)
	wantNoFailures(t, s, unknown)
	swap(t, s, unknown, throttle.State{Failures: 1, LastFailure: now}, throttle.State{}, forget, false)
	wantNoFailures(t, s, unknown)
}

// testThrottleDelete checks that a swap to the zero State deletes the
// record, and that the key can then be inserted again.
func testThrottleDelete(t *testing.T, s throttle.Store) {
	key, other := newKey(t, s), newKey(t, s)
	const forget = time.Hour
	now := baseTime()
	cur := throttle.State{Failures: 4, LastFailure: now}
	swap(t, s, key, throttle.State{}, cur, forget, true)
	swap(t, s, other, throttle.State{}, cur, forget, true)
	swap(t, s, key, cur, throttle.State{}, forget, true)
	wantNoFailures(t, s, key)
	wantFailures(t, s, other, cur)
	// Deleted twice: the second one's old is out of date.
	swap(t, s, key, cur, throttle.State{}, forget, false)
	wantNoFailures(t, s, key)
	swap(t, s, key, throttle.State{}, throttle.State{Failures: 1, LastFailure: now}, forget, true)
	wantFailures(t, s, key, throttle.State{Failures: 1, LastFailure: now})
}

// testThrottleStale checks records whose last failure is older than the
// forget window: a store may keep them or drop them, but Failures returns
// either the record as it was or nothing, and a swap from what it returned
// goes through.
func testThrottleStale(t *testing.T, s throttle.Store) {
	key := newKey(t, s)
	const forget = time.Minute
	now := baseTime()
	stale := throttle.State{Failures: 7, LastFailure: now.Add(-forget - time.Second)}
	swap(t, s, key, throttle.State{}, throttle.State{Failures: 1, LastFailure: stale.LastFailure}, forget, true)
	if old := failures(t, s, key); old != (throttle.State{}) {
		swap(t, s, key, old, stale, forget, true)
	}
	old := failures(t, s, key)
	if old != (throttle.State{}) && !equalState(old, stale) {
		t.Errorf("Failures(%q) of a stale record = %v; want %v or none", key, formatState(old), formatState(stale))
	}
	// A failure now starts again from what Failures returned.
	fresh := throttle.State{Failures: 1, LastFailure: now}
	swap(t, s, key, old, fresh, forget, true)
	wantFailures(t, s, key, fresh)
}

func testThrottleReset(t *testing.T, s throttle.Store) {
	key, other := newKey(t, s), newKey(t, s)
	const forget = time.Hour
	now := baseTime()
	two := throttle.State{Failures: 2, LastFailure: now}
	swap(t, s, key, throttle.State{}, two, forget, true)
	swap(t, s, other, throttle.State{}, throttle.State{Failures: 1, LastFailure: now}, forget, true)

	if err := s.ResetFailures(t.Context(), key); err != nil {
		t.Errorf("ResetFailures(%q) = %v; want nil", key, err)
	}
	wantNoFailures(t, s, key)
	wantFailures(t, s, other, throttle.State{Failures: 1, LastFailure: now})
	// A swap from before the reset loses.
	swap(t, s, key, two, throttle.State{Failures: 3, LastFailure: now}, forget, false)
	wantNoFailures(t, s, key)

	now = now.Add(time.Second)
	swap(t, s, key, throttle.State{}, throttle.State{Failures: 1, LastFailure: now}, forget, true)
	wantFailures(t, s, key, throttle.State{Failures: 1, LastFailure: now})

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

// testThrottleConcurrent checks that SwapFailures is atomic: goroutines
// adding one failure at a time by reading and swapping, and trying again
// when they lose, lose no update between them.
func testThrottleConcurrent(t *testing.T, s throttle.Store) {
	const goroutines, each = 8, 25
	const forget = time.Hour
	key := newKey(t, s)
	now := baseTime()
	var (
		wg    sync.WaitGroup
		start = make(chan struct{})
	)
	for range goroutines {
		wg.Go(func() {
			<-start
			for range each {
				// A lost swap means another goroutine's went
				// through; 1000 in a row means something is wrong.
				for try := 1; ; try++ {
					old, err := s.Failures(t.Context(), key)
					if err != nil {
						t.Errorf("Failures(%q) error = %v; want nil", key, err)
						return
					}
					next := throttle.State{Failures: old.Failures + 1, LastFailure: now.Add(time.Duration(old.Failures) * time.Microsecond)}
					ok, err := s.SwapFailures(t.Context(), key, old, next, forget)
					if err != nil {
						t.Errorf("SwapFailures(%q, %v, %v, %v) error = %v; want nil", key, formatState(old), formatState(next), forget, err)
						return
					}
					if ok {
						break
					}
					if try == 1000 {
						t.Errorf("SwapFailures(%q, %v, ...) from what Failures returned lost %d times in a row", key, formatState(old), try)
						return
					}
				}
			}
		})
	}
	close(start)
	wg.Wait()
	got, err := s.Failures(t.Context(), key)
	if err != nil || got.Failures != goroutines*each {
		t.Errorf("after %d concurrent increments, Failures(%q) = %v, %v; want %d failures", goroutines*each, key, formatState(got), err, goroutines*each)
	}
}

func testThrottleAdd(t *testing.T, s throttle.Store) {
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

func testThrottleAddForget(t *testing.T, s throttle.Store) {
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

// testThrottleAddConcurrent checks that AddFailure is atomic: concurrent calls
// on one key each see a distinct count and none is lost.
func testThrottleAddConcurrent(t *testing.T, s throttle.Store) {
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
