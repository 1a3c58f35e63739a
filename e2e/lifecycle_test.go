package e2e_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/latchauth/latch/internal/app"
)

// Messages of the account lifecycle, word for word.
const (
	msgCheckInbox      = "If an account uses %s, we have sent it a link to choose a new password, and a code to type below instead. Check your inbox (and spam folder)."
	msgSignUpInbox     = "Check your inbox: we have sent a link to %s. Open it to confirm your address, then log in."
	msgPasswordReset   = "Your password has been changed and every device logged out. Please log in."
	msgTokenInvalid    = "This link or code is invalid or has expired. Please ask for a new one."
	msgVerified        = "Thank you: your email address is confirmed."
	msgVerifySent      = "We have sent a new link to %s."
	msgNotMatching     = "The two passwords differ. Please type the same password twice."
	msgWrongPassword   = "That is not your current password."
	msgNameChanged     = "Your name has been changed."
	msgPasswordChanged = "Your password has been changed, and your other devices logged out."
	msgEmailSent       = "We have sent a link to %s. Your address changes when you open it."
	msgEmailChanged    = "Your email address is now %s."
	msgEmailRestored   = "Your previous email address is back, and every device has been logged out. If someone else changed it, choose a new password."
	msgDeleted         = "Your account has been deleted. Goodbye."
)

// Page titles of the account lifecycle, as in the browser tab.
const (
	titleForgot  = "Forgot password · Latch Auth Example"
	titleInbox   = "Check your inbox · Latch Auth Example"
	titleReset   = "Choose a new password · Latch Auth Example"
	titleVerify  = "Confirm your email · Latch Auth Example"
	titleAccount = "Account · Latch Auth Example"
	titleUndo    = "Undo the email change · Latch Auth Example"
)

// Subjects of the mails, as in the inbox.
const (
	subjReset        = "Reset your password"
	subjPwChanged    = "Your password was changed"
	subjVerify       = "Confirm your email address"
	subjChangeEmail  = "Confirm your new email address"
	subjEmailChanged = "Your email address was changed"
	subjRestored     = "Your email address was restored"
	subjGoodbye      = "Your account was deleted"
	subjNewDevice    = "New sign-in to your account"
)

// withLink is a flash message that ends with a link, as the page shows it.
func withLink(msg, linkText string) string {
	return strings.TrimSuffix(msg, ".") + ". Go to " + linkText + "."
}

// text returns the text of the first element matching the CSS selector.
func (tb *tab) text(sel string) string {
	tb.t.Helper()
	return strings.Join(strings.Fields(run(tb, "read "+sel, chromedp.Text(chromedp.CSS(sel)))), " ")
}

// wantText fails the test unless the first element matching sel reads want.
func (tb *tab) wantText(sel, want string) {
	tb.t.Helper()
	if got := tb.text(sel); got != want {
		tb.t.Errorf("page %s: text of %s = %q; want %q", tb.look().Path, sel, got, want)
	}
}

// has reports whether the page holds an element matching sel.
func (tb *tab) has(sel string) bool {
	tb.t.Helper()
	return eval[bool](tb, fmt.Sprintf("document.querySelector(%q) !== null", sel))
}

// clear empties a form field.
func (tb *tab) clear(sel string) {
	tb.t.Helper()
	eval[bool](tb, fmt.Sprintf(`(() => { document.querySelector(%q).value = ""; return true })()`, sel))
}

// loggedIn opens the login page in a new tab and logs in, for a journey
// that starts logged in.
func loggedIn(t *testing.T, b *browser, s *site, email, pw, name string) *tab {
	t.Helper()
	tb := b.newTab(t, s.url)
	wantStatus(t, "open login", tb.open("/login"), http.StatusOK)
	wantStatus(t, "log in", logIn(tb, email, pw, false), http.StatusOK)
	tb.expect(view{Path: "/profile", Title: titleProfile, Heading: "Welcome, " + name + "!", Nav: navIn})
	return tb
}

