package hashworker_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchauth/latch/internal/apptest"
	"github.com/latchauth/latch/internal/hashworker"
	"golang.org/x/crypto/argon2"
)

// TestMain makes the test binary a worker when asked, as latch makes
// itself one with `latch hash-worker`.
func TestMain(m *testing.M) {
	if os.Getenv("HASHWORKER_TEST_WORKER") == "stuck" {
		// A worker that never answers, nor ends when its input does.
		select {}
	}
	if os.Getenv("HASHWORKER_TEST_WORKER") == "hang" {
		// A worker that takes requests and never answers.
		io.Copy(io.Discard, os.Stdin)
		os.Exit(0)
	}
	if os.Getenv("HASHWORKER_TEST_WORKER") == "1" {
		if err := hashworker.LowerPriority(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		if err := hashworker.Serve(os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// startPool starts a pool of n workers running this test binary.
func startPool(t *testing.T, n int) (*hashworker.Pool, *apptest.Buffer) {
	t.Helper()
	t.Setenv("HASHWORKER_TEST_WORKER", "1") // inherited by the workers
	var logs apptest.Buffer
	p, err := hashworker.Start(n, []string{os.Args[0]}, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatalf("Start error = %v; want nil", err)
	}
	t.Cleanup(func() { p.Close() })
	return p, &logs
}

// cheap are small argon2id parameters, so that tests are quick.
const cheapTime, cheapMemory, cheapThreads, cheapKey = 1, 64, 1, 32

func TestPoolMatchesIDKey(t *testing.T) {
	p, _ := startPool(t, 2)
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			pw := []byte("password " + strconv.Itoa(i))
			salt := []byte("salt of 16 bytes")
			got, err := p.IDKey(t.Context(), pw, salt, cheapTime, cheapMemory, cheapThreads, cheapKey)
			want := argon2.IDKey(pw, salt, cheapTime, cheapMemory, cheapThreads, cheapKey)
			if err != nil || !bytes.Equal(got, want) {
				t.Errorf("IDKey(%q) = %x, %v; want %x, nil", pw, got, err, want)
			}
		})
	}
	wg.Wait()
	// The password package's default parameters, once.
	pw, salt := []byte("correct horse battery"), []byte("0123456789abcdef")
	got, err := p.IDKey(t.Context(), pw, salt, 2, 19*1024, 1, 32)
	if want := argon2.IDKey(pw, salt, 2, 19*1024, 1, 32); err != nil || !bytes.Equal(got, want) {
		t.Errorf("IDKey at default parameters = %x, %v; want %x, nil", got, err, want)
	}
}

// TestPoolReplacesDeadWorker kills the workers between computations and
// checks that keys are still right, and that a new worker takes over.
func TestPoolReplacesDeadWorker(t *testing.T) {
	p, logs := startPool(t, 1)
	pw, salt := []byte("pw"), []byte("salt of 16 bytes")
	want := argon2.IDKey(pw, salt, cheapTime, cheapMemory, cheapThreads, cheapKey)
	for round := range 3 {
		before := workerPIDs(t)
		if len(before) != 1 {
			t.Fatalf("round %d: %d worker processes; want 1", round, len(before))
		}
		if err := syscallKill(before[0]); err != nil {
			t.Fatal(err)
		}
		got, err := p.IDKey(t.Context(), pw, salt, cheapTime, cheapMemory, cheapThreads, cheapKey)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("round %d: IDKey after the worker died = %x, %v; want %x, nil", round, got, err, want)
		}
		// The next computation starts a new worker.
		if got, err := p.IDKey(t.Context(), pw, salt, cheapTime, cheapMemory, cheapThreads, cheapKey); err != nil || !bytes.Equal(got, want) {
			t.Fatalf("round %d: IDKey by the new worker = %x, %v; want %x, nil", round, got, err, want)
		}
		if after := workerPIDs(t); len(after) != 1 || after[0] == before[0] {
			t.Fatalf("round %d: workers %v after replacing %d; want one new one", round, after, before[0])
		}
	}
	if !strings.Contains(logs.String(), "password hashing worker failed; replacing it") {
		t.Errorf("log lacks the replacement:\n%s", logs.String())
	}
}

