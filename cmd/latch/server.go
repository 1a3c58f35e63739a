package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/latchauth/latch/internal/app"
	"github.com/latchauth/latch/internal/hashworker"
	"github.com/latchauth/latch/internal/metrics"
	"github.com/latchauth/latch/mailer"
	"github.com/latchauth/latch/password"
	"github.com/latchauth/latch/pgstore"
	"github.com/latchauth/latch/redisstore"
	"github.com/latchauth/latch/sqlitestore"
	"github.com/latchauth/latch/throttle"
)

// server is a running latch: its store, app and listener. Tests start one on
// port 0 with a temporary data folder.
type server struct {
	cfg   config
	log   *slog.Logger
	store storeCloser
	redis *redisstore.Store // nil without LATCH_REDIS_URL
	app   *app.App
	ln    net.Listener
	http  *http.Server
	procs *processorGovernor // nil when GOMAXPROCS is left alone
	pool  *hashworker.Pool   // nil with -hash-in-process
	// mail queues outgoing mail in the store; Serve sends it for the
	// server's lifetime. Enqueue is what the app is given to send mail.
	mail *mailer.Queue
	// metrics serves /metrics on its own listener; nil without
	// -metrics-addr.
	metrics   *http.Server
	metricsLn net.Listener
}

type storeCloser interface {
	app.Store
	mailer.QueueStore
	metrics.Counter
	Close() error
}

// openStore opens the database the configuration names, which
// checkDatabaseURL has accepted.
func openStore(ctx context.Context, cfg config) (storeCloser, error) {
	raw := cfg.DatabaseURL
	switch {
	case raw == "" || strings.HasPrefix(raw, "sqlite:"):
		return sqlitestore.Open(ctx, sqlitePath(cfg))
	case strings.HasPrefix(raw, "postgres://"), strings.HasPrefix(raw, "postgresql://"):
		return pgstore.Open(ctx, raw)
	default:
		return nil, checkDatabaseURL(raw)
	}
}

// checkDatabaseURL reports what is wrong with a -database-url value.
func checkDatabaseURL(raw string) error {
	switch {
	case raw == "", strings.HasPrefix(raw, "postgres://"), strings.HasPrefix(raw, "postgresql://"):
		return nil
	case strings.HasPrefix(raw, "sqlite:"):
		if sqlitePath(config{DatabaseURL: raw}) == "" {
			return errors.New("sqlite: needs a file path, such as sqlite:./data/latch.db")
		}
		return nil
	}
	return fmt.Errorf("%q is not supported: use an empty value or sqlite:PATH for SQLite, or postgres://USER@HOST:PORT/DB for PostgreSQL", redact(raw, ""))
}

// sqlitePath returns the SQLite file the configuration names, or "" when
// the database is not SQLite.
func sqlitePath(cfg config) string {
	switch {
	case cfg.DatabaseURL == "":
		return filepath.Join(cfg.DataDir, "latch.db")
	case strings.HasPrefix(cfg.DatabaseURL, "sqlite:"):
		return strings.TrimPrefix(strings.TrimPrefix(cfg.DatabaseURL, "sqlite:"), "//")
	}
	return ""
}

// openServer opens the store, builds the app and starts listening. On
// error, whatever it opened is closed again.
func openServer(ctx context.Context, cfg config, log *slog.Logger) (s *server, err error) {
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data folder: %w", err)
	}
	key, origin, err := secretKey(cfg)
	if err != nil {
		return nil, err
	}
	cfg.keyOrigin = origin
	s = &server{cfg: cfg, log: log}
	if s.store, err = openStore(ctx, cfg); err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	// Every later return gives a nil server and an error: what was opened
	// so far is closed through opened, since s is nil by then.
	opened := s
	defer func() {
		if err != nil {
			opened.Close()
		}
	}()
	// Throttling counts go to Redis when it is configured; device-cookie
	// revocations stay in the database, which keeps them across crashes.
	var policy *throttle.Policy
	if cfg.RedisURL != "" {
		if s.redis, err = redisstore.Open(ctx, cfg.RedisURL); err != nil {
			return nil, fmt.Errorf("open redis: %w", err)
		}
		policy = throttle.NewPolicy(s.redis)
	}
	hasher := password.NewHasher(password.DefaultParams, cfg.HashConcurrency, cfg.HashQueue)
	// Metrics go on a listener of their own, never the public one: they
	// tell an attacker how the server copes.
	var m *metrics.Metrics
	if cfg.MetricsAddr != "" {
		m = metrics.New()
		hasher.ObserveWait = m.ObserveHashWait
		m.WatchHashQueue(hasher.Running, hasher.Waiting)
		m.WatchStore(s.store, log)
		if s.metricsLn, err = net.Listen("tcp", cfg.MetricsAddr); err != nil {
			return nil, fmt.Errorf("listen on %s for metrics: %w (set -metrics-addr or LATCH_METRICS_ADDR)", cfg.MetricsAddr, err)
		}
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", m.Handler())
		s.metrics = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	}
	if !cfg.HashInProcess {
		if s.pool, err = startHashWorkers(cfg, hasher, log); err != nil {
			return nil, err
		}
	}
	s.procs = newProcessorGovernor(cfg, hasher, log)
	if s.mail, err = openMail(cfg, s.store, log, m); err != nil {
		return nil, err
	}
	// Listening before the app is made gives it the address links are
	// built on when no base URL is set, also when -addr asks for port 0.
	if s.ln, err = net.Listen("tcp", cfg.Addr); err != nil {
		return nil, fmt.Errorf("listen on %s: %w (is another program using the port? set -addr or LATCH_ADDR)", cfg.Addr, err)
	}
	s.app, err = app.New(s.store, app.Config{
		Throttle:             policy,
		SecretKey:            key,
		SecureCookies:        cfg.SecureCookies,
		MinPasswordLength:    cfg.MinPasswordLength,
		TrustedProxies:       cfg.TrustedProxies,
		Hasher:               hasher,
		Logger:               log,
		BaseURL:              cfg.BaseURL,
		ListenAddr:           linkAddr(cfg.Addr, s.ln.Addr()),
		RequireVerifiedEmail: cfg.RequireVerifiedEmail,
		TwoFactorResetDelay:  cfg.TwoFactorResetDelay,
		Mail:                 s.mail,
		Metrics:              appMetrics(m),
		Ready:                s.ready,
	})
	if err != nil {
		return nil, err
	}
	s.http = &http.Server{
		Handler:           s.app.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    32 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	return s, nil
}