// TestPasswordResetByLink forgets a password: from the login page's link,
// through the mail's link, to a new password that logs in while the old one
// no longer does, a spent link refused, and a login made before the reset,
// in another browser, ended.
func TestPasswordResetByLink(t *testing.T) {
	b := newBrowser(t)
	s, in := newMailSite(t, app.Config{})
	s.addUser(t, "ann@example.com", "Ann", goodPassword)
	const newPassword = "a brand new passphrase"
	other := loggedIn(t, b, s, "ann@example.com", goodPassword, "Ann")

	tb := b.newTab(t, s.url)
	wantStatus(t, "open login", tb.open("/login"), http.StatusOK)
	wantStatus(t, "click Forgot your password?", tb.click(`main a[href="/forgot"]`), http.StatusOK)
	forgot := view{Path: "/forgot", Title: titleForgot, Heading: "Forgot password", Nav: navOut}
	tb.expect(forgot)
	tb.wantFocus("email")

	// An address without an account gets the same answer, and no mail.
	tb.typeInto("#email", "nobody@example.com")
	wantStatus(t, "ask for a link to an unknown address", tb.click(`main button[type="submit"]`), http.StatusOK)
	sent := view{Path: "/forgot", Title: titleInbox, Heading: "Check your inbox", Nav: navOut}
	tb.expect(sent)
	tb.wantText("main .box p", fmt.Sprintf(msgCheckInbox, "nobody@example.com"))

	wantStatus(t, "open forgot", tb.open("/forgot"), http.StatusOK)
	tb.typeInto("#email", "Ann@Example.com")
	wantStatus(t, "ask for a link", tb.click(`main button[type="submit"]`), http.StatusOK)
	tb.expect(sent)
	tb.wantText("main .box p", fmt.Sprintf(msgCheckInbox, "ann@example.com"))

	mail := in.await("ann@example.com", subjReset)
	link := mail.link(t, s.url, "/reset?token=")
	wantStatus(t, "open the mail's link", tb.open(link), http.StatusOK)
	// The token left the address bar before the page showed.
	reset := view{Path: "/reset", Title: titleReset, Heading: "Choose a new password", Nav: navOut}
	tb.expect(reset)
	if tb.has("#code") || tb.has("#email") {
		t.Errorf("reset page from a link asks for the email or the code; want the new password only")
	}
	tb.wantFocus("password")

	// Two different passwords are refused, and the link still works.
	tb.typeInto("#password", newPassword)
	tb.typeInto("#confirm", newPassword+"!")
	wantStatus(t, "send two different passwords", tb.click(`main button[type="submit"]`), http.StatusUnprocessableEntity)
	tb.expectFaults("a refused reset", httpErrorLogged(s.url+"/reset", http.StatusUnprocessableEntity))
	tb.expect(reset)
	tb.wantText("#confirm-error", msgNotMatching)

	tb.typeInto("#password", newPassword)
	tb.typeInto("#confirm", newPassword)
	wantStatus(t, "set the new password", tb.click(`main button[type="submit"]`), http.StatusOK)
	login := view{Path: "/login", Title: titleLogin, Heading: "Login", Alerts: []string{msgPasswordReset}, Nav: navOut}
	tb.expect(login)
	wantFields(tb, map[string]string{"#email": "ann@example.com"})
	in.await("ann@example.com", subjPwChanged)

	tb.typeInto("#password", goodPassword)
	wantStatus(t, "log in with the old password", tb.click(`main button[type="submit"]`), http.StatusOK)
	login.Alerts = []string{msgBadLogin}
	tb.expect(login)
	tb.typeInto("#password", newPassword)
	wantStatus(t, "log in with the new password", tb.click(`main button[type="submit"]`), http.StatusOK)
	tb.expect(view{Path: "/profile", Title: titleProfile, Heading: "Welcome, Ann!", Nav: navIn})

	// The browser logged in before the reset is logged out.
	wantStatus(t, "open profile in the other browser", other.open("/profile"), http.StatusOK)
	other.expect(view{Path: "/login?next=%2Fprofile", Title: titleLogin, Heading: "Login", Alerts: []string{msgPleaseLog}, Nav: navOut})

	// The link is spent: opened again, it is refused at once, before a
	// new password is typed.
	wantStatus(t, "click Logout", tb.click(`nav button[type="submit"]`), http.StatusOK)
	wantStatus(t, "open the link again", tb.open(link), http.StatusBadRequest)
	tb.expectFaults("a spent link", httpErrorLogged(s.url+"/reset", http.StatusBadRequest))
	tb.expect(view{Path: "/reset", Title: titleReset, Heading: "Choose a new password",
		Alerts: []string{withLink(msgTokenInvalid, "forgot password")}, Nav: navOut})
	wantStatus(t, "open login", tb.open("/login"), http.StatusOK)
	wantStatus(t, "log in with the new password", logIn(tb, "ann@example.com", newPassword, false), http.StatusOK)
	tb.expect(view{Path: "/profile", Title: titleProfile, Heading: "Welcome, Ann!", Nav: navIn})
	// The reset forgot every device: the next login is from a new one.
	in.await("ann@example.com", subjNewDevice)
	in.none("after the reset")
}

