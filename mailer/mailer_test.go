package mailer_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/latchauth/latch/internal/eventually"
	"github.com/latchauth/latch/mailer"
	"github.com/latchauth/latch/memstore"
	"github.com/latchauth/latch/sqlitestore"
	gomail "github.com/wneessen/go-mail"
)

// wait bounds every wait for the background worker: long enough never to
// flake on a loaded machine, and only reached when a test fails.
const wait = 20 * time.Second

const from = "latch <noreply@example.com>"

// testMessage has non-ASCII text in every field that may hold it.
var testMessage = mailer.Message{
	To:      "ada@example.org",
	Subject: "Vérifiez votre adresse ✓",
	Text:    "Hello Ada,\n\nconfirm your address: https://latch.example/verify?t=abc=123\nGrüße, 你好\n",
	HTML:    "<p>Hello Ada,</p>\n<p><a href=\"https://latch.example/verify?t=abc=123\">confirm your address</a> Grüße, 你好</p>\n",
}

// logBuffer collects a logger's lines for the test to read.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// watchedStore records the outcomes the queue writes to a store.
type watchedStore struct {
	mailer.QueueStore
	mu      sync.Mutex
	retries []string // last errors recorded, in order
	deletes int
	onRetry func(n int) // if set, called with the number of retries so far
}

func (w *watchedStore) RetryMail(ctx context.Context, id string, dueAt time.Time, lastError string) error {
	w.mu.Lock()
	w.retries = append(w.retries, lastError)
	n := len(w.retries)
	w.mu.Unlock()
	if w.onRetry != nil {
		w.onRetry(n)
	}
	return w.QueueStore.RetryMail(ctx, id, dueAt, lastError)
}

func (w *watchedStore) DeleteMail(ctx context.Context, id string) error {
	w.mu.Lock()
	w.deletes++
	w.mu.Unlock()
	return w.QueueStore.DeleteMail(ctx, id)
}

func (w *watchedStore) counts() (retries []string, deletes int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.retries...), w.deletes
}

// newQueue returns a queue on store with retries within milliseconds.
func newQueue(t *testing.T, store mailer.QueueStore, sender mailer.Sender, log *slog.Logger, limit int) *mailer.Queue {
	t.Helper()
	q, err := mailer.New(store, mailer.Config{
		From:         from,
		Sender:       sender,
		Logger:       log,
		Limit:        limit,
		MinBackoff:   20 * time.Millisecond,
		MaxBackoff:   50 * time.Millisecond,
		PollInterval: 10 * time.Millisecond,
		SendTimeout:  10 * time.Second,
		Lease:        time.Minute,
	})
	if err != nil {
		t.Fatalf("mailer.New() error = %v; want nil", err)
	}
	return q
}

// run runs q's worker until the test ends.
func run(t *testing.T, q *mailer.Queue) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- q.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run() = %v; want nil", err)
		}
	})
}

// smtpURL returns the URL of s with the given credentials and query.
func smtpURL(scheme, user, pass, addr, query string) string {
	u := url.URL{Scheme: scheme, Host: addr, RawQuery: query}
	if user != "" {
		u.User = url.UserPassword(user, pass)
	}
	return u.String()
}

// receivedOnce waits until srv has received exactly one message and
// returns it.
func receivedOnce(t *testing.T, srv *smtpServer) received {
	t.Helper()
	eventually.True(t, wait, "delivery", func() error {
		if n := len(srv.messages()); n == 0 {
			return errors.New("no message received")
		}
		return nil
	})
	got := srv.messages()
	if len(got) != 1 {
		t.Fatalf("server received %d messages; want 1", len(got))
	}
	return got[0]
}

// wantEmpty waits until the queue of store holds no message.
func wantEmpty(t *testing.T, store *watchedStore, deletes int) {
	t.Helper()
	eventually.True(t, wait, "queue emptied", func() error {
		if _, d := store.counts(); d < deletes {
			return fmt.Errorf("%d deletions", d)
		}
		return nil
	})
	ms, err := store.ClaimMail(context.Background(), time.Now().Add(100*365*24*time.Hour), time.Now(), 10)
	if err != nil || len(ms) != 0 {
		t.Errorf("queue after delivery holds %d messages (error %v); want none", len(ms), err)
	}
}

var messageIDPattern = regexp.MustCompile(`^<\d{8}T\d{6}\.\d{6}Z-[a-z2-7]{16}@example\.com>$`)

