package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestHelpListsEverySetting(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"--help"}, env(nil), &out, &errb); code != 0 {
		t.Fatalf("latch --help exit = %d; want 0 (stderr %q)", code, errb.String())
	}
	for _, s := range settings {
		if !strings.Contains(out.String(), "-"+s.flag) || !strings.Contains(out.String(), "$"+s.env) {
			t.Errorf("--help does not document -%s / $%s", s.flag, s.env)
		}
	}
}

func TestBadSettingsAreNamed(t *testing.T) {
	tests := []struct {
		env  map[string]string
		args []string
		want string
	}{
		{map[string]string{"LATCH_LOG_LEVEL": "loud"}, nil, "LATCH_LOG_LEVEL"},
		{map[string]string{"LATCH_SECURE_COOKIES": "maybe"}, nil, "LATCH_SECURE_COOKIES"},
		{nil, []string{"-min-password-length", "0"}, "-min-password-length"},
		{map[string]string{"LATCH_SECRET_KEY": "short"}, nil, "at least 32 characters"},
		{map[string]string{"LATCH_SECRET_KEY": strings.Repeat("a", 40)}, nil, "openssl rand -hex 32"},
		{map[string]string{"LATCH_SECRET_KEY": strings.Repeat(" ", 40)}, nil, "only spaces"},
		{map[string]string{"LATCH_SECRET_KEY": strings.Repeat("abc1", 10)}, nil, "only 4 different characters"},
		{map[string]string{"LATCH_TRUSTED_PROXIES": "10.0.0.0/8,nonsense"}, nil, `"nonsense"`},
		{nil, []string{"serve", "extra"}, "unexpected argument"},
		{nil, []string{"-secure-cookies", "true"}, "write -secure-cookies=true"},
		{map[string]string{"LATCH_DATABASE_URL": "mysql://x"}, nil, "LATCH_DATABASE_URL: \"mysql://x\" is not supported"},
		{map[string]string{"LATCH_DATABASE_URL": "sqlite:"}, nil, "sqlite: needs a file path"},
		{map[string]string{"LATCH_BASE_URL": "example.com"}, nil, "LATCH_BASE_URL"},
		{nil, []string{"-base-url", "ftp://example.com"}, "-base-url"},
		{nil, []string{"-require-verified-email=perhaps"}, "-require-verified-email"},
	}
	for _, tt := range tests {
		// A setting refused creates nothing: not even the data folder.
		dataDir := filepath.Join(t.TempDir(), "data")
		e := map[string]string{"LATCH_DATA_DIR": dataDir, "LATCH_ADDR": "127.0.0.1:0"}
		for k, v := range tt.env {
			e[k] = v
		}
		var out, errb bytes.Buffer
		code := run(context.Background(), tt.args, env(e), &out, &errb)
		if code == 0 || !strings.Contains(errb.String(), tt.want) {
			t.Errorf("run(%v, %v) = %d, stderr %q; want non-zero mentioning %q", tt.args, tt.env, code, errb.String(), tt.want)
		}
		if _, err := os.Stat(dataDir); err == nil {
			t.Errorf("run(%v, %v) created the data folder before refusing a setting", tt.args, tt.env)
		}
	}
}

// TestBooleanSettings checks that a true-or-false setting's flag may be
// given alone for true, as Go's boolean flags are, or with =, and wins over
// its environment variable either way.
func TestBooleanSettings(t *testing.T) {
	tests := []struct {
		env                          map[string]string
		args                         []string
		secureCookies, hashInProcess bool
	}{
		{nil, nil, false, false},
		{nil, []string{"-secure-cookies", "-hash-in-process"}, true, true},
		{nil, []string{"-secure-cookies=true", "-hash-in-process=false"}, true, false},
		{map[string]string{"LATCH_SECURE_COOKIES": "true"}, nil, true, false},
		{map[string]string{"LATCH_SECURE_COOKIES": "true"}, []string{"-secure-cookies=false"}, false, false},
		{map[string]string{"LATCH_HASH_IN_PROCESS": "1"}, nil, false, true},
		// An https:// base URL implies Secure cookies, unless they are
		// turned off in so many words.
		{map[string]string{"LATCH_BASE_URL": "https://example.com"}, nil, true, false},
		{nil, []string{"-base-url", "https://example.com", "-secure-cookies=false"}, false, false},
		{map[string]string{"LATCH_BASE_URL": "https://example.com", "LATCH_SECURE_COOKIES": "false"}, nil, false, false},
		{nil, []string{"-base-url", "http://example.com"}, false, false},
	}
	for _, tt := range tests {
		cfg, err := parseConfig(tt.args, env(tt.env), io.Discard)
		if err != nil {
			t.Errorf("parseConfig(%q, %v) error = %v; want nil", tt.args, tt.env, err)
			continue
		}
		if cfg.SecureCookies != tt.secureCookies || cfg.HashInProcess != tt.hashInProcess {
			t.Errorf("parseConfig(%q, %v): secure cookies %v, hash in process %v; want %v, %v",
				tt.args, tt.env, cfg.SecureCookies, cfg.HashInProcess, tt.secureCookies, tt.hashInProcess)
		}
	}
}

