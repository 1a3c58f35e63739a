package pgstore

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
)

// DevicesRevokedAt implements [throttle.DeviceStore].
func (db *DB) DevicesRevokedAt(ctx context.Context, user string) (time.Time, error) {
	at, err := read(db, func() (time.Time, error) {
		var at time.Time
		err := db.pool.QueryRow(ctx, `SELECT revoked_at FROM latch_device_revocations WHERE user_id = $1`, user).Scan(&at)
		return at, err
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return time.Time{}, nil
	} else if err != nil {
		return time.Time{}, db.fail("devices revoked at", err)
	}
	return at.UTC(), nil
}

// RevokeDevices implements [throttle.DeviceStore].
func (db *DB) RevokeDevices(ctx context.Context, user string, at time.Time) error {
	_, err := db.pool.Exec(ctx, `
		INSERT INTO latch_device_revocations AS r (user_id, revoked_at) VALUES ($1, $2)
		ON CONFLICT (user_id) DO UPDATE SET revoked_at = greatest(r.revoked_at, excluded.revoked_at)`,
		user, at)
	if err != nil {
		return db.fail("revoke devices", err)
	}
	return nil
}
