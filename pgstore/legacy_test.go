package pgstore_test

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/latchauth/latch/account"
	"github.com/latchauth/latch/internal/pgtest"
	"github.com/latchauth/latch/password"
	"github.com/latchauth/latch/pgstore"
	"github.com/pressly/goose/v3"
)

// released holds the migrations of the release before latch's tables had
// the latch_ prefix.
//
//go:embed testdata/released/*.sql
var released embed.FS

// cheap are argon2id parameters that keep the tests fast.
var cheap = password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// exec runs statements in schema, failing the test at the first error.
func exec(t *testing.T, conn *pgx.Conn, schema string, stmts ...string) {
	t.Helper()
	if _, err := conn.Exec(t.Context(), `SET search_path TO `+pgx.Identifier{schema}.Sanitize()); err != nil {
		t.Fatal(err)
	}
	for _, s := range stmts {
		if _, err := conn.Exec(t.Context(), s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// dump returns the rows of query in schema, one line each, to compare
// before and after.
func dump(t *testing.T, conn *pgx.Conn, schema, query string) string {
	t.Helper()
	exec(t, conn, schema)
	rows, err := conn.Query(t.Context(), query)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintln(&b, vals...)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// signUpAndLogIn creates an account through the store and logs in to it,
// and returns the account.
func signUpAndLogIn(t *testing.T, db *pgstore.DB, email string) account.User {
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

// TestAppTables checks that latch opens a schema that already holds an
// application's own users and sessions tables, with their indexes, and
// goose's default version table at the application's version 5, works
// there, and leaves the application's rows alone.
func TestAppTables(t *testing.T) {
	u, schema := pgtest.NewSchema(t)
	conn := pgtest.Connect(t)
	exec(t, conn, schema,
		`CREATE TABLE users (id serial PRIMARY KEY, login text NOT NULL, shoe_size integer)`,
		`CREATE UNIQUE INDEX users_email ON users (login)`,
		`CREATE TABLE sessions (sid text PRIMARY KEY, data bytea)`,
		`INSERT INTO users (login, shoe_size) VALUES ('ada', 38), ('bob', 44)`,
		`INSERT INTO sessions VALUES ('s', '\x00')`,
		`CREATE TABLE goose_db_version (id serial PRIMARY KEY, version_id bigint NOT NULL, is_applied boolean NOT NULL, tstamp timestamp DEFAULT now())`,
		`INSERT INTO goose_db_version (version_id, is_applied) VALUES (0, true), (1, true), (2, true), (3, true), (4, true), (5, true)`,
	)
	const (
		users    = `SELECT * FROM users ORDER BY id`
		sessions = `SELECT * FROM sessions ORDER BY sid`
		versions = `SELECT * FROM goose_db_version ORDER BY id`
	)
	before := dump(t, conn, schema, users) + dump(t, conn, schema, sessions) + dump(t, conn, schema, versions)
	for i, email := range []string{"ada@example.com", "bob@example.com"} {
		db, err := pgstore.Open(t.Context(), u)
		if err != nil {
			t.Fatalf("Open #%d of a schema with the application's tables = %v; want nil", i+1, err)
		}
		signUpAndLogIn(t, db, email)
		db.Close()
	}
	if after := dump(t, conn, schema, users) + dump(t, conn, schema, sessions) + dump(t, conn, schema, versions); after != before {
		t.Errorf("the application's rows after latch opened the schema:\n%s\nwant them untouched:\n%s", after, before)
	}
}

// newReleasedSchema makes a schema as the release before the latch_ prefix
// made it, with two users (one deleted), two sessions and a failure count,
// and returns its URL and name.
func newReleasedSchema(t *testing.T, hash string) (string, string) {
	t.Helper()
	u, schema := pgtest.NewSchema(t)
	cfg, err := pgx.ParseConfig(u)
	if err != nil {
		t.Fatal(err)
	}
	sqlDB := stdlib.OpenDB(*cfg)
	defer sqlDB.Close()
	fsys, err := fs.Sub(released, "testdata/released")
	if err != nil {
		t.Fatal(err)
	}
	p, err := goose.NewProvider(goose.DialectPostgres, sqlDB, fsys, goose.WithTableName("latch_goose_db_version"), goose.WithDisableGlobalRegistry(true))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Up(t.Context()); err != nil {
		t.Fatalf("released migrations: %v", err)
	}
	future := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	exec(t, pgtest.Connect(t), schema,
		`INSERT INTO users (email, name, password_hash, created_at) VALUES ('ann@example.com', 'Ann', '`+hash+`', now()), ('gone@example.com', 'Gone', 'x', now())`,
		`DELETE FROM users WHERE email = 'gone@example.com'`,
		`INSERT INTO sessions VALUES ('s1', '1', '\x01', '\x02', true, true, now(), now(), '`+future+`', '192.0.2.1', 'agent', '\x03', now())`,
		`INSERT INTO sessions VALUES ('s2', '1', '\x04', NULL, false, false, now(), now(), '`+future+`', '192.0.2.1', 'agent', NULL, NULL)`,
		`INSERT INTO login_failures VALUES ('ann@example.com|192.0.2.1', 3, now())`,
	)
	return u, schema
}

// relations returns the kinds and names of the tables, indexes and
// sequences in schema, and the constraints' names.
func relations(t *testing.T, conn *pgx.Conn, schema string) []string {
	t.Helper()
	out := dump(t, conn, schema, `
		SELECT c.relkind::text, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = current_schema() AND c.relname NOT LIKE 'pg\_%'
		UNION ALL
		SELECT 'constraint', x.conname FROM pg_constraint x JOIN pg_namespace n ON n.oid = x.connamespace
		WHERE n.nspname = current_schema()
		ORDER BY 1, 2`)
	return strings.Split(strings.TrimSpace(out), "\n")
}

// TestReleasedSchema checks that a schema made before latch's tables had
// the latch_ prefix is brought over in place: its data is all there under
// the new names, logins still work, and its tables, indexes, constraints
// and sequence are named as in a new schema.
func TestReleasedSchema(t *testing.T) {
	ctx := t.Context()
	hasher := password.NewHasher(cheap, 2, 8)
	hash, err := hasher.Hash(ctx, "ann's old passphrase")
	if err != nil {
		t.Fatal(err)
	}
	u, schema := newReleasedSchema(t, hash)

	db := openDB(t, u)
	if got, err := db.UserByEmail(ctx, "ann@example.com"); err != nil || got.ID != 1 || got.Name != "Ann" {
		t.Errorf("UserByEmail(ann) = %+v, %v; want Ann, ID 1", got, err)
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
	if got, err := svc.Authenticate(ctx, account.Login{Email: "ann@example.com", Password: "ann's old passphrase"}); err != nil || got.ID != 1 {
		t.Errorf("Authenticate(ann) = %d, %v; want 1, nil", got.ID, err)
	}
	// An ID is never reused: the deleted user's 2 stays taken.
	if got := signUpAndLogIn(t, db, "new@example.com"); got.ID != 3 {
		t.Errorf("new user's ID = %d; want 3, after the released schema's 1 and 2", got.ID)
	}
	// The email taken is told by the renamed index's name.
	if _, err := db.CreateUser(ctx, account.User{Email: "ann@example.com", Name: "Ann", PasswordHash: "x"}); !errors.Is(err, account.ErrEmailTaken) {
		t.Errorf("CreateUser(ann again) = %v; want ErrEmailTaken", err)
	}

	conn := pgtest.Connect(t)
	for table, want := range map[string]string{"latch_users": "2", "latch_sessions": "3", "latch_login_failures": "1"} {
		if got := strings.TrimSpace(dump(t, conn, schema, `SELECT count(*) FROM `+table)); got != want {
			t.Errorf("rows in %s = %s; want %s", table, got, want)
		}
	}
	fresh, freshSchema := pgtest.NewSchema(t)
	openDB(t, fresh)
	if got, want := relations(t, conn, schema), relations(t, conn, freshSchema); !slices.Equal(got, want) {
		t.Errorf("relations of the released schema brought over:\n%s\nwant a new schema's:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// Opening again finds nothing more to do.
	openDB(t, u)
}
