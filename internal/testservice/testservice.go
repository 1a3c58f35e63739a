// Package testservice decides whether a test that needs an outside service
// (PostgreSQL, Redis) runs: it reads the service's URL from an environment
// variable and skips the test when it is unset, unless
// LATCH_TEST_REQUIRE_SERVICES=1 (as in CI) makes that a failure, so that CI
// cannot pass by testing nothing.
package testservice

import (
	"os"
	"testing"
)

// RequireEnv names the variable that turns a missing service from a skip
// into a failure.
const RequireEnv = "LATCH_TEST_REQUIRE_SERVICES"

// URL returns the value of env, the URL of service; when it is unset it
// skips t with a message saying how to set it (example is a sample URL), or
// fails t when services are required.
func URL(t testing.TB, service, env, example string) string {
	t.Helper()
	u := os.Getenv(env)
	if u == "" {
		if os.Getenv(RequireEnv) == "1" {
			t.Fatalf("%s is not set, and %s=1 requires %s", env, RequireEnv, service)
		}
		t.Skipf("%s tests skipped: set %s to a URL, such as %s", service, env, example)
	}
	return u
}
