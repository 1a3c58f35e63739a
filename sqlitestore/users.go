package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/latchauth/latch/account"
)

const userColumns = `id, email, name, password_hash, created_at, last_login_at, email_verified_at, ` + adminColumns

func scanUser(row scanner) (account.User, error) {
	var (
		u         account.User
		created   int64
		lastLogin sql.NullInt64
		verified  sql.NullInt64
		roles     sql.NullString
		disabled  sql.NullInt64
	)
	if err := row.Scan(&u.ID, &u.Email, &u.Name, &u.PasswordHash, &created, &lastLogin, &verified, &roles, &disabled); err != nil {
		return account.User{}, err
	}
	u.CreatedAt, u.LastLoginAt, u.EmailVerifiedAt = fromMicros(created), fromNullMicros(lastLogin), fromNullMicros(verified)
	u.Roles, u.DisabledAt = account.MakeRoles(strings.Fields(roles.String)...), fromNullMicros(disabled)
	return u, nil
}

// CreateUser implements [account.Store]. A zero CreatedAt is set to the
// current time from [DB.Now]; either way it is returned as stored, in UTC at
// microsecond precision.
func (db *DB) CreateUser(ctx context.Context, u account.User) (account.User, error) {
	if u.CreatedAt.IsZero() {
		u.CreatedAt = db.Now()
	}
	u.CreatedAt = fromMicros(micros(u.CreatedAt))
	if !u.LastLoginAt.IsZero() {
		u.LastLoginAt = fromMicros(micros(u.LastLoginAt))
	}
	if !u.EmailVerifiedAt.IsZero() {
		u.EmailVerifiedAt = fromMicros(micros(u.EmailVerifiedAt))
	}
	// The insert runs to its end once begun (see [quick]): a sign-up
	// whose client went away after its password was hashed still counts.
	qctx, err := quick(ctx)
	if err != nil {
		return account.User{}, fmt.Errorf("sqlitestore: create user: %w", err)
	}
	// No lookup first: only the unique index decides, so two concurrent
	// sign-ups cannot both pass a check.
	res, err := db.write.ExecContext(qctx, `
		INSERT INTO latch_users (email, name, password_hash, created_at, last_login_at, email_verified_at)
		VALUES (?, ?, ?, ?, ?, ?)`,
		u.Email, u.Name, u.PasswordHash, micros(u.CreatedAt), nullMicros(u.LastLoginAt), nullMicros(u.EmailVerifiedAt))
	if isUnique(err) {
		// The email index is the only unique constraint a new user can
		// break: the ID is chosen by SQLite.
		return account.User{}, account.ErrEmailTaken
	} else if err != nil {
		return account.User{}, fmt.Errorf("sqlitestore: create user: %w", err)
	}
	if u.ID, err = res.LastInsertId(); err != nil {
		return account.User{}, fmt.Errorf("sqlitestore: create user: %w", err)
	}
	return u, nil
}

// UserByID implements [account.Store].
// Users found are cached in memory; see the package documentation.
func (db *DB) UserByID(ctx context.Context, id int64) (account.User, error) {
	return db.cache.ReadUser(id, func() (account.User, error) {
		return db.userBy(ctx, `SELECT `+userColumns+` FROM latch_users WHERE id = ?`, "id", id)
	})
}

// UserByEmail implements [account.Store]. The email is compared exactly; the
// caller normalises it.
func (db *DB) UserByEmail(ctx context.Context, email string) (account.User, error) {
	return db.userBy(ctx, `SELECT `+userColumns+` FROM latch_users WHERE email = ?`, "email", email)
}

func (db *DB) userBy(ctx context.Context, query, what string, key any) (account.User, error) {
	qctx, err := quick(ctx)
	if err != nil {
		return account.User{}, fmt.Errorf("sqlitestore: user by %s: %w", what, err)
	}
	u, err := scanUser(db.read.QueryRowContext(qctx, query, key))
	if errors.Is(err, sql.ErrNoRows) {
		return account.User{}, account.ErrUserNotFound
	} else if err != nil {
		return account.User{}, fmt.Errorf("sqlitestore: user by %s: %w", what, err)
	}
	return u, nil
}

// RecordLogin implements [account.Store]. One statement sets both fields, so
// they change together or not at all. Without a new hash, the write does
// not wait for the disk (see [DB.relaxed]): a power failure may undo a
// last-login time.
func (db *DB) RecordLogin(ctx context.Context, id int64, at time.Time, newHash string) error {
	exec := db.write.ExecContext
	if newHash == "" {
		exec = db.execRelaxed
	}
	res, err := exec(ctx, `
		UPDATE latch_users SET
			last_login_at = ?1,
			password_hash = CASE WHEN ?2 = '' THEN password_hash ELSE ?2 END
		WHERE id = ?3`,
		nullMicros(at), newHash, id)
	db.cache.ForgetUser(id)
	return updated("record login", account.ErrUserNotFound, res, err)
}

