package sqlitestore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/latchauth/latch/mailer"
)

var _ mailer.QueueStore = (*DB)(nil)

// The mail queue's writes: queuing a message waits for the disk, so that a
// message the app was told is queued survives a power failure. Claims,
// retries and deletions do not (see relaxed): undoing one makes a message
// due sooner, and at worst sent twice, which the queue's at-least-once
// delivery allows for.

const mailColumns = `id, recipient, subject, text_body, html_body, created_at, due_at, attempts, last_error`

// EnqueueMail implements [mailer.QueueStore]. The count and the insert are
// one statement.
func (db *DB) EnqueueMail(ctx context.Context, m mailer.QueuedMessage, limit int) error {
	// Queued from a request, such as a sign-up: the insert runs to its
	// end once begun, without a goroutine watching ctx (see [quick]).
	qctx, err := quick(ctx)
	if err != nil {
		return fmt.Errorf("sqlitestore: enqueue mail: %w", err)
	}
	// A write statement takes the write lock before it reads, so the
	// count and the insert are atomic across processes too.
	res, err := db.write.ExecContext(qctx, `
		INSERT INTO latch_mail_queue (`+mailColumns+`)
		SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?
		WHERE (SELECT count(*) FROM latch_mail_queue) < ?`,
		m.ID, m.To, m.Subject, m.Text, m.HTML, micros(m.CreatedAt), micros(m.DueAt), m.Attempts, m.LastError, limit)
	if err != nil {
		return fmt.Errorf("sqlitestore: enqueue mail: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlitestore: enqueue mail: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("sqlitestore: enqueue mail: %w", mailer.ErrQueueFull)
	}
	return nil
}

// ClaimMail implements [mailer.QueueStore]. The messages are read and
// leased in one transaction, which holds the database's write lock from
// its start: no other process can claim them in between.
func (db *DB) ClaimMail(ctx context.Context, now, leaseEnd time.Time, n int) ([]mailer.QueuedMessage, error) {
	var out []mailer.QueuedMessage
	err := db.relaxed(ctx, func(ctx context.Context, conn *sql.Conn) error {
		tx, err := conn.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer tx.Rollback()
		rows, err := tx.QueryContext(ctx, `
			SELECT `+mailColumns+` FROM latch_mail_queue
			WHERE due_at <= ? ORDER BY due_at, id LIMIT ?`, micros(now), n)
		if err != nil {
			return err
		}
		for rows.Next() {
			var (
				m            mailer.QueuedMessage
				created, due int64
			)
			if err := rows.Scan(&m.ID, &m.To, &m.Subject, &m.Text, &m.HTML, &created, &due, &m.Attempts, &m.LastError); err != nil {
				rows.Close()
				return err
			}
			m.CreatedAt = fromMicros(created)
			m.DueAt = fromMicros(micros(leaseEnd))
			m.Attempts++
			out = append(out, m)
		}
		if err := rows.Close(); err != nil {
			return err
		}
		if err := rows.Err(); err != nil {
			return err
		}
		for _, m := range out {
			if _, err := tx.ExecContext(ctx, `UPDATE latch_mail_queue SET due_at = ?, attempts = ? WHERE id = ?`, micros(leaseEnd), m.Attempts, m.ID); err != nil {
				return err
			}
		}
		return tx.Commit()
	})
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: claim mail: %w", err)
	}
	return out, nil
}

// RetryMail implements [mailer.QueueStore].
func (db *DB) RetryMail(ctx context.Context, id string, dueAt time.Time, lastError string) error {
	if _, err := db.execRelaxed(ctx, `UPDATE latch_mail_queue SET due_at = ?, last_error = ? WHERE id = ?`, micros(dueAt), lastError, id); err != nil {
		return fmt.Errorf("sqlitestore: retry mail: %w", err)
	}
	return nil
}

// DeleteMail implements [mailer.QueueStore].
func (db *DB) DeleteMail(ctx context.Context, id string) error {
	if _, err := db.execRelaxed(ctx, `DELETE FROM latch_mail_queue WHERE id = ?`, id); err != nil {
		return fmt.Errorf("sqlitestore: delete mail: %w", err)
	}
	return nil
}
