package app

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/latchauth/latch"
	"github.com/latchauth/latch/account"
	"github.com/latchauth/latch/throttle"
	"github.com/latchauth/latch/twofactor"
	qrcode "github.com/skip2/go-qrcode"
)

// Messages of two-step sign-in.
const (
	msgCodeWrong       = "That code is not correct. Check it and try again."
	msgCodeExpired     = "That code has expired. Enter the code your app shows now."
	msgCodeUsed        = "That code has already been used. Wait for your app to show a new one, then enter it."
	msgCodeMissingTOTP = "Please enter the 6-digit code from your authenticator app, or one of your recovery codes."
	msgPendingExpired  = "Your login took more than 5 minutes to finish. Please log in again."
	msgTooManyCodes    = "Too many wrong codes. Please try again in %s."
	msgSetupExpired    = "This setup has expired. Scan the new code below and try again."
	msgTOTPEnabled     = "Two-step sign-in is on. Keep your recovery codes somewhere safe: each works once, if you lose your phone."
	msgTOTPAlready     = "Two-step sign-in is already on."
	msgTOTPDisabled    = "Two-step sign-in is off. Your authenticator app, recovery codes and remembered devices no longer work for this account."
	msgDeviceForgotten = "That device will be asked for a code at its next login."
	msgDeviceUnknown   = "That device is no longer remembered."
	msgResetRequested  = "We have sent a mail to %s. If nobody cancels it from a logged-in session, two-step sign-in will be removed from your account on %s; you can then log in with your password alone."
	msgResetCancelled  = "The removal of your two-step sign-in is cancelled."
	msgResetNone       = "No removal of your two-step sign-in was pending."
)

// Events of two-step sign-in, in the auth log.
const (
	eventSecondStep           = "second step"
	eventFactorOn             = "two-factor enabled"
	eventFactorOff            = "two-factor disabled"
	eventFactorResetAsked     = "two-factor reset requested"
	eventFactorReset          = "two-factor reset"
	eventFactorResetCancelled = "two-factor reset cancelled"
	eventRecoveryCodes        = "recovery codes renewed"
	eventPasskeyAdded         = "passkey added"
	eventPasskeyRemoved       = "passkey removed"
)

// trustedCookieName holds the token of a browser trusted to skip the
// second step.
const trustedCookieName = "latch_trusted"

// twoFactorView is what the two-step sign-in pages show. It is compared by
// reflect.DeepEqual for the page memo: the pages are rare enough.
type twoFactorView struct {
	// Enabled reports a second factor; TOTP an enrolled authenticator,
	// since Since.
	Enabled bool
	TOTP    bool
	Since   time.Time
	// Passkeys are the user's passkeys.
	Passkeys []passkeyView
	// RecoveryLeft counts unused recovery codes.
	RecoveryLeft int
	// Secret, QR and Token are a setup's key: as text, as a data: PNG of
	// its otpauth URL, and sealed for the form.
	Secret string
	QR     template.URL
	Token  string
	// Codes are new recovery codes, shown once; CodesFile is the same as
	// a data: text file to download.
	Codes     []string
	CodesFile template.URL
	// Devices are the remembered browsers.
	Devices []trustedView
	// ResetDue is when a reset asked for by email removes the factors;
	// zero when none is pending.
	ResetDue string
	// Next is where a completed login goes.
	Next string
	// PasskeysOn reports that the site offers passkeys: it has a domain
	// name.
	PasskeysOn bool
	// TrustDays is how long a trusted browser skips the second step.
	TrustDays int
	// CodeError is the second step's refusal, shown at the field.
	CodeError string
}

// passkeyView is one passkey.
type passkeyView struct {
	ID, Name, Created, LastUsed string
	Synced                      bool
}

// trustedView is one remembered browser.
type trustedView struct {
	ID, Label, Created, Expires string
}

func sameTwoFactor(a, b *twoFactorView) bool { return reflect.DeepEqual(a, b) }

