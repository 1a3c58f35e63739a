package e2e_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/chromedp/chromedp"
)

// The navbar as an administrator sees it.
var navAdmin = []string{"Home", "Profile", "Account", "Admin", "Logout"}

// TestAdminConsole walks the administration console in a desktop window
// and on a phone: from the navbar to the list, a search, a user's page,
// disabling the user (who is logged out and cannot log in again) and
// enabling them, and the activity page where it is all recorded, checking
// the layout of each page and taking its screenshot (see
// LATCH_SCREENSHOTS_DIR).
func TestAdminConsole(t *testing.T) {
	b := newBrowser(t)
	for _, sz := range []struct {
		name          string
		width, height int64
		opts          []chromedp.EmulateViewportOption
	}{
		{"desktop", 1280, 800, nil},
		{"mobile", 375, 740, []chromedp.EmulateViewportOption{chromedp.EmulateMobile, chromedp.EmulateTouch}},
	} {
		t.Run(sz.name, func(t *testing.T) {
			s := newSite(t)
			s.addUser(t, "ann@example.com", "Ann", goodPassword)
			s.addUser(t, "bob@example.com", "Bob Builder", goodPassword)
			s.addUser(t, "carol@example.com", "Carol", goodPassword)
			if err := s.store.SetRole(context.Background(), 1, "admin", true); err != nil {
				t.Fatal(err)
			}
			bob := loggedIn(t, b, s, "bob@example.com", goodPassword, "Bob Builder")

			tb := b.newTab(t, s.url)
			tb.do("set the window size", chromedp.EmulateViewport(sz.width, sz.height, sz.opts...))
			page := func(name string, want view) {
				t.Helper()
				tb.expect(want)
				tb.checkLayout(sz.width)
				tb.screenshot(sz.name + "-" + name)
			}
			// A mistyped password first, for the activity page to show.
			wantStatus(t, "open login", tb.open("/login"), http.StatusOK)
			wantStatus(t, "log in wrongly", logIn(tb, "ann@example.com", "not my password", false), http.StatusOK)
			tb.clear("#email")
			wantStatus(t, "log in", logIn(tb, "ann@example.com", goodPassword, false), http.StatusOK)
			tb.expect(view{Path: "/profile", Title: titleProfile, Heading: "Welcome, Ann!", Nav: navAdmin})

			wantStatus(t, "click Admin", tb.click(`nav a[href="/admin/users"]`), http.StatusOK)
			page("admin-users", view{Path: "/admin/users", Title: "Users · Latch Auth Example", Heading: "Users", Nav: navAdmin})
			tb.typeInto("#q", "builder")
			wantStatus(t, "search", tb.click(`form[role="search"] button`), http.StatusOK)
			tb.expect(view{Path: "/admin/users?q=builder", Title: "Users · Latch Auth Example", Heading: "Users", Nav: navAdmin})
			if tb.has(`a[href="/admin/users/3"]`) || !tb.has(`a[href="/admin/users/2"]`) {
				t.Errorf("search for builder: want Bob alone")
			}
			wantStatus(t, "open Bob", tb.click(`a[href="/admin/users/2"]`), http.StatusOK)
			bobPage := view{Path: "/admin/users/2", Title: "bob@example.com · Latch Auth Example", Heading: "bob@example.com", Nav: navAdmin}
			page("admin-user", bobPage)

			wantStatus(t, "disable Bob", tb.click(`form[action="/admin/users/2/disable"] button`), http.StatusOK)
			disabled := bobPage
			disabled.Alerts = []string{"bob@example.com is disabled and logged out everywhere."}
			page("admin-user-disabled", disabled)
			wantStatus(t, "Bob reloads his profile", bob.open("/profile"), http.StatusOK)
			if got := bob.look().Path; got != "/login?next=%2Fprofile" {
				t.Errorf("disabled Bob at /profile: path %q; want the login page", got)
			}
			wantStatus(t, "Bob logs in again", logIn(bob, "bob@example.com", goodPassword, false), http.StatusOK)
			bob.expect(view{Path: "/login?next=%2Fprofile", Title: titleLogin, Heading: "Login", Alerts: []string{msgBadLogin}, Nav: navOut})

			wantStatus(t, "enable Bob", tb.click(`form[action="/admin/users/2/enable"] button`), http.StatusOK)
			enabled := bobPage
			enabled.Alerts = []string{"bob@example.com can log in again."}
			tb.expect(enabled)

			wantStatus(t, "open account", tb.click(`nav a[href="/account"]`), http.StatusOK)
			wantStatus(t, "click See account activity", tb.click(`a[href="/account/activity"]`), http.StatusOK)
			page("activity", view{Path: "/account/activity", Title: "Account activity · Latch Auth Example", Heading: "Account activity", Nav: navAdmin})
			if !tb.has(".activity-item.is-alarm") {
				t.Errorf("activity page: the failed sign-in is not marked")
			}
		})
	}
}
