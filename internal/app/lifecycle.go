package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/latchauth/latch"
	"github.com/latchauth/latch/account"
	"github.com/latchauth/latch/password"
	"github.com/latchauth/latch/throttle"
)

// lifeView is what the account lifecycle's pages show beyond the common
// page data. Its fields are comparable, for the page memo.
type lifeView struct {
	// Fresh reports that the user typed their password in this login session,
	// which changing the password or the email and deleting need.
	Fresh bool
	// HasToken reports that the reset page holds a link's token (in its
	// cookie), so only the new password is asked for.
	HasToken bool
	// Token is the secret an undo page posts back.
	Token string
	// Email is the address a "check your inbox" page names.
	Email string
	// RequireVerified mirrors Config.RequireVerifiedEmail.
	RequireVerified bool
}

// resetCookieName holds a reset link's token between opening the link and
// posting the new password: the token leaves the URL before any page shows,
// so that neither the address bar, the history, nor a Referer carries it.
const resetCookieName = "latch_reset"

// resetCookieAge bounds how long a reset page stays usable after the link
// was opened.
const resetCookieAge = 15 * 60

func (a *App) lifecycleRoutes(route func(string, http.Handler)) {
	login, fresh := a.auth.RequireLogin, a.auth.RequireFresh
	route("GET /forgot", a.handle(a.forgotForm))
	route("POST /forgot", a.handle(a.forgot))
	route("GET /reset", a.handle(a.resetForm))
	route("POST /reset", a.handle(a.reset))
	route("GET /verify", a.handle(a.verify))
	route("POST /verify/resend", login(a.handle(a.resendVerification)))
	route("GET /account", login(a.handle(a.accountPage)))
	route("GET /account/export", login(a.handle(a.exportData)))
	route("GET /account/activity", login(a.handle(a.activity)))
	route("POST /account/name", login(a.handle(a.changeName)))
	route("POST /account/password", fresh(a.handle(a.changePassword)))
	route("POST /account/email", fresh(a.handle(a.changeEmail)))
	route("POST /account/delete", fresh(a.handle(a.deleteAccount)))
	route("GET /email/confirm", a.handle(a.confirmEmail))
	route("GET /email/undo", a.handle(a.undoForm))
	route("POST /email/undo", a.handle(a.undoEmail))
}

// parseBaseURL checks the configured base URL, or builds one from the
// listen address.
func parseBaseURL(base, addr string) (*url.URL, error) {
	if base == "" {
		if addr == "" {
			addr = "localhost:8080"
		}
		if host, port, err := net.SplitHostPort(addr); err == nil && (host == "" || host == "0.0.0.0" || host == "::") {
			addr = net.JoinHostPort("localhost", port)
		}
		base = "http://" + addr
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("base URL %q: want http:// or https:// and a host, such as https://example.com, without query or fragment", base)
	}
	u.Host = strings.ToLower(u.Host)
	u.Path = strings.TrimSuffix(u.Path, "/")
	return u, nil
}

// errWrongHost refuses a request for a host the site is not served at.
var errWrongHost = &httpError{http.StatusBadRequest, "Bad request", "This site is not served at this address."}

