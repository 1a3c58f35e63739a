// Package app is the tutorial's web application on top of latch: home, sign
// up, log in with "remember me", a profile page for logged-in users, and log
// out. It uses the latch library only through its public API.
package app

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/go-webauthn/webauthn/webauthn"
	"github.com/latchauth/latch"
	"github.com/latchauth/latch/account"
	"github.com/latchauth/latch/clientip"
	"github.com/latchauth/latch/password"
	"github.com/latchauth/latch/throttle"
	"github.com/latchauth/latch/twofactor"
)

// maxBodyBytes bounds request bodies; the largest form is a few kilobytes.
const maxBodyBytes = 64 << 10

// Store is everything the app keeps: sessions, accounts, login
// throttling state and device-cookie revocations, in one database.
type Store interface {
	latch.SessionStore
	account.Store
	account.AdminStore
	account.TokenStore
	throttle.Store
	throttle.DeviceStore
	latch.AuditStore
	twofactor.Store
	// Ping checks that the database answers, for /healthz.
	Ping(ctx context.Context) error
}

// Config holds the app's settings. The zero value of each field is a safe
// default except SecretKey, which is required.
type Config struct {
	// SecretKey signs the flash and device cookies. At least 32 bytes.
	// Required.
	SecretKey []byte
	// SecureCookies marks cookies Secure and sends HSTS: set it when the
	// app is served over HTTPS.
	SecureCookies bool
	// MinPasswordLength is the shortest password accepted. Default 8.
	MinPasswordLength int
	// TrustedProxies are the networks whose X-Forwarded-For is believed.
	TrustedProxies []netip.Prefix
	// Hasher hashes passwords; nil means argon2id at the default parameters
	// with a pool sized to the CPUs.
	Hasher *password.Hasher
	// Throttle slows down failed logins and sign-ups; nil means
	// [throttle.NewPolicy] on the Store.
	Throttle *throttle.Policy
	// Logger receives request and error logs; nil discards them.
	Logger *slog.Logger
	// Mail sends the mails of the account lifecycle (verification,
	// password reset, notices). Nil logs each mail's recipient and subject
	// at warn level and drops it: links never go to the logs.
	Mail Mailer
	// BaseURL is the site's address as its users reach it, such as
	// https://example.com; every link in a mail is built from it, never
	// from a request. When set, requests for another host get 400, which
	// defeats forged Host headers and DNS rebinding; /healthz, asked by
	// load balancers by address, is exempt. Empty: links use
	// http://ListenAddr and any host is served.
	BaseURL string
	// ListenAddr is the address the server listens on, for links when
	// BaseURL is empty. Default localhost:8080.
	ListenAddr string
	// RequireVerifiedEmail keeps users who have not confirmed their email
	// address out of the profile page, and makes sign-up answer the same
	// for an address that has an account, mailing its owner instead.
	RequireVerifiedEmail bool
	// Metrics receives the app's measurements; nil records none.
	Metrics Metrics
	// Ready, if set, is checked by /readyz beside the database, such as
	// a ping of Redis.
	Ready func(ctx context.Context) error
	// AuditRetention is how long the security events of the audit log
	// are kept. Default [latch.DefaultAuditRetention], 180 days.
	AuditRetention time.Duration
	// TwoFactorResetDelay is the wait between a removal of a user's second
	// factors asked for by email, from the login's second step, and the
	// removal, during which any logged-in session of the user may cancel
	// it. Default 3 days.
	TwoFactorResetDelay time.Duration
	// Now returns the current time for sessions and second factors; tests
	// replace it. Default time.Now.
	Now func() time.Time
}

// Metrics receives what the app measures, for an operator's dashboard;
// internal/metrics implements it for Prometheus.
type Metrics interface {
	// ObserveRequest reports a request answered with status on route, its
	// route pattern ("GET /login"), in d.
	ObserveRequest(route string, status int, d time.Duration)
	// CountAuth reports an authentication event ("login", "signup") and
	// its outcome ("success", "failure", "throttled", "busy", "error").
	CountAuth(event, outcome string)
	// CountStoreError reports a request that failed because of the
	// database.
	CountStoreError()
}

