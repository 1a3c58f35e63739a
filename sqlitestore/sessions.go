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
		INSERT INTO latch_sessions (`+sessionColumns+`)
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
		return db.sessionBy(ctx, `SELECT `+sessionColumns+` FROM latch_sessions WHERE token_hash = ?`, "token", hash)
	})
}

// SessionByRemember implements [latch.SessionStore]. An empty hash finds
// nothing, so sessions without remember-me are never restored by it.
func (db *DB) SessionByRemember(ctx context.Context, hash []byte) (latch.Session, error) {
	return db.sessionBy(ctx, `SELECT `+sessionColumns+` FROM latch_sessions WHERE remember_hash = ?1 OR prev_remember_hash = ?1`, "remember token", hash)
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
		UPDATE latch_sessions SET
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

// RotateSession implements [latch.SessionStore]: an UpdateSession whose
// WHERE clause also holds the remember hash read, evaluated inside the
// write, so that of racing rotations one finds it.
func (db *DB) RotateSession(ctx context.Context, s latch.Session, remember []byte) error {
	res, err := db.write.ExecContext(ctx, `
		UPDATE latch_sessions SET
			user_id = ?, token_hash = ?, remember_hash = ?, remember = ?, fresh = ?,
			created_at = ?, last_seen_at = ?, expires_at = ?, ip = ?, user_agent = ?,
			prev_remember_hash = ?, rotated_at = ?
		WHERE id = ? AND remember_hash = ?`,
		s.UserID, s.TokenHash, rememberValue(s.RememberHash), s.Remember, s.Fresh,
		micros(s.CreatedAt), micros(s.LastSeenAt), micros(s.ExpiresAt), s.IP, s.UserAgent,
		rememberValue(s.PrevRememberHash), nullMicros(s.RotatedAt),
		s.ID, rememberValue(remember))
	db.cache.ForgetSessions([]string{s.ID}, s.UserID)
	err = updated("rotate session", latch.ErrSessionRotated, res, err)
	if !errors.Is(err, latch.ErrSessionRotated) {
		return err
	}
	// Nothing changed: rotated by another request, or deleted.
	qctx, qerr := quick(ctx)
	if qerr != nil {
		return fmt.Errorf("sqlitestore: rotate session: %w", qerr)
	}
	var one int
	switch qerr := db.read.QueryRowContext(qctx, `SELECT 1 FROM latch_sessions WHERE id = ?`, s.ID).Scan(&one); {
	case errors.Is(qerr, sql.ErrNoRows):
		return latch.ErrSessionNotFound
	case qerr != nil:
		return fmt.Errorf("sqlitestore: rotate session: %w", qerr)
	}
	return latch.ErrSessionRotated
}

// TouchSession implements [latch.SessionStore]. The write does not wait for
// the disk (see [DB.relaxed]).
func (db *DB) TouchSession(ctx context.Context, id string, lastSeen time.Time) error {
	// The owner is returned to forget their session list, which shows
	// the last-seen time and is ordered by it, even when the cache does
	// not hold the session itself.
	var userID string
	err := db.relaxed(ctx, func(ctx context.Context, conn *sql.Conn) error {
		return conn.QueryRowContext(ctx, `UPDATE latch_sessions SET last_seen_at = ? WHERE id = ? RETURNING user_id`, micros(lastSeen), id).Scan(&userID)
	})
	db.cache.ForgetSessions([]string{id}, userID)
	if errors.Is(err, sql.ErrNoRows) {
		return latch.ErrSessionNotFound
	} else if err != nil {
		return fmt.Errorf("sqlitestore: touch session: %w", err)
	}
	return nil
}

// DeleteSession implements [latch.SessionStore].
func (db *DB) DeleteSession(ctx context.Context, id string) error {
	// The owner is returned to forget their session list, which the
	// cache may hold even when it does not hold the session itself.
	var userID string
	err := db.write.QueryRowContext(ctx, `DELETE FROM latch_sessions WHERE id = ? RETURNING user_id`, id).Scan(&userID)
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
		return db.userSessions(ctx, userID, -1)
	})
}

// userSessions returns at most limit of the user's sessions in UserSessions'
// order; a negative limit returns them all.
func (db *DB) userSessions(ctx context.Context, userID string, limit int) ([]latch.Session, error) {
	qctx, err := quick(ctx)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: user sessions: %w", err)
	}
	rows, err := db.read.QueryContext(qctx, `SELECT `+sessionColumns+` FROM latch_sessions WHERE user_id = ? ORDER BY created_at DESC, id DESC LIMIT ?`, userID, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: user sessions: %w", err)
	}
	list, err := scanSessions(rows, nil)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: user sessions: %w", err)
	}
	return list, nil
}

