package latch

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// ErrUnknownUser is what a [LoaderFunc] returns (possibly wrapped) when the
// user of a session no longer exists. The session is then ended and the
// request goes on as anonymous; a user ID from [Manager.RequestLoader] that
// names nobody leaves the request anonymous too.
var ErrUnknownUser = errors.New("latch: unknown user")

// ErrNotLoggedIn is returned by methods that need a logged-in request, such
// as [Manager.ConfirmLogin], when the request is anonymous.
var ErrNotLoggedIn = errors.New("latch: not logged in")

// LoaderFunc loads the application's user for a user ID stored in a session:
// Flask-Login's user_loader. It returns an error wrapping [ErrUnknownUser] if
// the user is gone; any other error reaches [Manager.ErrorHandler] through
// the guards, and [Manager.Lookup] returns it.
type LoaderFunc[U any] func(ctx context.Context, userID string) (U, error)

// Current is who is making a request, as [Manager.Middleware] and the
// loaders found out. An anonymous request has the zero Current:
// Authenticated is false and User is U's zero value, never something to
// dereference blindly.
type Current[U any] struct {
	// User is the loaded user, or U's zero value when anonymous.
	User U
	// UserID is the ID the session was created with, or the one
	// [Manager.RequestLoader] returned.
	UserID string
	// SessionID identifies the session among the user's sessions; empty
	// for a user loaded by [Manager.RequestLoader], who has no session.
	SessionID string
	// Source says how the user was loaded: from the session cookie, from
	// the remember-me cookie in this request, or by
	// [Manager.RequestLoader]. Zero when anonymous.
	Source Source
	// Authenticated reports whether a user is logged in.
	Authenticated bool
	// Fresh reports whether the user typed a password in this login
	// session, as opposed to being logged in again by the remember-me
	// cookie or loaded by [Manager.RequestLoader], which is never fresh.
	Fresh bool
	// Remember reports whether the user asked to be remembered.
	Remember bool
}

// Source says how the user of a request was loaded.
type Source int

const (
	// SourceNone is the Source of an anonymous request.
	SourceNone Source = iota
	// SourceSession is a user loaded from the session cookie, by a login
	// made earlier or in this request.
	SourceSession
	// SourceRemember is a user whose login the remember-me cookie
	// restored in this request; it is not fresh.
	SourceRemember
	// SourceRequest is a user that [Manager.RequestLoader] found, from
	// something the request carries rather than a cookie; it is not
	// fresh and has no session.
	SourceRequest
)

// String returns the Source's name in lower case, such as "session".
func (s Source) String() string {
	switch s {
	case SourceNone:
		return "none"
	case SourceSession:
		return "session"
	case SourceRemember:
		return "remember"
	case SourceRequest:
		return "request"
	}
	return fmt.Sprintf("Source(%d)", int(s))
}

