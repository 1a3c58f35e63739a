package latch

import (
	"context"
	"errors"
	"time"
)

// ErrSessionNotFound is returned by a [SessionStore] when no session matches
// the token or identifier asked for. It is not a failure: the request is
// simply anonymous.
var ErrSessionNotFound = errors.New("latch: session not found")

// ErrSessionRotated is returned by [SessionStore.RotateSession] when the
// session's remember-me token is no longer the one the caller read: another
// request rotated it first.
var ErrSessionRotated = errors.New("latch: remember-me token already rotated")

// Session is the server-side record of one login on one device. The
// browser holds only random tokens; the record holds their SHA-256 hashes, so
// a copy of the store cannot be replayed as cookies.
type Session struct {
	// ID identifies the session in listings and revocation requests. It is
	// random but not a credential: knowing it does not let anyone log in.
	ID string
	// UserID is the identifier the application passed to [Manager.LogIn].
	UserID string
	// TokenHash is the SHA-256 of the session cookie's token.
	TokenHash []byte
	// RememberHash is the SHA-256 of the remember-me cookie's token, or nil
	// when the login was not remembered.
	RememberHash []byte
	// PrevRememberHash is the RememberHash before its last rotation, or
	// nil. A browser restored with several tabs at once sends the old token
	// in parallel requests; the Manager lets those through for a short
	// grace after RotatedAt, and ends the session if the old token comes
	// back later, since then a copy of it is in someone else's hands.
	PrevRememberHash []byte
	// RotatedAt is when the remember-me token was last rotated; zero if
	// never.
	RotatedAt time.Time
	// Remember reports whether the user asked to be remembered.
	Remember bool
	// Fresh reports whether the user typed a password in this login session.
	// A session restored from the remember-me cookie is not fresh.
	Fresh bool
	// CreatedAt is when the user logged in.
	CreatedAt time.Time
	// LastSeenAt is when the session was last used, updated at most once a
	// [Manager.TouchInterval].
	LastSeenAt time.Time
	// ExpiresAt is the absolute end of the session, whatever its activity.
	ExpiresAt time.Time
	// IP is the client address seen at login or at the last restore.
	IP string
	// UserAgent is the client's User-Agent header, truncated to 512 bytes.
	UserAgent string
}

// SessionStore keeps session records. Implementations must be safe for
// concurrent use; the storetest package checks one against this contract.
//
// Lookups of a missing record return [ErrSessionNotFound]; deleting a missing
// record is not an error. A store never interprets expiry: the [Manager]
// does, so that every store behaves the same.
type SessionStore interface {
	// CreateSession inserts s. Its ID, TokenHash, RememberHash and
	// PrevRememberHash (when set) are unique: a duplicate is an error and
	// writes nothing.
	CreateSession(ctx context.Context, s Session) error
	// SessionByToken returns the session whose TokenHash equals hash.
	SessionByToken(ctx context.Context, hash []byte) (Session, error)
	// SessionByRemember returns the session whose RememberHash or
	// PrevRememberHash equals hash. An empty hash matches no session.
	SessionByRemember(ctx context.Context, hash []byte) (Session, error)
	// UpdateSession replaces the stored record with the same ID by s, or
	// returns ErrSessionNotFound if it was deleted meanwhile (revoked).
	UpdateSession(ctx context.Context, s Session) error
	// RotateSession replaces the stored record with the same ID by s, as
	// UpdateSession does, only if the stored RememberHash still equals
	// remember, in one atomic step: of requests racing to rotate the same
	// remember-me token, exactly one succeeds. The others get
	// [ErrSessionRotated] and change nothing. A deleted session gives
	// ErrSessionNotFound. An empty remember matches no session.
	RotateSession(ctx context.Context, s Session, remember []byte) error
	// TouchSession sets the LastSeenAt of the session with the given ID,
	// and nothing else, or returns ErrSessionNotFound if it was deleted.
	// The Manager touches with it rather than UpdateSession, so that a
	// touch made from a record read before a concurrent rotation cannot
	// write the old tokens back.
	TouchSession(ctx context.Context, id string, lastSeen time.Time) error
	// DeleteSession removes the session with the given ID.
	DeleteSession(ctx context.Context, id string) error
	// UserSessions returns the user's sessions, newest first, expired ones
	// included.
	UserSessions(ctx context.Context, userID string) ([]Session, error)
	// RecentUserSessions returns at most limit of the user's live sessions,
	// most recently used first (by LastSeenAt, then by ID, descending), and
	// the number of the user's other live sessions. A session is live if
	// its ExpiresAt is after now and it is remembered or its LastSeenAt is
	// after idleBefore. It returns no more than limit sessions and need
	// not load the others, so that a page listing them stays small
	// however many sessions a user has.
	RecentUserSessions(ctx context.Context, userID string, now, idleBefore time.Time, limit int) ([]Session, int, error)
	// DeleteUserSession removes the session with the given ID if it
	// belongs to the user, and reports whether it did: one user cannot end
	// another's session by naming it.
	DeleteUserSession(ctx context.Context, userID, id string) (bool, error)
	// DeleteUserSessions removes every session of the user except the one
	// whose ID is keep (which may be empty), and reports how many it removed.
	DeleteUserSessions(ctx context.Context, userID, keep string) (int, error)
	// TrimUserSessions removes the user's sessions beyond the limit most
	// recently used ones (by LastSeenAt, then by ID, as
	// RecentUserSessions orders them), never the one whose ID is keep,
	// which counts among them; expired sessions count like the others.
	// It reports how many it removed. It does not load the user's
	// sessions: one statement where the database allows.
	TrimUserSessions(ctx context.Context, userID, keep string, limit int) (int, error)
}

// SessionPruner is implemented by stores that can delete expired sessions in
// bulk. [Manager.Prune] uses it; stores whose records expire by themselves
// need not implement it.
type SessionPruner interface {
	// DeleteExpiredSessions removes sessions whose ExpiresAt is before now,
	// and those not seen since idleBefore that are not remembered.
	DeleteExpiredSessions(ctx context.Context, now, idleBefore time.Time) (int, error)
}

// SessionInfo is what an application may show of a [Session]: everything
// but the token hashes, which are keys, not data.
type SessionInfo struct {
	// ID identifies the session for [Manager.Revoke].
	ID string
	// UserID is the identifier the application passed to [Manager.LogIn].
	UserID string
	// Remember reports whether the user asked to be remembered.
	Remember bool
	// Fresh reports whether the user typed a password in this login session.
	Fresh bool
	// CreatedAt is when the user logged in.
	CreatedAt time.Time
	// LastSeenAt is when the session was last used, updated at most once a
	// [Manager.TouchInterval].
	LastSeenAt time.Time
	// ExpiresAt is the absolute end of the session.
	ExpiresAt time.Time
	// IP is the client address seen at login or at the last restore.
	IP string
	// UserAgent is the client's User-Agent header, truncated to 512 bytes.
	UserAgent string
}

// Info returns the session without its token hashes.
func (s Session) Info() SessionInfo {
	return SessionInfo{
		ID:         s.ID,
		UserID:     s.UserID,
		Remember:   s.Remember,
		Fresh:      s.Fresh,
		CreatedAt:  s.CreatedAt,
		LastSeenAt: s.LastSeenAt,
		ExpiresAt:  s.ExpiresAt,
		IP:         s.IP,
		UserAgent:  s.UserAgent,
	}
}
