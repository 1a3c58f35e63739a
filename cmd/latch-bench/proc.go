package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// proc is a server latch-bench started as a child process, so that its
// memory and CPU time are its own.
type proc struct {
	name    string
	cmd     *exec.Cmd
	addr    string
	logPath string
	done    chan struct{} // closed when the process has exited
	exitErr error         // how it exited, once done is closed
	// logRead is how far nextLogLine has read the log: the end of the
	// last whole line it saw.
	logRead int64
}

// freeAddr returns a loopback address with a port nobody listens on now.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// childEnv is this process's environment without the variables that would
// change how a child is configured, plus GOMAXPROCS=1: the child gets one
// core, and its Go runtime should know.
func childEnv() []string {
	return append(cleanEnv(), "GOMAXPROCS=1")
}

// cleanEnv is this process's environment without the variables that would
// change how a child is configured.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "LATCH_") || strings.HasPrefix(kv, "GOMAXPROCS=") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

// latchEnv is the environment of latch, which chooses its Go processors and
// hashing slots from the CPUs it sees. Started under taskset, it sees one
// CPU and chooses for one. Pinned after start, it would see every CPU, so
// it is told.
func (b *bench) latchEnv() []string {
	env := cleanEnv()
	if b.pinned && b.taskset == "" {
		env = append(env, "LATCH_HASH_CONCURRENCY=1", "GOMAXPROCS=1")
	}
	return env
}

// start runs argv as a server listening on addr, pinned to the server CPU,
// with its output in a log file, and waits until GET /healthz answers 200.
func (b *bench) start(name string, argv []string, env []string, addr string) (*proc, error) {
	b.children++
	logPath := filepath.Join(b.tmp, fmt.Sprintf("%02d-%s.log", b.children, name))
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	if b.pinned && b.taskset != "" {
		argv = append([]string{b.taskset, "-c", strconv.Itoa(b.cfg.serverCPU)}, argv...)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, addr: addr, logPath: logPath, done: make(chan struct{})}
	b.mu.Lock()
	b.live[p] = true
	b.mu.Unlock()
	go func() {
		p.exitErr = cmd.Wait()
		logFile.Close()
		close(p.done)
		b.mu.Lock()
		delete(b.live, p)
		b.mu.Unlock()
	}()
	if b.pinned {
		// taskset has pinned it already when present; this is the way
		// without it, and a check with it.
		if err := pin(cmd.Process.Pid, b.cfg.serverCPU); err != nil && p.alive() {
			p.stop()
			return nil, fmt.Errorf("%s: %w", name, err)
		}
	}
	if err := p.waitReady(30 * time.Second); err != nil {
		p.stop()
		return nil, err
	}
	if b.pinned {
		if err := pin(cmd.Process.Pid, b.cfg.serverCPU); err != nil {
			p.stop()
			return nil, fmt.Errorf("%s: %w", name, err)
		}
	}
	return p, nil
}

