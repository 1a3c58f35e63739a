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
		INSERT INTO latch_sessions (`+sessionColumns+`)
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

// SessionByToken implements [latch.SessionStore]. Sessions found are cached
// in memory; see the package documentation.
func (db *DB) SessionByToken(ctx context.Context, hash []byte) (latch.Session, error) {
	return db.cache.ReadSession(hash, func() (latch.Session, error) {
		return db.sessionBy(ctx, `SELECT `+sessionColumns+` FROM latch_sessions WHERE token_hash = $1`, "token", hash)
	})
}

// SessionByRemember implements [latch.SessionStore]. An empty hash finds
// nothing, so sessions without remember-me are never restored by it.
func (db *DB) SessionByRemember(ctx context.Context, hash []byte) (latch.Session, error) {
	return db.sessionBy(ctx, `SELECT `+sessionColumns+` FROM latch_sessions WHERE remember_hash = $1 OR prev_remember_hash = $1`, "remember token", hash)
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
	// The session, the list of its owner before the update, should the
	// update change it, and after.
	notes := []note{db.noteSessionOf(s.ID), db.noteOf(noteList + s.UserID)}
	tag, err := db.change(ctx, notes, nil, `
		UPDATE latch_sessions SET
			user_id = $2, token_hash = $3, remember_hash = $4, remember = $5, fresh = $6,
			created_at = $7, last_seen_at = $8, expires_at = $9, ip = $10, user_agent = $11,
			prev_remember_hash = $12, rotated_at = $13
		WHERE id = $1`,
		s.ID, s.UserID, s.TokenHash, rememberValue(s.RememberHash), s.Remember, s.Fresh,
		s.CreatedAt, s.LastSeenAt, s.ExpiresAt, s.IP, s.UserAgent,
		rememberValue(s.PrevRememberHash), nullTime(s.RotatedAt))
	db.cache.ForgetSessions([]string{s.ID}, s.UserID)
	if err != nil {
		return db.fail("update session", err)
	}
	if tag.RowsAffected() == 0 {
		return latch.ErrSessionNotFound
	}
	return nil
}

// RotateSession implements [latch.SessionStore]: an UpdateSession whose
// WHERE clause also holds the remember hash read. A rotation racing with
// it holds the row until it commits; PostgreSQL then checks the clause
// again on the new row, which no longer matches, so of racing rotations
// one finds it.
func (db *DB) RotateSession(ctx context.Context, s latch.Session, remember []byte) error {
	notes := []note{db.noteSessionOf(s.ID), db.noteOf(noteList + s.UserID)}
	var rotated, exists bool
	_, err := db.change(ctx, notes, func(row pgx.Row) error { return row.Scan(&rotated, &exists) }, `
		WITH rotated AS (
			UPDATE latch_sessions SET
				user_id = $2, token_hash = $3, remember_hash = $4, remember = $5, fresh = $6,
				created_at = $7, last_seen_at = $8, expires_at = $9, ip = $10, user_agent = $11,
				prev_remember_hash = $12, rotated_at = $13
			WHERE id = $1 AND remember_hash = $14
			RETURNING 1
		)
		SELECT EXISTS (SELECT 1 FROM rotated), EXISTS (SELECT 1 FROM latch_sessions WHERE id = $1)`,
		s.ID, s.UserID, s.TokenHash, rememberValue(s.RememberHash), s.Remember, s.Fresh,
		s.CreatedAt, s.LastSeenAt, s.ExpiresAt, s.IP, s.UserAgent,
		rememberValue(s.PrevRememberHash), nullTime(s.RotatedAt), rememberValue(remember))
	db.cache.ForgetSessions([]string{s.ID}, s.UserID)
	switch {
	case err != nil:
		return db.fail("rotate session", err)
	case rotated:
		return nil
	case exists:
		return latch.ErrSessionRotated
	}
	return latch.ErrSessionNotFound
}

