package mailer

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// ErrRejected is wrapped by the errors of a [Sender] when the mail server
// refused the message permanently (a 5xx reply to it). Sending it again
// would meet the same answer, so the [Queue] gives it up at once.
var ErrRejected = errors.New("rejected by the mail server")

// Sender delivers one composed message. Its errors wrap [ErrRejected] when
// trying again cannot help; any other error is retried by the [Queue].
// Senders must be safe for concurrent use.
type Sender interface {
	Send(ctx context.Context, msg *gomail.Msg) error
}

// SMTP security modes of an SMTP URL; see [NewSMTPSender].
const (
	tlsStartTLS = "starttls"
	tlsImplicit = "implicit"
	tlsNone     = "none"
)

// smtpTimeout bounds each network step of a delivery (connecting, each
// command and its reply), so that a server that stops answering holds a
// worker for seconds, not forever.
const smtpTimeout = 15 * time.Second

// SMTPSender sends messages to one SMTP server (a relay, or a provider's
// submission service), one connection per message. Create one with
// [NewSMTPSender].
type SMTPSender struct {
	client *gomail.Client
	server string // host:port and mode, for errors and logs
}

// NewSMTPSender returns a sender to the server that rawURL names:
//
//	smtp://USER:PASSWORD@HOST:PORT   STARTTLS required (port 587 if none)
//	smtps://USER:PASSWORD@HOST:PORT  TLS from the first byte (port 465 if none)
//	smtp://HOST:PORT?tls=none        no TLS, no credentials: a relay on this machine or network
//
// The user and password are optional; given, the sender logs in with the
// strongest mechanism the server offers over TLS (SCRAM, CRAM-MD5, PLAIN,
// LOGIN). A user name or password holding '@', ':' or '/' is written
// percent-encoded (%40, %3A, %2F). With STARTTLS required, a server that
// does not offer it, or whose certificate does not verify, gets nothing: no
// credentials and no message. There is no opportunistic mode, which an
// attacker on the path defeats by hiding the server's STARTTLS offer: to
// send in clear, say so with tls=none, which refuses credentials, since they
// would cross the network readable.
//
// tlsConfig is used for the TLS connection when not nil (tests use it to
// trust their own certificate); nil verifies the server against the
// system's roots. The server name is set from the URL when tlsConfig leaves
// it empty.
func NewSMTPSender(rawURL string, tlsConfig *tls.Config) (*SMTPSender, error) {
	cfg, err := ParseSMTPURL(rawURL)
	if err != nil {
		return nil, err
	}
	if tlsConfig == nil {
		tlsConfig = &tls.Config{}
	} else {
		tlsConfig = tlsConfig.Clone()
	}
	if tlsConfig.ServerName == "" {
		tlsConfig.ServerName = cfg.Host
	}
	tlsConfig.MinVersion = max(tlsConfig.MinVersion, tls.VersionTLS12)
	opts := []gomail.Option{
		gomail.WithPort(cfg.Port),
		gomail.WithTimeout(smtpTimeout),
		gomail.WithTLSConfig(tlsConfig),
	}
	switch cfg.TLS {
	case tlsImplicit:
		opts = append(opts, gomail.WithSSL(), gomail.WithTLSPolicy(gomail.TLSMandatory))
	case tlsStartTLS:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	case tlsNone:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	}
	if cfg.User != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(cfg.User), gomail.WithPassword(cfg.Password))
	}
	c, err := gomail.NewClient(cfg.Host, opts...)
	if err != nil {
		return nil, fmt.Errorf("mailer: smtp %s: %w", cfg.Redacted(), err)
	}
	return &SMTPSender{client: c, server: cfg.Redacted()}, nil
}

// SMTPConfig is an SMTP URL taken apart by [ParseSMTPURL].
type SMTPConfig struct {
	// Host is the server's name or IP address, also the name its
	// certificate must hold.
	Host string
	// Port is the URL's port, or 587 for smtp://, 465 for smtps://, 25
	// for tls=none.
	Port int
	// User and Password are the credentials, decoded; empty User: none.
	User, Password string
	// TLS is "starttls" (smtp://), "implicit" (smtps://) or "none"
	// (smtp://...?tls=none).
	TLS string
}

// Redacted returns the configuration as a URL with the password hidden,
// for logs.
func (c SMTPConfig) Redacted() string {
	u := url.URL{Scheme: "smtp", Host: net.JoinHostPort(c.Host, strconv.Itoa(c.Port))}
	if c.TLS == tlsImplicit {
		u.Scheme = "smtps"
	}
	if c.User != "" {
		u.User = url.UserPassword(c.User, "xxxxx")
	}
	if c.TLS == tlsNone {
		u.RawQuery = "tls=none"
	}
	return u.String()
}

