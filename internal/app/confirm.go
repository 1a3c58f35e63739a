package app

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"

	"github.com/latchauth/latch"
	"github.com/latchauth/latch/account"
)

// confirmForm asks a logged-in user for the password again: the page that
// RequireFresh sends a remembered, not fresh, session to before a sensitive
// action such as ending other sessions.
func (a *App) confirmForm(w http.ResponseWriter, r *http.Request) error {
	next, _ := latch.SafeNext(r.URL.Query().Get("next"))
	return a.render(w, r, http.StatusOK, "confirm", page{Title: "Confirm your password", Next: next})
}

// confirm checks the current user's password through the same path as a
// login, throttling included, so that the page is no way around the limits
// on guessing, and then marks the session fresh.
func (a *App) confirm(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	cur := a.auth.Current(r)
	next, hasNext := latch.SafeNext(r.PostForm.Get("next"))
	u, err := a.accounts.Authenticate(r.Context(), account.Login{
		Email: cur.User.Email, Password: r.PostForm.Get("password"), Client: a.clientIP(r), Device: a.deviceCookie(r),
	})
	if err == nil && u.ID != cur.User.ID {
		// The address passed to another account meanwhile (deleted
		// and signed up again): not this user's password.
		err = account.ErrBadCredentials
	}
	var te *account.ThrottledError
	switch {
	case errors.As(err, &te):
		secs := int(math.Ceil(te.RetryAfter.Seconds()))
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		return a.render(w, r, http.StatusTooManyRequests, "confirm", page{
			Title: "Confirm your password", Next: next,
			Flashes: []flash{{Text: fmt.Sprintf(msgTooManyTries, humanDuration(te.RetryAfter)), Kind: "danger"}},
		})
	case errors.Is(err, account.ErrBadCredentials):
		a.flashes.set(w, flashCookie{Flashes: []flash{{Text: msgBadConfirm, Kind: "danger"}}})
		to := "/login/confirm"
		if hasNext {
			to += "?next=" + url.QueryEscape(next)
		}
		http.Redirect(w, r, to, http.StatusSeeOther)
		return nil
	case err != nil:
		return err
	}
	if err := a.auth.ConfirmLogin(w, r); err != nil {
		return err
	}
	to := "/profile"
	if hasNext {
		to = next
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
	return nil
}