// Manager loads users from sessions and logs them in and out. Its exported
// fields are settings; [New] fills them with secure defaults, and they may be
// changed before the Manager serves its first request, not after.
type Manager[U any] struct {
	store SessionStore
	load  LoaderFunc[U]

	// CookieName names the session cookie. Default "latch_session". When
	// Secure is set, Domain empty and Path "/", the name gets the
	// "__Host-" prefix, which browsers only accept from HTTPS with those
	// attributes, so a subdomain cannot plant it.
	CookieName string
	// RememberCookieName names the remember-me cookie. Default
	// "latch_remember"; prefixed like CookieName.
	RememberCookieName string
	// CookiePath is the Path of both cookies. Default "/".
	CookiePath string
	// CookieDomain is the Domain of both cookies. Default empty: the host
	// that set them, and no other.
	CookieDomain string
	// Secure marks the cookies Secure, so they travel only over HTTPS.
	// Default false, which suits http://localhost; set it behind HTTPS.
	Secure bool
	// SameSite is the cookies' SameSite mode. Default [http.SameSiteLaxMode]:
	// a link from another site keeps the user logged in, a cross-site POST
	// does not carry the cookies.
	SameSite http.SameSite

	// IdleTimeout ends a session not used for this long. A remembered
	// login is then restored from the remember-me cookie, as not fresh.
	// Default 2 hours.
	IdleTimeout time.Duration
	// Lifetime is the absolute length of a session that is not
	// remembered, however active. Default 24 hours.
	Lifetime time.Duration
	// RememberFor is the absolute length of a remembered login. Default 30
	// days.
	RememberFor time.Duration
	// RememberGrace is how long after a remember-me token is rotated the
	// previous token still restores the login, without rotating again: a
	// browser reopening several tabs sends it in parallel requests, and
	// only the first can receive the new one. The old token presented
	// later ends the session, as a sign that a copy was stolen. Default
	// 30 seconds.
	RememberGrace time.Duration
	// MaxSessions is how many sessions a user may have at once. A login
	// that would make more ends the user's least recently used sessions
	// (by LastSeenAt) other than the new one, so that a script logging in
	// again and again cannot grow the store, or the user's session list,
	// without bound. Logins in flight at the same moment may leave a few
	// more until the next login. Default 100; zero or less: no limit.
	MaxSessions int
	// PendingCookieName names the cookie of a partial login (see
	// [LoginOptions.Partial]). Default "latch_pending"; prefixed like
	// CookieName.
	PendingCookieName string
	// PendingKey signs the cookie of a partial login, so that nobody can
	// make one for a user whose password they do not know. At least 32
	// bytes; required for partial logins, which fail without it. Default
	// nil.
	PendingKey []byte
	// PendingFor is how long a partial login waits for its second factor
	// before the password must be typed again. Default 5 minutes.
	PendingFor time.Duration
	// TouchInterval is how often a session's LastSeenAt is written, at
	// most. Writing on every request would make every page load a database
	// write. Default 1 minute.
	TouchInterval time.Duration

	// LoginURL is where [Manager.RequireLogin] sends browsers, with the
	// requested page in the "next" query parameter. Default "/login".
	LoginURL string
	// LoginMessage is flashed when a browser is sent to LoginURL. Default
	// "Please log in to access this page."; empty flashes nothing.
	LoginMessage string
	// RefreshURL is where [Manager.RequireFresh] sends a logged-in user
	// whose login is not fresh. Default empty, meaning LoginURL.
	RefreshURL string
	// RefreshMessage is flashed when a browser is sent to RefreshURL.
	// Default "Please reauthenticate to access this page.".
	RefreshMessage string
	// Flash, when set, shows a message on the next page; latch renders no
	// HTML, so the application provides it, with
	// [github.com/latchauth/latch/flash.Flash] for one. Default nil: no
	// messages.
	Flash func(w http.ResponseWriter, r *http.Request, message string)

	// ClientIP returns the client's address for session records. Default:
	// the host part of r.RemoteAddr. Behind a proxy, supply one that trusts
	// X-Forwarded-For only from the proxy, such as
	// [github.com/latchauth/latch/clientip.Resolver.ClientIP].
	ClientIP func(r *http.Request) string
	// Unauthorized answers a request that [Manager.RequireLogin] or
	// [Manager.RequireFresh] turns away because nobody is logged in, unless
	// the route has its own (see [Manager.RequireLoginWith]). Default nil:
	// a browser is redirected to LoginURL (see [Manager.RequireLogin] for
	// how a browser is told from an API client). [DenyJSON] answers 401
	// for APIs.
	Unauthorized http.Handler
	// NeedsRefresh answers a request that [Manager.RequireFresh] turns
	// away because the login is not fresh, unless the route has its own.
	// Default nil: as Unauthorized's default, towards RefreshURL.
	NeedsRefresh http.Handler

	// RequestLoader, when set, finds the user of a request that has no
	// session, from something the request carries, such as an API key in
	// an Authorization header: Flask-Login's request_loader. It returns the
	// user's ID, which the [LoaderFunc] then loads, or "" for none (an
	// absent or unknown key: the request is anonymous). An error reaches
	// ErrorHandler. It runs at most once per request, at the first
	// [Manager.Current] that needs it, so a route that never asks who is
	// there never runs it. The user so loaded passes the guards like a
	// session's user, but is not fresh and has no session: its
	// [Current.Source] is [SourceRequest]. It must not call Current
	// itself. Default nil.
	RequestLoader func(r *http.Request) (userID string, err error)
	// Protection makes a session presented by another kind of browser
	// than the one it was created in (another browser or operating
	// system, not merely another version) lose its freshness for the
	// request, or end. Default [ProtectionOff].
	Protection Protection
	// OnEvent, when set, is told of logins, logouts, logins restored from
	// the remember-me cookie or loaded by RequestLoader, and denials, for
	// audit logs and metrics. It runs in the request's goroutine and must
	// be quick. Default nil.
	OnEvent func(r *http.Request, e Event)

	// ErrorHandler answers a request whose session could not be checked
	// because the store failed, or whose user could not be loaded. Default:
	// 503 Service Unavailable with a short plain-text message and
	// Retry-After.
	ErrorHandler func(w http.ResponseWriter, r *http.Request, err error)
	// Now returns the current time; tests replace it. Default time.Now.
	Now func() time.Time
}

