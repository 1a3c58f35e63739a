// Package sqlitestore keeps latch's sessions, user accounts and login
// failure counts in one SQLite database file.
//
// A [DB] implements [latch.SessionStore], [latch.SessionPruner],
// [account.Store], [account.TokenStore], [account.TokenPruner],
// [throttle.Store], [throttle.DeviceStore] and [mailer.QueueStore] (table
// latch_mail_queue). It uses modernc.org/sqlite, a translation of SQLite to
// Go, so programs using it build without cgo.
//
// # Connections
//
// SQLite allows one writer at a time. A DB therefore holds two pools on the
// same file: a writer of a single connection, whose transactions begin with
// BEGIN IMMEDIATE, and readers that are not allowed to write. Writers queue
// in the pool rather than fight over the file's lock, reads proceed while a
// write is under way (the journal is a write-ahead log), and no transaction
// ever has to upgrade a read lock to a write lock, which is what makes
// SQLite answer "database is locked" under concurrent load. Several
// processes may open the same file; their writers then wait for each other,
// for up to ten seconds.
//
// Each connection keeps the statements it has run compiled, and runs them
// from there when the same query comes again (PRAGMA and schema statements
// excepted): the driver compiles SQL text afresh on every call otherwise.
//
// # Cache
//
// Every page load reads the request's session and its user, and a profile
// page the user's list of sessions. A DB keeps what those reads return in
// memory, so that a page load usually reads nothing from the file. The cache
// never serves what the database no longer holds to a request of this
// process: each write forgets the records it touched before returning, and
// a read that raced with a write does not fill the cache. Writes by another
// process on the same file, such as `latch users delete` run while the
// server is up, are noticed by polling SQLite's data_version ten times a
// second on the writer connection, which forgets the whole cache; until
// then, for about 100 milliseconds, or longer while this process's own
// writes hold the writer connection, this process may still accept a
// session the other one deleted. Run one server process per database file; several servers share
// PostgreSQL instead.
//
// # Storage
//
// [Open] creates the file if needed and applies the schema migrations
// embedded in the package, each in a transaction, recording them in the
// table latch_goose_db_version. Every table and index of latch's is named
// with the prefix latch_ (latch_users, latch_sessions, latch_login_failures,
// latch_tokens, ...), so the file can also hold an application's own
// tables, a users table and goose's default version table goose_db_version
// included: an application that keeps its users itself can keep them in
// the same file as latch's sessions, and leave latch_users empty.
//
// A file made before the prefix, whose tables were named users, sessions
// and login_failures and whose migrations were recorded in goose_db_version,
// is brought over in place when opened: its tables, their indexes and its
// version table are renamed in one transaction, before the migrations run.
// It is recognised by those three tables with latch's columns; when its
// goose_db_version also holds versions of other migrations, Open refuses to
// guess whose each row is, and says how to move latch's rows to
// latch_goose_db_version; it renames the tables once they are there.
//
// Times are stored as INTEGER microseconds since the Unix
// epoch, UTC, so they sort and compare as numbers and survive any time zone
// setting; finer precision is dropped. Times read back are in UTC.
//
// # Durability
//
// A write waits for the disk before it returns (synchronous=FULL), so that
// it survives a power failure: sign-ups, password changes, deletions,
// logouts, revocations and session rotations. Five kinds of write do not,
// since undoing them does no harm and waiting for the disk was the largest
// cost of a login after the password hash: new sessions (their users log in
// again), last-seen and last-login times, login failure counts (the
// last of which a power failure may undo, giving an attacker a few more
// tries, as a restart of Redis would), and new mailed tokens (their users
// ask for another link). Using a token waits for the disk. They still survive the process being
// killed, and every synced write makes the ones before it durable too.
package sqlitestore

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	"github.com/latchauth/latch"
	"github.com/latchauth/latch/account"
	"github.com/latchauth/latch/internal/storecache"
	"github.com/latchauth/latch/throttle"
	"github.com/pressly/goose/v3"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
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

// DB is a latch store in a SQLite database. It is safe for concurrent use.
// Create one with [Open] and release it with [DB.Close].
type DB struct {
	// Now returns the current time. It sets the creation time of users
	// created without one; tests replace it. Default time.Now.
	Now func() time.Time

	write *sql.DB // one connection: SQLite has one writer at a time
	read  *sql.DB // several query-only connections

	// failureWrites counts AddFailure and SwapFailures calls that record
	// a failure, to sweep stale failure records now and then.
	failureWrites atomic.Uint64

	// pruneRest, if set, maps the rest DeleteExpiredSessions would take
	// between two batches to the one it takes; for tests.
	pruneRest func(time.Duration) time.Duration

	cache     *storecache.Cache
	stopWatch context.CancelFunc // stops watch
	watching  chan struct{}      // closed when watch has returned
}