// scanSessions reads every row into a list, and each row's last column
// into extra when it is not nil.
func scanSessions(rows *sql.Rows, extra *int) ([]latch.Session, error) {
	defer rows.Close()
	var list []latch.Session
	for rows.Next() {
		s, err := scanSession(scanWith{rows, extra})
		if err != nil {
			return nil, err
		}
		list = append(list, s)
	}
	return list, rows.Err()
}

// scanWith scans a row of session columns followed by one more, into
// extra, when extra is not nil.
type scanWith struct {
	rows  *sql.Rows
	extra *int
}

func (w scanWith) Scan(dest ...any) error {
	if w.extra != nil {
		dest = append(dest, w.extra)
	}
	return w.rows.Scan(dest...)
}

// liveWhere is the condition on a user's sessions that
// [latch.SessionStore.RecentUserSessions] calls live; ?1 is the user,
// ?2 now and ?3 idleBefore.
const liveWhere = `user_id = ?1 AND expires_at > ?2 AND (remember = 1 OR last_seen_at > ?3)`

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
	qctx, err := quick(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("sqlitestore: recent user sessions: %w", err)
	}
	var total int
	if limit <= 0 {
		err := db.read.QueryRowContext(qctx, `SELECT count(*) FROM latch_sessions WHERE `+liveWhere, userID, micros(now), micros(idleBefore)).Scan(&total)
		if err != nil {
			return nil, 0, fmt.Errorf("sqlitestore: recent user sessions: %w", err)
		}
		return []latch.Session{}, total, nil
	}
	// The window's count is taken over every live session before LIMIT
	// applies, in the same snapshot as the rows.
	rows, err := db.read.QueryContext(qctx, `
		SELECT `+sessionColumns+`, count(*) OVER ()
		FROM latch_sessions WHERE `+liveWhere+`
		ORDER BY last_seen_at DESC, id DESC LIMIT ?4`,
		userID, micros(now), micros(idleBefore), limit)
	if err != nil {
		return nil, 0, fmt.Errorf("sqlitestore: recent user sessions: %w", err)
	}
	list, err := scanSessions(rows, &total)
	if err != nil {
		return nil, 0, fmt.Errorf("sqlitestore: recent user sessions: %w", err)
	}
	if list == nil {
		list = []latch.Session{}
	}
	return list, max(total-len(list), 0), nil
}

// DeleteUserSession implements [latch.SessionStore].
func (db *DB) DeleteUserSession(ctx context.Context, userID, id string) (bool, error) {
	var gone string
	err := db.write.QueryRowContext(ctx, `DELETE FROM latch_sessions WHERE id = ? AND user_id = ? RETURNING id`, id, userID).Scan(&gone)
	db.cache.ForgetSessions([]string{id}, userID)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	} else if err != nil {
		return false, fmt.Errorf("sqlitestore: delete user session: %w", err)
	}
	return true, nil
}

// TrimUserSessions implements [latch.SessionStore], in one statement. It
// waits for the disk only when it deletes: a statement that changes no
// page writes nothing to the log, so the usual login, which ends no
// other session, pays no sync for it.
func (db *DB) TrimUserSessions(ctx context.Context, userID, keep string, limit int) (int, error) {
	// keep takes one of the places if it is the user's session. A
	// negative LIMIT would mean none in SQLite, hence max(..., 0).
	rows, err := db.write.QueryContext(ctx, `
		DELETE FROM latch_sessions
		WHERE user_id = ?1 AND id <> ?2 AND id NOT IN (
			SELECT id FROM latch_sessions
			WHERE user_id = ?1 AND id <> ?2
			ORDER BY last_seen_at DESC, id DESC
			LIMIT max(?3 - (SELECT count(*) FROM latch_sessions WHERE id = ?2 AND user_id = ?1), 0)
		)
		RETURNING id`, userID, keep, limit)
	var ids []string
	if err == nil {
		for rows.Next() {
			var id string
			if err = rows.Scan(&id); err != nil {
				break
			}
			ids = append(ids, id)
		}
		if cerr := rows.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = rows.Err()
		}
	}
	if err != nil {
		// Which sessions went is unknown: forget them all.
		db.cache.ForgetUserSessions(userID)
		return 0, fmt.Errorf("sqlitestore: trim user sessions: %w", err)
	}
	if len(ids) > 0 {
		db.cache.ForgetSessions(ids, userID)
	}
	return len(ids), nil
}

