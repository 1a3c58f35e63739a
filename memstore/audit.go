package memstore

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/latchauth/latch"
)

var _ latch.AuditStore = (*Audit)(nil)

// Audit is a [latch.AuditStore] in memory. Its zero value is an empty store
// ready to use; an Audit must not be copied after first use. Events are
// lost when the process stops.
type Audit struct {
	mu     sync.Mutex
	last   int64
	byUser map[string][]latch.AuditEvent // in ID order
}

// AppendAudit implements [latch.AuditStore].
func (st *Audit) AppendAudit(_ context.Context, e latch.AuditEvent) (int64, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.byUser == nil {
		st.byUser = make(map[string][]latch.AuditEvent)
	}
	st.last++
	e.ID = st.last
	st.byUser[e.UserID] = append(st.byUser[e.UserID], e)
	return e.ID, nil
}

// AuditEvents implements [latch.AuditStore]. It finds the page by binary
// search in the user's events.
func (st *Audit) AuditEvents(_ context.Context, userID string, before int64, limit int) ([]latch.AuditEvent, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	events := st.byUser[userID]
	end := len(events)
	if before > 0 {
		end, _ = slices.BinarySearchFunc(events, before, func(e latch.AuditEvent, id int64) int {
			switch {
			case e.ID < id:
				return -1
			case e.ID > id:
				return 1
			}
			return 0
		})
	}
	var out []latch.AuditEvent
	for i := end - 1; i >= 0 && len(out) < limit; i-- {
		out = append(out, events[i])
	}
	return out, nil
}

// DeleteAuditBefore implements [latch.AuditStore]. It looks at every
// event, holding the store's lock meanwhile.
func (st *Audit) DeleteAuditBefore(_ context.Context, t time.Time) (int, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	n := 0
	for user, events := range st.byUser {
		kept := slices.DeleteFunc(events, func(e latch.AuditEvent) bool { return e.At.Before(t) })
		n += len(events) - len(kept)
		if len(kept) == 0 {
			delete(st.byUser, user)
		} else {
			st.byUser[user] = kept
		}
	}
	return n, nil
}
