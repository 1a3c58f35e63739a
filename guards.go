package latch

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// RequireLogin lets only logged-in requests through to next. A browser is
// redirected to LoginURL with the page it asked for as "next" (GET and
// HEAD only) and LoginMessage flashed; a request that accepts JSON but not
// HTML gets 401 with a JSON error instead.
func (m *Manager[U]) RequireLogin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !m.Current(r).Authenticated {
			m.deny(w, r, m.LoginURL, m.LoginMessage, "login required")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// RequireFresh lets through only requests whose user logged in with a
// password in this session: use it for sensitive pages such as changing the
// password. Anonymous requests are handled as by [Manager.RequireLogin];
// remembered, not fresh ones are sent to RefreshURL with RefreshMessage
// flashed (or get 401 JSON).
func (m *Manager[U]) RequireFresh(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cur := m.Current(r)
		switch {
		case !cur.Authenticated:
			m.deny(w, r, m.LoginURL, m.LoginMessage, "login required")
		case !cur.Fresh:
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