// Open opens the SQLite database at path, creating the file with mode 0600
// if it does not exist (but not its directory), and brings its schema up to
// date.
//
// The path names a file; it is not a URI and may not be ":memory:": the
// writer and the readers are separate connections, and each in-memory
// connection would be a database of its own. Tests can use a file in a
// temporary directory instead.
func Open(ctx context.Context, path string) (*DB, error) {
	if path == "" {
		return nil, errors.New("sqlitestore: open: empty path")
	}
	if path == ":memory:" {
		return nil, errors.New(`sqlitestore: open: in-memory database ":memory:" not supported; use a file in a temporary directory`)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: open %s: %w", path, err)
	}
	// SQLite would only say "unable to open database file"; say why.
	if dir, err := os.Stat(filepath.Dir(abs)); err != nil {
		return nil, fmt.Errorf("sqlitestore: open %s: %w", path, err)
	} else if !dir.IsDir() {
		return nil, fmt.Errorf("sqlitestore: open %s: %s is not a directory", path, filepath.Dir(abs))
	}
	if fi, err := os.Stat(abs); err == nil && fi.IsDir() {
		return nil, fmt.Errorf("sqlitestore: open %s: is a directory", path)
	}

	// The file holds password hashes and session records: it is created
	// for its owner alone, and SQLite gives the -wal and -shm files it
	// makes beside it the same mode. An existing file keeps its mode.
	if f, err := os.OpenFile(abs, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600); err == nil {
		f.Close()
	} else if !errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("sqlitestore: open %s: %w", path, err)
	}

	db := &DB{Now: time.Now, cache: storecache.New()}
	if err := db.open(ctx, abs); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlitestore: open %s: %w", path, err)
	}
	wctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	db.stopWatch, db.watching = stop, make(chan struct{})
	go db.watch(wctx)
	return db, nil
}

func (db *DB) open(ctx context.Context, path string) error {
	// Pragmas go in the DSN, not in statements run once after opening:
	// database/sql opens and closes connections as it pleases, and each new
	// one must be set up the same way. The driver runs them in order.
	writer := url.Values{
		"_pragma": {
			// Wait up to 10s for another process's lock instead of
			// failing at once with "database is locked". First, so that
			// it covers the pragmas below.
			"busy_timeout(10000)",
			// A write-ahead log lets readers go on while a write is in
			// progress, and makes each commit a single append.
			"journal_mode(WAL)",
			// Sync the log at every commit: an acknowledged write survives
			// a crash, a kill -9 and a power loss. NORMAL would only
			// survive the first two; DB.relaxed uses it for the writes
			// whose loss does no harm.
			"synchronous(FULL)",
			// SQLite ignores foreign key constraints unless asked, for
			// compatibility with old schemas; ask, so that every
			// constraint a migration declares holds.
			"foreign_keys(ON)",
		},
		// Take the write lock when a transaction begins, not at its first
		// write: a transaction that read first and then needs the lock
		// cannot wait for it, and would fail with "database is locked".
		"_txlock": {"immediate"},
	}
	var err error
	if db.write, err = openPool(path, writer); err != nil {
		return err
	}
	db.write.SetMaxOpenConns(1)
	db.write.SetMaxIdleConns(1)
	db.write.SetConnMaxIdleTime(0)
	db.write.SetConnMaxLifetime(0)
	// Opening the first connection runs the pragmas: this is where a file
	// that is not a database is found out.
	if err := connect(ctx, db.write); err != nil {
		return fmt.Errorf("connect writer: %w", err)
	}
	if err := migrate(ctx, db.write); err != nil {
		return err
	}

	// WAL is a property of the file, set by the writer before any reader
	// opens, and synchronous matters only to writes.
	reader := url.Values{
		"_pragma": {
			// As for the writer: readers wait for locks, which they need
			// briefly when the log is checkpointed or recovered.
			"busy_timeout(10000)",
			// As for the writer, so that all connections agree.
			"foreign_keys(ON)",
			// Readers never write, so a mistaken write through one fails
			// instead of racing the writer for the lock.
			"query_only(1)",
		},
	}
	if db.read, err = openPool(path, reader); err != nil {
		return err
	}
	n := max(4, runtime.GOMAXPROCS(0))
	db.read.SetMaxOpenConns(n)
	db.read.SetMaxIdleConns(n)
	if err := connect(ctx, db.read); err != nil {
		return fmt.Errorf("connect reader: %w", err)
	}
	return nil
}

