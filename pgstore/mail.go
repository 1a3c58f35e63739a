package pgstore

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/latchauth/latch/mailer"
)

var _ mailer.QueueStore = (*DB)(nil)

// The mail queue's writes: queuing a message waits for the disk, so that a
// message the app was told is queued survives a crash of the database's
// machine. Claims, retries and deletions commit without waiting (see
// relaxNote): undoing one makes a message due sooner, and at worst sent
// twice, which the queue's at-least-once delivery allows for.

// queueTurn makes inserts into one queue take turns: two transactions
// could otherwise each count below the bound and both insert. The lock is
// a transaction-level advisory lock named after the schema's queue, held
// from before the count to the commit of the insert; claims do not take it.
// It goes first in the batch of the insert, which is one implicit
// transaction, and the insert's count, a statement of its own, sees every
// insert committed before the lock was granted.
var queueTurn = note{sql: `SELECT pg_advisory_xact_lock(hashtextextended(current_schema() || '.latch_mail_queue', 0))`}

// enqueueMailQuery inserts a message unless the queue holds $10 messages.
const enqueueMailQuery = `
	INSERT INTO latch_mail_queue (id, recipient, subject, text_body, html_body, created_at, due_at, attempts, last_error)
	SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9
	WHERE (SELECT count(*) FROM latch_mail_queue) < $10`

// claimMailQuery leases the $3 earliest messages due at $1 until $2. FOR
// UPDATE SKIP LOCKED makes concurrent claims take different messages
// rather than wait for each other or take the same ones; the row lock
// lasts until the update commits, after which the new due_at keeps other
// claims away.
const claimMailQuery = `
	WITH picked AS (
		SELECT id, due_at AS was_due FROM latch_mail_queue
		WHERE due_at <= $1
		ORDER BY due_at, id
		LIMIT $3
		FOR UPDATE SKIP LOCKED
	)
	UPDATE latch_mail_queue q SET due_at = $2, attempts = q.attempts + 1
	FROM picked WHERE q.id = picked.id
	RETURNING q.id, q.recipient, q.subject, q.text_body, q.html_body, q.created_at, q.due_at, q.attempts, q.last_error, picked.was_due`

// EnqueueMail implements [mailer.QueueStore].
func (db *DB) EnqueueMail(ctx context.Context, m mailer.QueuedMessage, limit int) error {
	tag, err := db.change(ctx, []note{queueTurn}, nil, enqueueMailQuery,
		m.ID, m.To, m.Subject, m.Text, m.HTML, m.CreatedAt, m.DueAt, m.Attempts, m.LastError, limit)
	if err != nil {
		return db.fail("enqueue mail", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("pgstore: enqueue mail: %w", mailer.ErrQueueFull)
	}
	return nil
}

// ClaimMail implements [mailer.QueueStore].
func (db *DB) ClaimMail(ctx context.Context, now, leaseEnd time.Time, n int) ([]mailer.QueuedMessage, error) {
	type claimed struct {
		m      mailer.QueuedMessage
		wasDue time.Time
	}
	var out []claimed
	b := &pgx.Batch{}
	b.Queue(relaxNote.sql, relaxNote.args...)
	b.Queue(claimMailQuery, now, leaseEnd, n).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var c claimed
			m := &c.m
			if err := rows.Scan(&m.ID, &m.To, &m.Subject, &m.Text, &m.HTML, &m.CreatedAt, &m.DueAt, &m.Attempts, &m.LastError, &c.wasDue); err != nil {
				return err
			}
			m.CreatedAt, m.DueAt = m.CreatedAt.UTC(), m.DueAt.UTC()
			out = append(out, c)
		}
		return rows.Err()
	})
	if err := db.pool.SendBatch(ctx, b).Close(); err != nil {
		return nil, db.fail("claim mail", err)
	}
	// RETURNING keeps no order.
	slices.SortFunc(out, func(a, b claimed) int {
		return cmp.Or(a.wasDue.Compare(b.wasDue), cmp.Compare(a.m.ID, b.m.ID))
	})
	ms := make([]mailer.QueuedMessage, len(out))
	for i, c := range out {
		ms[i] = c.m
	}
	return ms, nil
}

// RetryMail implements [mailer.QueueStore].
func (db *DB) RetryMail(ctx context.Context, id string, dueAt time.Time, lastError string) error {
	if _, err := db.change(ctx, []note{relaxNote}, nil, `UPDATE latch_mail_queue SET due_at = $2, last_error = $3 WHERE id = $1`, id, dueAt, lastError); err != nil {
		return db.fail("retry mail", err)
	}
	return nil
}

// DeleteMail implements [mailer.QueueStore].
func (db *DB) DeleteMail(ctx context.Context, id string) error {
	if _, err := db.change(ctx, []note{relaxNote}, nil, `DELETE FROM latch_mail_queue WHERE id = $1`, id); err != nil {
		return db.fail("delete mail", err)
	}
	return nil
}
