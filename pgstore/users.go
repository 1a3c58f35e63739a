package pgstore

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/latchauth/latch/account"
)

// emailIndex is the unique index on users (email), created by the first
// migration. A unique violation of it is account.ErrEmailTaken.
const emailIndex = "latch_users_email"

const userColumns = `id, email, name, password_hash, created_at, last_login_at, email_verified_at, ` + adminColumns

func scanUser(row pgx.Row) (account.User, error) {
	var (
		u         account.User
		lastLogin *time.Time
		verified  *time.Time
		roles     *string
		disabled  *time.Time
	)
	if err := row.Scan(&u.ID, &u.Email, &u.Name, &u.PasswordHash, &u.CreatedAt, &lastLogin, &verified, &roles, &disabled); err != nil {
		return account.User{}, err
	}
	u.CreatedAt, u.LastLoginAt, u.EmailVerifiedAt = u.CreatedAt.UTC(), fromNullTime(lastLogin), fromNullTime(verified)
	if roles != nil {
		u.Roles = account.MakeRoles(strings.Fields(*roles)...)
	}
	u.DisabledAt = fromNullTime(disabled)
	return u, nil
}

// CreateUser implements [account.Store]. A zero CreatedAt is set to the
// current time from [DB.Now]; either way it is returned as stored, in UTC at
// microsecond precision.
func (db *DB) CreateUser(ctx context.Context, u account.User) (account.User, error) {
	if u.CreatedAt.IsZero() {
		u.CreatedAt = db.Now()
	}
	var lastLogin, verified *time.Time
	// No lookup first: only the unique index decides, so two concurrent
	// sign-ups cannot both pass a check.
	err := db.pool.QueryRow(ctx, `
		INSERT INTO latch_users (email, name, password_hash, created_at, last_login_at, email_verified_at)
		VALUES ($1, $2, $3, $4, $5, $6)
		RETURNING id, created_at, last_login_at, email_verified_at`,
		u.Email, u.Name, u.PasswordHash, u.CreatedAt, nullTime(u.LastLoginAt), nullTime(u.EmailVerifiedAt),
	).Scan(&u.ID, &u.CreatedAt, &lastLogin, &verified)
	if isUniqueViolation(err, emailIndex) {
		return account.User{}, account.ErrEmailTaken
	} else if err != nil {
		return account.User{}, db.fail("create user", err)
	}
	u.CreatedAt, u.LastLoginAt, u.EmailVerifiedAt = u.CreatedAt.UTC(), fromNullTime(lastLogin), fromNullTime(verified)
	return u, nil
}

// UserByID implements [account.Store]. Users found are cached in memory;
// see the package documentation.
func (db *DB) UserByID(ctx context.Context, id int64) (account.User, error) {
	return db.cache.ReadUser(id, func() (account.User, error) {
		return db.userBy(ctx, `SELECT `+userColumns+` FROM latch_users WHERE id = $1`, "id", id)
	})
}

// UserByEmail implements [account.Store]. The email is compared exactly; the
// caller normalises it. A string that PostgreSQL cannot hold as text (not
// UTF-8, or with a NUL byte), which a login form may well send, matches no
// user rather than being an error.
func (db *DB) UserByEmail(ctx context.Context, email string) (account.User, error) {
	if !utf8.ValidString(email) || strings.IndexByte(email, 0) >= 0 {
		return account.User{}, account.ErrUserNotFound
	}
	return db.userBy(ctx, `SELECT `+userColumns+` FROM latch_users WHERE email = $1`, "email", email)
}

func (db *DB) userBy(ctx context.Context, query, what string, key any) (account.User, error) {
	u, err := read(db, func() (account.User, error) { return scanUser(db.pool.QueryRow(ctx, query, key)) })
	if errors.Is(err, pgx.ErrNoRows) {
		return account.User{}, account.ErrUserNotFound
	} else if err != nil {
		return account.User{}, db.fail("user by "+what, err)
	}
	return u, nil
}

