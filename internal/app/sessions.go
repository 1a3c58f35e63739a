package app

import (
	"errors"
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

// sessionViews lists the logged-in user's live sessions.
func (a *App) sessionViews(r *http.Request) ([]sessionView, error) {
	cur := a.auth.Current(r)
	ss, err := a.auth.Sessions(r.Context(), cur.UserID)
	if err != nil {
		return nil, err
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
	return views, nil
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
	msg := flash{Text: "That device has been logged out.", Kind: "success"}
	switch err := a.auth.Revoke(r.Context(), cur.UserID, id); {
	case errors.Is(err, latch.ErrSessionNotFound):
		msg = flash{Text: "That session had already ended.", Kind: "info"}
	case err != nil:
		return err
	}
	a.flashes.set(w, flashCookie{Flashes: []flash{msg}})
	http.Redirect(w, r, "/profile", http.StatusSeeOther)
	return nil
}

func (a *App) revokeOtherSessions(w http.ResponseWriter, r *http.Request) error {
	cur := a.auth.Current(r)
	if _, err := a.auth.RevokeAll(r.Context(), cur.UserID, cur.SessionID); err != nil {
		return err
	}
	a.flashes.set(w, flashCookie{Flashes: []flash{{Text: "You have been logged out everywhere else.", Kind: "success"}}})
	http.Redirect(w, r, "/profile", http.StatusSeeOther)
	return nil
}
