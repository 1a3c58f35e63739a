package latch

import (
	"fmt"
	"net/http"
)

// EventKind says what an [Event] reports.
type EventKind int

const (
	// EventLoggedIn reports a login by [Manager.LogIn].
	EventLoggedIn EventKind = iota + 1
	// EventLoggedOut reports the end of a session by [Manager.LogOut].
	EventLoggedOut
	// EventRemembered reports a login restored from the remember-me
	// cookie.
	EventRemembered
	// EventLoadedFromRequest reports a user found by
	// [Manager.RequestLoader].
	EventLoadedFromRequest
	// EventDenied reports a request turned away by [Manager.RequireLogin]
	// or [Manager.RequireFresh].
	EventDenied
	// EventPartialLogin reports a partial login begun by [Manager.LogIn]
	// with [LoginOptions.Partial]: the password was right, a second factor
	// is owed. Its completion is an EventLoggedIn.
	EventPartialLogin
)

// String returns the kind's name, such as "logged in".
func (k EventKind) String() string {
	switch k {
	case EventLoggedIn:
		return "logged in"
	case EventLoggedOut:
		return "logged out"
	case EventRemembered:
		return "remembered"
	case EventLoadedFromRequest:
		return "loaded from request"
	case EventDenied:
		return "denied"
	case EventPartialLogin:
		return "partial login"
	}
	return fmt.Sprintf("EventKind(%d)", int(k))
}

// Event is what [Manager.OnEvent] is told: Flask-Login's signals.
type Event struct {
	// Kind says what happened.
	Kind EventKind
	// UserID is the user concerned; empty for a denied anonymous request.
	UserID string
	// SessionID is the session concerned, if any.
	SessionID string
	// Reason says why a request was denied: "login required", "fresh
	// login required" or "forbidden". Empty for other kinds.
	Reason string
}

// event tells OnEvent of e, if set.
func (m *Manager[U]) event(r *http.Request, e Event) {
	if m.OnEvent != nil {
		m.OnEvent(r, e)
	}
}
