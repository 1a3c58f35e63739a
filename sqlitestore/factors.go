package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/latchauth/latch/twofactor"
)

var _ twofactor.Store = (*DB)(nil)

// TOTP implements [twofactor.Store].
func (db *DB) TOTP(ctx context.Context, userID int64) (twofactor.TOTP, error) {
	t := twofactor.TOTP{UserID: userID}
	var created int64
	err := db.read.QueryRowContext(ctx, `SELECT sealed, last_step, created_at FROM latch_totp WHERE user_id = ?`, userID).
		Scan(&t.Sealed, &t.LastStep, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return twofactor.TOTP{}, twofactor.ErrNotFound
	} else if err != nil {
		return twofactor.TOTP{}, fmt.Errorf("sqlitestore: totp: %w", err)
	}
	t.CreatedAt = fromMicros(created)
	return t, nil
}

// PutTOTP implements [twofactor.Store].
func (db *DB) PutTOTP(ctx context.Context, t twofactor.TOTP) error {
	_, err := db.write.ExecContext(ctx, `
		INSERT INTO latch_totp (user_id, sealed, last_step, created_at) VALUES (?1, ?2, ?3, ?4)
		ON CONFLICT (user_id) DO UPDATE SET sealed = ?2, last_step = ?3, created_at = ?4`,
		t.UserID, t.Sealed, t.LastStep, micros(t.CreatedAt))
	if err != nil {
		return fmt.Errorf("sqlitestore: put totp: %w", err)
	}
	return nil
}

// UseTOTPStep implements [twofactor.Store]. The condition is in the UPDATE:
// SQLite runs one write at a time, so of two uses of a step only the first
// finds the row below it.
func (db *DB) UseTOTPStep(ctx context.Context, userID, step int64) (bool, error) {
	res, err := db.write.ExecContext(ctx, `UPDATE latch_totp SET last_step = ?2 WHERE user_id = ?1 AND last_step < ?2`, userID, step)
	return affected("use totp step", res, err)
}