// TestPasswordResetByCode asks for a reset in one browser and types the
// mail's code, with the address, in another: a phone reading the mail, a
// computer choosing the password.
func TestPasswordResetByCode(t *testing.T) {
	b := newBrowser(t)
	s, in := newMailSite(t, app.Config{})
	s.addUser(t, "ann@example.com", "Ann", goodPassword)
	const newPassword = "a brand new passphrase"

	phone := b.newTab(t, s.url)
	wantStatus(t, "open forgot", phone.open("/forgot"), http.StatusOK)
	phone.typeInto("#email", "ann@example.com")
	wantStatus(t, "ask for a link", phone.click(`main button[type="submit"]`), http.StatusOK)
	phone.expect(view{Path: "/forgot", Title: titleInbox, Heading: "Check your inbox", Nav: navOut})
	mail := in.await("ann@example.com", subjReset)
	code := mail.code(t)
	link := mail.link(t, s.url, "/reset?token=")

	computer := b.newTab(t, s.url)
	wantStatus(t, "open the reset page the mail names", computer.open(mail.link(t, s.url, "/reset")), http.StatusOK)
	codeForm := view{Path: "/reset", Title: titleReset, Heading: "Choose a new password", Nav: navOut}
	computer.expect(codeForm)
	computer.wantFocus("email")

	// A wrong code is refused.
	wrong := "AAAAAAAA"
	if wrong == code {
		wrong = "CCCCCCCC"
	}
	computer.typeInto("#email", "ann@example.com")
	computer.typeInto("#code", wrong)
	computer.typeInto("#password", newPassword)
	computer.typeInto("#confirm", newPassword)
	wantStatus(t, "send a wrong code", computer.click(`main button[type="submit"]`), http.StatusBadRequest)
	computer.expectFaults("a wrong code", httpErrorLogged(s.url+"/reset", http.StatusBadRequest))
	codeForm.Alerts = []string{withLink(msgTokenInvalid, "forgot password")}
	computer.expect(codeForm)
	wantFields(computer, map[string]string{"#email": "ann@example.com", "#code": "", "#password": ""})

	computer.typeInto("#code", strings.ToLower(code))
	computer.typeInto("#password", newPassword)
	computer.typeInto("#confirm", newPassword)
	wantStatus(t, "send the code", computer.click(`main button[type="submit"]`), http.StatusOK)
	computer.expect(view{Path: "/login", Title: titleLogin, Heading: "Login", Alerts: []string{msgPasswordReset}, Nav: navOut})
	computer.typeInto("#password", newPassword)
	wantStatus(t, "log in", computer.click(`main button[type="submit"]`), http.StatusOK)
	computer.expect(view{Path: "/profile", Title: titleProfile, Heading: "Welcome, Ann!", Nav: navIn})
	in.await("ann@example.com", subjPwChanged)

	// The code used, the mail's link is spent too.
	wantStatus(t, "open the link on the phone", phone.open(link), http.StatusBadRequest)
	phone.expectFaults("a spent link", httpErrorLogged(s.url+"/reset", http.StatusBadRequest))
	phone.expect(view{Path: "/reset", Title: titleReset, Heading: "Choose a new password",
		Alerts: []string{withLink(msgTokenInvalid, "forgot password")}, Nav: navOut})
}