// checkMail checks that data is testMessage from `from`, with every header
// and both parts.
func checkMail(t *testing.T, data []byte, want mailer.Message) {
	t.Helper()
	p := parseMail(t, data)
	if got := p.header.Get("From"); got != `"latch" <noreply@example.com>` && got != "latch <noreply@example.com>" {
		t.Errorf("From = %q; want latch <noreply@example.com>", got)
	}
	if got, err := p.header.AddressList("To"); err != nil || len(got) != 1 || got[0].Address != want.To {
		t.Errorf("To = %q (%v); want %s", p.header.Get("To"), err, want.To)
	}
	if p.subject != want.Subject {
		t.Errorf("Subject = %q (raw %q); want %q", p.subject, p.header.Get("Subject"), want.Subject)
	}
	if d, err := p.header.Date(); err != nil || time.Since(d) > time.Hour || time.Since(d) < -time.Minute {
		t.Errorf("Date = %q (%v); want about now", p.header.Get("Date"), err)
	}
	if id := p.header.Get("Message-ID"); !messageIDPattern.MatchString(id) {
		t.Errorf("Message-ID = %q; want one matching %s", id, messageIDPattern)
	}
	if got := p.header.Get("MIME-Version"); got != "1.0" {
		t.Errorf("MIME-Version = %q; want 1.0", got)
	}
	wantTypes := []string{"text/plain", "text/html"}
	if want.HTML == "" {
		wantTypes = wantTypes[:1]
	}
	if strings.Join(p.partTypes, " ") != strings.Join(wantTypes, " ") {
		t.Errorf("parts = %v; want %v", p.partTypes, wantTypes)
	}
	crlf := strings.NewReplacer("\r\n", "\n")
	if got := crlf.Replace(p.text); got != want.Text {
		t.Errorf("text part = %q; want %q", got, want.Text)
	}
	if got := crlf.Replace(p.html); got != want.HTML {
		t.Errorf("HTML part = %q; want %q", got, want.HTML)
	}
}

// TestSTARTTLSAuthPlain sends through a server that offers STARTTLS and
// requires AUTH PLAIN: the message arrives encrypted, from the logged-in
// user, with every header and both parts.
func TestSTARTTLSAuthPlain(t *testing.T) {
	serverTLS, clientTLS := testCert(t)
	srv := &smtpServer{tls: serverTLS, user: "ada@example.com", pass: "pa:ss/w@rd ✓"}
	srv.start(t, "127.0.0.1:0")
	sender, err := mailer.NewSMTPSender(smtpURL("smtp", srv.user, srv.pass, srv.addr, ""), clientTLS)
	if err != nil {
		t.Fatalf("NewSMTPSender() error = %v; want nil", err)
	}
	store := &watchedStore{QueueStore: new(memstore.MailQueue)}
	q := newQueue(t, store, sender, nil, 0)
	run(t, q)
	if err := q.Enqueue(t.Context(), testMessage); err != nil {
		t.Fatalf("Enqueue() error = %v; want nil", err)
	}
	got := receivedOnce(t, srv)
	if !got.tls || got.user != srv.user {
		t.Errorf("message received with TLS %v, user %q; want TLS, user %q", got.tls, got.user, srv.user)
	}
	if got.from != "noreply@example.com" || strings.Join(got.to, ",") != testMessage.To {
		t.Errorf("envelope from %q to %q; want noreply@example.com to %s", got.from, got.to, testMessage.To)
	}
	checkMail(t, got.data, testMessage)
	wantEmpty(t, store, 1)
}

// TestImplicitTLS sends over smtps://, TLS from the first byte.
func TestImplicitTLS(t *testing.T) {
	serverTLS, clientTLS := testCert(t)
	srv := &smtpServer{tls: serverTLS, implicit: true, user: "ada", pass: "secret"}
	srv.start(t, "127.0.0.1:0")
	sender, err := mailer.NewSMTPSender(smtpURL("smtps", "ada", "secret", srv.addr, ""), clientTLS)
	if err != nil {
		t.Fatalf("NewSMTPSender() error = %v; want nil", err)
	}
	q := newQueue(t, new(memstore.MailQueue), sender, nil, 0)
	run(t, q)
	m := testMessage
	m.HTML = ""
	if err := q.Enqueue(t.Context(), m); err != nil {
		t.Fatalf("Enqueue() error = %v; want nil", err)
	}
	got := receivedOnce(t, srv)
	if !got.tls || got.user != "ada" {
		t.Errorf("message received with TLS %v, user %q; want TLS, user ada", got.tls, got.user)
	}
	checkMail(t, got.data, m)
}

