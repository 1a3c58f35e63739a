package app_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/latchauth/latch"
)

const firefoxWindows = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"

func TestActivityPage(t *testing.T) {
	s := newSite(t)
	b := s.browser()
	b.signup("ann@example.com", "Ann", goodPassword)

	// A stranger guesses the password from another address and browser.
	x := s.browser()
	x.headers["X-Forwarded-For"] = "203.0.113.7"
	x.headers["User-Agent"] = firefoxWindows
	x.login("ann@example.com", "wrong password!", false)
	// A guess at an address with no account is kept for nobody.
	x.login("nobody-here@example.com", "wrong password!", false)

	b.login("ann@example.com", goodPassword, true)
	b.restart().get("/profile") // restored by remember me

	if r := s.browser().get("/account/activity"); r.status != 303 {
		t.Errorf("anonymous GET /account/activity = %d; want 303 to login", r.status)
	}
	r := b.get("/account/activity")
	if r.status != 200 {
		t.Fatalf("GET /account/activity = %d; want 200", r.status)
	}
	mustContain(t, "activity", r.body,
		"Failed sign-in from Firefox on Windows, 203.0.113.7, just now",
		"Account created", "Signed in from Go program", "Signed in again by &#34;remember me&#34;",
		`href="/profile"`, `href="/account#password-title"`)
	// Newest first: the last login before the failure before the sign-up.
	login, failed, created := strings.Index(r.body, "Signed in from"), strings.Index(r.body, "Failed sign-in"), strings.Index(r.body, "Account created")
	if !(login < failed && failed < created) {
		t.Errorf("activity order: login at %d, failure at %d, sign-up at %d; want newest first", login, failed, created)
	}
	mustNotContain(t, "activity", r.body, "nobody-here")
	mustContain(t, "account page", b.get("/account").body, `href="/account/activity"`)

	// Another user sees none of it.
	c := s.browser()
	c.signup("bob@example.com", "Bob", goodPassword)
	c.login("bob@example.com", goodPassword, false)
	mustNotContain(t, "bob's activity", c.get("/account/activity").body, "Failed sign-in", "203.0.113.7")

	// The guess at an unknown address is stored without a user, and
	// without the address anywhere.
	events, err := s.store.AuditEvents(t.Context(), "", 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 1 || events[0].Kind != latch.AuditLoginFailed || events[0].Reason != latch.ReasonWrongPassword {
		t.Errorf("events of no user = %+v; want one failed login", events)
	}
	if got := fmt.Sprintf("%+v", events); strings.Contains(got, "nobody") {
		t.Errorf("event of an unknown email = %s; holds the address", got)
	}
}

func TestActivityPages(t *testing.T) {
	s := newSite(t)
	b := s.browser()
	b.signup("ann@example.com", "Ann", goodPassword)
	for range 30 {
		b.login("ann@example.com", goodPassword, false)
	}
	r := b.get("/account/activity")
	if n := strings.Count(r.body, "activity-item"); n != 25 {
		t.Errorf("first page lists %d events; want 25", n)
	}
	older := between(r.body, `href="/account/activity?before=`, `"`)
	if older == "" {
		t.Fatalf("first page has no link to older events")
	}
	r = b.get("/account/activity?before=" + older)
	if n := strings.Count(r.body, "activity-item"); n != 6 { // 5 logins and the sign-up
		t.Errorf("second page lists %d events; want 6", n)
	}
	mustContain(t, "second page", r.body, "Account created", `href="/account/activity"`)
	mustNotContain(t, "second page", r.body, "?before=")
	for _, bad := range []string{"x", "-1", "0", "99999999999999999999999", url.QueryEscape("1 OR 1=1")} {
		if got := b.get("/account/activity?before=" + bad); got.status != 400 {
			t.Errorf("GET /account/activity?before=%s = %d; want 400", bad, got.status)
		}
	}
}

// between returns what lies in s after the first from, up to to.
func between(s, from, to string) string {
	i := strings.Index(s, from)
	if i < 0 {
		return ""
	}
	s = s[i+len(from):]
	j := strings.Index(s, to)
	if j < 0 {
		return ""
	}
	return s[:j]
}

func TestActivityRecordsChanges(t *testing.T) {
	s := newSite(t)
	b := s.browser()
	b.signup("ann@example.com", "Ann", goodPassword)
	other := s.browser()
	other.login("ann@example.com", goodPassword, false)
	other.post("/logout", url.Values{})
	b.login("ann@example.com", goodPassword, false)
	s.browser().login("ann@example.com", goodPassword, false)
	b.post("/sessions/revoke-others", url.Values{})
	newPassword := goodPassword + "-2"
	if r := b.post("/account/password", url.Values{"current": {goodPassword}, "password": {newPassword}, "confirm": {newPassword}}); r.status != 303 {
		t.Fatalf("change password = %d; want 303", r.status)
	}
	r := b.get("/account/activity")
	mustContain(t, "activity", r.body, "Signed out", "Logged out of every other device", "Password changed")
	mustContain(t, "logs", s.logs.String(), "event=logout", "event=password_change")
}

func TestNewDeviceAlert(t *testing.T) {
	s := newMailSite(t, nil)
	countAlerts := func() int {
		s.app.Wait()
		n := 0
		for _, m := range s.mail.to("ann@example.com") {
			if strings.Contains(m.Subject, "New sign-in") {
				n++
			}
		}
		return n
	}
	b := s.browser()
	b.signup("ann@example.com", "Ann", goodPassword)
	b.login("ann@example.com", goodPassword, false)
	if n := countAlerts(); n != 0 {
		t.Errorf("first login after sign-up: %d alerts; want none", n)
	}
	b.post("/logout", url.Values{})
	b.login("ann@example.com", goodPassword, false)
	if n := countAlerts(); n != 0 {
		t.Errorf("login again from the same browser: %d alerts; want none", n)
	}
	x := s.browser()
	x.headers["X-Forwarded-For"] = "203.0.113.7"
	x.headers["User-Agent"] = firefoxWindows
	x.login("ann@example.com", goodPassword, false)
	m := s.mailTo("ann@example.com", "New sign-in")
	mustContain(t, "alert", m.Text, "Firefox on Windows", "203.0.113.7", "UTC")
	if link := s.linkIn(m, "/account/activity"); link == "" {
		t.Errorf("alert has no link to the activity page: %q", m.Text)
	}
	if n := countAlerts(); n != 1 {
		t.Errorf("alerts after a new device = %d; want 1", n)
	}
	// That browser is known from now on.
	x.post("/logout", url.Values{})
	x.login("ann@example.com", goodPassword, false)
	if n := countAlerts(); n != 1 {
		t.Errorf("alerts after the same new browser again = %d; want 1", n)
	}
	// Browsers that keep no cookies, such as private windows or a
	// script, are alerted on once a day per kind of browser and address,
	// not at every login.
	for i := range 3 {
		y := s.browser()
		y.headers["X-Forwarded-For"] = "198.51.100.9"
		y.headers["User-Agent"] = firefoxWindows
		y.login("ann@example.com", goodPassword, false)
		if n := countAlerts(); n != 2 {
			t.Errorf("alerts after login %d from a browser without cookies = %d; want 2", i+1, n)
		}
	}
	z := s.browser()
	z.headers["X-Forwarded-For"] = "198.51.100.10"
	z.headers["User-Agent"] = firefoxWindows
	z.login("ann@example.com", goodPassword, false)
	if n := countAlerts(); n != 3 {
		t.Errorf("alerts after a login from another address = %d; want 3", n)
	}
}