// TestEmailVerification signs up on a site that requires a confirmed
// address: the profile stays closed until the mail's link is opened.
func TestEmailVerification(t *testing.T) {
	b := newBrowser(t)
	s, in := newMailSite(t, app.Config{RequireVerifiedEmail: true})
	tb := b.newTab(t, s.url)

	wantStatus(t, "sign up", signUp(tb, "ann@example.com", "Ann", goodPassword), http.StatusOK)
	tb.expect(view{Path: "/signup", Title: titleInbox, Heading: "Check your inbox", Nav: navOut})
	tb.wantText("main .box p", fmt.Sprintf(msgSignUpInbox, "ann@example.com"))
	first := in.await("ann@example.com", subjVerify)
	first.link(t, s.url, "/verify?token=")

	wantStatus(t, "open login", tb.open("/login"), http.StatusOK)
	wantStatus(t, "log in", logIn(tb, "ann@example.com", goodPassword, false), http.StatusOK)
	verify := view{Path: "/verify", Title: titleVerify, Heading: "Confirm your email", Nav: navIn}
	tb.expect(verify)
	wantStatus(t, "open profile", tb.open("/profile"), http.StatusOK)
	tb.expect(verify)

	wantStatus(t, "click Send the link again", tb.click(`main form[action="/verify/resend"] button`), http.StatusOK)
	verify.Alerts = []string{fmt.Sprintf(msgVerifySent, "ann@example.com")}
	tb.expect(verify)
	link := in.await("ann@example.com", subjVerify).link(t, s.url, "/verify?token=")

	wantStatus(t, "open the mail's link", tb.open(link), http.StatusOK)
	tb.expect(view{Path: "/profile", Title: titleProfile, Heading: "Welcome, Ann!", Alerts: []string{msgVerified}, Nav: navIn})
	wantStatus(t, "click Account", tb.click(`nav a[href="/account"]`), http.StatusOK)
	tb.expect(view{Path: "/account", Title: titleAccount, Heading: "Your account", Nav: navIn})
	tb.wantText(`section[aria-labelledby="email-title"] p`, "ann@example.com confirmed")
	if tb.has(`form[action="/verify/resend"]`) {
		t.Errorf("account page of a confirmed address offers to send the link again")
	}
	// Confirmed, the verify page has nothing to ask.
	wantStatus(t, "open /verify", tb.open("/verify"), http.StatusOK)
	tb.expect(view{Path: "/account", Title: titleAccount, Heading: "Your account", Nav: navIn})
}

// TestChangeEmail moves an account to a new address through the mail sent
// there, then undoes it from the notice sent to the old one.
func TestChangeEmail(t *testing.T) {
	b := newBrowser(t)
	s, in := newMailSite(t, app.Config{})
	s.addUser(t, "ann@example.com", "Ann", goodPassword)
	const newAddr = "ann@example.org"
	tb := loggedIn(t, b, s, "ann@example.com", goodPassword, "Ann")

	wantStatus(t, "click Account", tb.click(`nav a[href="/account"]`), http.StatusOK)
	account := view{Path: "/account", Title: titleAccount, Heading: "Your account", Nav: navIn}
	tb.expect(account)
	tb.typeInto("#email", newAddr)
	wantStatus(t, "click Change email", tb.click(`form[action="/account/email"] button`), http.StatusOK)
	account.Alerts = []string{fmt.Sprintf(msgEmailSent, newAddr)}
	tb.expect(account)
	// Nothing changes before the link is opened.
	tb.wantText(`section[aria-labelledby="email-title"] p`, "ann@example.com not confirmed")

	link := in.await(newAddr, subjChangeEmail).link(t, s.url, "/email/confirm?token=")
	wantStatus(t, "open the confirmation link", tb.open(link), http.StatusOK)
	account.Alerts = []string{fmt.Sprintf(msgEmailChanged, newAddr)}
	tb.expect(account)
	tb.wantText(`section[aria-labelledby="email-title"] p`, newAddr+" confirmed")
	undo := in.await("ann@example.com", subjEmailChanged).link(t, s.url, "/email/undo?token=")

	wantStatus(t, "click Logout", tb.click(`nav button[type="submit"]`), http.StatusOK)
	wantStatus(t, "open login", tb.open("/login"), http.StatusOK)
	wantStatus(t, "log in with the old address", logIn(tb, "ann@example.com", goodPassword, false), http.StatusOK)
	tb.expect(view{Path: "/login", Title: titleLogin, Heading: "Login", Alerts: []string{msgBadLogin}, Nav: navOut})
	tb.clear("#email")
	wantStatus(t, "log in with the new address", logIn(tb, newAddr, goodPassword, false), http.StatusOK)
	tb.expect(view{Path: "/profile", Title: titleProfile, Heading: "Welcome, Ann!", Nav: navIn})

	// The owner of the old address undoes the change, from another browser;
	// the one logged in with the new address is logged out.
	owner := b.newTab(t, s.url)
	wantStatus(t, "open the undo link", owner.open(undo), http.StatusOK)
	undoPage := view{Path: strings.TrimPrefix(undo, s.url), Title: titleUndo, Heading: "Undo the email change", Nav: navOut}
	owner.expect(undoPage)
	wantStatus(t, "click Undo", owner.click(`main button[type="submit"]`), http.StatusOK)
	owner.expect(view{Path: "/login", Title: titleLogin, Heading: "Login", Alerts: []string{withLink(msgEmailRestored, "forgot password")}, Nav: navOut})
	wantFields(owner, map[string]string{"#email": "ann@example.com"})
	in.await("ann@example.com", subjRestored)
	owner.typeInto("#password", goodPassword)
	wantStatus(t, "log in with the old address", owner.click(`main button[type="submit"]`), http.StatusOK)
	owner.expect(view{Path: "/profile", Title: titleProfile, Heading: "Welcome, Ann!", Nav: navIn})

	wantStatus(t, "open profile logged in with the new address", tb.open("/profile"), http.StatusOK)
	tb.expect(view{Path: "/login?next=%2Fprofile", Title: titleLogin, Heading: "Login", Alerts: []string{msgPleaseLog}, Nav: navOut})

	// The undo link works once.
	wantStatus(t, "open the undo link again", owner.open(undo), http.StatusOK)
	undoPage.Nav = navIn
	owner.expect(undoPage)
	wantStatus(t, "click Undo again", owner.click(`main button[type="submit"]`), http.StatusOK)
	owner.expect(view{Path: "/login", Title: titleLogin, Heading: "Login", Alerts: []string{msgTokenInvalid}, Nav: navIn})
	// The owner's browser is new to the account, but of the same kind
	// and at the same address as a login of the last day: no alert.
	in.none("after the undo")
}