// TestSTARTTLSRequired checks that a server without STARTTLS gets neither
// the credentials nor the message, and that the message is kept for a
// retry, not given up.
func TestSTARTTLSRequired(t *testing.T) {
	_, clientTLS := testCert(t)
	srv := &smtpServer{user: "ada", pass: "secret"}
	srv.start(t, "127.0.0.1:0")
	sender, err := mailer.NewSMTPSender(smtpURL("smtp", "ada", "secret", srv.addr, ""), clientTLS)
	if err != nil {
		t.Fatalf("NewSMTPSender() error = %v; want nil", err)
	}
	store := &watchedStore{QueueStore: new(memstore.MailQueue)}
	q := newQueue(t, store, sender, nil, 0)
	run(t, q)
	if err := q.Enqueue(t.Context(), testMessage); err != nil {
		t.Fatalf("Enqueue() error = %v; want nil", err)
	}
	eventually.True(t, wait, "two failed attempts", func() error {
		if r, _ := store.counts(); len(r) < 2 {
			return fmt.Errorf("%d retries", len(r))
		}
		return nil
	})
	retries, deletes := store.counts()
	if !strings.Contains(retries[0], "STARTTLS") {
		t.Errorf("error of the attempt = %q; want it to name STARTTLS", retries[0])
	}
	if deletes != 0 {
		t.Errorf("message deleted %d times; want kept for a retry", deletes)
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if srv.authTried != 0 || srv.mailFrom != 0 || len(srv.got) != 0 {
		t.Errorf("server without STARTTLS saw %d logins, %d MAIL FROM, %d messages; want none", srv.authTried, srv.mailFrom, len(srv.got))
	}
}

// TestPlainRelay sends without TLS to a relay, as tls=none asks.
func TestPlainRelay(t *testing.T) {
	srv := &smtpServer{}
	srv.start(t, "127.0.0.1:0")
	sender, err := mailer.NewSMTPSender(smtpURL("smtp", "", "", srv.addr, "tls=none"), nil)
	if err != nil {
		t.Fatalf("NewSMTPSender() error = %v; want nil", err)
	}
	q := newQueue(t, new(memstore.MailQueue), sender, nil, 0)
	run(t, q)
	if err := q.Enqueue(t.Context(), testMessage); err != nil {
		t.Fatalf("Enqueue() error = %v; want nil", err)
	}
	got := receivedOnce(t, srv)
	if got.tls {
		t.Errorf("message received over TLS; want plain SMTP")
	}
	checkMail(t, got.data, testMessage)
}

// TestPermanentRejection checks that a message refused with a 5xx reply is
// tried once, given up with a log line, and removed from the queue.
func TestPermanentRejection(t *testing.T) {
	var rcpts sync.Map
	srv := &smtpServer{rcpt: func(to string) error {
		n, _ := rcpts.LoadOrStore(to, new(int))
		*n.(*int)++
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
	}}
	srv.start(t, "127.0.0.1:0")
	sender, err := mailer.NewSMTPSender(smtpURL("smtp", "", "", srv.addr, "tls=none"), nil)
	if err != nil {
		t.Fatalf("NewSMTPSender() error = %v; want nil", err)
	}
	var logs logBuffer
	store := &watchedStore{QueueStore: new(memstore.MailQueue)}
	q := newQueue(t, store, sender, logs.logger(), 0)
	run(t, q)
	if err := q.Enqueue(t.Context(), testMessage); err != nil {
		t.Fatalf("Enqueue() error = %v; want nil", err)
	}
	wantEmpty(t, store, 1)
	if retries, _ := store.counts(); len(retries) != 0 {
		t.Errorf("message rejected with 550 was retried: %q", retries)
	}
	if n, _ := rcpts.Load(testMessage.To); n == nil || *n.(*int) != 1 {
		t.Errorf("RCPT TO sent %v times; want once", n)
	}
	if l := logs.String(); !strings.Contains(l, "mail given up") || !strings.Contains(l, "550") {
		t.Errorf("log = %q; want a line saying the mail was given up, with the server's 550", l)
	}
	if len(srv.messages()) != 0 {
		t.Errorf("server received a message it refused")
	}
}

// TestTemporaryRejection checks that a message refused with a 4xx reply is
// retried and then delivered once.
func TestTemporaryRejection(t *testing.T) {
	var mu sync.Mutex
	refused := 0
	srv := &smtpServer{rcpt: func(string) error {
		mu.Lock()
		defer mu.Unlock()
		if refused < 2 {
			refused++
			return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"}
		}
		return nil
	}}
	srv.start(t, "127.0.0.1:0")
	sender, err := mailer.NewSMTPSender(smtpURL("smtp", "", "", srv.addr, "tls=none"), nil)
	if err != nil {
		t.Fatalf("NewSMTPSender() error = %v; want nil", err)
	}
	store := &watchedStore{QueueStore: new(memstore.MailQueue)}
	q := newQueue(t, store, sender, nil, 0)
	run(t, q)
	if err := q.Enqueue(t.Context(), testMessage); err != nil {
		t.Fatalf("Enqueue() error = %v; want nil", err)
	}
	checkMail(t, receivedOnce(t, srv).data, testMessage)
	wantEmpty(t, store, 1)
	retries, _ := store.counts()
	if len(retries) != 2 || !strings.Contains(retries[0], "451") {
		t.Errorf("retries = %q; want two, with the server's 451", retries)
	}
}

// TestServerDisappears cuts the connection during DATA and stops the
// server; the message is retried, and delivered once the server is back
// at the same address.
func TestServerDisappears(t *testing.T) {
	srv := &smtpServer{}
	var once sync.Once
	srv.data = func(c *smtp.Conn) error {
		var err error
		once.Do(func() {
			go srv.stop()
			c.Conn().Close()
			err = errors.New("gone")
		})
		return err
	}
	srv.start(t, "127.0.0.1:0")
	addr := srv.addr
	sender, err := mailer.NewSMTPSender(smtpURL("smtp", "", "", addr, "tls=none"), nil)
	if err != nil {
		t.Fatalf("NewSMTPSender() error = %v; want nil", err)
	}
	store := &watchedStore{QueueStore: new(memstore.MailQueue)}
	q := newQueue(t, store, sender, nil, 0)
	run(t, q)
	if err := q.Enqueue(t.Context(), testMessage); err != nil {
		t.Fatalf("Enqueue() error = %v; want nil", err)
	}
	// Fails while the server is away: cut mid-message, then refused.
	eventually.True(t, wait, "failed attempts", func() error {
		if r, _ := store.counts(); len(r) < 3 {
			return fmt.Errorf("%d retries", len(r))
		}
		return nil
	})
	if len(srv.messages()) != 0 {
		t.Fatalf("server received the message it cut")
	}

	back := &smtpServer{}
	back.start(t, addr)
	checkMail(t, receivedOnce(t, back).data, testMessage)
	wantEmpty(t, store, 1)
}

// TestSurvivesRestart queues a message while no server is up, closes the
// database, opens it again in a new queue, and the message is delivered.
func TestSurvivesRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "latch.db")
	db, err := sqlitestore.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	// Nothing listens at the address: Enqueue does not need the network.
	srv := &smtpServer{}
	srv.start(t, "127.0.0.1:0")
	addr := srv.addr
	srv.stop()
	sender, err := mailer.NewSMTPSender(smtpURL("smtp", "", "", addr, "tls=none"), nil)
	if err != nil {
		t.Fatal(err)
	}
	q := newQueue(t, db, sender, nil, 0)
	if err := q.Enqueue(t.Context(), testMessage); err != nil {
		t.Fatalf("Enqueue() error = %v; want nil", err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db, err = sqlitestore.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	back := &smtpServer{}
	back.start(t, addr)
	store := &watchedStore{QueueStore: db}
	run(t, newQueue(t, store, sender, nil, 0))
	checkMail(t, receivedOnce(t, back).data, testMessage)
	wantEmpty(t, store, 1)
}

// TestQueueFull checks that Enqueue refuses a message beyond the limit
// with ErrQueueFull, and keeps the ones before it.
func TestQueueFull(t *testing.T) {
	db, err := sqlitestore.Open(t.Context(), filepath.Join(t.TempDir(), "latch.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	outbox, err := mailer.NewOutbox(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	q := newQueue(t, db, outbox, nil, 2)
	for i := range 2 {
		if err := q.Enqueue(t.Context(), testMessage); err != nil {
			t.Fatalf("Enqueue() #%d error = %v; want nil", i+1, err)
		}
	}
	if err := q.Enqueue(t.Context(), testMessage); !errors.Is(err, mailer.ErrQueueFull) {
		t.Fatalf("Enqueue() beyond the limit = %v; want ErrQueueFull", err)
	}
	ms, err := db.ClaimMail(t.Context(), time.Now().Add(time.Hour), time.Now().Add(time.Hour), 10)
	if err != nil || len(ms) != 2 {
		t.Errorf("queue holds %d messages (%v); want 2", len(ms), err)
	}
}

// TestOutbox runs the queue with the outbox, as the app does without an SMTP
// URL: the message is a parseable .eml file, mode 0600, in a folder of mode
// 0700, and its path is logged.
func TestOutbox(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "outbox")
	var logs logBuffer
	outbox, err := mailer.NewOutbox(dir, logs.logger())
	if err != nil {
		t.Fatalf("NewOutbox() error = %v; want nil", err)
	}
	store := &watchedStore{QueueStore: new(memstore.MailQueue)}
	q := newQueue(t, store, outbox, nil, 0)
	run(t, q)
	if err := q.Enqueue(t.Context(), testMessage); err != nil {
		t.Fatalf("Enqueue() error = %v; want nil", err)
	}
	wantEmpty(t, store, 1)
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || !strings.HasSuffix(entries[0].Name(), ".eml") || strings.HasPrefix(entries[0].Name(), ".") {
		t.Fatalf("outbox holds %v; want one .eml file", entries)
	}
	path := filepath.Join(dir, entries[0].Name())
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("mode of %s = %v (%v); want 0600", path, fi.Mode().Perm(), err)
	}
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("mode of %s = %v (%v); want 0700", dir, fi.Mode().Perm(), err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	checkMail(t, data, testMessage)
	if !bytes.Contains(data, []byte("\r\n")) || bytes.Contains(bytes.ReplaceAll(data, []byte("\r\n"), nil), []byte("\n")) {
		t.Errorf("lines of %s do not all end in CRLF, as RFC 5322 asks", path)
	}
	if l := logs.String(); !strings.Contains(l, "level=INFO") || !strings.Contains(l, path) {
		t.Errorf("log = %q; want an info line with %s", l, path)
	}
	if l := logs.String(); strings.Contains(l, "ada@example.org") {
		t.Errorf("log = %q; want no recipient address at info level", l)
	}
}

// TestEnqueueInvalid checks that messages that cannot be sent are refused
// with an error saying why, and not queued.
func TestEnqueueInvalid(t *testing.T) {
	tests := []struct {
		name string
		edit func(*mailer.Message)
		want string
	}{
		{"no recipient", func(m *mailer.Message) { m.To = "" }, "recipient"},
		{"not an address", func(m *mailer.Message) { m.To = "ada at example.org" }, "recipient"},
		{"two recipients", func(m *mailer.Message) { m.To = "a@example.org, b@example.org" }, "recipient"},
		{"display name", func(m *mailer.Message) { m.To = "Ada <ada@example.org>" }, "recipient"},
		{"header injection in To", func(m *mailer.Message) { m.To = "ada@example.org\r\nBcc: eve@example.org" }, "recipient"},
		{"header injection in Subject", func(m *mailer.Message) { m.Subject = "Hi\r\nBcc: eve@example.org" }, "line break"},
		{"no text", func(m *mailer.Message) { m.Text = " \n" }, "Text is required"},
		{"invalid UTF-8", func(m *mailer.Message) { m.Text = "caf\xe9" }, "UTF-8"},
	}
	store := new(memstore.MailQueue)
	outbox, err := mailer.NewOutbox(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	q := newQueue(t, store, outbox, nil, 0)
	for _, tt := range tests {
		m := testMessage
		tt.edit(&m)
		err := q.Enqueue(t.Context(), m)
		if err == nil || !strings.Contains(err.Error(), tt.want) || errors.Is(err, mailer.ErrQueueFull) {
			t.Errorf("%s: Enqueue(%+v) = %v; want an error about %q", tt.name, m, err, tt.want)
		}
	}
	if ms, _ := store.ClaimMail(t.Context(), time.Now().Add(time.Hour), time.Now(), 10); len(ms) != 0 {
		t.Errorf("%d invalid messages queued; want none", len(ms))
	}
}

func TestParseSMTPURL(t *testing.T) {
	good := []struct {
		raw      string
		want     mailer.SMTPConfig
		redacted string
	}{
		{"smtp://ada:s%40cret@mail.example.com", mailer.SMTPConfig{Host: "mail.example.com", Port: 587, User: "ada", Password: "s@cret", TLS: "starttls"}, "smtp://ada:xxxxx@mail.example.com:587"},
		{"smtp://ada:pw@mail.example.com:2525", mailer.SMTPConfig{Host: "mail.example.com", Port: 2525, User: "ada", Password: "pw", TLS: "starttls"}, "smtp://ada:xxxxx@mail.example.com:2525"},
		{"smtps://ada:pw@mail.example.com", mailer.SMTPConfig{Host: "mail.example.com", Port: 465, User: "ada", Password: "pw", TLS: "implicit"}, "smtps://ada:xxxxx@mail.example.com:465"},
		{"smtp://localhost?tls=none", mailer.SMTPConfig{Host: "localhost", Port: 25, TLS: "none"}, "smtp://localhost:25?tls=none"},
		{"smtp://[::1]:1025?tls=none", mailer.SMTPConfig{Host: "::1", Port: 1025, TLS: "none"}, "smtp://[::1]:1025?tls=none"},
	}
	for _, tt := range good {
		got, err := mailer.ParseSMTPURL(tt.raw)
		if err != nil || got != tt.want {
			t.Errorf("ParseSMTPURL(%q) = %+v, %v; want %+v, nil", tt.raw, got, err, tt.want)
		}
		if r := got.Redacted(); r != tt.redacted {
			t.Errorf("ParseSMTPURL(%q).Redacted() = %q; want %q", tt.raw, r, tt.redacted)
		}
	}
	bad := []struct{ raw, want string }{
		{"mail.example.com:587", "scheme"},
		{"http://mail.example.com", "scheme"},
		{"smtp://", "no host"},
		{"smtp://ada:hunter2@mail.example.com:99999", "port"},
		{"smtp://ada:hunter2@mail.example.com?tls=none", "in clear"},
		{"smtp://mail.example.com?tls=opportunistic", "tls="},
		{"smtps://mail.example.com?tls=none", "contradicts"},
		{"smtp://mail.example.com?auth=plain", "parameter"},
		{"smtp://mail.example.com/inbox", "path"},
		{"smtp://:hunter2@mail.example.com", "no user"},
		{"smtp://ada:hunter2@mail.example.com:5%", "bad SMTP URL"},
	}
	for _, tt := range bad {
		_, err := mailer.ParseSMTPURL(tt.raw)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseSMTPURL(%q) error = %v; want one about %q", tt.raw, err, tt.want)
		} else if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("ParseSMTPURL(%q) error = %v; shows the password", tt.raw, err)
		}
	}
}

// TestNewChecksFrom checks that a bad sender address is refused when the
// queue is made, not at the first message.
func TestNewChecksFrom(t *testing.T) {
	for _, f := range []string{"", "noreply", "latch <noreply@>", "a@example.com, b@example.com"} {
		_, err := mailer.New(new(memstore.MailQueue), mailer.Config{From: f, Sender: discard{}})
		if err == nil {
			t.Errorf("New(From %q) error = nil; want one", f)
		}
	}
}

type discard struct{}

func (discard) Send(context.Context, *gomail.Msg) error { return nil }

// TestShutdown stops the worker while the server holds a message in DATA:
// Run returns without waiting for the server, the message is released for
// the next start, and that start delivers it.
func TestShutdown(t *testing.T) {
	release := make(chan struct{})
	var once sync.Once
	inData := make(chan struct{})
	srv := &smtpServer{}
	srv.data = func(*smtp.Conn) error {
		first := false
		once.Do(func() { first = true })
		if !first {
			return nil
		}
		close(inData)
		<-release
		return errors.New("too late")
	}
	srv.start(t, "127.0.0.1:0")
	defer close(release)
	sender, err := mailer.NewSMTPSender(smtpURL("smtp", "", "", srv.addr, "tls=none"), nil)
	if err != nil {
		t.Fatal(err)
	}
	store := &watchedStore{QueueStore: new(memstore.MailQueue)}
	q := newQueue(t, store, sender, nil, 0)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- q.Run(ctx) }()
	if err := q.Enqueue(t.Context(), testMessage); err != nil {
		t.Fatalf("Enqueue() error = %v; want nil", err)
	}
	select {
	case <-inData:
	case <-time.After(wait):
		t.Fatal("message never reached DATA")
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run() = %v; want nil", err)
		}
	case <-time.After(wait):
		t.Fatal("Run did not return after its context ended, while the server held the message")
	}
	if retries, deletes := store.counts(); len(retries) != 1 || retries[0] != "interrupted by shutdown" || deletes != 0 {
		t.Fatalf("after shutdown: retries %q, deletions %d; want the message released once, kept", retries, deletes)
	}

	run(t, q)
	checkMail(t, receivedOnce(t, srv).data, testMessage)
	wantEmpty(t, store, 1)
}

