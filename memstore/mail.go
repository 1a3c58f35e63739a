package memstore

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/latchauth/latch/mailer"
)

var _ mailer.QueueStore = (*MailQueue)(nil)

// MailQueue is a [mailer.QueueStore] in memory, for tests and examples: its
// messages are lost when the process stops. Its zero value is an empty
// queue ready to use; a MailQueue must not be copied after first use.
type MailQueue struct {
	mu   sync.Mutex
	byID map[string]mailer.QueuedMessage
}

// EnqueueMail implements [mailer.QueueStore].
func (q *MailQueue) EnqueueMail(_ context.Context, m mailer.QueuedMessage, limit int) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.byID == nil {
		q.byID = make(map[string]mailer.QueuedMessage)
	}
	if len(q.byID) >= limit {
		return fmt.Errorf("memstore: enqueue mail: %w", mailer.ErrQueueFull)
	}
	if _, ok := q.byID[m.ID]; ok {
		return fmt.Errorf("memstore: enqueue mail: message %s already queued", m.ID)
	}
	q.byID[m.ID] = m
	return nil
}

// ClaimMail implements [mailer.QueueStore].
func (q *MailQueue) ClaimMail(_ context.Context, now, leaseEnd time.Time, n int) ([]mailer.QueuedMessage, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	var due []mailer.QueuedMessage
	for _, m := range q.byID {
		if !m.DueAt.After(now) {
			due = append(due, m)
		}
	}
	slices.SortFunc(due, func(a, b mailer.QueuedMessage) int {
		return cmp.Or(a.DueAt.Compare(b.DueAt), cmp.Compare(a.ID, b.ID))
	})
	if len(due) > n {
		due = due[:max(n, 0)]
	}
	for i := range due {
		due[i].DueAt = leaseEnd
		due[i].Attempts++
		q.byID[due[i].ID] = due[i]
	}
	return due, nil
}

// RetryMail implements [mailer.QueueStore].
func (q *MailQueue) RetryMail(_ context.Context, id string, dueAt time.Time, lastError string) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if m, ok := q.byID[id]; ok {
		m.DueAt, m.LastError = dueAt, lastError
		q.byID[id] = m
	}
	return nil
}

// DeleteMail implements [mailer.QueueStore].
func (q *MailQueue) DeleteMail(_ context.Context, id string) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	delete(q.byID, id)
	return nil
}
