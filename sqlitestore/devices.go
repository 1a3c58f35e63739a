package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// DevicesRevokedAt implements [throttle.DeviceStore].
func (db *DB) DevicesRevokedAt(ctx context.Context, user string) (time.Time, error) {
	qctx, err := quick(ctx)
	if err != nil {
		return time.Time{}, fmt.Errorf("sqlitestore: devices revoked at: %w", err)
	}
	var us int64
	err = db.read.QueryRowContext(qctx, `SELECT revoked_at FROM latch_device_revocations WHERE user_id = ?`, user).Scan(&us)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, nil
	} else if err != nil {
		return time.Time{}, fmt.Errorf("sqlitestore: devices revoked at: %w", err)
	}
	return fromMicros(us), nil
}

// RevokeDevices implements [throttle.DeviceStore]. It waits for the disk,
// as every write but the relaxed ones does: a revocation is what a
// password reset relies on.
func (db *DB) RevokeDevices(ctx context.Context, user string, at time.Time) error {
	_, err := db.write.ExecContext(ctx, `
		INSERT INTO latch_device_revocations (user_id, revoked_at) VALUES (?1, ?2)
		ON CONFLICT (user_id) DO UPDATE SET revoked_at = max(revoked_at, excluded.revoked_at)`,
		user, micros(at))
	if err != nil {
		return fmt.Errorf("sqlitestore: revoke devices: %w", err)
	}
	return nil
}
