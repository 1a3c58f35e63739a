package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/latchauth/latch/mailer"
)

// MailQueue checks s against the [mailer.QueueStore] contract. Unlike the
// other functions of the package, it needs a queue that is empty when it
// starts, since the queue's bound and its claims concern every message;
// it leaves the queue empty.
func MailQueue(t *testing.T, s mailer.QueueStore) {
	t.Run("RoundTrip", func(t *testing.T) { testMailRoundTrip(t, s) })
	t.Run("Order", func(t *testing.T) { testMailOrder(t, s) })
	t.Run("Retry", func(t *testing.T) { testMailRetry(t, s) })
	t.Run("Limit", func(t *testing.T) { testMailLimit(t, s) })
	t.Run("LimitConcurrent", func(t *testing.T) { testMailLimitConcurrent(t, s) })
	t.Run("ClaimConcurrent", func(t *testing.T) { testMailClaimConcurrent(t, s) })
	t.Run("Unknown", func(t *testing.T) { testMailUnknown(t, s) })
}

// farFuture is later than any time the suite uses: a claim at it takes
// every message.
var farFuture = time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)

// drainMail deletes every message of the queue, when the test ends.
func drainMail(t *testing.T, s mailer.QueueStore) {
	t.Helper()
	t.Cleanup(func() {
		// t.Context is already canceled when cleanups run.
		ctx := context.Background()
		for range 100 {
			ms, err := s.ClaimMail(ctx, farFuture, farFuture, 100)
			if err != nil || len(ms) == 0 {
				return
			}
			for _, m := range ms {
				s.DeleteMail(ctx, m.ID)
			}
		}
	})
}

// newMail returns a message due at due, with text in several scripts and
// an HTML part.
func newMail(due time.Time) mailer.QueuedMessage {
	id := randomID()
	return mailer.QueuedMessage{
		Message: mailer.Message{
			To:      id + "@storetest.example",
			Subject: "Storetest Ünïcode ✓ " + id,
			Text:    "Hello,\r\nline two: Grüße, 你好\n",
			HTML:    "<p>Hello, <b>Grüße</b> 你好</p>",
		},
		ID:        "storetest-" + id,
		CreatedAt: due.Add(-time.Minute),
		DueAt:     due,
	}
}

func formatMail(m mailer.QueuedMessage) string {
	return fmt.Sprintf("{ID:%s To:%q Subject:%q Text:%q HTML:%q CreatedAt:%s DueAt:%s Attempts:%d LastError:%q}",
		m.ID, m.To, m.Subject, m.Text, m.HTML, formatTime(m.CreatedAt), formatTime(m.DueAt), m.Attempts, m.LastError)
}

func equalMail(a, b mailer.QueuedMessage) bool {
	return a.ID == b.ID && a.Message == b.Message &&
		sameTime(a.CreatedAt, b.CreatedAt) && sameTime(a.DueAt, b.DueAt) &&
		a.Attempts == b.Attempts && a.LastError == b.LastError
}

// enqueue stores m, stopping the subtest if it cannot.
func enqueue(t *testing.T, s mailer.QueueStore, m mailer.QueuedMessage) {
	t.Helper()
	if err := s.EnqueueMail(t.Context(), m, 1000); err != nil {
		t.Fatalf("EnqueueMail(%s, 1000) error = %v; want nil", formatMail(m), err)
	}
}

// claim calls ClaimMail, stopping the subtest on an error.
func claim(t *testing.T, s mailer.QueueStore, now, leaseEnd time.Time, n int) []mailer.QueuedMessage {
	t.Helper()
	ms, err := s.ClaimMail(t.Context(), now, leaseEnd, n)
	if err != nil {
		t.Fatalf("ClaimMail(%s, %s, %d) error = %v; want nil", formatTime(now), formatTime(leaseEnd), n, err)
	}
	return ms
}

// wantClaim claims at now and checks that the claim returns want, in order.
func wantClaim(t *testing.T, s mailer.QueueStore, now, leaseEnd time.Time, n int, want ...mailer.QueuedMessage) {
	t.Helper()
	got := claim(t, s, now, leaseEnd, n)
	if !slices.EqualFunc(got, want, equalMail) {
		f := func(ms []mailer.QueuedMessage) []string {
			var out []string
			for _, m := range ms {
				out = append(out, formatMail(m))
			}
			return out
		}
		t.Errorf("ClaimMail(%s, %s, %d) = %v; want %v", formatTime(now), formatTime(leaseEnd), n, f(got), f(want))
	}
}

// claimed returns m as a claim with the given lease end returns it.
func claimed(m mailer.QueuedMessage, leaseEnd time.Time) mailer.QueuedMessage {
	m.DueAt = leaseEnd
	m.Attempts++
	return m
}

func testMailRoundTrip(t *testing.T, s mailer.QueueStore) {
	drainMail(t, s)
	now := baseTime()
	m := newMail(now)
	enqueue(t, s, m)
	wantClaim(t, s, now.Add(-time.Microsecond), now.Add(time.Hour), 10) // not yet due

	lease := now.Add(10 * time.Minute)
	c1 := claimed(m, lease)
	wantClaim(t, s, now, lease, 10, c1)
	// Leased: not claimed again before the lease ends, then claimed.
	wantClaim(t, s, now.Add(time.Minute), now.Add(time.Hour), 10)
	lease2 := lease.Add(10 * time.Minute)
	wantClaim(t, s, lease, lease2, 10, claimed(c1, lease2))

	if err := s.DeleteMail(t.Context(), m.ID); err != nil {
		t.Errorf("DeleteMail(%s) error = %v; want nil", m.ID, err)
	}
	wantClaim(t, s, farFuture, farFuture, 10)

	// A message without HTML keeps an empty one.
	m2 := newMail(now)
	m2.HTML = ""
	enqueue(t, s, m2)
	wantClaim(t, s, now, lease, 10, claimed(m2, lease))
}

