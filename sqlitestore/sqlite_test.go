package sqlitestore_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchauth/latch"
	"github.com/latchauth/latch/account"
	"github.com/latchauth/latch/sqlitestore"
	"github.com/latchauth/latch/storetest"
	"github.com/latchauth/latch/throttle"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// openDB opens a database at path and closes it when the test ends.
func openDB(t *testing.T, path string) *sqlitestore.DB {
	t.Helper()
	db, err := sqlitestore.Open(t.Context(), path)
	if err != nil {
		t.Fatalf("Open(%q) error = %v; want nil", path, err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("Close() = %v; want nil", err)
		}
	})
	return db
}

// newDB opens a new database in a temporary directory.
func newDB(t *testing.T) *sqlitestore.DB {
	t.Helper()
	return openDB(t, filepath.Join(t.TempDir(), "latch.db"))
}

func TestSessions(t *testing.T) {
	storetest.Sessions(t, newDB(t))
}

func TestUsers(t *testing.T) {
	storetest.Users(t, newDB(t))
}

func TestAudit(t *testing.T) {
	storetest.Audit(t, newDB(t))
}

func TestAdmin(t *testing.T) {
	storetest.Admin(t, newDB(t))
}

func TestTokens(t *testing.T) {
	storetest.Tokens(t, newDB(t))
}

func TestThrottle(t *testing.T) {
	storetest.Throttle(t, newDB(t))
}

func TestMailQueue(t *testing.T) {
	storetest.MailQueue(t, newDB(t))
}

func TestFactors(t *testing.T) {
	storetest.Factors(t, newDB(t))
}

func TestDevices(t *testing.T) {
	storetest.Devices(t, newDB(t))
}

// TestShared runs every suite twice on one database, as a shared database
// would see them.
func TestShared(t *testing.T) {
	db := newDB(t)
	for range 2 {
		storetest.Sessions(t, db)
		storetest.Users(t, db)
		storetest.Throttle(t, db)
		storetest.MailQueue(t, db)
		storetest.Devices(t, db)
	}
}

func newSession(userID string) latch.Session {
	now := time.Now()
	return latch.Session{
		ID:           rand.Text(),
		UserID:       userID,
		TokenHash:    []byte(rand.Text()),
		RememberHash: []byte(rand.Text()),
		Remember:     true,
		Fresh:        true,
		CreatedAt:    now,
		LastSeenAt:   now,
		ExpiresAt:    now.Add(time.Hour),
		IP:           "192.0.2.1",
		UserAgent:    "sqlitestore test",
	}
}

// seed writes one record of each kind and returns the user and session.
func seed(t *testing.T, db *sqlitestore.DB, failureKey string) (account.User, latch.Session) {
	t.Helper()
	ctx := t.Context()
	u, err := db.CreateUser(ctx, account.User{Email: rand.Text() + "@example.com", Name: "Ada", PasswordHash: "hash"})
	if err != nil {
		t.Fatalf("CreateUser error = %v; want nil", err)
	}
	s := newSession(strconv.FormatInt(u.ID, 10))
	if err := db.CreateSession(ctx, s); err != nil {
		t.Fatalf("CreateSession error = %v; want nil", err)
	}
	if _, err := throttle.New(db).Fail(ctx, failureKey); err != nil {
		t.Fatalf("Fail error = %v; want nil", err)
	}
	return u, s
}

// checkSeed checks that what seed wrote is in db.
func checkSeed(t *testing.T, db *sqlitestore.DB, u account.User, s latch.Session, failureKey string) {
	t.Helper()
	ctx := t.Context()
	if got, err := db.UserByID(ctx, u.ID); err != nil || got.Email != u.Email {
		t.Errorf("UserByID(%d) = %+v, %v; want email %q", u.ID, got, err, u.Email)
	}
	if got, err := db.SessionByToken(ctx, s.TokenHash); err != nil || got.ID != s.ID {
		t.Errorf("SessionByToken(%x) = %+v, %v; want ID %q", s.TokenHash, got, err, s.ID)
	}
	if got, err := db.Failures(ctx, failureKey); err != nil || got.Failures != 1 {
		t.Errorf("Failures(%q) = %+v, %v; want 1 failure", failureKey, got, err)
	}
}

