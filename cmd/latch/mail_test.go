package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/emersion/go-smtp"
	"github.com/latchauth/latch/internal/apptest"
	"github.com/latchauth/latch/mailer"
)

// relay is a real SMTP server on a loopback port, without TLS, that keeps
// what it receives.
type relay struct {
	addr string
	mu   sync.Mutex
	got  [][]byte
}

func startRelay(t *testing.T) *relay {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &relay{addr: ln.Addr().String()}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return relaySession{r}, nil }))
	srv.Domain = "localhost"
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return r
}

func (r *relay) messages() [][]byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([][]byte(nil), r.got...)
}

type relaySession struct{ r *relay }

func (relaySession) Reset()                               {}
func (relaySession) Logout() error                        { return nil }
func (relaySession) Mail(string, *smtp.MailOptions) error { return nil }
func (relaySession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (s relaySession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	s.r.mu.Lock()
	s.r.got = append(s.r.got, b)
	s.r.mu.Unlock()
	return err
}

var welcome = mailer.Message{To: "ada@example.org", Subject: "Welcome", Text: "Hello Ada.\n", HTML: "<p>Hello Ada.</p>\n"}

// TestMailSettingsRefused checks that bad mail settings stop latch with
// the setting's name, and that the SMTP password is never repeated.
func TestMailSettingsRefused(t *testing.T) {
	tests := []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"LATCH_SMTP_URL": "mail.example.com:587"}, "LATCH_SMTP_URL"},
		{map[string]string{"LATCH_SMTP_URL": "smtp://ada:hunter2@mail.example.com?tls=none"}, "in clear"},
		{map[string]string{"LATCH_SMTP_URL": "smtp://ada:hunter2@mail.example.com:7%"}, "LATCH_SMTP_URL"},
		{map[string]string{"LATCH_SMTP_URL": "smtp://mail.example.com?tls=maybe"}, "tls="},
		{map[string]string{"LATCH_MAIL_FROM": "nobody"}, "LATCH_MAIL_FROM"},
		{map[string]string{"LATCH_MAIL_FROM": "a@example.com, b@example.com"}, "LATCH_MAIL_FROM"},
	}
	for _, tt := range tests {
		dataDir := filepath.Join(t.TempDir(), "data")
		e := map[string]string{"LATCH_DATA_DIR": dataDir, "LATCH_ADDR": "127.0.0.1:0"}
		for k, v := range tt.env {
			e[k] = v
		}
		var out, errb bytes.Buffer
		code := run(context.Background(), nil, env(e), &out, &errb)
		if code == 0 || !strings.Contains(errb.String(), tt.want) {
			t.Errorf("run with %v = %d, stderr %q; want non-zero mentioning %q", tt.env, code, errb.String(), tt.want)
		}
		if strings.Contains(errb.String(), "hunter2") {
			t.Errorf("run with %v: stderr %q shows the SMTP password", tt.env, errb.String())
		}
	}
}

// TestStartLogMasksSMTPPassword checks the start line: where mail goes,
// without the password.
func TestStartLogMasksSMTPPassword(t *testing.T) {
	stderr := &apptest.Buffer{}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e := env(map[string]string{
		"LATCH_DATA_DIR": t.TempDir(), "LATCH_ADDR": "127.0.0.1:0",
		"LATCH_SMTP_URL":  "smtp://ada:hunter2@127.0.0.1:1",
		"LATCH_MAIL_FROM": "Example <noreply@example.com>",
	})
	code := make(chan int, 1)
	go func() { code <- run(ctx, []string{"serve"}, e, io.Discard, stderr) }()
	waitFor(t, "the listening line", func() bool { return strings.Contains(stderr.String(), "latch listening") })
	cancel()
	if c := <-code; c != 0 {
		t.Fatalf("serve exit = %d; want 0 (stderr %s)", c, stderr)
	}
	logs := stderr.String()
	if strings.Contains(logs, "hunter2") {
		t.Errorf("log shows the SMTP password:\n%s", logs)
	}
	if !strings.Contains(logs, "smtp=smtp://ada:xxxxx@127.0.0.1:1") || !strings.Contains(logs, `mail_from="Example <noreply@example.com>"`) {
		t.Errorf("start line does not say where mail goes:\n%s", logs)
	}
}

// TestServeWritesMailToOutbox checks the zero-configuration default: the
// server's queue writes mail into DATA_DIR/outbox.
func TestServeWritesMailToOutbox(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	srv, _, _ := startServer(t, dir)
	if err := srv.mail.Enqueue(t.Context(), welcome); err != nil {
		t.Fatalf("Enqueue() error = %v; want nil", err)
	}
	outbox := filepath.Join(dir, "outbox")
	var files []os.DirEntry
	waitFor(t, "a file in the outbox", func() bool {
		files, _ = os.ReadDir(outbox)
		return len(files) == 1 && strings.HasSuffix(files[0].Name(), ".eml")
	})
	data, err := os.ReadFile(filepath.Join(outbox, files[0].Name()))
	if err != nil {
		t.Fatal(err)
	}
	m, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("outbox file does not parse: %v", err)
	}
	if m.Header.Get("To") != "<ada@example.org>" && m.Header.Get("To") != "ada@example.org" {
		t.Errorf("To = %q; want ada@example.org", m.Header.Get("To"))
	}
	if got := m.Header.Get("From"); !strings.Contains(got, "<noreply@localhost>") {
		t.Errorf("From = %q; want the default latch <noreply@localhost>", got)
	}
}

// TestServeSendsMailOverSMTP runs the server with an SMTP URL: mail queued
// by the server reaches the relay, and no outbox is made.
func TestServeSendsMailOverSMTP(t *testing.T) {
	r := startRelay(t)
	dir := t.TempDir()
	cfg, err := parseConfig([]string{"-addr", "127.0.0.1:0", "-data-dir", dir,
		"-smtp-url", "smtp://" + r.addr + "?tls=none", "-mail-from", "latch <noreply@example.com>"}, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := openServer(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
		srv.Close()
	})
	if err := srv.mail.Enqueue(t.Context(), welcome); err != nil {
		t.Fatalf("Enqueue() error = %v; want nil", err)
	}
	waitFor(t, "the message at the relay", func() bool { return len(r.messages()) == 1 })
	m, err := mail.ReadMessage(bytes.NewReader(r.messages()[0]))
	if err != nil {
		t.Fatalf("message does not parse: %v", err)
	}
	if got := m.Header.Get("Subject"); got != "Welcome" {
		t.Errorf("Subject = %q; want Welcome", got)
	}
	if _, err := os.Stat(filepath.Join(dir, "outbox")); err == nil {
		t.Errorf("outbox created although mail goes to SMTP")
	}
}
