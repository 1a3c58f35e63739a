package sqlitestore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
)

// relaxed runs f on the writer connection with synchronous=NORMAL, for
// writes whose loss in a power failure does no harm: a new session (its
// user logs in again), a session's last-seen time, a user's last-login
// time, and login failure counts. Every other write keeps the connection's
// synchronous=FULL and waits for the disk at its commit.
//
// In WAL mode a commit made this way is written to the log before it
// returns, so it survives the process being killed; only a failure of the
// machine before the next sync can undo it. The next commit with
// synchronous=FULL syncs the log and with it every commit before it, so a
// power failure never undoes a synced write, such as a logout or a
// revocation, while keeping a relaxed write that came before it. On this
// machine's virtual disk a sync costs the server more than a password hash
// does of a login: the four writes of a login without them take logins from
// 75-80% to 89-94% of raw argon2id (latch-bench).
//
// f must use the *sql.Conn it is given: the writer pool has one connection,
// which f holds. ctx ends the wait for the connection; the statements
// themselves run to their end, with the context f is given, which is never
// cancelled. Such writes take microseconds, and a cancellable context costs
// the driver a goroutine per statement (see [quick]); a login makes four of
// these writes.
func (db *DB) relaxed(ctx context.Context, f func(ctx context.Context, conn *sql.Conn) error) error {
	conn, err := db.write.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	qctx, err := quick(ctx)
	if err != nil {
		return err
	}
	if _, err := conn.ExecContext(qctx, `PRAGMA synchronous = NORMAL`); err != nil {
		return discard(conn, err)
	}
	err = f(qctx, conn)
	// Back to FULL: the next write on this connection may be a sign-up.
	if _, rerr := conn.ExecContext(qctx, `PRAGMA synchronous = FULL`); rerr != nil {
		return discard(conn, errors.Join(err, fmt.Errorf("restore synchronous=FULL: %w", rerr)))
	}
	return err
}

// discard makes the pool close conn instead of reusing it, since its
// synchronous setting is unknown: the next connection opens with the
// settings of the DSN. It returns err.
func discard(conn *sql.Conn, err error) error {
	conn.Raw(func(any) error { return driver.ErrBadConn })
	return err
}

// execRelaxed runs a statement as [DB.relaxed] does.
func (db *DB) execRelaxed(ctx context.Context, query string, args ...any) (sql.Result, error) {
	var res sql.Result
	err := db.relaxed(ctx, func(ctx context.Context, conn *sql.Conn) error {
		var err error
		res, err = conn.ExecContext(ctx, query, args...)
		return err
	})
	return res, err
}
