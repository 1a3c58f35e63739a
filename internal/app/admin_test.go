package app_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/latchauth/latch"
)

// adminSite has an administrator, Ann (user 1), logged in, and Bob (user
// 2), logged in elsewhere.
func adminSite(t *testing.T) (s *site, ann, bob *browser) {
	t.Helper()
	s = newSite(t)
	ann, bob = s.browser(), s.browser()
	ann.signup("ann@example.com", "Ann", goodPassword)
	bob.signup("bob@example.com", "Bob Builder", goodPassword)
	if err := s.store.SetRole(t.Context(), 1, "admin", true); err != nil {
		t.Fatal(err)
	}
	ann.login("ann@example.com", goodPassword, false)
	bob.login("bob@example.com", goodPassword, false)
	return s, ann, bob
}

func TestAdminHiddenFromOthers(t *testing.T) {
	s, _, bob := adminSite(t)
	anon := s.browser()
	for _, b := range []*browser{anon, bob} {
		for _, p := range []string{"/admin/users", "/admin/users/1", "/admin/users?q=ann", "/admin/", "/admin/anything"} {
			if r := b.get(p); r.status != 404 {
				t.Errorf("non-admin GET %s = %d; want 404", p, r.status)
			}
		}
		for _, p := range []string{"/admin/users/1/disable", "/admin/users/1/end-sessions", "/admin/users/1/delete", "/admin/users/1/enable"} {
			if r := b.post(p, url.Values{}); r.status != 404 {
				t.Errorf("non-admin POST %s = %d; want 404", p, r.status)
			}
		}
	}
	mustNotContain(t, "bob's navbar", bob.get("/profile").body, `href="/admin/users"`)
	if r := bob.get("/profile"); r.status != 200 {
		t.Errorf("bob after the refusals: /profile = %d; want 200", r.status)
	}
}

func TestAdminListAndSearch(t *testing.T) {
	_, ann, _ := adminSite(t)
	mustContain(t, "ann's navbar", ann.get("/profile").body, `href="/admin/users"`)
	r := ann.get("/admin/users")
	if r.status != 200 {
		t.Fatalf("admin GET /admin/users = %d; want 200", r.status)
	}
	mustContain(t, "user list", r.body, "ann@example.com", "bob@example.com", "Bob Builder", `href="/admin/users/2"`)
	r = ann.get("/admin/users?q=BUILD")
	mustContain(t, "search by name", r.body, "bob@example.com")
	mustNotContain(t, "search by name", r.body, "ann@example.com")
	r = ann.get("/admin/users?q=" + url.QueryEscape("ann@"))
	mustContain(t, "search by email", r.body, "ann@example.com")
	mustNotContain(t, "search by email", r.body, "bob@example.com")
	for _, bad := range []string{"q=%00", "q=%ff", "after=x", "after=-3"} {
		if r := ann.get("/admin/users?" + bad); r.status != 400 {
			t.Errorf("GET /admin/users?%s = %d; want 400", bad, r.status)
		}
	}
	for _, p := range []string{"/admin/users/99", "/admin/users/x", "/admin/users/-1"} {
		if r := ann.get(p); r.status != 404 {
			t.Errorf("GET %s = %d; want 404", p, r.status)
		}
	}
	r = ann.get("/admin/users/2")
	mustContain(t, "bob's page", r.body, "bob@example.com", "Go program", "Account created", "Signed in", "Disable the account")
}

