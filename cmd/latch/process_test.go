package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// latchBinary builds the latch command once per test run.
func latchBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the latch binary; skipped with -short")
	}
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "latch-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "latch")
		goCmd, err := exec.LookPath("go")
		if err != nil {
			buildErr = fmt.Errorf("the go command builds latch for these tests: put it on PATH: %w", err)
			return
		}
		out, err := exec.Command(goCmd, "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// proc is a latch process started by a test.
type proc struct {
	cmd  *exec.Cmd
	base string
	logs *strings.Builder
	mu   *sync.Mutex
}

// startProc starts the latch binary with the given extra environment and
// waits until it listens.
func startProc(t *testing.T, environ ...string) *proc {
	t.Helper()
	cmd := exec.Command(latchBinary(t), "serve")
	cmd.Env = append(os.Environ(), append([]string{"LATCH_ADDR=127.0.0.1:0", "LATCH_LOG_FORMAT=json"}, environ...)...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, logs: &strings.Builder{}, mu: &sync.Mutex{}}
	t.Cleanup(func() { p.kill() })
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			p.mu.Lock()
			p.logs.WriteString(line + "\n")
			p.mu.Unlock()
			var rec struct {
				Msg string `json:"msg"`
				URL string `json:"url"`
			}
			if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "latch listening" {
				ready <- rec.URL
			}
		}
		close(ready)
	}()
	select {
	case u, ok := <-ready:
		if !ok {
			t.Fatalf("latch exited before listening; logs:\n%s", p.logText())
		}
		p.base = u
	case <-time.After(60 * time.Second):
		t.Fatalf("latch did not start within 60s; logs:\n%s", p.logText())
	}
	return p
}

func (p *proc) logText() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.logs.String()
}

// kill ends the process with SIGKILL, as a crash or the OOM killer would.
func (p *proc) kill() {
	if p.cmd.ProcessState == nil {
		p.cmd.Process.Signal(syscall.SIGKILL)
		p.cmd.Wait()
	}
}

// client is a browser-like HTTP client for a process.
type client struct {
	t    *testing.T
	http *http.Client
}

