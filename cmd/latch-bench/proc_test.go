package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestNextLogLine follows a log as a server writes it: each line is found
// once, a line still being written is not found until it is whole, and a
// line longer than the read buffer is still found.
func TestNextLogLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "latch.log")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	write := func(s string) {
		t.Helper()
		if _, err := f.WriteString(s); err != nil {
			t.Fatal(err)
		}
	}
	p := &proc{logPath: path}
	want := func(substr, line string) {
		t.Helper()
		got, ok := p.nextLogLine(substr)
		if line == "" {
			if ok {
				t.Fatalf("nextLogLine(%q) = %q; want none", substr, got)
			}
			return
		}
		if !ok || got != line {
			t.Fatalf("nextLogLine(%q) = %q, %v; want %q", substr, got, ok, line)
		}
	}

	write("msg=request path=/profile\nmsg=\"pruned expired sessions\" count=3\nmsg=request path=/\n")
	want("pruned", `msg="pruned expired sessions" count=3`)
	want("pruned", "") // found once, not again

	write(`msg="pruned expired sess`)
	want("pruned", "") // not whole yet
	write("ions\" count=5\n")
	want("pruned", `msg="pruned expired sessions" count=5`)

	write("msg=request path=/" + strings.Repeat("x", 200<<10) + "\nmsg=pruned count=7\n")
	want("pruned", "msg=pruned count=7")
	want("request", "")
}

// TestLogTail gives the last lines of a log larger than the part it reads.
func TestLogTail(t *testing.T) {
	path := filepath.Join(t.TempDir(), "latch.log")
	var b strings.Builder
	for i := range 20000 {
		b.WriteString("line ")
		b.WriteString(strings.Repeat("=", i%7))
		b.WriteString("\n")
	}
	b.WriteString("second to last\nlast\n")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	p := &proc{logPath: path}
	if got, want := p.logTail(2), "    second to last\n    last"; got != want {
		t.Errorf("logTail(2) = %q; want %q", got, want)
	}
	if got := p.logTail(100000); strings.Count(got, "\n") >= 20001 {
		t.Errorf("logTail read the whole %d-byte log; want at most its last 64 KiB", b.Len())
	}
	missing := &proc{logPath: filepath.Join(t.TempDir(), "none.log")}
	if got := missing.logTail(3); !strings.Contains(got, "no log") {
		t.Errorf("logTail of a missing log = %q; want it to say there is no log", got)
	}
}
