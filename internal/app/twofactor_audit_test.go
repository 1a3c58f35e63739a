package app_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/latchauth/latch"
	"github.com/latchauth/latch/twofactor"
)

// newDeviceAlerts counts the new-device alerts mailed to addr.
func (s *tfSite) newDeviceAlerts(addr string) int {
	s.t.Helper()
	s.app.Wait()
	n := 0
	for _, m := range s.mail.to(addr) {
		if strings.Contains(m.Subject, "New sign-in") {
			n++
		}
	}
	return n
}

// eventsOf returns user's audit events, newest first.
func (s *tfSite) eventsOf(user string) []latch.AuditEvent {
	s.t.Helper()
	events, err := s.store.AuditEvents(s.tt.Context(), user, 0, 50)
	if err != nil {
		s.t.Fatal(err)
	}
	return events
}

// logins counts user's logins in the audit log.
func (s *tfSite) logins(user string) int {
	s.t.Helper()
	n := 0
	for _, e := range s.eventsOf(user) {
		if e.Kind == latch.AuditLogin {
			n++
		}
	}
	return n
}

// TestSecondStepCompletesTheLogin checks that a login owing a second step
// is recorded and alerted on when the step is done, not at the password: a
// wrong code is a failed login in the user's activity, the right one the
// login, with the factor it took, and a new browser's alert is mailed
// then, once.
func TestSecondStepCompletesTheLogin(t *testing.T) {
	s := newTFSite(t, nil)
	b := s.loggedIn("ann@example.com", false)
	k, codes := s.enrol(b)

	loginsBefore := s.logins("1")
	x := s.browser()
	x.headers["X-Forwarded-For"] = "203.0.113.7"
	x.headers["User-Agent"] = firefoxWindows
	if r := x.login("ann@example.com", goodPassword, false); r.header.Get("Location") != "/login/2fa" {
		t.Fatalf("login = %d to %q; want 303 to /login/2fa", r.status, r.header.Get("Location"))
	}
	if n := s.newDeviceAlerts("ann@example.com"); n != 0 {
		t.Errorf("alerts after the password, before the second step = %d; want 0", n)
	}
	if n := s.logins("1"); n != loginsBefore {
		t.Errorf("logins recorded after the password alone = %d; want %d, none new before the second step", n, loginsBefore)
	}

	if r := x.post("/login/2fa", url.Values{"code": {"000000"}}); r.status != http.StatusUnprocessableEntity {
		t.Fatalf("POST /login/2fa with a wrong code = %d; want 422", r.status)
	}
	if e := s.eventsOf("1")[0]; e.Kind != latch.AuditLoginFailed || e.Reason != latch.ReasonWrongCode || e.IP != "203.0.113.7" {
		t.Errorf("newest event after a wrong code = %+v; want a failed login, wrong_code, from 203.0.113.7", e)
	}

	r := x.post("/login/2fa", url.Values{"code": {twofactor.Code(k.Secret, s.clock.Now())}})
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/profile" {
		t.Fatalf("POST /login/2fa with the right code = %d to %q; want 303 to /profile", r.status, r.header.Get("Location"))
	}
	e := s.eventsOf("1")[0]
	if e.Kind != latch.AuditLogin || e.Reason != "authenticator" || e.SessionID == "" || e.Device != "Firefox on Windows" {
		t.Errorf("newest event after the right code = %+v; want the login with the authenticator, its session and device", e)
	}
	m := s.mailTo("ann@example.com", "New sign-in")
	mustContain(t, "alert", m.Text, "Firefox on Windows", "203.0.113.7")
	if n := s.newDeviceAlerts("ann@example.com"); n != 1 {
		t.Errorf("alerts after the second step = %d; want 1", n)
	}
	mustContain(t, "activity", x.get("/account/activity").body,
		"Signed in with a code from the authenticator app from Firefox on Windows",
		"Failed sign-in: right password, wrong code",
		"Two-step sign-in turned on with an authenticator app")

	// The browser is known now: the next login, with a recovery code,
	// alerts no one.
	x.post("/logout", url.Values{})
	x.login("ann@example.com", goodPassword, false)
	if r := x.post("/login/2fa", url.Values{"code": {codes[0]}}); r.status != http.StatusSeeOther {
		t.Fatalf("POST /login/2fa with a recovery code = %d; want 303", r.status)
	}
	if e := s.eventsOf("1")[0]; e.Kind != latch.AuditLogin || e.Reason != "recovery_code" {
		t.Errorf("newest event after a recovery code = %+v; want the login with a recovery code", e)
	}
	if n := s.newDeviceAlerts("ann@example.com"); n != 1 {
		t.Errorf("alerts after a second login from the same browser = %d; want still 1", n)
	}

	// Turning it off is in the activity too.
	if r := x.post("/account/2fa/disable", url.Values{}); r.status != http.StatusSeeOther {
		t.Fatalf("POST /account/2fa/disable = %d; want 303", r.status)
	}
	if e := s.eventsOf("1")[0]; e.Kind != latch.AuditFactorRemoved || e.Reason != "two_step" {
		t.Errorf("newest event after turning two-step sign-in off = %+v; want a factor removed", e)
	}
	mustContain(t, "activity", x.get("/account/activity").body, "Two-step sign-in turned off")
}

// TestDisabledRefusedBeforeSecondStep checks that a disabled account with
// a second factor gets the wrong-password answer at the password, with no
// partial login, and that an account disabled while its second step is
// pending cannot finish it.
func TestDisabledRefusedBeforeSecondStep(t *testing.T) {
	s := newTFSite(t, nil)
	b := s.loggedIn("ann@example.com", false)
	k, _ := s.enrol(b)
	pending := s.partial("ann@example.com", false)
	if err := s.store.SetDisabled(t.Context(), 1, s.clock.Now()); err != nil {
		t.Fatal(err)
	}

	x := s.browser()
	r := x.login("ann@example.com", goodPassword, false)
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/login" {
		t.Fatalf("login of a disabled account = %d to %q; want 303 to /login", r.status, r.header.Get("Location"))
	}
	if r := x.get("/login/2fa"); r.status != http.StatusSeeOther || r.header.Get("Location") != "/login" {
		t.Errorf("GET /login/2fa after a disabled account's login = %d to %q; want 303 to /login", r.status, r.header.Get("Location"))
	}
	if e := s.eventsOf("1")[0]; e.Kind != latch.AuditLoginFailed || e.Reason != latch.ReasonDisabled {
		t.Errorf("newest event = %+v; want a login refused as disabled", e)
	}

	r = pending.post("/login/2fa", url.Values{"code": {twofactor.Code(k.Secret, s.clock.Now())}})
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/login" {
		t.Errorf("second step of an account disabled meanwhile = %d to %q; want 303 to /login", r.status, r.header.Get("Location"))
	}
	if r := pending.get("/profile"); r.status != http.StatusSeeOther {
		t.Errorf("GET /profile after that = %d; want 303 to login", r.status)
	}
	for _, e := range s.eventsOf("1") {
		if e.Kind == latch.AuditLogin && e.Reason != "" {
			t.Errorf("event %+v: a disabled account completed a second step", e)
		}
	}
}