// TouchSession implements [latch.SessionStore]. The commit does not wait
// for the disk (see relaxNote). Other stores forget the session: a copy
// with the old last-seen time would make them touch it again, or end it
// as idle while it is in use elsewhere.
func (db *DB) TouchSession(ctx context.Context, id string, lastSeen time.Time) error {
	var userID string
	found := false
	_, err := db.change(ctx, []note{relaxNote, db.noteSessionOf(id)}, func(row pgx.Row) error {
		if err := row.Scan(&userID); err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		found = userID != ""
		return nil
	}, `UPDATE latch_sessions SET last_seen_at = $2 WHERE id = $1 RETURNING user_id`, id, lastSeen)
	db.cache.ForgetSessions([]string{id}, userID)
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
	_, err := db.change(ctx, []note{db.noteSessionOf(id)}, func(row pgx.Row) error {
		if err := row.Scan(&userID); err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		return nil
	}, `DELETE FROM latch_sessions WHERE id = $1 RETURNING user_id`, id)
	db.cache.ForgetSessions([]string{id}, userID)
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
		return db.userSessions(ctx, userID, nil)
	})
}

// userSessions returns the user's sessions in UserSessions' order, at most
// limit of them, an int, or all when limit is nil.
func (db *DB) userSessions(ctx context.Context, userID string, limit any) ([]latch.Session, error) {
	list, err := read(db, func() ([]latch.Session, error) {
		rows, err := db.pool.Query(ctx, `
			SELECT `+sessionColumns+` FROM latch_sessions
			WHERE user_id = $1
			ORDER BY created_at DESC, id DESC
			LIMIT $2`, userID, limit)
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

// liveWhere is the condition on a user's sessions that
// [latch.SessionStore.RecentUserSessions] calls live; $1 is the user, $2
// now and $3 idleBefore.
const liveWhere = `user_id = $1 AND expires_at > $2 AND (remember OR last_seen_at > $3)`

// RecentUserSessions implements [latch.SessionStore]. A user's list of up to
// a hundred sessions, the usual case, comes from the cache or is read
// whole into it; the sessions of a user with more are picked and counted by
// one query, which loads no more than limit.
func (db *DB) RecentUserSessions(ctx context.Context, userID string, now, idleBefore time.Time, limit int) ([]latch.Session, int, error) {
	return db.cache.ReadRecent(userID, now, idleBefore, limit,
		func(n int) ([]latch.Session, error) { return db.userSessions(ctx, userID, n) },
		func() ([]latch.Session, int, error) {
			return db.recentUserSessions(ctx, userID, now, idleBefore, limit)
		})
}

func (db *DB) recentUserSessions(ctx context.Context, userID string, now, idleBefore time.Time, limit int) ([]latch.Session, int, error) {
	type result struct {
		list  []latch.Session
		total int
	}
	res, err := read(db, func() (result, error) {
		var res result
		if limit <= 0 {
			err := db.pool.QueryRow(ctx, `SELECT count(*) FROM latch_sessions WHERE `+liveWhere, userID, now, idleBefore).Scan(&res.total)
			return res, err
		}
		// The window's count is taken over every live session before
		// LIMIT applies, in the same snapshot as the rows.
		rows, err := db.pool.Query(ctx, `
			SELECT `+sessionColumns+`, count(*) OVER ()
			FROM latch_sessions WHERE `+liveWhere+`
			ORDER BY last_seen_at DESC, id DESC LIMIT $4`,
			userID, now, idleBefore, limit)
		if err != nil {
			return res, err
		}
		res.list, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (latch.Session, error) {
			return scanSession(withTotal{row, &res.total})
		})
		return res, err
	})
	if err != nil {
		return nil, 0, db.fail("recent user sessions", err)
	}
	if res.list == nil {
		res.list = []latch.Session{}
	}
	return res.list, max(res.total-len(res.list), 0), nil
}

// withTotal scans a row of session columns followed by a count into total.
type withTotal struct {
	pgx.Row
	total *int
}

func (w withTotal) Scan(dest ...any) error {
	return w.Row.Scan(append(dest, w.total)...)
}

// DeleteUserSession implements [latch.SessionStore].
func (db *DB) DeleteUserSession(ctx context.Context, userID, id string) (bool, error) {
	found := false
	_, err := db.change(ctx, []note{db.noteOf(noteSession + id), db.noteOf(noteList + userID)}, func(row pgx.Row) error {
		var gone string
		switch err := row.Scan(&gone); {
		case errors.Is(err, pgx.ErrNoRows):
		case err != nil:
			return err
		default:
			found = true
		}
		return nil
	}, `DELETE FROM latch_sessions WHERE id = $1 AND user_id = $2 RETURNING id`, id, userID)
	db.cache.ForgetSessions([]string{id}, userID)
	if err != nil {
		return false, db.fail("delete user session", err)
	}
	return found, nil
}

// TrimUserSessions implements [latch.SessionStore], in one statement. The
// notification goes out only when sessions were deleted, which the usual
// login does not do; nor does its commit then wait for the disk, having
// written nothing.
func (db *DB) TrimUserSessions(ctx context.Context, userID, keep string, limit int) (int, error) {
	var n, notified int
	// keep takes one of the places if it is the user's session.
	_, err := db.change(ctx, nil, func(row pgx.Row) error { return row.Scan(&n, &notified) }, `
		WITH gone AS (
			DELETE FROM latch_sessions
			WHERE user_id = $1 AND id <> $2 AND id NOT IN (
				SELECT id FROM latch_sessions
				WHERE user_id = $1 AND id <> $2
				ORDER BY last_seen_at DESC, id DESC
				LIMIT greatest($3::int - (SELECT count(*) FROM latch_sessions WHERE id = $2 AND user_id = $1), 0)
			)
			RETURNING 1
		), counted AS (SELECT count(*)::int AS n FROM gone)
		SELECT n, (SELECT count(*) FROM (SELECT pg_notify($4, $5) FROM counted WHERE n > 0) notified)
		FROM counted`,
		userID, keep, limit, db.channel, noteAllSessions+userID)
	if err != nil || n > 0 {
		db.cache.ForgetUserSessions(userID)
	}
	if err != nil {
		return 0, db.fail("trim user sessions", err)
	}
	return n, nil
}

// DeleteUserSessions implements [latch.SessionStore].
func (db *DB) DeleteUserSessions(ctx context.Context, userID, keep string) (int, error) {
	tag, err := db.change(ctx, []note{db.noteOf(noteAllSessions + userID)}, nil, `DELETE FROM latch_sessions WHERE user_id = $1 AND id <> $2`, userID, keep)
	db.cache.ForgetUserSessions(userID)
	if err != nil {
		return 0, db.fail("delete user sessions", err)
	}
	return int(tag.RowsAffected()), nil
}

// pruneQuery deletes the sessions expired at $1 or left idle since $2
// without remember-me, found through the indexes latch_sessions_expires_at
// and latch_sessions_idle, so that a prune costs what it deletes, not the
// size of the table. It notifies every store on channel $3 with $4 only
// when sessions were deleted: the hourly prune usually finds none, and
// every store hearing it forgets its whole cache.
const pruneQuery = `
	WITH gone AS (
		DELETE FROM latch_sessions
		WHERE expires_at < $1 OR (NOT remember AND last_seen_at < $2)
		RETURNING 1
	), counted AS (SELECT count(*)::int AS n FROM gone)
	SELECT n, (SELECT count(*) FROM (SELECT pg_notify($3, $4) FROM counted WHERE n > 0) notified)
	FROM counted`

// DeleteExpiredSessions implements [latch.SessionPruner], in one statement,
// which in PostgreSQL holds up no other writer.
func (db *DB) DeleteExpiredSessions(ctx context.Context, now, idleBefore time.Time) (int, error) {
	var n, notified int
	_, err := db.change(ctx, nil, func(row pgx.Row) error { return row.Scan(&n, &notified) }, pruneQuery,
		now, idleBefore, db.channel, noteAll)
	if err != nil || n > 0 {
		db.cache.ForgetAll()
	}
	if err != nil {
		return 0, db.fail("delete expired sessions", err)
	}
	return n, nil
}
