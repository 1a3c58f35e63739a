package main

import (
	"context"
	mathrand "math/rand/v2"
	"net/url"
	"os"
	"strconv"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/latchauth/latch/internal/pgtest"
)

// sharedSecret is the secret key of instances that serve one site.
var sharedSecret = "LATCH_SECRET_KEY=6f1c0e9a4b7d2358e1f04a9c6b3d7e2058c1f9a0b4e7d3c2169f8e0a5b4c3d21"

// extraBackends lists the server databases available to process tests:
// PostgreSQL (with Redis for throttling when LATCH_TEST_REDIS_URL is set)
// when LATCH_TEST_POSTGRES_URL is set.
func extraBackends(t *testing.T) []backend {
	if os.Getenv("LATCH_TEST_POSTGRES_URL") == "" && os.Getenv("LATCH_TEST_REQUIRE_SERVICES") != "1" {
		t.Log("PostgreSQL process tests skipped: set LATCH_TEST_POSTGRES_URL to run them")
		return nil
	}
	return []backend{{"postgres", postgresEnv}}
}

// postgresEnv returns the environment of instances sharing a new
// PostgreSQL schema (and Redis, when available).
func postgresEnv(t *testing.T) []string {
	u, _ := pgtest.NewSchema(t)
	env := []string{"LATCH_DATABASE_URL=" + u, "LATCH_DATA_DIR=" + t.TempDir(), sharedSecret}
	if r := os.Getenv("LATCH_TEST_REDIS_URL"); r != "" {
		env = append(env, "LATCH_REDIS_URL="+redisDB(t, r))
	}
	return env
}

// redisDB returns rawURL pointing at a random database 1-15, emptied when
// the test ends, so that throttling counters (kept an hour) of one run
// never meet the next: every test client has the address 127.0.0.1.
func redisDB(t *testing.T, rawURL string) string {
	opts, err := redis.ParseURL(rawURL)
	if err != nil {
		t.Fatalf("LATCH_TEST_REDIS_URL: %v", err)
	}
	opts.DB = 1 + mathrand.IntN(15)
	c := redis.NewClient(opts)
	t.Cleanup(func() {
		c.FlushDB(context.Background())
		c.Close()
	})
	u, _ := url.Parse(rawURL)
	u.Path = "/" + strconv.Itoa(opts.DB)
	return u.String()
}
