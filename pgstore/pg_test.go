package pgstore_test

import (
	"context"
	"crypto/rand"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/latchauth/latch"
	"github.com/latchauth/latch/account"
	"github.com/latchauth/latch/internal/pgtest"
	"github.com/latchauth/latch/pgstore"
	"github.com/latchauth/latch/storetest"
	"github.com/latchauth/latch/throttle"
)

// openDB opens a store at rawURL and closes it when the test ends.
func openDB(t testing.TB, rawURL string) *pgstore.DB {
	t.Helper()
	db, err := pgstore.Open(t.Context(), rawURL)
	if err != nil {
		t.Fatalf("Open() error = %v; want nil", err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("Close() = %v; want nil", err)
		}
	})
	return db
}

// newTestDB opens a store in a new schema of the test database, both gone
// when the test ends.
func newTestDB(t testing.TB) *pgstore.DB {
	t.Helper()
	u, _ := pgtest.NewSchema(t)
	return openDB(t, u)
}

func TestSessions(t *testing.T) {
	storetest.Sessions(t, newTestDB(t))
}

// TestSessionsCacheOff runs the suite with latch_cache=off, where every
// read, a page of recent sessions included, is a query of its own.
func TestSessionsCacheOff(t *testing.T) {
	u, _ := pgtest.NewSchema(t)
	storetest.Sessions(t, openDB(t, pgtest.WithParam(t, u, "latch_cache", "off")))
}

func TestUsers(t *testing.T) {
	storetest.Users(t, newTestDB(t))
}

func TestAudit(t *testing.T) {
	storetest.Audit(t, newTestDB(t))
}

func TestAdmin(t *testing.T) {
	storetest.Admin(t, newTestDB(t))
}

func TestTokens(t *testing.T) {
	storetest.Tokens(t, newTestDB(t))
}

func TestThrottle(t *testing.T) {
	storetest.Throttle(t, newTestDB(t))
}

func TestMailQueue(t *testing.T) {
	storetest.MailQueue(t, newTestDB(t))
}

func TestFactors(t *testing.T) {
	storetest.Factors(t, newTestDB(t))
}

func TestDevices(t *testing.T) {
	storetest.Devices(t, newTestDB(t))
}

// TestShared runs every suite twice on one database, as a shared database
// would see them.
func TestShared(t *testing.T) {
	db := newTestDB(t)
	for range 2 {
		storetest.Sessions(t, db)
		storetest.Users(t, db)
		storetest.Throttle(t, db)
		storetest.MailQueue(t, db)
		storetest.Devices(t, db)
	}
}

// wantSchema checks that the store's tables, the migrations' version table
// included, are in schema, and that each migration was applied once.
func wantSchema(t *testing.T, conn *pgx.Conn, schema string) {
	t.Helper()
	for _, table := range []string{"latch_users", "latch_sessions", "latch_login_failures", "latch_device_revocations", "latch_goose_db_version"} {
		var n int
		err := conn.QueryRow(t.Context(),
			`SELECT count(*) FROM information_schema.tables WHERE table_schema = $1 AND table_name = $2`,
			schema, table).Scan(&n)
		if err != nil || n != 1 {
			t.Errorf("table %s.%s: found %d, %v; want 1, nil", schema, table, n, err)
		}
	}
	rows, err := conn.Query(t.Context(), `
		SELECT version_id, count(*) FROM `+pgx.Identifier{schema, "latch_goose_db_version"}.Sanitize()+`
		WHERE is_applied AND version_id > 0
		GROUP BY version_id ORDER BY version_id`)
	if err != nil {
		t.Fatalf("read migration versions: %v", err)
	}
	type applied struct{ Version, Count int64 }
	got, err := pgx.CollectRows(rows, pgx.RowToStructByPos[applied])
	if err != nil {
		t.Fatalf("read migration versions: %v", err)
	}
	if len(got) == 0 || got[0].Version != 1 {
		t.Errorf("applied migrations = %v; want version 1 first", got)
	}
	for _, a := range got {
		if a.Count != 1 {
			t.Errorf("migration %d recorded %d times; want once", a.Version, a.Count)
		}
	}
}