// linkAddr is the host and port that mailed links name when no base URL is
// set: the host of -addr as the operator wrote it (localhost stays
// localhost, so that the cookies a link's page sets are those of the site
// the user browses), with the port actually bound, which differs when
// -addr asks for port 0. A wildcard host (":8080", "0.0.0.0:8080") names
// no host a browser can reach, so the bound address stands in for it.
func linkAddr(configured string, bound net.Addr) string {
	host, _, err := net.SplitHostPort(configured)
	_, port, perr := net.SplitHostPort(bound.String())
	if err != nil || perr != nil {
		return bound.String()
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		return bound.String()
	}
	return net.JoinHostPort(host, port)
}

// openMail returns the queue of outgoing mail, kept in store and sent to
// the SMTP server of the configuration, or, without one, written into the
// outbox folder of the data folder, where a developer opens the files.
func openMail(cfg config, store mailer.QueueStore, log *slog.Logger, m *metrics.Metrics) (*mailer.Queue, error) {
	var sender mailer.Sender
	if cfg.SMTPURL == "" {
		outbox, err := mailer.NewOutbox(filepath.Join(cfg.DataDir, "outbox"), log)
		if err != nil {
			return nil, err
		}
		sender = outbox
	} else {
		smtp, err := mailer.NewSMTPSender(cfg.SMTPURL, nil)
		if err != nil {
			return nil, err
		}
		sender = smtp
	}
	mcfg := mailer.Config{From: cfg.MailFrom, Sender: sender, Logger: log}
	if m != nil {
		mcfg.Observe = m.ObserveMail
	}
	q, err := mailer.New(store, mcfg)
	if err != nil {
		return nil, fmt.Errorf("mail: %w", err)
	}
	return q, nil
}

// Addr returns the address the server listens on.
func (s *server) Addr() string { return s.ln.Addr().String() }

// MetricsAddr is the address metrics are served on, empty without them.
func (s *server) MetricsAddr() string {
	if s.metricsLn == nil {
		return ""
	}
	return s.metricsLn.Addr().String()
}

// appMetrics is m as the app takes it: a nil interface, not a nil
// pointer, when there are no metrics.
func appMetrics(m *metrics.Metrics) app.Metrics {
	if m == nil {
		return nil
	}
	return m
}

// ready is the app's readiness check beyond the database: Redis answers,
// when throttling counts are kept there.
func (s *server) ready(ctx context.Context) error {
	if s.redis == nil {
		return nil
	}
	return s.redis.Ping(ctx)
}

// Serve answers requests until ctx is done, then stops accepting new ones and
// lets those in flight finish, for up to the shutdown timeout.
func (s *server) Serve(ctx context.Context) error {
	errc := make(chan error, 1)
	go func() { errc <- s.http.Serve(s.ln) }()
	if s.metrics != nil {
		go func() {
			if err := s.metrics.Serve(s.metricsLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
				s.log.Error("metrics listener", "error", err)
			}
		}()
		defer s.metrics.Close()
	}
	go s.pruneLoop(ctx)
	// The mail worker stops after the requests in flight, which may queue
	// mail, and before Close closes the store under it.
	mctx, stopMail := context.WithCancel(context.WithoutCancel(ctx))
	mailDone := make(chan struct{})
	go func() {
		defer close(mailDone)
		s.mail.Run(mctx)
	}()
	defer func() {
		stopMail()
		<-mailDone
	}()
	if s.procs != nil {
		gctx, stop := context.WithCancel(ctx)
		defer stop()
		go s.procs.run(gctx)
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.log.Info("shutting down: finishing requests in flight", "timeout", s.cfg.ShutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	if err := s.http.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	s.app.Wait() // mails being handed over off the request path
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// pruneLoop deletes expired sessions, mailed tokens and audit events
// past their retention hourly.
func (s *server) pruneLoop(ctx context.Context) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		if n, err := s.app.Auth().Prune(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("prune sessions", "error", err)
		} else if n > 0 {
			s.log.Info("pruned expired sessions", "count", n)
		}
		if n, err := s.app.PruneTokens(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("prune tokens", "error", err)
		} else if n > 0 {
			s.log.Info("pruned expired tokens", "count", n)
		}
		if n, err := s.app.PruneAudit(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("prune audit events", "error", err)
		} else if n > 0 {
			s.log.Info("pruned old audit events", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Close releases the listener and the database.
func (s *server) Close() error {
	if s.ln != nil {
		s.ln.Close()
	}
	if s.metricsLn != nil {
		s.metricsLn.Close()
	}
	if s.pool != nil {
		s.pool.Close()
	}
	if s.redis != nil {
		s.redis.Close()
	}
	return s.store.Close()
}
