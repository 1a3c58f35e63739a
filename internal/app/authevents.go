package app

import (
	"log/slog"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"
)

// Authentication events, one log record each, so that an operator can
// follow and alert on logins, failures and throttling. A record never holds
// a password, and holds an email only masked (see maskEmail): logs are read
// by more people, and kept longer, than the user table.

// The events and their outcomes, as logged in the "event" and "outcome"
// attributes.
const (
	eventLogin  = "login"
	eventSignUp = "signup"
	eventLogout = "logout"

	outcomeSuccess   = "success"
	outcomeFailure   = "failure"
	outcomeThrottled = "throttled"
	outcomeBusy      = "busy"
	outcomeError     = "error"
	// outcomeSecondStep is a right password whose user owes a second
	// factor.
	outcomeSecondStep = "second factor owed"
)

// authEvent logs an authentication event of r at level with its outcome,
// the client's address and attrs.
func (a *App) authEvent(r *http.Request, level slog.Level, event, outcome string, attrs ...slog.Attr) {
	all := append([]slog.Attr{
		slog.String("event", event),
		slog.String("outcome", outcome),
		slog.String("client", a.clientIP(r)),
	}, attrs...)
	a.log.LogAttrs(r.Context(), level, "auth", all...)
	if a.cfg.Metrics != nil {
		a.cfg.Metrics.CountAuth(event, outcome)
	}
}

// retryAfterAttr is the wait of a throttled event.
func retryAfterAttr(d time.Duration) slog.Attr {
	return slog.Duration("retry_after", d.Round(time.Second))
}

// maskEmail returns email as logs may show it: the first character of the
// local part and the domain, as in "a***@example.com", enough to tell
// accounts apart in an investigation without writing the address down.
// What is not an email becomes "***". The result is at most about 70
// bytes, however long the input.
func maskEmail(email string) string {
	email = strings.ToLower(strings.TrimSpace(email))
	at := strings.LastIndexByte(email, '@')
	if at < 1 || !utf8.ValidString(email) {
		return "***"
	}
	first, _ := utf8.DecodeRuneInString(email)
	domain := bounded(email[at+1:], 64)
	return string(first) + "***@" + domain
}