// waitReady polls GET /healthz until it answers 200, the process exits or
// the timeout passes.
func (p *proc) waitReady(timeout time.Duration) error {
	end := time.Now().Add(timeout)
	req := getRequest(p.addr, "/healthz", "")
	for {
		c := &client{addr: p.addr, deadline: time.Now().Add(2 * time.Second)}
		r, err := c.do(req, false)
		c.close()
		if err == nil && r.status == 200 {
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("%s exited at start (%v):\n%s", p.name, p.exitErr, p.logTail(15))
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(end) {
			return fmt.Errorf("%s not ready after %s:\n%s", p.name, timeout, p.logTail(15))
		}
	}
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

// alive reports whether the process is still running.
func (p *proc) alive() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// stop asks the process to finish (SIGTERM) and kills it if it has not
// within 15 seconds.
func (p *proc) stop() {
	if !p.alive() {
		return
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(15 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
	}
}

// nextLogLine returns the first line of the process's output, written
// since the last call, that contains substr. It reads only what is new:
// a run logs a line per request, gigabytes in a long one, and polling
// them all again each second would cost the load generator's CPU and
// memory in proportion.
func (p *proc) nextLogLine(substr string) (string, bool) {
	f, err := os.Open(p.logPath)
	if err != nil {
		return "", false
	}
	defer f.Close()
	if _, err := f.Seek(p.logRead, io.SeekStart); err != nil {
		return "", false
	}
	r := bufio.NewReaderSize(f, 1<<16)
	for {
		line, err := r.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			// A line longer than the buffer: look at its start, skip the rest.
			p.logRead += int64(len(line))
			if bytes.Contains(line, []byte(substr)) {
				return string(line), true
			}
			continue
		}
		if err != nil {
			return "", false // a line not yet whole waits for the next call
		}
		p.logRead += int64(len(line))
		if bytes.Contains(line, []byte(substr)) {
			return string(bytes.TrimRight(line, "\n")), true
		}
	}
}

// logTail returns the last n lines of the process's output, indented,
// from at most its last 64 KiB.
func (p *proc) logTail(n int) string {
	f, err := os.Open(p.logPath)
	if err != nil {
		return "    (no log: " + err.Error() + ")"
	}
	defer f.Close()
	const most = 64 << 10
	var b []byte
	if st, err := f.Stat(); err == nil && st.Size() > most {
		b = make([]byte, most)
		n, _ := f.ReadAt(b, st.Size()-most)
		b = b[:n]
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			b = b[i+1:] // from the first whole line
		}
	} else if b, err = io.ReadAll(f); err != nil {
		return "    (no log: " + err.Error() + ")"
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return "    " + strings.Join(lines, "\n    ")
}

// family returns pid and its descendants, such as latch's password-hashing
// workers, whose memory and CPU time count as the server's.
func family(pid int) []int {
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	children := map[int][]int{}
	for _, f := range stats {
		b, err := os.ReadFile(f)
		if err != nil {
			continue // ended meanwhile
		}
		i := bytes.LastIndexByte(b, ')')
		if i < 0 {
			continue
		}
		fields := strings.Fields(string(b[i+1:]))
		if len(fields) < 2 {
			continue
		}
		ppid, err1 := strconv.Atoi(fields[1])
		child, err2 := strconv.Atoi(filepath.Base(filepath.Dir(f)))
		if err1 == nil && err2 == nil {
			children[ppid] = append(children[ppid], child)
		}
	}
	all := []int{pid}
	for i := 0; i < len(all); i++ {
		all = append(all, children[all[i]]...)
	}
	return all
}

// memory returns the resident set size of pid and its descendants now
// (VmRSS) and the sum of their peaks (VmHWM), in bytes. The sum of peaks
// is an upper bound of the peak of the sum.
func memory(pid int) (rss, peak int64, err error) {
	return memoryOf(family(pid))
}

// memoryOf is memory for the processes pids, the first of which must exist.
func memoryOf(pids []int) (rss, peak int64, err error) {
	for i, p := range pids {
		r, k, err := memory1(p)
		if err != nil {
			if i == 0 {
				return 0, 0, err
			}
			continue // a descendant that ended meanwhile
		}
		rss, peak = rss+r, peak+k
	}
	return rss, peak, nil
}

// memory1 returns the resident set size of pid now (VmRSS) and its peak since
// the process started (VmHWM), in bytes.
func memory1(pid int) (rss, peak int64, err error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, 0, err
	}
	for line := range bytes.Lines(b) {
		if v, ok := bytes.CutPrefix(line, []byte("VmRSS:")); ok {
			rss = kB(v)
		} else if v, ok := bytes.CutPrefix(line, []byte("VmHWM:")); ok {
			peak = kB(v)
		}
	}
	if rss == 0 && peak == 0 {
		return 0, 0, errors.New("no VmRSS in /proc/PID/status")
	}
	return rss, peak, nil
}

func kB(v []byte) int64 {
	n, _ := strconv.ParseInt(string(bytes.TrimSpace(bytes.TrimSuffix(bytes.TrimSpace(v), []byte("kB")))), 10, 64)
	return n << 10
}

// clockTick is the unit of CPU times in /proc/PID/stat: USER_HZ, which
// Linux fixes at 100 on every architecture Go supports.
const clockTick = 10 * time.Millisecond

// cpuTime returns the user plus system CPU time pid and its descendants
// have used.
func cpuTime(pid int) (time.Duration, error) {
	var sum time.Duration
	for i, p := range family(pid) {
		t, err := cpuTime1(p)
		if err != nil {
			if i == 0 {
				return 0, err
			}
			continue
		}
		sum += t
	}
	return sum, nil
}

// cpuTime1 returns the user plus system CPU time pid has used.
func cpuTime1(pid int) (time.Duration, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	// The command name, in parentheses, may hold spaces: count fields
	// from after it. utime and stime are fields 14 and 15.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, errors.New("malformed /proc/PID/stat")
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, errors.New("malformed /proc/PID/stat")
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, errors.New("malformed /proc/PID/stat")
	}
	return time.Duration(utime+stime) * clockTick, nil
}

// rssSampler records the largest VmRSS of a process, read every interval,
// as a cross-check of VmHWM.
type rssSampler struct {
	stopc chan struct{}
	done  chan struct{}
	max   int64
}

func sampleRSS(pid int, every time.Duration) *rssSampler {
	s := &rssSampler{stopc: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		t := time.NewTicker(every)
		defer t.Stop()
		// Finding the descendants reads every process's stat file: on
		// the load generator's CPU, so not at every sample.
		var pids []int
		for i := 0; ; i++ {
			if i%50 == 0 {
				pids = family(pid)
			}
			if rss, _, err := memoryOf(pids); err == nil {
				s.max = max(s.max, rss)
			}
			select {
			case <-s.stopc:
				return
			case <-t.C:
			}
		}
	}()
	return s
}

// stop ends the sampling and returns the largest RSS seen.
func (s *rssSampler) stop() int64 {
	close(s.stopc)
	<-s.done
	return s.max
}

// cpuBusy returns the time CPU cpu has spent busy, for all processes, from
// /proc/stat: everything but idle and waiting for I/O.
func cpuBusy(cpu int) (time.Duration, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, err
	}
	prefix := "cpu" + strconv.Itoa(cpu) + " "
	for line := range strings.Lines(string(b)) {
		rest, ok := strings.CutPrefix(line, prefix)
		if !ok {
			continue
		}
		var busy int64
		for i, f := range strings.Fields(rest) {
			n, err := strconv.ParseInt(f, 10, 64)
			if err != nil {
				return 0, errors.New("malformed /proc/stat")
			}
			// Fields: user nice system idle iowait irq softirq steal
			// guest guest_nice; guest time is already in user.
			if i != 3 && i != 4 && i < 8 {
				busy += n
			}
		}
		return time.Duration(busy) * clockTick, nil
	}
	return 0, fmt.Errorf("no cpu%d in /proc/stat", cpu)
}
