package main

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/latchauth/latch/internal/pgtest"
	"modernc.org/sqlite"
)

// appTables are an application's own tables, named as latch's were before
// they had the latch_ prefix, and goose's default version table at the
// application's version 5.
var appTables = []string{
	`CREATE TABLE users (id integer PRIMARY KEY, login text NOT NULL, shoe_size integer)`,
	`CREATE UNIQUE INDEX users_email ON users (login)`,
	`INSERT INTO users VALUES (1, 'ada', 38), (2, 'bob', 44)`,
	`CREATE TABLE goose_db_version (id integer PRIMARY KEY, version_id bigint NOT NULL, is_applied boolean NOT NULL)`,
	`INSERT INTO goose_db_version VALUES (1, 0, true), (2, 1, true), (3, 2, true), (4, 3, true), (5, 4, true), (6, 5, true)`,
}

// appRows returns the application's rows, to compare before and after.
func appRows(t *testing.T, db *sql.DB) string {
	t.Helper()
	var b strings.Builder
	for _, q := range []string{`SELECT id, login, shoe_size FROM users ORDER BY id`, `SELECT id, version_id, is_applied FROM goose_db_version ORDER BY id`} {
		rows, err := db.QueryContext(context.Background(), q)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		for rows.Next() {
			var a, b2, c any
			if err := rows.Scan(&a, &b2, &c); err != nil {
				t.Fatal(err)
			}
			fmt.Fprintln(&b, a, b2, c)
		}
		rows.Close()
	}
	return b.String()
}

// TestAppTablesInDatabase runs latch on a database that already holds an
// application's own users table and goose_db_version at version 5: the
// flows work, and the application's rows are left as they were.
func TestAppTablesInDatabase(t *testing.T) {
	type setup struct {
		name string
		open func(t *testing.T) (*sql.DB, []string)
	}
	setups := []setup{{"sqlite", func(t *testing.T) (*sql.DB, []string) {
		path := filepath.Join(t.TempDir(), "app.db")
		c, err := sqlite.NewConnector(path)
		if err != nil {
			t.Fatal(err)
		}
		return sql.OpenDB(c), []string{"LATCH_DATABASE_URL=sqlite:" + path, "LATCH_DATA_DIR=" + t.TempDir()}
	}}}
	if len(extraBackends(t)) > 0 {
		setups = append(setups, setup{"postgres", func(t *testing.T) (*sql.DB, []string) {
			u, schema := pgtest.NewSchema(t)
			cfg, err := pgx.ParseConfig(u)
			if err != nil {
				t.Fatal(err)
			}
			cfg.RuntimeParams["search_path"] = schema
			return stdlib.OpenDB(*cfg), []string{"LATCH_DATABASE_URL=" + u, "LATCH_DATA_DIR=" + t.TempDir()}
		}})
	}
	for _, s := range setups {
		t.Run(s.name, func(t *testing.T) {
			db, environ := s.open(t)
			defer db.Close()
			for _, q := range appTables {
				if _, err := db.Exec(q); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			before := appRows(t, db)

			p := startProc(t, environ...)
			c := newClient(t)
			account := url.Values{"email": {"ada@example.com"}, "name": {"Ada"}, "password": {"correct horse battery"}}
			if st, loc := c.post(p.base, "/signup", account); st != http.StatusSeeOther || loc != "/login" {
				t.Fatalf("signup = %d → %q; want 303 → /login\n%s", st, loc, p.logText())
			}
			login := url.Values{"email": {"ada@example.com"}, "password": {"correct horse battery"}}
			if st, loc := c.post(p.base, "/login", login); st != http.StatusSeeOther || loc != "/profile" {
				t.Fatalf("login = %d → %q; want 303 → /profile\n%s", st, loc, p.logText())
			}
			if st, body := c.get(p.base, "/profile"); st != 200 || !strings.Contains(body, "Welcome, Ada!") {
				t.Fatalf("profile = %d; want 200 with the welcome", st)
			}
			if st, _ := c.post(p.base, "/logout", nil); st != http.StatusSeeOther {
				t.Fatalf("logout = %d; want 303", st)
			}
			if st, _ := c.get(p.base, "/profile"); st != http.StatusSeeOther {
				t.Fatalf("profile after logout = %d; want 303 to the login page", st)
			}
			p.kill()

			// A restart finds its schema as it left it.
			p = startProc(t, environ...)
			c = newClient(t)
			if st, loc := c.post(p.base, "/login", login); st != http.StatusSeeOther || loc != "/profile" {
				t.Fatalf("login after a restart = %d → %q; want 303 → /profile\n%s", st, loc, p.logText())
			}
			p.kill()

			if after := appRows(t, db); after != before {
				t.Errorf("the application's rows after latch ran:\n%s\nwant them untouched:\n%s", after, before)
			}
		})
	}
}