// SetPasswordHash implements [account.Store].
func (db *DB) SetPasswordHash(ctx context.Context, id int64, hash string) error {
	res, err := db.write.ExecContext(ctx, `UPDATE latch_users SET password_hash = ? WHERE id = ?`, hash, id)
	db.cache.ForgetUser(id)
	return updated("set password hash", account.ErrUserNotFound, res, err)
}

// SetEmail implements [account.Store].
func (db *DB) SetEmail(ctx context.Context, id int64, email string, verifiedAt time.Time) error {
	res, err := db.write.ExecContext(ctx, `UPDATE latch_users SET email = ?, email_verified_at = ? WHERE id = ?`,
		email, nullMicros(verifiedAt), id)
	db.cache.ForgetUser(id)
	if isUnique(err) {
		return account.ErrEmailTaken
	}
	return updated("set email", account.ErrUserNotFound, res, err)
}

// SetName implements [account.Store].
func (db *DB) SetName(ctx context.Context, id int64, name string) error {
	res, err := db.write.ExecContext(ctx, `UPDATE latch_users SET name = ? WHERE id = ?`, name, id)
	db.cache.ForgetUser(id)
	return updated("set name", account.ErrUserNotFound, res, err)
}

// SetEmailVerified implements [account.Store].
func (db *DB) SetEmailVerified(ctx context.Context, id int64, email string, at time.Time) error {
	res, err := db.write.ExecContext(ctx, `UPDATE latch_users SET email_verified_at = ? WHERE id = ? AND email = ?`,
		nullMicros(at), id, email)
	db.cache.ForgetUser(id)
	return updated("set email verified", account.ErrUserNotFound, res, err)
}

// DeleteUser implements [account.Store]. The user's sessions are not the
// account store's business: the caller deletes them through the session
// store, whose user IDs are strings of its own.
func (db *DB) DeleteUser(ctx context.Context, id int64) error {
	res, err := db.write.ExecContext(ctx, `DELETE FROM latch_users WHERE id = ?`, id)
	db.cache.ForgetUser(id)
	return updated("delete user", account.ErrUserNotFound, res, err)
}

// updated checks the outcome of a write of one row: notFound when it
// changed none.
func updated(op string, notFound error, res sql.Result, err error) error {
	if err != nil {
		return fmt.Errorf("sqlitestore: %s: %w", op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlitestore: %s: %w", op, err)
	}
	if n == 0 {
		return notFound
	}
	return nil
}

// ListUsers implements [account.Store]. A limit of zero or less returns no
// users.
func (db *DB) ListUsers(ctx context.Context, after int64, limit int) ([]account.User, error) {
	if limit <= 0 {
		return nil, nil
	}
	rows, err := db.read.QueryContext(ctx, `
		SELECT `+userColumns+` FROM latch_users
		WHERE id > ?
		ORDER BY id
		LIMIT ?`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: list users: %w", err)
	}
	return collect(rows, "list users", scanUser)
}

// legacyHashSamples picks one hash per format and parameters among those
// that are not argon2id, reading only the rows that the partial index
// latch_users_legacy_hash lists. Hashes are grouped by what precedes their
// salt: the text before the last two '$'-separated fields
// ("pbkdf2:sha256:600000$", "pbkdf2_sha256$870000$"), or for bcrypt before
// the last one ("$2b$12$"). rtrim of h, with every character of h but '$'
// as the set to trim, cuts h after its last '$'.
const legacyHashSamples = `
	SELECT min(password_hash) FROM latch_users
	WHERE password_hash NOT LIKE '$argon2id$%'
	GROUP BY CASE
		WHEN password_hash LIKE '$2%' OR password_hash LIKE 'bcrypt%'
		THEN rtrim(password_hash, replace(password_hash, '$', ''))
		ELSE rtrim(rtrim(rtrim(password_hash, replace(password_hash, '$', '')), '$'), replace(password_hash, '$', ''))
	END`

// LegacyHashSamples implements [account.HashSampler].
func (db *DB) LegacyHashSamples(ctx context.Context) ([]string, error) {
	rows, err := db.read.QueryContext(ctx, legacyHashSamples)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: sample password hashes: %w", err)
	}
	defer rows.Close()
	var list []string
	for rows.Next() {
		var h string
		if err := rows.Scan(&h); err != nil {
			return nil, fmt.Errorf("sqlitestore: sample password hashes: %w", err)
		}
		list = append(list, h)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlitestore: sample password hashes: %w", err)
	}
	return list, nil
}
