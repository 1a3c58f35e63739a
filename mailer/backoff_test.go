package mailer

import (
	"testing"
	"time"
)

// TestBackoff checks the waits between attempts with the default settings:
// from 30s, doubling, at most an hour, each drawn between half and all of
// that, and not all the same.
func TestBackoff(t *testing.T) {
	q, err := New(discardStore{}, Config{From: "latch <noreply@example.com>", Sender: discardSender{}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		attempts int
		max      time.Duration
	}{
		{1, 30 * time.Second},
		{2, time.Minute},
		{3, 2 * time.Minute},
		{7, 32 * time.Minute},
		{8, time.Hour},
		{30, time.Hour},
		{1000, time.Hour},
	}
	for _, tt := range tests {
		seen := map[time.Duration]bool{}
		for range 100 {
			d := q.backoff(tt.attempts)
			if d < tt.max/2 || d > tt.max {
				t.Errorf("backoff(%d) = %v; want from %v to %v", tt.attempts, d, tt.max/2, tt.max)
			}
			seen[d] = true
		}
		if len(seen) < 50 {
			t.Errorf("backoff(%d) took %d values in 100 draws; want jitter", tt.attempts, len(seen))
		}
	}
}