func (a *App) twoFactorRoutes(route func(string, http.Handler)) {
	login, fresh := a.auth.RequireLogin, a.auth.RequireFresh
	route("GET /account/2fa", fresh(a.handle(a.twoFactorPage)))
	route("POST /account/2fa", fresh(a.handle(a.enrolTOTP)))
	route("POST /account/2fa/recovery-codes", fresh(a.handle(a.renewRecoveryCodes)))
	route("POST /account/2fa/disable", fresh(a.handle(a.disableTwoFactor)))
	route("POST /account/2fa/devices/forget", login(a.handle(a.forgetDevice)))
	route("POST /account/2fa/reset/cancel", login(a.handle(a.cancelFactorReset)))
	route("GET /login/2fa", a.handle(a.secondStepForm))
	route("POST /login/2fa", a.handle(a.secondStep))
	route("POST /login/2fa/recover", a.handle(a.requestFactorReset))
}

// secondStepLimiter throttles second-step attempts per account, across
// every browser holding a partial login for it: whoever has the password
// may guess codes from many browsers at once. 5 free failures, then 1 s
// doubling up to 15 minutes, as for passwords: a million codes at that
// pace take years.
func secondStepLimiter(p *throttle.Policy) *throttle.Limiter {
	l := throttle.New(p.Account.Store)
	l.Free, l.Delay, l.MaxDelay, l.Now = 5, time.Second, 15*time.Minute, p.Account.Now
	return l
}

// secondFactorOwed reports whether u must give a second factor after the
// right password: they have one, and this browser is not trusted. A reset
// asked for by email whose wait is over is carried out first.
func (a *App) secondFactorOwed(r *http.Request, u account.User) (bool, error) {
	ctx := r.Context()
	done, err := a.factors.FinishReset(ctx, u.ID)
	if err != nil {
		return false, err
	}
	if done {
		a.recordFactor(r, eventFactorReset, u, latch.AuditFactorRemoved, factorResetByEmail)
		a.notify(ctx, u, "Two-step sign-in was removed from your account",
			"As asked by email a few days ago, two-step sign-in was removed from your account. You now log in with your password alone; set it up again from your account page.")
		return false, nil
	}
	st, err := a.factors.Status(ctx, u.ID)
	if err != nil || !st.Enabled() {
		return false, err
	}
	if c, err := r.Cookie(a.trustedCookieName()); err == nil {
		trusted, err := a.factors.DeviceTrusted(ctx, u.ID, c.Value)
		if err != nil || trusted {
			return false, err
		}
	}
	return true, nil
}

