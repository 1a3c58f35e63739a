package pgstore

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/latchauth/latch"
)

const sessionColumns = `id, user_id, token_hash, remember_hash, remember, fresh, created_at, last_seen_at, expires_at, ip, user_agent, prev_remember_hash, rotated_at`

func scanSession(row pgx.Row) (latch.Session, error) {
	var (
		s       latch.Session
		rotated *time.Time
	)
	err := row.Scan(&s.ID, &s.UserID, &s.TokenHash, &s.RememberHash, &s.Remember, &s.Fresh,
		&s.CreatedAt, &s.LastSeenAt, &s.ExpiresAt, &s.IP, &s.UserAgent, &s.PrevRememberHash, &rotated)
	if err != nil {
		return latch.Session{}, err
	}
	s.RotatedAt = fromNullTime(rotated)
	s.CreatedAt, s.LastSeenAt, s.ExpiresAt = s.CreatedAt.UTC(), s.LastSeenAt.UTC(), s.ExpiresAt.UTC()
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
// or remember hash is an error. The commit does not wait for the disk (see
// relaxNote).
func (db *DB) CreateSession(ctx context.Context, s latch.Session) error {
	_, err := db.change(ctx, []note{relaxNote, db.noteOf(noteList + s.UserID)}, nil, `
		INSERT INTO sessions (`+sessionColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
		s.ID, s.UserID, s.TokenHash, rememberValue(s.RememberHash), s.Remember, s.Fresh,
		s.CreatedAt, s.LastSeenAt, s.ExpiresAt, s.IP, s.UserAgent,
		rememberValue(s.PrevRememberHash), nullTime(s.RotatedAt))
	db.cache.ForgetSessions(nil, s.UserID)
	if err != nil {
		return db.fail("create session", err)
	}
	return nil
}

// SessionByToken implements [latch.SessionStore].
func (db *DB) SessionByToken(ctx context.Context, hash []byte) (latch.Session, error) {
	return db.sessionBy(ctx, `SELECT `+sessionColumns+` FROM sessions WHERE token_hash = $1`, "token", hash)
}

// SessionByRemember implements [latch.SessionStore]. An empty hash finds
// nothing, so sessions without remember-me are never restored by it.
func (db *DB) SessionByRemember(ctx context.Context, hash []byte) (latch.Session, error) {
	return db.sessionBy(ctx, `SELECT `+sessionColumns+` FROM sessions WHERE remember_hash = $1 OR prev_remember_hash = $1`, "remember token", hash)
}

func (db *DB) sessionBy(ctx context.Context, query, what string, hash []byte) (latch.Session, error) {
	if len(hash) == 0 {
		return latch.Session{}, latch.ErrSessionNotFound
	}
	s, err := read(db, func() (latch.Session, error) { return scanSession(db.pool.QueryRow(ctx, query, hash)) })
	if errors.Is(err, pgx.ErrNoRows) {
		return latch.Session{}, latch.ErrSessionNotFound
	} else if err != nil {
		return latch.Session{}, db.fail("session by "+what, err)
	}
	return s, nil
}

// UpdateSession implements [latch.SessionStore]. Every field but the ID is
// replaced, in one statement: a session deleted meanwhile stays deleted.
func (db *DB) UpdateSession(ctx context.Context, s latch.Session) error {
	// The list of the session's owner before the update, should the
	// update change it, and after.
	notes := []note{db.noteListOf(s.ID), db.noteOf(noteList + s.UserID)}
	tag, err := db.change(ctx, notes, nil, `
		UPDATE sessions SET
			user_id = $2, token_hash = $3, remember_hash = $4, remember = $5, fresh = $6,
			created_at = $7, last_seen_at = $8, expires_at = $9, ip = $10, user_agent = $11,
			prev_remember_hash = $12, rotated_at = $13
		WHERE id = $1`,
		s.ID, s.UserID, s.TokenHash, rememberValue(s.RememberHash), s.Remember, s.Fresh,
		s.CreatedAt, s.LastSeenAt, s.ExpiresAt, s.IP, s.UserAgent,
		rememberValue(s.PrevRememberHash), nullTime(s.RotatedAt))
	db.cache.ForgetSessions(nil, s.UserID)
	if err != nil {
		return db.fail("update session", err)
	}
	if tag.RowsAffected() == 0 {
		return latch.ErrSessionNotFound
	}
	return nil
}

// TouchSession implements [latch.SessionStore]. The commit does not wait
// for the disk (see relaxNote).
func (db *DB) TouchSession(ctx context.Context, id string, lastSeen time.Time) error {
	var userID string
	found := false
	_, err := db.change(ctx, []note{relaxNote, db.noteListOf(id)}, func(row pgx.Row) error {
		if err := row.Scan(&userID); err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		found = userID != ""
		return nil
	}, `UPDATE sessions SET last_seen_at = $2 WHERE id = $1 RETURNING user_id`, id, lastSeen)
	db.cache.ForgetSessions(nil, userID)
	if err != nil {
		return db.fail("touch session", err)
	}
	if !found {
		return latch.ErrSessionNotFound
	}
	return nil
}

// DeleteSession implements [latch.SessionStore].
func (db *DB) DeleteSession(ctx context.Context, id string) error {
	var userID string
	_, err := db.change(ctx, []note{db.noteListOf(id)}, func(row pgx.Row) error {
		if err := row.Scan(&userID); err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		return nil
	}, `DELETE FROM sessions WHERE id = $1 RETURNING user_id`, id)
	db.cache.ForgetSessions(nil, userID)
	if err != nil {
		return db.fail("delete session", err)
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
	list, err := read(db, func() ([]latch.Session, error) {
		rows, err := db.pool.Query(ctx, `
			SELECT `+sessionColumns+` FROM sessions
			WHERE user_id = $1
			ORDER BY created_at DESC, id DESC`, userID)
		if err != nil {
			return nil, err
		}
		return pgx.CollectRows(rows, func(row pgx.CollectableRow) (latch.Session, error) {
			return scanSession(row)
		})
	})
	if err != nil {
		return nil, db.fail("user sessions", err)
	}
	return list, nil
}

// DeleteUserSessions implements [latch.SessionStore].
func (db *DB) DeleteUserSessions(ctx context.Context, userID, keep string) (int, error) {
	tag, err := db.change(ctx, []note{db.noteOf(noteList + userID)}, nil, `DELETE FROM sessions WHERE user_id = $1 AND id <> $2`, userID, keep)
	db.cache.ForgetSessions(nil, userID)
	if err != nil {
		return 0, db.fail("delete user sessions", err)
	}
	return int(tag.RowsAffected()), nil
}

// DeleteExpiredSessions implements [latch.SessionPruner], in one statement.
func (db *DB) DeleteExpiredSessions(ctx context.Context, now, idleBefore time.Time) (int, error) {
	// The notification goes out only when sessions were deleted: the
	// hourly prune usually finds none, and every store hearing it
	// forgets its whole cache.
	var n, notified int
	_, err := db.change(ctx, nil, func(row pgx.Row) error { return row.Scan(&n, &notified) }, `
		WITH gone AS (
			DELETE FROM sessions
			WHERE expires_at < $1 OR (NOT remember AND last_seen_at < $2)
			RETURNING 1
		), counted AS (SELECT count(*)::int AS n FROM gone)
		SELECT n, (SELECT count(*) FROM (SELECT pg_notify($3, $4) FROM counted WHERE n > 0) notified)
		FROM counted`,
		now, idleBefore, db.channel, noteAll)
	if err != nil || n > 0 {
		db.cache.ForgetAll()
	}
	if err != nil {
		return 0, db.fail("delete expired sessions", err)
	}
	return n, nil
}
