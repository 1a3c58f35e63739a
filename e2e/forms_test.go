package e2e_test

import (
	"net/http"
	"slices"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// field is a form field as a password manager and a screen reader see it.
type field struct {
	ID           string `json:"id"`
	Type         string `json:"type"`
	Autocomplete string `json:"autocomplete"`
	Label        string `json:"label"` // text of the <label>s the browser ties to it
}

// fieldsJS lists the visible fields of the page's main form. It asks the
// browser for each field's labels (input.labels) rather than matching
// for= attributes itself, so a label counts only if the browser ties it.
const fieldsJS = `[...document.querySelectorAll("main form input:not([type=hidden])")].map((c) => ({
	id: c.id,
	type: c.type,
	autocomplete: c.getAttribute("autocomplete") || "",
	label: [...c.labels].map((l) => l.textContent.replace(/\s+/g, " ").trim()).join(" | "),
}))`

// TestFormsForAssistiveTechnology checks what password managers and
// screen readers rely on: each field has a label tied to it, says what it
// holds with autocomplete, and tells a new password from the current one.
func TestFormsForAssistiveTechnology(t *testing.T) {
	b := newBrowser(t)
	s := newSite(t)
	tb := b.newTab(t, s.url)
	tests := []struct {
		path string
		want []field
	}{
		{"/signup", []field{
			{"email", "email", "email", "Email"},
			{"name", "text", "name", "Name"},
			{"password", "password", "new-password", "Password"},
		}},
		{"/login", []field{
			{"email", "email", "email webauthn", "Email"}, // passkeys offered in the autofill
			{"password", "password", "current-password", "Password"},
			{"remember", "checkbox", "", "Remember me"},
		}},
	}
	for _, tt := range tests {
		wantStatus(t, "open "+tt.path, tb.open(tt.path), http.StatusOK)
		if got := eval[[]field](tb, fieldsJS); !slices.Equal(got, tt.want) {
			t.Errorf("fields of %s = %+v\n\twant %+v", tt.path, got, tt.want)
		}
	}
}

// TestKeyboardOnly signs up, logs in and logs out without a mouse: the
// caret starts in the email field, Tab moves through the fields and the
// navbar in reading order, Space ticks the checkbox, Enter sends the form.
func TestKeyboardOnly(t *testing.T) {
	b := newBrowser(t)
	s := newSite(t)
	tb := b.newTab(t, s.url)
	keys := func(k string) { tb.t.Helper(); tb.do("press "+k, chromedp.KeyEvent(k)) }
	focused := func(want string) { t.Helper(); tb.wantFocus(want) }

	wantStatus(t, "open sign-up", tb.open("/signup"), http.StatusOK)
	focused("email") // autofocus
	keys("ann@example.com")
	keys(kb.Tab)
	focused("name")
	keys("Ann")
	keys(kb.Tab)
	focused("password")
	keys(goodPassword)
	keys(kb.Tab)
	focused("BUTTON Sign Up")
	wantStatus(t, "press Enter on Sign Up", tb.navigate("press Enter", chromedp.KeyEvent(kb.Enter)), http.StatusOK)
	tb.expect(view{Path: "/login", Title: titleLogin, Heading: "Login", Alerts: []string{msgCreated}, Nav: navOut})

	// The tab order of the login form, then the login itself, with Space
	// to tick "Remember me".
	focused("email")
	for _, want := range []string{"password", "remember", "BUTTON Login"} {
		keys(kb.Tab)
		focused(want)
	}
	tb.do("focus the email field", chromedp.Focus(chromedp.CSS("#email")))
	keys("ann@example.com")
	keys(kb.Tab)
	keys(goodPassword)
	keys(kb.Tab)
	keys(" ")
	if !eval[bool](tb, `document.querySelector("#remember").checked`) {
		t.Errorf("Space on the Remember me checkbox left it unticked")
	}
	keys(kb.Tab)
	focused("BUTTON Login")
	wantStatus(t, "press Enter on Login", tb.navigate("press Enter", chromedp.KeyEvent(kb.Enter)), http.StatusOK)
	tb.expect(view{Path: "/profile", Title: titleProfile, Heading: "Welcome, Ann!", Nav: navIn})

	// The navbar, in reading order from the top of the page, and Enter on
	// its Logout button.
	for _, want := range []string{"A Home", "A Profile", "A Account", "BUTTON Logout"} {
		keys(kb.Tab)
		focused(want)
	}
	wantStatus(t, "press Enter on Logout", tb.navigate("press Enter", chromedp.KeyEvent(kb.Enter)), http.StatusOK)
	tb.expect(view{Path: "/", Title: titleHome, Heading: "Latch Login Example", Alerts: []string{msgLoggedOut}, Nav: navOut})
}