// beginSecondStep starts a partial login and sends the browser to the
// second step.
func (a *App) beginSecondStep(w http.ResponseWriter, r *http.Request, id string, remember bool, next string) error {
	if err := a.auth.LogIn(w, r, id, latch.LoginOptions{Remember: remember, Partial: true}); err != nil {
		return err
	}
	to := "/login/2fa"
	if next != "" {
		to += "?next=" + url.QueryEscape(next)
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
	return nil
}

func (a *App) trustedCookieName() string {
	if a.cfg.SecureCookies {
		return "__Host-" + trustedCookieName
	}
	return trustedCookieName
}

// pendingUser returns the user whose partial login the request carries.
func (a *App) pendingUser(r *http.Request) (account.User, latch.Pending, bool, error) {
	p, ok := a.auth.Pending(r)
	if !ok {
		return account.User{}, p, false, nil
	}
	u, err := a.loadUser(r.Context(), p.UserID)
	if errors.Is(err, latch.ErrUnknownUser) {
		return account.User{}, p, false, nil
	}
	return u, p, err == nil, err
}

// pendingGone sends a browser without a live partial login back to log in.
func (a *App) pendingGone(w http.ResponseWriter, r *http.Request) error {
	a.auth.CancelLogIn(w, r)
	return a.done(w, r, "/login", flash{Text: msgPendingExpired, Kind: "warning"})
}

func (a *App) secondStepPage(w http.ResponseWriter, r *http.Request, status int, flashes []flash, codeErr string) error {
	next, _ := latch.SafeNext(r.FormValue("next"))
	v := &twoFactorView{Next: next, TrustDays: int(a.factors.TrustFor / (24 * time.Hour)), CodeError: codeErr, PasskeysOn: a.webauthn != nil}
	if p, ok := a.auth.Pending(r); ok {
		if id, err := strconv.ParseInt(p.UserID, 10, 64); err == nil {
			st, err := a.factors.Status(r.Context(), id)
			if err != nil {
				return err
			}
			v.TOTP, v.RecoveryLeft = st.TOTP, st.RecoveryCodesLeft
			if st.Passkeys > 0 && a.webauthn != nil {
				v.Passkeys = []passkeyView{{}}
			}
		}
	}
	noReferrer(w)
	a.allowScript(w)
	return a.render(w, r, status, "secondstep", page{Title: "Two-step sign-in", Flashes: flashes, TwoFactor: v})
}

func (a *App) secondStepForm(w http.ResponseWriter, r *http.Request) error {
	if _, _, ok, err := a.pendingUser(r); err != nil {
		return err
	} else if !ok {
		return a.pendingGone(w, r)
	}
	fc := a.flashes.takeAll(w, r)
	return a.secondStepPage(w, r, http.StatusOK, nonNil(fc.Flashes), "")
}

func (a *App) secondStep(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	u, _, ok, err := a.pendingUser(r)
	if err != nil {
		return err
	} else if !ok {
		return a.pendingGone(w, r)
	}
	ctx := r.Context()
	code := strings.TrimSpace(r.PostForm.Get("code"))
	if code == "" {
		return a.secondStepPage(w, r, http.StatusUnprocessableEntity, []flash{}, msgCodeMissingTOTP)
	}
	key := "2fa|" + strconv.FormatInt(u.ID, 10)
	attempt, wait, err := a.secondStepLimit.Begin(ctx, key)
	if err != nil {
		return err
	}
	if wait > 0 {
		a.recordSecondStepFailure(r, u, latch.ReasonThrottled, outcomeThrottled, retryAfterAttr(wait))
		return a.secondStepPage(w, r, http.StatusTooManyRequests, tooMany(w, msgTooManyCodes, wait), "")
	}
	recovery := !twofactor.IsTOTPCode(code)
	if recovery {
		err = a.factors.UseRecoveryCode(ctx, u.ID, bounded(code, 64))
	} else {
		err = a.factors.CheckTOTP(ctx, u.ID, code)
	}
	var msg string
	switch {
	case errors.Is(err, twofactor.ErrBadCode), errors.Is(err, twofactor.ErrNoTOTP):
		msg = msgCodeWrong
	case errors.Is(err, twofactor.ErrCodeExpired):
		msg = msgCodeExpired
	case errors.Is(err, twofactor.ErrCodeUsed):
		msg = msgCodeUsed
	case err != nil:
		attempt.Release(context.WithoutCancel(ctx))
		return err
	}
	if msg != "" {
		a.recordSecondStepFailure(r, u, latch.ReasonWrongCode, outcomeFailure, slog.String("reason", msg))
		return a.secondStepPage(w, r, http.StatusUnprocessableEntity, []flash{}, msg)
	}
	if err := a.secondStepLimit.Succeed(ctx, key); err != nil {
		a.log.Warn("reset second-step throttle", "error", err)
	}
	if err := a.auth.CompleteLogIn(w, r); errors.Is(err, latch.ErrNoPendingLogin) {
		return a.pendingGone(w, r)
	} else if err != nil {
		return err
	}
	factor := factorTOTP
	if recovery {
		factor = factorRecoveryCode
	}
	a.completedLogin(w, r, u, eventSecondStep, factor, slog.Bool("recovery_code", recovery))
	if r.PostForm.Get("trust") != "" {
		if err := a.trustBrowser(w, r, u.ID); err != nil {
			return err
		}
	}
	if recovery {
		st, _ := a.factors.Status(ctx, u.ID)
		a.notify(ctx, u, "A recovery code was used to log in",
			fmt.Sprintf("Someone logged in to your account with one of your recovery codes; it no longer works, and %d are left. If it was not you, change your password at once.", st.RecoveryCodesLeft))
	} else {
		a.notify(ctx, u, "New login with your authenticator app",
			"Someone logged in to your account with your password and a code from your authenticator app. If it was not you, change your password at once.")
	}
	next, _ := latch.SafeNext(r.PostForm.Get("next"))
	http.Redirect(w, r, a.landing(u, next), http.StatusSeeOther)
	return nil
}

// recordSecondStepFailure records a second step refused for u, the user of
// the partial login: a failed login in their activity, since whoever tried
// knew the password.
func (a *App) recordSecondStepFailure(r *http.Request, u account.User, reason, outcome string, attrs ...slog.Attr) {
	a.record(r, slog.LevelWarn, eventSecondStep, outcome, latch.AuditEvent{UserID: userKey(u.ID), Kind: latch.AuditLoginFailed, Reason: reason}, attrs...)
}

// trustBrowser lets this browser skip the second step for TrustFor.
func (a *App) trustBrowser(w http.ResponseWriter, r *http.Request, userID int64) error {
	token, exp, err := a.factors.TrustDevice(r.Context(), userID, userAgentLabel(r.UserAgent()))
	if err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: a.trustedCookieName(), Value: token, Path: "/", Expires: exp,
		MaxAge: int(a.factors.TrustFor / time.Second), HttpOnly: true, Secure: a.cfg.SecureCookies, SameSite: http.SameSiteLaxMode})
	return nil
}

