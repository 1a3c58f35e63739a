package app

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/latchauth/latch"
)

// activityPage is how many events a page of activity lists.
const activityPage = 25

// eventView is one line of a user's security activity, in plain words.
type eventView struct {
	// Text says what happened, from where, and when, as a sentence.
	Text string
	// At is the event's time for the <time> element.
	At string
	// Alarm marks what a user should look at: failures and changes made
	// by someone else.
	Alarm bool
}

// activityView is what the activity pages show.
type activityView struct {
	Events []eventView
	// Older is the address of the next page, empty on the last.
	Older string
	// Newest links back to the first page when this is not it.
	Newest string
}

// parseBefore reads the page key of an activity listing: empty, or a
// positive event ID.
func parseBefore(r *http.Request) (int64, error) {
	s := r.URL.Query().Get("before")
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, errBadPage
	}
	return n, nil
}

var errBadPage = &httpError{http.StatusBadRequest, "Bad request", "That page of the listing does not exist. Please go back to its first page."}

// activityOf reads a page of userID's events, newest first, with links
// under base.
func (a *App) activityOf(r *http.Request, userID, base string) (activityView, error) {
	before, err := parseBefore(r)
	if err != nil {
		return activityView{}, err
	}
	events, more, err := a.audit.Events(r.Context(), userID, before, activityPage)
	if err != nil {
		return activityView{}, err
	}
	now := time.Now()
	v := activityView{Events: make([]eventView, 0, len(events))}
	for _, e := range events {
		v.Events = append(v.Events, eventView{Text: describeEvent(e, now), At: e.At.UTC().Format(time.RFC3339), Alarm: alarming(e)})
	}
	if more {
		v.Older = base + "?before=" + strconv.FormatInt(events[len(events)-1].ID, 10)
	}
	if before != 0 {
		v.Newest = base
	}
	return v, nil
}

func (a *App) activity(w http.ResponseWriter, r *http.Request) error {
	v, err := a.activityOf(r, a.auth.Current(r).UserID, "/account/activity")
	if err != nil {
		return err
	}
	return a.render(w, r, http.StatusOK, "activity", page{Title: "Account activity", Activity: v})
}

// same reports whether v and o show the same.
func (v activityView) same(o activityView) bool {
	return slices.Equal(v.Events, o.Events) && v.Older == o.Older && v.Newest == o.Newest
}

// alarming reports whether e is one a user should look at twice.
func alarming(e latch.AuditEvent) bool {
	return e.Kind == latch.AuditLoginFailed || e.Kind == kindFactorResetAsked || e.ActorID != ""
}

// describeEvent says e in plain words: "Failed sign-in from Firefox on
// Windows, 203.0.113.7, 3 minutes ago".
func describeEvent(e latch.AuditEvent, now time.Time) string {
	what := eventWords(e)
	var b strings.Builder
	b.WriteString(what)
	// An administrator's device and address are not the user's to see.
	if e.ActorID != "" {
		e.Device, e.IP = "", ""
	}
	if e.Device != "" {
		b.WriteString(" from ")
		b.WriteString(e.Device)
	}
	if e.IP != "" {
		b.WriteString(", ")
		b.WriteString(e.IP)
	}
	b.WriteString(", ")
	b.WriteString(ago(now.Sub(e.At)))
	return b.String()
}

// eventWords names what happened.
func eventWords(e latch.AuditEvent) string {
	switch e.Kind {
	case latch.AuditSignUp:
		return "Account created"
	case latch.AuditLogin:
		switch e.Reason {
		case factorTOTP:
			return "Signed in with a code from the authenticator app"
		case factorRecoveryCode:
			return "Signed in with a recovery code"
		case factorPasskey:
			return "Signed in with the password and a passkey"
		case factorPasskeyOnly:
			return "Signed in with a passkey"
		}
		return "Signed in"
	case latch.AuditLoginFailed:
		switch e.Reason {
		case latch.ReasonThrottled:
			return "Sign-in refused after too many failed attempts"
		case latch.ReasonUnknownDevice:
			return "Sign-in refused on an unrecognised device after too many failed attempts"
		case latch.ReasonDisabled:
			return "Sign-in refused because the account is disabled"
		case latch.ReasonWrongCode:
			return "Failed sign-in: right password, wrong code"
		case latch.ReasonPasskeyRefused:
			return "Failed sign-in: passkey refused"
		}
		return "Failed sign-in"
	case latch.AuditLogout:
		return "Signed out"
	case latch.AuditRemembered:
		return `Signed in again by "remember me"`
	case latch.AuditSessionRevoked:
		if e.SessionID == "" {
			return "Logged out of every other device"
		}
		return "Logged out a device"
	case latch.AuditPasswordChanged:
		return "Password changed"
	case latch.AuditPasswordReset:
		return "Password reset through an emailed link"
	case latch.AuditEmailChanged:
		if e.Reason == "undone" {
			return "Email address change undone"
		}
		return "Email address changed"
	case latch.AuditFactorAdded:
		switch e.Reason {
		case factorTOTP:
			return "Two-step sign-in turned on with an authenticator app"
		case factorRecoveryCodes:
			return "New recovery codes made"
		case factorPasskey:
			return "Passkey added"
		}
		return "Sign-in method added"
	case latch.AuditFactorRemoved:
		switch e.Reason {
		case factorAll:
			if e.ActorID != "" {
				return "Two-step sign-in removed by an administrator"
			}
			return "Two-step sign-in turned off"
		case factorResetByEmail:
			return "Two-step sign-in removed, as asked by email"
		case factorPasskey:
			return "Passkey removed"
		}
		return "Sign-in method removed"
	case kindFactorResetAsked:
		return "Removal of two-step sign-in asked for by email"
	case kindFactorResetCancelled:
		return "Removal of two-step sign-in cancelled"
	case latch.AuditDisabled:
		return "Account disabled by an administrator"
	case latch.AuditEnabled:
		return "Account enabled by an administrator"
	case latch.AuditRoleGranted:
		return fmt.Sprintf("Role %q granted by an administrator", e.Reason)
	case latch.AuditRoleRevoked:
		return fmt.Sprintf("Role %q removed by an administrator", e.Reason)
	case latch.AuditSessionsEnded:
		return "Every session ended by an administrator"
	case kindAdminDeleted:
		return "Account deleted by an administrator"
	}
	w := strings.ReplaceAll(e.Kind, "_", " ")
	if w == "" {
		return "Event"
	}
	return strings.ToUpper(w[:1]) + w[1:]
}

// ago says how long ago d was, coarsely.
func ago(d time.Duration) string {
	plural := func(n int, unit string) string {
		if n == 1 {
			return "1 " + unit + " ago"
		}
		return strconv.Itoa(n) + " " + unit + "s ago"
	}
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return plural(int(d/time.Minute), "minute")
	case d < 24*time.Hour:
		return plural(int(d/time.Hour), "hour")
	}
	return plural(int(d/(24*time.Hour)), "day")
}