// RecordLogin implements [account.Store]. One statement sets both fields, so
// they change together or not at all. Without a new hash, the commit does
// not wait for the disk (see relaxNote).
func (db *DB) RecordLogin(ctx context.Context, id int64, at time.Time, newHash string) error {
	var relax []note
	if newHash == "" {
		relax = []note{relaxNote} // a last-login time alone
	}
	tag, err := db.changeUser(ctx, id, relax, `
		UPDATE latch_users SET
			last_login_at = $2,
			password_hash = CASE WHEN $3 = '' THEN password_hash ELSE $3 END
		WHERE id = $1`,
		id, nullTime(at), newHash)
	return db.updatedUser("record login", tag, err)
}

// SetPasswordHash implements [account.Store].
func (db *DB) SetPasswordHash(ctx context.Context, id int64, hash string) error {
	tag, err := db.changeUser(ctx, id, nil, `UPDATE latch_users SET password_hash = $2 WHERE id = $1`, id, hash)
	return db.updatedUser("set password hash", tag, err)
}

// SetEmail implements [account.Store].
func (db *DB) SetEmail(ctx context.Context, id int64, email string, verifiedAt time.Time) error {
	tag, err := db.changeUser(ctx, id, nil, `UPDATE latch_users SET email = $2, email_verified_at = $3 WHERE id = $1`,
		id, email, nullTime(verifiedAt))
	if isUniqueViolation(err, emailIndex) {
		return account.ErrEmailTaken
	}
	return db.updatedUser("set email", tag, err)
}

// SetName implements [account.Store].
func (db *DB) SetName(ctx context.Context, id int64, name string) error {
	tag, err := db.changeUser(ctx, id, nil, `UPDATE latch_users SET name = $2 WHERE id = $1`, id, name)
	return db.updatedUser("set name", tag, err)
}

// SetEmailVerified implements [account.Store].
func (db *DB) SetEmailVerified(ctx context.Context, id int64, email string, at time.Time) error {
	tag, err := db.changeUser(ctx, id, nil, `UPDATE latch_users SET email_verified_at = $3 WHERE id = $1 AND email = $2`,
		id, email, nullTime(at))
	return db.updatedUser("set email verified", tag, err)
}

// DeleteUser implements [account.Store]. The user's sessions are not the
// account store's business: the caller deletes them through the session
// store, whose user IDs are strings of its own.
func (db *DB) DeleteUser(ctx context.Context, id int64) error {
	tag, err := db.changeUser(ctx, id, nil, `DELETE FROM latch_users WHERE id = $1`, id)
	return db.updatedUser("delete user", tag, err)
}

// changeUser runs a write of the user with the given ID after the notes
// first (relaxNote or none), tells other stores, and forgets the user here.
func (db *DB) changeUser(ctx context.Context, id int64, first []note, query string, args ...any) (pgconn.CommandTag, error) {
	tag, err := db.change(ctx, append(first, db.noteOf(noteUser+strconv.FormatInt(id, 10))), nil, query, args...)
	db.cache.ForgetUser(id)
	return tag, err
}

// updatedUser checks the outcome of a statement on one user.
func (db *DB) updatedUser(op string, tag pgconn.CommandTag, err error) error {
	if err != nil {
		return db.fail(op, err)
	}
	if tag.RowsAffected() == 0 {
		return account.ErrUserNotFound
	}
	return nil
}

// ListUsers implements [account.Store]. A limit of zero or less returns no
// users.
func (db *DB) ListUsers(ctx context.Context, after int64, limit int) ([]account.User, error) {
	if limit <= 0 {
		return nil, nil
	}
	list, err := read(db, func() ([]account.User, error) {
		rows, err := db.pool.Query(ctx, `
			SELECT `+userColumns+` FROM latch_users
			WHERE id > $1
			ORDER BY id
			LIMIT $2`, after, limit)
		if err != nil {
			return nil, err
		}
		return pgx.CollectRows(rows, func(row pgx.CollectableRow) (account.User, error) {
			return scanUser(row)
		})
	})
	if err != nil {
		return nil, db.fail("list users", err)
	}
	return list, nil
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
	list, err := read(db, func() ([]string, error) {
		rows, err := db.pool.Query(ctx, legacyHashSamples)
		if err != nil {
			return nil, err
		}
		return pgx.CollectRows(rows, pgx.RowTo[string])
	})
	if err != nil {
		return nil, db.fail("sample password hashes", err)
	}
	return list, nil
}