// TestConcurrentOpen checks that instances starting together on a new schema
// all succeed, and that the migrations run once, in that schema.
func TestConcurrentOpen(t *testing.T) {
	u, schema := pgtest.NewSchema(t)
	const n = 4
	var (
		wg    sync.WaitGroup
		start = make(chan struct{})
		dbs   [n]*pgstore.DB
	)
	for i := range n {
		wg.Go(func() {
			<-start
			db, err := pgstore.Open(t.Context(), u)
			if err != nil {
				t.Errorf("Open #%d error = %v; want nil", i, err)
				return
			}
			dbs[i] = db
		})
	}
	close(start)
	wg.Wait()
	for _, db := range dbs {
		if db != nil {
			t.Cleanup(func() { db.Close() })
		}
	}
	if t.Failed() {
		return
	}
	wantSchema(t, pgtest.Connect(t), schema)

	// They share one database.
	created, err := dbs[0].CreateUser(t.Context(), account.User{Email: pgtest.RandomName() + "@example.com"})
	if err != nil {
		t.Fatalf("CreateUser error = %v; want nil", err)
	}
	for i, db := range dbs {
		if got, err := db.UserByID(t.Context(), created.ID); err != nil || got != created {
			t.Errorf("#%d: UserByID(%d) = %+v, %v; want %+v", i, created.ID, got, err, created)
		}
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
		UserAgent:    "pgstore test",
	}
}

// TestReopen checks that an acknowledged write is seen by a store opened
// afterwards, and that opening an up-to-date schema applies nothing again.
func TestReopen(t *testing.T) {
	u, schema := pgtest.NewSchema(t)
	ctx := t.Context()
	db, err := pgstore.Open(ctx, u)
	if err != nil {
		t.Fatalf("Open() error = %v; want nil", err)
	}
	user, err := db.CreateUser(ctx, account.User{Email: pgtest.RandomName() + "@example.com", Name: "Ada", PasswordHash: "hash"})
	if err != nil {
		t.Fatalf("CreateUser error = %v; want nil", err)
	}
	sess := newSession(strconv.FormatInt(user.ID, 10))
	if err := db.CreateSession(ctx, sess); err != nil {
		t.Fatalf("CreateSession error = %v; want nil", err)
	}
	failed := throttle.State{Failures: 1, LastFailure: time.Now().UTC().Truncate(time.Microsecond)}
	if ok, err := db.SwapFailures(ctx, "reopen", throttle.State{}, failed, time.Hour); !ok || err != nil {
		t.Fatalf("SwapFailures(%q, zero, %+v) = %v, %v; want true, nil", "reopen", failed, ok, err)
	}
	if err := db.Close(); err != nil {
		t.Fatalf("Close() = %v; want nil", err)
	}

	db = openDB(t, u)
	if got, err := db.UserByID(ctx, user.ID); err != nil || got != user {
		t.Errorf("after reopening, UserByID(%d) = %+v, %v; want %+v", user.ID, got, err, user)
	}
	if got, err := db.SessionByToken(ctx, sess.TokenHash); err != nil || got.ID != sess.ID {
		t.Errorf("after reopening, SessionByToken(%x) = %+v, %v; want ID %q", sess.TokenHash, got, err, sess.ID)
	}
	if got, err := db.Failures(ctx, "reopen"); err != nil || got != failed {
		t.Errorf("after reopening, Failures(%q) = %+v, %v; want %+v", "reopen", got, err, failed)
	}
	wantSchema(t, pgtest.Connect(t), schema)
}

// TestOpenUnreachable checks that Open fails within seconds when nothing
// listens at the address, says what to check, and does not show the
// password. It needs no server.
func TestOpenUnreachable(t *testing.T) {
	const password = "s3cret-pw"
	u := "postgres://latch:" + password + "@127.0.0.1:1/latch?sslmode=disable"
	start := time.Now()
	db, err := pgstore.Open(t.Context(), u)
	elapsed := time.Since(start)
	if err == nil {
		db.Close()
		t.Fatalf("Open(%q) = nil error; want an error", u)
	}
	if elapsed > 10*time.Second {
		t.Errorf("Open(%q) took %v; want an error within seconds", u, elapsed)
	}
	msg := err.Error()
	for _, want := range []string{"127.0.0.1:1", "host and port", "running"} {
		if !strings.Contains(msg, want) {
			t.Errorf("Open(%q) error = %q; want it to mention %q", u, msg, want)
		}
	}
	if strings.Contains(msg, password) {
		t.Errorf("Open(%q) error = %q; want no password in it", u, msg)
	}
	for _, bad := range []string{
		"postgres://latch:" + password + "@127.0.0.1:port/latch",
		"postgres://latch:" + password + "@127.0.0.1:1/latch?pool_max_conns=many",
	} {
		if _, err := pgstore.Open(t.Context(), bad); err == nil || strings.Contains(err.Error(), password) {
			t.Errorf("Open(%q) error = %v; want an error without the password", bad, err)
		}
	}
	var ce *pgconn.ConnectError
	if !errors.As(err, &ce) {
		t.Errorf("Open(%q) error = %v; want a *pgconn.ConnectError inside", u, err)
	}
}

