package sqlitestore_test

import (
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/latchauth/latch/account"
	"github.com/latchauth/latch/password"
	"github.com/latchauth/latch/sqlitestore"
	"github.com/pressly/goose/v3"
)

// released holds the migrations of the release before latch's tables had
// the latch_ prefix.
//
//go:embed testdata/released/*.sql
var released embed.FS

// cheap are argon2id parameters that keep the tests fast.
var cheap = password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// dump returns the rows of query, one line each, to compare before and
// after.
func dump(t *testing.T, db *sql.DB, query string) string {
	t.Helper()
	rows, err := db.QueryContext(t.Context(), query)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var b strings.Builder
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintln(&b, vals...)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// run runs statements on db, failing the test at the first error.
func run(t *testing.T, db *sql.DB, stmts ...string) {
	t.Helper()
	for _, s := range stmts {
		if _, err := db.ExecContext(t.Context(), s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// signUpAndLogIn creates an account through the store and logs in to it,
// and returns the account.
func signUpAndLogIn(t *testing.T, db *sqlitestore.DB, email string) account.User {
	t.Helper()
	svc := account.NewService(db, password.NewHasher(cheap, 2, 8), nil)
	u, err := svc.SignUp(t.Context(), email, "New", "a long unusual passphrase")
	if err != nil {
		t.Fatalf("SignUp(%q) error = %v; want nil", email, err)
	}
	got, err := svc.Authenticate(t.Context(), account.Login{Email: email, Password: "a long unusual passphrase", Client: "192.0.2.1"})
	if err != nil || got.ID != u.ID {
		t.Fatalf("Authenticate(%q) = %d, %v; want %d, nil", email, got.ID, err, u.ID)
	}
	s := newSession(fmt.Sprint(u.ID))
	if err := db.CreateSession(t.Context(), s); err != nil {
		t.Fatalf("CreateSession error = %v; want nil", err)
	}
	if got, err := db.SessionByToken(t.Context(), s.TokenHash); err != nil || got.ID != s.ID {
		t.Fatalf("SessionByToken = %q, %v; want %q", got.ID, err, s.ID)
	}
	return u
}

// TestAppTables checks that latch opens a file that already holds an
// application's own users table, with its indexes, and goose's default
// version table at the application's version 5, works there, and leaves
// the application's rows alone.
func TestAppTables(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.db")
	raw := rawDB(t, path)
	run(t, raw,
		`CREATE TABLE users (id INTEGER PRIMARY KEY, login TEXT NOT NULL, shoe_size INTEGER)`,
		`CREATE UNIQUE INDEX users_email ON users (login)`,
		`CREATE TABLE sessions (sid TEXT PRIMARY KEY, data BLOB)`,
		`INSERT INTO users (login, shoe_size) VALUES ('ada', 38), ('bob', 44)`,
		`INSERT INTO sessions VALUES ('s', x'00')`,
		`CREATE TABLE goose_db_version (id INTEGER PRIMARY KEY AUTOINCREMENT, version_id INTEGER NOT NULL, is_applied INTEGER NOT NULL, tstamp TIMESTAMP DEFAULT (datetime('now')))`,
		`INSERT INTO goose_db_version (version_id, is_applied) VALUES (0, 1), (1, 1), (2, 1), (3, 1), (4, 1), (5, 1)`,
	)
	const (
		users    = `SELECT * FROM users ORDER BY id`
		sessions = `SELECT * FROM sessions ORDER BY sid`
		versions = `SELECT * FROM goose_db_version ORDER BY id`
	)
	before := dump(t, raw, users) + dump(t, raw, sessions) + dump(t, raw, versions)

	for i, email := range []string{"ada@example.com", "bob@example.com"} {
		db, err := sqlitestore.Open(t.Context(), path)
		if err != nil {
			t.Fatalf("Open #%d of a file with the application's tables = %v; want nil", i+1, err)
		}
		signUpAndLogIn(t, db, email)
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if after := dump(t, raw, users) + dump(t, raw, sessions) + dump(t, raw, versions); after != before {
		t.Errorf("the application's rows after latch opened the file:\n%s\nwant them untouched:\n%s", after, before)
	}
}

// newReleasedDB makes a database as the release before the latch_ prefix
// made it, with two users, two sessions and a failure count, and returns
// its path.
func newReleasedDB(t *testing.T, hash string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "latch.db")
	raw := rawDB(t, path)
	fsys, err := fs.Sub(released, "testdata/released")
	if err != nil {
		t.Fatal(err)
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, raw, fsys, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Up(t.Context()); err != nil {
		t.Fatalf("released migrations: %v", err)
	}
	future := fmt.Sprint(time.Now().Add(time.Hour).UnixMicro())
	run(t, raw,
		`INSERT INTO users (email, name, password_hash, created_at) VALUES ('ann@example.com', 'Ann', '`+hash+`', 0), ('gone@example.com', 'Gone', 'x', 0)`,
		`DELETE FROM users WHERE email = 'gone@example.com'`,
		`INSERT INTO sessions VALUES ('s1', '1', x'01', x'02', 1, 1, 0, 0, `+future+`, '192.0.2.1', 'agent', x'03', 5)`,
		`INSERT INTO sessions VALUES ('s2', '1', x'04', NULL, 0, 0, 0, 0, `+future+`, '192.0.2.1', 'agent', NULL, NULL)`,
		`INSERT INTO login_failures VALUES ('ann@example.com|192.0.2.1', 3, `+fmt.Sprint(time.Now().UnixMicro())+`)`,
	)
	return path
}

// schema returns the names of the tables and indexes of the file at path.
func schema(t *testing.T, path string) []string {
	t.Helper()
	var names []string
	for line := range strings.Lines(dump(t, rawDB(t, path), `SELECT type, name, tbl_name FROM sqlite_schema WHERE name <> 'sqlite_sequence' ORDER BY name`)) {
		names = append(names, strings.TrimSpace(line))
	}
	return names
}

// TestReleasedDB checks that a database made before latch's tables had the
// latch_ prefix is brought over in place: its data is all there under the
// new names, logins still work, and its schema is a new database's.
func TestReleasedDB(t *testing.T) {
	ctx := t.Context()
	hasher := password.NewHasher(cheap, 2, 8)
	hash, err := hasher.Hash(ctx, "ann's old passphrase")
	if err != nil {
		t.Fatal(err)
	}
	path := newReleasedDB(t, hash)

	db := openDB(t, path)
	if u, err := db.UserByEmail(ctx, "ann@example.com"); err != nil || u.ID != 1 || u.Name != "Ann" {
		t.Errorf("UserByEmail(ann) = %+v, %v; want Ann, ID 1", u, err)
	}
	for _, tt := range []struct {
		by   string
		find func() (string, error)
		want string
	}{
		{"token", func() (string, error) { s, err := db.SessionByToken(ctx, []byte{1}); return s.ID, err }, "s1"},
		{"remember token", func() (string, error) { s, err := db.SessionByRemember(ctx, []byte{2}); return s.ID, err }, "s1"},
		{"previous remember token", func() (string, error) { s, err := db.SessionByRemember(ctx, []byte{3}); return s.ID, err }, "s1"},
		{"token without remember-me", func() (string, error) { s, err := db.SessionByToken(ctx, []byte{4}); return s.ID, err }, "s2"},
	} {
		if got, err := tt.find(); err != nil || got != tt.want {
			t.Errorf("session by %s = %q, %v; want %q", tt.by, got, err, tt.want)
		}
	}
	if st, err := db.Failures(ctx, "ann@example.com|192.0.2.1"); err != nil || st.Failures != 3 {
		t.Errorf("Failures = %+v, %v; want 3", st, err)
	}
	svc := account.NewService(db, hasher, nil)
	if u, err := svc.Authenticate(ctx, account.Login{Email: "ann@example.com", Password: "ann's old passphrase"}); err != nil || u.ID != 1 {
		t.Errorf("Authenticate(ann) = %d, %v; want 1, nil", u.ID, err)
	}
	// An ID is never reused: the deleted user's 2 stays taken.
	if u := signUpAndLogIn(t, db, "new@example.com"); u.ID != 3 {
		t.Errorf("new user's ID = %d; want 3, after the released database's 1 and 2", u.ID)
	}
	// The remember-me hashes stay unique.
	dup := newSession("1")
	dup.RememberHash = []byte{2}
	if err := db.CreateSession(ctx, dup); err == nil {
		t.Errorf("CreateSession with s1's remember hash = nil error; want a refusal")
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	// The data is under the new names, and the old names are free.
	raw := rawDB(t, path)
	for table, want := range map[string]int{"latch_users": 2, "latch_sessions": 3, "latch_login_failures": 1} {
		var n int
		if err := raw.QueryRowContext(ctx, `SELECT count(*) FROM `+table).Scan(&n); err != nil || n != want {
			t.Errorf("rows in %s = %d, %v; want %d", table, n, err, want)
		}
	}
	var left string
	if err := raw.QueryRowContext(ctx, `SELECT coalesce(group_concat(name), '') FROM sqlite_schema WHERE name IN ('users', 'sessions', 'login_failures', 'goose_db_version')`).Scan(&left); err != nil || left != "" {
		t.Errorf("tables left under the old names: %q, %v; want none", left, err)
	}

	fresh := filepath.Join(t.TempDir(), "fresh.db")
	if err := openDB(t, fresh).Close(); err != nil {
		t.Fatal(err)
	}
	if got, want := schema(t, path), schema(t, fresh); !slices.Equal(got, want) {
		t.Errorf("schema of the released database brought over:\n%s\nwant a new database's:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// Opening again finds nothing more to do.
	openDB(t, path)
}

// TestSharedVersionTable checks that a released database whose
// goose_db_version also holds an application's versions is refused with
// an error saying so, and left as it was; once latch's rows are moved as
// the error says, Open renames latch's tables and leaves goose_db_version,
// with the application's rows, alone.
func TestSharedVersionTable(t *testing.T) {
	path := newReleasedDB(t, "x")
	raw := rawDB(t, path)
	run(t, raw, `INSERT INTO goose_db_version (version_id, is_applied) VALUES (5, 1)`)
	before := schema(t, path)
	db, err := sqlitestore.Open(t.Context(), path)
	if err == nil {
		db.Close()
		t.Fatalf("Open of a database whose goose_db_version also holds version 5 = nil error; want a refusal")
	}
	if !strings.Contains(err.Error(), "goose_db_version") || !strings.Contains(err.Error(), "(5)") {
		t.Errorf("Open of a shared goose_db_version = %v; want an error naming it and version 5", err)
	}
	if after := schema(t, path); !slices.Equal(after, before) {
		t.Errorf("schema after the refusal:\n%s\nwant it untouched:\n%s", strings.Join(after, "\n"), strings.Join(before, "\n"))
	}

	run(t, raw,
		`CREATE TABLE latch_goose_db_version (id INTEGER PRIMARY KEY AUTOINCREMENT, version_id INTEGER NOT NULL, is_applied INTEGER NOT NULL, tstamp TIMESTAMP DEFAULT (datetime('now')))`,
		`INSERT INTO latch_goose_db_version (version_id, is_applied, tstamp) SELECT version_id, is_applied, tstamp FROM goose_db_version WHERE version_id <> 5 ORDER BY id`,
		`DELETE FROM goose_db_version WHERE version_id <> 5`,
	)
	db = openDB(t, path)
	if u, err := db.UserByEmail(t.Context(), "ann@example.com"); err != nil || u.ID != 1 {
		t.Errorf("UserByEmail(ann) after latch's rows were moved = %+v, %v; want ID 1", u, err)
	}
	if got := dump(t, raw, `SELECT version_id FROM goose_db_version`); got != "5\n" {
		t.Errorf("goose_db_version after Open = %q; want the application's version 5 alone", got)
	}
}