// hostCheck refuses requests whose Host is not the base URL's, once a base
// URL is set: a page reached through another name (DNS rebinding) or with a
// forged Host never runs. /healthz and /readyz stay open to load balancers, which ask
// by address.
func (a *App) hostCheck(next http.Handler) http.Handler {
	if !a.checkHost {
		return next
	}
	want := a.baseURL.Host
	wantPort := a.baseURL.Port()
	defPort := map[string]string{"http": "80", "https": "443"}[a.baseURL.Scheme]
	if wantPort == "" {
		wantPort = defPort
	}
	wantName := a.baseURL.Hostname()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host := strings.ToLower(r.Host)
		ok := host == want
		if !ok {
			name, port := host, defPort
			if h, p, err := net.SplitHostPort(host); err == nil {
				name, port = h, p
			}
			name = strings.TrimSuffix(strings.TrimPrefix(name, "["), "]")
			ok = name == strings.TrimSuffix(strings.TrimPrefix(wantName, "["), "]") && port == wantPort
		}
		if !ok && r.URL.Path != "/healthz" && r.URL.Path != "/readyz" {
			a.serveError(w, r, errWrongHost)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// mailLimiter returns a limiter of mails on the store of the login
// policy's limiters: free mails, then a wait of a minute, doubling, and an
// hour's lockout after max. It keeps the default Forget, which every
// limiter sharing a store must agree on.
func mailLimiter(p *throttle.Policy, free, max int) *throttle.Limiter {
	m := throttle.New(p.Account.Store)
	m.Free, m.Max, m.Delay, m.Lockout, m.Now = free, max, time.Minute, time.Hour, p.Account.Now
	return m
}

// mailWait counts a mail asked for by r's client to the address to, and
// returns how long to wait when either has asked for too many: nothing is
// counted then. The address counts whether or not it has an account, so
// that a refusal tells nothing.
func (a *App) mailWait(ctx context.Context, r *http.Request, to string) (time.Duration, error) {
	keys := []struct {
		l   *throttle.Limiter
		key string
	}{
		{a.mailClient, "mail-client|" + throttle.Client(a.clientIP(r))},
		{a.mailTo, "mail-to|" + bounded(strings.ToLower(strings.TrimSpace(to)), account.MaxEmailLength+1)},
	}
	for _, k := range keys {
		wait, err := k.l.Wait(ctx, k.key)
		if err != nil || wait > 0 {
			return wait, err
		}
	}
	for _, k := range keys {
		if _, err := k.l.Fail(ctx, k.key); err != nil {
			return 0, err
		}
	}
	return 0, nil
}

// tooMany sets Retry-After for wait and returns the flash that says it.
func tooMany(w http.ResponseWriter, msg string, wait time.Duration) []flash {
	setRetryAfter(w, wait)
	return []flash{{Text: fmt.Sprintf(msg, humanDuration(wait)), Kind: "danger"}}
}

// noReferrer keeps the address of a page that carries a secret, or leads to
// one, out of the Referer of anything it links to.
func noReferrer(w http.ResponseWriter) {
	w.Header().Set("Referrer-Policy", "no-referrer")
}

func (a *App) forgotForm(w http.ResponseWriter, r *http.Request) error {
	noReferrer(w)
	fc := a.flashes.takeAll(w, r)
	return a.render(w, r, http.StatusOK, "forgot", page{Title: "Forgot password", Flashes: nonNil(fc.Flashes), Form: fc.Form})
}

func (a *App) forgot(w http.ResponseWriter, r *http.Request) error {
	noReferrer(w)
	if err := parseForm(r); err != nil {
		return err
	}
	email := r.PostForm.Get("email")
	form := formValues{Email: bounded(email, account.MaxEmailLength*2)}
	e, err := account.NormalizeEmail(email)
	if err != nil {
		return a.render(w, r, http.StatusUnprocessableEntity, "forgot", page{Title: "Forgot password", Form: form, Errors: emailMessages(err), Flashes: []flash{}})
	}
	wait, err := a.mailWait(r.Context(), r, e)
	if err != nil {
		return err
	}
	if wait > 0 {
		return a.render(w, r, http.StatusTooManyRequests, "forgot", page{Title: "Forgot password", Form: form, Flashes: tooMany(w, msgTooManyMails, wait)})
	}
	// The lookup, the token and the mail happen after the answer, so that
	// its time does not tell whether the address has an account.
	a.later(r.Context(), func(ctx context.Context) { a.mailReset(ctx, e, "reset") })
	return a.render(w, r, http.StatusOK, "sent", page{Title: "Check your inbox", Message: fmt.Sprintf(msgCheckInbox, e), Life: lifeView{Email: e}, Flashes: []flash{}})
}

// mailReset mails a reset link and code (mail kind) to email if an account
// uses it.
func (a *App) mailReset(ctx context.Context, email, kind string) {
	m, err := a.accounts.RequestPasswordReset(ctx, email)
	if errors.Is(err, account.ErrUserNotFound) {
		return
	} else if err != nil {
		a.log.Error("request password reset", "error", err)
		return
	}
	d := userMail(m.User)
	d.Link = a.link("/reset", url.Values{"token": {m.Token}})
	d.Code, d.CodeLink, d.Expires = m.Code, a.link("/reset", nil), expiresIn(account.ResetTTL)
	a.send(ctx, kind, m.To, d)
}

func (a *App) resetForm(w http.ResponseWriter, r *http.Request) error {
	noReferrer(w)
	if tok := r.URL.Query().Get("token"); tok != "" {
		if !plausibleSecret(tok) {
			a.clearResetCookie(w)
			return a.done(w, r, "/reset", flash{Text: msgTokenInvalid, Kind: "danger", LinkText: "forgot password", LinkURL: "/forgot"})
		}
		// Opening the link uses nothing up (mail scanners open links):
		// the token moves to a cookie and leaves the address bar.
		http.SetCookie(w, &http.Cookie{
			Name: resetCookieName, Value: tok, Path: "/reset", MaxAge: resetCookieAge,
			HttpOnly: true, Secure: a.cfg.SecureCookies, SameSite: http.SameSiteLaxMode,
		})
		http.Redirect(w, r, "/reset", http.StatusSeeOther)
		return nil
	}
	fc := a.flashes.takeAll(w, r)
	p := page{Title: "Choose a new password", Flashes: nonNil(fc.Flashes), Form: fc.Form}
	if token := a.resetToken(r); token != "" {
		// A spent or expired link is refused now, not after the user
		// has typed a new password twice.
		err := a.accounts.CheckResetToken(r.Context(), token)
		switch {
		case errors.Is(err, account.ErrTokenInvalid):
			a.clearResetCookie(w)
			p.Flashes = append(p.Flashes, flash{Text: msgTokenInvalid, Kind: "danger", LinkText: "forgot password", LinkURL: "/forgot"})
			return a.render(w, r, http.StatusBadRequest, "reset", p)
		case err != nil:
			return err
		}
		p.Life.HasToken = true
	}
	return a.render(w, r, http.StatusOK, "reset", p)
}

// plausibleSecret reports whether s could be a secret of ours: URL-safe
// base64 of a sensible length. Anything else is no token, and could not go
// into a cookie as it is.
func plausibleSecret(s string) bool {
	if len(s) == 0 || len(s) > 128 {
		return false
	}
	for _, c := range []byte(s) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// resetToken returns the token of an opened reset link, or "".
func (a *App) resetToken(r *http.Request) string {
	c, err := r.Cookie(resetCookieName)
	if err != nil {
		return ""
	}
	return c.Value
}

func (a *App) reset(w http.ResponseWriter, r *http.Request) error {
	noReferrer(w)
	if err := parseForm(r); err != nil {
		return err
	}
	email, code := r.PostForm.Get("email"), r.PostForm.Get("code")
	pw, confirm := r.PostForm.Get("password"), r.PostForm.Get("confirm")
	token := a.resetToken(r)
	useCode := code != "" || token == ""
	p := page{Title: "Choose a new password", Form: formValues{Email: bounded(email, account.MaxEmailLength*2)}, Flashes: []flash{}, Life: lifeView{HasToken: !useCode}}
	if useCode && strings.TrimSpace(code) == "" {
		p.Errors = fieldMessages{"code": msgCodeMissing}
		return a.render(w, r, http.StatusUnprocessableEntity, "reset", p)
	}
	if pw != confirm {
		p.Errors = fieldMessages{"confirm": msgNotMatching}
		return a.render(w, r, http.StatusUnprocessableEntity, "reset", p)
	}
	var u account.User
	var err error
	if useCode {
		u, err = a.accounts.ResetPasswordWithCode(r.Context(), email, code, pw)
	} else {
		u, err = a.accounts.ResetPassword(r.Context(), token, pw)
	}
	var fe account.FieldErrors
	var te *account.ThrottledError
	switch {
	case errors.As(err, &fe):
		p.Errors = messagesOf(fe)
		return a.render(w, r, http.StatusUnprocessableEntity, "reset", p)
	case errors.As(err, &te):
		p.Flashes = tooMany(w, msgTooManyTries, te.RetryAfter)
		return a.render(w, r, http.StatusTooManyRequests, "reset", p)
	case errors.Is(err, account.ErrTokenInvalid):
		a.clearResetCookie(w)
		p.Life.HasToken = false
		p.Flashes = []flash{{Text: msgTokenInvalid, Kind: "danger", LinkText: "forgot password", LinkURL: "/forgot"}}
		return a.render(w, r, http.StatusBadRequest, "reset", p)
	case err != nil:
		return err
	}
	a.clearResetCookie(w)
	a.record(r, slog.LevelInfo, "password_reset", outcomeSuccess, latch.AuditEvent{UserID: userKey(u.ID), Kind: latch.AuditPasswordReset})
	// Whoever knew the old password is logged out everywhere, remember-me
	// included, this browser too, and no browser they had trusted skips
	// the second step any more.
	if _, err := a.auth.RevokeAll(r.Context(), strconv.FormatInt(u.ID, 10), ""); err != nil {
		return err
	}
	if err := a.factors.ForgetDevices(r.Context(), u.ID); err != nil {
		return err
	}
	d := userMail(u)
	d.Note, d.CodeLink = msgAllDevicesOut, a.link("/forgot", nil)
	a.send(r.Context(), "password-changed", u.Email, d)
	a.flashes.set(w, flashCookie{Flashes: []flash{{Text: msgPasswordReset, Kind: "success"}}, Form: formValues{Email: u.Email}})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
	return nil
}

func (a *App) clearResetCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: resetCookieName, Path: "/reset", MaxAge: -1, HttpOnly: true, Secure: a.cfg.SecureCookies, SameSite: http.SameSiteLaxMode})
}

