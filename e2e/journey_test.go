package e2e_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/latchauth/latch/account"
)

const goodPassword = "correct horse battery"

// Messages the app shows, word for word.
const (
	msgCreated    = "Your account has been created. Please log in."
	msgTaken      = "Email address already exists. Go to login page."
	msgBadLogin   = "Please check your login details and try again."
	msgPleaseLog  = "Please log in to access this page."
	msgLoggedOut  = "You have been logged out."
	msgShortPass  = "Please choose a password of at least 8 characters."
	msgCommonPass = "This password is too common and easy to guess; please choose another."
	msgCrossSite  = "This form was sent from another site, so it was refused to protect your account. " +
		"Please go back, reload the page and submit the form again."
)

// Page titles, as in the browser tab.
const (
	titleHome    = "Latch Auth Example"
	titleSignUp  = "Sign Up · Latch Auth Example"
	titleLogin   = "Login · Latch Auth Example"
	titleProfile = "Profile · Latch Auth Example"
	titleLogout  = "Log out · Latch Auth Example"
)

// wantStatus fails the test unless a page loaded with the HTTP status want.
func wantStatus(t *testing.T, what string, got, want int64) {
	t.Helper()
	if got != want {
		t.Fatalf("%s: status %d; want %d", what, got, want)
	}
}

// signUp opens the sign-up page, fills in the form and sends it, and
// returns the status of the page that follows.
func signUp(tb *tab, email, name, pw string) int64 {
	tb.t.Helper()
	wantStatus(tb.t, "open sign-up", tb.open("/signup"), http.StatusOK)
	tb.typeInto("#email", email)
	tb.typeInto("#name", name)
	tb.typeInto("#password", pw)
	return tb.click(`main button[type="submit"]`)
}

// logIn fills in and sends the login form on the page shown, which must be
// the login page, ticking "Remember me" if asked to.
func logIn(tb *tab, email, pw string, remember bool) int64 {
	tb.t.Helper()
	tb.typeInto("#email", email)
	tb.typeInto("#password", pw)
	if remember {
		tb.do("tick Remember me", clickOn("#remember"))
	}
	return tb.click(`main button[type="submit"]`)
}

// TestSignUpLogInLogOut walks the tutorial's path: sign up, log in, see the
// profile, log out from the navbar, and find the profile closed again.
func TestSignUpLogInLogOut(t *testing.T) {
	b := newBrowser(t)
	s := newSite(t)
	tb := b.newTab(t, s.url)

	wantStatus(t, "open home", tb.open("/"), http.StatusOK)
	tb.expect(view{Path: "/", Title: titleHome, Heading: "Latch Login Example", Nav: navOut})

	wantStatus(t, "click Sign Up", tb.click(`nav a[href="/signup"]`), http.StatusOK)
	tb.expect(view{Path: "/signup", Title: titleSignUp, Heading: "Sign Up", Nav: navOut})
	tb.typeInto("#email", "ann@example.com")
	tb.typeInto("#name", "Ann")
	tb.typeInto("#password", goodPassword)
	wantStatus(t, "sign up", tb.click(`main button[type="submit"]`), http.StatusOK)
	tb.expect(view{Path: "/login", Title: titleLogin, Heading: "Login", Alerts: []string{msgCreated}, Nav: navOut})

	wantStatus(t, "log in", logIn(tb, "ann@example.com", goodPassword, false), http.StatusOK)
	tb.expect(view{Path: "/profile", Title: titleProfile, Heading: "Welcome, Ann!", Nav: navIn})
	wantStatus(t, "reload profile", tb.open("/profile"), http.StatusOK)
	tb.expect(view{Path: "/profile", Title: titleProfile, Heading: "Welcome, Ann!", Nav: navIn})

	wantStatus(t, "click Logout", tb.click(`nav button[type="submit"]`), http.StatusOK)
	tb.expect(view{Path: "/", Title: titleHome, Heading: "Latch Login Example", Alerts: []string{msgLoggedOut}, Nav: navOut})

	wantStatus(t, "open profile logged out", tb.open("/profile"), http.StatusOK)
	tb.expect(view{Path: "/login?next=%2Fprofile", Title: titleLogin, Heading: "Login", Alerts: []string{msgPleaseLog}, Nav: navOut})
	// Logging in from there leads back to the page asked for.
	wantFields(tb, map[string]string{`input[name="next"]`: "/profile"})
	wantStatus(t, "log in again", logIn(tb, "ann@example.com", goodPassword, false), http.StatusOK)
	tb.expect(view{Path: "/profile", Title: titleProfile, Heading: "Welcome, Ann!", Nav: navIn})
}