// TestReopen checks that data outlives Close, and that opening an up-to-date
// database again applies no migration twice.
func TestReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "latch.db")
	db, err := sqlitestore.Open(t.Context(), path)
	if err != nil {
		t.Fatalf("Open(%q) error = %v; want nil", path, err)
	}
	u, s := seed(t, db, "reopen")
	if err := db.Close(); err != nil {
		t.Fatalf("Close() = %v; want nil", err)
	}

	for i := range 2 {
		db, err := sqlitestore.Open(t.Context(), path)
		if err != nil {
			t.Fatalf("Open #%d (%q) error = %v; want nil", i+2, path, err)
		}
		checkSeed(t, db, u, s, "reopen")
		if err := db.Close(); err != nil {
			t.Fatalf("Close() = %v; want nil", err)
		}
	}

	// Each migration is recorded once.
	raw := rawDB(t, path)
	rows, err := raw.QueryContext(t.Context(), `SELECT version_id, count(*) FROM latch_goose_db_version WHERE is_applied GROUP BY version_id`)
	if err != nil {
		t.Fatalf("query latch_goose_db_version: %v", err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var version, count int64
		if err := rows.Scan(&version, &count); err != nil {
			t.Fatal(err)
		}
		if count != 1 {
			t.Errorf("migration %d recorded %d times; want 1", version, count)
		}
		n++
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if n < 2 { // version 0, goose's own, and ours
		t.Errorf("goose_db_version lists %d versions; want at least 2", n)
	}
}

// TestOpenConcurrent opens a new file from several goroutines at once, as
// processes starting together would: each must either create the schema or
// find it, not fail.
func TestOpenConcurrent(t *testing.T) {
	if testing.Short() {
		t.Skip("slow: goose waits a second when it loses the race to create its table")
	}
	for round := range 2 {
		path := filepath.Join(t.TempDir(), "latch.db")
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				db, err := sqlitestore.Open(t.Context(), path)
				if err != nil {
					t.Errorf("round %d: Open(%q) error = %v; want nil", round, path, err)
					return
				}
				if err := db.Close(); err != nil {
					t.Errorf("Close() = %v; want nil", err)
				}
			})
		}
		wg.Wait()
	}
}

// rawDB opens path without the store, to look behind its back.
func rawDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	c, err := sqlite.NewConnector(path)
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(c)
	t.Cleanup(func() { db.Close() })
	return db
}

// TestCrash checks that a write acknowledged by the store is in the file
// even when the process is killed without closing the database.
func TestCrash(t *testing.T) {
	if path := os.Getenv("SQLITESTORE_CRASH_DB"); path != "" {
		crashChild(t, path)
		return
	}
	if testing.Short() {
		t.Skip("starts a process")
	}
	path := filepath.Join(t.TempDir(), "latch.db")
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestCrash$")
	cmd.Env = append(os.Environ(), "SQLITESTORE_CRASH_DB="+path)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	cmd.Process.Kill()
	cmd.Wait()
	if err != nil {
		t.Fatalf("reading from child: %v (got %q)", err, line)
	}
	var (
		id           int64
		email, token string
		sessionID    string
		failureKey   string
	)
	if _, err := fmt.Sscanf(line, "written %d %s %s %s %s", &id, &email, &sessionID, &token, &failureKey); err != nil {
		t.Fatalf("child said %q: %v", line, err)
	}

	db := openDB(t, path)
	u := account.User{ID: id, Email: email}
	s := latch.Session{ID: sessionID, TokenHash: []byte(token)}
	checkSeed(t, db, u, s, failureKey)
}

// crashChild writes, reports what it wrote, and waits to be killed.
func crashChild(t *testing.T, path string) {
	db, err := sqlitestore.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	u, s := seed(t, db, "crash")
	fmt.Printf("written %d %s %s %s %s\n", u.ID, u.Email, s.ID, s.TokenHash, "crash")
	time.Sleep(time.Minute)
	t.Fatal("not killed")
}

