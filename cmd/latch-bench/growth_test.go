package main

import (
	"bytes"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/latchauth/latch/internal/pgtest"
)

// TestGrowth runs -growth at a small size end to end, on SQLite and on
// PostgreSQL: latch is built and started, the database seeded, latch prunes
// the seeded expired sessions, and every scenario is measured without an
// error on both the empty and the grown database.
func TestGrowth(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs latch several times")
	}
	bin := t.TempDir() + "/latch"
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/latchauth/latch/cmd/latch").CombinedOutput(); err != nil {
		t.Fatalf("build latch: %v\n%s", err, out)
	}
	for _, store := range []string{"sqlite", "postgres"} {
		t.Run(store, func(t *testing.T) {
			args := []string{"-growth", "-growth-users", "300", "-duration", "300ms", "-warmup", "100ms",
				"-rounds", "1", "-connections", "2", "-users", "2", "-server-cpu", "0", "-client-cpu", "0", "-latch-bin", bin}
			if store == "postgres" {
				args = append(args, "-database-url", pgtest.URL(t))
			}
			var stdout, stderr bytes.Buffer
			if code := run(args, &stdout, &stderr); code != 0 {
				t.Fatalf("latch-bench %s = exit %d; want 0\n%s\n%s", strings.Join(args, " "), code, stdout.String(), stderr.String())
			}
			out := stdout.String()
			for _, want := range []string{
				"grown: 300 users and 900 sessions (600 live, 300 expired)",
				`msg="pruned expired sessions" count=300`,
			} {
				if !strings.Contains(out, want) {
					t.Errorf("report lacks %q:\n%s", want, out)
				}
			}
			for _, s := range growthScenarios {
				// Each scenario's row ends with its count of errors.
				row := regexp.MustCompile(`(?m)^\s*` + regexp.QuoteMeta(s) + `\b.*\s(\d+)$`).FindStringSubmatch(out)
				if row == nil || row[1] != "0" {
					t.Errorf("scenario %s: row %q; want one with 0 errors\n%s", s, row, out)
				}
			}
		})
	}
}