// TestSignUpMistakes makes the mistakes people make on the forms: an email
// that already has an account, a password the rules refuse, a wrong
// password at login. Each shows what went wrong and keeps what was typed,
// except the password.
func TestSignUpMistakes(t *testing.T) {
	b := newBrowser(t)
	s := newSite(t)
	tb := b.newTab(t, s.url)
	wantStatus(t, "sign up", signUp(tb, "ann@example.com", "Ann", goodPassword), http.StatusOK)

	// The same address again, in other letter case.
	wantStatus(t, "sign up again", signUp(tb, "ANN@example.com", "Annie", "another good password"), http.StatusOK)
	tb.expect(view{Path: "/signup", Title: titleSignUp, Heading: "Sign Up", Alerts: []string{msgTaken}, Nav: navOut})
	wantFields(tb, map[string]string{"#email": "ANN@example.com", "#name": "Annie", "#password": ""})
	tb.wantFocus("email") // the field to change
	if u, err := s.store.UserByEmail(context.Background(), "ann@example.com"); err != nil || u.Name != "Ann" {
		t.Errorf("account after a second sign-up = %q, %v; want the first one, Ann", u.Name, err)
	}
	// The message's link leads to the login page.
	wantStatus(t, "click the flash's link", tb.click(`[role="alert"] a[href="/login"]`), http.StatusOK)
	tb.expect(view{Path: "/login", Title: titleLogin, Heading: "Login", Nav: navOut})

	// Passwords the rules refuse: the page comes back with the reason
	// under the field, tied to it for screen readers.
	wantStatus(t, "sign up with a short password", signUp(tb, "bob@example.com", "Bob", "short"), http.StatusUnprocessableEntity)
	tb.expectFaults("a refused sign-up", httpErrorLogged(s.url+"/signup", http.StatusUnprocessableEntity))
	checkRefusal(tb, msgShortPass)
	// Fix it on the same page: first with a common password, then a good one.
	tb.typeInto("#password", "password123")
	wantStatus(t, "send a common password", tb.click(`main button[type="submit"]`), http.StatusUnprocessableEntity)
	tb.expectFaults("a refused sign-up", httpErrorLogged(s.url+"/signup", http.StatusUnprocessableEntity))
	checkRefusal(tb, msgCommonPass)
	if _, err := s.store.UserByEmail(context.Background(), "bob@example.com"); !errors.Is(err, account.ErrUserNotFound) {
		t.Errorf("UserByEmail(bob) after refused sign-ups: err = %v; want ErrUserNotFound", err)
	}
	tb.typeInto("#password", goodPassword)
	wantStatus(t, "send a good password", tb.click(`main button[type="submit"]`), http.StatusOK)
	tb.expect(view{Path: "/login", Title: titleLogin, Heading: "Login", Alerts: []string{msgCreated}, Nav: navOut})

	// A wrong password at login.
	wantStatus(t, "log in with a wrong password", logIn(tb, "bob@example.com", "not my password", false), http.StatusOK)
	tb.expect(view{Path: "/login", Title: titleLogin, Heading: "Login", Alerts: []string{msgBadLogin}, Nav: navOut})
	wantFields(tb, map[string]string{"#email": "bob@example.com", "#password": ""})
	tb.wantFocus("password") // the one field left to type
	// And the right one: the email is still there, so only the password is typed.
	tb.typeInto("#password", goodPassword)
	wantStatus(t, "log in", tb.click(`main button[type="submit"]`), http.StatusOK)
	tb.expect(view{Path: "/profile", Title: titleProfile, Heading: "Welcome, Bob!", Nav: navIn})
}

// checkRefusal checks the sign-up form shown again after the app refused
// the password with msg.
func checkRefusal(tb *tab, msg string) {
	tb.t.Helper()
	tb.expect(view{Path: "/signup", Title: titleSignUp, Heading: "Sign Up", Nav: navOut})
	wantFields(tb, map[string]string{"#email": "bob@example.com", "#name": "Bob", "#password": ""})
	tb.wantFocus("password") // where a screen reader reads out msg
	got := eval[map[string]string](tb, `(() => {
		const pw = document.querySelector("#password");
		const ids = (pw.getAttribute("aria-describedby") || "").split(" ");
		return {
			invalid: pw.getAttribute("aria-invalid") || "",
			described: ids.map((id) => document.getElementById(id)?.textContent.trim()).join(" | "),
		};
	})()`)
	want := map[string]string{"invalid": "true", "described": "At least 8 characters. | " + msg}
	if got["invalid"] != want["invalid"] || got["described"] != want["described"] {
		tb.t.Errorf("password field after refusal: aria-invalid %q, described by %q; want %q, %q",
			got["invalid"], got["described"], want["invalid"], want["described"])
	}
}