// TestConcurrent runs mixed reads and writes from many goroutines, through
// two DBs on one file as two processes would, and expects no error at all:
// in particular no "database is locked".
func TestConcurrent(t *testing.T) {
	const goroutines, rounds = 50, 8
	path := filepath.Join(t.TempDir(), "latch.db")
	dbs := []*sqlitestore.DB{openDB(t, path), openDB(t, path)}
	ctx := t.Context()

	var wg sync.WaitGroup
	for g := range goroutines {
		db := dbs[g%len(dbs)]
		wg.Go(func() {
			fail := func(op string, err error) {
				t.Errorf("goroutine %d: %s error = %v; want nil", g, op, err)
			}
			u, err := db.CreateUser(ctx, account.User{Email: fmt.Sprintf("user%d@example.com", g), Name: "Concurrent", PasswordHash: "hash"})
			if err != nil {
				fail("CreateUser", err)
				return
			}
			userID := strconv.FormatInt(u.ID, 10)
			key := "shared|192.0.2.1"
			for r := range rounds {
				s := newSession(userID)
				if err := db.CreateSession(ctx, s); err != nil {
					fail("CreateSession", err)
					continue
				}
				got, err := db.SessionByToken(ctx, s.TokenHash)
				if err != nil {
					fail("SessionByToken", err)
					continue
				}
				got.TokenHash = []byte(rand.Text())
				got.LastSeenAt = time.Now()
				if err := db.UpdateSession(ctx, got); err != nil {
					fail("UpdateSession", err)
				}
				if _, err := db.SessionByRemember(ctx, s.RememberHash); err != nil {
					fail("SessionByRemember", err)
				}
				if _, err := db.UserSessions(ctx, userID); err != nil {
					fail("UserSessions", err)
				}
				if err := addFailure(ctx, db, key); err != nil {
					fail("SwapFailures", err)
				}
				if _, err := db.Failures(ctx, key); err != nil {
					fail("Failures", err)
				}
				if err := db.RecordLogin(ctx, u.ID, time.Now(), ""); err != nil {
					fail("RecordLogin", err)
				}
				if _, err := db.UserByEmail(ctx, u.Email); err != nil {
					fail("UserByEmail", err)
				}
				if _, err := db.ListUsers(ctx, 0, 10); err != nil {
					fail("ListUsers", err)
				}
				if r%5 == 4 {
					if _, err := db.DeleteUserSessions(ctx, userID, got.ID); err != nil {
						fail("DeleteUserSessions", err)
					}
					if _, err := db.DeleteExpiredSessions(ctx, time.Now(), time.Now().Add(-time.Hour)); err != nil {
						fail("DeleteExpiredSessions", err)
					}
				}
				if err := db.DeleteSession(ctx, got.ID); err != nil {
					fail("DeleteSession", err)
				}
			}
		})
	}
	wg.Wait()

	st, err := dbs[0].Failures(ctx, "shared|192.0.2.1")
	if want := goroutines * rounds; err != nil || st.Failures != want {
		t.Errorf("Failures after %d concurrent failures = %d, %v; want %d, nil", want, st.Failures, err, want)
	}
}

// addFailure adds one failure to key by reading and swapping until no other
// writer gets in between, as a Limiter does but without its bound on tries:
// TestConcurrent crowds one key with far more writers than logins would.
func addFailure(ctx context.Context, db *sqlitestore.DB, key string) error {
	for range 10_000 {
		st, err := db.Failures(ctx, key)
		if err != nil {
			return err
		}
		ok, err := db.SwapFailures(ctx, key, st, throttle.State{Failures: st.Failures + 1, LastFailure: time.Now()}, time.Hour)
		if ok || err != nil {
			return err
		}
	}
	return fmt.Errorf("10000 swaps lost in a row on %q", key)
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	notDB := filepath.Join(dir, "notes.txt")
	text := bytes.Repeat([]byte("these are not the pages of a database\n"), 200)
	if err := os.WriteFile(notDB, text, 0o600); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name string
		path string
		want string // in the error message
		is   error
	}{
		{"empty", "", "empty path", nil},
		{"memory", ":memory:", "not supported", nil},
		{"missing directory", filepath.Join(dir, "missing", "latch.db"), "missing", fs.ErrNotExist},
		{"directory", dir, "is a directory", nil},
		{"parent is a file", filepath.Join(notDB, "latch.db"), "not a directory", nil},
		{"not a database", notDB, "notes.txt", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, err := sqlitestore.Open(t.Context(), tt.path)
			if err == nil {
				db.Close()
				t.Fatalf("Open(%q) = nil error; want an error", tt.path)
			}
			if db != nil {
				t.Errorf("Open(%q) = %v, %v; want nil DB", tt.path, db, err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Open(%q) error = %q; want it to mention %q", tt.path, err, tt.want)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("Open(%q) error = %v; want errors.Is %v", tt.path, err, tt.is)
			}
		})
	}

	// The driver's verdict comes through, and the file is left alone.
	_, err := sqlitestore.Open(t.Context(), notDB)
	var e *sqlite.Error
	if !errors.As(err, &e) || e.Code() != sqlite3.SQLITE_NOTADB {
		t.Errorf("Open(%q) error = %v; want SQLITE_NOTADB", notDB, err)
	}
	if got, err := os.ReadFile(notDB); err != nil || !bytes.Equal(got, text) {
		t.Errorf("after Open(%q), the file changed (%v)", notDB, err)
	}
}

