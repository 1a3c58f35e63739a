package app

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/latchauth/latch"
	"github.com/latchauth/latch/account"
)

// record logs an authentication event, as authEvent does, and adds e to
// the audit log of its user, with the client's address and device: the
// operator's logs and the user's history are written in one place, so they
// tell the same story. A failure to store e is logged, never returned: it
// must not fail a login.
func (a *App) record(r *http.Request, level slog.Level, event, outcome string, e latch.AuditEvent, attrs ...slog.Attr) {
	if e.UserID != "" {
		attrs = append(attrs, slog.String("user_id", e.UserID))
	}
	if e.ActorID != "" {
		attrs = append(attrs, slog.String("admin_id", e.ActorID))
	}
	a.authEvent(r, level, event, outcome, attrs...)
	e.IP = a.clientIP(r)
	e.Device = device(r.UserAgent())
	a.audit.Record(r.Context(), e)
}

// userKey is a user's ID as the audit log and the sessions know it.
func userKey(id int64) string { return strconv.FormatInt(id, 10) }

// onAuthEvent records what the library does on its own: restoring a login
// from the remember-me cookie.
func (a *App) onAuthEvent(r *http.Request, e latch.Event) {
	if e.Kind == latch.EventRemembered {
		a.record(r, slog.LevelInfo, "remembered", outcomeSuccess, latch.AuditEvent{UserID: e.UserID, Kind: latch.AuditRemembered, SessionID: e.SessionID})
	}
}

// PruneAudit deletes audit events older than the retention; run it now
// and then, beside [latch.Manager.Prune].
func (a *App) PruneAudit(ctx context.Context) (int, error) { return a.audit.Prune(ctx) }

// recordLoginFailure records a failed login in the audit log of the
// account the email names. The address is looked up for every failure,
// known or not, so the lookup tells nothing by its timing; an address with
// no account is recorded with no user and without the address, so the log
// holds no list of guessed addresses. A throttled attempt without a valid
// device cookie for the account is told apart as from an unknown device.
func (a *App) recordLoginFailure(r *http.Request, email, deviceCookie, reason string, level slog.Level, outcome string, attrs ...slog.Attr) {
	var id string
	if e, err := account.NormalizeEmail(email); err == nil {
		if u, err := a.store.UserByEmail(r.Context(), e); err == nil {
			id = userKey(u.ID)
		}
	}
	if reason == latch.ReasonThrottled && id != "" && !a.knownDevice(r, deviceCookie, id) {
		reason = latch.ReasonUnknownDevice
	}
	a.record(r, level, eventLogin, outcome, latch.AuditEvent{UserID: id, Kind: latch.AuditLoginFailed, Reason: reason}, attrs...)
}

// knownDevice reports whether cookie is a valid device cookie of user.
func (a *App) knownDevice(r *http.Request, cookie, user string) bool {
	if cookie == "" || a.accounts.Devices == nil {
		return false
	}
	dev, err := a.accounts.Devices.Verify(r.Context(), cookie, user)
	return err == nil && dev != ""
}

// Details of the audit events about second factors, in
// [latch.AuditEvent.Reason]: the factor added or removed, or the one a
// login completed with, so that the activity page can say which.
const (
	factorTOTP          = "authenticator"
	factorRecoveryCode  = "recovery_code"
	factorRecoveryCodes = "recovery_codes"
	factorPasskey       = "passkey"
	// factorPasskeyOnly is a login with a passkey and no password.
	factorPasskeyOnly = "passkey_only"
	// factorAll is two-step sign-in turned off: every factor removed.
	factorAll = "two_step"
	// factorResetByEmail is every factor removed once the wait of a
	// removal asked for by email was over.
	factorResetByEmail = "reset_by_email"
)

// Audit kinds of the removal of second factors asked for by email.
const (
	kindFactorResetAsked     = "factor_reset_requested"
	kindFactorResetCancelled = "factor_reset_cancelled"
)

// completedLogin does what follows every login that completes, with the
// password alone, after a second step, or with a passkey: it gives the
// browser its device cookie, records the login, naming its session and
// the second factor (factor, "" for none), and mails the new-device alert
// when the browser had no valid device cookie for the account. A login
// that owes a second step gets none of these until the step is done: the
// alert and the event must tell of a login that happened, and a browser
// that only knows the password is no known device.
func (a *App) completedLogin(w http.ResponseWriter, r *http.Request, u account.User, event, factor string, attrs ...slog.Attr) {
	id := userKey(u.ID)
	newDevice := !a.knownDevice(r, a.deviceCookie(r), id)
	a.setDeviceCookie(w, id)
	session := a.auth.Current(r).SessionID
	a.record(r, slog.LevelInfo, event, outcomeSuccess,
		latch.AuditEvent{UserID: id, Kind: latch.AuditLogin, Reason: factor, SessionID: session}, attrs...)
	if newDevice {
		a.alertNewDevice(r, u, session)
	}
}

// recordFactor records a change to u's second factors: kind is
// [latch.AuditFactorAdded], [latch.AuditFactorRemoved] or one of the
// removal's kinds, factor which one, as in factorTOTP.
func (a *App) recordFactor(r *http.Request, event string, u account.User, kind, factor string) {
	a.record(r, slog.LevelInfo, event, outcomeSuccess, latch.AuditEvent{UserID: userKey(u.ID), Kind: kind, Reason: factor})
}

// newDeviceLookback is how many recent events of a user alertNewDevice
// reads to tell a first login after sign-up from a later one.
const newDeviceLookback = 20

// newDeviceRepeat is how long a login from the browser and address of an
// earlier login of the same user sends no second alert.
const newDeviceRepeat = 24 * time.Hour

// alertNewDevice mails u that their account was just logged in to from a
// browser without a valid device cookie for it: when, from where, on what,
// with a link to the account's activity. The first login after sign-up is
// no news to anyone and gets no mail: it is told by the audit log holding
// no earlier login among the user's recent events. Nor does a login from
// the same kind of browser at the same address as one of the user's logins
// of the last day, unless the password was reset or changed since: that
// one was alerted already (or was the owner's), and a script or a private
// window that keeps no cookies would otherwise mail the owner at every
// login.
func (a *App) alertNewDevice(r *http.Request, u account.User, session string) {
	events, _, err := a.audit.Events(r.Context(), userKey(u.ID), 0, newDeviceLookback)
	if err != nil {
		a.log.Warn("new-device alert: read activity", "error", err)
		return
	}
	now := time.Now()
	ip, dev := a.clientIP(r), device(r.UserAgent())
	logins := 0
	// Logins before a password reset or change, which revoke every
	// device, vouch for no browser after it.
	vouched := true
	for _, e := range events {
		switch e.Kind {
		case latch.AuditPasswordReset, latch.AuditPasswordChanged:
			vouched = false
			continue
		case latch.AuditLogin, latch.AuditRemembered:
		default:
			continue
		}
		logins++
		if vouched && e.SessionID != session && e.IP == ip && e.Device == dev && now.Sub(e.At) < newDeviceRepeat {
			return
		}
	}
	if logins <= 1 && len(events) < newDeviceLookback {
		return
	}
	d := userMail(u)
	d.Note = fmt.Sprintf("%s, from %s, at %s", dev, ip, now.UTC().Format("2 Jan 2006 15:04 UTC"))
	d.Link = a.link("/account/activity", nil)
	a.later(r.Context(), func(ctx context.Context) { a.send(ctx, "new-device", u.Email, d) })
}