// New returns a Manager keeping sessions in store and loading users with
// load, with every setting at its default.
func New[U any](store SessionStore, load LoaderFunc[U]) *Manager[U] {
	return &Manager[U]{
		store:              store,
		load:               load,
		CookieName:         "latch_session",
		RememberCookieName: "latch_remember",
		PendingCookieName:  "latch_pending",
		PendingFor:         5 * time.Minute,
		CookiePath:         "/",
		SameSite:           http.SameSiteLaxMode,
		IdleTimeout:        2 * time.Hour,
		Lifetime:           24 * time.Hour,
		RememberFor:        30 * 24 * time.Hour,
		RememberGrace:      30 * time.Second,
		MaxSessions:        100,
		TouchInterval:      time.Minute,
		LoginURL:           "/login",
		LoginMessage:       "Please log in to access this page.",
		RefreshMessage:     "Please reauthenticate to access this page.",
		ClientIP:           remoteHost,
		ErrorHandler:       unavailable,
		Now:                time.Now,
	}
}

// state is what the middleware leaves in the request context of a request
// with a session, or of any request when a RequestLoader is set. The user is
// loaded at the first Current that asks, so that a route that never asks
// never pays for the loader nor fails on it. LogIn, LogOut and ConfirmLogin
// change it, so that the rest of the request sees what they did.
type state[U any] struct {
	// w clears the cookies of a session whose user is gone, found only
	// when the user is loaded.
	w http.ResponseWriter

	mu sync.Mutex
	// session is the live session, or nil.
	session *Session
	// source is how the session was found.
	source Source
	// fresh is the session's freshness for this request, which
	// Protection may lower.
	fresh bool
	// ask is set while RequestLoader is to be asked, for a request
	// without session.
	ask bool
	// done is set once cur and err hold the answer.
	done bool
	cur  Current[U]
	err  error
}

// ctxKey is the context key of a Manager's state. Holding just a pointer, it
// fits in an interface as is: building a key allocates nothing.
type ctxKey[U any] struct{ m *Manager[U] }

// varyCookie is the Vary value the middleware adds, shared by every response
// rather than allocated by Header.Add each time. Nothing changes it in
// place: Header.Set replaces it and Header.Add appends to a full slice,
// which copies it.
var varyCookie = []string{"Cookie"}

// Middleware finds the session of each request and makes it available to
// [Manager.Current], which loads its user when first asked. Every handler
// that uses the Manager must run behind it. It restores remembered logins,
// drops unknown or malformed cookies quietly, and ends sessions past their
// idle or absolute timeouts on the server, whatever the browser still
// holds. A store failure is answered by ErrorHandler.
func (m *Manager[U]) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		st, err := m.resolve(w, r)
		if err != nil {
			m.ErrorHandler(w, r, err)
			return
		}
		h := w.Header()
		if v := h["Vary"]; len(v) > 0 {
			h["Vary"] = append(v, "Cookie")
		} else {
			h["Vary"] = varyCookie
		}
		if st == nil && m.RequestLoader != nil {
			st = &state[U]{ask: true}
		}
		if st == nil {
			// Anonymous: the zero Current that Current returns for a
			// request without state is the right answer, so the
			// request is passed on as is, not copied.
			next.ServeHTTP(w, r)
			return
		}
		st.w = w
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ctxKey[U]{m}, st)))
	})
}