// affected reports whether a write changed a row.
func affected(op string, res sql.Result, err error) (bool, error) {
	if err != nil {
		return false, fmt.Errorf("sqlitestore: %s: %w", op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("sqlitestore: %s: %w", op, err)
	}
	return n > 0, nil
}

// ReplaceRecoveryCodes implements [twofactor.Store].
func (db *DB) ReplaceRecoveryCodes(ctx context.Context, userID int64, hashes [][]byte, at time.Time) error {
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM latch_recovery_codes WHERE user_id = ?`, userID); err != nil {
			return err
		}
		for _, h := range hashes {
			if _, err := tx.ExecContext(ctx, `INSERT INTO latch_recovery_codes (user_id, hash, created_at) VALUES (?, ?, ?)`, userID, h, micros(at)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlitestore: replace recovery codes: %w", err)
	}
	return nil
}

// inTx runs do in a transaction on the write connection, committed if do
// returns nil.
func (db *DB) inTx(ctx context.Context, do func(tx *sql.Tx) error) error {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := do(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// ConsumeRecoveryCode implements [twofactor.Store]: one DELETE finds and
// removes the code.
func (db *DB) ConsumeRecoveryCode(ctx context.Context, userID int64, hash []byte) (bool, error) {
	res, err := db.write.ExecContext(ctx, `DELETE FROM latch_recovery_codes WHERE user_id = ? AND hash = ?`, userID, hash)
	return affected("consume recovery code", res, err)
}

// RecoveryCodesLeft implements [twofactor.Store].
func (db *DB) RecoveryCodesLeft(ctx context.Context, userID int64) (int, error) {
	var n int
	if err := db.read.QueryRowContext(ctx, `SELECT count(*) FROM latch_recovery_codes WHERE user_id = ?`, userID).Scan(&n); err != nil {
		return 0, fmt.Errorf("sqlitestore: recovery codes left: %w", err)
	}
	return n, nil
}

// CreateTrustedDevice implements [twofactor.Store].
func (db *DB) CreateTrustedDevice(ctx context.Context, d twofactor.TrustedDevice) error {
	_, err := db.write.ExecContext(ctx, `
		INSERT INTO latch_trusted_devices (id, user_id, hash, label, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?)`,
		d.ID, d.UserID, d.Hash, d.Label, micros(d.CreatedAt), micros(d.ExpiresAt))
	if err != nil {
		return fmt.Errorf("sqlitestore: create trusted device: %w", err)
	}
	return nil
}

const deviceColumns = `id, user_id, hash, label, created_at, expires_at`

func scanDevice(row scanner) (twofactor.TrustedDevice, error) {
	var (
		d                twofactor.TrustedDevice
		created, expires int64
	)
	err := row.Scan(&d.ID, &d.UserID, &d.Hash, &d.Label, &created, &expires)
	d.CreatedAt, d.ExpiresAt = fromMicros(created), fromMicros(expires)
	return d, err
}

// TrustedDevice implements [twofactor.Store].
func (db *DB) TrustedDevice(ctx context.Context, hash []byte) (twofactor.TrustedDevice, error) {
	d, err := scanDevice(db.read.QueryRowContext(ctx, `SELECT `+deviceColumns+` FROM latch_trusted_devices WHERE hash = ?`, hash))
	if errors.Is(err, sql.ErrNoRows) {
		return twofactor.TrustedDevice{}, twofactor.ErrNotFound
	} else if err != nil {
		return twofactor.TrustedDevice{}, fmt.Errorf("sqlitestore: trusted device: %w", err)
	}
	return d, nil
}

// TrustedDevices implements [twofactor.Store].
func (db *DB) TrustedDevices(ctx context.Context, userID int64) ([]twofactor.TrustedDevice, error) {
	rows, err := db.read.QueryContext(ctx, `
		SELECT `+deviceColumns+` FROM latch_trusted_devices WHERE user_id = ?
		ORDER BY created_at DESC, id DESC`, userID)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: trusted devices: %w", err)
	}
	return collect(rows, "trusted devices", scanDevice)
}

// DeleteTrustedDevice implements [twofactor.Store].
func (db *DB) DeleteTrustedDevice(ctx context.Context, userID int64, id string) (bool, error) {
	res, err := db.write.ExecContext(ctx, `DELETE FROM latch_trusted_devices WHERE user_id = ? AND id = ?`, userID, id)
	return affected("delete trusted device", res, err)
}

// DeleteTrustedDevices implements [twofactor.Store].
func (db *DB) DeleteTrustedDevices(ctx context.Context, userID int64) (int, error) {
	res, err := db.write.ExecContext(ctx, `DELETE FROM latch_trusted_devices WHERE user_id = ?`, userID)
	if err != nil {
		return 0, fmt.Errorf("sqlitestore: delete trusted devices: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("sqlitestore: delete trusted devices: %w", err)
	}
	return int(n), nil
}

// CreateReset implements [twofactor.Store].
func (db *DB) CreateReset(ctx context.Context, r twofactor.Reset) (twofactor.Reset, error) {
	var requested, due int64
	err := db.write.QueryRowContext(ctx, `
		INSERT INTO latch_factor_resets (user_id, requested_at, due_at) VALUES (?1, ?2, ?3)
		ON CONFLICT (user_id) DO UPDATE SET user_id = user_id
		RETURNING requested_at, due_at`,
		r.UserID, micros(r.RequestedAt), micros(r.DueAt)).Scan(&requested, &due)
	if err != nil {
		return twofactor.Reset{}, fmt.Errorf("sqlitestore: create reset: %w", err)
	}
	return twofactor.Reset{UserID: r.UserID, RequestedAt: fromMicros(requested), DueAt: fromMicros(due)}, nil
}

// Reset implements [twofactor.Store].
func (db *DB) Reset(ctx context.Context, userID int64) (twofactor.Reset, error) {
	var requested, due int64
	err := db.read.QueryRowContext(ctx, `SELECT requested_at, due_at FROM latch_factor_resets WHERE user_id = ?`, userID).Scan(&requested, &due)
	if errors.Is(err, sql.ErrNoRows) {
		return twofactor.Reset{}, twofactor.ErrNotFound
	} else if err != nil {
		return twofactor.Reset{}, fmt.Errorf("sqlitestore: reset: %w", err)
	}
	return twofactor.Reset{UserID: userID, RequestedAt: fromMicros(requested), DueAt: fromMicros(due)}, nil
}

// DeleteReset implements [twofactor.Store].
func (db *DB) DeleteReset(ctx context.Context, userID int64) (bool, error) {
	res, err := db.write.ExecContext(ctx, `DELETE FROM latch_factor_resets WHERE user_id = ?`, userID)
	return affected("delete reset", res, err)
}

// DeleteFactors implements [twofactor.Store].
func (db *DB) DeleteFactors(ctx context.Context, userID int64) error {
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		for _, table := range []string{"latch_totp", "latch_recovery_codes", "latch_trusted_devices", "latch_factor_resets", "latch_passkeys"} {
			if _, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE user_id = ?`, userID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlitestore: delete factors: %w", err)
	}
	return nil
}