// mailVerification mails u a link that confirms their address.
func (a *App) mailVerification(ctx context.Context, u account.User) {
	m, err := a.accounts.RequestVerification(ctx, u)
	if err != nil {
		a.log.Error("request verification", "error", err)
		return
	}
	d := userMail(u)
	d.Link, d.Expires = a.link("/verify", url.Values{"token": {m.Token}}), expiresIn(account.VerifyTTL)
	a.send(ctx, "verify", u.Email, d)
}

// requireVerified sends a logged-in user whose address is not confirmed to
// the page that says so, when Config.RequireVerifiedEmail is on.
func (a *App) requireVerified(next http.Handler) http.Handler {
	if !a.cfg.RequireVerifiedEmail {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if cur := a.auth.Current(r); cur.Authenticated && cur.User.EmailVerifiedAt.IsZero() {
			http.Redirect(w, r, "/verify", http.StatusSeeOther)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// verify confirms an address with a link's token, or, without one, shows
// a logged-in user whose address is not confirmed the page that says so.
func (a *App) verify(w http.ResponseWriter, r *http.Request) error {
	cur := a.auth.Current(r)
	tok := r.URL.Query().Get("token")
	if tok == "" {
		if !cur.Authenticated {
			http.Redirect(w, r, "/login", http.StatusSeeOther)
			return nil
		}
		if !cur.User.EmailVerifiedAt.IsZero() {
			http.Redirect(w, r, "/account", http.StatusSeeOther)
			return nil
		}
		return a.render(w, r, http.StatusOK, "verify", page{Title: "Confirm your email", Life: lifeView{Email: cur.User.Email, RequireVerified: a.cfg.RequireVerifiedEmail}})
	}
	// Opening the link is the proof asked for, whoever opens it: the mail
	// reached the address. It changes nothing else.
	to := "/login"
	if cur.Authenticated {
		to = "/profile"
	}
	msg := flash{Text: msgVerified, Kind: "success"}
	if _, err := a.accounts.VerifyEmail(r.Context(), tok); errors.Is(err, account.ErrTokenInvalid) {
		msg = flash{Text: msgTokenInvalid, Kind: "danger"}
		if cur.Authenticated {
			to = "/account" // which offers to send a new link
		}
	} else if err != nil {
		return err
	}
	a.flashes.set(w, flashCookie{Flashes: []flash{msg}})
	http.Redirect(w, r, to, http.StatusSeeOther)
	return nil
}

func (a *App) resendVerification(w http.ResponseWriter, r *http.Request) error {
	u := a.auth.Current(r).User
	if !u.EmailVerifiedAt.IsZero() {
		http.Redirect(w, r, "/account", http.StatusSeeOther)
		return nil
	}
	wait, err := a.mailWait(r.Context(), r, u.Email)
	if err != nil {
		return err
	}
	if wait > 0 {
		return a.render(w, r, http.StatusTooManyRequests, "verify", page{Title: "Confirm your email", Flashes: tooMany(w, msgTooManyMails, wait), Life: lifeView{Email: u.Email, RequireVerified: a.cfg.RequireVerifiedEmail}})
	}
	a.mailVerification(r.Context(), u)
	a.flashes.set(w, flashCookie{Flashes: []flash{{Text: fmt.Sprintf(msgVerifySent, u.Email), Kind: "success"}}})
	http.Redirect(w, r, "/verify", http.StatusSeeOther)
	return nil
}

// accountPageOf renders the account page with status and the given
// flashes and errors.
func (a *App) accountPageOf(w http.ResponseWriter, r *http.Request, status int, flashes []flash, errs fieldMessages, form formValues) error {
	cur := a.auth.Current(r)
	tf, err := a.twoFactorStatus(r.Context(), cur.User.ID)
	if err != nil {
		return err
	}
	return a.render(w, r, status, "account", page{Title: "Account", Flashes: flashes, Errors: errs, Form: form,
		Life: lifeView{Fresh: cur.Fresh, RequireVerified: a.cfg.RequireVerifiedEmail}, TwoFactor: tf})
}

func (a *App) accountPage(w http.ResponseWriter, r *http.Request) error {
	return a.accountPageOf(w, r, http.StatusOK, nil, nil, formValues{})
}

// userID returns the logged-in user's ID.
func (a *App) userID(r *http.Request) int64 {
	return a.auth.Current(r).User.ID
}

// done flashes msg and sends the browser to to.
func (a *App) done(w http.ResponseWriter, r *http.Request, to string, msg flash) error {
	a.flashes.set(w, flashCookie{Flashes: []flash{msg}})
	http.Redirect(w, r, to, http.StatusSeeOther)
	return nil
}

func (a *App) changeName(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	name := r.PostForm.Get("name")
	_, err := a.accounts.ChangeName(r.Context(), a.userID(r), name)
	var fe account.FieldErrors
	switch {
	case errors.As(err, &fe):
		return a.accountPageOf(w, r, http.StatusUnprocessableEntity, []flash{}, messagesOf(fe), formValues{Name: bounded(name, account.MaxNameLength*8)})
	case err != nil:
		return err
	}
	return a.done(w, r, "/account", flash{Text: msgNameChanged, Kind: "success"})
}

// passwordProblem answers an error of a check of the current password,
// or returns it.
func (a *App) passwordProblem(w http.ResponseWriter, r *http.Request, err error) error {
	var fe account.FieldErrors
	var te *account.ThrottledError
	switch {
	case errors.As(err, &fe):
		return a.accountPageOf(w, r, http.StatusUnprocessableEntity, []flash{}, messagesOf(fe), formValues{})
	case errors.Is(err, account.ErrBadCredentials):
		return a.accountPageOf(w, r, http.StatusUnprocessableEntity, []flash{}, fieldMessages{"current": msgWrongPassword}, formValues{})
	case errors.As(err, &te):
		return a.accountPageOf(w, r, http.StatusTooManyRequests, tooMany(w, msgTooManyTries, te.RetryAfter), nil, formValues{})
	}
	return err
}

func (a *App) changePassword(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	pw := r.PostForm.Get("password")
	if pw != r.PostForm.Get("confirm") {
		return a.accountPageOf(w, r, http.StatusUnprocessableEntity, []flash{}, fieldMessages{"confirm": msgNotMatching}, formValues{})
	}
	u, err := a.accounts.ChangePassword(r.Context(), a.userID(r), r.PostForm.Get("current"), pw, a.clientIP(r))
	if err != nil {
		return a.passwordProblem(w, r, err)
	}
	cur := a.auth.Current(r)
	a.record(r, slog.LevelInfo, "password_change", outcomeSuccess, latch.AuditEvent{UserID: cur.UserID, Kind: latch.AuditPasswordChanged, SessionID: cur.SessionID})
	if _, err := a.auth.RevokeAll(r.Context(), cur.UserID, cur.SessionID); err != nil {
		return err
	}
	if err := a.renewDevices(w, r, cur.UserID); err != nil {
		return err
	}
	d := userMail(u)
	d.Note, d.CodeLink = msgOtherDevicesOut, a.link("/forgot", nil)
	a.send(r.Context(), "password-changed", u.Email, d)
	return a.done(w, r, "/account", flash{Text: msgPasswordChanged, Kind: "success"})
}

func (a *App) changeEmail(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	email := r.PostForm.Get("email")
	form := formValues{Email: bounded(email, account.MaxEmailLength*2)}
	e, err := account.NormalizeEmail(email)
	if err != nil {
		return a.accountPageOf(w, r, http.StatusUnprocessableEntity, []flash{}, emailMessages(err), form)
	}
	wait, err := a.mailWait(r.Context(), r, e)
	if err != nil {
		return err
	}
	if wait > 0 {
		return a.accountPageOf(w, r, http.StatusTooManyRequests, tooMany(w, msgTooManyMails, wait), nil, form)
	}
	m, err := a.accounts.RequestEmailChange(r.Context(), a.userID(r), e)
	var fe account.FieldErrors
	switch {
	case errors.As(err, &fe):
		return a.accountPageOf(w, r, http.StatusUnprocessableEntity, []flash{}, messagesOf(fe), form)
	case errors.Is(err, account.ErrSameEmail):
		return a.accountPageOf(w, r, http.StatusUnprocessableEntity, []flash{}, fieldMessages{"email": msgSameEmail}, form)
	case err != nil:
		return err
	}
	d := userMail(m.User)
	d.Email, d.Link, d.Expires = m.To, a.link("/email/confirm", url.Values{"token": {m.Token}}), expiresIn(account.ChangeEmailTTL)
	a.send(r.Context(), "change-email", m.To, d)
	return a.done(w, r, "/account", flash{Text: fmt.Sprintf(msgEmailSent, m.To), Kind: "info"})
}

// confirmEmail moves the account to the address a change link was sent to,
// and mails the old address a way to undo it. Opening the link is the
// proof asked for: the mail reached the address the user typed.
func (a *App) confirmEmail(w http.ResponseWriter, r *http.Request) error {
	noReferrer(w)
	to := "/login"
	if a.auth.Current(r).Authenticated {
		to = "/account"
	}
	undo, err := a.accounts.ConfirmEmailChange(r.Context(), r.URL.Query().Get("token"))
	switch {
	case errors.Is(err, account.ErrTokenInvalid):
		return a.done(w, r, to, flash{Text: msgTokenInvalid, Kind: "danger"})
	case errors.Is(err, account.ErrEmailTaken):
		return a.done(w, r, to, flash{Text: msgEmailTaken, Kind: "danger"})
	case err != nil:
		return err
	}
	a.record(r, slog.LevelInfo, "email_change", outcomeSuccess, latch.AuditEvent{UserID: userKey(undo.User.ID), Kind: latch.AuditEmailChanged})
	d := userMail(undo.User)
	d.Link, d.Expires = a.link("/email/undo", url.Values{"token": {undo.Token}}), expiresIn(account.UndoEmailTTL)
	a.send(r.Context(), "email-changed", undo.To, d)
	return a.done(w, r, to, flash{Text: fmt.Sprintf(msgEmailChanged, undo.User.Email), Kind: "success"})
}

// undoForm asks to confirm an undo with a button: a mail scanner opening
// the link must not undo a change the user made.
func (a *App) undoForm(w http.ResponseWriter, r *http.Request) error {
	noReferrer(w)
	tok := bounded(r.URL.Query().Get("token"), 128)
	return a.render(w, r, http.StatusOK, "undo", page{Title: "Undo the email change", Life: lifeView{Token: tok}})
}

func (a *App) undoEmail(w http.ResponseWriter, r *http.Request) error {
	noReferrer(w)
	if err := parseForm(r); err != nil {
		return err
	}
	u, err := a.accounts.UndoEmailChange(r.Context(), r.PostForm.Get("token"))
	switch {
	case errors.Is(err, account.ErrTokenInvalid):
		return a.done(w, r, "/login", flash{Text: msgTokenInvalid, Kind: "danger"})
	case errors.Is(err, account.ErrEmailTaken):
		return a.done(w, r, "/login", flash{Text: msgEmailTaken, Kind: "danger"})
	case err != nil:
		return err
	}
	a.record(r, slog.LevelInfo, "email_change", outcomeSuccess, latch.AuditEvent{UserID: userKey(u.ID), Kind: latch.AuditEmailChanged, Reason: "undone"})
	// Whoever changed the address may be logged in: nobody stays.
	if _, err := a.auth.RevokeAll(r.Context(), strconv.FormatInt(u.ID, 10), ""); err != nil {
		return err
	}
	d := userMail(u)
	d.Link = a.link("/forgot", nil)
	a.send(r.Context(), "email-restored", u.Email, d)
	a.flashes.set(w, flashCookie{Flashes: []flash{{Text: msgEmailRestored, Kind: "success", LinkText: "forgot password", LinkURL: "/forgot"}}, Form: formValues{Email: u.Email}})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
	return nil
}

func (a *App) deleteAccount(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	u, err := a.accounts.DeleteAccount(r.Context(), a.userID(r), r.PostForm.Get("password"), a.clientIP(r))
	if err != nil {
		if errors.Is(err, account.ErrBadCredentials) {
			return a.accountPageOf(w, r, http.StatusUnprocessableEntity, []flash{}, fieldMessages{"delete": msgWrongPassword}, formValues{})
		}
		return a.passwordProblem(w, r, err)
	}
	if err := a.auth.LogOut(w, r); err != nil {
		return err
	}
	if _, err := a.auth.RevokeAll(r.Context(), strconv.FormatInt(u.ID, 10), ""); err != nil {
		return err
	}
	if err := a.factors.Disable(r.Context(), u.ID); err != nil {
		return err
	}
	a.send(r.Context(), "goodbye", u.Email, userMail(u))
	return a.done(w, r, "/", flash{Text: msgDeleted, Kind: "info"})
}

// exportedUser is the profile part of "download my data".
type exportedUser struct {
	ID              int64      `json:"id"`
	Email           string     `json:"email"`
	Name            string     `json:"name"`
	CreatedAt       time.Time  `json:"created_at"`
	LastLoginAt     *time.Time `json:"last_login_at"`
	EmailVerifiedAt *time.Time `json:"email_verified_at"`
}

// exportedSession is one session in "download my data".
type exportedSession struct {
	CreatedAt  time.Time `json:"created_at"`
	LastSeenAt time.Time `json:"last_seen_at"`
	ExpiresAt  time.Time `json:"expires_at"`
	IP         string    `json:"ip"`
	UserAgent  string    `json:"user_agent"`
	Remember   bool      `json:"remember"`
	Current    bool      `json:"current"`
}

// exportData sends what is kept about the user as JSON: never a password
// hash nor a token hash, which are no data of theirs but keys to it.
func (a *App) exportData(w http.ResponseWriter, r *http.Request) error {
	cur := a.auth.Current(r)
	ss, err := a.auth.Sessions(r.Context(), cur.UserID)
	if err != nil {
		return err
	}
	opt := func(t time.Time) *time.Time {
		if t.IsZero() {
			return nil
		}
		t = t.UTC()
		return &t
	}
	u := cur.User
	out := struct {
		Profile  exportedUser      `json:"profile"`
		Sessions []exportedSession `json:"sessions"`
	}{Profile: exportedUser{u.ID, u.Email, u.Name, u.CreatedAt.UTC(), opt(u.LastLoginAt), opt(u.EmailVerifiedAt)}, Sessions: []exportedSession{}}
	for _, s := range ss {
		out.Sessions = append(out.Sessions, exportedSession{s.CreatedAt.UTC(), s.LastSeenAt.UTC(), s.ExpiresAt.UTC(), s.IP, s.UserAgent, s.Remember, s.ID == cur.SessionID})
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Disposition", `attachment; filename="latch-account.json"`)
	w.Header().Set("Cache-Control", "no-store")
	w.Write(append(b, '\n'))
	return nil
}

// burnHash spends the time of a password hash, so that a sign-up with an
// address that has an account takes as long as one that creates it.
func (a *App) burnHash(ctx context.Context, pw string) error {
	if _, err := a.cfg.Hasher.Hash(ctx, pw); err != nil && !errors.Is(err, password.ErrTooLong) {
		return err
	}
	return nil
}
