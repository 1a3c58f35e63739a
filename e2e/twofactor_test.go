package e2e_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/latchauth/latch/internal/app"
	"github.com/latchauth/latch/twofactor"
)

const (
	titleTwoFactor = "Two-step sign-in · Latch Auth Example"
	msgTOTPEnabled = "Two-step sign-in is on. Keep your recovery codes somewhere safe: each works once, if you lose your phone."
	msgCodeWrong   = "That code is not correct. Check it and try again."
	subjTOTPOn     = "Two-step sign-in is on"
)

// TestTwoFactorPagesAtDesktopAndPhoneSize sets up an authenticator in the
// browser, computing its codes in Go from the key the page shows as text,
// then logs in with the password and a code, after a wrong one, in a
// desktop window and on a phone; it checks the layout of each page and
// takes its screenshot (see LATCH_SCREENSHOTS_DIR).
func TestTwoFactorPagesAtDesktopAndPhoneSize(t *testing.T) {
	b := newBrowser(t)
	s, in := newMailSite(t, app.Config{})
	sizes := []struct {
		name          string
		width, height int64
		opts          []chromedp.EmulateViewportOption
	}{
		{"desktop", 1280, 800, nil},
		{"mobile", 375, 740, []chromedp.EmulateViewportOption{chromedp.EmulateMobile, chromedp.EmulateTouch}},
	}
	for _, sz := range sizes {
		t.Run(sz.name, func(t *testing.T) {
			email := sz.name + "-2fa@example.com"
			s.addUser(t, email, "Ann", goodPassword)
			tb := loggedIn(t, b, s, email, goodPassword, "Ann")
			tb.do("set the window size", chromedp.EmulateViewport(sz.width, sz.height, sz.opts...))
			page := func(name string, want view) {
				t.Helper()
				tb.expect(want)
				tb.checkLayout(sz.width)
				tb.screenshot(sz.name + "-" + name)
			}

			wantStatus(t, "click Account", tb.click(`nav a[href="/account"]`), http.StatusOK)
			wantStatus(t, "click Set up two-step sign-in", tb.click(`main a[href="/account/2fa"]`), http.StatusOK)
			page("2fa-setup", view{Path: "/account/2fa", Title: titleTwoFactor, Heading: "Two-step sign-in", Nav: navIn})
			if !eval[bool](tb, `(() => { const i = document.querySelector(".qr img"); return i.complete && i.naturalWidth >= 200 })()`) {
				t.Errorf("the QR code is not shown")
			}
			key, ok := twofactor.ParseKey(tb.text("#secret"))
			if !ok {
				t.Fatalf("the key on the page, %q, is not base32", tb.text("#secret"))
			}
			tb.typeInto("#code", twofactor.Code(key.Secret, time.Now()))
			wantStatus(t, "turn on", tb.click(`form[action="/account/2fa"] button`), http.StatusOK)
			page("2fa-recovery-codes", view{Path: "/account/2fa", Title: titleTwoFactor, Heading: "Two-step sign-in", Alerts: []string{msgTOTPEnabled}, Nav: navIn})
			codes := eval[[]string](tb, `[...document.querySelectorAll(".recovery-codes code")].map(c => c.textContent)`)
			if len(codes) != 10 {
				t.Errorf("recovery codes shown: %q; want 10", codes)
			}
			if !tb.has(`a[download="recovery-codes.txt"]`) {
				t.Errorf("no download of the recovery codes")
			}
			in.await(email, subjTOTPOn)

			wantStatus(t, "click Logout", tb.click(`nav button[type="submit"]`), http.StatusOK)
			wantStatus(t, "open login", tb.open("/login"), http.StatusOK)
			wantStatus(t, "log in", logIn(tb, email, goodPassword, false), http.StatusOK)
			second := view{Path: "/login/2fa", Title: titleTwoFactor, Heading: "Two-step sign-in", Nav: navOut}
			page("2fa-code", second)
			tb.wantFocus("code")
			wantStatus(t, "open profile without the code", tb.open("/profile"), http.StatusOK)
			if got := tb.look().Path; !strings.HasPrefix(got, "/login") {
				t.Errorf("profile without the code: landed on %s; want the login page", got)
			}
			wantStatus(t, "back to the code", tb.open("/login/2fa"), http.StatusOK)
			tb.typeInto("#code", twofactor.Code(twofactor.NewKey().Secret, time.Now()))
			wantStatus(t, "wrong code", tb.click(`form[action="/login/2fa"] button[type="submit"]`), http.StatusUnprocessableEntity)
			tb.expectFaults("a wrong code", httpErrorLogged(s.url+"/login/2fa", http.StatusUnprocessableEntity))
			second.Path = "/login/2fa"
			page("2fa-code-error", second)
			tb.wantText("#code-error", msgCodeWrong)
			tb.wantFocus("code")
			// The enrolment spent this step's code: the next step's is
			// within the step of drift allowed.
			tb.typeInto("#code", twofactor.Code(key.Secret, time.Now().Add(twofactor.Period)))
			tb.do("tick trust", clickOn("#trust"))
			wantStatus(t, "right code", tb.click(`form[action="/login/2fa"] button[type="submit"]`), http.StatusOK)
			tb.expect(view{Path: "/profile", Title: titleProfile, Heading: "Welcome, Ann!", Nav: navIn})

			wantStatus(t, "open the 2fa page", tb.open("/account/2fa"), http.StatusOK)
			page("2fa-manage", view{Path: "/account/2fa", Title: titleTwoFactor, Heading: "Two-step sign-in", Nav: navIn})
			if n := eval[int](tb, `document.querySelectorAll(".device-label").length`); n != 1 {
				t.Errorf("remembered browsers listed: %d; want 1", n)
			}
		})
	}
}
