package latch

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// ErrNoPendingLogin is returned by [Manager.CompleteLogIn] when the request
// carries no partial login, or one that has expired or been tampered with:
// the user must type the password again.
var ErrNoPendingLogin = errors.New("latch: no pending login; log in with the password again")

// errNoPendingKey is returned by LogIn for a partial login when the Manager
// has no key to sign its cookie with.
var errNoPendingKey = errors.New("latch: a partial login needs Manager.PendingKey, at least 32 bytes")

// Pending is a partial login: the user gave the right password, and a
// second factor is still owed. It lives only in a signed cookie, so it is
// no session: [Manager.Current] and the guards see the request as
// anonymous until [Manager.CompleteLogIn] turns it into one.
type Pending struct {
	// UserID is the user whose password was right.
	UserID string
	// Remember, Duration and NotFresh are the options the login asked
	// for, which the session gets when the login completes.
	Remember bool
	Duration time.Duration
	NotFresh bool
	// ExpiresAt is when the partial login ends, PendingFor after the
	// password was checked.
	ExpiresAt time.Time
	// Nonce is random and distinct for each partial login: a key for
	// throttling or for anything the application keeps about this one.
	Nonce string
}

// pendingClaims is the signed body of the pending cookie.
type pendingClaims struct {
	U string `json:"u"`
	R bool   `json:"r,omitempty"`
	D int64  `json:"d,omitempty"`
	F bool   `json:"f,omitempty"`
	E int64  `json:"e"`
	N string `json:"n"`
}

func (m *Manager[U]) pendingCookieName() string { return m.prefixed(m.PendingCookieName) }

// beginPartial ends the request's session, if any, and sets the cookie of a
// partial login for userID. The session goes first: a request that owes a
// second factor must not go on as whoever was logged in before.
func (m *Manager[U]) beginPartial(w http.ResponseWriter, r *http.Request, userID string, opts LoginOptions) error {
	if len(m.PendingKey) < 32 {
		return errNoPendingKey
	}
	if _, err := m.endCurrent(r); err != nil {
		return err
	}
	m.clearCookie(w, m.cookieName())
	m.clearCookie(w, m.rememberCookieName())
	m.setState(w, r, nil)
	nonce, _ := newToken()
	exp := m.Now().Add(m.PendingFor)
	body, err := json.Marshal(pendingClaims{U: userID, R: opts.Remember, D: int64(opts.Duration), F: opts.NotFresh, E: exp.UnixMicro(), N: nonce})
	if err != nil {
		return fmt.Errorf("latch: begin partial login: %w", err)
	}
	payload := base64.RawURLEncoding.EncodeToString(body)
	c := m.cookie(m.pendingCookieName(), payload+"."+m.signPending(payload))
	c.MaxAge = max(int(m.PendingFor/time.Second), 1)
	c.Expires = exp
	http.SetCookie(w, c)
	m.event(r, Event{Kind: EventPartialLogin, UserID: userID})
	return nil
}

// signPending returns the MAC of a pending cookie's payload, under a key of
// its own derived from PendingKey, so that no other MAC made with the same
// secret can pass for one.
func (m *Manager[U]) signPending(payload string) string {
	k := hmac.New(sha256.New, m.PendingKey)
	k.Write([]byte("latch pending login v1"))
	mac := hmac.New(sha256.New, k.Sum(nil))
	mac.Write([]byte(payload))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// Pending returns the request's partial login, if it has one that is
// signed by this Manager and has not expired. A page asking for the second
// factor uses it to know whose factor to check.
func (m *Manager[U]) Pending(r *http.Request) (Pending, bool) {
	if len(m.PendingKey) < 32 {
		return Pending{}, false
	}
	c, err := r.Cookie(m.pendingCookieName())
	if err != nil || len(c.Value) > 4096 {
		return Pending{}, false
	}
	payload, sig, ok := strings.Cut(c.Value, ".")
	if !ok || !hmac.Equal([]byte(sig), []byte(m.signPending(payload))) {
		return Pending{}, false
	}
	body, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return Pending{}, false
	}
	var pc pendingClaims
	if err := json.Unmarshal(body, &pc); err != nil || pc.U == "" {
		return Pending{}, false
	}
	exp := time.UnixMicro(pc.E)
	if !m.Now().Before(exp) {
		return Pending{}, false
	}
	return Pending{UserID: pc.U, Remember: pc.R, Duration: time.Duration(pc.D), NotFresh: pc.F, ExpiresAt: exp, Nonce: pc.N}, true
}

// CompleteLogIn turns the request's partial login into a session, once the
// application has checked the second factor: it is [Manager.LogIn] with the
// options the partial login was begun with, so a new session token is
// issued (the partial state never had one to reuse) and the pending cookie
// is cleared. It returns [ErrNoPendingLogin] when the request has no live
// partial login, such as one begun more than PendingFor ago.
func (m *Manager[U]) CompleteLogIn(w http.ResponseWriter, r *http.Request) error {
	p, ok := m.Pending(r)
	if !ok {
		m.clearCookie(w, m.pendingCookieName())
		return ErrNoPendingLogin
	}
	m.clearCookie(w, m.pendingCookieName())
	return m.LogIn(w, r, p.UserID, LoginOptions{Remember: p.Remember, Duration: p.Duration, NotFresh: p.NotFresh})
}

// CancelLogIn forgets the request's partial login, if any: the user gave up
// on the second step, or its factors were reset.
func (m *Manager[U]) CancelLogIn(w http.ResponseWriter, r *http.Request) {
	if _, err := r.Cookie(m.pendingCookieName()); err == nil {
		m.clearCookie(w, m.pendingCookieName())
	}
}
