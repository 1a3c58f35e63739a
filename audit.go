package latch

import (
	"context"
	"fmt"
	"log/slog"
	"time"
)

// Kinds of [AuditEvent] that latch and its app record. The set is open: an
// application may record kinds of its own, such as those of a second
// factor, as short lower-case words joined by underscores.
const (
	AuditSignUp          = "signup"
	AuditLogin           = "login"
	AuditLoginFailed     = "login_failed"
	AuditLogout          = "logout"
	AuditRemembered      = "remembered"
	AuditSessionRevoked  = "session_revoked"
	AuditPasswordChanged = "password_changed"
	AuditPasswordReset   = "password_reset"
	AuditEmailChanged    = "email_changed"
	AuditFactorAdded     = "factor_added"
	AuditFactorRemoved   = "factor_removed"
	AuditDisabled        = "account_disabled"
	AuditEnabled         = "account_enabled"
	AuditRoleGranted     = "role_granted"
	AuditRoleRevoked     = "role_revoked"
	AuditSessionsEnded   = "sessions_ended"
)

// Reasons a failed login is recorded with, in [AuditEvent.Reason].
const (
	ReasonWrongPassword = "wrong_password"
	ReasonThrottled     = "throttled"
	ReasonUnknownDevice = "unknown_device"
	ReasonDisabled      = "disabled"
	// ReasonWrongCode is a right password followed by a wrong, expired
	// or already used code at the second step.
	ReasonWrongCode = "wrong_code"
	// ReasonPasskeyRefused is a passkey whose signature or counter did
	// not check out.
	ReasonPasskeyRefused = "passkey_refused"
)

// DefaultAuditRetention is how long [AuditLog] keeps events unless told
// otherwise.
const DefaultAuditRetention = 180 * 24 * time.Hour

// AuditEvent is one entry of a user's security history. It holds no secret
// and no email address: a failed login for an address that has no account
// is recorded with an empty UserID, so the log is no list of guessed
// addresses.
type AuditEvent struct {
	// ID is assigned by the store; later events have greater IDs.
	ID int64
	// UserID is the user concerned; empty when no account matched.
	UserID string
	// Kind says what happened, such as [AuditLogin].
	Kind string
	// Reason classes a failure, such as [ReasonWrongPassword], or gives
	// a detail of the event, such as the role granted or the second
	// factor a login completed with; often empty.
	Reason string
	// ActorID is the administrator who acted on the user; empty when the
	// user acted.
	ActorID string
	// At is when it happened.
	At time.Time
	// IP is the client's address.
	IP string
	// Device is the browser and operating system, as a person reads them
	// ("Firefox on Windows").
	Device string
	// SessionID is the session concerned, if any: an identifier, not a
	// credential (see [Session.ID]).
	SessionID string
}

// AuditStore keeps audit events, append-only. Implementations must be safe
// for concurrent use; the storetest package checks one against this
// contract.
type AuditStore interface {
	// AppendAudit adds e, ignoring its ID, and returns the ID assigned.
	AppendAudit(ctx context.Context, e AuditEvent) (int64, error)
	// AuditEvents returns up to limit events of userID with an ID below
	// before (0: from the newest), newest first. Its cost depends on
	// limit, not on the length of the user's history.
	AuditEvents(ctx context.Context, userID string, before int64, limit int) ([]AuditEvent, error)
	// DeleteAuditBefore deletes the events that happened before t and
	// returns how many.
	DeleteAuditBefore(ctx context.Context, t time.Time) (int, error)
}

// Field limits of [AuditLog.Record]: longer values are cut, so a hostile
// User-Agent or address cannot grow the log.
const (
	maxAuditField  = 64
	maxAuditDevice = 128
)

// AuditLog records security events in an [AuditStore]. Its exported fields
// are settings; Store is required.
type AuditLog struct {
	// Store keeps the events. Required.
	Store AuditStore
	// Retention is how long events are kept before [AuditLog.Prune]
	// deletes them. Default [DefaultAuditRetention].
	Retention time.Duration
	// Logger receives the events that could not be stored; nil discards
	// them.
	Logger *slog.Logger
	// Now returns the current time; tests replace it. Default time.Now.
	Now func() time.Time
}

// auditTimeout bounds a write of the audit log, which must not hold up a
// login when the database is slow.
const auditTimeout = 2 * time.Second

// Record stores e, setting At to now when zero. It never fails: security
// history must not stop anyone from logging in, so when the store does not
// answer, the event is logged at error level and dropped. It goes on after
// ctx is cancelled, since a client that went away still acted.
func (l *AuditLog) Record(ctx context.Context, e AuditEvent) {
	if e.At.IsZero() {
		e.At = l.now()
	}
	e.Kind, e.Reason = cut(e.Kind, maxAuditField), cut(e.Reason, maxAuditField)
	e.IP, e.Device = cut(e.IP, maxAuditField), cut(e.Device, maxAuditDevice)
	e.UserID, e.ActorID, e.SessionID = cut(e.UserID, maxAuditField), cut(e.ActorID, maxAuditField), cut(e.SessionID, maxAuditField)
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), auditTimeout)
	defer cancel()
	if _, err := l.Store.AppendAudit(ctx, e); err != nil && l.Logger != nil {
		l.Logger.LogAttrs(ctx, slog.LevelError, "audit event dropped",
			slog.String("kind", e.Kind), slog.String("user_id", e.UserID), slog.Any("error", err))
	}
}

// Events returns up to limit events of userID older than the event with ID
// before (0: the newest), newest first, and whether there are more.
func (l *AuditLog) Events(ctx context.Context, userID string, before int64, limit int) ([]AuditEvent, bool, error) {
	if limit < 1 {
		limit = 1
	}
	events, err := l.Store.AuditEvents(ctx, userID, before, limit+1)
	if err != nil {
		return nil, false, fmt.Errorf("latch: read audit events: %w", err)
	}
	more := len(events) > limit
	if more {
		events = events[:limit]
	}
	return events, more, nil
}

// Prune deletes the events older than Retention; run it now and then.
func (l *AuditLog) Prune(ctx context.Context) (int, error) {
	keep := l.Retention
	if keep <= 0 {
		keep = DefaultAuditRetention
	}
	n, err := l.Store.DeleteAuditBefore(ctx, l.now().Add(-keep))
	if err != nil {
		return n, fmt.Errorf("latch: prune audit events: %w", err)
	}
	return n, nil
}

func (l *AuditLog) now() time.Time {
	if l.Now != nil {
		return l.Now()
	}
	return time.Now()
}

// cut returns s cut to at most n bytes, not inside a character.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}
