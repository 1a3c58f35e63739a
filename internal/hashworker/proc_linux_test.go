package hashworker_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/latchauth/latch/internal/eventually"
)

// workerPIDs returns the PIDs of this process's children, the workers.
func workerPIDs(t *testing.T) []int {
	t.Helper()
	self := strconv.Itoa(os.Getpid())
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	var pids []int
	for _, f := range stats {
		b, err := os.ReadFile(f)
		if err != nil {
			continue // gone meanwhile
		}
		// pid (comm) state ppid ...; comm may hold spaces.
		rest := string(b[strings.LastIndexByte(string(b), ')')+2:])
		fields := strings.Fields(rest)
		if len(fields) > 1 && fields[1] == self && fields[0] != "Z" {
			pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(f)))
			pids = append(pids, pid)
		}
	}
	return pids
}

// niceOf returns the nice value in a /proc stat file.
func niceOf(t *testing.T, stat string) int {
	t.Helper()
	b, err := os.ReadFile(stat)
	if err != nil {
		t.Fatal(err)
	}
	fields := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	n, err := strconv.Atoi(fields[16]) // field 19 of stat, counting from 1
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func syscallKill(pid int) error { return syscall.Kill(pid, syscall.SIGKILL) }

// TestIdleWorkerReturnsMemory hashes a few times at latch's parameters and
// checks that the idle worker then gives the hashes' memory back to the
// system: a worker's resident memory counts against the machine's as much
// as the server's.
func TestIdleWorkerReturnsMemory(t *testing.T) {
	p, _ := startPool(t, 1)
	for i := range 4 {
		if _, err := p.IDKey(t.Context(), []byte("pw "+strconv.Itoa(i)), []byte("salt of 16 bytes"), 2, 19*1024, 1, 32); err != nil {
			t.Fatal(err)
		}
	}
	pids := workerPIDs(t)
	if len(pids) != 1 {
		t.Fatalf("%d worker processes; want 1", len(pids))
	}
	// A hash needs 19 MiB while it runs: once idle, the worker holds at
	// least that much less than at its peak (VmHWM), whatever its code and
	// runtime take beside, the race detector's included.
	const hash = 19 << 10 // kB
	eventually.True(t, 5*time.Second, "resident memory of the idle worker", func() error {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pids[0]) + "/status")
		if err != nil {
			return err
		}
		kB := map[string]int{}
		for line := range strings.SplitSeq(string(b), "\n") {
			if name, v, ok := strings.Cut(line, ":"); ok && strings.HasSuffix(v, " kB") {
				kB[name], _ = strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(v, " kB")))
			}
		}
		if kB["VmRSS"] == 0 || kB["VmHWM"] == 0 {
			return errors.New("no VmRSS or VmHWM line")
		}
		if kB["VmRSS"] > kB["VmHWM"]-hash {
			return fmt.Errorf("%d kB of a peak of %d kB; want at most %d kB, the hash's memory returned", kB["VmRSS"], kB["VmHWM"], kB["VmHWM"]-hash)
		}
		return nil
	})
}