// App is the web application. Create it with [New] and serve [App.Handler].
type App struct {
	cfg       Config
	store     Store
	auth      *latch.Manager[account.User]
	accounts  *account.Service
	audit     *latch.AuditLog
	flashes   *flasher
	templates map[string]*template.Template
	memo      pageMemo // pages of logged-in users, as last rendered
	log       *slog.Logger
	// anonHome is the home page as every anonymous visitor without a
	// flash sees it, rendered in New.
	anonHome fixedPage

	mails       *mailTemplates
	baseURL     *url.URL
	checkHost   bool              // requests must name baseURL's host
	mailClient  *throttle.Limiter // mails asked for per client address
	mailTo      *throttle.Limiter // mails sent per recipient
	jobs        chan struct{}     // a slot per mail job running off the request path
	jobsRunning sync.WaitGroup
	ips         *clientip.Resolver // made by clientIP
	ipsOnce     sync.Once

	factors         *twofactor.Service
	secondStepLimit *throttle.Limiter // second-step attempts per account
	webauthn        *webauthn.WebAuthn
}

// New returns the app on store with cfg.
func New(store Store, cfg Config) (*App, error) {
	if len(cfg.SecretKey) < 32 {
		return nil, errors.New("app: secret key must be at least 32 bytes; generate one with `openssl rand -hex 32`")
	}
	tmpl, err := parseTemplates()
	if err != nil {
		return nil, fmt.Errorf("app: %w", err)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Hasher == nil {
		cfg.Hasher = password.NewHasher(password.DefaultParams, 0, 64)
	}
	if cfg.Throttle == nil {
		cfg.Throttle = throttle.NewPolicy(store)
	}
	base, err := parseBaseURL(cfg.BaseURL, cfg.ListenAddr)
	if err != nil {
		return nil, fmt.Errorf("app: %w", err)
	}
	mails, err := parseMailTemplates()
	if err != nil {
		return nil, fmt.Errorf("app: %w", err)
	}
	a := &App{
		cfg:        cfg,
		store:      store,
		templates:  tmpl,
		log:        cfg.Logger,
		mails:      mails,
		baseURL:    base,
		checkHost:  cfg.BaseURL != "",
		mailClient: mailLimiter(cfg.Throttle, 10, 20),
		mailTo:     mailLimiter(cfg.Throttle, 3, 5),
		jobs:       make(chan struct{}, backgroundLimit),
	}
	if a.flashes, err = newFlasher(cfg.SecretKey, cfg.SecureCookies); err != nil {
		return nil, fmt.Errorf("app: %w", err)
	}
	a.accounts = account.NewService(store, cfg.Hasher, cfg.Throttle)
	a.accounts.Devices = throttle.NewDevices(cfg.SecretKey, store)
	if cfg.MinPasswordLength > 0 {
		a.accounts.MinPasswordLength = cfg.MinPasswordLength
	}
	a.auth = latch.New(store, a.loadUser)
	a.auth.Secure = cfg.SecureCookies
	a.auth.Flash = a.flashes.add
	a.auth.ClientIP = a.clientIP
	a.auth.ErrorHandler = a.serveError
	a.auth.RefreshURL = "/login/confirm"
	a.auth.PendingKey = cfg.SecretKey
	if a.factors, err = twofactor.NewService(store, cfg.SecretKey); err != nil {
		return nil, fmt.Errorf("app: %w", err)
	}
	if cfg.TwoFactorResetDelay > 0 {
		a.factors.ResetDelay = cfg.TwoFactorResetDelay
	}
	if cfg.Now != nil {
		a.auth.Now, a.factors.Now = cfg.Now, cfg.Now
	}
	a.secondStepLimit = secondStepLimiter(cfg.Throttle)
	if a.webauthn, err = newWebAuthn(base.Scheme+"://"+base.Host, base.Hostname()); err != nil {
		// WebAuthn binds keys to a domain name: a site reached by IP
		// address runs without passkeys rather than not at all.
		a.log.Warn("passkeys are off: the base URL needs a domain name, such as localhost, not an IP address", "base_url", base.String(), "error", err)
		a.webauthn = nil
	}
	a.auth.OnEvent = a.onAuthEvent
	a.audit = &latch.AuditLog{Store: store, Retention: cfg.AuditRetention, Logger: cfg.Logger}
	if a.anonHome, err = a.renderFixed("index", page{}); err != nil {
		return nil, fmt.Errorf("app: %w", err)
	}
	return a, nil
}

// Auth returns the app's latch manager, for session maintenance such as
// [latch.Manager.Prune].
func (a *App) Auth() *latch.Manager[account.User] { return a.auth }

// PruneTokens deletes expired mailed links and codes; run it now and then,
// beside [latch.Manager.Prune].
func (a *App) PruneTokens(ctx context.Context) (int, error) { return a.accounts.PruneTokens(ctx) }

// loadUser is the latch user loader: session user IDs are account IDs.
func (a *App) loadUser(ctx context.Context, id string) (account.User, error) {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		return account.User{}, fmt.Errorf("%w: bad id %q", latch.ErrUnknownUser, id)
	}
	u, err := a.store.UserByID(ctx, n)
	if errors.Is(err, account.ErrUserNotFound) {
		return account.User{}, fmt.Errorf("%w: %d", latch.ErrUnknownUser, n)
	}
	if err == nil && !u.DisabledAt.IsZero() {
		// A disabled account's sessions end at their next request, even
		// one the revocation at disabling missed.
		return account.User{}, fmt.Errorf("%w: %d is disabled", latch.ErrUnknownUser, n)
	}
	return u, err
}

