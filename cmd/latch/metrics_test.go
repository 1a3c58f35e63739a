package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
)

// startMetricsServer starts latch with metrics on a port of their own.
func startMetricsServer(t *testing.T, extra ...string) *server {
	t.Helper()
	args := append([]string{"-addr", "127.0.0.1:0", "-data-dir", t.TempDir(), "-metrics-addr", "127.0.0.1:0", "-hash-in-process"}, extra...)
	cfg, err := parseConfig(args, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := openServer(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() {
		srv.Serve(ctx)
		close(stopped)
	}()
	t.Cleanup(func() {
		cancel()
		<-stopped
		srv.Close()
	})
	return srv
}

func get(t *testing.T, u string) (int, string) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestMetrics(t *testing.T) {
	srv := startMetricsServer(t)
	if srv.MetricsAddr() == "" || srv.MetricsAddr() == srv.Addr() {
		t.Fatalf("metrics address = %q, public %q; want a listener of its own", srv.MetricsAddr(), srv.Addr())
	}
	public := "http://" + srv.Addr()
	// A failed login, counted by outcome.
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, _ := http.NewRequest("POST", public+"/login", strings.NewReader(url.Values{"email": {"nobody@example.com"}, "password": {"wrong password"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("POST /login = %d; want 303", resp.StatusCode)
	}
	get(t, public+"/login")

	if code, _ := get(t, public+"/metrics"); code != 404 {
		t.Errorf("public GET /metrics = %d; want 404", code)
	}
	code, body := get(t, "http://"+srv.MetricsAddr()+"/metrics")
	if code != 200 {
		t.Fatalf("GET /metrics on the metrics address = %d; want 200", code)
	}
	for _, want := range []string{
		`latch_logins_total{outcome="failure"} 1`,
		`latch_http_requests_total{code="303",route="POST /login"} 1`,
		`latch_http_requests_total{code="200",route="GET /login"} 1`,
		`latch_http_request_duration_seconds_bucket{route="GET /login"`,
		`latch_live_sessions 0`,
		`latch_mail_queue_depth 0`,
		`latch_hash_queue_depth 0`,
		`go_goroutines`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics do not contain %q", want)
		}
	}
}

func TestMetricsOffByDefault(t *testing.T) {
	dir := t.TempDir() + "/data"
	srv, _, _ := startServer(t, dir)
	if srv.MetricsAddr() != "" {
		t.Errorf("metrics address = %q without -metrics-addr; want none", srv.MetricsAddr())
	}
	if code, _ := get(t, "http://"+srv.Addr()+"/metrics"); code != 404 {
		t.Errorf("public GET /metrics = %d; want 404", code)
	}
}

func TestReadyz(t *testing.T) {
	srv := startMetricsServer(t)
	if code, body := get(t, "http://"+srv.Addr()+"/readyz"); code != 200 || !strings.Contains(body, "ready") {
		t.Errorf("GET /readyz = %d %q; want 200 ready", code, body)
	}
	srv.store.Close()
	if code, _ := get(t, "http://"+srv.Addr()+"/readyz"); code != 503 {
		t.Errorf("GET /readyz with the database closed = %d; want 503", code)
	}
}

// TestReadyzChecksRedis closes the Redis connection under a running
// server: /readyz says 503 while /healthz, about the process and its
// database, still says 200.
func TestReadyzChecksRedis(t *testing.T) {
	r := os.Getenv("LATCH_TEST_REDIS_URL")
	if r == "" {
		if os.Getenv("LATCH_TEST_REQUIRE_SERVICES") == "1" {
			t.Fatal("LATCH_TEST_REDIS_URL is not set")
		}
		t.Skip("set LATCH_TEST_REDIS_URL to run")
	}
	srv := startMetricsServer(t, "-redis-url", redisDB(t, r))
	if code, _ := get(t, "http://"+srv.Addr()+"/readyz"); code != 200 {
		t.Fatalf("GET /readyz with Redis = %d; want 200", code)
	}
	srv.redis.Close()
	if code, _ := get(t, "http://"+srv.Addr()+"/readyz"); code != 503 {
		t.Errorf("GET /readyz with Redis closed = %d; want 503", code)
	}
	if code, _ := get(t, "http://"+srv.Addr()+"/healthz"); code != 200 {
		t.Errorf("GET /healthz with Redis closed = %d; want 200", code)
	}
}
