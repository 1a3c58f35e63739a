package e2e_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"
	"github.com/latchauth/latch/account"
	"github.com/latchauth/latch/internal/app"
	"github.com/latchauth/latch/internal/apptest"
	"github.com/latchauth/latch/throttle"
)

// newPasskeySite serves the app at http://localhost:PORT, its base URL:
// WebAuthn binds keys to a domain name, never to an IP address.
func newPasskeySite(t *testing.T) *site {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	base := "http://localhost:" + port
	built := apptest.New(t, nil, app.Config{BaseURL: base})
	srv.Config.Handler = built.App.Handler()
	srv.Start()
	t.Cleanup(func() {
		srv.Close()
		if t.Failed() {
			t.Logf("app log:\n%s", built.Logs.String())
		}
	})
	return &site{url: base, store: built.Store, accounts: account.NewService(built.Store, built.Hasher, throttle.NewPolicy(built.Store))}
}

// addAuthenticator gives the tab a platform authenticator, as a laptop's
// fingerprint reader: CTAP2, resident keys, user verification that
// succeeds, presence confirmed at once.
func (tb *tab) addAuthenticator() webauthn.AuthenticatorID {
	tb.t.Helper()
	run(tb, "enable WebAuthn", func(ctx context.Context, t *chromedp.Target) (cdp.Empty, error) {
		return cdp.Call(ctx, t, webauthn.Enable, webauthn.EnableParams{})
	})
	res := run(tb, "add a virtual authenticator", func(ctx context.Context, t *chromedp.Target) (webauthn.AddVirtualAuthenticatorResult, error) {
		return cdp.Call(ctx, t, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{Options: &webauthn.VirtualAuthenticatorOptions{
			Protocol: webauthn.AuthenticatorProtocolCtap2, Ctap2version: webauthn.Ctap2versionCtap21,
			Transport: webauthn.AuthenticatorTransportInternal, HasResidentKey: true, HasUserVerification: true,
			IsUserVerified: true, AutomaticPresenceSimulation: true,
		}})
	})
	return res.AuthenticatorID
}

// presence makes the authenticator confirm the user's presence at once,
// or never: a page that asks for a passkey as it loads (the login page's
// autofill) then waits instead of logging in.
func (tb *tab) presence(id webauthn.AuthenticatorID, on bool) {
	tb.t.Helper()
	run(tb, "set presence", func(ctx context.Context, t *chromedp.Target) (cdp.Empty, error) {
		return cdp.Call(ctx, t, webauthn.SetAutomaticPresenceSimulation, webauthn.SetAutomaticPresenceSimulationParams{AuthenticatorID: id, Enabled: on})
	})
}

// waitPath waits, within a step's time, for the page at path, loaded by a
// script rather than a click.
func (tb *tab) waitPath(path string) {
	tb.t.Helper()
	check := fmt.Sprintf("location.pathname === %q && document.readyState === \"complete\"", path)
	// The page navigates while it is asked: a question that meets the
	// old page fails, and is asked again of the new one.
	for end := time.Now().Add(stepTimeout); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		ctx, cancel := context.WithTimeout(tb.ctx, time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](check))
		cancel()
		if err == nil && ok {
			return
		}
	}
	tb.t.Fatalf("the page did not reach %s within %v; it is at %s", path, stepTimeout, tb.look().Path)
}

// credentials returns the keys the tab's authenticator holds.
func (tb *tab) credentials(id webauthn.AuthenticatorID) []*webauthn.Credential {
	tb.t.Helper()
	res := run(tb, "list the authenticator's keys", func(ctx context.Context, t *chromedp.Target) (webauthn.GetCredentialsResult, error) {
		return cdp.Call(ctx, t, webauthn.GetCredentials, webauthn.GetCredentialsParams{AuthenticatorID: id})
	})
	return res.Credentials
}

