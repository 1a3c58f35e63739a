package app

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
	"github.com/latchauth/latch"
	"github.com/latchauth/latch/account"
	"github.com/latchauth/latch/twofactor"
)

// cspWithScript is the Content-Security-Policy of the pages that use
// passkeys: the site's own script file and requests to the site, nothing
// inline. Every other page keeps contentSecurityPolicy, with no script.
const cspWithScript = "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// allowScript lets the page in w run /static/passkey.js, when passkeys are
// on.
func (a *App) allowScript(w http.ResponseWriter) {
	if a.webauthn != nil {
		w.Header().Set("Content-Security-Policy", cspWithScript)
	}
}

// ceremonyCookieName holds the state of a WebAuthn ceremony between its
// two requests: its challenge, signed, for 5 minutes.
const ceremonyCookieName = "latch_webauthn"

const ceremonyLife = 5 * time.Minute

// Messages of passkeys.
const (
	msgPasskeyAdded   = "Your passkey %q is added."
	msgPasskeyRenamed = "Your passkey is renamed."
	msgPasskeyRemoved = "Your passkey is removed."
	msgPasskeyUnknown = "That passkey is not one of yours any more."
	msgPasskeyName    = "Please give the passkey a name of 1 to 60 characters."
	msgPasskeyFailed  = "That passkey was not accepted. Try again, or use another way to log in."
	msgPasskeyExpired = "This took too long. Please try again."
)

// newWebAuthn configures WebAuthn for the base URL: the relying party is
// its host name, and only its origin may answer.
func newWebAuthn(base string, host string) (*webauthn.WebAuthn, error) {
	return webauthn.New(&webauthn.Config{
		RPID:          host,
		RPDisplayName: "Latch Auth Example",
		RPOrigins:     []string{base},
	})
}

// waUser is an account as WebAuthn sees it.
type waUser struct {
	u     account.User
	creds []webauthn.Credential
}

// userHandle is the WebAuthn user handle of an account: its ID, which is
// opaque and never reused, as 8 bytes. No email, so that an authenticator
// listing its keys shows no personal data the user did not give it.
func userHandle(id int64) []byte { return binary.BigEndian.AppendUint64(nil, uint64(id)) }

func (w waUser) WebAuthnID() []byte                         { return userHandle(w.u.ID) }
func (w waUser) WebAuthnName() string                       { return w.u.Email }
func (w waUser) WebAuthnDisplayName() string                { return w.u.Name }
func (w waUser) WebAuthnCredentials() []webauthn.Credential { return w.creds }

func credentialOf(p twofactor.Passkey) webauthn.Credential {
	tr := make([]protocol.AuthenticatorTransport, len(p.Transports))
	for i, t := range p.Transports {
		tr[i] = protocol.AuthenticatorTransport(t)
	}
	return webauthn.Credential{
		ID: p.CredentialID, PublicKey: p.PublicKey, Transport: tr,
		Flags:         webauthn.CredentialFlags{UserPresent: true, BackupEligible: p.BackupEligible, BackupState: p.BackedUp},
		Authenticator: webauthn.Authenticator{SignCount: p.SignCount},
	}
}

// waUserOf loads the user's passkeys.
func (a *App) waUserOf(r *http.Request, u account.User) (waUser, []twofactor.Passkey, error) {
	keys, err := a.store.Passkeys(r.Context(), u.ID)
	if err != nil {
		return waUser{}, nil, err
	}
	wu := waUser{u: u}
	for _, p := range keys {
		wu.creds = append(wu.creds, credentialOf(p))
	}
	return wu, keys, nil
}

// ceremony is what the ceremony cookie carries.
type ceremony struct {
	Purpose string               `json:"p"`
	Session webauthn.SessionData `json:"s"`
	Expires int64                `json:"e"` // Unix seconds
}

