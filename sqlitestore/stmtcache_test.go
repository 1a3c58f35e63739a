package sqlitestore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"path/filepath"
	"testing"
)

// cachingConnOf returns the statement cache of conn's connection.
func cachingConnOf(t *testing.T, conn *sql.Conn) *cachingConn {
	t.Helper()
	var c *cachingConn
	if err := conn.Raw(func(dc any) error {
		var ok bool
		c, ok = dc.(*cachingConn)
		if !ok {
			return fmt.Errorf("connection is a %T, not a *cachingConn", dc)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return c
}

// writerConn returns db's writer connection, held until the test ends.
func writerConn(t *testing.T, db *DB) *sql.Conn {
	t.Helper()
	conn, err := db.write.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func openTestDB(t *testing.T) *DB {
	t.Helper()
	db, err := Open(t.Context(), filepath.Join(t.TempDir(), "latch.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestStatementCacheReusesStatements(t *testing.T) {
	db := openTestDB(t)
	conn := writerConn(t, db)
	c := cachingConnOf(t, conn)
	ctx := t.Context()

	before := c.prepared
	for i := range 3 {
		if _, err := conn.ExecContext(ctx, `INSERT INTO latch_login_failures (key, failures, last_failure) VALUES (?, 1, 0)`, fmt.Sprint("k", i)); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM latch_login_failures`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != i+1 {
			t.Errorf("after insert %d: count = %d; want %d", i+1, n, i+1)
		}
	}
	if got := c.prepared - before; got != 2 {
		t.Errorf("statements compiled for 2 queries run 3 times each = %d; want 2", got)
	}
}

// TestRelaxedEveryTime checks that relaxed writes switch the writer to
// synchronous=NORMAL and back each time, through the statement cache.
func TestRelaxedEveryTime(t *testing.T) {
	db := openTestDB(t)
	ctx := t.Context()
	// Read through the driver's own connection, past the cache.
	synchronous := func(conn *sql.Conn) string {
		t.Helper()
		c := cachingConnOf(t, conn)
		rows, err := c.inner.QueryContext(ctx, `PRAGMA synchronous`, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		v := make([]driver.Value, 1)
		if err := rows.Next(v); err != nil {
			t.Fatal(err)
		}
		return fmt.Sprint(v[0])
	}
	for i := range 3 {
		if err := db.relaxed(ctx, func(_ context.Context, conn *sql.Conn) error {
			if got := synchronous(conn); got != "1" {
				t.Errorf("relaxed write %d: synchronous = %s; want 1 (NORMAL)", i+1, got)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		conn, err := db.write.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got := synchronous(conn); got != "2" {
			t.Errorf("after relaxed write %d: synchronous = %s; want 2 (FULL)", i+1, got)
		}
		conn.Close()
	}
}

// TestStatementCacheNested runs a query while the rows of the same query are
// still being read, in one transaction.
func TestStatementCacheNested(t *testing.T) {
	db := openTestDB(t)
	ctx := t.Context()
	for _, k := range []string{"a", "b"} {
		if _, err := db.write.ExecContext(ctx, `INSERT INTO latch_login_failures (key, failures, last_failure) VALUES (?, 1, 0)`, k); err != nil {
			t.Fatal(err)
		}
	}
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	const q = `SELECT key FROM latch_login_failures ORDER BY key`
	keys := func(rows *sql.Rows) (got string) {
		t.Helper()
		for rows.Next() {
			var k string
			if err := rows.Scan(&k); err != nil {
				t.Fatal(err)
			}
			got += k
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return got
	}
	outer, err := tx.QueryContext(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	if !outer.Next() {
		t.Fatal("outer query: no rows")
	}
	inner, err := tx.QueryContext(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	if got := keys(inner); got != "ab" {
		t.Errorf("inner query = %q; want %q", got, "ab")
	}
	var first string
	if err := outer.Scan(&first); err != nil {
		t.Fatal(err)
	}
	if got := first + keys(outer); got != "ab" {
		t.Errorf("outer query = %q; want %q", got, "ab")
	}
	// Closed, the statement is the cache's again.
	again, err := tx.QueryContext(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	if got := keys(again); got != "ab" {
		t.Errorf("query again = %q; want %q", got, "ab")
	}
}

// TestStatementCacheBounded runs more distinct queries than the cache keeps.
func TestStatementCacheBounded(t *testing.T) {
	db := openTestDB(t)
	conn := writerConn(t, db)
	c := cachingConnOf(t, conn)
	for i := range 3 * maxCachedStmts {
		var got int
		if err := conn.QueryRowContext(t.Context(), fmt.Sprintf(`SELECT %d`, i)).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != i {
			t.Fatalf("SELECT %d = %d", i, got)
		}
		if n := len(c.stmts); n > maxCachedStmts {
			t.Fatalf("after %d queries: %d statements cached; want at most %d", i+1, n, maxCachedStmts)
		}
	}
}

// TestStatementCacheSchemaChange checks that a cached statement follows a
// change of the table it reads.
func TestStatementCacheSchemaChange(t *testing.T) {
	db := openTestDB(t)
	conn := writerConn(t, db)
	ctx := t.Context()
	columns := func() int {
		t.Helper()
		rows, err := conn.QueryContext(ctx, `SELECT * FROM latch_login_failures`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		cols, err := rows.Columns()
		if err != nil {
			t.Fatal(err)
		}
		return len(cols)
	}
	if got := columns(); got != 3 {
		t.Fatalf("columns = %d; want 3", got)
	}
	if _, err := conn.ExecContext(ctx, `ALTER TABLE latch_login_failures ADD COLUMN note TEXT`); err != nil {
		t.Fatal(err)
	}
	if got := columns(); got != 4 {
		t.Errorf("columns after ALTER TABLE = %d; want 4", got)
	}
}

func TestCacheable(t *testing.T) {
	for q, want := range map[string]bool{
		"SELECT 1": true,
		"\n\t\tSELECT\n\t\t\tid FROM latch_users":       true,
		"insert into users VALUES (1)":                  true,
		"UPDATE latch_users SET name = ?":               true,
		"DELETE FROM latch_sessions":                    true,
		"WITH x AS (SELECT 1) SELECT * FROM x":          true,
		"PRAGMA synchronous = NORMAL":                   false,
		"pragma data_version":                           false,
		"BEGIN IMMEDIATE":                               false,
		"CREATE TABLE t (a)":                            false,
		"-- a comment\nSELECT 1":                        false,
		"":                                              false,
		"SELECT":                                        true,
		"ALTER TABLE latch_login_failures ADD COLUMN x": false,
	} {
		if got := cacheable(q); got != want {
			t.Errorf("cacheable(%q) = %v; want %v", q, got, want)
		}
	}
}