// TestManyMessages sends a backlog through one sender, several at once
// over STARTTLS: each message arrives once.
func TestManyMessages(t *testing.T) {
	serverTLS, clientTLS := testCert(t)
	srv := &smtpServer{tls: serverTLS, user: "ada", pass: "secret"}
	srv.start(t, "127.0.0.1:0")
	sender, err := mailer.NewSMTPSender(smtpURL("smtp", "ada", "secret", srv.addr, ""), clientTLS)
	if err != nil {
		t.Fatal(err)
	}
	const n = 20
	q := newQueue(t, new(memstore.MailQueue), sender, nil, 0)
	for i := range n {
		m := testMessage
		m.To = fmt.Sprintf("user%d@example.org", i)
		if err := q.Enqueue(t.Context(), m); err != nil {
			t.Fatalf("Enqueue(%s) error = %v; want nil", m.To, err)
		}
	}
	run(t, q)
	eventually.True(t, wait, "delivery of the backlog", func() error {
		if got := len(srv.messages()); got < n {
			return fmt.Errorf("%d of %d messages received", got, n)
		}
		return nil
	})
	seen := map[string]int{}
	for _, m := range srv.messages() {
		seen[strings.Join(m.to, ",")]++
	}
	for i := range n {
		if to := fmt.Sprintf("user%d@example.org", i); seen[to] != 1 {
			t.Errorf("%s received %d messages; want 1", to, seen[to])
		}
	}
}