func (a *App) ceremonyMAC(payload string) string {
	k := hmac.New(sha256.New, a.cfg.SecretKey)
	k.Write([]byte("latch webauthn ceremony v1"))
	m := hmac.New(sha256.New, k.Sum(nil))
	m.Write([]byte(payload))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// setCeremony keeps the session of a ceremony begun for purpose.
func (a *App) setCeremony(w http.ResponseWriter, purpose string, s *webauthn.SessionData) error {
	b, err := json.Marshal(ceremony{Purpose: purpose, Session: *s, Expires: a.now().Add(ceremonyLife).Unix()})
	if err != nil {
		return fmt.Errorf("keep passkey ceremony: %w", err)
	}
	payload := base64.RawURLEncoding.EncodeToString(b)
	// A session cookie: the expiry inside it is what counts, and the
	// browser forgets it when it closes.
	http.SetCookie(w, &http.Cookie{Name: ceremonyCookieName, Value: payload + "." + a.ceremonyMAC(payload), Path: "/",
		HttpOnly: true, Secure: a.cfg.SecureCookies, SameSite: http.SameSiteStrictMode})
	return nil
}

// takeCeremony returns the session of the ceremony begun for purpose, and
// clears it: each challenge is answered once.
func (a *App) takeCeremony(w http.ResponseWriter, r *http.Request, purpose string) (webauthn.SessionData, bool) {
	c, err := r.Cookie(ceremonyCookieName)
	if err != nil {
		return webauthn.SessionData{}, false
	}
	http.SetCookie(w, &http.Cookie{Name: ceremonyCookieName, Path: "/", MaxAge: -1, HttpOnly: true, Secure: a.cfg.SecureCookies, SameSite: http.SameSiteStrictMode})
	payload, mac, ok := strings.Cut(c.Value, ".")
	if !ok || len(c.Value) > 8192 || !hmac.Equal([]byte(mac), []byte(a.ceremonyMAC(payload))) {
		return webauthn.SessionData{}, false
	}
	b, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return webauthn.SessionData{}, false
	}
	var cer ceremony
	if json.Unmarshal(b, &cer) != nil || cer.Purpose != purpose || a.now().Unix() > cer.Expires {
		return webauthn.SessionData{}, false
	}
	return cer.Session, true
}

func (a *App) now() time.Time {
	if a.cfg.Now != nil {
		return a.cfg.Now()
	}
	return time.Now()
}

// writeJSON answers a script's request.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// jsonError answers a script's request with a message for the user.
func jsonError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

// jsonHandle turns a JSON endpoint's error into a JSON answer: its scripts
// show the message, never a page.
func (a *App) jsonHandle(h func(w http.ResponseWriter, r *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a.webauthn == nil {
			jsonError(w, http.StatusNotFound, "Passkeys are not available on this site.")
			return
		}
		if err := h(w, r); err != nil {
			a.log.Error("passkey request", "path", r.URL.Path, "error", err)
			jsonError(w, http.StatusServiceUnavailable, "The service is temporarily unavailable. Please try again in a few seconds.")
		}
	})
}

func (a *App) passkeyRoutes(route func(string, http.Handler)) {
	fresh := a.auth.RequireFreshWith
	deny := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		jsonError(w, http.StatusUnauthorized, "Please log in again, then try once more.")
	})
	route("POST /account/passkeys/begin", fresh(a.jsonHandle(a.beginPasskeyRegistration), deny))
	route("POST /account/passkeys/finish", fresh(a.jsonHandle(a.finishPasskeyRegistration), deny))
	route("POST /account/passkeys/rename", a.auth.RequireFresh(a.handle(a.renamePasskey)))
	route("POST /account/passkeys/delete", a.auth.RequireFresh(a.handle(a.deletePasskey)))
	route("POST /login/2fa/passkey/begin", a.jsonHandle(a.beginPasskeySecondStep))
	route("POST /login/2fa/passkey/finish", a.jsonHandle(a.finishPasskeySecondStep))
	route("POST /login/passkey/begin", a.jsonHandle(a.beginPasskeyLogin))
	route("POST /login/passkey/finish", a.jsonHandle(a.finishPasskeyLogin))
}

