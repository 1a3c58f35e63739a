package latch

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// RequireLogin lets only logged-in requests through to next, whether the
// user came from a session or from [Manager.RequestLoader]. Others are
// answered by [Manager.Unauthorized] when set. By default, a browser is
// redirected to LoginURL with the page it asked for as "next" (GET and
// HEAD only) and LoginMessage flashed, and a request whose Accept header
// names application/json but not text/html gets 401 with a JSON error
// instead. That default guesses from Accept, and clients that send "*/*",
// such as curl or fetch(), get the redirect: give an API its own answer
// with [Manager.RequireLoginWith] and [DenyJSON]. A user who cannot be
// loaded because the store or the loader failed is answered by
// ErrorHandler.
func (m *Manager[U]) RequireLogin(next http.Handler) http.Handler {
	return m.RequireLoginWith(next, nil)
}

// RequireLoginWith is [Manager.RequireLogin] with deny answering the
// requests turned away on this route, in place of Unauthorized; nil keeps
// Unauthorized.
func (m *Manager[U]) RequireLoginWith(next, deny http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cur, err := m.Lookup(r)
		if err != nil {
			m.ErrorHandler(w, r, err)
			return
		}
		if !cur.Authenticated {
			m.denyLogin(w, r, deny)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// RequireFresh lets through only requests whose user logged in with a
// password in this login session: use it for sensitive pages such as changing the
// password. Anonymous requests are handled as by [Manager.RequireLogin].
// Logins that are not fresh (restored by the remember-me cookie, or users
// found by RequestLoader) are answered by [Manager.NeedsRefresh] when set;
// by default they are sent to RefreshURL with RefreshMessage flashed (or
// get 401 JSON, as RequireLogin decides).
func (m *Manager[U]) RequireFresh(next http.Handler) http.Handler {
	return m.RequireFreshWith(next, nil)
}

// RequireFreshWith is [Manager.RequireFresh] with deny answering every
// request turned away on this route, anonymous or not fresh, in place of
// Unauthorized and NeedsRefresh; nil keeps those. [Manager.Current] tells
// deny which case it has.
func (m *Manager[U]) RequireFreshWith(next, deny http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cur, err := m.Lookup(r)
		switch {
		case err != nil:
			m.ErrorHandler(w, r, err)
		case !cur.Authenticated:
			m.denyLogin(w, r, deny)
		case !cur.Fresh:
			m.event(r, Event{Kind: EventDenied, UserID: cur.UserID, SessionID: cur.SessionID, Reason: "fresh login required"})
			w.Header().Set("Cache-Control", "no-store")
			if deny == nil {
				deny = m.NeedsRefresh
			}
			if deny != nil {
				deny.ServeHTTP(w, r)
				return
			}
			to := m.RefreshURL
			if to == "" {
				to = m.LoginURL
			}
			m.deny(w, r, to, m.RefreshMessage, "fresh login required")
		default:
			next.ServeHTTP(w, r)
		}
	})
}

// denyLogin answers an anonymous request on a guarded route.
func (m *Manager[U]) denyLogin(w http.ResponseWriter, r *http.Request, deny http.Handler) {
	m.event(r, Event{Kind: EventDenied, Reason: "login required"})
	// A denial depends on the cookies sent; no cache may serve it to
	// someone else, nor keep it once the user logs in.
	w.Header().Set("Cache-Control", "no-store")
	if deny == nil {
		deny = m.Unauthorized
	}
	if deny != nil {
		deny.ServeHTTP(w, r)
		return
	}
	m.deny(w, r, m.LoginURL, m.LoginMessage, "login required")
}

func (m *Manager[U]) deny(w http.ResponseWriter, r *http.Request, to, message, code string) {
	w.Header().Set("Cache-Control", "no-store")
	if wantsJSON(r) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprintf(w, "{\"error\":%q}\n", code)
		return
	}
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		if next, ok := SafeNext(r.URL.RequestURI()); ok {
			sep := "?"
			if strings.Contains(to, "?") {
				sep = "&"
			}
			to += sep + "next=" + url.QueryEscape(next)
		}
	}
	if message != "" && m.Flash != nil {
		m.Flash(w, r, message)
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// wantsJSON reports whether the client asked for JSON rather than a page.
func wantsJSON(r *http.Request) bool {
	accept := r.Header.Get("Accept")
	return strings.Contains(accept, "application/json") && !strings.Contains(accept, "text/html")
}

// DenyJSON returns a handler for [Manager.Unauthorized],
// [Manager.NeedsRefresh] or a route's own denial that answers every request
// alike, as an API should: 401 Unauthorized with a WWW-Authenticate header
// holding challenge (such as `Bearer realm="api"`), and the JSON body
// {"error":"authentication required"}. It sends no redirect, whatever the
// Accept header.
func DenyJSON(challenge string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("WWW-Authenticate", challenge)
		h.Set("Content-Type", "application/json")
		h.Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, "{\"error\":\"authentication required\"}\n")
	})
}

// Require lets through only logged-in requests whose user satisfies allow,
// such as a check of the user's roles. Anonymous requests are handled as
// by [Manager.RequireLogin]; a logged-in user that allow refuses gets 403
// Forbidden: logging in again would not help.
func (m *Manager[U]) Require(allow func(U) bool, next http.Handler) http.Handler {
	return m.RequireWith(allow, next, nil)
}

// RequireWith is [Manager.Require] with deny answering every request
// turned away, anonymous or refused by allow; nil keeps the defaults. An
// application that would rather not reveal a route, such as an
// administration console, answers 404 with it.
func (m *Manager[U]) RequireWith(allow func(U) bool, next, deny http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cur, err := m.Lookup(r)
		switch {
		case err != nil:
			m.ErrorHandler(w, r, err)
		case !cur.Authenticated:
			m.denyLogin(w, r, deny)
		case !allow(cur.User):
			m.event(r, Event{Kind: EventDenied, UserID: cur.UserID, SessionID: cur.SessionID, Reason: "forbidden"})
			w.Header().Set("Cache-Control", "no-store")
			if deny != nil {
				deny.ServeHTTP(w, r)
				return
			}
			http.Error(w, "Forbidden", http.StatusForbidden)
		default:
			next.ServeHTTP(w, r)
		}
	})
}
