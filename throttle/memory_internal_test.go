package throttle

import (
	"context"
	"strconv"
	"testing"
	"time"
)

// TestMemoryStoreStaysBounded sprays keys whose records age at once and
// checks that the map never holds many more than the sweep threshold, and
// that records still counting survive a sweep.
func TestMemoryStoreStaysBounded(t *testing.T) {
	var s MemoryStore
	ctx := context.Background()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	const forget = time.Second
	for i := range 50_000 {
		now = now.Add(time.Millisecond)
		if i%500 == 0 {
			// Kept within its window.
			live, _ := s.Failures(ctx, "live")
			if ok, _ := s.SwapFailures(ctx, "live", live, State{Failures: live.Failures + 1, LastFailure: now}, forget); !ok {
				t.Fatalf("SwapFailures(%q, %+v, ...) = false; want true", "live", live)
			}
		}
		s.SwapFailures(ctx, "spray"+strconv.Itoa(i), State{}, State{Failures: 1, LastFailure: now}, forget)
		if len(s.m) > 2*10_000 {
			t.Fatalf("after %d keys the map holds %d records", i+1, len(s.m))
		}
	}
	if st, _ := s.Failures(ctx, "live"); st.Failures == 0 {
		t.Errorf("a record younger than its window was swept: %+v", st)
	}
}
