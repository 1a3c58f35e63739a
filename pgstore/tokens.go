package pgstore

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/latchauth/latch/account"
)

var (
	_ account.TokenStore  = (*DB)(nil)
	_ account.TokenPruner = (*DB)(nil)
	_ account.TokenLooker = (*DB)(nil)
)

// CreateToken implements [account.TokenStore]. The commit does not wait for
// the disk (see relaxNote): a crash may lose a token just made, whose user
// then asks for another link. Using a token waits for the disk.
func (db *DB) CreateToken(ctx context.Context, t account.Token) error {
	if t.CreatedAt.IsZero() {
		t.CreatedAt = db.Now()
	}
	_, err := db.change(ctx, []note{relaxNote}, nil, `
		INSERT INTO latch_tokens (hash, purpose, user_id, email, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6)`,
		t.Hash, t.Purpose, t.UserID, t.Email, t.CreatedAt, t.ExpiresAt)
	if err != nil {
		return db.fail("create token", err)
	}
	return nil
}

// ConsumeToken implements [account.TokenStore]. One DELETE finds and removes
// the token: it locks the row, and a concurrent DELETE of the same row finds
// it gone once the first commits.
func (db *DB) ConsumeToken(ctx context.Context, purpose string, hash []byte, now time.Time) (account.Token, error) {
	var t account.Token
	err := db.pool.QueryRow(ctx, `
		DELETE FROM latch_tokens WHERE hash = $1 AND purpose = $2
		RETURNING hash, purpose, user_id, email, created_at, expires_at`, hash, purpose,
	).Scan(&t.Hash, &t.Purpose, &t.UserID, &t.Email, &t.CreatedAt, &t.ExpiresAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return account.Token{}, account.ErrTokenInvalid
	} else if err != nil {
		return account.Token{}, db.fail("consume token", err)
	}
	t.CreatedAt, t.ExpiresAt = t.CreatedAt.UTC(), t.ExpiresAt.UTC()
	if !t.ExpiresAt.After(now) {
		return account.Token{}, account.ErrTokenInvalid
	}
	return t, nil
}

// LookupToken implements [account.TokenLooker].
func (db *DB) LookupToken(ctx context.Context, purpose string, hash []byte, now time.Time) (account.Token, error) {
	var t account.Token
	err := db.pool.QueryRow(ctx, `
		SELECT hash, purpose, user_id, email, created_at, expires_at
		FROM latch_tokens WHERE hash = $1 AND purpose = $2`, hash, purpose,
	).Scan(&t.Hash, &t.Purpose, &t.UserID, &t.Email, &t.CreatedAt, &t.ExpiresAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return account.Token{}, account.ErrTokenInvalid
	} else if err != nil {
		return account.Token{}, db.fail("look up token", err)
	}
	t.CreatedAt, t.ExpiresAt = t.CreatedAt.UTC(), t.ExpiresAt.UTC()
	if !t.ExpiresAt.After(now) {
		return account.Token{}, account.ErrTokenInvalid
	}
	return t, nil
}

// DeleteUserTokens implements [account.TokenStore].
func (db *DB) DeleteUserTokens(ctx context.Context, userID int64, purposes ...string) (int, error) {
	query, args := `DELETE FROM latch_tokens WHERE user_id = $1`, []any{userID}
	if len(purposes) > 0 {
		query += ` AND purpose = ANY($2)`
		args = append(args, purposes)
	}
	tag, err := db.pool.Exec(ctx, query, args...)
	if err != nil {
		return 0, db.fail("delete user tokens", err)
	}
	return int(tag.RowsAffected()), nil
}

// DeleteExpiredTokens implements [account.TokenPruner].
func (db *DB) DeleteExpiredTokens(ctx context.Context, now time.Time) (int, error) {
	tag, err := db.pool.Exec(ctx, `DELETE FROM latch_tokens WHERE expires_at <= $1`, now)
	if err != nil {
		return 0, db.fail("delete expired tokens", err)
	}
	return int(tag.RowsAffected()), nil
}