// Handler returns the app's HTTP handler with every route and middleware.
func (a *App) Handler() http.Handler {
	csrf := http.NewCrossOriginProtection()
	csrf.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.serveError(w, r, errCrossOrigin)
	}))
	// Pages go behind cross-origin protection and the session middleware.
	// Every page shows who is logged in, so the user is loaded before the
	// page's handler runs, and a user who cannot be loaded gets the error
	// page rather than a page rendered as anonymous.
	loaded := func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if _, err := a.auth.Lookup(r); err != nil {
				a.serveError(w, r, err)
				return
			}
			h.ServeHTTP(w, r)
		})
	}
	page := func(h http.Handler) http.Handler { return csrf.Handler(a.auth.Middleware(loaded(h))) }
	login := a.auth.RequireLogin
	fresh := a.auth.RequireFresh

	// Each page is a route of mux, so that a request for it is looked up
	// once. What matches none goes to pages, a mux of the pages alone,
	// which answers as for a page: "GET /" gives our 404 page to any GET
	// (also of a path that only takes POST), and another method on a path
	// that exists gets a 405 listing the allowed ones.
	pages := http.NewServeMux()
	mux := http.NewServeMux()
	route := func(pattern string, h http.Handler) {
		pages.Handle(pattern, h)
		mux.Handle(pattern, page(h))
	}
	route("GET /{$}", a.handle(a.home))
	route("GET /signup", a.handle(a.signupForm))
	route("POST /signup", a.handle(a.signup))
	route("GET /login", a.handle(a.loginForm))
	route("POST /login", a.handle(a.login))
	route("GET /login/confirm", login(a.handle(a.confirmForm)))
	route("POST /login/confirm", login(a.handle(a.confirm)))
	route("GET /profile", login(a.requireVerified(a.handle(a.profile))))
	route("POST /sessions/revoke", fresh(a.handle(a.revokeSession)))
	route("POST /sessions/revoke-others", fresh(a.handle(a.revokeOtherSessions)))
	route("GET /logout", a.handle(a.logoutForm))
	route("POST /logout", a.handle(a.logout))
	a.lifecycleRoutes(route)
	a.adminRoutes(route)
	a.twoFactorRoutes(route)
	a.passkeyRoutes(route)
	pages.Handle("GET /", a.handle(func(w http.ResponseWriter, r *http.Request) error { return errNotFound }))
	mux.Handle("/", page(pages))

	// Assets and health checks need no session: they skip the session
	// lookup, so a page load costs one database read, not three.
	mux.Handle("GET /static/", staticHandler())
	mux.HandleFunc("GET /healthz", a.healthz)
	mux.HandleFunc("GET /readyz", a.readyz)
	mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, r *http.Request) {
		// No icon; answering 204 spares browsers and logs a 404 each visit.
		w.Header().Set("Cache-Control", "public, max-age=86400")
		w.WriteHeader(http.StatusNoContent)
	})

	var h http.Handler = mux
	h = a.limitBody(h)
	h = a.hostCheck(h)
	h = a.securityHeaders(h)
	h = a.logRequests(h)
	return h
}
