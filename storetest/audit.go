package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/latchauth/latch"
)

// Audit checks s against the [latch.AuditStore] contract.
func Audit(t *testing.T, s latch.AuditStore) {
	t.Run("AppendAndRead", func(t *testing.T) { testAuditAppend(t, s) })
	t.Run("Pages", func(t *testing.T) { testAuditPages(t, s) })
	t.Run("OtherUser", func(t *testing.T) { testAuditOtherUser(t, s) })
	t.Run("Concurrent", func(t *testing.T) { testAuditConcurrent(t, s) })
	t.Run("DeleteBefore", func(t *testing.T) { testAuditDeleteBefore(t, s) })
}

func appendAudit(t *testing.T, s latch.AuditStore, e latch.AuditEvent) latch.AuditEvent {
	t.Helper()
	id, err := s.AppendAudit(t.Context(), e)
	if err != nil {
		t.Fatalf("AppendAudit(%+v) = %v", e, err)
	}
	if id <= 0 {
		t.Fatalf("AppendAudit(%+v) = id %d; want > 0", e, id)
	}
	e.ID = id
	return e
}

// testAuditAppend checks that every field is kept and comes back.
func testAuditAppend(t *testing.T, s latch.AuditStore) {
	user := randomID()
	want := appendAudit(t, s, latch.AuditEvent{
		UserID: user, Kind: latch.AuditLoginFailed, Reason: latch.ReasonWrongPassword,
		ActorID: "admin-" + user, At: baseTime(), IP: "203.0.113.7",
		Device: "Firefox on Windows", SessionID: "s-" + user,
	})
	got, err := s.AuditEvents(t.Context(), user, 0, 10)
	if err != nil {
		t.Fatalf("AuditEvents = %v", err)
	}
	if len(got) != 1 {
		t.Fatalf("AuditEvents = %d events; want 1", len(got))
	}
	g := got[0]
	if !sameTime(g.At, want.At) {
		t.Errorf("AuditEvents: At = %s; want %s", formatTime(g.At), formatTime(want.At))
	}
	g.At = want.At
	if g != want {
		t.Errorf("AuditEvents = %+v; want %+v", g, want)
	}
}

// testAuditPages checks newest-first keyset pages.
func testAuditPages(t *testing.T, s latch.AuditStore) {
	user := randomID()
	at := baseTime()
	var ids []int64
	for i := range 7 {
		e := appendAudit(t, s, latch.AuditEvent{UserID: user, Kind: fmt.Sprintf("k%d", i), At: at.Add(time.Duration(i) * time.Second)})
		ids = append(ids, e.ID)
	}
	for i := 1; i < len(ids); i++ {
		if ids[i] <= ids[i-1] {
			t.Fatalf("AppendAudit IDs = %v; want increasing", ids)
		}
	}
	var got []int64
	before := int64(0)
	for range 10 {
		page, err := s.AuditEvents(t.Context(), user, before, 3)
		if err != nil {
			t.Fatalf("AuditEvents(before %d) = %v", before, err)
		}
		if len(page) > 3 {
			t.Fatalf("AuditEvents(limit 3) = %d events", len(page))
		}
		for _, e := range page {
			got = append(got, e.ID)
		}
		if len(page) < 3 {
			break
		}
		before = page[len(page)-1].ID
	}
	if len(got) != len(ids) {
		t.Fatalf("pages = %v; want %d events", got, len(ids))
	}
	for i, id := range got {
		if want := ids[len(ids)-1-i]; id != want {
			t.Errorf("pages[%d] = %d; want %d (newest first)", i, id, want)
		}
	}
}

// testAuditOtherUser checks that a user sees only their own events.
func testAuditOtherUser(t *testing.T, s latch.AuditStore) {
	a, b := randomID(), randomID()
	appendAudit(t, s, latch.AuditEvent{UserID: a, Kind: latch.AuditLogin, At: baseTime()})
	got, err := s.AuditEvents(t.Context(), b, 0, 10)
	if err != nil {
		t.Fatalf("AuditEvents = %v", err)
	}
	if len(got) != 0 {
		t.Errorf("AuditEvents(other user) = %+v; want none", got)
	}
}

// testAuditConcurrent checks that concurrent appends all land with distinct
// IDs.
func testAuditConcurrent(t *testing.T, s latch.AuditStore) {
	user := randomID()
	const n = 20
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Go(func() {
			if _, err := s.AppendAudit(t.Context(), latch.AuditEvent{UserID: user, Kind: latch.AuditLogin, At: baseTime()}); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("AppendAudit = %v", err)
	}
	got, err := s.AuditEvents(t.Context(), user, 0, 2*n)
	if err != nil {
		t.Fatalf("AuditEvents = %v", err)
	}
	seen := map[int64]bool{}
	for _, e := range got {
		seen[e.ID] = true
	}
	if len(got) != n || len(seen) != n {
		t.Errorf("AuditEvents = %d events, %d IDs; want %d", len(got), len(seen), n)
	}
}

// testAuditDeleteBefore checks that pruning deletes old events only.
func testAuditDeleteBefore(t *testing.T, s latch.AuditStore) {
	user := randomID()
	now := baseTime()
	// Far in the past, so that events of other tests on a shared store
	// are not what this deletes.
	old := now.Add(-5000 * 24 * time.Hour)
	appendAudit(t, s, latch.AuditEvent{UserID: user, Kind: "old", At: old})
	keep := appendAudit(t, s, latch.AuditEvent{UserID: user, Kind: "new", At: now})
	n, err := s.DeleteAuditBefore(t.Context(), old.Add(time.Hour))
	if err != nil {
		t.Fatalf("DeleteAuditBefore = %v", err)
	}
	if n < 1 {
		t.Errorf("DeleteAuditBefore = %d; want at least 1", n)
	}
	got, err := s.AuditEvents(t.Context(), user, 0, 10)
	if err != nil {
		t.Fatalf("AuditEvents = %v", err)
	}
	if len(got) != 1 || got[0].ID != keep.ID {
		t.Errorf("AuditEvents after prune = %+v; want only event %d", got, keep.ID)
	}
}
