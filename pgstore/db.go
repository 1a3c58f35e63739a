// Package pgstore keeps latch's sessions, user accounts and login failure
// counts in a PostgreSQL database.
//
// A [DB] implements [latch.SessionStore], [latch.SessionPruner],
// [account.Store], [account.TokenStore], [account.TokenPruner],
// [throttle.Store], [throttle.DeviceStore] and [mailer.QueueStore] (table
// latch_mail_queue). It uses github.com/jackc/pgx/v5 and its connection
// pool; any number of processes may share one database.
//
// # Connecting
//
// [Open] takes a postgres:// URL, as understood by pgx and libpq:
//
//	postgres://latch:secret@db.example.com:5432/latch?sslmode=verify-full
//
// Parameters the URL does not set take these values:
//
//   - application_name=latch, so that the store's connections can be told
//     apart in pg_stat_activity; the one that listens for other stores'
//     changes (see Cache) adds " listener" to the name;
//   - connect_timeout=5 (seconds), so that an unreachable server is an
//     error within seconds rather than a hang;
//   - pool_health_check_period=15s and pool_ping_timeout=5s: idle
//     connections are checked every 15 seconds, and one idle for more than
//     a second is pinged before use.
//
// Other parameters PostgreSQL knows are sent to it as session settings. In
// particular search_path chooses the schema: the tables, and the version
// table of the migrations, are created in the first schema of the path,
// which must exist. The pool's own settings (pool_max_conns and the like)
// are those of pgxpool.ParseConfig. Statements are prepared on each
// connection at first use and kept; behind a pooler in transaction mode,
// such as PgBouncer, add default_query_exec_mode=exec and latch_cache=off
// (see Cache).
//
// # Failures
//
// Operations honour their context's deadline; the store adds none of its
// own. When the server goes away, the calls using its connections fail. The
// first error that shows the connections are lost (the server shut down or
// terminated the session, or the network dropped it) discards every idle
// connection, so that the calls after it connect again instead of tripping
// over the same dead connections one by one. While the server is down, each
// call fails at once or after connect_timeout; once it is back, the pool
// reconnects by itself.
//
// # Cache
//
// A profile page reads the session, its user and the user's list of
// sessions. A DB keeps users and session lists in memory, and always reads
// sessions by token from the database, so that a logout or revocation on
// one instance ends the session on every other one at once.
//
// Each write forgets here what it touched before it returns, and tells the
// other stores on the same schema, in the same implicit transaction, with a
// PostgreSQL notification on a channel named after the schema: they hear
// it when the write commits, within milliseconds, and forget too. A
// connection of its own listens for them; while it is not listening (the
// server is away, or the connection was cut), the cache is off, and it is
// forgotten whole when listening again. Until another instance has heard a
// change, its profile pages may show the user's previous name or session
// list; they never accept a session that was ended.
//
// LISTEN needs a connection of its own to the server: behind a pooler in
// transaction mode, such as PgBouncer with pool_mode=transaction,
// notifications are not delivered, and the cache must be turned off with
// latch_cache=off in the URL (a parameter of this package, not sent to
// PostgreSQL). Every read then goes to the database.
//
// # Storage
//
// Open applies the schema migrations embedded in the package, each in a
// transaction, and records them in the table latch_goose_db_version, named
// apart from goose's default so that an application's own goose migrations
// can live in the same schema. Every table, index, constraint and sequence
// of latch's is named with the prefix latch_ (latch_users, latch_sessions,
// latch_login_failures, latch_tokens, ...), so the schema can also hold an
// application's own tables, a users table included: an application that
// keeps its users itself can keep them beside latch's sessions, and leave
// latch_users empty.
//
// A schema made before the prefix, whose tables were named users, sessions
// and login_failures, is brought over in place when opened: its tables,
// their indexes and constraints and the users' ID sequence are renamed in
// one transaction, before the migrations run. It is recognised by
// latch_goose_db_version and those three tables with latch's columns. Stop
// the processes of the earlier release before starting the new one: they
// look for the old names. Several processes starting at once take turns
// through a PostgreSQL advisory lock, so each migration runs once.
//
// Times are stored as timestamptz, at microsecond precision; finer precision
// is dropped. Times read back are in UTC.
package pgstore

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"io/fs"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/latchauth/latch"
	"github.com/latchauth/latch/account"
	"github.com/latchauth/latch/internal/storecache"
	"github.com/latchauth/latch/throttle"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

var (
	_ latch.SessionStore   = (*DB)(nil)
	_ latch.SessionPruner  = (*DB)(nil)
	_ account.Store        = (*DB)(nil)
	_ throttle.Store       = (*DB)(nil)
	_ throttle.DeviceStore = (*DB)(nil)
)

//go:embed migrations/*.sql
var migrations embed.FS

// versionTable records the migrations applied, in the store's schema.
const versionTable = "latch_goose_db_version"

// Defaults for the connection settings the URL leaves out; see the package
// documentation.
const (
	defaultAppName           = "latch"
	defaultConnectTimeout    = 5 * time.Second
	defaultHealthCheckPeriod = 15 * time.Second
	defaultPingTimeout       = 5 * time.Second
)