// userAgentLabel bounds a User-Agent for the list of remembered devices.
func userAgentLabel(ua string) string {
	ua = strings.ToValidUTF8(bounded(ua, 200), "")
	if ua == "" {
		return "Unknown browser"
	}
	return ua
}

// requestFactorReset starts, from the second step, the removal of the
// user's factors after the waiting period, and mails the address: whoever
// holds the account and a session can cancel it meanwhile.
func (a *App) requestFactorReset(w http.ResponseWriter, r *http.Request) error {
	u, _, ok, err := a.pendingUser(r)
	if err != nil {
		return err
	} else if !ok {
		return a.pendingGone(w, r)
	}
	ctx := r.Context()
	wait, err := a.mailWait(ctx, r, u.Email)
	if err != nil {
		return err
	}
	if wait > 0 {
		return a.secondStepPage(w, r, http.StatusTooManyRequests, tooMany(w, msgTooManyMails, wait), "")
	}
	reset, created, err := a.factors.RequestReset(ctx, u.ID)
	if err != nil {
		return err
	}
	due := reset.DueAt.UTC().Format("Monday 2 January 2006 at 15:04 MST")
	if created {
		a.record(r, slog.LevelWarn, eventFactorResetAsked, outcomeSuccess, latch.AuditEvent{UserID: userKey(u.ID), Kind: kindFactorResetAsked})
		a.notify(ctx, u, "Removal of your two-step sign-in was asked for",
			fmt.Sprintf("Someone who knows your password said they lost their authenticator app and recovery codes, and asked to remove two-step sign-in from your account. It will be removed on %s. If it was not you, log in and cancel it on your account page (%s), then change your password.", due, a.link("/account", nil)))
	}
	return a.secondStepPage(w, r, http.StatusOK, []flash{{Text: fmt.Sprintf(msgResetRequested, u.Email, due), Kind: "info"}}, "")
}

// notify mails the user a notice about their second factors.
func (a *App) notify(ctx context.Context, u account.User, subject, text string) {
	d := userMail(u)
	d.Title, d.Note, d.CodeLink = subject, text, a.link("/account", nil)
	a.send(ctx, "twofactor", u.Email, d)
}