// startServer starts latch on a free port with a fresh data folder.
func startServer(t *testing.T, dataDir string) (*server, context.CancelFunc, <-chan error) {
	t.Helper()
	cfg, err := parseConfig([]string{"-addr", "127.0.0.1:0", "-data-dir", dataDir}, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := openServer(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	stopped := make(chan struct{})
	go func() {
		done <- srv.Serve(ctx)
		close(stopped)
	}()
	t.Cleanup(func() {
		cancel()
		<-stopped
		srv.Close()
	})
	return srv, cancel, done
}

func TestServeCreatesDataAndAnswers(t *testing.T) {
	dir := t.TempDir() + "/data"
	srv, _, _ := startServer(t, dir)
	resp, err := http.Get("http://" + srv.Addr() + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("GET /healthz = %d; want 200", resp.StatusCode)
	}
	fi, err := os.Stat(dir + "/secret.key")
	if err != nil {
		t.Fatalf("secret key not created: %v", err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("secret.key mode = %v; want 0600", fi.Mode().Perm())
	}
	// The database and its log hold password hashes and session records:
	// for latch's user alone, like the folder.
	for _, name := range []string{"", "/latch.db", "/latch.db-wal", "/latch.db-shm"} {
		want := os.FileMode(0o600)
		if name == "" {
			want = 0o700
		}
		if fi, err := os.Stat(dir + name); err != nil {
			t.Errorf("%s not created: %v", dir+name, err)
		} else if fi.Mode().Perm() != want {
			t.Errorf("%s mode = %04o; want %04o", dir+name, fi.Mode().Perm(), want)
		}
	}
	key1, _ := os.ReadFile(dir + "/secret.key")
	cfg := config{DataDir: dir}
	key2, origin, err := secretKey(cfg)
	if err != nil || strings.TrimSpace(string(key1)) != string(key2) {
		t.Errorf("secret key not reused on the next start")
	}
	if want := "read from " + filepath.Join(dir, "secret.key"); origin != want {
		t.Errorf("secretKey origin = %q; want %q", origin, want)
	}
}

// TestShutdownFinishesRequestsInFlight starts a sign-up whose body is only
// half sent, asks the server to stop, then sends the rest: the request must
// still be answered.
func TestShutdownFinishesRequestsInFlight(t *testing.T) {
	srv, cancel, done := startServer(t, t.TempDir())
	conn, err := net.Dial("tcp", srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	body := url.Values{"email": {"ann@example.com"}, "name": {"Ann"}, "password": {"correct horse battery"}}.Encode()
	fmt.Fprintf(conn, "POST /signup HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n%s",
		srv.Addr(), len(body), body[:10])
	time.Sleep(100 * time.Millisecond) // let the server start reading
	cancel()
	time.Sleep(100 * time.Millisecond) // shutdown has begun and waits for us
	fmt.Fprint(conn, body[10:])
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("request in flight got no answer: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login" {
		t.Errorf("in-flight signup = %d → %q; want 303 → /login", resp.StatusCode, resp.Header.Get("Location"))
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve = %v; want nil after graceful shutdown", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("server did not stop")
	}
	if _, err := http.Get("http://" + srv.Addr() + "/"); err == nil {
		t.Error("server still accepts connections after shutdown")
	}
}

// TestSecretKeyFile checks the key kept in the data folder: generated and
// then read, each said truthfully for the start-up log; refused when other
// users may read it, or when it is plainly not random, with what to do.
func TestSecretKeyFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "secret.key")
	cfg := config{DataDir: dir}
	if _, origin, err := secretKey(cfg); err != nil || origin != "generated in "+path {
		t.Fatalf("secretKey on an empty folder = %q, %v; want %q", origin, err, "generated in "+path)
	}
	if _, origin, err := secretKey(cfg); err != nil || origin != "read from "+path {
		t.Fatalf("secretKey on the next start = %q, %v; want %q", origin, err, "read from "+path)
	}
	tests := []struct {
		content string
		mode    os.FileMode
		want    string
	}{
		{"0123456789abcdef0123456789abcdef\n", 0o644, "chmod 600"},
		{"0123456789abcdef0123456789abcdef\n", 0o640, "chmod 600"},
		{strings.Repeat("x", 64) + "\n", 0o600, "openssl rand -hex 32"},
		{"short\n", 0o600, "too short"},
	}
	for _, tt := range tests {
		if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path, tt.mode); err != nil {
			t.Fatal(err)
		}
		_, _, err := secretKey(cfg)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("secretKey with %q, mode %04o: error %v; want one saying %q", tt.content, tt.mode, err, tt.want)
		}
	}
}

// TestServePortInUse starts latch on an address another program holds: the
// start fails with the message that says what to do, and does not crash.
func TestServePortInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cfg, err := parseConfig([]string{"-addr", ln.Addr().String(), "-data-dir", t.TempDir()}, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := openServer(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if srv != nil || err == nil || !strings.Contains(err.Error(), "is another program using the port?") {
		t.Fatalf("openServer on a used port = %v, %v; want nil and the error naming the port", srv, err)
	}
}