// ParseSMTPURL checks an SMTP URL, in the forms [NewSMTPSender] accepts,
// and takes it apart. Its errors never repeat the password.
func ParseSMTPURL(rawURL string) (SMTPConfig, error) {
	const want = "want smtp://USER:PASSWORD@HOST:PORT (STARTTLS), smtps://USER:PASSWORD@HOST:PORT (TLS) or smtp://HOST:PORT?tls=none (no TLS)"
	u, err := url.Parse(rawURL)
	if ue := (*url.Error)(nil); errors.As(err, &ue) {
		// The whole of url.Parse's error would repeat the URL, password
		// and all.
		return SMTPConfig{}, fmt.Errorf("mailer: bad SMTP URL: %w; %s", ue.Err, want)
	} else if err != nil {
		return SMTPConfig{}, fmt.Errorf("mailer: bad SMTP URL; %s", want)
	}
	var cfg SMTPConfig
	switch u.Scheme {
	case "smtp":
		cfg.TLS, cfg.Port = tlsStartTLS, gomail.DefaultPortTLS
	case "smtps":
		cfg.TLS, cfg.Port = tlsImplicit, gomail.DefaultPortSSL
	default:
		return SMTPConfig{}, fmt.Errorf("mailer: SMTP URL scheme %q not supported; %s", u.Scheme, want)
	}
	if u.Opaque != "" || u.Hostname() == "" {
		return SMTPConfig{}, fmt.Errorf("mailer: SMTP URL names no host; %s", want)
	}
	if u.Path != "" && u.Path != "/" {
		return SMTPConfig{}, fmt.Errorf("mailer: SMTP URL has a path %q, which means nothing to SMTP; %s", u.Path, want)
	}
	cfg.Host = u.Hostname()
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return SMTPConfig{}, fmt.Errorf("mailer: SMTP URL port %q: want a number from 1 to 65535", p)
		}
		cfg.Port = n
	}
	if u.User != nil {
		cfg.User = u.User.Username()
		cfg.Password, _ = u.User.Password()
		if cfg.User == "" {
			return SMTPConfig{}, errors.New("mailer: SMTP URL has a password but no user name")
		}
	}
	q := u.Query()
	for k := range q {
		if k != "tls" {
			return SMTPConfig{}, fmt.Errorf("mailer: SMTP URL parameter %q unknown; the only one is tls=none", k)
		}
	}
	switch mode := q.Get("tls"); {
	case !q.Has("tls"):
	case mode == "none" && u.Scheme == "smtp":
		if cfg.User != "" {
			return SMTPConfig{}, errors.New("mailer: SMTP URL with tls=none has credentials, which would cross the network in clear: use STARTTLS (smtp:// without tls=none) or smtps://")
		}
		cfg.TLS = tlsNone
		if u.Port() == "" {
			cfg.Port = gomail.DefaultPort
		}
	case mode == "none":
		return SMTPConfig{}, errors.New("mailer: SMTP URL smtps:// with tls=none contradicts itself: use smtp://HOST:PORT?tls=none for no TLS")
	default:
		return SMTPConfig{}, fmt.Errorf("mailer: SMTP URL tls=%q: the only value is none (omit it to require TLS)", mode)
	}
	return cfg, nil
}

// String names the server, for logs.
func (s *SMTPSender) String() string { return s.server }

// Send implements [Sender]: it connects, secures the connection as the URL
// says, logs in, sends msg and says goodbye. An error wraps [ErrRejected]
// when the server answered the message itself with a 5xx reply.
//
// Send returns when ctx is done, with its error, even while the server is
// in the middle of a reply: go-mail bounds each step of the conversation
// with its own timeout, not with ctx, and a stopping process should not
// wait for it. The conversation then goes on in the background to its end
// or its timeout; if the server took the message meanwhile, it will get it
// again at the next attempt.
func (s *SMTPSender) Send(ctx context.Context, msg *gomail.Msg) error {
	done := make(chan error, 1)
	go func() { done <- s.client.DialAndSendWithContext(ctx, msg) }()
	var err error
	select {
	case err = <-done:
	case <-ctx.Done():
		return fmt.Errorf("mailer: smtp %s: %w", s.server, ctx.Err())
	}
	if err == nil {
		return nil
	}
	// Only a 5xx reply to the message's own commands (MAIL FROM, RCPT
	// TO, DATA) is final. A lost connection, a TLS or login problem, or
	// a 4xx reply may all pass: they are retried until the message's
	// maximum age, so that a mistake in the settings, once fixed, loses
	// nothing.
	var se *gomail.SendError
	if errors.As(err, &se) {
		if code := se.ErrorCode(); code >= 500 && code <= 599 {
			return fmt.Errorf("mailer: smtp %s: %w: %w", s.server, ErrRejected, err)
		}
	}
	return fmt.Errorf("mailer: smtp %s: %w", s.server, err)
}
