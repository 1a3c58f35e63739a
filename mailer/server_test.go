package mailer_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// received is a message as an SMTP server in the test received it.
type received struct {
	from string
	to   []string
	data []byte
	tls  bool   // the session was encrypted when DATA came
	user string // who logged in; empty: nobody
}

// smtpServer is a real SMTP server (github.com/emersion/go-smtp) on a
// loopback port, recording what it receives. Its fields set before start
// choose how it behaves.
type smtpServer struct {
	// tls, when set, is offered through STARTTLS, or used from the first
	// byte with implicit.
	tls      *tls.Config
	implicit bool
	// user and pass, when set, are the only credentials accepted, through
	// AUTH PLAIN over TLS.
	user, pass string
	// rcpt, when set, answers each RCPT TO; nil accepts.
	rcpt func(to string) error
	// data, when set, is called at DATA with the session's connection
	// before the message is read; an error refuses the message.
	data func(c *smtp.Conn) error

	srv  *smtp.Server
	ln   net.Listener
	addr string

	mu        sync.Mutex
	got       []received
	authTried int
	mailFrom  int // MAIL FROM commands accepted
}

// start serves on addr ("127.0.0.1:0" for any port) until the test ends.
func (s *smtpServer) start(t *testing.T, addr string) {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	if s.implicit {
		ln = tls.NewListener(ln, s.tls)
	}
	s.addr = ln.Addr().String()
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &session{s: s, c: c}, nil
	}))
	srv.Domain = "localhost"
	srv.ReadTimeout = 10 * time.Second
	srv.WriteTimeout = 10 * time.Second
	if !s.implicit {
		srv.TLSConfig = s.tls
	}
	s.srv, s.ln = srv, ln
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
}

// stop closes the listener and every connection. The listener is closed
// here too, since Serve may not have taken it in yet.
func (s *smtpServer) stop() {
	s.ln.Close()
	s.srv.Close()
}

// messages returns what the server received so far.
func (s *smtpServer) messages() []received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]received(nil), s.got...)
}

type session struct {
	s    *smtpServer
	c    *smtp.Conn
	from string
	to   []string
	user string
}

func (ss *session) AuthMechanisms() []string {
	if ss.s.user == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (ss *session) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error {
		ss.s.mu.Lock()
		ss.s.authTried++
		ss.s.mu.Unlock()
		if username != ss.s.user || password != ss.s.pass {
			return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "bad credentials"}
		}
		ss.user = username
		return nil
	}), nil
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	if ss.s.user != "" && ss.user == "" {
		return smtp.ErrAuthRequired
	}
	ss.s.mu.Lock()
	ss.s.mailFrom++
	ss.s.mu.Unlock()
	ss.from = from
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if ss.s.rcpt != nil {
		if err := ss.s.rcpt(to); err != nil {
			return err
		}
	}
	ss.to = append(ss.to, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	if ss.s.data != nil {
		if err := ss.s.data(ss.c); err != nil {
			io.Copy(io.Discard, r)
			return err
		}
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	_, isTLS := ss.c.TLSConnectionState()
	ss.s.mu.Lock()
	ss.s.got = append(ss.s.got, received{from: ss.from, to: ss.to, data: b, tls: isTLS, user: ss.user})
	ss.s.mu.Unlock()
	return nil
}

func (ss *session) Reset()        { ss.from, ss.to = "", nil }
func (ss *session) Logout() error { return nil }

// testCert returns a self-signed certificate for 127.0.0.1 and localhost,
// and a client TLS configuration that trusts it and nothing else.
func testCert(t *testing.T) (server, client *tls.Config) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "latch test SMTP server"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:     []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	server = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}}}
	return server, &tls.Config{RootCAs: pool}
}

// parsedMail is a message taken apart with net/mail and mime/multipart.
type parsedMail struct {
	header    mail.Header
	subject   string // decoded
	text      string
	html      string
	partTypes []string
}

// parseMail parses an RFC 5322 message whose body is a text part or a
// multipart/alternative of text and HTML, failing t if it is not.
func parseMail(t *testing.T, data []byte) parsedMail {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("mail.ReadMessage: %v\n%s", err, data)
	}
	p := parsedMail{header: m.Header}
	dec := new(mime.WordDecoder)
	if p.subject, err = dec.DecodeHeader(m.Header.Get("Subject")); err != nil {
		t.Errorf("decode Subject %q: %v", m.Header.Get("Subject"), err)
	}
	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil {
		t.Fatalf("Content-Type %q: %v", m.Header.Get("Content-Type"), err)
	}
	if !strings.HasPrefix(mt, "multipart/") {
		body := readPart(t, m.Header.Get("Content-Transfer-Encoding"), m.Body)
		p.partTypes = []string{mt}
		p.text = body
		return p
	}
	if mt != "multipart/alternative" {
		t.Errorf("Content-Type = %s; want multipart/alternative", mt)
	}
	mr := multipart.NewReader(m.Body, params["boundary"])
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("NextPart: %v", err)
		}
		pt, pparams, err := mime.ParseMediaType(part.Header.Get("Content-Type"))
		if err != nil {
			t.Fatalf("part Content-Type %q: %v", part.Header.Get("Content-Type"), err)
		}
		if cs := pparams["charset"]; !strings.EqualFold(cs, "utf-8") {
			t.Errorf("part %s charset = %q; want UTF-8", pt, cs)
		}
		// multipart.Reader decodes quoted-printable itself.
		body := readPart(t, part.Header.Get("Content-Transfer-Encoding"), part)
		p.partTypes = append(p.partTypes, pt)
		switch pt {
		case "text/plain":
			p.text = body
		case "text/html":
			p.html = body
		}
	}
	return p
}

// readPart reads a body in the given transfer encoding; multipart.Reader
// has decoded quoted-printable parts already and removed the header.
func readPart(t *testing.T, encoding string, r io.Reader) string {
	t.Helper()
	switch strings.ToLower(encoding) {
	case "", "7bit", "8bit":
	case "quoted-printable":
		r = quotedprintable.NewReader(r)
	default:
		t.Fatalf("part left in Content-Transfer-Encoding %q", encoding)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("read part: %v", err)
	}
	return string(b)
}
