package sqlitestore

import (
	"context"
	"fmt"
	"time"

	"github.com/latchauth/latch"
)

var _ latch.AuditStore = (*DB)(nil)

// AppendAudit implements [latch.AuditStore]. The write waits for the disk:
// security history must survive a crash.
func (db *DB) AppendAudit(ctx context.Context, e latch.AuditEvent) (int64, error) {
	res, err := db.write.ExecContext(ctx, `
		INSERT INTO latch_audit_events (user_id, kind, reason, actor_id, at, ip, device, session_id)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		e.UserID, e.Kind, e.Reason, e.ActorID, micros(e.At), e.IP, e.Device, e.SessionID)
	if err != nil {
		return 0, fmt.Errorf("sqlitestore: append audit event: %w", err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return 0, fmt.Errorf("sqlitestore: append audit event: %w", err)
	}
	return id, nil
}

// auditPageQuery reads a page of a user's events, newest first.
const auditPageQuery = `
	SELECT id, user_id, kind, reason, actor_id, at, ip, device, session_id
	FROM latch_audit_events WHERE user_id = ? AND id < ?
	ORDER BY id DESC LIMIT ?`

// AuditEvents implements [latch.AuditStore]. The index on (user_id, id)
// serves the page in order.
func (db *DB) AuditEvents(ctx context.Context, userID string, before int64, limit int) ([]latch.AuditEvent, error) {
	if before <= 0 {
		before = 1<<63 - 1
	}
	rows, err := db.read.QueryContext(ctx, auditPageQuery, userID, before, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: read audit events: %w", err)
	}
	defer rows.Close()
	var out []latch.AuditEvent
	for rows.Next() {
		var (
			e  latch.AuditEvent
			at int64
		)
		if err := rows.Scan(&e.ID, &e.UserID, &e.Kind, &e.Reason, &e.ActorID, &at, &e.IP, &e.Device, &e.SessionID); err != nil {
			return nil, fmt.Errorf("sqlitestore: read audit events: %w", err)
		}
		e.At = fromMicros(at)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlitestore: read audit events: %w", err)
	}
	return out, nil
}

// DeleteAuditBefore implements [latch.AuditStore].
func (db *DB) DeleteAuditBefore(ctx context.Context, t time.Time) (int, error) {
	res, err := db.write.ExecContext(ctx, `DELETE FROM latch_audit_events WHERE at < ?`, micros(t))
	if err != nil {
		return 0, fmt.Errorf("sqlitestore: delete old audit events: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("sqlitestore: delete old audit events: %w", err)
	}
	return int(n), nil
}
