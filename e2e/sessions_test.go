package e2e_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/latchauth/latch"
)

// TestLogOutElsewhereAfterConfirmingPassword is a person back in a browser
// that remembered them, with logins on many other devices: the profile
// lists the most recent ones and counts the rest, and logging out the others
// first asks for the password.
func TestLogOutElsewhereAfterConfirmingPassword(t *testing.T) {
	b := newBrowser(t)
	s := newSite(t)
	s.addUser(t, "ann@example.com", "Ann", goodPassword)
	now := time.Now()
	for i := range 15 {
		err := s.store.CreateSession(context.Background(), latch.Session{
			ID: rand.Text(), UserID: "1", TokenHash: []byte(rand.Text()),
			CreatedAt: now.Add(-time.Duration(i) * time.Hour), LastSeenAt: now.Add(-time.Duration(i) * time.Minute),
			ExpiresAt: now.Add(time.Hour), IP: fmt.Sprintf("192.0.2.%d", i+1),
			UserAgent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Firefox/133.0",
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	profile := view{Path: "/profile", Title: titleProfile, Heading: "Welcome, Ann!", Nav: navIn}

	tb := b.newTab(t, s.url)
	wantStatus(t, "open login", tb.open("/login"), http.StatusOK)
	wantStatus(t, "log in", logIn(tb, "ann@example.com", goodPassword, true), http.StatusOK)
	tb = tb.restart()
	tb.do("set the window size", chromedp.EmulateViewport(1280, 800))
	wantStatus(t, "open profile after restart", tb.open("/profile"), http.StatusOK)
	tb.expect(profile)
	text := eval[string](tb, "document.querySelector('main').innerText")
	if n := strings.Count(text, "192.0.2."); n != 9 || !strings.Contains(text, "and 6 other sessions") {
		t.Errorf("profile lists %d other devices; want 9 and \"and 6 other sessions\":\n%s", n, text)
	}
	tb.checkLayout(1280)
	tb.screenshot("desktop-profile-many-sessions")

	logOutOthers := `form[action="/sessions/revoke-others"] button`
	wantStatus(t, "click Log out everywhere else", tb.click(logOutOthers), http.StatusOK)
	confirm := view{Path: "/login/confirm", Title: "Confirm your password · Latch Auth Example",
		Heading: "Confirm your password", Alerts: []string{"Please reauthenticate to access this page."}, Nav: navIn}
	tb.expect(confirm)
	tb.checkLayout(1280)
	tb.screenshot("desktop-confirm-password")

	tb.typeInto("#password", "not my password")
	wantStatus(t, "confirm with a wrong password", tb.click(`main button[type="submit"]`), http.StatusOK)
	confirm.Alerts = []string{"That password is not right. Please try again."}
	tb.expect(confirm)

	tb.typeInto("#password", goodPassword)
	wantStatus(t, "confirm", tb.click(`main button[type="submit"]`), http.StatusOK)
	tb.expect(profile)
	wantStatus(t, "click Log out everywhere else", tb.click(logOutOthers), http.StatusOK)
	profile.Alerts = []string{"You have been logged out everywhere else."}
	tb.expect(profile)
	if list, err := s.store.UserSessions(context.Background(), "1"); err != nil || len(list) != 1 {
		t.Errorf("sessions after logging out everywhere else = %d, %v; want 1", len(list), err)
	}
}