// twoFactorView returns the user's two-step sign-in settings as the pages
// show them.
func (a *App) twoFactorStatus(ctx context.Context, userID int64) (*twoFactorView, error) {
	st, err := a.factors.Status(ctx, userID)
	if err != nil {
		return nil, err
	}
	v := &twoFactorView{Enabled: st.Enabled(), TOTP: st.TOTP, Since: st.TOTPSince, RecoveryLeft: st.RecoveryCodesLeft, PasskeysOn: a.webauthn != nil}
	keys, err := a.store.Passkeys(ctx, userID)
	if err != nil {
		return nil, err
	}
	for _, p := range keys {
		pv := passkeyView{ID: p.ID, Name: p.Name, Created: p.CreatedAt.UTC().Format("2 Jan 2006"), LastUsed: "never", Synced: p.BackedUp}
		if !p.LastUsedAt.IsZero() {
			pv.LastUsed = p.LastUsedAt.UTC().Format("2 Jan 2006")
		}
		v.Passkeys = append(v.Passkeys, pv)
	}
	if st.Reset != nil {
		v.ResetDue = st.Reset.DueAt.UTC().Format("Monday 2 January 2006 at 15:04 MST")
	}
	devices, err := a.factors.TrustedDevices(ctx, userID)
	if err != nil {
		return nil, err
	}
	for _, d := range devices {
		v.Devices = append(v.Devices, trustedView{ID: d.ID, Label: d.Label,
			Created: d.CreatedAt.UTC().Format("2 Jan 2006"), Expires: d.ExpiresAt.UTC().Format("2 Jan 2006")})
	}
	return v, nil
}

// setupKey fills v with a key to enrol: as text, QR code and sealed token.
func (a *App) setupKey(v *twoFactorView, u account.User, key twofactor.Key) error {
	png, err := qrcode.Encode(key.URL(a.baseURL.Hostname(), u.Email), qrcode.Medium, 240)
	if err != nil {
		return fmt.Errorf("render QR code: %w", err)
	}
	v.Secret = key.Base32()
	v.QR = template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png))
	v.Token = a.factors.SealKey(u.ID, key)
	return nil
}

func (a *App) twoFactorPageOf(w http.ResponseWriter, r *http.Request, status int, flashes []flash, codeErr string, key *twofactor.Key) error {
	cur := a.auth.Current(r)
	v, err := a.twoFactorStatus(r.Context(), cur.User.ID)
	if err != nil {
		return err
	}
	if !v.TOTP {
		k := twofactor.NewKey()
		if key != nil {
			k = *key
		}
		if err := a.setupKey(v, cur.User, k); err != nil {
			return err
		}
	}
	v.CodeError = codeErr
	// The setup page shows a secret: no Referer may carry its address
	// away, and no cache may keep it.
	noReferrer(w)
	a.allowScript(w)
	return a.render(w, r, status, "twofactor", page{Title: "Two-step sign-in", Flashes: flashes, TwoFactor: v})
}

func (a *App) twoFactorPage(w http.ResponseWriter, r *http.Request) error {
	return a.twoFactorPageOf(w, r, http.StatusOK, nil, "", nil)
}

func (a *App) enrolTOTP(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	ctx := r.Context()
	u := a.auth.Current(r).User
	st, err := a.factors.Status(ctx, u.ID)
	if err != nil {
		return err
	}
	if st.TOTP {
		return a.done(w, r, "/account/2fa", flash{Text: msgTOTPAlready, Kind: "info"})
	}
	key, err := a.factors.OpenKey(u.ID, bounded(r.PostForm.Get("token"), 512))
	if err != nil {
		return a.twoFactorPageOf(w, r, http.StatusUnprocessableEntity, []flash{{Text: msgSetupExpired, Kind: "warning"}}, "", nil)
	}
	code := strings.TrimSpace(r.PostForm.Get("code"))
	err = a.factors.Enrol(ctx, u.ID, key, bounded(code, 64))
	switch {
	case errors.Is(err, twofactor.ErrBadCode):
		return a.twoFactorPageOf(w, r, http.StatusUnprocessableEntity, []flash{}, msgCodeWrong, &key)
	case errors.Is(err, twofactor.ErrCodeExpired):
		return a.twoFactorPageOf(w, r, http.StatusUnprocessableEntity, []flash{}, msgCodeExpired, &key)
	case err != nil:
		return err
	}
	codes, err := a.factors.NewRecoveryCodes(ctx, u.ID)
	if err != nil {
		return err
	}
	a.recordFactor(r, eventFactorOn, u, latch.AuditFactorAdded, factorTOTP)
	a.notify(ctx, u, "Two-step sign-in is on",
		"Two-step sign-in was turned on for your account: logins now ask for a code from your authenticator app after the password. If it was not you, change your password at once and turn it off on your account page.")
	return a.showRecoveryCodes(w, r, codes, flash{Text: msgTOTPEnabled, Kind: "success"})
}

