package main

import (
	"os"
	"strings"
	"testing"

	"github.com/latchauth/latch/internal/pgtest"
)

// sharedSecret is the secret key of instances that serve one site.
var sharedSecret = "LATCH_SECRET_KEY=" + strings.Repeat("s3cret-", 6)

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
		env = append(env, "LATCH_REDIS_URL="+r)
	}
	return env
}
