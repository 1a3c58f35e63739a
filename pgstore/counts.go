package pgstore

import (
	"context"
	"time"
)

// CountLiveSessions returns how many sessions have not reached their
// absolute expiry at now, for the operator's metrics. Idle sessions not
// yet pruned are counted.
func (db *DB) CountLiveSessions(ctx context.Context, now time.Time) (int, error) {
	var n int
	if err := db.pool.QueryRow(ctx, `SELECT count(*) FROM latch_sessions WHERE expires_at > $1`, now).Scan(&n); err != nil {
		return 0, db.fail("count sessions", err)
	}
	return n, nil
}

// CountQueuedMail returns how many messages wait in the mail queue.
func (db *DB) CountQueuedMail(ctx context.Context) (int, error) {
	var n int
	if err := db.pool.QueryRow(ctx, `SELECT count(*) FROM latch_mail_queue`).Scan(&n); err != nil {
		return 0, db.fail("count queued mail", err)
	}
	return n, nil
}
