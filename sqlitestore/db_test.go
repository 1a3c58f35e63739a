package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/latchauth/latch"
	"github.com/latchauth/latch/account"
	"github.com/latchauth/latch/throttle"
	"github.com/pressly/goose/v3"
)

// TestPragmas checks that the settings given in the DSNs reach every
// connection of both pools.
func TestPragmas(t *testing.T) {
	db, err := Open(t.Context(), filepath.Join(t.TempDir(), "latch.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })

	tests := []struct {
		pool   string
		db     *sql.DB
		pragma string
		want   string
	}{
		{"writer", db.write, "journal_mode", "wal"},
		{"writer", db.write, "synchronous", "2"}, // FULL
		{"writer", db.write, "busy_timeout", "10000"},
		{"writer", db.write, "foreign_keys", "1"},
		{"writer", db.write, "query_only", "0"},
		{"reader", db.read, "journal_mode", "wal"},
		{"reader", db.read, "busy_timeout", "10000"},
		{"reader", db.read, "foreign_keys", "1"},
		{"reader", db.read, "query_only", "1"},
	}
	for _, tt := range tests {
		var got string
		if err := tt.db.QueryRowContext(t.Context(), "PRAGMA "+tt.pragma).Scan(&got); err != nil {
			t.Errorf("%s: PRAGMA %s: %v", tt.pool, tt.pragma, err)
		} else if got != tt.want {
			t.Errorf("%s: PRAGMA %s = %s; want %s", tt.pool, tt.pragma, got, tt.want)
		}
	}

	if _, err := db.read.ExecContext(t.Context(), `DELETE FROM latch_users`); err == nil {
		t.Errorf("reader: DELETE FROM latch_users = nil error; want a query_only error")
	}
	if got := db.write.Stats().MaxOpenConnections; got != 1 {
		t.Errorf("writer: MaxOpenConnections = %d; want 1", got)
	}
}

// TestRelaxedWrites checks that the writes made without waiting for the
// disk run with synchronous=NORMAL and leave the writer connection at FULL
// afterwards, whether they succeed or fail, so that the next write, a
// sign-up say, waits for the disk again.
func TestRelaxedWrites(t *testing.T) {
	db, err := Open(t.Context(), filepath.Join(t.TempDir(), "latch.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ctx := t.Context()
	synchronous := func(q interface {
		QueryRowContext(context.Context, string, ...any) *sql.Row
	}) string {
		t.Helper()
		var got string
		if err := q.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&got); err != nil {
			t.Fatal(err)
		}
		return got
	}

	if err := db.relaxed(ctx, func(_ context.Context, conn *sql.Conn) error {
		if got := synchronous(conn); got != "1" {
			t.Errorf("inside relaxed: synchronous = %s; want 1 (NORMAL)", got)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	u, err := db.CreateUser(ctx, account.User{Email: "ann@example.com", Name: "Ann", PasswordHash: "hash"})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	s := latch.Session{ID: "s1", UserID: "1", TokenHash: []byte("token-hash-1"), CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour)}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	steps := []struct {
		name    string
		write   func() error
		wantErr bool
	}{
		{"CreateSession", func() error { return db.CreateSession(ctx, s) }, false},
		{"CreateSession of a duplicate", func() error { return db.CreateSession(ctx, s) }, true},
		{"TouchSession", func() error { return db.TouchSession(ctx, s.ID, now.Add(time.Minute)) }, false},
		{"RecordLogin", func() error { return db.RecordLogin(ctx, u.ID, now, "") }, false},
		{"AddFailure", func() error { _, err := db.AddFailure(ctx, "k", now, time.Hour); return err }, false},
		{"SwapFailures", func() error {
			_, err := db.SwapFailures(ctx, "k2", throttle.State{}, throttle.State{Failures: 1, LastFailure: now.UTC().Truncate(time.Microsecond)}, time.Hour)
			return err
		}, false},
		{"ResetFailures", func() error { return db.ResetFailures(ctx, "k") }, false},
		{"a write whose context is done", func() error { return db.ResetFailures(cancelled, "k2") }, true},
	}
	for _, st := range steps {
		if err := st.write(); (err != nil) != st.wantErr {
			t.Errorf("%s: error = %v; want error: %v", st.name, err, st.wantErr)
		}
		if got := synchronous(db.write); got != "2" {
			t.Errorf("after %s: writer synchronous = %s; want 2 (FULL)", st.name, got)
		}
	}
}

// TestQueryPlans checks that the lookups made per request and per login,
// and the prune's, search an index rather than scan a table.
func TestQueryPlans(t *testing.T) {
	db := openTestDB(t)
	for _, q := range []string{
		`SELECT ` + sessionColumns + ` FROM latch_sessions WHERE token_hash = ?`,
		`SELECT ` + sessionColumns + ` FROM latch_sessions WHERE remember_hash = ?1 OR prev_remember_hash = ?1`,
		`SELECT ` + sessionColumns + ` FROM latch_sessions WHERE user_id = ? ORDER BY created_at DESC, id DESC`,
		`SELECT ` + userColumns + ` FROM latch_users WHERE email = ?`,
		`SELECT failures, last_failure FROM latch_login_failures WHERE key = ?`,
		`DELETE FROM latch_login_failures WHERE key = ?`,
		`SELECT revoked_at FROM latch_device_revocations WHERE user_id = ?`,
		`UPDATE latch_sessions SET last_seen_at = ? WHERE id = ?`,
		pruneQueries[0],
		pruneQueries[1],
	} {
		args := []any{[]byte("x"), "y"}
		if q == pruneQueries[0] || q == pruneQueries[1] {
			args = []any{0, 1, 2}
		}
		rows, err := db.read.QueryContext(t.Context(), `EXPLAIN QUERY PLAN `+q, args...)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		all := strings.Join(plan, "; ")
		if !strings.Contains(all, "SEARCH") || strings.Contains(all, "SCAN latch_") {
			t.Errorf("%s\nplan: %s\nwant a SEARCH of an index and no SCAN", q, all)
		}
	}
}

// TestMigrationKeepsData fills a database at the schema before migration 3,
// which builds the sessions and login_failures tables again, then opens it
// with the store and finds every row. Going down to version 2 and up again
// keeps them too.
func TestMigrationKeepsData(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "latch.db")
	pool, err := openPool(path, url.Values{"_pragma": {"journal_mode(WAL)"}})
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	p := migrationProvider(t, pool)
	if _, err := p.UpTo(ctx, 2); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	expires := fmt.Sprint(micros(now.Add(time.Hour)))
	for _, q := range []string{
		`INSERT INTO latch_users (id, email, name, password_hash, created_at) VALUES (1, 'ann@example.com', 'Ann', 'hash', 0)`,
		`INSERT INTO latch_sessions VALUES ('s1', '1', x'01', x'02', 1, 1, 0, 0, ` + expires + `, '192.0.2.1', 'agent', x'03', 5)`,
		`INSERT INTO latch_sessions VALUES ('s2', '1', x'04', NULL, 0, 0, 0, 0, ` + expires + `, '192.0.2.1', 'agent', NULL, NULL)`,
		`INSERT INTO latch_login_failures VALUES ('ann@example.com|192.0.2.1', 3, ` + fmt.Sprint(micros(now)) + `)`,
	} {
		if _, err := pool.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}

	check := func(stage string) {
		t.Helper()
		db, err := Open(ctx, path)
		if err != nil {
			t.Fatalf("%s: Open: %v", stage, err)
		}
		defer db.Close()
		for _, tt := range []struct {
			by   string
			find func() (latch.Session, error)
			want string
		}{
			{"token", func() (latch.Session, error) { return db.SessionByToken(ctx, []byte{1}) }, "s1"},
			{"remember token", func() (latch.Session, error) { return db.SessionByRemember(ctx, []byte{2}) }, "s1"},
			{"previous remember token", func() (latch.Session, error) { return db.SessionByRemember(ctx, []byte{3}) }, "s1"},
			{"token of a session without remember-me", func() (latch.Session, error) { return db.SessionByToken(ctx, []byte{4}) }, "s2"},
		} {
			if s, err := tt.find(); err != nil || s.ID != tt.want {
				t.Errorf("%s: session by %s = %q, %v; want %q", stage, tt.by, s.ID, err, tt.want)
			}
		}
		if list, err := db.UserSessions(ctx, "1"); err != nil || len(list) != 2 {
			t.Errorf("%s: UserSessions = %d sessions, %v; want 2", stage, len(list), err)
		}
		if st, err := db.Failures(ctx, "ann@example.com|192.0.2.1"); err != nil || st.Failures != 3 || !st.LastFailure.Equal(now) {
			t.Errorf("%s: Failures = %+v, %v; want 3 at %s", stage, st, err, now)
		}
	}
	check("after migration 3")

	if _, err := p.DownTo(ctx, 2); err != nil {
		t.Fatalf("down to version 2: %v", err)
	}
	var remember string
	if err := pool.QueryRowContext(ctx, `SELECT hex(remember_hash) FROM latch_sessions WHERE id = 's1'`).Scan(&remember); err != nil || remember != "02" {
		t.Errorf("after going down: remember hash of s1 = %q, %v; want 02", remember, err)
	}
	check("down to 2 and up again")
}

// TestSessionIndexes checks the shape migration 3 gives the tables: the
// remember-me hashes indexed only where present, and login_failures a
// single B-tree.
func TestSessionIndexes(t *testing.T) {
	db := openTestDB(t)
	var sqls []string
	rows, err := db.read.QueryContext(t.Context(), `SELECT name, coalesce(sql, '') FROM sqlite_schema WHERE tbl_name IN ('latch_sessions', 'latch_login_failures') ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var name, sql string
		if err := rows.Scan(&name, &sql); err != nil {
			t.Fatal(err)
		}
		sqls = append(sqls, name+": "+sql)
	}
	all := strings.Join(sqls, "\n")
	for _, want := range []string{
		"latch_sessions_remember_hash: CREATE UNIQUE INDEX latch_sessions_remember_hash ON latch_sessions (remember_hash) WHERE remember_hash IS NOT NULL",
		"latch_sessions_prev_remember_hash: CREATE UNIQUE INDEX latch_sessions_prev_remember_hash ON latch_sessions (prev_remember_hash) WHERE prev_remember_hash IS NOT NULL",
		"WITHOUT ROWID",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("schema lacks %q; it is:\n%s", want, all)
		}
	}
	// Two B-trees for login_failures would show its key's own index.
	if strings.Contains(all, "sqlite_autoindex_latch_login_failures") {
		t.Errorf("login_failures has an index of its own beside the table:\n%s", all)
	}
}

// migrationProvider returns goose's provider of the package's migrations
// on pool.
func migrationProvider(t *testing.T, pool *sql.DB) *goose.Provider {
	t.Helper()
	fsys, err := fs.Sub(migrations, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, pool, fsys, goose.WithTableName(versionTable), goose.WithDisableGlobalRegistry(true))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestLegacyHashSamplesPlan checks that sampling the hash formats in use
// reads the index of legacy hashes alone, never the whole users table.
func TestLegacyHashSamplesPlan(t *testing.T) {
	db := openTestDB(t)
	rows, err := db.read.QueryContext(t.Context(), `EXPLAIN QUERY PLAN `+legacyHashSamples)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if all := strings.Join(plan, "; "); !strings.Contains(all, "USING INDEX latch_users_legacy_hash") {
		t.Errorf("plan: %s\nwant a scan of the index latch_users_legacy_hash", all)
	}
}

// TestPruneBatches fills more expired and more idle sessions than a prune
// batch holds, among live ones, and checks that DeleteExpiredSessions
// deletes exactly the expired and idle sessions, batch after batch, and
// reports their number.
func TestPruneBatches(t *testing.T) {
	db := openTestDB(t)
	db.pruneRest = func(time.Duration) time.Duration { return 0 }
	ctx := t.Context()
	now := time.Now()
	idleBefore := now.Add(-2 * time.Hour)
	want, live := seedPrunable(t, db, now)
	if got, err := db.DeleteExpiredSessions(ctx, now, idleBefore); err != nil || got != want {
		t.Errorf("DeleteExpiredSessions = %d, %v; want %d, nil", got, err, want)
	}
	var left int
	if err := db.read.QueryRowContext(ctx, `SELECT count(*) FROM latch_sessions WHERE expires_at > ? AND (remember = 1 OR last_seen_at >= ?)`, micros(now), micros(idleBefore)).Scan(&left); err != nil {
		t.Fatal(err)
	}
	var all int
	if err := db.read.QueryRowContext(ctx, `SELECT count(*) FROM latch_sessions`).Scan(&all); err != nil {
		t.Fatal(err)
	}
	if left != live || all != live {
		t.Errorf("after pruning: %d sessions, %d of them live; want %d, all live", all, left, live)
	}
}

// TestPruneRests checks that a prune rests between batches, leaving the
// writer to others, and that the end of its context stops it there.
func TestPruneRests(t *testing.T) {
	db := openTestDB(t)
	now := time.Now()
	want, live := seedPrunable(t, db, now)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	rests := 0
	db.pruneRest = func(d time.Duration) time.Duration {
		rests++
		// Another write goes in while the prune rests.
		if err := db.TouchSession(t.Context(), "s0", now); err != nil {
			t.Errorf("TouchSession while the prune rests: %v", err)
		}
		cancel()
		return time.Hour
	}
	got, err := db.DeleteExpiredSessions(ctx, now, now.Add(-2*time.Hour))
	if !errors.Is(err, context.Canceled) || got <= 0 || got >= want || rests != 1 {
		t.Fatalf("DeleteExpiredSessions with its context ended in the first rest = %d, %v after %d rests; want a first batch of fewer than %d, context.Canceled, 1 rest", got, err, rests, want)
	}
	var all int
	if err := db.read.QueryRowContext(t.Context(), `SELECT count(*) FROM latch_sessions`).Scan(&all); err != nil {
		t.Fatal(err)
	}
	if all != live+want-got {
		t.Errorf("after a stopped prune: %d sessions; want %d", all, live+want-got)
	}
}

func TestNextPruneLimit(t *testing.T) {
	for _, tc := range []struct {
		limit int
		took  time.Duration
		want  int
	}{
		{100, pruneSlice / 4, 200},         // fast: at most twice as many
		{100, pruneSlice, 100},             // on pace
		{100, pruneSlice * 5 / 4, 80},      // a little slow
		{100, 10 * pruneSlice, 50},         // slow: at most half as many
		{20, 10 * pruneSlice, 16},          // never fewer than 16
		{pruneBatch, 0, pruneBatch},        // never more than pruneBatch
		{pruneBatch / 2, 0, pruneBatch},    // a batch too quick to time
		{pruneBatch / 2, pruneSlice, 2500}, // on pace
	} {
		if got := nextPruneLimit(tc.limit, tc.took); got != tc.want {
			t.Errorf("nextPruneLimit(%d, %s) = %d; want %d", tc.limit, tc.took, got, tc.want)
		}
	}
}

// seedPrunable adds several batches' worth of sessions to db, of which it
// returns how many a prune at now deletes and how many it leaves.
func seedPrunable(t *testing.T, db *DB, now time.Time) (want, live int) {
	t.Helper()
	ctx := t.Context()
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	const n = 4*pruneBatch + 17
	for i := range n {
		expires, lastSeen, remember := now.Add(time.Hour), now, i%5 == 0
		switch i % 3 {
		case 1:
			expires = now.Add(-time.Minute)
		case 2:
			lastSeen = now.Add(-3 * time.Hour) // idle: pruned unless remembered
		}
		if i%3 == 1 || (i%3 == 2 && !remember) {
			want++
		} else {
			live++
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO latch_sessions (rowid, id, user_id, token_hash, remember, fresh, created_at, last_seen_at, expires_at, ip, user_agent)
			VALUES (?, ?, 'u', ?, ?, 1, ?, ?, ?, '', '')`,
			int64(i)*2+1, fmt.Sprint("s", i), []byte(fmt.Sprint("t", i)), remember, micros(now), micros(lastSeen), micros(expires))
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	return want, live
}