// DB is a latch store in a PostgreSQL database. It is safe for concurrent
// use. Create one with [Open] and release it with [DB.Close].
type DB struct {
	// Now returns the current time. It sets the creation time of users
	// created without one; tests replace it. Default time.Now.
	Now func() time.Time

	pool *pgxpool.Pool

	// failureWrites counts AddFailure and SwapFailures calls that record
	// a failure, to sweep stale failure records now and then.
	failureWrites atomic.Uint64

	cache      *storecache.Cache // users and session lists; see the package doc
	channel    string            // where changes are announced
	stopListen context.CancelFunc
	listening  chan struct{} // closed when listen has returned
}

// Open connects to the PostgreSQL database at the postgres:// URL rawURL and
// brings its schema up to date. The connection settings are described in the
// package documentation.
//
// Errors name the server, never the password, and say what to check.
func Open(ctx context.Context, rawURL string) (*DB, error) {
	u, err := url.Parse(rawURL)
	if ue := (*url.Error)(nil); errors.As(err, &ue) {
		// The whole of url.Parse's error would repeat the URL, password
		// and all.
		return nil, fmt.Errorf("pgstore: open: bad URL: %w", ue.Err)
	} else if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return nil, errors.New("pgstore: open: want a URL of the form postgres://user:password@host:port/database")
	}
	// latch_cache is the store's own parameter: PostgreSQL must not see it.
	params := u.Query()
	cache := params.Get(cacheParam)
	if cache != "" && cache != "on" && cache != "off" {
		return nil, fmt.Errorf("pgstore: open: %s=%q: want on or off", cacheParam, cache)
	}
	if params.Has(cacheParam) {
		params.Del(cacheParam)
		u.RawQuery = params.Encode()
		rawURL = u.String()
	}
	cfg, err := pgxpool.ParseConfig(rawURL)
	if err != nil {
		return nil, fmt.Errorf("pgstore: open: %w", err)
	}
	if !params.Has("application_name") {
		cfg.ConnConfig.RuntimeParams["application_name"] = defaultAppName
	}
	if !params.Has("connect_timeout") {
		cfg.ConnConfig.ConnectTimeout = defaultConnectTimeout
	}
	if !params.Has("pool_health_check_period") {
		cfg.HealthCheckPeriod = defaultHealthCheckPeriod
	}
	if !params.Has("pool_ping_timeout") {
		cfg.PingTimeout = defaultPingTimeout
	}
	server := describe(cfg.ConnConfig)

	schema, err := migrate(ctx, cfg.ConnConfig)
	if err != nil {
		return nil, fmt.Errorf("pgstore: open %s: %w", server, err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("pgstore: open %s: %w", server, err)
	}
	// NewWithConfig connects lazily; connect now, so that a bad setting
	// fails Open rather than the first request.
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("pgstore: open %s: %w", server, explainConnect(err))
	}
	db := &DB{Now: time.Now, pool: pool, cache: storecache.New(), channel: channelName(schema), listening: make(chan struct{})}
	lctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	db.stopListen = stop
	if cache == "off" {
		// The cache stays off, as it starts, and nothing listens.
		close(db.listening)
	} else {
		lcfg := cfg.ConnConfig.Copy()
		// Named apart in pg_stat_activity, as it lives apart from the pool.
		lcfg.RuntimeParams["application_name"] = cfg.ConnConfig.RuntimeParams["application_name"] + " listener"
		go db.listen(lctx, lcfg)
	}
	return db, nil
}

// describe names the server and database of cfg for error messages.
func describe(cfg *pgx.ConnConfig) string {
	host := cfg.Host
	if len(host) > 0 && host[0] == '/' {
		// A Unix socket directory.
		host = fmt.Sprintf("%s/.s.PGSQL.%d", host, cfg.Port)
	} else {
		host = net.JoinHostPort(host, strconv.Itoa(int(cfg.Port)))
	}
	return fmt.Sprintf("%s (database %q, user %q)", host, cfg.Database, cfg.User)
}

// connectError says what to check when connecting failed. It wraps the
// driver's error, which stays reachable with errors.As.
type connectError struct {
	hint string
	err  error
}

func (e *connectError) Error() string { return e.hint + ": " + e.err.Error() }
func (e *connectError) Unwrap() error { return e.err }

// explainConnect adds to a connection error what to check, decided by the
// kind of error: an answer from the server, or none.
func explainConnect(err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "28P01", "28000": // invalid_password, invalid_authorization_specification
			return &connectError{"the server refused the login: check the user name and password, and the server's pg_hba.conf", err}
		case "3D000": // invalid_catalog_name
			return &connectError{"the database does not exist: check its name in the URL, or create it", err}
		}
		return err
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		return &connectError{"no answer from PostgreSQL: check the host and port in the URL, that the server is running and accepts TCP connections there (listen_addresses), and that no firewall is in the way", err}
	}
	return err
}