// exported is what "Download my data" answers, as the headers say.
type exported struct {
	Status      int
	Type        string
	Disposition string
	Cache       string
}

// TestAccountPage uses every form of the account page: name, password,
// "Download my data", and deleting the account after its warning.
func TestAccountPage(t *testing.T) {
	b := newBrowser(t)
	s, in := newMailSite(t, app.Config{})
	s.addUser(t, "ann@example.com", "Ann", goodPassword)
	const newPassword = "a brand new passphrase"
	other := loggedIn(t, b, s, "ann@example.com", goodPassword, "Ann")
	tb := loggedIn(t, b, s, "ann@example.com", goodPassword, "Ann")

	wantStatus(t, "click Account", tb.click(`nav a[href="/account"]`), http.StatusOK)
	account := view{Path: "/account", Title: titleAccount, Heading: "Your account", Nav: navIn}
	tb.expect(account)
	wantFields(tb, map[string]string{"#name": "Ann", "#email": ""})

	tb.clear("#name")
	tb.typeInto("#name", "Annie")
	wantStatus(t, "click Change name", tb.click(`form[action="/account/name"] button`), http.StatusOK)
	account.Alerts = []string{msgNameChanged}
	tb.expect(account)
	wantFields(tb, map[string]string{"#name": "Annie"})

	// A wrong current password, then two different new ones, are refused.
	tb.typeInto("#current", "not my password")
	tb.typeInto("#password", newPassword)
	tb.typeInto("#confirm", newPassword)
	wantStatus(t, "change password with a wrong one", tb.click(`form[action="/account/password"] button`), http.StatusUnprocessableEntity)
	tb.expectFaults("a refused change", httpErrorLogged(s.url+"/account/password", http.StatusUnprocessableEntity))
	account.Path, account.Alerts = "/account/password", nil
	tb.expect(account)
	tb.wantText("#current-error", msgWrongPassword)
	tb.wantFocus("current")
	tb.typeInto("#current", goodPassword)
	tb.typeInto("#password", newPassword)
	tb.typeInto("#confirm", "another passphrase")
	wantStatus(t, "change password typed differently", tb.click(`form[action="/account/password"] button`), http.StatusUnprocessableEntity)
	tb.expectFaults("a refused change", httpErrorLogged(s.url+"/account/password", http.StatusUnprocessableEntity))
	tb.expect(account)
	tb.wantText("#confirm-error", msgNotMatching)
	tb.wantFocus("confirm")

	tb.typeInto("#current", goodPassword)
	tb.typeInto("#password", newPassword)
	tb.typeInto("#confirm", newPassword)
	wantStatus(t, "change password", tb.click(`form[action="/account/password"] button`), http.StatusOK)
	account.Path, account.Alerts = "/account", []string{msgPasswordChanged}
	tb.expect(account)
	in.await("ann@example.com", subjPwChanged)
	// This browser stays logged in; the other one is logged out.
	wantStatus(t, "open profile", tb.open("/profile"), http.StatusOK)
	tb.expect(view{Path: "/profile", Title: titleProfile, Heading: "Welcome, Annie!", Nav: navIn})
	wantStatus(t, "open profile in the other browser", other.open("/profile"), http.StatusOK)
	other.expect(view{Path: "/login?next=%2Fprofile", Title: titleLogin, Heading: "Login", Alerts: []string{msgPleaseLog}, Nav: navOut})

	// Download my data: the page's Content-Security-Policy lets no script
	// fetch, so the file is fetched as a download manager would, with the
	// browser's cookies.
	wantStatus(t, "open account", tb.open("/account"), http.StatusOK)
	href := eval[string](tb, `document.querySelector('a[download]').href`)
	req, err := http.NewRequest("GET", href, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range tb.cookies() {
		req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	got := exported{resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Content-Disposition"), resp.Header.Get("Cache-Control")}
	if want := (exported{200, "application/json", `attachment; filename="latch-account.json"`, "no-store"}); got != want {
		t.Errorf("GET %s = %+v; want %+v", href, got, want)
	}
	var data struct {
		Profile  map[string]any   `json:"profile"`
		Sessions []map[string]any `json:"sessions"`
	}
	if err := json.Unmarshal(body, &data); err != nil {
		t.Fatalf("GET %s: %v\n%s", href, err, body)
	}
	if data.Profile["email"] != "ann@example.com" || data.Profile["name"] != "Annie" || len(data.Sessions) != 1 || data.Sessions[0]["current"] != true {
		t.Errorf("GET %s = profile %v, %d sessions; want ann@example.com, Annie, this one session", href, data.Profile, len(data.Sessions))
	}
	for _, secret := range []string{"hash", "token", "password"} {
		if strings.Contains(strings.ToLower(string(body)), secret) {
			t.Errorf("GET %s holds %q:\n%s", href, secret, body)
		}
	}

	// Delete, under its warning: a wrong password keeps the account.
	tb.wantText(`section[aria-labelledby="delete-title"] p`,
		"This cannot be undone. Your account, your name and email, and every login are deleted at once.")
	tb.typeInto("#delete-password", goodPassword)
	wantStatus(t, "delete with the old password", tb.click(`form[action="/account/delete"] button`), http.StatusUnprocessableEntity)
	tb.expectFaults("a refused deletion", httpErrorLogged(s.url+"/account/delete", http.StatusUnprocessableEntity))
	account.Path, account.Alerts = "/account/delete", nil
	tb.expect(account)
	tb.wantText("#delete-error", msgWrongPassword)
	tb.wantFocus("delete-password")
	tb.typeInto("#delete-password", newPassword)
	wantStatus(t, "delete", tb.click(`form[action="/account/delete"] button`), http.StatusOK)
	tb.expect(view{Path: "/", Title: titleHome, Heading: "Latch Login Example", Alerts: []string{msgDeleted}, Nav: navOut})
	in.await("ann@example.com", subjGoodbye)
	wantStatus(t, "open login", tb.open("/login"), http.StatusOK)
	wantStatus(t, "log in to the deleted account", logIn(tb, "ann@example.com", newPassword, false), http.StatusOK)
	tb.expect(view{Path: "/login", Title: titleLogin, Heading: "Login", Alerts: []string{msgBadLogin}, Nav: navOut})
	// The second browser, of the same kind and address as the first, got
	// no new-device alert.
	in.none("after deleting")
}

// TestLifecyclePagesAtDesktopAndPhoneSize goes through the pages of the
// account lifecycle in a desktop window and on a phone, following the links
// of the mails, checks the layout of each and takes its screenshot (see
// LATCH_SCREENSHOTS_DIR).
func TestLifecyclePagesAtDesktopAndPhoneSize(t *testing.T) {
	b := newBrowser(t)
	s, in := newMailSite(t, app.Config{RequireVerifiedEmail: true})
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
			email, newAddr := sz.name+"@example.com", sz.name+"@example.org"
			page := func(name string, want view) {
				t.Helper()
				tb.expect(want)
				tb.checkLayout(sz.width)
				tb.screenshot(sz.name + "-" + name)
			}

			wantStatus(t, "sign up", signUp(tb, email, "Ann", goodPassword), http.StatusOK)
			page("signup-sent", view{Path: "/signup", Title: titleInbox, Heading: "Check your inbox", Nav: navOut})
			wantStatus(t, "open login", tb.open("/login"), http.StatusOK)
			wantStatus(t, "log in", logIn(tb, email, goodPassword, false), http.StatusOK)
			page("verify", view{Path: "/verify", Title: titleVerify, Heading: "Confirm your email", Nav: navIn})
			link := in.await(email, subjVerify).link(t, s.url, "/verify?token=")
			wantStatus(t, "open the verification link", tb.open(link), http.StatusOK)
			tb.expect(view{Path: "/profile", Title: titleProfile, Heading: "Welcome, Ann!", Alerts: []string{msgVerified}, Nav: navIn})

			wantStatus(t, "click Account", tb.click(`nav a[href="/account"]`), http.StatusOK)
			page("account", view{Path: "/account", Title: titleAccount, Heading: "Your account", Nav: navIn})
			tb.typeInto("#delete-password", "not my password")
			wantStatus(t, "delete with a wrong password", tb.click(`form[action="/account/delete"] button`), http.StatusUnprocessableEntity)
			tb.expectFaults("a refused deletion", httpErrorLogged(s.url+"/account/delete", http.StatusUnprocessableEntity))
			page("account-delete-error", view{Path: "/account/delete", Title: titleAccount, Heading: "Your account", Nav: navIn})

			wantStatus(t, "open account", tb.open("/account"), http.StatusOK)
			tb.typeInto("#email", newAddr)
			wantStatus(t, "change email", tb.click(`form[action="/account/email"] button`), http.StatusOK)
			link = in.await(newAddr, subjChangeEmail).link(t, s.url, "/email/confirm?token=")
			wantStatus(t, "open the confirmation link", tb.open(link), http.StatusOK)
			tb.expect(view{Path: "/account", Title: titleAccount, Heading: "Your account", Alerts: []string{fmt.Sprintf(msgEmailChanged, newAddr)}, Nav: navIn})
			undo := in.await(email, subjEmailChanged).link(t, s.url, "/email/undo?token=")
			wantStatus(t, "open the undo link", tb.open(undo), http.StatusOK)
			page("email-undo", view{Path: strings.TrimPrefix(undo, s.url), Title: titleUndo, Heading: "Undo the email change", Nav: navIn})

			wantStatus(t, "click Logout", tb.click(`nav button[type="submit"]`), http.StatusOK)
			wantStatus(t, "open login", tb.open("/login"), http.StatusOK)
			wantStatus(t, "click Forgot your password?", tb.click(`main a[href="/forgot"]`), http.StatusOK)
			page("forgot", view{Path: "/forgot", Title: titleForgot, Heading: "Forgot password", Nav: navOut})
			tb.typeInto("#email", newAddr)
			wantStatus(t, "ask for a link", tb.click(`main button[type="submit"]`), http.StatusOK)
			page("forgot-sent", view{Path: "/forgot", Title: titleInbox, Heading: "Check your inbox", Nav: navOut})
			wantStatus(t, "click I have a code", tb.click(`main a[href="/reset"]`), http.StatusOK)
			page("reset-code", view{Path: "/reset", Title: titleReset, Heading: "Choose a new password", Nav: navOut})
			link = in.await(newAddr, subjReset).link(t, s.url, "/reset?token=")
			wantStatus(t, "open the reset link", tb.open(link), http.StatusOK)
			page("reset", view{Path: "/reset", Title: titleReset, Heading: "Choose a new password", Nav: navOut})
		})
	}
}
