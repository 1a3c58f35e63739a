package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/latchauth/latch"
)

const sessionColumns = `id, user_id, token_hash, remember_hash, remember, fresh, created_at, last_seen_at, expires_at, ip, user_agent, prev_remember_hash, rotated_at`

func scanSession(row scanner) (latch.Session, error) {
	var (
		s                      latch.Session
		created, seen, expires int64
		rotated                sql.NullInt64
	)
	err := row.Scan(&s.ID, &s.UserID, &s.TokenHash, &s.RememberHash, &s.Remember, &s.Fresh,
		&created, &seen, &expires, &s.IP, &s.UserAgent, &s.PrevRememberHash, &rotated)
	if err != nil {
		return latch.Session{}, err
	}
	s.CreatedAt, s.LastSeenAt, s.ExpiresAt = fromMicros(created), fromMicros(seen), fromMicros(expires)
	s.RotatedAt = fromNullMicros(rotated)
	return s, nil
}

// rememberValue returns the remember hash as stored: NULL when there is none,
// so that any number of sessions may have none despite the unique constraint.
func rememberValue(hash []byte) any {
	if len(hash) == 0 {
		return nil
	}
	return hash
}

// CreateSession implements [latch.SessionStore]. A duplicate ID, token hash
// or remember hash is an error. The write does not wait for the disk (see
// [DB.relaxed]): a power failure may undo it, and its user logs in again.
func (db *DB) CreateSession(ctx context.Context, s latch.Session) error {
	_, err := db.execRelaxed(ctx, `
		INSERT INTO sessions (`+sessionColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		s.ID, s.UserID, s.TokenHash, rememberValue(s.RememberHash), s.Remember, s.Fresh,
		micros(s.CreatedAt), micros(s.LastSeenAt), micros(s.ExpiresAt), s.IP, s.UserAgent,
		rememberValue(s.PrevRememberHash), nullMicros(s.RotatedAt))
	db.cache.ForgetSessions(nil, s.UserID)
	if err != nil {
		return fmt.Errorf("sqlitestore: create session: %w", err)
	}
	return nil
}

// SessionByToken implements [latch.SessionStore]. Sessions found are cached
// in memory; see the package documentation.
func (db *DB) SessionByToken(ctx context.Context, hash []byte) (latch.Session, error) {
	return db.cache.ReadSession(hash, func() (latch.Session, error) {
		return db.sessionBy(ctx, `SELECT `+sessionColumns+` FROM sessions WHERE token_hash = ?`, "token", hash)
	})
}

// SessionByRemember implements [latch.SessionStore]. An empty hash finds
// nothing, so sessions without remember-me are never restored by it.
func (db *DB) SessionByRemember(ctx context.Context, hash []byte) (latch.Session, error) {
	return db.sessionBy(ctx, `SELECT `+sessionColumns+` FROM sessions WHERE remember_hash = ?1 OR prev_remember_hash = ?1`, "remember token", hash)
}

func (db *DB) sessionBy(ctx context.Context, query, what string, hash []byte) (latch.Session, error) {
	if len(hash) == 0 {
		return latch.Session{}, latch.ErrSessionNotFound
	}
	qctx, err := quick(ctx)
	if err != nil {
		return latch.Session{}, fmt.Errorf("sqlitestore: session by %s: %w", what, err)
	}
	s, err := scanSession(db.read.QueryRowContext(qctx, query, hash))
	if errors.Is(err, sql.ErrNoRows) {
		return latch.Session{}, latch.ErrSessionNotFound
	} else if err != nil {
		return latch.Session{}, fmt.Errorf("sqlitestore: session by %s: %w", what, err)
	}
	return s, nil
}