func (a *App) beginPasskeyRegistration(w http.ResponseWriter, r *http.Request) error {
	u := a.auth.Current(r).User
	wu, _, err := a.waUserOf(r, u)
	if err != nil {
		return err
	}
	exclude := make([]protocol.CredentialDescriptor, len(wu.creds))
	for i, c := range wu.creds {
		exclude[i] = c.Descriptor()
	}
	opts, session, err := a.webauthn.BeginRegistration(wu,
		webauthn.WithResidentKeyRequirement(protocol.ResidentKeyRequirementRequired),
		webauthn.WithAuthenticatorSelection(protocol.AuthenticatorSelection{
			ResidentKey: protocol.ResidentKeyRequirementRequired, RequireResidentKey: protocol.ResidentKeyRequired(),
			UserVerification: protocol.VerificationPreferred,
		}),
		webauthn.WithExclusions(exclude))
	if err != nil {
		return fmt.Errorf("begin passkey registration: %w", err)
	}
	if err := a.setCeremony(w, "register:"+strconv.FormatInt(u.ID, 10), session); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, opts)
	return nil
}

// passkeyName checks a name given to a passkey.
func passkeyName(s string) (string, bool) {
	s = strings.TrimSpace(s)
	n := len([]rune(s))
	return s, n >= 1 && n <= 60 && !strings.ContainsAny(s, "\x00\r\n")
}

func (a *App) finishPasskeyRegistration(w http.ResponseWriter, r *http.Request) error {
	u := a.auth.Current(r).User
	name, ok := passkeyName(r.URL.Query().Get("name"))
	if !ok {
		jsonError(w, http.StatusUnprocessableEntity, msgPasskeyName)
		return nil
	}
	session, ok := a.takeCeremony(w, r, "register:"+strconv.FormatInt(u.ID, 10))
	if !ok {
		jsonError(w, http.StatusBadRequest, msgPasskeyExpired)
		return nil
	}
	wu, _, err := a.waUserOf(r, u)
	if err != nil {
		return err
	}
	cred, err := a.webauthn.FinishRegistration(wu, session, r)
	if err != nil {
		a.log.Info("passkey registration refused", "user_id", u.ID, "error", err)
		jsonError(w, http.StatusBadRequest, msgPasskeyFailed)
		return nil
	}
	id := make([]byte, 12)
	rand.Read(id)
	p := twofactor.Passkey{ID: hex.EncodeToString(id), UserID: u.ID, CredentialID: cred.ID, PublicKey: cred.PublicKey,
		SignCount: cred.Authenticator.SignCount, BackupEligible: cred.Flags.BackupEligible, BackedUp: cred.Flags.BackupState,
		Name: name, CreatedAt: a.now()}
	for _, t := range cred.Transport {
		p.Transports = append(p.Transports, string(t))
	}
	if err := a.store.CreatePasskey(r.Context(), p); err != nil {
		return err
	}
	a.recordFactor(r, eventPasskeyAdded, u, latch.AuditFactorAdded, factorPasskey)
	a.notify(r.Context(), u, "A passkey was added to your account",
		fmt.Sprintf("A passkey named %q was added to your account: it now logs you in without a password, or as the second step after it. If it was not you, remove it on your account page and change your password at once.", name))
	a.flashes.set(w, flashCookie{Flashes: []flash{{Text: fmt.Sprintf(msgPasskeyAdded, name), Kind: "success"}}})
	writeJSON(w, http.StatusOK, map[string]string{"redirect": "/account/2fa"})
	return nil
}

func (a *App) renamePasskey(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	name, ok := passkeyName(r.PostForm.Get("name"))
	if !ok {
		return a.done(w, r, "/account/2fa", flash{Text: msgPasskeyName, Kind: "danger"})
	}
	found, err := a.store.RenamePasskey(r.Context(), a.userID(r), bounded(r.PostForm.Get("id"), 64), name)
	if err != nil {
		return err
	}
	if !found {
		return a.done(w, r, "/account/2fa", flash{Text: msgPasskeyUnknown, Kind: "warning"})
	}
	return a.done(w, r, "/account/2fa", flash{Text: msgPasskeyRenamed, Kind: "success"})
}

