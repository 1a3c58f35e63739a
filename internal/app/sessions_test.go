package app_test

import (
	"net/url"
	"regexp"
	"strings"
	"testing"
)

var revokeIDRe = regexp.MustCompile(`<input type="hidden" name="id" value="([0-9a-f]+)">`)

func TestSessionsListAndRevoke(t *testing.T) {
	s := newSite(t)
	laptop, phone, tablet := s.browser(), s.browser(), s.browser()
	laptop.signup("ann@example.com", "Ann", goodPassword)
	laptop.headers["User-Agent"] = "Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0 Safari/537.36"
	phone.headers["User-Agent"] = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Safari/604.1"
	laptop.login("ann@example.com", goodPassword, true)
	phone.login("ann@example.com", goodPassword, false)
	tablet.login("ann@example.com", goodPassword, false)

	p := laptop.get("/profile")
	mustContain(t, "profile", p.body, "Where you're logged in", "Chrome on Linux", "Safari on iPhone", "this device", "remembered", "Log out everywhere else")
	ids := revokeIDRe.FindAllStringSubmatch(p.body, -1)
	if len(ids) != 2 {
		t.Fatalf("profile lists %d revocable sessions; want 2 (phone and tablet)", len(ids))
	}
	// Find the phone's session: the row that names the iPhone.
	phoneRow := p.body[strings.Index(p.body, "Safari on iPhone"):]
	phoneID := revokeIDRe.FindStringSubmatch(phoneRow)[1]

	// Another user cannot end Ann's sessions.
	mallory := s.browser()
	mallory.signup("mallory@example.com", "Mallory", goodPassword)
	mallory.login("mallory@example.com", goodPassword, false)
	r := mallory.post("/sessions/revoke", url.Values{"id": {phoneID}})
	mustContain(t, "mallory's revoke", mallory.follow(r).body, "That session had already ended.")
	if phone.get("/profile").status != 200 {
		t.Fatal("another user's revoke ended Ann's phone session")
	}

	r = laptop.post("/sessions/revoke", url.Values{"id": {phoneID}})
	mustContain(t, "after revoke", laptop.follow(r).body, "That device has been logged out.")
	if got := phone.get("/profile"); got.status != 303 {
		t.Errorf("revoked phone: /profile = %d; want 303", got.status)
	}
	if tablet.get("/profile").status != 200 {
		t.Error("revoking the phone ended the tablet too")
	}

	r = laptop.post("/sessions/revoke-others", url.Values{})
	mustContain(t, "after revoke-others", laptop.follow(r).body, "You have been logged out everywhere else.")
	if got := tablet.get("/profile"); got.status != 303 {
		t.Errorf("tablet after revoke-others: /profile = %d; want 303", got.status)
	}
	if laptop.get("/profile").status != 200 {
		t.Error("revoke-others ended the current session")
	}
	if r := s.browser().post("/sessions/revoke-others", url.Values{}); r.status != 303 || !strings.HasPrefix(r.header.Get("Location"), "/login") {
		t.Errorf("anonymous revoke-others = %d → %q; want redirect to login", r.status, r.header.Get("Location"))
	}
}

// TestProfileShowsEachChange reloads an unchanged profile, which may then be
// served as last rendered, and checks that every change of the sessions
// shows at the next load.
func TestProfileShowsEachChange(t *testing.T) {
	s := newSite(t)
	laptop, phone := s.browser(), s.browser()
	laptop.signup("ann@example.com", "Ann", goodPassword)
	laptop.login("ann@example.com", goodPassword, false)
	laptop.get("/profile") // shows and clears the sign-up's flash
	first := laptop.get("/profile")
	if again := laptop.get("/profile"); again.body != first.body {
		t.Errorf("two loads of an unchanged profile differ")
	}
	rows := func(body string) int { return strings.Count(body, "<tr>") - 1 } // less the header row
	if n := rows(first.body); n != 1 {
		t.Fatalf("profile lists %d sessions; want 1", n)
	}
	phone.login("ann@example.com", goodPassword, true)
	if n := rows(laptop.get("/profile").body); n != 2 {
		t.Errorf("profile after a login on the phone lists %d sessions; want 2", n)
	}
	phone.post("/logout", url.Values{})
	if got := laptop.get("/profile"); got.body != first.body {
		t.Errorf("profile after the phone logged out differs from before it logged in:\n%s", got.body)
	}
}

// TestRevokeOwnSessionLogsOut posts the current session's own ID, which the
// page does not offer but a form can send: it is logging out, with the same
// message.
func TestRevokeOwnSessionLogsOut(t *testing.T) {
	s := newSite(t)
	laptop, phone := s.browser(), s.browser()
	laptop.signup("ann@example.com", "Ann", goodPassword)
	laptop.login("ann@example.com", goodPassword, false)
	phone.login("ann@example.com", goodPassword, false)
	// The phone's list offers the laptop's session, whose ID the laptop
	// then posts itself.
	ids := revokeIDRe.FindAllStringSubmatch(phone.get("/profile").body, -1)
	if len(ids) != 1 {
		t.Fatalf("phone's profile offers %d sessions to revoke; want 1", len(ids))
	}
	r := laptop.post("/sessions/revoke", url.Values{"id": {ids[0][1]}})
	if r.status != 303 || r.header.Get("Location") != "/" {
		t.Fatalf("revoking the own session = %d → %q; want 303 → /", r.status, r.header.Get("Location"))
	}
	mustContain(t, "home after revoking the own session", laptop.follow(r).body, "You have been logged out.")
	if got := laptop.get("/profile"); got.status != 303 {
		t.Errorf("profile after revoking the own session = %d; want 303", got.status)
	}
	if got := phone.get("/profile"); got.status != 200 {
		t.Errorf("phone after the laptop revoked itself = %d; want 200", got.status)
	}
}