// openPool returns a pool of connections to the file at the absolute path,
// with the given driver parameters. Going through a connector rather than
// sql.Open avoids depending on the driver's global registration.
func openPool(path string, params url.Values) (*sql.DB, error) {
	// A file: URI takes any path, whatever characters it holds. Its path
	// starts with a slash, even for a Windows drive letter.
	p := filepath.ToSlash(path)
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	dsn := (&url.URL{Scheme: "file", Path: p, RawQuery: params.Encode()}).String()
	c, err := sqlite.NewConnector(dsn)
	if err != nil {
		return nil, err
	}
	return sql.OpenDB(cachingConnector{c}), nil
}

// connect opens the first connection of pool. The first connection to a new
// file switches it to WAL, which needs the file to itself; when another
// process opens the file at that moment, SQLite answers SQLITE_BUSY at once
// instead of waiting, lest the two wait for each other. Trying again shortly
// after succeeds.
func connect(ctx context.Context, pool *sql.DB) error {
	for attempt := 1; ; attempt++ {
		err := pool.PingContext(ctx)
		var e *sqlite.Error
		if err == nil || attempt == 10 || !errors.As(err, &e) || e.Code()&0xff != sqlite3.SQLITE_BUSY {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(time.Duration(attempt) * 10 * time.Millisecond):
		}
	}
}

// migrate applies the embedded migrations that the database lacks.
func migrate(ctx context.Context, db *sql.DB) error {
	fsys, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if err := adopt(ctx, db, fsys); err != nil {
		return fmt.Errorf("migrate: bring tables named before the latch_ prefix over: %w", err)
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, db, fsys,
		goose.WithTableName(versionTable),
		// Go migrations registered globally by other packages are none
		// of ours.
		goose.WithDisableGlobalRegistry(true),
	)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	// goose reads the version table, then applies each missing migration
	// in a transaction of its own. Another process opening the database at
	// the same time may apply a migration in between, and ours then fails,
	// rolled back whole. Once the database has moved on, looking again is
	// enough.
	for attempt := 1; ; attempt++ {
		_, err := p.Up(ctx)
		if err == nil {
			return nil
		}
		if pending, perr := p.HasPending(ctx); perr == nil && !pending {
			return nil
		}
		if attempt == 3 || ctx.Err() != nil {
			return fmt.Errorf("migrate: %w", err)
		}
	}
}

// quick returns ctx without its cancellation, for the reads done on every
// request and the one-statement writes of logins and sign-ups. They take
// microseconds to a disk sync, while a cancellable context makes the driver
// and database/sql start goroutines per statement to watch it, which under
// load cost more than the statement and, profiled, dominated the tail
// latency of page loads. A context already done still stops the statement
// before it starts; one under way runs to its end, or to the ten-second
// busy timeout when another process holds the file's write lock.
func quick(ctx context.Context) (context.Context, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return context.WithoutCancel(ctx), nil
}

// Close releases the database. Operations under way are finished first;
// later ones fail.
func (db *DB) Close() error {
	if db.stopWatch != nil {
		db.stopWatch()
		<-db.watching
	}
	var errs []error
	if db.read != nil {
		errs = append(errs, db.read.Close())
	}
	if db.write != nil {
		errs = append(errs, db.write.Close())
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("sqlitestore: close: %w", err)
	}
	return nil
}

// Ping checks that the database can be read and written, for a health check.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.read.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlitestore: ping readers: %w", err)
	}
	if err := db.write.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlitestore: ping writer: %w", err)
	}
	return nil
}

// isUnique reports whether err is SQLite's unique constraint violation,
// found by its extended result code, which the driver always reports.
func isUnique(err error) bool {
	var e *sqlite.Error
	return errors.As(err, &e) && e.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE
}

// micros returns t as stored: microseconds since the Unix epoch.
func micros(t time.Time) int64 {
	return t.UnixMicro()
}

// fromMicros returns the time stored as us, in UTC.
func fromMicros(us int64) time.Time {
	return time.UnixMicro(us).UTC()
}

// nullMicros returns t as stored, or NULL for the zero time.
func nullMicros(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMicro()
}

// fromNullMicros returns the time stored as us, or the zero time for NULL.
func fromNullMicros(us sql.NullInt64) time.Time {
	if !us.Valid {
		return time.Time{}
	}
	return fromMicros(us.Int64)
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface {
	Scan(dest ...any) error
}

// collect reads every row of rows with scan and closes rows. op names the
// query in errors, as in "sqlitestore: list users: ...".
func collect[T any](rows *sql.Rows, op string, scan func(scanner) (T, error)) ([]T, error) {
	defer rows.Close()
	var list []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlitestore: %s: %w", op, err)
		}
		list = append(list, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlitestore: %s: %w", op, err)
	}
	return list, nil
}
