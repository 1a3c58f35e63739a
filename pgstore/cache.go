package pgstore

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// cacheParam is the URL parameter that turns the cache off.
const cacheParam = "latch_cache"

// What a change notification names, as its payload: the session list of a
// user ("s:" and the user ID), a user ("u:" and the ID), or everything.
const (
	noteList = "s:"
	noteUser = "u:"
	noteAll  = "*"
)

// channelName returns the notification channel of the stores on schema:
// one per schema, so that stores in other schemas of the database do not
// hear each other.
func channelName(schema string) string {
	h := fnv.New64a()
	io.WriteString(h, schema)
	return "latch_cache_" + strconv.FormatUint(h.Sum64(), 36)
}

// note is a statement that notifies other stores of a change.
type note struct {
	sql  string
	args []any
}

// relaxNote goes first in the batch of a write whose loss in a crash of
// PostgreSQL's machine does no harm: a new session (its user logs in
// again), a session's last-seen time, a user's last-login time, and login
// failure counts. It turns synchronous_commit off for that batch's
// implicit transaction alone, so that the commit does not wait for the
// WAL to reach the disk; PostgreSQL still writes it out within a moment
// (wal_writer_delay), and never applies it out of order with a synced
// commit. Every other write waits for the disk.
var relaxNote = note{sql: `SELECT set_config('synchronous_commit', 'off', true)`}

// noteOf returns a note with the given payload.
func (db *DB) noteOf(payload string) note {
	return note{`SELECT pg_notify($1, $2)`, []any{db.channel, payload}}
}

// noteListOf returns a note naming the session list of the owner of the
// session id, found by the statement itself.
func (db *DB) noteListOf(id string) note {
	return note{`SELECT pg_notify($1, '` + noteList + `' || user_id) FROM latch_sessions WHERE id = $2`, []any{db.channel, id}}
}

// change runs the notes and then the write query in one round trip. The
// batch is one implicit transaction, so the notifications go out when the
// write commits, and not at all if it fails. scan, if not nil, reads the
// write's returned row; otherwise its command tag is returned.
func (db *DB) change(ctx context.Context, notes []note, scan func(pgx.Row) error, query string, args ...any) (pgconn.CommandTag, error) {
	b := &pgx.Batch{}
	for _, n := range notes {
		b.Queue(n.sql, n.args...)
	}
	var tag pgconn.CommandTag
	q := b.Queue(query, args...)
	if scan != nil {
		q.QueryRow(scan)
	} else {
		q.Exec(func(ct pgconn.CommandTag) error { tag = ct; return nil })
	}
	err := db.pool.SendBatch(ctx, b).Close()
	return tag, err
}

// forget forgets what a notification payload names.
func (db *DB) forget(payload string) {
	switch {
	case payload == noteAll:
		db.cache.ForgetAll()
	case strings.HasPrefix(payload, noteList):
		db.cache.ForgetSessions(nil, strings.TrimPrefix(payload, noteList))
	case strings.HasPrefix(payload, noteUser):
		if id, err := strconv.ParseInt(strings.TrimPrefix(payload, noteUser), 10, 64); err == nil {
			db.cache.ForgetUser(id)
		} else {
			db.cache.ForgetAll()
		}
	default:
		db.cache.ForgetAll() // from a newer version: be safe
	}
}

// listen keeps a connection listening on the store's channel until ctx is
// done, and forgets what other stores' changes name. The cache is on only
// while the connection listens: a change made while it does not could go
// unheard, so the cache is then off, and forgotten whole once listening
// again.
func (db *DB) listen(ctx context.Context, cfg *pgx.ConnConfig) {
	defer close(db.listening)
	failures := 0
	for {
		start := time.Now()
		// Its error needs no report: while the server is away, the
		// pool's calls fail and say so.
		db.listenOnce(ctx, cfg)
		db.cache.SetOff(true)
		if ctx.Err() != nil {
			return
		}
		if time.Since(start) > 10*time.Second {
			failures = 0
		}
		failures++
		wait := min(time.Duration(failures)*100*time.Millisecond, 5*time.Second)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}

// listenOnce connects, listens, and handles notifications until the
// connection fails or ctx is done.
func (db *DB) listenOnce(ctx context.Context, cfg *pgx.ConnConfig) error {
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{db.channel}.Sanitize()); err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	// From here on no change is missed; before, the cache was off.
	db.cache.ForgetAll()
	db.cache.SetOff(false)
	for {
		n, err := db.waitForNotification(ctx, conn)
		if err != nil {
			return err
		}
		if n != nil {
			db.forget(n.Payload)
		}
	}
}

// listenCheck is how long the listener waits for a notification before it
// checks that its connection still works: a connection cut without a word
// (a firewall dropping its state) would otherwise look like a quiet one, for
// as long as TCP keepalive takes to notice, minutes, with the cache on.
const listenCheck = 15 * time.Second

// waitForNotification returns the next notification, or nil when none came
// within listenCheck and a ping shows the connection alive.
func (db *DB) waitForNotification(ctx context.Context, conn *pgx.Conn) (*pgconn.Notification, error) {
	wctx, cancel := context.WithTimeout(ctx, listenCheck)
	n, err := conn.WaitForNotification(wctx)
	cancel()
	if err == nil || ctx.Err() != nil || !errors.Is(err, context.DeadlineExceeded) {
		return n, err
	}
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := conn.Ping(pctx); err != nil {
		return nil, err
	}
	return nil, nil
}
