package e2e_test

import (
	_ "embed"
	"fmt"
	"net/http"
	"testing"

	"github.com/chromedp/chromedp"
)

// layoutJS lists the faults in the layout of a page.
//
//go:embed testdata/layout.js
var layoutJS string

// checkLayout fails the test on a fault in the page's layout in a window
// width CSS pixels wide; see testdata/layout.js.
func (tb *tab) checkLayout(width int64) {
	tb.t.Helper()
	faults := eval[[]string](tb, fmt.Sprintf("(%s)(%d)", layoutJS, width))
	if len(faults) == 0 {
		return
	}
	path := eval[string](tb, "location.pathname")
	for _, f := range faults {
		tb.t.Errorf("page %s: %s", path, f)
	}
}

// TestPagesAtDesktopAndPhoneSize goes through every page in a desktop
// window and on a phone, moving between pages with the navbar, checks the
// layout of each and takes its screenshot (see LATCH_SCREENSHOTS_DIR).
func TestPagesAtDesktopAndPhoneSize(t *testing.T) {
	b := newBrowser(t)
	s := newSite(t)
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
			tb := b.newTab(t, s.url)
			tb.do("set the window size", chromedp.EmulateViewport(sz.width, sz.height, sz.opts...))
			email := sz.name + "@example.com"
			page := func(name string, want view) {
				t.Helper()
				tb.expect(want)
				tb.checkLayout(sz.width)
				tb.screenshot(sz.name + "-" + name)
			}

			wantStatus(t, "open home", tb.open("/"), http.StatusOK)
			page("home", view{Path: "/", Title: titleHome, Heading: "Latch Login Example", Nav: navOut})

			wantStatus(t, "click Sign Up", tb.click(`nav a[href="/signup"]`), http.StatusOK)
			page("signup", view{Path: "/signup", Title: titleSignUp, Heading: "Sign Up", Nav: navOut})

			tb.typeInto("#email", email)
			tb.typeInto("#name", "Ann")
			tb.typeInto("#password", "short")
			wantStatus(t, "sign up with a short password", tb.click(`main button[type="submit"]`), http.StatusUnprocessableEntity)
			tb.expectFaults("a refused sign-up", httpErrorLogged(s.url+"/signup", http.StatusUnprocessableEntity))
			page("signup-error", view{Path: "/signup", Title: titleSignUp, Heading: "Sign Up", Nav: navOut})

			tb.typeInto("#password", goodPassword)
			wantStatus(t, "sign up", tb.click(`main button[type="submit"]`), http.StatusOK)
			page("login-flash", view{Path: "/login", Title: titleLogin, Heading: "Login", Alerts: []string{msgCreated}, Nav: navOut})

			wantStatus(t, "click Login", tb.click(`nav a[href="/login"]`), http.StatusOK)
			page("login", view{Path: "/login", Title: titleLogin, Heading: "Login", Nav: navOut})

			wantStatus(t, "log in", logIn(tb, email, goodPassword, false), http.StatusOK)
			page("profile", view{Path: "/profile", Title: titleProfile, Heading: "Welcome, Ann!", Nav: navIn})

			wantStatus(t, "click Home", tb.click(`nav a[href="/"]`), http.StatusOK)
			tb.expect(view{Path: "/", Title: titleHome, Heading: "Latch Login Example", Nav: navIn})
			wantStatus(t, "click Profile", tb.click(`nav a[href="/profile"]`), http.StatusOK)
			tb.expect(view{Path: "/profile", Title: titleProfile, Heading: "Welcome, Ann!", Nav: navIn})

			wantStatus(t, "open /logout", tb.open("/logout"), http.StatusOK)
			page("logout", view{Path: "/logout", Title: titleLogout, Heading: "Log out", Nav: navIn})

			wantStatus(t, "click Logout in the navbar", tb.click(`nav button[type="submit"]`), http.StatusOK)
			tb.expect(view{Path: "/", Title: titleHome, Heading: "Latch Login Example", Alerts: []string{msgLoggedOut}, Nav: navOut})
			tb.checkLayout(sz.width)
		})
	}
}