// showRecoveryCodes shows new recovery codes, once: the page is not kept
// by any cache, and the codes are stored only hashed.
func (a *App) showRecoveryCodes(w http.ResponseWriter, r *http.Request, codes []string, f flash) error {
	v, err := a.twoFactorStatus(r.Context(), a.userID(r))
	if err != nil {
		return err
	}
	v.Codes = codes
	file := "Recovery codes for " + a.baseURL.Host + "\r\nEach code works once, in place of a code from your authenticator app.\r\n\r\n" + strings.Join(codes, "\r\n") + "\r\n"
	v.CodesFile = template.URL("data:text/plain;charset=utf-8," + url.PathEscape(file))
	noReferrer(w)
	a.allowScript(w)
	return a.render(w, r, http.StatusOK, "twofactor", page{Title: "Two-step sign-in", Flashes: []flash{f}, TwoFactor: v})
}

func (a *App) renewRecoveryCodes(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	u := a.auth.Current(r).User
	st, err := a.factors.Status(ctx, u.ID)
	if err != nil {
		return err
	}
	if !st.Enabled() {
		return a.done(w, r, "/account/2fa", flash{Text: "Set up two-step sign-in first.", Kind: "warning"})
	}
	codes, err := a.factors.NewRecoveryCodes(ctx, u.ID)
	if err != nil {
		return err
	}
	a.recordFactor(r, eventRecoveryCodes, u, latch.AuditFactorAdded, factorRecoveryCodes)
	a.notify(ctx, u, "New recovery codes", "New recovery codes were made for your account; the previous ones no longer work. If it was not you, change your password at once.")
	return a.showRecoveryCodes(w, r, codes, flash{Text: "Here are your new recovery codes; the previous ones no longer work.", Kind: "success"})
}

func (a *App) disableTwoFactor(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	u := a.auth.Current(r).User
	if err := a.factors.Disable(ctx, u.ID); err != nil {
		return err
	}
	a.recordFactor(r, eventFactorOff, u, latch.AuditFactorRemoved, factorAll)
	a.notify(ctx, u, "Two-step sign-in is off",
		"Two-step sign-in was turned off for your account: logins ask for the password alone. If it was not you, change your password at once and turn it on again.")
	return a.done(w, r, "/account/2fa", flash{Text: msgTOTPDisabled, Kind: "info"})
}

func (a *App) forgetDevice(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	ok, err := a.factors.ForgetDevice(r.Context(), a.userID(r), bounded(r.PostForm.Get("id"), 64))
	if err != nil {
		return err
	}
	if !ok {
		return a.done(w, r, "/account/2fa", flash{Text: msgDeviceUnknown, Kind: "warning"})
	}
	return a.done(w, r, "/account/2fa", flash{Text: msgDeviceForgotten, Kind: "success"})
}

func (a *App) cancelFactorReset(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	u := a.auth.Current(r).User
	ok, err := a.factors.CancelReset(ctx, u.ID)
	if err != nil {
		return err
	}
	if !ok {
		return a.done(w, r, "/account", flash{Text: msgResetNone, Kind: "info"})
	}
	a.recordFactor(r, eventFactorResetCancelled, u, kindFactorResetCancelled, "")
	a.notify(ctx, u, "Removal of your two-step sign-in cancelled",
		"The removal of two-step sign-in from your account, asked for by email, was cancelled from a logged-in session. Two-step sign-in stays on.")
	return a.done(w, r, "/account", flash{Text: msgResetCancelled, Kind: "success"})
}