// Current returns who is making the request: the logged-in user, or the zero
// Current for an anonymous request (and for a request that did not pass
// through [Manager.Middleware]). The first call in a request loads the user;
// when loading fails, Current answers as for an anonymous request, and
// [Manager.Lookup] returns the error. A user whose loader reports
// [ErrUnknownUser] is anonymous, and the session is ended.
func (m *Manager[U]) Current(r *http.Request) Current[U] {
	cur, err := m.Lookup(r)
	if err != nil {
		return Current[U]{}
	}
	return cur
}

// Lookup is [Manager.Current] with the error that kept the user from
// loading: the store or the [LoaderFunc] failed, or RequestLoader did. The
// guards hand that error to ErrorHandler; a handler that must not take a
// failure for an anonymous visit uses Lookup too.
func (m *Manager[U]) Lookup(r *http.Request) (Current[U], error) {
	st := m.stateOf(r)
	if st == nil {
		return Current[U]{}, nil
	}
	st.mu.Lock()
	first := !st.done
	if first {
		st.cur, st.err = m.loadUser(r, st)
		st.done = true
	}
	cur, err := st.cur, st.err
	st.mu.Unlock()
	// Told after the lock is released, so that OnEvent may ask Current.
	if first && err == nil && cur.Source == SourceRequest {
		m.event(r, Event{Kind: EventLoadedFromRequest, UserID: cur.UserID})
	}
	return cur, err
}

// loadUser loads the user of st, with st.mu held.
func (m *Manager[U]) loadUser(r *http.Request, st *state[U]) (Current[U], error) {
	ctx := r.Context()
	if s := st.session; s != nil {
		u, err := m.load(ctx, s.UserID)
		if errors.Is(err, ErrUnknownUser) {
			st.session = nil
			_, err := m.end(st.w, r, *s)
			return Current[U]{}, err
		}
		if err != nil {
			return Current[U]{}, fmt.Errorf("latch: load user %q: %w", s.UserID, err)
		}
		return Current[U]{
			User:          u,
			UserID:        s.UserID,
			SessionID:     s.ID,
			Source:        st.source,
			Authenticated: true,
			Fresh:         st.fresh,
			Remember:      s.Remember,
		}, nil
	}
	if !st.ask || m.RequestLoader == nil {
		return Current[U]{}, nil
	}
	id, err := m.RequestLoader(r)
	if err != nil {
		return Current[U]{}, fmt.Errorf("latch: find the user of the request: %w", err)
	}
	if id == "" {
		return Current[U]{}, nil
	}
	u, err := m.load(ctx, id)
	if errors.Is(err, ErrUnknownUser) {
		return Current[U]{}, nil
	}
	if err != nil {
		return Current[U]{}, fmt.Errorf("latch: load user %q: %w", id, err)
	}
	return Current[U]{User: u, UserID: id, Source: SourceRequest, Authenticated: true}, nil
}

// stateOf returns what the middleware found for a request, or nil.
func (m *Manager[U]) stateOf(r *http.Request) *state[U] {
	st, _ := r.Context().Value(ctxKey[U]{m}).(*state[U])
	return st
}

// resolve finds the session of a request and returns its state, or nil for
// a request without a live session. It loads no user.
func (m *Manager[U]) resolve(w http.ResponseWriter, r *http.Request) (*state[U], error) {
	if len(r.Header["Cookie"]) == 0 {
		return nil, nil // most anonymous visits: nothing to look up
	}
	ctx := r.Context()
	now := m.Now()
	if c, err := r.Cookie(m.cookieName()); err == nil {
		if !validToken(c.Value) {
			m.clearCookie(w, m.cookieName())
		} else {
			s, err := m.store.SessionByToken(ctx, hashToken(c.Value))
			switch {
			case errors.Is(err, ErrSessionNotFound):
				m.clearCookie(w, m.cookieName())
			case err != nil:
				return nil, fmt.Errorf("latch: look up session: %w", err)
			case !now.Before(s.ExpiresAt):
				return m.end(w, r, s)
			case now.Sub(s.LastSeenAt) < m.IdleTimeout:
				if now.Sub(s.LastSeenAt) >= m.TouchInterval {
					s.LastSeenAt = now
					if err := m.store.TouchSession(ctx, s.ID, now); errors.Is(err, ErrSessionNotFound) {
						return m.end(w, r, s) // revoked meanwhile
					} else if err != nil {
						return nil, fmt.Errorf("latch: touch session: %w", err)
					}
				}
				return m.live(w, r, s, SourceSession)
			case !s.Remember:
				return m.end(w, r, s)
			default:
				// Idle but remembered: the remember-me cookie
				// below may restore it, as not fresh.
				m.clearCookie(w, m.cookieName())
			}
		}
	}
	rc, err := r.Cookie(m.rememberCookieName())
	if err != nil {
		return nil, nil
	}
	if !validToken(rc.Value) {
		m.clearCookie(w, m.rememberCookieName())
		return nil, nil
	}
	return m.restore(w, r, hashToken(rc.Value), now, true)
}

