package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// isPostgres reports whether a database URL names PostgreSQL.
func isPostgres(raw string) bool {
	return strings.HasPrefix(raw, "postgres://") || strings.HasPrefix(raw, "postgresql://")
}

// freshSchema creates a schema of the run's own in the PostgreSQL database at
// rawURL, the counterpart of a fresh data folder, and returns the URL that
// names it in search_path, and a function that drops it with everything in
// it.
func freshSchema(rawURL string) (string, func() error, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", nil, fmt.Errorf("parse database URL: %w", err)
	}
	// latch_cache is pgstore's parameter, which PostgreSQL would refuse:
	// it stays in the URL latch gets, not in this connection's.
	direct := *u
	q := direct.Query()
	q.Del("latch_cache")
	direct.RawQuery = q.Encode()
	conn, err := pgx.Connect(ctx, direct.String())
	if err != nil {
		return "", nil, fmt.Errorf("connect: %w", err)
	}
	schema := "latch_bench_" + strings.ToLower(rand.Text())
	ident := pgx.Identifier{schema}.Sanitize()
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+ident); err != nil {
		conn.Close(ctx)
		return "", nil, fmt.Errorf("create schema: %w", err)
	}
	drop := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+ident+" CASCADE"); err != nil {
			return fmt.Errorf("drop schema %s: %w", schema, err)
		}
		return nil
	}
	q = u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), drop, nil
}
