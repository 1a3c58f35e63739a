package pgstore

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/latchauth/latch"
)

var _ latch.AuditStore = (*DB)(nil)

// AppendAudit implements [latch.AuditStore]. The commit waits for the disk:
// security history must survive a crash.
func (db *DB) AppendAudit(ctx context.Context, e latch.AuditEvent) (int64, error) {
	var id int64
	err := db.pool.QueryRow(ctx, `
		INSERT INTO latch_audit_events (user_id, kind, reason, actor_id, at, ip, device, session_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
		e.UserID, e.Kind, e.Reason, e.ActorID, e.At, e.IP, e.Device, e.SessionID).Scan(&id)
	if err != nil {
		return 0, db.fail("append audit event", err)
	}
	return id, nil
}

// AuditEvents implements [latch.AuditStore]. The index on (user_id, id)
// serves the page in order.
func (db *DB) AuditEvents(ctx context.Context, userID string, before int64, limit int) ([]latch.AuditEvent, error) {
	if before <= 0 {
		before = 1<<63 - 1
	}
	return read(db, func() ([]latch.AuditEvent, error) {
		rows, err := db.pool.Query(ctx, `
			SELECT id, user_id, kind, reason, actor_id, at, ip, device, session_id
			FROM latch_audit_events WHERE user_id = $1 AND id < $2
			ORDER BY id DESC LIMIT $3`, userID, before, limit)
		if err != nil {
			return nil, db.fail("read audit events", err)
		}
		out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (latch.AuditEvent, error) {
			var e latch.AuditEvent
			err := row.Scan(&e.ID, &e.UserID, &e.Kind, &e.Reason, &e.ActorID, &e.At, &e.IP, &e.Device, &e.SessionID)
			e.At = e.At.UTC()
			return e, err
		})
		if err != nil {
			return nil, db.fail("read audit events", err)
		}
		return out, nil
	})
}

// DeleteAuditBefore implements [latch.AuditStore].
func (db *DB) DeleteAuditBefore(ctx context.Context, t time.Time) (int, error) {
	tag, err := db.pool.Exec(ctx, `DELETE FROM latch_audit_events WHERE at < $1`, t)
	if err != nil {
		return 0, db.fail("delete old audit events", err)
	}
	return int(tag.RowsAffected()), nil
}
