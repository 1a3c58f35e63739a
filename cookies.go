package latch

import (
	"net/http"
	"time"
)

// CookieNames returns the names the session and remember-me cookies
// actually have: CookieName and RememberCookieName, with the "__Host-"
// prefix when Secure, CookieDomain and CookiePath call for it.
func (m *Manager[U]) CookieNames() (session, remember string) {
	return m.cookieName(), m.rememberCookieName()
}

func (m *Manager[U]) cookieName() string         { return m.prefixed(m.CookieName) }
func (m *Manager[U]) rememberCookieName() string { return m.prefixed(m.RememberCookieName) }

func (m *Manager[U]) prefixed(name string) string {
	if m.Secure && m.CookieDomain == "" && m.CookiePath == "/" {
		return "__Host-" + name
	}
	return name
}

// setCookies sets the session cookie, which has no expiry and so ends with
// the browser, and, when rtoken is set, the remember-me cookie, which lasts
// until the session's absolute expiry.
func (m *Manager[U]) setCookies(w http.ResponseWriter, token, rtoken string, expires time.Time) {
	http.SetCookie(w, m.cookie(m.cookieName(), token))
	if rtoken != "" {
		c := m.cookie(m.rememberCookieName(), rtoken)
		c.Expires = expires
		c.MaxAge = max(int(expires.Sub(m.Now())/time.Second), 1)
		http.SetCookie(w, c)
	}
}

func (m *Manager[U]) clearCookie(w http.ResponseWriter, name string) {
	c := m.cookie(name, "")
	c.MaxAge = -1
	http.SetCookie(w, c)
}

func (m *Manager[U]) cookie(name, value string) *http.Cookie {
	return &http.Cookie{
		Name:     name,
		Value:    value,
		Path:     m.CookiePath,
		Domain:   m.CookieDomain,
		Secure:   m.Secure,
		HttpOnly: true,
		SameSite: m.SameSite,
	}
}
