package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"time"

	"github.com/latchauth/latch/internal/hashworker"
	"github.com/latchauth/latch/password"
)

// startHashWorkers makes h compute its argon2id keys in worker processes,
// this program run as `latch hash-worker`, one per hashing slot, and
// returns the pool to close at the end. See package hashworker for why.
func startHashWorkers(cfg config, h *password.Hasher, log *slog.Logger) (*hashworker.Pool, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find this program to start hashing workers: %w (or set -hash-in-process)", err)
	}
	pool, err := hashworker.Start(cfg.HashConcurrency, []string{exe, "hash-worker"}, log)
	if err != nil {
		return nil, fmt.Errorf("%w (or set -hash-in-process)", err)
	}
	h.UseArgon2(pool.IDKey)
	return pool, nil
}

// hashWorker is `latch hash-worker`: it computes argon2id keys asked for on
// standard input, at a lower CPU priority, until standard input ends.
func hashWorker(stderr io.Writer) int {
	if err := hashworker.LowerPriority(); err != nil {
		// Still correct at the server's priority.
		fmt.Fprintf(stderr, "latch hash-worker: lower CPU priority: %v\n", err)
	}
	if err := hashworker.Serve(os.Stdin, os.Stdout); err != nil {
		fmt.Fprintf(stderr, "latch hash-worker: %v\n", err)
		return 1
	}
	return 0
}

// Timing of processorGovernor.
const (
	governorTick = 10 * time.Millisecond
	governorIdle = time.Second
)

// processorGovernor gives the Go runtime one processor more than the
// password-hashing slots while passwords are being hashed, and takes it back
// once hashing has stopped for a second. It is used with -hash-in-process;
// hashing in worker processes leaves the server's processors alone.
//
// An argon2id hash computes for tens of milliseconds without blocking. If
// every processor is hashing, page loads wait for the Go scheduler to
// preempt a hash, which it does every 10 ms: during a flood of logins,
// logged-in users' pages became twenty times slower. With a processor to
// spare, serving goroutines always have one, and the operating system
// shares the CPU between its thread and the hashing threads at a far finer
// grain. Measured with latch-bench's storm on one core: /profile p99 during
// 500 concurrent logins went from 20x its p99 before the storm to 4-6x
// (hashing in worker processes: 2.3x).
//
// The spare processor is not kept all the time because, with more
// processors than cores, serving alone costs more: threads wake each other
// for work one of them could have done. On one core, keeping it cut the
// anonymous home page's throughput by a sixth.
type processorGovernor struct {
	hasher *password.Hasher
	base   int // GOMAXPROCS when no hash runs
	busy   int // GOMAXPROCS while hashes run
	log    *slog.Logger
}

// newProcessorGovernor returns the governor for a hasher with the given
// slots, or nil when there is nothing to govern: hashes are computed in
// worker processes, GOMAXPROCS was set by the operator, or there are
// already more processors than slots.
func newProcessorGovernor(cfg config, h *password.Hasher, log *slog.Logger) *processorGovernor {
	base := runtime.GOMAXPROCS(0)
	if !cfg.HashInProcess || cfg.GOMAXPROCSSet || base > cfg.HashConcurrency {
		return nil
	}
	return &processorGovernor{hasher: h, base: base, busy: cfg.HashConcurrency + 1, log: log}
}

// run governs until ctx is done, and then restores the base.
func (g *processorGovernor) run(ctx context.Context) {
	t := time.NewTicker(governorTick)
	defer t.Stop()
	raised := false
	var lastBusy time.Time
	for {
		select {
		case <-ctx.Done():
			if raised {
				runtime.GOMAXPROCS(g.base)
			}
			return
		case now := <-t.C:
			switch {
			case g.hasher.Running() > 0:
				lastBusy = now
				if !raised {
					runtime.GOMAXPROCS(g.busy)
					raised = true
					g.log.Debug("hashing: spare processor added", "gomaxprocs", g.busy)
				}
			case raised && now.Sub(lastBusy) >= governorIdle:
				runtime.GOMAXPROCS(g.base)
				raised = false
				g.log.Debug("hashing stopped: spare processor removed", "gomaxprocs", g.base)
			}
		}
	}
}
