package hashworker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"sync"
	"time"

	"golang.org/x/crypto/argon2"
)

// Timeout bounds one computation in a worker. A hash at the largest
// parameters the password package accepts takes seconds; a worker that has
// not answered after a minute is stuck, and is replaced.
const Timeout = time.Minute

// Nice is the nice value of worker processes: hashing gets about a tenth of
// a CPU that serving wants, and all of a CPU that serving leaves idle.
const Nice = 10

// A Pool runs key computations in worker processes. It is safe for
// concurrent use; each worker computes one key at a time, and a caller
// waits for an idle one. Create one with [Start] and stop it with
// [Pool.Close].
type Pool struct {
	argv    []string
	log     *slog.Logger
	timeout time.Duration // Timeout; tests shorten it

	idle chan *worker // workers not computing; nil entries are to start

	mu      sync.Mutex
	closed  bool
	running map[*worker]struct{}
}

// worker is one worker process.
type worker struct {
	cmd  *exec.Cmd
	in   io.WriteCloser
	out  io.ReadCloser
	done sync.Once // for wait
}

// Start starts n worker processes running argv: a program that calls
// [LowerPriority] and then [Serve] on its standard input and output. Their
// standard error is this process's. It returns
// an error if the first worker cannot start; later failures are logged to
// log and the computation is done in this process.
func Start(n int, argv []string, log *slog.Logger) (*Pool, error) {
	if n < 1 {
		return nil, errors.New("hashworker: need at least one worker")
	}
	p := &Pool{argv: argv, log: log, timeout: Timeout, idle: make(chan *worker, n), running: map[*worker]struct{}{}}
	w, err := p.start()
	if err != nil {
		return nil, err
	}
	p.idle <- w
	for range n - 1 {
		p.idle <- nil // started when first needed
	}
	return p, nil
}

// start starts a worker process.
func (p *Pool) start() (*worker, error) {
	cmd := exec.Command(p.argv[0], p.argv[1:]...)
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("hashworker: start: %w", err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		in.Close()
		return nil, fmt.Errorf("hashworker: start: %w", err)
	}
	cmd.SysProcAttr = sysProcAttr()
	// Under the lock, so that Close cannot miss a worker being started.
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		in.Close()
		out.Close()
		return nil, errors.New("hashworker: pool closed")
	}
	if err := cmd.Start(); err != nil {
		in.Close()
		out.Close()
		return nil, fmt.Errorf("hashworker: start %s: %w", p.argv[0], err)
	}
	w := &worker{cmd: cmd, in: in, out: out}
	p.running[w] = struct{}{}
	return w, nil
}

// setDeadline bounds the wait for the worker's answer. The pipe from a
// worker is an *os.File, which supports deadlines on the systems latch runs
// on; where it does not, the wait is unbounded, as for any pipe.
func (w *worker) setDeadline(d time.Duration) error {
	f, ok := w.out.(*os.File)
	if !ok {
		return nil
	}
	if err := f.SetReadDeadline(time.Now().Add(d)); err != nil && !errors.Is(err, os.ErrNoDeadline) {
		return err
	}
	return nil
}

// stop ends the worker: closing its input makes Serve return, after the
// hash under way. A worker still running after d is killed.
func (w *worker) stop(d time.Duration) {
	w.in.Close()
	t := time.AfterFunc(d, func() { w.cmd.Process.Kill() })
	defer t.Stop()
	w.wait()
}

// kill ends a worker that may be stuck or gone. The kill comes first, so
// that a stop waiting for the same worker ends too.
func (w *worker) kill() {
	w.cmd.Process.Kill()
	w.in.Close()
	w.wait()
}

// wait waits for the worker's process to end; once, whoever asks.
func (w *worker) wait() {
	w.done.Do(func() { w.cmd.Wait() })
}

// IDKey computes argon2.IDKey(password, salt, time, memory, threads,
// keyLen) in an idle worker, waiting for one until ctx is done. A worker
// that fails is replaced, and the key is then computed in this process, so
// the only errors are ctx's. Its signature is password.Argon2Func's.
func (p *Pool) IDKey(ctx context.Context, password, salt []byte, time, memory uint32, threads uint8, keyLen uint32) ([]byte, error) {
	if p.isClosed() {
		// Shutting down: no worker to start, nothing to report.
		return argon2.IDKey(password, salt, time, memory, threads, keyLen), nil
	}
	var w *worker
	select {
	case w = <-p.idle:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	// Whatever happens, the slot goes back: a worker, or nil for a
	// worker to start at the next call.
	var back *worker
	defer func() { p.idle <- back }()
	if w == nil {
		var err error
		if w, err = p.start(); err != nil {
			p.log.Warn("password hashing worker cannot start; hashing in the server process", "error", err)
			return argon2.IDKey(password, salt, time, memory, threads, keyLen), nil
		}
	}
	req := request{password: password, salt: salt, time: time, memory: memory, threads: threads, keyLen: keyLen}
	key := make([]byte, keyLen)
	err := req.write(w.in)
	if err == nil {
		err = w.setDeadline(p.timeout)
	}
	if err == nil {
		_, err = io.ReadFull(w.out, key)
	}
	if err != nil {
		p.log.Warn("password hashing worker failed; replacing it", "pid", w.cmd.Process.Pid, "error", err)
		p.forget(w)
		w.kill()
		return argon2.IDKey(password, salt, time, memory, threads, keyLen), nil
	}
	back = w
	return key, nil
}

func (p *Pool) forget(w *worker) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.running, w)
}

// Close stops the workers, waiting for computations under way to finish,
// for up to Timeout each before killing the worker. Computations asked for
// afterwards are done in this process.
func (p *Pool) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	workers := make([]*worker, 0, len(p.running))
	for w := range p.running {
		workers = append(workers, w)
	}
	clear(p.running)
	p.mu.Unlock()
	for _, w := range workers {
		w.stop(p.timeout)
	}
	return nil
}

func (p *Pool) isClosed() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.closed
}