func (a *App) deletePasskey(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	u := a.auth.Current(r).User
	found, err := a.store.DeletePasskey(r.Context(), u.ID, bounded(r.PostForm.Get("id"), 64))
	if err != nil {
		return err
	}
	if !found {
		return a.done(w, r, "/account/2fa", flash{Text: msgPasskeyUnknown, Kind: "warning"})
	}
	a.recordFactor(r, eventPasskeyRemoved, u, latch.AuditFactorRemoved, factorPasskey)
	a.notify(r.Context(), u, "A passkey was removed from your account",
		"A passkey was removed from your account. If it was not you, change your password at once.")
	return a.done(w, r, "/account/2fa", flash{Text: msgPasskeyRemoved, Kind: "success"})
}

// passkeyUsed records a login with p and checks its signature counter: a
// counter that went back means a copy of the key exists, which is refused.
func (a *App) passkeyUsed(r *http.Request, userID int64, keys []twofactor.Passkey, cred *webauthn.Credential) (bool, error) {
	if cred.Authenticator.CloneWarning {
		return false, nil
	}
	for _, p := range keys {
		if bytes.Equal(p.CredentialID, cred.ID) {
			_, err := a.store.UsePasskey(r.Context(), userID, p.ID, cred.Authenticator.SignCount, cred.Flags.BackupState, a.now())
			return err == nil, err
		}
	}
	return false, nil
}

func (a *App) beginPasskeySecondStep(w http.ResponseWriter, r *http.Request) error {
	u, p, ok, err := a.pendingUser(r)
	if err != nil {
		return err
	}
	if !ok {
		jsonError(w, http.StatusUnauthorized, msgPendingExpired)
		return nil
	}
	wu, _, err := a.waUserOf(r, u)
	if err != nil {
		return err
	}
	if len(wu.creds) == 0 {
		jsonError(w, http.StatusBadRequest, "This account has no passkey.")
		return nil
	}
	opts, session, err := a.webauthn.BeginLogin(wu)
	if err != nil {
		return fmt.Errorf("begin passkey login: %w", err)
	}
	if err := a.setCeremony(w, "second:"+p.Nonce, session); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, opts)
	return nil
}

func (a *App) finishPasskeySecondStep(w http.ResponseWriter, r *http.Request) error {
	u, p, ok, err := a.pendingUser(r)
	if err != nil {
		return err
	}
	if !ok {
		jsonError(w, http.StatusUnauthorized, msgPendingExpired)
		return nil
	}
	session, ok := a.takeCeremony(w, r, "second:"+p.Nonce)
	if !ok {
		jsonError(w, http.StatusBadRequest, msgPasskeyExpired)
		return nil
	}
	wu, keys, err := a.waUserOf(r, u)
	if err != nil {
		return err
	}
	cred, err := a.webauthn.FinishLogin(wu, session, r)
	if err != nil {
		a.recordSecondStepFailure(r, u, latch.ReasonPasskeyRefused, outcomeFailure, slog.String("reason", "passkey refused"))
		jsonError(w, http.StatusBadRequest, msgPasskeyFailed)
		return nil
	}
	if ok, err := a.passkeyUsed(r, u.ID, keys, cred); err != nil {
		return err
	} else if !ok {
		a.recordSecondStepFailure(r, u, latch.ReasonPasskeyRefused, outcomeFailure, slog.String("reason", "passkey cloned or unknown"))
		jsonError(w, http.StatusBadRequest, msgPasskeyFailed)
		return nil
	}
	if err := a.auth.CompleteLogIn(w, r); errors.Is(err, latch.ErrNoPendingLogin) {
		jsonError(w, http.StatusUnauthorized, msgPendingExpired)
		return nil
	} else if err != nil {
		return err
	}
	if r.URL.Query().Get("trust") != "" {
		if err := a.trustBrowser(w, r, u.ID); err != nil {
			return err
		}
	}
	a.completedLogin(w, r, u, eventSecondStep, factorPasskey, slog.Bool("passkey", true))
	a.notify(r.Context(), u, "New login with your passkey",
		"Someone logged in to your account with your password and one of your passkeys. If it was not you, change your password at once.")
	next, _ := latch.SafeNext(r.URL.Query().Get("next"))
	writeJSON(w, http.StatusOK, map[string]string{"redirect": a.landing(u, next)})
	return nil
}