// TestGivesUpAfterMaxAge checks that a message still failing when it is
// older than MaxAge is given up with a log line, and no longer tried.
func TestGivesUpAfterMaxAge(t *testing.T) {
	var attempts atomic.Int32
	srv := &smtpServer{rcpt: func(string) error {
		attempts.Add(1)
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"}
	}}
	srv.start(t, "127.0.0.1:0")
	sender, err := mailer.NewSMTPSender(smtpURL("smtp", "", "", srv.addr, "tls=none"), nil)
	if err != nil {
		t.Fatal(err)
	}
	// The clock jumps a day ahead after the second failure.
	var skew atomic.Int64
	store := &watchedStore{QueueStore: new(memstore.MailQueue)}
	store.onRetry = func(n int) {
		if n == 2 {
			skew.Store(int64(24*time.Hour + time.Second))
		}
	}
	var logs logBuffer
	q, err := mailer.New(store, mailer.Config{
		From: from, Sender: sender, Logger: logs.logger(),
		MinBackoff: 10 * time.Millisecond, MaxBackoff: 20 * time.Millisecond, PollInterval: 10 * time.Millisecond,
		Now: func() time.Time { return time.Now().Add(time.Duration(skew.Load())) },
	})
	if err != nil {
		t.Fatal(err)
	}
	run(t, q)
	if err := q.Enqueue(t.Context(), testMessage); err != nil {
		t.Fatalf("Enqueue() error = %v; want nil", err)
	}
	wantEmpty(t, store, 1)
	if retries, _ := store.counts(); len(retries) != 2 {
		t.Errorf("retries = %q; want 2, then given up", retries)
	}
	if n := attempts.Load(); n != 3 {
		t.Errorf("server saw %d attempts; want 3", n)
	}
	if l := logs.String(); !strings.Contains(l, "mail given up") || !strings.Contains(l, "attempts=3") {
		t.Errorf("log = %q; want a line saying the mail was given up after 3 attempts", l)
	}
}