// TestWorkersAreNiced checks that workers run at nice value Nice.
func TestWorkersAreNiced(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("nice values per process are set on Linux only")
	}
	p, _ := startPool(t, 1)
	// Once a worker has answered, it has set its priority.
	if _, err := p.IDKey(t.Context(), []byte("pw"), []byte("salt"), cheapTime, cheapMemory, cheapThreads, cheapKey); err != nil {
		t.Fatal(err)
	}
	pids := workerPIDs(t)
	if len(pids) != 1 {
		t.Fatalf("%d worker processes; want 1", len(pids))
	}
	// Every thread of the worker: the hash may run on any.
	tids, _ := os.ReadDir("/proc/" + strconv.Itoa(pids[0]) + "/task")
	if len(tids) < 2 {
		t.Errorf("worker has %d threads; want a few, as any Go program", len(tids))
	}
	for _, tid := range tids {
		if got := niceOf(t, "/proc/"+strconv.Itoa(pids[0])+"/task/"+tid.Name()+"/stat"); got != hashworker.Nice {
			t.Errorf("worker thread %s: nice value %d; want %d", tid.Name(), got, hashworker.Nice)
		}
	}
	if got := niceOf(t, "/proc/self/stat"); got == hashworker.Nice {
		t.Errorf("the server's own nice value changed to %d", got)
	}
}

func TestCloseStopsWorkers(t *testing.T) {
	p, _ := startPool(t, 2)
	p.IDKey(t.Context(), []byte("pw"), []byte("salt"), cheapTime, cheapMemory, cheapThreads, cheapKey)
	if n := len(workerPIDs(t)); n != 1 {
		t.Fatalf("%d workers after one computation; want 1 (the second starts when needed)", n)
	}
	p.Close()
	if pids := workerPIDs(t); len(pids) != 0 {
		t.Errorf("workers %v still running after Close", pids)
	}
	// Afterwards, computations are done in this process.
	got, err := p.IDKey(context.Background(), []byte("pw"), []byte("salt"), cheapTime, cheapMemory, cheapThreads, cheapKey)
	if want := argon2.IDKey([]byte("pw"), []byte("salt"), cheapTime, cheapMemory, cheapThreads, cheapKey); err != nil || !bytes.Equal(got, want) {
		t.Errorf("IDKey after Close = %x, %v; want %x, nil", got, err, want)
	}
}

// TestPoolReplacesStuckWorker checks that a worker that does not answer
// within the timeout is killed and the key computed here instead.
func TestPoolReplacesStuckWorker(t *testing.T) {
	t.Setenv("HASHWORKER_TEST_WORKER", "hang")
	var logs apptest.Buffer
	p, err := hashworker.Start(1, []string{os.Args[0]}, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	hashworker.SetTimeout(p, 200*time.Millisecond)
	pw, salt := []byte("pw"), []byte("salt of 16 bytes")
	got, err := p.IDKey(t.Context(), pw, salt, cheapTime, cheapMemory, cheapThreads, cheapKey)
	if want := argon2.IDKey(pw, salt, cheapTime, cheapMemory, cheapThreads, cheapKey); err != nil || !bytes.Equal(got, want) {
		t.Errorf("IDKey with a stuck worker = %x, %v; want %x, nil", got, err, want)
	}
	if !strings.Contains(logs.String(), "password hashing worker failed; replacing it") {
		t.Errorf("log lacks the replacement:\n%s", logs.String())
	}
}

// TestCloseKillsStuckWorker checks that Close does not wait for ever on a
// worker that ignores the end of its input, and that a computation asked
// for afterwards is done here, quietly.
func TestCloseKillsStuckWorker(t *testing.T) {
	t.Setenv("HASHWORKER_TEST_WORKER", "stuck")
	var logs apptest.Buffer
	p, err := hashworker.Start(1, []string{os.Args[0]}, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	hashworker.SetTimeout(p, 200*time.Millisecond)
	closed := make(chan struct{})
	go func() { p.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("Close still waiting for a stuck worker after 10s")
	}
	pw, salt := []byte("pw"), []byte("salt of 16 bytes")
	got, err := p.IDKey(t.Context(), pw, salt, cheapTime, cheapMemory, cheapThreads, cheapKey)
	if want := argon2.IDKey(pw, salt, cheapTime, cheapMemory, cheapThreads, cheapKey); err != nil || !bytes.Equal(got, want) {
		t.Errorf("IDKey after Close = %x, %v; want %x, nil", got, err, want)
	}
	if logs.String() != "" {
		t.Errorf("IDKey after Close logged:\n%s", logs.String())
	}
}

func TestServeRefusesBadRequests(t *testing.T) {
	for name, req := range map[string][]byte{
		"zero time":     {0, 0, 0, 0, 0, 0, 0, 64, 1, 0, 0, 0, 32, 0, 0, 0, 0},
		"huge memory":   {0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff, 1, 0, 0, 0, 32, 0, 0, 0, 0},
		"huge password": {0, 0, 0, 1, 0, 0, 0, 64, 1, 0, 0, 0, 32, 0, 0, 0xff, 0xff},
		"truncated":     {0, 0, 0, 1, 0, 0},
	} {
		var out bytes.Buffer
		if err := hashworker.Serve(bytes.NewReader(req), &out); err == nil || out.Len() != 0 {
			t.Errorf("%s: Serve = %v with %d bytes out; want an error and no output", name, err, out.Len())
		}
	}
}