// wantFields fails the test unless each field holds the value given.
func wantFields(tb *tab, want map[string]string) {
	tb.t.Helper()
	for sel, w := range want {
		if got := tb.value(sel); got != w {
			tb.t.Errorf("value of %s = %q; want %q", sel, got, w)
		}
	}
}

// TestRememberMe quits the browser after logging in, keeping only the
// cookies a browser keeps across a restart: with "Remember me" ticked the
// profile opens again; without it the person is asked to log in.
func TestRememberMe(t *testing.T) {
	b := newBrowser(t)
	s := newSite(t)
	s.addUser(t, "ann@example.com", "Ann", goodPassword)

	profile := view{Path: "/profile", Title: titleProfile, Heading: "Welcome, Ann!", Nav: navIn}
	askedToLogIn := view{Path: "/login?next=%2Fprofile", Title: titleLogin, Heading: "Login", Alerts: []string{msgPleaseLog}, Nav: navOut}
	tests := []struct {
		name       string
		remember   bool
		persistent []string // names of the cookies that outlive the browser
		afterwards view
	}{
		// The device cookie outlives the browser either way: it keeps
		// the browser known to the login throttling, and logs nobody in.
		{"not remembered", false, []string{"latch_device"}, askedToLogIn},
		{"remembered", true, []string{"latch_device", "latch_remember"}, profile},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tb := b.newTab(t, s.url)
			wantStatus(t, "open login", tb.open("/login"), http.StatusOK)
			wantStatus(t, "log in", logIn(tb, "ann@example.com", goodPassword, tt.remember), http.StatusOK)
			tb.expect(profile)

			var persistent []string
			for _, c := range tb.cookies() {
				if !c.Session {
					persistent = append(persistent, c.Name)
				}
			}
			slices.Sort(persistent)
			if !slices.Equal(persistent, tt.persistent) {
				t.Errorf("persistent cookies = %q; want %q", persistent, tt.persistent)
			}

			tb = tb.restart()
			wantStatus(t, "open profile after restart", tb.open("/profile"), http.StatusOK)
			tb.expect(tt.afterwards)
			if !tt.remember {
				return
			}
			// Logging out ends the remembered login too.
			wantStatus(t, "click Logout", tb.click(`nav button[type="submit"]`), http.StatusOK)
			tb.expect(view{Path: "/", Title: titleHome, Heading: "Latch Login Example", Alerts: []string{msgLoggedOut}, Nav: navOut})
			tb = tb.restart()
			wantStatus(t, "open profile after logout and restart", tb.open("/profile"), http.StatusOK)
			tb.expect(askedToLogIn)
		})
	}
}

// TestLogoutPage uses the page at /logout, which asks before it logs out:
// opening it (say, from a link) must not log anyone out.
func TestLogoutPage(t *testing.T) {
	b := newBrowser(t)
	s := newSite(t)
	s.addUser(t, "ann@example.com", "Ann", goodPassword)
	tb := b.newTab(t, s.url)
	wantStatus(t, "open login", tb.open("/login"), http.StatusOK)
	wantStatus(t, "log in", logIn(tb, "ann@example.com", goodPassword, false), http.StatusOK)

	wantStatus(t, "open /logout", tb.open("/logout"), http.StatusOK)
	tb.expect(view{Path: "/logout", Title: titleLogout, Heading: "Log out", Nav: navIn})
	if got := run(tb, "read question", chromedp.Text(chromedp.CSS("main .box p"))); got != "Do you want to log out?" {
		t.Errorf("logout page asks %q; want %q", got, "Do you want to log out?")
	}
	wantStatus(t, "open profile", tb.open("/profile"), http.StatusOK)
	tb.expect(view{Path: "/profile", Title: titleProfile, Heading: "Welcome, Ann!", Nav: navIn})

	wantStatus(t, "open /logout again", tb.open("/logout"), http.StatusOK)
	wantStatus(t, "click Log out", tb.click(`main button[type="submit"]`), http.StatusOK)
	tb.expect(view{Path: "/", Title: titleHome, Heading: "Latch Login Example", Alerts: []string{msgLoggedOut}, Nav: navOut})
	// Logged out, the page has nothing to ask and sends the person home.
	wantStatus(t, "open /logout logged out", tb.open("/logout"), http.StatusOK)
	tb.expect(view{Path: "/", Title: titleHome, Heading: "Latch Login Example", Nav: navOut})
}
