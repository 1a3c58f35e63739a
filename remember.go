package latch

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// restore restores a remembered login from the hash of a remember-me token.
// again allows one more attempt after losing a race to rotate it.
func (m *Manager[U]) restore(w http.ResponseWriter, r *http.Request, presented []byte, now time.Time, again bool) (*state[U], error) {
	ctx := r.Context()
	s, err := m.store.SessionByRemember(ctx, presented)
	if errors.Is(err, ErrSessionNotFound) {
		m.clearCookie(w, m.rememberCookieName())
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("latch: look up remembered session: %w", err)
	}
	if !now.Before(s.ExpiresAt) {
		return m.end(w, r, s)
	}
	if m.Protection == ProtectionStrong && !sameBrowser(s.UserAgent, r.UserAgent()) {
		// A remember-me cookie carried to another kind of browser
		// restores nothing there, and ends the login everywhere.
		return m.end(w, r, s)
	}
	if !bytes.Equal(presented, s.RememberHash) {
		// The token before the last rotation.
		if now.Sub(s.RotatedAt) < m.RememberGrace {
			// A parallel request of the browser that was just
			// restored; the rotating request gives it the new
			// cookies, so leave them alone.
			return m.live(w, r, s, SourceRemember)
		}
		// Used again long after: one of two parties holding the
		// same token is not the user. End the login for both.
		return m.end(w, r, s)
	}
	// Restoring a login rotates both tokens, so a stolen remember-me
	// cookie works at most once, and marks the session not fresh.
	token, hash := newToken()
	rtoken, rhash := newToken()
	s.PrevRememberHash, s.RotatedAt = s.RememberHash, now
	s.TokenHash, s.RememberHash = hash, rhash
	s.Fresh = false
	s.LastSeenAt = now
	s.IP, s.UserAgent = m.ClientIP(r), userAgent(r)
	// The rotation is a compare-and-swap on the token presented: of
	// parallel requests with it, one rotates and the others find the
	// token rotated, so they are served in its grace, as the rotated
	// session, with their cookies left alone. Were each to rotate, only
	// the last pair of tokens would work: tabs restored at once would be
	// logged out, and a thief racing the user could keep the live pair
	// while the user's pair was merely unknown, which ends nothing.
	switch err := m.store.RotateSession(ctx, s, presented); {
	case errors.Is(err, ErrSessionRotated) && again:
		// Read the winner's record, which accepts the token in its
		// grace.
		return m.restore(w, r, presented, now, false)
	case errors.Is(err, ErrSessionRotated):
		// Lost a second race on a token that was current both
		// times, which no browser's requests cause: anonymous, and
		// no cookie touched, rather than a guess.
		return nil, nil
	case errors.Is(err, ErrSessionNotFound):
		return m.end(w, r, s)
	case err != nil:
		return nil, fmt.Errorf("latch: restore remembered session: %w", err)
	}
	m.setCookies(w, token, rtoken, s.ExpiresAt)
	m.event(r, Event{Kind: EventRemembered, UserID: s.UserID, SessionID: s.ID})
	return m.live(w, r, s, SourceRemember)
}
