package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/latchauth/latch"
	"github.com/latchauth/latch/account"
	"github.com/latchauth/latch/password"
)

func (a *App) home(w http.ResponseWriter, r *http.Request) error {
	// Most visits are anonymous and carry no flash: they all get the same
	// bytes, rendered once in New, which saves executing the template.
	if !a.auth.Current(r).Authenticated && !a.flashes.present(r) {
		writePage(w, r, http.StatusOK, a.anonHome.body, a.anonHome.length)
		return nil
	}
	return a.render(w, r, http.StatusOK, "index", page{})
}

func (a *App) profile(w http.ResponseWriter, r *http.Request) error {
	sessions, more, err := a.sessionViews(r)
	if err != nil {
		return err
	}
	return a.render(w, r, http.StatusOK, "profile", page{Title: "Profile", Sessions: sessions, MoreSessions: more})
}

func (a *App) signupForm(w http.ResponseWriter, r *http.Request) error {
	fc := a.flashes.takeAll(w, r)
	return a.render(w, r, http.StatusOK, "signup", page{Title: "Sign Up", Flashes: nonNil(fc.Flashes), Form: fc.Form})
}

// parseForm reads a posted form, reporting an oversized body or a malformed
// one as errors a user can act on.
func parseForm(r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return mbe
		}
		return errBadForm
	}
	return nil
}

func (a *App) signup(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	email, name, pw := r.PostForm.Get("email"), r.PostForm.Get("name"), r.PostForm.Get("password")
	form := formValues{Email: bounded(email, account.MaxEmailLength*2), Name: bounded(name, account.MaxNameLength*8)}
	masked := slog.String("email", maskEmail(email))
	// Every sign-up counts, before any work: each tells whether an email
	// has an account, so one address must not ask thousands of times.
	if p := a.accounts.Throttle; p != nil {
		wait, err := p.BeginSignUp(r.Context(), a.clientIP(r))
		if err != nil {
			return err
		}
		if wait > 0 {
			a.authEvent(r, slog.LevelWarn, eventSignUp, outcomeThrottled, masked, retryAfterAttr(wait))
			return a.render(w, r, http.StatusTooManyRequests, "signup", page{Title: "Sign Up", Form: form, Flashes: tooMany(w, msgTooManySignUps, wait)})
		}
	}
	if a.cfg.RequireVerifiedEmail {
		// Sign-up mails the address in every case: asked too often, it is
		// refused before anything is created, alike for every address.
		if e, err := account.NormalizeEmail(email); err == nil {
			wait, err := a.mailWait(r.Context(), r, e)
			if err != nil {
				return err
			}
			if wait > 0 {
				a.authEvent(r, slog.LevelWarn, eventSignUp, outcomeThrottled, masked, retryAfterAttr(wait))
				return a.render(w, r, http.StatusTooManyRequests, "signup", page{Title: "Sign Up", Form: form, Flashes: tooMany(w, msgTooManyMails, wait)})
			}
		}
	}
	u, err := a.accounts.SignUp(r.Context(), email, name, pw)
	var fe account.FieldErrors
	switch {
	case errors.As(err, &fe):
		a.authEvent(r, slog.LevelInfo, eventSignUp, outcomeFailure, masked, slog.String("reason", "invalid "+strings.Join(slices.Sorted(maps.Keys(messagesOf(fe))), ",")))
		return a.render(w, r, http.StatusUnprocessableEntity, "signup", page{Title: "Sign Up", Form: form, Errors: messagesOf(fe), Flashes: []flash{}})
	case errors.Is(err, account.ErrEmailTaken) && a.cfg.RequireVerifiedEmail:
		a.authEvent(r, slog.LevelInfo, eventSignUp, outcomeFailure, masked, slog.String("reason", "email taken"))
		// The same answer as for a new account, after the same work (a
		// hash); the owner of the address is told instead.
		if err := a.burnHash(r.Context(), pw); err != nil {
			return err
		}
		e, _ := account.NormalizeEmail(email)
		a.later(r.Context(), func(ctx context.Context) { a.mailReset(ctx, e, "signup-exists") })
		return a.signedUpInbox(w, r, e)
	case errors.Is(err, account.ErrEmailTaken):
		a.authEvent(r, slog.LevelInfo, eventSignUp, outcomeFailure, masked, slog.String("reason", "email taken"))
		a.flashes.set(w, flashCookie{
			Flashes: []flash{{Text: msgEmailExists, Kind: "danger", LinkText: "login page", LinkURL: "/login"}},
			Form:    form,
		})
		http.Redirect(w, r, "/signup", http.StatusSeeOther)
		return nil
	case errors.Is(err, password.ErrBusy):
		a.authEvent(r, slog.LevelWarn, eventSignUp, outcomeBusy, masked)
		return err
	case err != nil:
		a.authEvent(r, slog.LevelWarn, eventSignUp, outcomeError, masked)
		return err
	}
	a.record(r, slog.LevelInfo, eventSignUp, outcomeSuccess, latch.AuditEvent{UserID: userKey(u.ID), Kind: latch.AuditSignUp}, masked)
	a.later(r.Context(), func(ctx context.Context) { a.mailVerification(ctx, u) })
	if a.cfg.RequireVerifiedEmail {
		return a.signedUpInbox(w, r, u.Email)
	}
	a.flashes.set(w, flashCookie{Flashes: []flash{{Text: msgSignedUp, Kind: "success"}}})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
	return nil
}