// TestOddPath checks that a path is taken literally, not as a URI.
func TestOddPath(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a dir?mode=ro#x")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "100% latch.db")
	db := openDB(t, path)
	seed(t, db, "odd")
	if _, err := os.Stat(path); err != nil {
		t.Errorf("after Open(%q): %v", path, err)
	}
}

// TestNow checks that CreateUser takes the creation time from DB.Now.
func TestNow(t *testing.T) {
	db := newDB(t)
	storetest.CreatedAt(t, db, func(now func() time.Time) { db.Now = now })
}

// TestSweep checks that failure records older than the window go away in
// time, so the table cannot grow without bound.
func TestSweep(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a thousand records")
	}
	db := newDB(t)
	ctx := t.Context()
	now := time.Now()
	stale := throttle.State{Failures: 1, LastFailure: now.Add(-2 * time.Hour)}
	if ok, err := db.SwapFailures(ctx, "stale", throttle.State{}, stale, time.Hour); !ok || err != nil {
		t.Fatalf("SwapFailures(%q, zero, %+v) = %v, %v; want true, nil", "stale", stale, ok, err)
	}
	l := throttle.New(db)
	l.Forget, l.Lockout = time.Hour, time.Minute
	for i := range 1024 {
		if _, err := l.Fail(ctx, "fresh"+strconv.Itoa(i%7)); err != nil {
			t.Fatal(err)
		}
	}
	if st, err := db.Failures(ctx, "stale"); err != nil || st != (throttle.State{}) {
		t.Errorf("Failures(%q) after sweep = %+v, %v; want zero, nil", "stale", st, err)
	}
	if st, err := db.Failures(ctx, "fresh0"); err != nil || st.Failures == 0 {
		t.Errorf("Failures(%q) after sweep = %+v, %v; want some, nil", "fresh0", st, err)
	}
}

func TestPingAndCancel(t *testing.T) {
	db := newDB(t)
	if err := db.Ping(t.Context()); err != nil {
		t.Errorf("Ping() = %v; want nil", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := db.UserByID(ctx, 1); !errors.Is(err, context.Canceled) {
		t.Errorf("UserByID(canceled, 1) error = %v; want %v", err, context.Canceled)
	}
	if err := db.CreateSession(ctx, newSession("1")); !errors.Is(err, context.Canceled) {
		t.Errorf("CreateSession(canceled, ...) error = %v; want %v", err, context.Canceled)
	}
}

// TestFileModes checks that a new database, and the log and shared-memory
// files SQLite makes beside it, can be read by their owner alone: they hold
// password hashes and session records.
func TestFileModes(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Windows has no Unix file modes")
	}
	path := filepath.Join(t.TempDir(), "latch.db")
	db := openDB(t, path)
	if _, err := db.CreateUser(t.Context(), account.User{Email: "ann@example.com", Name: "Ann", PasswordHash: "x"}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Errorf("stat %s: %v", p, err)
		} else if perm := fi.Mode().Perm(); perm != 0o600 {
			t.Errorf("%s mode = %04o; want 0600", filepath.Base(p), perm)
		}
	}
}
