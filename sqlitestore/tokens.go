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

var (
	_ account.TokenStore  = (*DB)(nil)
	_ account.TokenPruner = (*DB)(nil)
	_ account.TokenLooker = (*DB)(nil)
)

// CreateToken implements [account.TokenStore]. The write does not wait for
// the disk (see [DB.relaxed]): a power failure may lose a token just made,
// whose user then asks for another link, while a sign-up that mails one
// does not pay a second disk sync. Using a token waits for the disk.
func (db *DB) CreateToken(ctx context.Context, t account.Token) error {
	if t.CreatedAt.IsZero() {
		t.CreatedAt = db.Now()
	}
	_, err := db.execRelaxed(ctx, `
		INSERT INTO latch_tokens (hash, purpose, user_id, email, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?)`,
		t.Hash, t.Purpose, t.UserID, t.Email, micros(t.CreatedAt), micros(t.ExpiresAt))
	if err != nil {
		return fmt.Errorf("sqlitestore: create token: %w", err)
	}
	return nil
}

// ConsumeToken implements [account.TokenStore]. One DELETE finds and removes
// the token: SQLite runs one write at a time, so of two calls for one token
// only the first finds it.
func (db *DB) ConsumeToken(ctx context.Context, purpose string, hash []byte, now time.Time) (account.Token, error) {
	var (
		t                account.Token
		created, expires int64
	)
	err := db.write.QueryRowContext(ctx, `
		DELETE FROM latch_tokens WHERE hash = ? AND purpose = ?
		RETURNING hash, purpose, user_id, email, created_at, expires_at`, hash, purpose,
	).Scan(&t.Hash, &t.Purpose, &t.UserID, &t.Email, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return account.Token{}, account.ErrTokenInvalid
	} else if err != nil {
		return account.Token{}, fmt.Errorf("sqlitestore: consume token: %w", err)
	}
	t.CreatedAt, t.ExpiresAt = fromMicros(created), fromMicros(expires)
	if !t.ExpiresAt.After(now) {
		return account.Token{}, account.ErrTokenInvalid
	}
	return t, nil
}

// LookupToken implements [account.TokenLooker].
func (db *DB) LookupToken(ctx context.Context, purpose string, hash []byte, now time.Time) (account.Token, error) {
	var (
		t                account.Token
		created, expires int64
	)
	err := db.read.QueryRowContext(ctx, `
		SELECT hash, purpose, user_id, email, created_at, expires_at
		FROM latch_tokens WHERE hash = ? AND purpose = ?`, hash, purpose,
	).Scan(&t.Hash, &t.Purpose, &t.UserID, &t.Email, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return account.Token{}, account.ErrTokenInvalid
	} else if err != nil {
		return account.Token{}, fmt.Errorf("sqlitestore: look up token: %w", err)
	}
	t.CreatedAt, t.ExpiresAt = fromMicros(created), fromMicros(expires)
	if !t.ExpiresAt.After(now) {
		return account.Token{}, account.ErrTokenInvalid
	}
	return t, nil
}

// DeleteUserTokens implements [account.TokenStore].
func (db *DB) DeleteUserTokens(ctx context.Context, userID int64, purposes ...string) (int, error) {
	query, args := `DELETE FROM latch_tokens WHERE user_id = ?`, []any{userID}
	if len(purposes) > 0 {
		query += ` AND purpose IN (?` + strings.Repeat(`, ?`, len(purposes)-1) + `)`
		for _, p := range purposes {
			args = append(args, p)
		}
	}
	res, err := db.write.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, fmt.Errorf("sqlitestore: delete user tokens: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("sqlitestore: delete user tokens: %w", err)
	}
	return int(n), nil
}

// DeleteExpiredTokens implements [account.TokenPruner].
func (db *DB) DeleteExpiredTokens(ctx context.Context, now time.Time) (int, error) {
	res, err := db.write.ExecContext(ctx, `DELETE FROM latch_tokens WHERE expires_at <= ?`, micros(now))
	if err != nil {
		return 0, fmt.Errorf("sqlitestore: delete expired tokens: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("sqlitestore: delete expired tokens: %w", err)
	}
	return int(n), nil
}