func testMailOrder(t *testing.T, s mailer.QueueStore) {
	drainMail(t, s)
	now := baseTime()
	a, b, c, later := newMail(now.Add(-3*time.Second)), newMail(now.Add(-2*time.Second)), newMail(now.Add(-time.Second)), newMail(now.Add(time.Second))
	for _, m := range []mailer.QueuedMessage{later, c, a, b} {
		enqueue(t, s, m)
	}
	lease := now.Add(time.Minute)
	wantClaim(t, s, now, lease, 2, claimed(a, lease), claimed(b, lease))
	wantClaim(t, s, now, lease, 2, claimed(c, lease))
	wantClaim(t, s, now, lease, 2)
	wantClaim(t, s, now.Add(time.Second), lease, 2, claimed(later, lease))
}

func testMailRetry(t *testing.T, s mailer.QueueStore) {
	drainMail(t, s)
	now := baseTime()
	m := newMail(now)
	enqueue(t, s, m)
	lease := now.Add(10 * time.Minute)
	c := claimed(m, lease)
	wantClaim(t, s, now, lease, 1, c)

	// A retry sooner than the lease's end brings the message back then.
	retry := now.Add(30 * time.Second)
	msg := "smtp: 451 4.3.0 try again later — Ünïcode"
	if err := s.RetryMail(t.Context(), m.ID, retry, msg); err != nil {
		t.Fatalf("RetryMail(%s) error = %v; want nil", m.ID, err)
	}
	wantClaim(t, s, retry.Add(-time.Microsecond), farFuture, 1)
	c.DueAt, c.LastError = retry, msg
	wantClaim(t, s, retry, lease, 1, claimed(c, lease))
}

func testMailLimit(t *testing.T, s mailer.QueueStore) {
	drainMail(t, s)
	now := baseTime()
	var ms []mailer.QueuedMessage
	for range 3 {
		m := newMail(now)
		if err := s.EnqueueMail(t.Context(), m, 3); err != nil {
			t.Fatalf("EnqueueMail(%s, 3) error = %v; want nil", m.ID, err)
		}
		ms = append(ms, m)
	}
	over := newMail(now)
	if err := s.EnqueueMail(t.Context(), over, 3); !errors.Is(err, mailer.ErrQueueFull) {
		t.Errorf("EnqueueMail(%s, 3) with 3 queued = %v; want ErrQueueFull", over.ID, err)
	}
	// Not stored: a claim of everything returns the three.
	if got := claim(t, s, farFuture, farFuture, 10); len(got) != 3 {
		t.Errorf("ClaimMail after a refused enqueue returned %d messages; want 3", len(got))
	}
	// Room again after a delete.
	if err := s.DeleteMail(t.Context(), ms[0].ID); err != nil {
		t.Fatalf("DeleteMail(%s) error = %v; want nil", ms[0].ID, err)
	}
	if err := s.EnqueueMail(t.Context(), over, 3); err != nil {
		t.Errorf("EnqueueMail(%s, 3) with 2 queued = %v; want nil", over.ID, err)
	}
}

func testMailLimitConcurrent(t *testing.T, s mailer.QueueStore) {
	drainMail(t, s)
	const tries, limit = 20, 5
	now := baseTime()
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		ok, full int
	)
	for range tries {
		wg.Go(func() {
			err := s.EnqueueMail(t.Context(), newMail(now), limit)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				ok++
			case errors.Is(err, mailer.ErrQueueFull):
				full++
			default:
				t.Errorf("EnqueueMail(_, %d) error = %v; want nil or ErrQueueFull", limit, err)
			}
		})
	}
	wg.Wait()
	if ok != limit || full != tries-limit {
		t.Errorf("%d concurrent EnqueueMail(_, %d): %d queued, %d full; want %d, %d", tries, limit, ok, full, limit, tries-limit)
	}
}

func testMailClaimConcurrent(t *testing.T, s mailer.QueueStore) {
	drainMail(t, s)
	const messages, claimers = 20, 8
	now := baseTime()
	for range messages {
		enqueue(t, s, newMail(now))
	}
	var (
		wg  sync.WaitGroup
		mu  sync.Mutex
		got = make(map[string]int)
	)
	for range claimers {
		wg.Go(func() {
			for {
				ms, err := s.ClaimMail(t.Context(), now, now.Add(time.Minute), 3)
				if err != nil {
					t.Errorf("ClaimMail error = %v; want nil", err)
					return
				}
				if len(ms) == 0 {
					return
				}
				mu.Lock()
				for _, m := range ms {
					got[m.ID]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(got) != messages {
		t.Errorf("concurrent claims returned %d messages; want %d", len(got), messages)
	}
	for id, n := range got {
		if n != 1 {
			t.Errorf("message %s claimed %d times under one lease; want once", id, n)
		}
	}
}

func testMailUnknown(t *testing.T, s mailer.QueueStore) {
	drainMail(t, s)
	id := "storetest-" + randomID()
	if err := s.RetryMail(t.Context(), id, baseTime(), "x"); err != nil {
		t.Errorf("RetryMail(unknown %s) = %v; want nil", id, err)
	}
	if err := s.DeleteMail(t.Context(), id); err != nil {
		t.Errorf("DeleteMail(unknown %s) = %v; want nil", id, err)
	}
	wantClaim(t, s, farFuture, farFuture, 10)
}