func newClient(t *testing.T) *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: t, http: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// post sends a form as a same-origin browser would and returns the status
// and redirect target.
func (c *client) post(base, path string, form url.Values) (int, string) {
	c.t.Helper()
	req, _ := http.NewRequest("POST", base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", base)
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatalf("POST %s%s: %v", base, path, err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("Location")
}

func (c *client) get(base, path string) (int, string) {
	c.t.Helper()
	resp, err := c.http.Get(base + path)
	if err != nil {
		c.t.Fatalf("GET %s%s: %v", base, path, err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp.StatusCode, string(b)
}

// TestSignupSurvivesKill9 signs users up, kills the process with SIGKILL
// right after the last answer, restarts it and logs every user in: an
// acknowledged sign-up is never lost.
func TestSignupSurvivesKill9(t *testing.T) {
	for _, backend := range testBackends(t) {
		t.Run(backend.name, func(t *testing.T) {
			environ := backend.env(t)
			p := startProc(t, environ...)
			c := newClient(t)
			const n = 10
			for i := range n {
				st, loc := c.post(p.base, "/signup", url.Values{"email": {fmt.Sprintf("user%d@example.com", i)},
					"name": {fmt.Sprintf("User %d", i)}, "password": {"correct horse battery"}})
				if st != http.StatusSeeOther || loc != "/login" {
					t.Fatalf("signup %d = %d → %q; want 303 → /login", i, st, loc)
				}
			}
			p.kill()

			p2 := startProc(t, environ...)
			for i := range n {
				c := newClient(t)
				st, loc := c.post(p2.base, "/login", url.Values{"email": {fmt.Sprintf("user%d@example.com", i)},
					"password": {"correct horse battery"}})
				if st != http.StatusSeeOther || loc != "/profile" {
					t.Fatalf("after kill -9, login %d = %d → %q; want 303 → /profile", i, st, loc)
				}
				if st, body := c.get(p2.base, "/profile"); st != 200 || !strings.Contains(body, fmt.Sprintf("Welcome, User %d!", i)) {
					t.Fatalf("after kill -9, profile %d = %d", i, st)
				}
			}
		})
	}
}

// backend is a database a process test runs against.
type backend struct {
	name string
	// env returns the environment for processes sharing one database.
	env func(t *testing.T) []string
}

func testBackends(t *testing.T) []backend {
	bs := []backend{{"sqlite", func(t *testing.T) []string {
		return []string{"LATCH_DATA_DIR=" + t.TempDir()}
	}}}
	return append(bs, extraBackends(t)...)
}

// TestUsersCommandsReachRunningServer runs `latch users set-password` and
// `latch users delete` as separate processes while the server is up, and
// checks that the server stops accepting the user's session soon after:
// the server's cache of sessions and users must notice writes it did not
// make.
func TestUsersCommandsReachRunningServer(t *testing.T) {
	for _, backend := range testBackends(t) {
		t.Run(backend.name, func(t *testing.T) {
			environ := backend.env(t)
			p := startProc(t, environ...)
			logIn := func(email string) *client {
				c := newClient(t)
				st, loc := c.post(p.base, "/login", url.Values{"email": {email}, "password": {"correct horse battery"}})
				if st != http.StatusSeeOther || loc != "/profile" {
					t.Fatalf("login %s = %d → %q; want 303 → /profile", email, st, loc)
				}
				// Twice: the second load may come from the cache.
				for range 2 {
					if st, _ := c.get(p.base, "/profile"); st != http.StatusOK {
						t.Fatalf("profile of %s = %d; want 200", email, st)
					}
				}
				return c
			}
			for _, email := range []string{"ada@example.com", "bob@example.com"} {
				st, _ := newClient(t).post(p.base, "/signup", url.Values{"email": {email}, "name": {"Someone"}, "password": {"correct horse battery"}})
				if st != http.StatusSeeOther {
					t.Fatalf("signup %s = %d; want 303", email, st)
				}
			}
			ada, bob := logIn("ada@example.com"), logIn("bob@example.com")

			command := func(stdin string, args ...string) {
				t.Helper()
				cmd := exec.Command(latchBinary(t), args...)
				cmd.Env = append(os.Environ(), environ...)
				cmd.Stdin = strings.NewReader(stdin)
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Fatalf("latch %s: %v\n%s", strings.Join(args, " "), err, out)
				}
			}
			loggedOut := func(who string, c *client) {
				t.Helper()
				deadline := time.Now().Add(2 * time.Second)
				for {
					st, _ := c.get(p.base, "/profile")
					if st == http.StatusSeeOther {
						return
					}
					if time.Now().After(deadline) {
						t.Fatalf("%s: profile still %d 2s after the command; want 303 to the login page", who, st)
					}
					time.Sleep(20 * time.Millisecond)
				}
			}

			command("a new long password\na new long password\n", "users", "set-password", "-email", "ada@example.com")
			loggedOut("after set-password", ada)
			command("", "users", "delete", "-email", "bob@example.com")
			loggedOut("after delete", bob)
			if st, loc := newClient(t).post(p.base, "/login", url.Values{"email": {"ada@example.com"}, "password": {"a new long password"}}); st != http.StatusSeeOther || loc != "/profile" {
				t.Errorf("login with the new password = %d → %q; want 303 → /profile", st, loc)
			}
		})
	}
}

// TestSpareProcessorWhileHashing checks that latch hashing in process gives
// the Go runtime one processor more than its hashing slots while it hashes
// passwords, takes it back afterwards, and leaves GOMAXPROCS alone when the
// operator set it.
func TestSpareProcessorWhileHashing(t *testing.T) {
	if os.Getenv("GOMAXPROCS") != "" {
		t.Skip("GOMAXPROCS is set in the environment, and latch would keep it")
	}
	// Hashing slots as many as the processors, so that none is spare.
	slots := runtime.NumCPU()
	for _, operatorSet := range []bool{false, true} {
		environ := []string{"LATCH_DATA_DIR=" + t.TempDir(), "LATCH_LOG_LEVEL=debug", fmt.Sprintf("LATCH_HASH_CONCURRENCY=%d", slots), "LATCH_HASH_IN_PROCESS=true"}
		if operatorSet {
			environ = append(environ, fmt.Sprintf("GOMAXPROCS=%d", slots))
		}
		p := startProc(t, environ...)
		added := fmt.Sprintf(`"msg":"hashing: spare processor added","gomaxprocs":%d`, slots+1)
		removed := fmt.Sprintf(`"msg":"hashing stopped: spare processor removed","gomaxprocs":%d`, slots)
		c := newClient(t)
		// Each sign-up hashes a password for some 25 ms; the governor
		// looks every 10 ms.
		for i := range 20 {
			c.post(p.base, "/signup", url.Values{"email": {fmt.Sprintf("u%d@example.com", i)}, "name": {"U"}, "password": {"correct horse battery"}})
			if strings.Contains(p.logText(), added) {
				break
			}
		}
		if !operatorSet {
			if !strings.Contains(p.logText(), added) {
				t.Fatalf("no %s in the log after 20 sign-ups:\n%s", added, p.logText())
			}
			deadline := time.Now().Add(5 * time.Second)
			for !strings.Contains(p.logText(), removed) && time.Now().Before(deadline) {
				time.Sleep(50 * time.Millisecond)
			}
			if !strings.Contains(p.logText(), removed) {
				t.Errorf("no %s in the log 5s after hashing stopped", removed)
			}
		} else if strings.Contains(p.logText(), "spare processor") {
			t.Errorf("with GOMAXPROCS set, latch changed it:\n%s", p.logText())
		}
		p.kill()
	}
}