// migrate applies the embedded migrations that the database lacks, over
// connections of its own with the settings of cfg, closed when it returns:
// whatever happens, the migration lock cannot outlive them.
func migrate(ctx context.Context, cfg *pgx.ConnConfig) (schema string, err error) {
	db := stdlib.OpenDB(*cfg.Copy())
	defer db.Close()

	// The migrations create their tables in the first existing schema of
	// search_path, and goose looks for its version table there too.
	var current sql.NullString
	if err := db.QueryRowContext(ctx, `SELECT current_schema()`).Scan(&current); err != nil {
		return "", explainConnect(err)
	}
	if !current.Valid {
		var path string
		if err := db.QueryRowContext(ctx, `SHOW search_path`).Scan(&path); err != nil {
			return "", explainConnect(err)
		}
		return "", fmt.Errorf("migrate: no schema of search_path %q exists: create it, or set search_path in the URL", path)
	}

	fsys, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return "", fmt.Errorf("migrate: %w", err)
	}
	// A session-level advisory lock makes processes that start together
	// migrate one after the other; the others then find nothing to do. The
	// lock is per schema, so that stores in other schemas (tests, several
	// applications) do not wait for each other, and it is polled every
	// second for at most a minute, or until ctx ends.
	locker, err := lock.NewPostgresSessionLocker(
		lock.WithLockID(lockID(current.String)),
		lock.WithLockTimeout(1, 60),
		lock.WithUnlockTimeout(1, 10),
	)
	if err != nil {
		return "", fmt.Errorf("migrate: %w", err)
	}
	if err := adopt(ctx, db, current.String); err != nil {
		return "", fmt.Errorf("migrate schema %q: bring tables named before the latch_ prefix over: %w", current.String, explainConnect(err))
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db, fsys,
		goose.WithTableName(versionTable),
		goose.WithSessionLocker(locker),
		// Go migrations registered globally by other packages are none
		// of ours.
		goose.WithDisableGlobalRegistry(true),
	)
	if err != nil {
		return "", fmt.Errorf("migrate: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return "", fmt.Errorf("migrate schema %q: %w", current.String, explainConnect(err))
	}
	return current.String, nil
}

// lockID returns the advisory lock key guarding the migrations of schema.
func lockID(schema string) int64 {
	h := fnv.New64a()
	io.WriteString(h, "latch pgstore migrations\x00"+schema)
	return int64(h.Sum64())
}

// Close releases the connections. It waits for the operations under way;
// later ones fail.
func (db *DB) Close() error {
	db.stopListen()
	<-db.listening
	db.pool.Close()
	return nil
}

// Ping checks that the database answers and accepts writes, for a health
// check: a server that became a read-only standby after a failover fails it.
func (db *DB) Ping(ctx context.Context) error {
	var readOnly string
	err := db.pool.QueryRow(ctx, `SELECT current_setting('transaction_read_only')`).Scan(&readOnly)
	if err != nil {
		return db.fail("ping", err)
	}
	if readOnly == "on" {
		return errors.New("pgstore: ping: the database is read-only (a standby server, or default_transaction_read_only)")
	}
	return nil
}

// fail wraps err, from the operation op, and, when it shows that the
// server's connections are lost, discards the pool's idle connections: they
// were most likely cut at the same time, and each would otherwise fail one
// more call before the pool noticed.
func (db *DB) fail(op string, err error) error {
	if connLost(err) {
		db.pool.Reset()
	}
	return fmt.Errorf("pgstore: %s: %w", op, err)
}

// retryRead reports whether a read that failed with err should be tried
// once more, and if so drops the pool's idle connections first. When the
// server restarted, every pooled connection is dead but the server is back:
// the retry gets a fresh connection, so the request that first notices the
// restart still succeeds. Reads are safe to repeat; writes are not retried.
func (db *DB) retryRead(err error) bool {
	if err == nil || !connLost(err) {
		return false
	}
	db.pool.Reset()
	return true
}

// read runs a read, and runs it again once on a fresh connection when its
// connection turns out to be lost (see retryRead).
func read[T any](db *DB, do func() (T, error)) (T, error) {
	v, err := do()
	if db.retryRead(err) {
		v, err = do()
	}
	return v, err
}

// connLost reports whether err means the connection to the server is gone,
// decided by SQLSTATE and error types, not by message text. A canceled or
// expired context is the caller's doing and says nothing of the server.
func connLost(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || pgconn.Timeout(err) {
		return false
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "57P01", // admin_shutdown: terminated, or the server is stopping
			"57P02", // crash_shutdown
			"57P03": // cannot_connect_now: starting up or shutting down
			return true
		}
		return strings.HasPrefix(pgErr.Code, "08") // connection_exception
	}
	var netErr net.Error
	return errors.As(err, &netErr) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// isUniqueViolation reports whether err is PostgreSQL's unique_violation of
// the named constraint or unique index.
func isUniqueViolation(err error, constraint string) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23505" && pgErr.ConstraintName == constraint
}

// nullTime returns t for storage, or NULL for the zero time.
func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

// fromNullTime returns a time read back, in UTC, or the zero time for NULL.
func fromNullTime(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}