// UpdateSession implements [latch.SessionStore]. Every field but the ID is
// replaced.
func (db *DB) UpdateSession(ctx context.Context, s latch.Session) error {
	res, err := db.write.ExecContext(ctx, `
		UPDATE sessions SET
			user_id = ?, token_hash = ?, remember_hash = ?, remember = ?, fresh = ?,
			created_at = ?, last_seen_at = ?, expires_at = ?, ip = ?, user_agent = ?,
			prev_remember_hash = ?, rotated_at = ?
		WHERE id = ?`,
		s.UserID, s.TokenHash, rememberValue(s.RememberHash), s.Remember, s.Fresh,
		micros(s.CreatedAt), micros(s.LastSeenAt), micros(s.ExpiresAt), s.IP, s.UserAgent,
		rememberValue(s.PrevRememberHash), nullMicros(s.RotatedAt),
		s.ID)
	db.cache.ForgetSessions([]string{s.ID}, s.UserID)
	return updated("update session", latch.ErrSessionNotFound, res, err)
}

// TouchSession implements [latch.SessionStore]. The write does not wait for
// the disk (see [DB.relaxed]).
func (db *DB) TouchSession(ctx context.Context, id string, lastSeen time.Time) error {
	res, err := db.execRelaxed(ctx, `UPDATE sessions SET last_seen_at = ? WHERE id = ?`, micros(lastSeen), id)
	db.cache.ForgetSessions([]string{id})
	return updated("touch session", latch.ErrSessionNotFound, res, err)
}

// DeleteSession implements [latch.SessionStore].
func (db *DB) DeleteSession(ctx context.Context, id string) error {
	// The owner is returned to forget their session list, which the
	// cache may hold even when it does not hold the session itself.
	var userID string
	err := db.write.QueryRowContext(ctx, `DELETE FROM sessions WHERE id = ? RETURNING user_id`, id).Scan(&userID)
	db.cache.ForgetSessions([]string{id}, userID)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("sqlitestore: delete session: %w", err)
	}
	return nil
}

// UserSessions implements [latch.SessionStore]. Sessions created in the same
// microsecond are ordered by ID, so the order is stable. Lists are cached in
// memory; see the package documentation.
func (db *DB) UserSessions(ctx context.Context, userID string) ([]latch.Session, error) {
	return db.cache.ReadList(userID, func() ([]latch.Session, error) {
		return db.userSessions(ctx, userID)
	})
}

func (db *DB) userSessions(ctx context.Context, userID string) ([]latch.Session, error) {
	qctx, err := quick(ctx)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: user sessions: %w", err)
	}
	rows, err := db.read.QueryContext(qctx, `SELECT `+sessionColumns+` FROM sessions WHERE user_id = ? ORDER BY created_at DESC, id DESC`, userID)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: user sessions: %w", err)
	}
	defer rows.Close()
	var list []latch.Session
	for rows.Next() {
		s, err := scanSession(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlitestore: user sessions: %w", err)
		}
		list = append(list, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlitestore: user sessions: %w", err)
	}
	return list, nil
}

// DeleteUserSessions implements [latch.SessionStore].
func (db *DB) DeleteUserSessions(ctx context.Context, userID, keep string) (int, error) {
	res, err := db.write.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ? AND id <> ?`, userID, keep)
	db.cache.ForgetUserSessions(userID)
	if err != nil {
		return 0, fmt.Errorf("sqlitestore: delete user sessions: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("sqlitestore: delete user sessions: %w", err)
	}
	return int(n), nil
}

// DeleteExpiredSessions implements [latch.SessionPruner], in one statement.
func (db *DB) DeleteExpiredSessions(ctx context.Context, now, idleBefore time.Time) (int, error) {
	res, err := db.write.ExecContext(ctx, `
		DELETE FROM sessions
		WHERE expires_at < ? OR (remember = 0 AND last_seen_at < ?)`,
		micros(now), micros(idleBefore))
	var n int64
	if err == nil {
		n, err = res.RowsAffected()
	}
	// The hourly prune usually deletes nothing: the cache stays then.
	if err != nil || n > 0 {
		db.cache.ForgetAll()
	}
	if err != nil {
		return 0, fmt.Errorf("sqlitestore: delete expired sessions: %w", err)
	}
	return int(n), nil
}
