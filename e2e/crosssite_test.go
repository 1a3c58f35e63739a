package e2e_test

import (
	"context"
	"errors"
	"fmt"
	"html"
	"net/http"
	"strings"
	"testing"

	"github.com/latchauth/latch/account"
)

// TestCrossSiteFormsAreRefused has a logged-in person open a page on
// another site whose button posts a form to the app: to log them out, and
// to create an account. The app must refuse both with its 403 page.
func TestCrossSiteFormsAreRefused(t *testing.T) {
	b := newBrowser(t)
	s := newSite(t)
	form := func(action string, fields map[string]string) string {
		var sb strings.Builder
		fmt.Fprintf(&sb, `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Win a prize</title></head><body>`+
			`<form method="post" action="%s">`, html.EscapeString(s.url+action))
		for k, v := range fields {
			fmt.Fprintf(&sb, `<input type="hidden" name="%s" value="%s">`, html.EscapeString(k), html.EscapeString(v))
		}
		sb.WriteString(`<button id="claim">Claim your prize</button></form></body></html>`)
		return sb.String()
	}
	other := newOtherSite(t, map[string]string{
		"/logout": form("/logout", nil),
		"/signup": form("/signup", map[string]string{"email": "mallory@example.com", "name": "Mallory", "password": goodPassword}),
	})

	s.addUser(t, "ann@example.com", "Ann", goodPassword)
	tb := b.newTab(t, s.url)
	tb.allow(other)
	wantStatus(t, "open login", tb.open("/login"), http.StatusOK)
	wantStatus(t, "log in", logIn(tb, "ann@example.com", goodPassword, false), http.StatusOK)

	refused := view{Title: "Request refused · Latch Auth Example", Heading: "Request refused", Alerts: []string{msgCrossSite},
		// The refusal comes before the session is read, so the page
		// shows the navbar of a visitor who is not logged in.
		Nav: navOut}
	for _, path := range []string{"/logout", "/signup"} {
		wantStatus(t, "open the other site's page", tb.open(other+path), http.StatusOK)
		wantStatus(t, "click its button", tb.click("#claim"), http.StatusForbidden)
		want := refused
		want.Path = path
		tb.expect(want)
		tb.expectFaults("the refused form", httpErrorLogged(s.url+path, http.StatusForbidden))

		// Still logged in, and no account for the other site's visitor.
		wantStatus(t, "open profile", tb.open("/profile"), http.StatusOK)
		tb.expect(view{Path: "/profile", Title: titleProfile, Heading: "Welcome, Ann!", Nav: navIn})
		if _, err := s.store.UserByEmail(context.Background(), "mallory@example.com"); !errors.Is(err, account.ErrUserNotFound) {
			t.Errorf("UserByEmail(mallory) after a cross-site sign-up: err = %v; want ErrUserNotFound", err)
		}
	}
}