// live returns the state of a live session, whose user is loaded later,
// after Protection has judged the browser presenting it.
func (m *Manager[U]) live(w http.ResponseWriter, r *http.Request, s Session, source Source) (*state[U], error) {
	fresh := s.Fresh
	if m.Protection != ProtectionOff && !sameBrowser(s.UserAgent, r.UserAgent()) {
		if m.Protection == ProtectionStrong {
			return m.end(w, r, s)
		}
		fresh = false
	}
	return &state[U]{session: &s, source: source, fresh: fresh}, nil
}

// end deletes a session that may no longer be used and clears its cookies.
func (m *Manager[U]) end(w http.ResponseWriter, r *http.Request, s Session) (*state[U], error) {
	if err := m.store.DeleteSession(r.Context(), s.ID); err != nil {
		return nil, fmt.Errorf("latch: end session: %w", err)
	}
	m.clearCookie(w, m.cookieName())
	m.clearCookie(w, m.rememberCookieName())
	return nil, nil
}

// LoginOptions are the choices of a login. The zero value is a fresh login
// that is not remembered and lasts Lifetime.
type LoginOptions struct {
	// Remember sets a remember-me cookie that keeps the user logged in
	// across browser restarts, for RememberFor.
	Remember bool
	// Duration, when positive, is the absolute length of this login in
	// place of Lifetime, or of RememberFor when remembered.
	Duration time.Duration
	// NotFresh starts the session as not fresh, for a login made without
	// typing a password (a mailed link, another site's sign-in), so that
	// [Manager.RequireFresh] still asks for it.
	NotFresh bool
	// Partial starts no session: the password was right, but the user
	// owes a second factor. LogIn then ends the request's session, if
	// any, and sets a signed cookie holding the partial login, which
	// [Manager.Pending] reads and [Manager.CompleteLogIn] turns into a
	// session with the other options given here, within PendingFor.
	// Until then the request is anonymous to [Manager.Current] and the
	// guards. It needs [Manager.PendingKey].
	Partial bool
}

// LogIn starts a new session for userID and sets its cookies; call it after
// checking the user's password. Any session the request already had is
// ended first and a new token is issued, never reused: an attacker who
// planted a session cookie in the victim's browser before login (session
// fixation) is left holding a dead token. With opts.Remember, a remember-me
// cookie keeps the user logged in across browser restarts; without it, the
// session cookie has no expiry and ends with the browser. The new session
// is fresh unless opts.NotFresh. When the user then has more than
// MaxSessions sessions, the least recently used others are ended.
// [Manager.Current] sees the new login for the rest of the request. With
// opts.Partial no session starts yet: see [LoginOptions.Partial].
func (m *Manager[U]) LogIn(w http.ResponseWriter, r *http.Request, userID string, opts LoginOptions) error {
	if opts.Partial {
		return m.beginPartial(w, r, userID, opts)
	}
	if _, err := m.endCurrent(r); err != nil {
		return err
	}
	now := m.Now()
	token, hash := newToken()
	remember := opts.Remember
	s := Session{
		ID:         newID(),
		UserID:     userID,
		TokenHash:  hash,
		Remember:   remember,
		Fresh:      !opts.NotFresh,
		CreatedAt:  now,
		LastSeenAt: now,
		ExpiresAt:  now.Add(m.Lifetime),
		IP:         m.ClientIP(r),
		UserAgent:  userAgent(r),
	}
	var rtoken string
	if remember {
		rtoken, s.RememberHash = newToken()
		s.ExpiresAt = now.Add(m.RememberFor)
	}
	if opts.Duration > 0 {
		s.ExpiresAt = now.Add(opts.Duration)
	}
	if err := m.store.CreateSession(r.Context(), s); err != nil {
		return fmt.Errorf("latch: create session: %w", err)
	}
	if m.MaxSessions > 0 {
		if _, err := m.store.TrimUserSessions(r.Context(), userID, s.ID, m.MaxSessions); err != nil {
			return fmt.Errorf("latch: end sessions beyond MaxSessions: %w", err)
		}
	}
	m.setCookies(w, token, rtoken, s.ExpiresAt)
	if !remember {
		m.clearCookie(w, m.rememberCookieName())
	}
	m.setState(w, r, &s)
	m.event(r, Event{Kind: EventLoggedIn, UserID: userID, SessionID: s.ID})
	return nil
}