func TestAdminDisableEnable(t *testing.T) {
	s, ann, bob := adminSite(t)
	if r := ann.post("/admin/users/2/disable", url.Values{}); r.status != 303 {
		t.Fatalf("disable = %d; want 303", r.status)
	}
	if r := bob.get("/profile"); r.status != 303 {
		t.Errorf("disabled bob: /profile = %d; want 303 (logged out)", r.status)
	}
	// The same answer as a wrong password.
	wrong := s.browser().follow(s.browser().login("bob@example.com", "not the password", false))
	nb := s.browser()
	right := nb.follow(nb.login("bob@example.com", goodPassword, false))
	if wrong.status != right.status || !strings.Contains(right.body, "Please check your login details") {
		t.Errorf("disabled login answer: %d %q; want as for a wrong password (%d)", right.status, right.body, wrong.status)
	}
	if r := nb.get("/profile"); r.status != 303 {
		t.Errorf("disabled bob logged in: /profile = %d; want 303", r.status)
	}
	events, _ := s.store.AuditEvents(t.Context(), "2", 0, 10)
	var sawAdmin, sawRefused bool
	for _, e := range events {
		sawAdmin = sawAdmin || (e.Kind == latch.AuditDisabled && e.ActorID == "1")
		sawRefused = sawRefused || (e.Kind == latch.AuditLoginFailed && e.Reason == latch.ReasonDisabled)
	}
	if !sawAdmin || !sawRefused {
		t.Errorf("bob's events = %+v; want the disabling by user 1 and the refused login", events)
	}
	if r := ann.post("/admin/users/2/enable", url.Values{}); r.status != 303 {
		t.Fatalf("enable = %d; want 303", r.status)
	}
	bob.login("bob@example.com", goodPassword, false)
	if r := bob.get("/profile"); r.status != 200 {
		t.Errorf("enabled bob: /profile = %d; want 200", r.status)
	}
	mustContain(t, "bob's activity", bob.get("/account/activity").body, "Account disabled by an administrator", "Account enabled by an administrator")
}

func TestAdminEndSessionsAndDelete(t *testing.T) {
	s, ann, bob := adminSite(t)
	if r := ann.post("/admin/users/2/end-sessions", url.Values{}); r.status != 303 {
		t.Fatalf("end sessions = %d; want 303", r.status)
	}
	if r := bob.get("/profile"); r.status != 303 {
		t.Errorf("bob after end-sessions: /profile = %d; want 303", r.status)
	}
	// Not on one's own account.
	ann.post("/admin/users/1/delete", url.Values{})
	if r := ann.get("/profile"); r.status != 200 {
		t.Errorf("ann after deleting herself: /profile = %d; want 200 (refused)", r.status)
	}
	if r := ann.post("/admin/users/2/delete", url.Values{}); r.status != 303 {
		t.Fatalf("delete = %d; want 303", r.status)
	}
	if _, err := s.store.UserByID(t.Context(), 2); err == nil {
		t.Errorf("bob still exists after delete")
	}
	if r := ann.get("/admin/users/2"); r.status != 404 {
		t.Errorf("deleted user's page = %d; want 404", r.status)
	}
}

func TestAdminActionsNeedFreshLogin(t *testing.T) {
	s := newSite(t)
	ann, bob := s.browser(), s.browser()
	ann.signup("ann@example.com", "Ann", goodPassword)
	bob.signup("bob@example.com", "Bob", goodPassword)
	s.store.SetRole(t.Context(), 1, "admin", true)
	ann.login("ann@example.com", goodPassword, true)
	restored := ann.restart()
	if r := restored.get("/admin/users/2"); r.status != 200 {
		t.Fatalf("remembered admin GET /admin/users/2 = %d; want 200", r.status)
	}
	r := restored.post("/admin/users/2/disable", url.Values{})
	if r.status != 303 || !strings.Contains(r.header.Get("Location"), "/login/confirm") {
		t.Errorf("remembered admin disable = %d to %q; want 303 to /login/confirm", r.status, r.header.Get("Location"))
	}
	if u, _ := s.store.UserByID(t.Context(), 2); !u.DisabledAt.IsZero() {
		t.Errorf("bob disabled by a login that is not fresh")
	}
	// Cross-site posts are refused like every form.
	r = ann.do("POST", "/admin/users/2/disable", url.Values{}, "Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site")
	if r.status != 403 {
		t.Errorf("cross-site disable = %d; want 403", r.status)
	}
}
