package app

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/latchauth/latch"
)

// sessionView is one row of the "Where you're logged in" table.
type sessionView struct {
	ID          string
	Device      string
	IP          string
	LastSeen    string
	LastSeenISO string
	Remember    bool
	Current     bool
}

// profileSessions is how many sessions the profile page lists: the most
// recently used. The rest are counted, not listed, so that the page stays
// the same size however many sessions a user has.
const profileSessions = 10

// sessionViews lists the logged-in user's most recently used live
// sessions, and counts the others.
func (a *App) sessionViews(r *http.Request) ([]sessionView, int, error) {
	cur := a.auth.Current(r)
	ss, more, err := a.auth.RecentSessions(r.Context(), cur.UserID, profileSessions)
	if err != nil {
		return nil, 0, err
	}
	views := make([]sessionView, 0, len(ss))
	for _, s := range ss {
		views = append(views, sessionView{
			ID:          s.ID,
			Device:      device(s.UserAgent),
			IP:          s.IP,
			LastSeen:    s.LastSeenAt.UTC().Format("2 Jan 2006 15:04 UTC"),
			LastSeenISO: s.LastSeenAt.UTC().Format(time.RFC3339),
			Remember:    s.Remember,
			Current:     s.ID == cur.SessionID,
		})
	}
	return views, more, nil
}

// device names a browser and system from a User-Agent, roughly: enough for a
// person to recognise their own devices.
func device(ua string) string {
	browser := "Unknown browser"
	for _, b := range []struct{ token, name string }{
		{"Edg/", "Edge"}, {"OPR/", "Opera"}, {"Firefox/", "Firefox"}, {"Chrome/", "Chrome"},
		{"Chromium/", "Chromium"}, {"Safari/", "Safari"}, {"curl/", "curl"}, {"Go-http-client", "Go program"},
	} {
		if strings.Contains(ua, b.token) {
			browser = b.name
			break
		}
	}
	for _, o := range []struct{ token, name string }{
		{"Android", "Android"}, {"iPhone", "iPhone"}, {"iPad", "iPad"}, {"Windows", "Windows"},
		{"Mac OS X", "macOS"}, {"CrOS", "ChromeOS"}, {"Linux", "Linux"},
	} {
		if strings.Contains(ua, o.token) {
			return browser + " on " + o.name
		}
	}
	return browser
}

// revokeSession ends one of the user's other sessions. It sits behind
// RequireFresh: whoever holds only a remembered session, such as a stolen
// remember-me cookie, must type the password before ending the user's
// other sessions, the user's own included.
func (a *App) revokeSession(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	cur := a.auth.Current(r)
	id := r.PostForm.Get("id")
	if id == cur.SessionID {
		// Revoking the current session is logging out.
		return a.logout(w, r)
	}
	msg := flash{Text: msgDeviceLoggedOut, Kind: "success"}
	ended := 1
	switch err := a.auth.Revoke(r.Context(), cur.UserID, id); {
	case errors.Is(err, latch.ErrSessionNotFound):
		msg = flash{Text: msgSessionEnded, Kind: "info"}
		ended = 0
	case err != nil:
		return err
	}
	a.logRevocation(r, "revoke_session", id, ended)
	a.flashes.set(w, flashCookie{Flashes: []flash{msg}})
	http.Redirect(w, r, "/profile", http.StatusSeeOther)
	return nil
}

// revokeOtherSessions ends every session of the user but the current one;
// behind RequireFresh, as revokeSession.
func (a *App) revokeOtherSessions(w http.ResponseWriter, r *http.Request) error {
	cur := a.auth.Current(r)
	n, err := a.auth.RevokeAll(r.Context(), cur.UserID, cur.SessionID)
	if err != nil {
		return err
	}
	if err := a.renewDevices(w, r, cur.UserID); err != nil {
		return err
	}
	a.logRevocation(r, "revoke_other_sessions", "", n)
	a.flashes.set(w, flashCookie{Flashes: []flash{{Text: msgOthersLoggedOut, Kind: "success"}}})
	http.Redirect(w, r, "/profile", http.StatusSeeOther)
	return nil
}

// logRevocation writes one record of a revocation, for the user's and the
// operator's audit of who ended which logins from where.
func (a *App) logRevocation(r *http.Request, event, sessionID string, ended int) {
	a.log.LogAttrs(r.Context(), slog.LevelInfo, "sessions revoked",
		slog.String("event", event),
		slog.String("user_id", a.auth.Current(r).UserID),
		slog.String("client", a.clientIP(r)),
		slog.Int("ended", ended))
	if ended > 0 {
		a.audit.Record(r.Context(), latch.AuditEvent{
			UserID: a.auth.Current(r).UserID, Kind: latch.AuditSessionRevoked, SessionID: sessionID,
			IP: a.clientIP(r), Device: device(r.UserAgent()),
		})
	}
}
