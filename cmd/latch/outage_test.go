package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchauth/latch/internal/pgtest"
)

// cutProxy forwards TCP connections to a server until it is cut, standing
// in for a database that goes away and comes back.
type cutProxy struct {
	t      *testing.T
	target string
	addr   string
	mu     sync.Mutex
	ln     net.Listener
	conns  []net.Conn
}

func newCutProxy(t *testing.T, target string) *cutProxy {
	p := &cutProxy{t: t, target: target}
	p.up("127.0.0.1:0")
	t.Cleanup(p.down)
	return p
}

func (p *cutProxy) up(addr string) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		p.t.Fatal(err)
	}
	p.mu.Lock()
	p.ln, p.addr = ln, ln.Addr().String()
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, s)
			p.mu.Unlock()
			go func() { io.Copy(s, c); s.Close() }()
			go func() { io.Copy(c, s); c.Close() }()
		}
	}()
}

// down closes the listener and cuts every connection.
func (p *cutProxy) down() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// TestDatabaseOutage cuts the connection to PostgreSQL under a running
// latch: requests must fail fast with a message (503, never a 500 or a
// hang), and latch must recover by itself when the database is back.
func TestDatabaseOutage(t *testing.T) {
	dbURL, _ := pgtest.NewSchema(t)
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	proxy := newCutProxy(t, u.Host)
	u.Host = proxy.addr
	q := u.Query()
	q.Set("connect_timeout", "2")
	u.RawQuery = q.Encode()

	cfg, err := parseConfig([]string{"-addr", "127.0.0.1:0", "-data-dir", t.TempDir(), "-database-url", u.String()}, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := openServer(t.Context(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	t.Cleanup(func() { cancel(); <-done; srv.Close() })
	base := "http://" + srv.Addr()

	c := newClient(t)
	c.post(base, "/signup", url.Values{"email": {"ann@example.com"}, "name": {"Ann"}, "password": {"correct horse battery"}})
	if st, loc := c.post(base, "/login", url.Values{"email": {"ann@example.com"}, "password": {"correct horse battery"}}); loc != "/profile" {
		t.Fatalf("login = %d → %q; want → /profile", st, loc)
	}

	proxy.down()
	for _, path := range []string{"/profile", "/healthz"} {
		start := time.Now()
		st, body := c.get(base, path)
		if st != http.StatusServiceUnavailable {
			t.Errorf("database down: GET %s = %d; want 503", path, st)
		}
		if path == "/profile" && !strings.Contains(body, "temporarily unavailable") {
			t.Errorf("database down: GET %s body lacks a message saying so", path)
		}
		if d := time.Since(start); d > 15*time.Second {
			t.Errorf("database down: GET %s took %v; want a prompt answer", path, d)
		}
	}
	st, _ := c.post(base, "/login", url.Values{"email": {"ann@example.com"}, "password": {"correct horse battery"}})
	if st != http.StatusServiceUnavailable {
		t.Errorf("database down: POST /login = %d; want 503", st)
	}

	proxy.up(proxy.addr)
	deadline := time.Now().Add(20 * time.Second)
	for {
		st, body := c.get(base, "/profile")
		if st == 200 && strings.Contains(body, "Welcome, Ann!") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("database back: GET /profile still %d after 20s; want latch to recover by itself", st)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