// DeleteUserSessions implements [latch.SessionStore].
func (db *DB) DeleteUserSessions(ctx context.Context, userID, keep string) (int, error) {
	res, err := db.write.ExecContext(ctx, `DELETE FROM latch_sessions WHERE user_id = ? AND id <> ?`, userID, keep)
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

// pruneBatch is how many sessions one statement of DeleteExpiredSessions
// deletes at most. SQLite has one writer: a million expired sessions
// deleted in one statement held it for over half a minute, during which no
// one could log in or out and the health check failed.
const pruneBatch = 5000

// pruneSlice is how long one batch of DeleteExpiredSessions is sized to
// take, and pruneRest how many times as long as a batch took the prune
// waits before the next. A prune shares the server's CPUs with requests,
// and a busy goroutine keeps its CPU for up to 10 ms before the Go
// scheduler lets a request in. On a server with one CPU, batches of 5000
// sessions back to back put /profile's p99 at 5× its usual while a million
// expired sessions were deleted. Batches of a few milliseconds with rests
// six times as long keep the prune to a seventh of a CPU; a backlog of a
// million sessions then takes about half an hour on such a server, during
// which the Manager refuses them anyway.
const (
	pruneSlice = 2 * time.Millisecond
	pruneRest  = 6
)

// pruneQueries delete a batch of expired sessions, then of sessions left
// idle without remember-me. Each finds its rows through an index
// (latch_sessions_expires_at, latch_sessions_idle), so that a prune costs
// what it deletes, not the size of the table.
var pruneQueries = [...]string{
	`DELETE FROM latch_sessions WHERE rowid IN (
		SELECT rowid FROM latch_sessions WHERE expires_at < ?1 LIMIT ?3)`,
	`DELETE FROM latch_sessions WHERE rowid IN (
		SELECT rowid FROM latch_sessions WHERE remember = 0 AND last_seen_at < ?2 LIMIT ?3)`,
}

// DeleteExpiredSessions implements [latch.SessionPruner], a batch at a
// time, each its own transaction, sized and spaced to leave the CPU and
// the writer to requests (see pruneSlice). A batch is committed without
// waiting for the disk: a deletion that a power loss undoes is of sessions
// the Manager refuses anyway, and the next prune deletes them again. When
// ctx ends between batches, it returns what it deleted so far with ctx's
// error.
func (db *DB) DeleteExpiredSessions(ctx context.Context, now, idleBefore time.Time) (int, error) {
	total := 0
	var err error
	limit := 100 // rows per batch, adjusted to the time batches take
	for _, q := range pruneQueries {
		for err == nil {
			var res sql.Result
			t0 := time.Now()
			res, err = db.deleteBatch(ctx, q, micros(now), micros(idleBefore), limit)
			took := time.Since(t0)
			var n int64
			if err == nil {
				n, err = res.RowsAffected()
			}
			total += int(n)
			if n < int64(limit) {
				break
			}
			if err == nil {
				err = db.rest(ctx, pruneRest*took)
			}
			limit = nextPruneLimit(limit, took)
		}
	}
	// The hourly prune usually deletes nothing: the cache stays then.
	// Sessions it deleted may stay cached until it ends: they are expired
	// or idle, which the Manager checks for itself.
	if err != nil || total > 0 {
		db.cache.ForgetAll()
	}
	if err != nil {
		return total, fmt.Errorf("sqlitestore: delete expired sessions: %w", err)
	}
	return total, nil
}

// deleteBatch runs one batch of DeleteExpiredSessions, then copies the
// pages it wrote from the write-ahead log into the database. Each deleted
// session rewrites three to four pages, and copying a page back costs
// about as much as deleting a row; left to SQLite, the copy waits for a
// thousand pages and then takes 20 ms at once, as long a wait for the
// requests in line behind it as a batch of 5000. A checkpoint after each
// batch copies a few dozen pages and counts in the batch's time, from
// which its rest follows.
func (db *DB) deleteBatch(ctx context.Context, query string, args ...any) (sql.Result, error) {
	var res sql.Result
	err := db.relaxed(ctx, func(ctx context.Context, conn *sql.Conn) error {
		var err error
		if res, err = conn.ExecContext(ctx, query, args...); err != nil {
			return err
		}
		// PASSIVE copies what no reader still needs and waits for no one;
		// what it leaves, a later checkpoint copies.
		_, err = conn.ExecContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`)
		return err
	})
	return res, err
}

// nextPruneLimit returns the size of the next prune batch, given that one
// of limit rows took took: what fits in pruneSlice at that pace, changing
// by at most a factor of two at a time, as a batch's time varies with the
// pages it happens to touch, and between 16 and pruneBatch.
func nextPruneLimit(limit int, took time.Duration) int {
	next := limit * 2
	if took > 0 {
		next = min(next, int(int64(limit)*int64(pruneSlice)/int64(took)))
	}
	return min(max(next, limit/2, 16), pruneBatch)
}

// rest waits d, or until ctx ends, when it returns ctx's error. Tests set
// db.pruneRest to make the rests between prune batches longer or none.
func (db *DB) rest(ctx context.Context, d time.Duration) error {
	if db.pruneRest != nil {
		d = db.pruneRest(d)
	}
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
