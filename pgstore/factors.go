package pgstore

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/latchauth/latch/twofactor"
)

var _ twofactor.Store = (*DB)(nil)

// TOTP implements [twofactor.Store].
func (db *DB) TOTP(ctx context.Context, userID int64) (twofactor.TOTP, error) {
	t, err := read(db, func() (twofactor.TOTP, error) {
		t := twofactor.TOTP{UserID: userID}
		err := db.pool.QueryRow(ctx, `SELECT sealed, last_step, created_at FROM latch_totp WHERE user_id = $1`, userID).
			Scan(&t.Sealed, &t.LastStep, &t.CreatedAt)
		return t, err
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return twofactor.TOTP{}, twofactor.ErrNotFound
	} else if err != nil {
		return twofactor.TOTP{}, db.fail("totp", err)
	}
	t.CreatedAt = t.CreatedAt.UTC()
	return t, nil
}

// PutTOTP implements [twofactor.Store].
func (db *DB) PutTOTP(ctx context.Context, t twofactor.TOTP) error {
	_, err := db.pool.Exec(ctx, `
		INSERT INTO latch_totp (user_id, sealed, last_step, created_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (user_id) DO UPDATE SET sealed = $2, last_step = $3, created_at = $4`,
		t.UserID, t.Sealed, t.LastStep, t.CreatedAt)
	if err != nil {
		return db.fail("put totp", err)
	}
	return nil
}

// UseTOTPStep implements [twofactor.Store]. The UPDATE locks the row; a
// concurrent one re-checks the condition on the row once the first
// commits, and finds the step used.
func (db *DB) UseTOTPStep(ctx context.Context, userID, step int64) (bool, error) {
	tag, err := db.pool.Exec(ctx, `UPDATE latch_totp SET last_step = $2 WHERE user_id = $1 AND last_step < $2`, userID, step)
	if err != nil {
		return false, db.fail("use totp step", err)
	}
	return tag.RowsAffected() > 0, nil
}

// ReplaceRecoveryCodes implements [twofactor.Store], in one statement.
func (db *DB) ReplaceRecoveryCodes(ctx context.Context, userID int64, hashes [][]byte, at time.Time) error {
	_, err := db.pool.Exec(ctx, `
		WITH gone AS (DELETE FROM latch_recovery_codes WHERE user_id = $1)
		INSERT INTO latch_recovery_codes (user_id, hash, created_at)
		SELECT $1, h, $3 FROM unnest($2::bytea[]) AS h`, userID, hashes, at)
	if err != nil {
		return db.fail("replace recovery codes", err)
	}
	return nil
}

// ConsumeRecoveryCode implements [twofactor.Store]: one DELETE finds and
// removes the code.
func (db *DB) ConsumeRecoveryCode(ctx context.Context, userID int64, hash []byte) (bool, error) {
	tag, err := db.pool.Exec(ctx, `DELETE FROM latch_recovery_codes WHERE user_id = $1 AND hash = $2`, userID, hash)
	if err != nil {
		return false, db.fail("consume recovery code", err)
	}
	return tag.RowsAffected() > 0, nil
}

// RecoveryCodesLeft implements [twofactor.Store].
func (db *DB) RecoveryCodesLeft(ctx context.Context, userID int64) (int, error) {
	n, err := read(db, func() (int, error) {
		var n int
		err := db.pool.QueryRow(ctx, `SELECT count(*) FROM latch_recovery_codes WHERE user_id = $1`, userID).Scan(&n)
		return n, err
	})
	if err != nil {
		return 0, db.fail("recovery codes left", err)
	}
	return n, nil
}

// CreateTrustedDevice implements [twofactor.Store].
func (db *DB) CreateTrustedDevice(ctx context.Context, d twofactor.TrustedDevice) error {
	_, err := db.pool.Exec(ctx, `
		INSERT INTO latch_trusted_devices (id, user_id, hash, label, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6)`,
		d.ID, d.UserID, d.Hash, d.Label, d.CreatedAt, d.ExpiresAt)
	if err != nil {
		return db.fail("create trusted device", err)
	}
	return nil
}

const deviceColumns = `id, user_id, hash, label, created_at, expires_at`

func scanDevice(row pgx.Row) (twofactor.TrustedDevice, error) {
	var d twofactor.TrustedDevice
	err := row.Scan(&d.ID, &d.UserID, &d.Hash, &d.Label, &d.CreatedAt, &d.ExpiresAt)
	d.CreatedAt, d.ExpiresAt = d.CreatedAt.UTC(), d.ExpiresAt.UTC()
	return d, err
}

// TrustedDevice implements [twofactor.Store].
func (db *DB) TrustedDevice(ctx context.Context, hash []byte) (twofactor.TrustedDevice, error) {
	d, err := read(db, func() (twofactor.TrustedDevice, error) {
		return scanDevice(db.pool.QueryRow(ctx, `SELECT `+deviceColumns+` FROM latch_trusted_devices WHERE hash = $1`, hash))
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return twofactor.TrustedDevice{}, twofactor.ErrNotFound
	} else if err != nil {
		return twofactor.TrustedDevice{}, db.fail("trusted device", err)
	}
	return d, nil
}

// TrustedDevices implements [twofactor.Store].
func (db *DB) TrustedDevices(ctx context.Context, userID int64) ([]twofactor.TrustedDevice, error) {
	list, err := read(db, func() ([]twofactor.TrustedDevice, error) {
		rows, err := db.pool.Query(ctx, `
			SELECT `+deviceColumns+` FROM latch_trusted_devices WHERE user_id = $1
			ORDER BY created_at DESC, id DESC`, userID)
		if err != nil {
			return nil, err
		}
		return pgx.CollectRows(rows, func(row pgx.CollectableRow) (twofactor.TrustedDevice, error) { return scanDevice(row) })
	})
	if err != nil {
		return nil, db.fail("trusted devices", err)
	}
	return list, nil
}

// DeleteTrustedDevice implements [twofactor.Store].
func (db *DB) DeleteTrustedDevice(ctx context.Context, userID int64, id string) (bool, error) {
	tag, err := db.pool.Exec(ctx, `DELETE FROM latch_trusted_devices WHERE user_id = $1 AND id = $2`, userID, id)
	if err != nil {
		return false, db.fail("delete trusted device", err)
	}
	return tag.RowsAffected() > 0, nil
}

// DeleteTrustedDevices implements [twofactor.Store].
func (db *DB) DeleteTrustedDevices(ctx context.Context, userID int64) (int, error) {
	tag, err := db.pool.Exec(ctx, `DELETE FROM latch_trusted_devices WHERE user_id = $1`, userID)
	if err != nil {
		return 0, db.fail("delete trusted devices", err)
	}
	return int(tag.RowsAffected()), nil
}

// CreateReset implements [twofactor.Store]. The no-op update makes the
// statement return the row that is there, new or not.
func (db *DB) CreateReset(ctx context.Context, r twofactor.Reset) (twofactor.Reset, error) {
	out := twofactor.Reset{UserID: r.UserID}
	err := db.pool.QueryRow(ctx, `
		INSERT INTO latch_factor_resets AS f (user_id, requested_at, due_at) VALUES ($1, $2, $3)
		ON CONFLICT (user_id) DO UPDATE SET user_id = f.user_id
		RETURNING requested_at, due_at`,
		r.UserID, r.RequestedAt, r.DueAt).Scan(&out.RequestedAt, &out.DueAt)
	if err != nil {
		return twofactor.Reset{}, db.fail("create reset", err)
	}
	out.RequestedAt, out.DueAt = out.RequestedAt.UTC(), out.DueAt.UTC()
	return out, nil
}

// Reset implements [twofactor.Store].
func (db *DB) Reset(ctx context.Context, userID int64) (twofactor.Reset, error) {
	r, err := read(db, func() (twofactor.Reset, error) {
		r := twofactor.Reset{UserID: userID}
		err := db.pool.QueryRow(ctx, `SELECT requested_at, due_at FROM latch_factor_resets WHERE user_id = $1`, userID).Scan(&r.RequestedAt, &r.DueAt)
		return r, err
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return twofactor.Reset{}, twofactor.ErrNotFound
	} else if err != nil {
		return twofactor.Reset{}, db.fail("reset", err)
	}
	r.RequestedAt, r.DueAt = r.RequestedAt.UTC(), r.DueAt.UTC()
	return r, nil
}

// DeleteReset implements [twofactor.Store].
func (db *DB) DeleteReset(ctx context.Context, userID int64) (bool, error) {
	tag, err := db.pool.Exec(ctx, `DELETE FROM latch_factor_resets WHERE user_id = $1`, userID)
	if err != nil {
		return false, db.fail("delete reset", err)
	}
	return tag.RowsAffected() > 0, nil
}

// DeleteFactors implements [twofactor.Store], in one statement: the data
// changes of its parts commit together.
func (db *DB) DeleteFactors(ctx context.Context, userID int64) error {
	_, err := db.pool.Exec(ctx, `
		WITH t AS (DELETE FROM latch_totp WHERE user_id = $1),
		     c AS (DELETE FROM latch_recovery_codes WHERE user_id = $1),
		     d AS (DELETE FROM latch_trusted_devices WHERE user_id = $1),
		     p AS (DELETE FROM latch_passkeys WHERE user_id = $1)
		DELETE FROM latch_factor_resets WHERE user_id = $1`, userID)
	if err != nil {
		return db.fail("delete factors", err)
	}
	return nil
}

const passkeyColumns = `id, user_id, credential_id, public_key, sign_count, backup_eligible, backed_up, transports, name, created_at, last_used_at`

func scanPasskey(row pgx.Row) (twofactor.Passkey, error) {
	var (
		p          twofactor.Passkey
		transports string
		signCount  int64
		lastUsed   *time.Time
	)
	err := row.Scan(&p.ID, &p.UserID, &p.CredentialID, &p.PublicKey, &signCount, &p.BackupEligible, &p.BackedUp, &transports, &p.Name, &p.CreatedAt, &lastUsed)
	p.SignCount = uint32(signCount)
	if transports != "" {
		p.Transports = strings.Split(transports, ",")
	}
	p.CreatedAt = p.CreatedAt.UTC()
	if lastUsed != nil {
		p.LastUsedAt = lastUsed.UTC()
	}
	return p, err
}

// CreatePasskey implements [twofactor.Store].
func (db *DB) CreatePasskey(ctx context.Context, p twofactor.Passkey) error {
	var lastUsed *time.Time
	if !p.LastUsedAt.IsZero() {
		lastUsed = &p.LastUsedAt
	}
	_, err := db.pool.Exec(ctx, `
		INSERT INTO latch_passkeys (`+passkeyColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		p.ID, p.UserID, p.CredentialID, p.PublicKey, int64(p.SignCount), p.BackupEligible, p.BackedUp,
		strings.Join(p.Transports, ","), p.Name, p.CreatedAt, lastUsed)
	if err != nil {
		return db.fail("create passkey", err)
	}
	return nil
}

// Passkeys implements [twofactor.Store].
func (db *DB) Passkeys(ctx context.Context, userID int64) ([]twofactor.Passkey, error) {
	list, err := read(db, func() ([]twofactor.Passkey, error) {
		rows, err := db.pool.Query(ctx, `SELECT `+passkeyColumns+` FROM latch_passkeys WHERE user_id = $1 ORDER BY created_at, id`, userID)
		if err != nil {
			return nil, err
		}
		return pgx.CollectRows(rows, func(row pgx.CollectableRow) (twofactor.Passkey, error) { return scanPasskey(row) })
	})
	if err != nil {
		return nil, db.fail("passkeys", err)
	}
	return list, nil
}

// PasskeyByCredential implements [twofactor.Store].
func (db *DB) PasskeyByCredential(ctx context.Context, credentialID []byte) (twofactor.Passkey, error) {
	p, err := read(db, func() (twofactor.Passkey, error) {
		return scanPasskey(db.pool.QueryRow(ctx, `SELECT `+passkeyColumns+` FROM latch_passkeys WHERE credential_id = $1`, credentialID))
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return twofactor.Passkey{}, twofactor.ErrNotFound
	} else if err != nil {
		return twofactor.Passkey{}, db.fail("passkey", err)
	}
	return p, nil
}

// UsePasskey implements [twofactor.Store].
func (db *DB) UsePasskey(ctx context.Context, userID int64, id string, signCount uint32, backedUp bool, at time.Time) (bool, error) {
	tag, err := db.pool.Exec(ctx, `
		UPDATE latch_passkeys SET sign_count = $1, backed_up = $2, last_used_at = $3 WHERE user_id = $4 AND id = $5`,
		int64(signCount), backedUp, at, userID, id)
	if err != nil {
		return false, db.fail("use passkey", err)
	}
	return tag.RowsAffected() > 0, nil
}

// RenamePasskey implements [twofactor.Store].
func (db *DB) RenamePasskey(ctx context.Context, userID int64, id, name string) (bool, error) {
	tag, err := db.pool.Exec(ctx, `UPDATE latch_passkeys SET name = $1 WHERE user_id = $2 AND id = $3`, name, userID, id)
	if err != nil {
		return false, db.fail("rename passkey", err)
	}
	return tag.RowsAffected() > 0, nil
}

// DeletePasskey implements [twofactor.Store].
func (db *DB) DeletePasskey(ctx context.Context, userID int64, id string) (bool, error) {
	tag, err := db.pool.Exec(ctx, `DELETE FROM latch_passkeys WHERE user_id = $1 AND id = $2`, userID, id)
	if err != nil {
		return false, db.fail("delete passkey", err)
	}
	return tag.RowsAffected() > 0, nil
}