// signedUpInbox is the answer to a sign-up when addresses must be
// verified, whether the address was new or had an account.
func (a *App) signedUpInbox(w http.ResponseWriter, r *http.Request, email string) error {
	return a.render(w, r, http.StatusOK, "sent", page{Title: "Check your inbox", Message: fmt.Sprintf(msgSignUpInbox, email), Flashes: []flash{}})
}

// setRetryAfter tells the client how long to wait, in whole seconds rounded
// up.
func setRetryAfter(w http.ResponseWriter, d time.Duration) {
	w.Header().Set("Retry-After", strconv.Itoa(max(1, int(math.Ceil(d.Seconds())))))
}

func (a *App) loginForm(w http.ResponseWriter, r *http.Request) error {
	next, _ := latch.SafeNext(r.URL.Query().Get("next"))
	fc := a.flashes.takeAll(w, r)
	a.allowScript(w) // passkeys
	return a.render(w, r, http.StatusOK, "login", page{Title: "Login", Flashes: nonNil(fc.Flashes), Form: fc.Form, Next: next,
		TwoFactor: &twoFactorView{PasskeysOn: a.webauthn != nil}})
}

func (a *App) login(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	email, pw := r.PostForm.Get("email"), r.PostForm.Get("password")
	remember := r.PostForm.Get("remember") != ""
	next, hasNext := latch.SafeNext(r.PostForm.Get("next"))
	form := formValues{Email: bounded(email, account.MaxEmailLength*2)}

	device := a.deviceCookie(r)
	masked := slog.String("email", maskEmail(email))
	hasDevice := slog.Bool("device_cookie", device != "")
	u, err := a.accounts.Authenticate(r.Context(), account.Login{Email: email, Password: pw, Client: a.clientIP(r), Device: device})
	badReason := latch.ReasonWrongPassword
	if err == nil && !u.DisabledAt.IsZero() {
		// The same answer as a wrong password, after the same work: a
		// disabled account tells nothing of its password, nor of itself.
		err, badReason = account.ErrBadCredentials, latch.ReasonDisabled
	}
	var te *account.ThrottledError
	switch {
	case errors.As(err, &te):
		a.recordLoginFailure(r, email, device, latch.ReasonThrottled, slog.LevelWarn, outcomeThrottled, masked, hasDevice, retryAfterAttr(te.RetryAfter))
		setRetryAfter(w, te.RetryAfter)
		msg := fmt.Sprintf(msgTooManyTries, humanDuration(te.RetryAfter))
		return a.render(w, r, http.StatusTooManyRequests, "login", page{
			Title: "Login", Form: form, Next: next,
			Flashes: []flash{{Text: msg, Kind: "danger"}},
		})
	case errors.Is(err, account.ErrBadCredentials):
		a.recordLoginFailure(r, email, device, badReason, slog.LevelWarn, outcomeFailure, masked, hasDevice, slog.String("reason", "bad credentials"))
		a.flashes.set(w, flashCookie{Flashes: []flash{{Text: msgBadLogin, Kind: "danger"}}, Form: form})
		to := "/login"
		if hasNext {
			to += "?next=" + url.QueryEscape(next)
		}
		http.Redirect(w, r, to, http.StatusSeeOther)
		return nil
	case errors.Is(err, password.ErrBusy):
		a.authEvent(r, slog.LevelWarn, eventLogin, outcomeBusy, masked, hasDevice)
		return err
	case err != nil:
		a.authEvent(r, slog.LevelWarn, eventLogin, outcomeError, masked, hasDevice)
		return err
	}
	id := strconv.FormatInt(u.ID, 10)
	owed, err := a.secondFactorOwed(r, u)
	if err != nil {
		return err
	}
	if owed {
		// A known browser's device cookie is renewed now; a new browser
		// gets one, and its owner the new-device alert, only once the
		// second step is done (see completedLogin).
		if a.knownDevice(r, device, id) {
			a.setDeviceCookie(w, id)
		}
		a.authEvent(r, slog.LevelInfo, eventLogin, outcomeSecondStep, masked, hasDevice, slog.Int64("user_id", u.ID))
		return a.beginSecondStep(w, r, id, remember, next)
	}
	if err := a.auth.LogIn(w, r, id, latch.LoginOptions{Remember: remember}); err != nil {
		return err
	}
	a.completedLogin(w, r, u, eventLogin, "", masked, hasDevice, slog.Bool("remember", remember))
	http.Redirect(w, r, a.landing(u, next), http.StatusSeeOther)
	return nil
}

