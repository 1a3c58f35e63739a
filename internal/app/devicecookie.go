package app

import (
	"net/http"
)

// The device cookie marks a browser that logged in to an account, so that
// its later logins to it are throttled on their own, never slowed down by
// guessing from elsewhere (see [throttle.Devices]). It outlives logout: the
// browser stays known. It is HttpOnly, since no script needs it, and
// SameSite=Lax; over HTTPS it is Secure and named with the "__Host-"
// prefix, which binds it to this host and path "/".
const (
	deviceCookieName       = "latch_device"
	secureDeviceCookieName = "__Host-latch_device"
)

func (a *App) deviceCookieName() string {
	if a.cfg.SecureCookies {
		return secureDeviceCookieName
	}
	return deviceCookieName
}

// deviceCookie returns the value of r's device cookie, or "" for none.
func (a *App) deviceCookie(r *http.Request) string {
	c, err := r.Cookie(a.deviceCookieName())
	if err != nil {
		return ""
	}
	return c.Value
}

// setDeviceCookie gives the browser a device cookie for user, who has just
// logged in with the right password.
func (a *App) setDeviceCookie(w http.ResponseWriter, user string) {
	d := a.accounts.Devices
	http.SetCookie(w, &http.Cookie{
		Name:     a.deviceCookieName(),
		Value:    d.Issue(user),
		Path:     "/",
		MaxAge:   int(d.MaxAge.Seconds()),
		HttpOnly: true,
		Secure:   a.cfg.SecureCookies,
		SameSite: http.SameSiteLaxMode,
	})
}

// renewDevices revokes every device cookie of user and gives this browser a
// new one: after "log out everywhere else" or a new password, browsers that
// held the account before are unknown devices again, throttled with
// everyone else, while the one that asked stays known.
func (a *App) renewDevices(w http.ResponseWriter, r *http.Request, user string) error {
	if err := a.accounts.Devices.Revoke(r.Context(), user); err != nil {
		return err
	}
	a.setDeviceCookie(w, user)
	return nil
}
