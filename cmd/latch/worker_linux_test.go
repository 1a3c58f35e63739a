package main

import (
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// hashWorkers returns the PIDs of the `hash-worker` children of pid.
func hashWorkers(t *testing.T, pid int) []int {
	t.Helper()
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	var pids []int
	for _, f := range stats {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		fields := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
		if len(fields) < 2 || fields[1] != strconv.Itoa(pid) || fields[0] == "Z" {
			continue
		}
		dir := filepath.Dir(f)
		if cmdline, _ := os.ReadFile(filepath.Join(dir, "cmdline")); strings.Contains(string(cmdline), "hash-worker") {
			child, _ := strconv.Atoi(filepath.Base(dir))
			pids = append(pids, child)
		}
	}
	return pids
}

// TestHashWorkers checks that the server hashes passwords in worker
// processes at a lower priority, that a worker killed is replaced without a
// failed login, and that -hash-in-process starts none.
func TestHashWorkers(t *testing.T) {
	p := startProc(t, "LATCH_DATA_DIR="+t.TempDir(), "LATCH_HASH_CONCURRENCY=2")
	server := p.cmd.Process.Pid
	c := newClient(t)
	if st, _ := c.post(p.base, "/signup", url.Values{"email": {"ada@example.com"}, "name": {"Ada"}, "password": {"correct horse battery"}}); st != http.StatusSeeOther {
		t.Fatalf("signup = %d; want 303", st)
	}
	workers := hashWorkers(t, server)
	if len(workers) != 1 {
		t.Fatalf("%d hashing workers after one sign-up; want 1 (the second starts when needed)", len(workers))
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", workers[0]))
	if err != nil {
		t.Fatal(err)
	}
	if nice := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+2:]))[16]; nice != "10" {
		t.Errorf("worker nice value = %s; want 10", nice)
	}

	syscall.Kill(workers[0], syscall.SIGKILL)
	for i := range 3 {
		c := newClient(t)
		if st, loc := c.post(p.base, "/login", url.Values{"email": {"ada@example.com"}, "password": {"correct horse battery"}}); st != http.StatusSeeOther || loc != "/profile" {
			t.Fatalf("login %d after a worker was killed = %d → %q; want 303 → /profile", i, st, loc)
		}
	}
	if got := hashWorkers(t, server); len(got) == 0 || got[0] == workers[0] {
		t.Errorf("workers after the kill: %v; want a new one", got)
	}
	if !strings.Contains(p.logText(), "password hashing worker failed; replacing it") {
		t.Errorf("log lacks the replacement of the killed worker:\n%s", p.logText())
	}

	// No worker outlives a server killed with SIGKILL.
	left := hashWorkers(t, server)
	p.kill()
	alive := func(pid int) bool { // a zombie is dead, waiting for init to reap it
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		return err == nil && strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))[0] != "Z"
	}
	deadline := time.Now().Add(5 * time.Second)
	for _, w := range left {
		for alive(w) && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if alive(w) {
			t.Errorf("worker %d still running 5s after the server was killed", w)
		}
	}

	inProcess := startProc(t, "LATCH_DATA_DIR="+t.TempDir(), "LATCH_HASH_IN_PROCESS=true")
	newClient(t).post(inProcess.base, "/signup", url.Values{"email": {"bob@example.com"}, "name": {"Bob"}, "password": {"correct horse battery"}})
	if got := hashWorkers(t, inProcess.cmd.Process.Pid); len(got) != 0 {
		t.Errorf("with -hash-in-process: workers %v; want none", got)
	}
}