// TestPasskeys registers a passkey in Chromium's virtual authenticator,
// uses it as the second step after the password and to log in without a
// password, renames it, and removes it, after which it logs nobody in.
func TestPasskeys(t *testing.T) {
	b := newBrowser(t)
	s := newPasskeySite(t)
	s.addUser(t, "ann@example.com", "Ann", goodPassword)
	tb := b.newTab(t, s.url)
	tb.do("set the window size", chromedp.EmulateViewport(1280, 800))
	auth := tb.addAuthenticator()
	// shoot checks the page's layout and takes its screenshot in a
	// desktop window and on a phone.
	shoot := func(name string) {
		t.Helper()
		tb.checkLayout(1280)
		tb.screenshot("desktop-" + name)
		tb.do("phone size", chromedp.EmulateViewport(375, 740, chromedp.EmulateMobile, chromedp.EmulateTouch))
		tb.checkLayout(375)
		tb.screenshot("mobile-" + name)
		tb.do("desktop size", chromedp.EmulateViewport(1280, 800))
	}
	wantStatus(t, "open login", tb.open("/login"), http.StatusOK)
	wantStatus(t, "log in", logIn(tb, "ann@example.com", goodPassword, false), http.StatusOK)
	tb.expect(view{Path: "/profile", Title: titleProfile, Heading: "Welcome, Ann!", Nav: navIn})

	wantStatus(t, "open the 2fa page", tb.open("/account/2fa"), http.StatusOK)
	tb.typeInto("#passkey-name", "Laptop")
	wantStatus(t, "add a passkey", tb.click(`#passkey-register button[type="submit"]`), http.StatusOK)
	tb.expect(view{Path: "/account/2fa", Title: titleTwoFactor, Heading: "Two-step sign-in", Alerts: []string{`Your passkey "Laptop" is added.`}, Nav: navIn})
	shoot("2fa-passkeys")
	if keys := tb.credentials(auth); len(keys) != 1 || !keys[0].IsResidentCredential {
		t.Fatalf("the authenticator holds %d keys; want 1 resident key", len(keys))
	}
	if got := tb.value(".passkeys input[name=name]"); got != "Laptop" {
		t.Errorf("passkey listed as %q; want Laptop", got)
	}

	// The second step, with the passkey. The login page offers the
	// passkey in the email field's autofill as it loads; without the
	// user's presence it waits, and the password is typed instead.
	wantStatus(t, "click Logout", tb.click(`nav button[type="submit"]`), http.StatusOK)
	tb.presence(auth, false)
	wantStatus(t, "open login", tb.open("/login"), http.StatusOK)
	shoot("login-passkey")
	wantStatus(t, "log in with the password", logIn(tb, "ann@example.com", goodPassword, false), http.StatusOK)
	tb.expect(view{Path: "/login/2fa", Title: titleTwoFactor, Heading: "Two-step sign-in", Nav: navOut})
	shoot("2fa-code-passkey")
	if r := tb.open("/profile"); r != http.StatusOK || tb.look().Path == "/profile" {
		t.Fatalf("the profile opened before the second step")
	}
	wantStatus(t, "back to the second step", tb.open("/login/2fa"), http.StatusOK)
	tb.presence(auth, true)
	tb.do("tick trust", clickOn("#trust"))
	wantStatus(t, "use the passkey", tb.click("#passkey-second"), http.StatusOK)
	tb.expect(view{Path: "/profile", Title: titleProfile, Heading: "Welcome, Ann!", Nav: navIn})
	trusted := false
	for _, c := range tb.cookies() {
		trusted = trusted || c.Name == "latch_trusted" && c.HTTPOnly && !c.Session
	}
	if !trusted {
		t.Errorf("\"Don't ask again\" with a passkey set no trusted-browser cookie")
	}

	// Without a password, from the button.
	wantStatus(t, "click Logout", tb.click(`nav button[type="submit"]`), http.StatusOK)
	tb.presence(auth, false)
	wantStatus(t, "open login", tb.open("/login"), http.StatusOK)
	tb.do("click Log in with a passkey", clickOn("#passkey-login"))
	tb.presence(auth, true)
	tb.waitPath("/profile")
	tb.expect(view{Path: "/profile", Title: titleProfile, Heading: "Welcome, Ann!", Nav: navIn})

	// Without a password, from the autofill, which Chromium's virtual
	// authenticator answers as the page loads.
	wantStatus(t, "click Logout", tb.click(`nav button[type="submit"]`), http.StatusOK)
	wantStatus(t, "open login", tb.open("/login"), http.StatusOK)
	tb.waitPath("/profile")
	tb.expect(view{Path: "/profile", Title: titleProfile, Heading: "Welcome, Ann!", Nav: navIn})

	// Renamed, then removed: it no longer logs in.
	wantStatus(t, "open the 2fa page", tb.open("/account/2fa"), http.StatusOK)
	tb.clear(".passkeys input[name=name]")
	tb.typeInto(".passkeys input[name=name]", "Work laptop")
	wantStatus(t, "rename", tb.click(".passkeys form.rename button"), http.StatusOK)
	if got := tb.value(".passkeys input[name=name]"); got != "Work laptop" {
		t.Errorf("passkey renamed to %q; want Work laptop", got)
	}
	wantStatus(t, "remove", tb.click(`.passkeys form[action="/account/passkeys/delete"] button`), http.StatusOK)
	tb.expect(view{Path: "/account/2fa", Title: titleTwoFactor, Heading: "Two-step sign-in", Alerts: []string{"Your passkey is removed."}, Nav: navIn})
	if tb.has(".passkeys") {
		t.Errorf("a removed passkey is still listed")
	}
	wantStatus(t, "click Logout", tb.click(`nav button[type="submit"]`), http.StatusOK)
	tb.presence(auth, false)
	wantStatus(t, "open login", tb.open("/login"), http.StatusOK)
	tb.do("click Log in with a passkey", clickOn("#passkey-login"))
	tb.presence(auth, true)
	tb.do("wait for the refusal", chromedp.WaitVisible(chromedp.CSS("#passkey-error")))
	tb.wantText("#passkey-error", "That passkey was not accepted. Try again, or use another way to log in.")
	tb.expectFaults("a refused passkey", httpErrorLogged(s.url+"/login/passkey/finish", http.StatusBadRequest))
	if p := tb.look().Path; p != "/login" {
		t.Errorf("after a removed passkey: on %s; want /login", p)
	}
}