func TestOpenErrors(t *testing.T) {
	base := pgtest.URL(t)
	missingDB := func() string {
		u, err := url.Parse(base)
		if err != nil {
			t.Fatal(err)
		}
		u.Path = "/latch_missing_" + pgtest.RandomName()
		return u.String()
	}()
	tests := []struct {
		name string
		url  string
		want string // in the error message
	}{
		{"not a URL", "host=127.0.0.1 dbname=test", "postgres://"},
		{"other scheme", "mysql://root@127.0.0.1/test", "postgres://"},
		{"missing schema", pgtest.WithParam(t, base, "search_path", "latch_missing_"+pgtest.RandomName()), "search_path"},
		{"missing database", missingDB, "does not exist"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, err := pgstore.Open(t.Context(), tt.url)
			if err == nil {
				db.Close()
				t.Fatalf("Open(%q) = nil error; want an error", tt.url)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Open(%q) error = %q; want it to mention %q", tt.url, err, tt.want)
			}
		})
	}
}

// terminate ends, from a connection of the test's own, every server process
// serving a connection named app, as an administrator or a restarting server
// would, and waits until they are gone. It returns how many there were.
func terminate(t *testing.T, app string) int {
	t.Helper()
	conn := pgtest.Connect(t)
	var n int
	err := conn.QueryRow(t.Context(), `
		SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE datname = current_database() AND pid <> pg_backend_pid() AND application_name = $1`,
		app).Scan(&n)
	if err != nil {
		t.Fatalf("terminate %q: %v", app, err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; {
		var left int
		err := conn.QueryRow(t.Context(),
			`SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1`,
			app).Scan(&left)
		if err != nil {
			t.Fatalf("terminate %q: %v", app, err)
		}
		if left == 0 {
			return n
		}
		if time.Now().After(deadline) {
			t.Fatalf("terminate %q: %d processes still there after 10s", app, left)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestReconnect checks that the store recovers by itself when the server
// drops all its connections: at most the first call after that fails.
// Stopping the server would disturb other tests; terminating the store's
// server processes looks the same to the store.
func TestReconnect(t *testing.T) {
	u, _ := pgtest.NewSchema(t)
	app := "latch-test-" + pgtest.RandomName()
	db := openDB(t, pgtest.WithParam(t, u, "application_name", app))
	ctx := t.Context()

	user, err := db.CreateUser(ctx, account.User{Email: pgtest.RandomName() + "@example.com"})
	if err != nil {
		t.Fatalf("CreateUser error = %v; want nil", err)
	}
	for round := range 3 {
		// Fill the pool with several connections, all to be cut.
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				if _, err := db.UserSessions(ctx, "nobody"); err != nil {
					t.Errorf("round %d: UserSessions error = %v; want nil", round, err)
				}
			})
		}
		wg.Wait()
		if n := terminate(t, app); n == 0 {
			t.Fatalf("round %d: no server process had application_name %q", round, app)
		}
		// A read that meets a dead connection is retried on a fresh
		// one: no call fails. In the last round the connections have
		// been idle long enough to be pinged before use as well.
		const wantFailed = 0
		if round == 2 {
			time.Sleep(1100 * time.Millisecond)
		}

		failed := 0
		for i := range 10 {
			// Reads the cache does not serve, each in turn first after
			// the termination: by email, throttle counts, listings.
			var err error
			switch (i + round) % 3 {
			case 0:
				var got account.User
				if got, err = db.UserByEmail(ctx, user.Email); err == nil && got != user {
					t.Errorf("round %d: UserByEmail(%q) = %+v; want %+v", round, user.Email, got, user)
				}
			case 1:
				_, err = db.Failures(ctx, "reconnect")
			case 2:
				_, err = db.ListUsers(ctx, 0, 10)
			}
			if err != nil {
				failed++
				t.Logf("round %d: call %d after termination: %v", round, i, err)
			}
		}
		if failed > wantFailed {
			t.Errorf("round %d: %d of 10 calls failed after the connections were cut; want at most %d", round, failed, wantFailed)
		}
		if _, err := throttle.New(db).Fail(ctx, "reconnect"); err != nil {
			t.Errorf("round %d: Fail error = %v; want nil", round, err)
		}
		if err := db.Ping(ctx); err != nil {
			t.Errorf("round %d: Ping() = %v; want nil", round, err)
		}
	}
}

// TestNow checks that CreateUser takes the creation time from DB.Now.
func TestNow(t *testing.T) {
	db := newTestDB(t)
	storetest.CreatedAt(t, db, func(now func() time.Time) { db.Now = now })
}

// TestNotText checks input that PostgreSQL cannot hold as text, which a
// login form may send: an email that is no user, and throttle keys counted
// like any other.
func TestNotText(t *testing.T) {
	db := newTestDB(t)
	ctx := t.Context()
	for _, s := range []string{"\xff\xfe@example.com", "a\x00b@example.com"} {
		if got, err := db.UserByEmail(ctx, s); !errors.Is(err, account.ErrUserNotFound) {
			t.Errorf("UserByEmail(%q) = %+v, %v; want %v", s, got, err, account.ErrUserNotFound)
		}
		key := throttle.Key(s, "192.0.2.1")
		l := throttle.New(db)
		for i := 1; i <= 2; i++ {
			if _, err := l.Fail(ctx, key); err != nil {
				t.Errorf("Fail(%q) error = %v; want nil", key, err)
			}
			if st, err := db.Failures(ctx, key); err != nil || st.Failures != i {
				t.Errorf("Failures(%q) = %+v, %v; want %d failures", key, st, err, i)
			}
		}
		if err := db.ResetFailures(ctx, key); err != nil {
			t.Errorf("ResetFailures(%q) = %v; want nil", key, err)
		}
		if st, err := db.Failures(ctx, key); err != nil || st.Failures != 0 {
			t.Errorf("Failures(%q) after reset = %+v, %v; want none", key, st, err)
		}
	}
}

// TestPing checks that Ping reports a database that cannot be written.
func TestPing(t *testing.T) {
	u, _ := pgtest.NewSchema(t)
	db := openDB(t, u)
	if err := db.Ping(t.Context()); err != nil {
		t.Errorf("Ping() = %v; want nil", err)
	}
	// The schema is up to date, so Open writes nothing.
	ro := openDB(t, pgtest.WithParam(t, u, "default_transaction_read_only", "on"))
	if err := ro.Ping(t.Context()); err == nil || !strings.Contains(err.Error(), "read-only") {
		t.Errorf("Ping() on a read-only connection = %v; want a read-only error", err)
	}
}

func TestCanceled(t *testing.T) {
	db := newTestDB(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := db.UserByID(ctx, 1); !errors.Is(err, context.Canceled) {
		t.Errorf("UserByID(canceled, 1) error = %v; want %v", err, context.Canceled)
	}
	if err := db.CreateSession(ctx, newSession("1")); !errors.Is(err, context.Canceled) {
		t.Errorf("CreateSession(canceled, ...) error = %v; want %v", err, context.Canceled)
	}
	if err := db.Ping(t.Context()); err != nil {
		t.Errorf("Ping() after canceled calls = %v; want nil", err)
	}
}

// BenchmarkSessionByToken measures the lookup done on every authenticated
// request, to tell whether a cache in front of PostgreSQL would pay.
func BenchmarkSessionByToken(b *testing.B) {
	db := newTestDB(b)
	ctx := b.Context()
	const n = 1000
	hashes := make([][]byte, n)
	for i := range hashes {
		s := newSession("bench-" + strconv.Itoa(i%100))
		if err := db.CreateSession(ctx, s); err != nil {
			b.Fatal(err)
		}
		hashes[i] = s.TokenHash
	}
	b.Run("Serial", func(b *testing.B) {
		i := 0
		for b.Loop() {
			if _, err := db.SessionByToken(ctx, hashes[i%n]); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("Parallel", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				if _, err := db.SessionByToken(ctx, hashes[i%n]); err != nil {
					b.Error(err)
					return
				}
				i++
			}
		})
	})
}

// TestPrunePlan checks that the prune finds expired and idle sessions
// through their indexes, never by reading the whole sessions table: with
// sequential scans priced out, a plan that still holds one has no index
// to use.
func TestPrunePlan(t *testing.T) {
	u, schema := pgtest.NewSchema(t)
	openDB(t, u)
	conn := pgtest.Connect(t)
	ctx := t.Context()
	if _, err := conn.Exec(ctx, `SET search_path = `+pgx.Identifier{schema}.Sanitize()+`; SET enable_seqscan = off`); err != nil {
		t.Fatal(err)
	}
	rows, err := conn.Query(ctx, `EXPLAIN `+pgstore.PruneQuery, time.Now(), time.Now(), "channel", "note")
	if err != nil {
		t.Fatal(err)
	}
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	plan := strings.Join(lines, "\n")
	for _, want := range []string{"latch_sessions_expires_at", "latch_sessions_idle"} {
		if !strings.Contains(plan, want) {
			t.Errorf("plan does not use %s:\n%s", want, plan)
		}
	}
	if strings.Contains(plan, "Seq Scan") {
		t.Errorf("plan reads the whole table:\n%s", plan)
	}
}