const passkeyColumns = `id, user_id, credential_id, public_key, sign_count, backup_eligible, backed_up, transports, name, created_at, last_used_at`

func scanPasskey(row scanner) (twofactor.Passkey, error) {
	var (
		p          twofactor.Passkey
		transports string
		created    int64
		lastUsed   sql.NullInt64
	)
	err := row.Scan(&p.ID, &p.UserID, &p.CredentialID, &p.PublicKey, &p.SignCount, &p.BackupEligible, &p.BackedUp, &transports, &p.Name, &created, &lastUsed)
	if transports != "" {
		p.Transports = strings.Split(transports, ",")
	}
	p.CreatedAt = fromMicros(created)
	if lastUsed.Valid {
		p.LastUsedAt = fromMicros(lastUsed.Int64)
	}
	return p, err
}

// CreatePasskey implements [twofactor.Store].
func (db *DB) CreatePasskey(ctx context.Context, p twofactor.Passkey) error {
	var lastUsed any
	if !p.LastUsedAt.IsZero() {
		lastUsed = micros(p.LastUsedAt)
	}
	_, err := db.write.ExecContext(ctx, `
		INSERT INTO latch_passkeys (`+passkeyColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		p.ID, p.UserID, p.CredentialID, p.PublicKey, p.SignCount, p.BackupEligible, p.BackedUp,
		strings.Join(p.Transports, ","), p.Name, micros(p.CreatedAt), lastUsed)
	if err != nil {
		return fmt.Errorf("sqlitestore: create passkey: %w", err)
	}
	return nil
}

// Passkeys implements [twofactor.Store].
func (db *DB) Passkeys(ctx context.Context, userID int64) ([]twofactor.Passkey, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT `+passkeyColumns+` FROM latch_passkeys WHERE user_id = ? ORDER BY created_at, id`, userID)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: passkeys: %w", err)
	}
	return collect(rows, "passkeys", scanPasskey)
}

// PasskeyByCredential implements [twofactor.Store].
func (db *DB) PasskeyByCredential(ctx context.Context, credentialID []byte) (twofactor.Passkey, error) {
	p, err := scanPasskey(db.read.QueryRowContext(ctx, `SELECT `+passkeyColumns+` FROM latch_passkeys WHERE credential_id = ?`, credentialID))
	if errors.Is(err, sql.ErrNoRows) {
		return twofactor.Passkey{}, twofactor.ErrNotFound
	} else if err != nil {
		return twofactor.Passkey{}, fmt.Errorf("sqlitestore: passkey: %w", err)
	}
	return p, nil
}

// UsePasskey implements [twofactor.Store].
func (db *DB) UsePasskey(ctx context.Context, userID int64, id string, signCount uint32, backedUp bool, at time.Time) (bool, error) {
	res, err := db.write.ExecContext(ctx, `
		UPDATE latch_passkeys SET sign_count = ?, backed_up = ?, last_used_at = ? WHERE user_id = ? AND id = ?`,
		signCount, backedUp, micros(at), userID, id)
	return affected("use passkey", res, err)
}

// RenamePasskey implements [twofactor.Store].
func (db *DB) RenamePasskey(ctx context.Context, userID int64, id, name string) (bool, error) {
	res, err := db.write.ExecContext(ctx, `UPDATE latch_passkeys SET name = ? WHERE user_id = ? AND id = ?`, name, userID, id)
	return affected("rename passkey", res, err)
}

// DeletePasskey implements [twofactor.Store].
func (db *DB) DeletePasskey(ctx context.Context, userID int64, id string) (bool, error) {
	res, err := db.write.ExecContext(ctx, `DELETE FROM latch_passkeys WHERE user_id = ? AND id = ?`, userID, id)
	return affected("delete passkey", res, err)
}
