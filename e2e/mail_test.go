package e2e_test

import (
	"context"
	"errors"
	"html"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/http/httptest"
	"net/mail"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/latchauth/latch/account"
	"github.com/latchauth/latch/internal/app"
	"github.com/latchauth/latch/internal/apptest"
	"github.com/latchauth/latch/mailer"
	"github.com/latchauth/latch/throttle"
)

// mailTimeout bounds the wait for a mail: the queue's worker sends at once
// what a page queues, so a mail missing after this long is never coming.
const mailTimeout = 10 * time.Second

// newMailSite starts the app for t as the latch command runs it without an
// SMTP server: mail goes through a queue in the app's store to an outbox
// folder, by a worker running for the test, and links in mails are built
// on the test server's address. cfg's Mail and BaseURL are set here. The
// inbox returned reads the outbox as a developer's mail client would.
func newMailSite(t *testing.T, cfg app.Config) (*site, *inbox) {
	t.Helper()
	store := apptest.NewStore(t)
	dir := filepath.Join(t.TempDir(), "outbox")
	outbox, err := mailer.NewOutbox(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	queue, err := mailer.New(store, mailer.Config{From: "latch <noreply@example.com>", Sender: outbox})
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		queue.Run(ctx)
	}()
	// Cleanups run last first: the server stops, then the mail jobs the
	// app runs off the request path, then the worker, then the store.
	var built *apptest.Site
	t.Cleanup(func() {
		if built != nil {
			built.App.Wait()
		}
		stop()
		<-stopped
	})

	srv := httptest.NewUnstartedServer(nil)
	cfg.BaseURL = "http://" + srv.Listener.Addr().String()
	cfg.Mail = queue
	built = apptest.New(t, store, cfg)
	srv.Config.Handler = built.App.Handler()
	srv.Start()
	t.Cleanup(func() {
		srv.Close()
		if t.Failed() {
			t.Logf("app log:\n%s", built.Logs.String())
		}
	})
	s := &site{url: srv.URL, store: store, accounts: account.NewService(store, built.Hasher, throttle.NewPolicy(store))}
	return s, &inbox{t: t, dir: dir, read: map[string]bool{}}
}

// inbox reads the .eml files of an outbox folder.
type inbox struct {
	t    *testing.T
	dir  string
	read map[string]bool // files already taken by await
}

// letter is one mail as a person reads it.
type letter struct {
	To      string
	Subject string
	Text    string // the plain-text part
	HTML    string // the HTML part
}

// await waits for a mail to the address to with the subject, not taken
// before, and returns it; it fails the test after mailTimeout.
func (in *inbox) await(to, subject string) letter {
	in.t.Helper()
	deadline := time.Now().Add(mailTimeout)
	for {
		var seen []string
		files, err := filepath.Glob(filepath.Join(in.dir, "*.eml"))
		if err != nil {
			in.t.Fatal(err)
		}
		for _, f := range files {
			// The outbox writes a mail into a dot file, then renames it.
			if in.read[f] || strings.HasPrefix(filepath.Base(f), ".") {
				continue
			}
			l, err := readLetter(f)
			if err != nil {
				in.t.Fatalf("read %s: %v", f, err)
			}
			if l.To == to && l.Subject == subject {
				in.read[f] = true
				return l
			}
			seen = append(seen, l.To+": "+l.Subject)
		}
		if time.Now().After(deadline) {
			in.t.Fatalf("no mail to %s with subject %q after %v; unread mails: %q", to, subject, mailTimeout, seen)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// none fails the test if an unread mail is in the outbox, once every mail
// job of the app has had the time to run.
func (in *inbox) none(what string) {
	in.t.Helper()
	files, _ := filepath.Glob(filepath.Join(in.dir, "*.eml"))
	for _, f := range files {
		if !in.read[f] && !strings.HasPrefix(filepath.Base(f), ".") {
			l, err := readLetter(f)
			in.t.Errorf("%s: unexpected mail to %s, %q (%v)", what, l.To, l.Subject, err)
		}
	}
}

// readLetter parses an .eml file: headers, then a multipart/alternative
// body of a text and an HTML part, or a text body alone.
func readLetter(path string) (letter, error) {
	f, err := os.Open(path)
	if err != nil {
		return letter{}, err
	}
	defer f.Close()
	m, err := mail.ReadMessage(f)
	if err != nil {
		return letter{}, err
	}
	var l letter
	to, err := m.Header.AddressList("To")
	if err != nil || len(to) != 1 {
		return l, errors.New("want one To address, got " + m.Header.Get("To"))
	}
	l.To = to[0].Address
	if l.Subject, err = new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject")); err != nil {
		return l, err
	}
	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil {
		return l, err
	}
	if !strings.HasPrefix(mt, "multipart/") {
		body, err := decodeBody(m.Body, m.Header.Get("Content-Transfer-Encoding"))
		l.Text = body
		return l, err
	}
	mr := multipart.NewReader(m.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return l, nil
		} else if err != nil {
			return l, err
		}
		// NextPart decodes a quoted-printable part itself and drops the
		// header that said so; another encoding is decoded here.
		body, err := decodeBody(p, p.Header.Get("Content-Transfer-Encoding"))
		if err != nil {
			return l, err
		}
		switch pt, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type")); pt {
		case "text/plain":
			l.Text = body
		case "text/html":
			l.HTML = body
		}
	}
}

func decodeBody(r io.Reader, encoding string) (string, error) {
	if strings.EqualFold(encoding, "quoted-printable") {
		r = quotedprintable.NewReader(r)
	}
	b, err := io.ReadAll(r)
	return string(b), err
}

var urlRE = regexp.MustCompile(`https?://[^\s<>"()]+`)

// link returns the one link of the mail that starts with origin+prefix
// (is exactly that, for a prefix without a query), as its text shows it,
// after checking that the HTML part links to it too: whichever part a
// mail client shows, the person finds the same link.
func (l letter) link(t *testing.T, origin, prefix string) string {
	t.Helper()
	var found []string
	for _, u := range urlRE.FindAllString(l.Text, -1) {
		u = strings.TrimRight(u, ".,:;")
		if u == origin+prefix || strings.Contains(prefix, "?") && strings.HasPrefix(u, origin+prefix) {
			found = append(found, u)
		}
	}
	found = slices.Compact(found)
	if len(found) != 1 {
		t.Fatalf("mail %q has links to %s%s %q; want one:\n%s", l.Subject, origin, prefix, found, l.Text)
	}
	if !strings.Contains(l.HTML, `href="`+html.EscapeString(found[0])+`"`) {
		t.Errorf("mail %q: HTML part does not link to %s:\n%s", l.Subject, found[0], l.HTML)
	}
	return found[0]
}

var codeRE = regexp.MustCompile(`type this code on the password reset page \([^)]*\): ([A-Z0-9]+)`)

// code returns the reset code a mail gives to type on another device.
func (l letter) code(t *testing.T) string {
	t.Helper()
	m := codeRE.FindStringSubmatch(l.Text)
	if m == nil {
		t.Fatalf("mail %q has no code:\n%s", l.Subject, l.Text)
	}
	if !strings.Contains(l.HTML, m[1]) {
		t.Errorf("mail %q: HTML part lacks the code %s", l.Subject, m[1])
	}
	return m[1]
}