// landing is where a completed login goes: next, a safe path on this site
// ("" for none), else the profile; but a user who must verify the address
// first goes to the page that says so.
func (a *App) landing(u account.User, next string) string {
	switch {
	case a.cfg.RequireVerifiedEmail && u.EmailVerifiedAt.IsZero():
		return "/verify"
	case next != "":
		return next
	}
	return "/profile"
}

func (a *App) logoutForm(w http.ResponseWriter, r *http.Request) error {
	if !a.auth.Current(r).Authenticated {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return nil
	}
	return a.render(w, r, http.StatusOK, "logout", page{Title: "Log out"})
}

func (a *App) logout(w http.ResponseWriter, r *http.Request) error {
	cur := a.auth.Current(r)
	wasIn := cur.Authenticated
	if err := a.auth.LogOut(w, r); err != nil {
		return err
	}
	if wasIn {
		// The device cookie stays: logging out does not make the browser
		// a stranger.
		a.record(r, slog.LevelInfo, eventLogout, outcomeSuccess, latch.AuditEvent{UserID: cur.UserID, Kind: latch.AuditLogout, SessionID: cur.SessionID})
		a.flashes.set(w, flashCookie{Flashes: []flash{{Text: msgLoggedOut, Kind: "info"}}})
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
	return nil
}

func (a *App) healthz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err := a.store.Ping(ctx); err != nil {
		a.log.Warn("health check failed", "error", err)
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintln(w, "database unavailable")
		return
	}
	fmt.Fprintln(w, "ok")
}

// readyz answers whether this instance can serve: the database answers,
// and whatever Config.Ready checks (Redis, when used). Load balancers take
// an instance out of rotation while it says 503.
func (a *App) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err := a.store.Ping(ctx); err != nil {
		a.log.Warn("readiness check: database", "error", err)
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintln(w, "database unavailable")
		return
	}
	if a.cfg.Ready != nil {
		if err := a.cfg.Ready(ctx); err != nil {
			a.log.Warn("readiness check", "error", err)
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintln(w, "not ready:", "a service the app needs does not answer")
			return
		}
	}
	fmt.Fprintln(w, "ready")
}

// bounded cuts s to at most n bytes for echoing back into a form.
func bounded(s string, n int) string {
	if len(s) <= n {
		return s
	}
	// Not in the middle of a character.
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func nonNil(f []flash) []flash {
	if f == nil {
		return []flash{}
	}
	return f
}

// humanDuration says d in words, rounded up to a whole second or minute.
func humanDuration(d time.Duration) string {
	if d <= time.Minute {
		s := int(math.Ceil(d.Seconds()))
		if s <= 1 {
			return "1 second"
		}
		return strconv.Itoa(s) + " seconds"
	}
	m := int(math.Ceil(d.Minutes()))
	return strconv.Itoa(m) + " minutes"
}