// setState makes the rest of the request see session s, or nobody when s is
// nil. A request the middleware found anonymous, without a RequestLoader,
// carries no state, since most never log in; LogIn gives it one in place,
// the only way the handler that called it can see it through the same
// *http.Request.
func (m *Manager[U]) setState(w http.ResponseWriter, r *http.Request, s *Session) {
	st := m.stateOf(r)
	if st == nil {
		if s == nil {
			return
		}
		st = &state[U]{w: w}
		*r = *r.WithContext(context.WithValue(r.Context(), ctxKey[U]{m}, st))
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	st.session, st.source, st.ask, st.done, st.cur, st.err = s, SourceSession, false, false, Current[U]{}, nil
	if s != nil {
		st.fresh = s.Fresh
	}
}

// LogOut ends the request's session on the server and clears its cookies,
// so that a copy of the old cookies logs nobody in. It is not an error to log
// out an anonymous request.
// [Manager.Current] sees an anonymous request for the rest of it, even one
// whose RequestLoader would find a user.
func (m *Manager[U]) LogOut(w http.ResponseWriter, r *http.Request) error {
	s, err := m.endCurrent(r)
	if err != nil {
		return err
	}
	m.clearCookie(w, m.cookieName())
	m.clearCookie(w, m.rememberCookieName())
	m.CancelLogIn(w, r)
	m.setState(w, r, nil)
	if s.ID != "" {
		m.event(r, Event{Kind: EventLoggedOut, UserID: s.UserID, SessionID: s.ID})
	}
	return nil
}

// endCurrent deletes the request's session, if any, and returns it. It also
// honours a session cookie the middleware did not resolve, so LogIn rotates
// even then.
func (m *Manager[U]) endCurrent(r *http.Request) (Session, error) {
	var s Session
	st := m.stateOf(r)
	if st != nil {
		st.mu.Lock()
		if st.session != nil {
			s = *st.session
		}
		st.mu.Unlock()
	}
	if st == nil || s.ID == "" {
		if c, err := r.Cookie(m.cookieName()); err == nil && validToken(c.Value) {
			found, err := m.store.SessionByToken(r.Context(), hashToken(c.Value))
			if err != nil && !errors.Is(err, ErrSessionNotFound) {
				return Session{}, fmt.Errorf("latch: look up session: %w", err)
			}
			s = found
		}
	}
	if s.ID == "" {
		return Session{}, nil
	}
	if err := m.store.DeleteSession(r.Context(), s.ID); err != nil {
		return Session{}, fmt.Errorf("latch: end session: %w", err)
	}
	return s, nil
}

// ConfirmLogin marks the request's session fresh again after the user has
// re-entered the password, as Flask-Login's confirm_login. The session token
// is rotated, because the session gains privileges. It returns
// [ErrNotLoggedIn] for a request without a session: an anonymous one, or
// one whose user [Manager.RequestLoader] found.
func (m *Manager[U]) ConfirmLogin(w http.ResponseWriter, r *http.Request) error {
	st := m.stateOf(r)
	if st == nil {
		return ErrNotLoggedIn
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.session == nil {
		return ErrNotLoggedIn
	}
	s := *st.session
	token, hash := newToken()
	s.TokenHash = hash
	s.Fresh = true
	s.LastSeenAt = m.Now()
	if err := m.store.UpdateSession(r.Context(), s); err != nil {
		return fmt.Errorf("latch: confirm login: %w", err)
	}
	m.setCookies(w, token, "", s.ExpiresAt)
	st.session, st.fresh = &s, true
	if st.done {
		// The user is loaded already: the rest of the request sees the
		// login fresh.
		st.cur.Fresh = st.cur.Authenticated
	}
	return nil
}

// Sessions returns the user's sessions that have not expired, newest first.
// It reads every session of the user, as many as MaxSessions allows: a page
// should use [Manager.RecentSessions], whose cost does not grow with them.
func (m *Manager[U]) Sessions(ctx context.Context, userID string) ([]SessionInfo, error) {
	all, err := m.store.UserSessions(ctx, userID)
	if err != nil {
		return nil, fmt.Errorf("latch: list sessions: %w", err)
	}
	now := m.Now()
	live := make([]SessionInfo, 0, len(all))
	for _, s := range all {
		if now.Before(s.ExpiresAt) && (s.Remember || now.Sub(s.LastSeenAt) < m.IdleTimeout) {
			live = append(live, s.Info())
		}
	}
	return live, nil
}

// RecentSessions returns at most limit of the user's sessions that have not
// expired, most recently used first, and how many others there are, for a
// "where you're logged in" page that stays the same size however many
// sessions the user has.
func (m *Manager[U]) RecentSessions(ctx context.Context, userID string, limit int) ([]SessionInfo, int, error) {
	now := m.Now()
	list, more, err := m.store.RecentUserSessions(ctx, userID, now, now.Add(-m.IdleTimeout), max(limit, 0))
	if err != nil {
		return nil, 0, fmt.Errorf("latch: list recent sessions: %w", err)
	}
	infos := make([]SessionInfo, len(list))
	for i, s := range list {
		infos[i] = s.Info()
	}
	return infos, more, nil
}

// Revoke ends one of the user's sessions, on every device and instance at
// once. It returns [ErrSessionNotFound] if the user has no such session, so
// one user cannot end another's.
func (m *Manager[U]) Revoke(ctx context.Context, userID, sessionID string) error {
	found, err := m.store.DeleteUserSession(ctx, userID, sessionID)
	if err != nil {
		return fmt.Errorf("latch: revoke session: %w", err)
	}
	if !found {
		return ErrSessionNotFound
	}
	return nil
}

// RevokeAll ends every session of the user except keep (which may be empty),
// remember-me logins included. Call it when the password changes or is reset.
func (m *Manager[U]) RevokeAll(ctx context.Context, userID, keep string) (int, error) {
	n, err := m.store.DeleteUserSessions(ctx, userID, keep)
	if err != nil {
		return n, fmt.Errorf("latch: revoke sessions: %w", err)
	}
	return n, nil
}

// Prune deletes expired sessions when the store implements [SessionPruner],
// and does nothing otherwise. Run it now and then, for instance hourly.
func (m *Manager[U]) Prune(ctx context.Context) (int, error) {
	p, ok := m.store.(SessionPruner)
	if !ok {
		return 0, nil
	}
	now := m.Now()
	n, err := p.DeleteExpiredSessions(ctx, now, now.Add(-m.IdleTimeout))
	if err != nil {
		return n, fmt.Errorf("latch: prune sessions: %w", err)
	}
	return n, nil
}

// remoteHost is the default ClientIP.
func remoteHost(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// userAgent returns the request's User-Agent, bounded and valid UTF-8, for
// session listings.
func userAgent(r *http.Request) string {
	ua := r.UserAgent()
	if len(ua) > 512 {
		ua = ua[:512]
	}
	if !utf8.ValidString(ua) {
		ua = strings.ToValidUTF8(ua, "")
	}
	return ua
}

// unavailable is the default ErrorHandler.
func unavailable(w http.ResponseWriter, r *http.Request, err error) {
	w.Header().Set("Retry-After", "5")
	w.Header().Set("Cache-Control", "no-store")
	http.Error(w, "The service is temporarily unavailable. Please try again in a few seconds.", http.StatusServiceUnavailable)
}