func (a *App) beginPasskeyLogin(w http.ResponseWriter, r *http.Request) error {
	mediation := protocol.MediationDefault
	if r.URL.Query().Get("mediation") == "conditional" {
		mediation = protocol.MediationConditional
	}
	opts, session, err := a.webauthn.BeginDiscoverableMediatedLogin(mediation, webauthn.WithUserVerification(protocol.VerificationRequired))
	if err != nil {
		return fmt.Errorf("begin passkey login: %w", err)
	}
	if err := a.setCeremony(w, "login", session); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, opts)
	return nil
}

func (a *App) finishPasskeyLogin(w http.ResponseWriter, r *http.Request) error {
	session, ok := a.takeCeremony(w, r, "login")
	if !ok {
		jsonError(w, http.StatusBadRequest, msgPasskeyExpired)
		return nil
	}
	var (
		found account.User
		keys  []twofactor.Passkey
	)
	handler := func(rawID, handle []byte) (webauthn.User, error) {
		if len(handle) != 8 {
			return nil, errors.New("unknown user handle")
		}
		id := int64(binary.BigEndian.Uint64(handle))
		u, err := a.loadUser(r.Context(), strconv.FormatInt(id, 10))
		if err != nil {
			return nil, err
		}
		wu, ks, err := a.waUserOf(r, u)
		if err != nil {
			return nil, err
		}
		found, keys = u, ks
		return wu, nil
	}
	_, cred, err := a.webauthn.FinishPasskeyLogin(handler, session, r)
	if err != nil {
		// The user handle is the client's word until the signature is
		// checked: the failure goes to no one's activity.
		a.record(r, slog.LevelWarn, eventLogin, outcomeFailure, latch.AuditEvent{Kind: latch.AuditLoginFailed, Reason: latch.ReasonPasskeyRefused}, slog.String("reason", "passkey refused"))
		jsonError(w, http.StatusBadRequest, msgPasskeyFailed)
		return nil
	}
	if ok, err := a.passkeyUsed(r, found.ID, keys, cred); err != nil {
		return err
	} else if !ok {
		a.record(r, slog.LevelWarn, eventLogin, outcomeFailure, latch.AuditEvent{UserID: userKey(found.ID), Kind: latch.AuditLoginFailed, Reason: latch.ReasonPasskeyRefused}, slog.String("reason", "passkey cloned or unknown"))
		jsonError(w, http.StatusBadRequest, msgPasskeyFailed)
		return nil
	}
	// A passkey checked with user verification is two factors in one
	// (the device, and the PIN or biometric that unlocks it): the login
	// is complete and fresh.
	id := strconv.FormatInt(found.ID, 10)
	if err := a.auth.LogIn(w, r, id, latch.LoginOptions{}); err != nil {
		return err
	}
	a.completedLogin(w, r, found, eventLogin, factorPasskeyOnly, slog.Bool("passkey", true))
	a.notify(r.Context(), found, "New login with your passkey",
		"Someone logged in to your account with one of your passkeys, without a password. If it was not you, remove that passkey on your account page.")
	next, _ := latch.SafeNext(r.URL.Query().Get("next"))
	writeJSON(w, http.StatusOK, map[string]string{"redirect": a.landing(found, next)})
	return nil
}
