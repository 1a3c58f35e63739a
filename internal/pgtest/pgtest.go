// Package pgtest gives tests a PostgreSQL schema of their own: created with
// a random name, named in the URL's search_path, dropped when the test ends.
// Tests skip when LATCH_TEST_POSTGRES_URL is unset, and fail instead when
// LATCH_TEST_REQUIRE_SERVICES=1, as in CI.
package pgtest

import (
	"context"
	"crypto/rand"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/latchauth/latch/internal/testservice"
)

// urlEnv names the variable holding the URL of a PostgreSQL database the
// tests may create schemas in.
const urlEnv = "LATCH_TEST_POSTGRES_URL"

// URL returns the URL of the test database, or skips the test when there is
// none, unless services are required.
func URL(t testing.TB) string {
	t.Helper()
	return testservice.URL(t, "PostgreSQL", urlEnv, "postgres://postgres@127.0.0.1:5432/test?sslmode=disable")
}

// RandomName returns a random lower-case name, safe as an SQL identifier.
func RandomName() string {
	return strings.ToLower(rand.Text())
}

// WithParam returns rawURL with the query parameter key set to value.
func WithParam(t testing.TB, rawURL, key, value string) string {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatalf("%s: %v", urlEnv, err)
	}
	q := u.Query()
	q.Set(key, value)
	u.RawQuery = q.Encode()
	return u.String()
}

// Connect opens a connection of the test's own to the test database, outside
// any store, closed when the test ends.
func Connect(t testing.TB) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), URL(t))
	if err != nil {
		t.Fatalf("connect to %s: %v", urlEnv, err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// NewSchema creates a schema with a random name, dropped with everything in
// it when the test ends, and returns it with the URL of the test database
// whose search_path names it.
func NewSchema(t testing.TB) (rawURL, schema string) {
	t.Helper()
	base := URL(t)
	schema = "latch_test_" + RandomName()
	ident := pgx.Identifier{schema}.Sanitize()
	conn := Connect(t)
	if _, err := conn.Exec(t.Context(), `CREATE SCHEMA `+ident); err != nil {
		t.Fatalf("CREATE SCHEMA %s: %v", ident, err)
	}
	t.Cleanup(func() {
		// Registered after connect's cleanup, so it runs before conn is
		// closed; t.Context is already canceled by then.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := conn.Exec(ctx, `DROP SCHEMA `+ident+` CASCADE`); err != nil {
			t.Errorf("DROP SCHEMA %s: %v", ident, err)
		}
	})
	return WithParam(t, base, "search_path", schema), schema
}
