package app_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchauth/latch/account"
	"github.com/latchauth/latch/internal/app"
	"github.com/latchauth/latch/internal/apptest"
	"github.com/latchauth/latch/mailer"
)

// recorder is a Mailer that keeps what it is given, for tests to read the
// links and codes out of mails.
type recorder struct {
	mu   sync.Mutex
	msgs []mailer.Message
	fail bool // refuse every mail, as a full queue does
}

func (r *recorder) Enqueue(_ context.Context, m mailer.Message) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail {
		return errors.New("mail queue full")
	}
	r.msgs = append(r.msgs, m)
	return nil
}

// to returns the mails sent to addr so far.
func (r *recorder) to(addr string) []mailer.Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []mailer.Message
	for _, m := range r.msgs {
		if m.To == addr {
			out = append(out, m)
		}
	}
	return out
}

// mailSite is a site whose app mails through a recorder.
type mailSite struct {
	*site
	app  *app.App
	mail *recorder
	base string
}

// newMailSite serves the app with a recorder as its Mailer and the test
// server's address as its base URL (so that the Host check is on), with
// edit applied to the configuration first.
func newMailSite(t *testing.T, edit func(*app.Config)) *mailSite {
	t.Helper()
	store := apptest.NewStore(t)
	srv := httptest.NewUnstartedServer(nil)
	rec := &recorder{}
	cfg := app.Config{
		Mail:           rec,
		BaseURL:        "http://" + srv.Listener.Addr().String(),
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")},
	}
	if edit != nil {
		edit(&cfg)
	}
	s := apptest.New(t, store, cfg)
	h := s.App.Handler()
	srv.Config.Handler = h
	srv.Start()
	t.Cleanup(srv.Close)
	return &mailSite{site: &site{t: t, srv: srv, handler: h, store: store, logs: s.Logs}, app: s.App, mail: rec, base: cfg.BaseURL}
}

// mailTo waits for the mail jobs to finish and returns the last mail sent
// to addr whose subject contains subject, failing the test if there is
// none.
func (s *mailSite) mailTo(addr, subject string) mailer.Message {
	s.t.Helper()
	s.app.Wait()
	msgs := s.mail.to(addr)
	for i := len(msgs) - 1; i >= 0; i-- {
		if strings.Contains(msgs[i].Subject, subject) {
			return msgs[i]
		}
	}
	s.t.Fatalf("no mail to %s about %q; mails to it: %+v", addr, subject, msgs)
	return mailer.Message{}
}

var linkRE = regexp.MustCompile(`https?://[^\s"<>]+`)

// linkIn returns the link to path in m's text, checking that every link of
// the mail, in its text and its HTML, starts with the base URL.
func (s *mailSite) linkIn(m mailer.Message, path string) string {
	s.t.Helper()
	var found string
	for _, l := range append(linkRE.FindAllString(m.Text, -1), linkRE.FindAllString(m.HTML, -1)...) {
		l = strings.TrimRight(l, ".,)")
		if l != s.base && !strings.HasPrefix(l, s.base+"/") {
			s.t.Errorf("mail %q has link %q; want every link under %s", m.Subject, l, s.base)
		}
		if u, err := url.Parse(strings.ReplaceAll(l, "&amp;", "&")); err == nil && u.Path == path && found == "" {
			found = u.RequestURI()
		}
	}
	if found == "" {
		s.t.Fatalf("mail %q has no link to %s: %q", m.Subject, path, m.Text)
	}
	return found
}

var codeRE = regexp.MustCompile(`: ([A-Z0-9]{8})\n`)

func codeIn(t *testing.T, m mailer.Message) string {
	t.Helper()
	c := codeRE.FindStringSubmatch(m.Text)
	if c == nil {
		t.Fatalf("mail %q has no code: %q", m.Subject, m.Text)
	}
	return c[1]
}

// loggedIn returns a browser that signed up and logged in as email.
func (s *mailSite) loggedIn(email string, remember bool) *browser {
	s.t.Helper()
	b := s.browser()
	b.signup(email, "Ann", goodPassword)
	if r := b.login(email, goodPassword, remember); r.status != http.StatusSeeOther {
		s.t.Fatalf("login %s = %d; want 303", email, r.status)
	}
	return b
}

func newPassword(pw string) url.Values { return url.Values{"password": {pw}, "confirm": {pw}} }

func TestPasswordResetByLink(t *testing.T) {
	s := newMailSite(t, nil)
	laptop := s.loggedIn("ann@example.com", true)
	phone := s.browser()
	phone.login("ann@example.com", goodPassword, true)
	remembered := phone.restart() // the phone's remember-me cookie alone

	anon := s.browser()
	r := anon.post("/forgot", url.Values{"email": {"Ann@Example.com"}})
	if r.status != http.StatusOK || r.header.Get("Referrer-Policy") != "no-referrer" {
		t.Fatalf("POST /forgot = %d, Referrer-Policy %q; want 200, no-referrer", r.status, r.header.Get("Referrer-Policy"))
	}
	mustContain(t, "POST /forgot", r.body, "Check your inbox")
	link := s.linkIn(s.mailTo("ann@example.com", "Reset your password"), "/reset")

	// A mail scanner opens the link: the token is not used up.
	scanner := s.browser()
	if r := scanner.get(link); r.status != http.StatusSeeOther || r.header.Get("Location") != "/reset" {
		t.Fatalf("scanner GET %s = %d to %q; want 303 to /reset", link, r.status, r.header.Get("Location"))
	}
	scanner.get("/reset")

	// The person opens it: the token leaves the URL before the page shows.
	r = anon.get(link)
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/reset" || r.header.Get("Referrer-Policy") != "no-referrer" {
		t.Fatalf("GET %s = %d to %q, Referrer-Policy %q; want 303 to /reset, no-referrer", link, r.status, r.header.Get("Location"), r.header.Get("Referrer-Policy"))
	}
	r = anon.get("/reset")
	if r.status != http.StatusOK || r.header.Get("Referrer-Policy") != "no-referrer" {
		t.Fatalf("GET /reset = %d, Referrer-Policy %q; want 200, no-referrer", r.status, r.header.Get("Referrer-Policy"))
	}
	mustContain(t, "reset form", r.body, `name="password"`, `name="confirm"`)
	mustNotContain(t, "reset form", r.body, `name="code"`)

	// Mistakes leave the link usable.
	if r := anon.post("/reset", url.Values{"password": {"a new long passphrase"}, "confirm": {"another"}}); r.status != http.StatusUnprocessableEntity {
		t.Errorf("POST /reset, passwords differ = %d; want 422", r.status)
	}
	if r := anon.post("/reset", newPassword("password")); r.status != http.StatusUnprocessableEntity {
		t.Errorf("POST /reset, common password = %d; want 422", r.status)
	}
	r = anon.post("/reset", newPassword("a new long passphrase"))
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/login" {
		t.Fatalf("POST /reset = %d to %q; want 303 to /login (body %q)", r.status, r.header.Get("Location"), r.body)
	}
	mustContain(t, "login after reset", anon.follow(r).body, "Your password has been changed")
	s.mailTo("ann@example.com", "Your password was changed")

	// Every session and remember-me login of the user is over.
	for name, b := range map[string]*browser{"laptop": laptop, "phone": phone, "phone's remember-me": remembered} {
		if r := b.get("/profile"); r.status != http.StatusSeeOther {
			t.Errorf("%s: /profile after reset = %d; want 303 to login", name, r.status)
		}
	}
	// The link is used: the page it opens says so at once, before a new
	// password is typed, and posting to it fails.
	opened := s.browser()
	opened.get(link)
	if r := opened.get("/reset"); r.status != http.StatusBadRequest || strings.Contains(r.body, `name="confirm"`) && !strings.Contains(r.body, `name="code"`) {
		t.Errorf("GET /reset from a used link = %d; want 400 and no form for the link", r.status)
	} else {
		mustContain(t, "page of a used link", r.body, "invalid or has expired")
	}
	again := s.browser()
	again.get(link)
	if r := again.post("/reset", newPassword("yet another passphrase")); r.status != http.StatusBadRequest {
		t.Errorf("POST /reset with a used link = %d; want 400", r.status)
	} else {
		mustContain(t, "used link", r.body, "invalid or has expired")
	}
	if r := s.browser().login("ann@example.com", "a new long passphrase", false); r.header.Get("Location") != "/profile" {
		t.Errorf("login with the new password went to %q; want /profile", r.header.Get("Location"))
	}
}

func TestPasswordResetBadTokens(t *testing.T) {
	s := newMailSite(t, nil)
	s.loggedIn("ann@example.com", false)
	bob := s.loggedIn("bob@example.com", false)
	ann, err := s.store.UserByEmail(t.Context(), "ann@example.com")
	if err != nil {
		t.Fatal(err)
	}
	// An expired link, stored as the app stores them.
	if err := s.store.CreateToken(t.Context(), account.Token{Purpose: account.PurposeReset, UserID: ann.ID, Hash: account.HashSecret("expired-secret"),
		Email: ann.Email, ExpiresAt: time.Now().Add(-time.Minute)}); err != nil {
		t.Fatal(err)
	}
	// A verification link is not a reset link.
	bob.post("/verify/resend", url.Values{})
	verify := s.linkIn(s.mailTo("bob@example.com", "Confirm your email"), "/verify")
	verifyToken, _ := url.ParseQuery(strings.TrimPrefix(verify, "/verify?"))

	for name, tok := range map[string]string{
		"expired":       "expired-secret",
		"forged":        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"other purpose": verifyToken.Get("token"),
		"hostile":       strings.Repeat("<script>", 50),
	} {
		b := s.browser()
		b.get("/reset?token=" + url.QueryEscape(tok))
		if r := b.post("/reset", newPassword("a new long passphrase")); r.status != http.StatusBadRequest && r.status != http.StatusUnprocessableEntity {
			t.Errorf("%s token: POST /reset = %d; want 400 or 422", name, r.status)
		}
	}
	if r := s.browser().login("ann@example.com", goodPassword, false); r.header.Get("Location") != "/profile" {
		t.Errorf("after bad tokens, Ann's login went to %q; want /profile: her password must be unchanged", r.header.Get("Location"))
	}
}

func TestPasswordResetCodeOnAnotherDevice(t *testing.T) {
	s := newMailSite(t, nil)
	s.loggedIn("ann@example.com", false)
	s.loggedIn("bob@example.com", false)
	// The link is opened on the phone; the laptop types the code.
	s.browser().post("/forgot", url.Values{"email": {"ann@example.com"}})
	m := s.mailTo("ann@example.com", "Reset your password")
	code := codeIn(t, m)
	s.browser().get(s.linkIn(m, "/reset"))

	laptop := s.browser()
	r := laptop.get("/reset")
	mustContain(t, "reset page without a link", r.body, `name="email"`, `name="code"`, `name="password"`)
	form := newPassword("a new long passphrase")
	form.Set("email", "bob@example.com") // the code is tied to Ann's address
	form.Set("code", code)
	if r := laptop.post("/reset", form); r.status != http.StatusBadRequest {
		t.Errorf("Ann's code typed with Bob's address = %d; want 400", r.status)
	}
	form.Set("email", "ann@example.com")
	form.Set("code", strings.ToLower(code))
	if r := laptop.post("/reset", form); r.status != http.StatusSeeOther || r.header.Get("Location") != "/login" {
		t.Fatalf("POST /reset with the code = %d to %q; want 303 to /login (body %q)", r.status, r.header.Get("Location"), r.body)
	}
	if r := laptop.post("/reset", form); r.status != http.StatusBadRequest {
		t.Errorf("the code used again = %d; want 400", r.status)
	}

	// Guessing codes is throttled per address, whatever the client.
	s.browser().post("/forgot", url.Values{"email": {"bob@example.com"}})
	var last result
	for i := range 12 {
		g := s.browser()
		g.headers["X-Forwarded-For"] = "198.51.100." + string(rune('1'+i%9))
		f := newPassword("a new long passphrase")
		f.Set("email", "bob@example.com")
		f.Set("code", "AAAAAAAA")
		if last = g.post("/reset", f); last.status == http.StatusTooManyRequests {
			break
		}
	}
	if last.status != http.StatusTooManyRequests || last.header.Get("Retry-After") == "" {
		t.Errorf("12 wrong codes: last answer %d, Retry-After %q; want 429 with Retry-After", last.status, last.header.Get("Retry-After"))
	}
}

// TestFlashLinkAfterSentence checks that a message written as a sentence,
// followed by a link, reads as two sentences, not "one.. Go to".
func TestFlashLinkAfterSentence(t *testing.T) {
	s := newMailSite(t, nil)
	form := newPassword("a new long passphrase")
	form.Set("email", "ann@example.com")
	form.Set("code", "AAAAAAAA")
	r := s.browser().post("/reset", form)
	mustContain(t, "reset with a wrong code", r.body, `Please ask for a new one. Go to <a href="/forgot">forgot password</a>.`)
	if strings.Contains(r.body, "..") {
		t.Errorf("reset with a wrong code: page holds \"..\":\n%s", r.body)
	}
}

func TestForgotSameAnswerForUnknownAddress(t *testing.T) {
	s := newMailSite(t, nil)
	s.loggedIn("ann@example.com", false)
	known := s.browser().post("/forgot", url.Values{"email": {"ann@example.com"}})
	unknown := s.browser().post("/forgot", url.Values{"email": {"bob@example.com"}})
	if known.status != unknown.status || strings.ReplaceAll(known.body, "ann@", "bob@") != unknown.body {
		t.Errorf("POST /forgot: known %d, unknown %d, bodies differ beyond the address: %v", known.status, unknown.status, known.body != unknown.body)
	}
	s.app.Wait()
	if got := s.mail.to("bob@example.com"); len(got) != 0 {
		t.Errorf("mails to an address without an account: %+v; want none", got)
	}
	s.mailTo("ann@example.com", "Reset your password")
}

func TestMailFailureAnswersTheSame(t *testing.T) {
	s := newMailSite(t, nil)
	s.loggedIn("ann@example.com", false)
	s.app.Wait() // the sign-up's mail
	s.mail.mu.Lock()
	s.mail.fail = true
	s.mail.mu.Unlock()
	r := s.browser().post("/forgot", url.Values{"email": {"ann@example.com"}})
	if r.status != http.StatusOK {
		t.Errorf("POST /forgot with the queue full = %d; want 200", r.status)
	}
	s.app.Wait()
	mustContain(t, "log", s.logs.String(), "enqueue mail", "mail queue full")
}

func TestNoMailerLogsWithoutLinks(t *testing.T) {
	s := newMailSite(t, func(c *app.Config) { c.Mail = nil })
	s.loggedIn("ann@example.com", false)
	if r := s.browser().post("/forgot", url.Values{"email": {"ann@example.com"}}); r.status != http.StatusOK {
		t.Fatalf("POST /forgot without a mailer = %d; want 200", r.status)
	}
	s.app.Wait()
	logs := s.logs.String()
	mustContain(t, "log", logs, "level=WARN", "no mailer configured", "Reset your password")
	mustNotContain(t, "log", logs, "token=", "/reset?")
}

func TestMailThrottled(t *testing.T) {
	s := newMailSite(t, nil)
	s.loggedIn("ann@example.com", false)
	// Per recipient, from many clients.
	var last result
	for i := range 6 {
		b := s.browser()
		b.headers["X-Forwarded-For"] = "203.0.113." + string(rune('1'+i))
		if last = b.post("/forgot", url.Values{"email": {"ann@example.com"}}); last.status == http.StatusTooManyRequests {
			break
		}
	}
	if last.status != http.StatusTooManyRequests || last.header.Get("Retry-After") == "" {
		t.Errorf("POST /forgot for one address, repeated: %d, Retry-After %q; want 429 with Retry-After", last.status, last.header.Get("Retry-After"))
	}
	// Per client, across recipients.
	b := s.browser()
	b.headers["X-Forwarded-For"] = "192.0.2.77"
	for i := range 15 {
		if last = b.post("/forgot", url.Values{"email": {"user" + string(rune('a'+i)) + "@example.com"}}); last.status == http.StatusTooManyRequests {
			break
		}
	}
	if last.status != http.StatusTooManyRequests || last.header.Get("Retry-After") == "" {
		t.Errorf("POST /forgot from one client, many addresses: %d, Retry-After %q; want 429 with Retry-After", last.status, last.header.Get("Retry-After"))
	}
	// Resending a verification link is throttled too.
	ann := s.loggedIn("bob@example.com", false)
	for range 6 {
		if last = ann.post("/verify/resend", url.Values{}); last.status == http.StatusTooManyRequests {
			break
		}
	}
	if last.status != http.StatusTooManyRequests || last.header.Get("Retry-After") == "" {
		t.Errorf("POST /verify/resend, repeated: %d; want 429 with Retry-After", last.status)
	}
}

func TestHostCheck(t *testing.T) {
	s := newMailSite(t, nil)
	for _, path := range []string{"/", "/forgot", "/login"} {
		req, _ := http.NewRequest("GET", s.srv.URL+path, nil)
		req.Host = "evil.example"
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("GET %s with Host evil.example = %d; want 400", path, resp.StatusCode)
		}
	}
	req, _ := http.NewRequest("GET", s.srv.URL+"/healthz", nil)
	req.Host = "10.0.0.1:8080"
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusOK {
		t.Errorf("GET /healthz by another host = %v, %v; want 200 (load balancers)", resp, err)
	}
}

func TestForgedHostCannotChangeLinks(t *testing.T) {
	// Without a base URL, no Host is refused: links still come from the
	// listen address alone.
	s := newMailSite(t, func(c *app.Config) { c.BaseURL, c.ListenAddr = "", "latch.test:8080" })
	s.base = "http://latch.test:8080"
	b := s.loggedIn("ann@example.com", false)
	forged := func(path string, form url.Values) {
		req, _ := http.NewRequest("POST", s.srv.URL+path, strings.NewReader(form.Encode()))
		req.Host = "evil.example"
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", "http://evil.example")
		req.Header.Set("X-Forwarded-Host", "evil.example")
		for _, c := range b.cookies() {
			req.AddCookie(c)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	forged("/forgot", url.Values{"email": {"ann@example.com"}})
	forged("/signup", url.Values{"email": {"bob@example.com"}, "name": {"Bob"}, "password": {goodPassword}})
	forged("/verify/resend", url.Values{})
	s.linkIn(s.mailTo("ann@example.com", "Reset your password"), "/reset")
	s.linkIn(s.mailTo("bob@example.com", "Confirm your email"), "/verify")
	s.linkIn(s.mailTo("ann@example.com", "Confirm your email"), "/verify")
}

func TestVerifyEmail(t *testing.T) {
	s := newMailSite(t, nil)
	b := s.loggedIn("ann@example.com", false)
	mustContain(t, "account page", b.get("/account").body, "not confirmed")
	link := s.linkIn(s.mailTo("ann@example.com", "Confirm your email"), "/verify")
	r := b.get(link)
	if r.status != http.StatusSeeOther {
		t.Fatalf("GET %s = %d; want 303", link, r.status)
	}
	mustContain(t, "after verification", b.follow(r).body, "your email address is confirmed")
	mustContain(t, "account page", b.get("/account").body, "is-success is-light\">confirmed")
	r = b.get(link)
	mustContain(t, "used link", b.follow(r).body, "invalid or has expired")
}

func TestRequireVerifiedEmail(t *testing.T) {
	s := newMailSite(t, func(c *app.Config) { c.RequireVerifiedEmail = true })
	b := s.browser()
	fresh := b.signup("ann@example.com", "Ann", goodPassword)
	taken := s.browser().signup("ann@example.com", "Mallory", "another long passphrase")
	if fresh.status != http.StatusOK || taken.status != fresh.status || taken.body != fresh.body {
		t.Errorf("sign-up with a new address = %d, with a taken one = %d, same page %v; want 200 and the same page", fresh.status, taken.status, taken.body == fresh.body)
	}
	mustContain(t, "sign-up answer", fresh.body, "Check your inbox")
	// The owner hears of the attempt, with a way to reset the password.
	s.linkIn(s.mailTo("ann@example.com", "Someone tried to sign up"), "/reset")

	r := b.login("ann@example.com", goodPassword, false)
	if r.header.Get("Location") != "/verify" {
		t.Fatalf("unverified login went to %q; want /verify", r.header.Get("Location"))
	}
	mustContain(t, "verify page", b.get("/verify").body, "ann@example.com", `action="/verify/resend"`)
	if r := b.get("/profile"); r.status != http.StatusSeeOther || r.header.Get("Location") != "/verify" {
		t.Errorf("unverified /profile = %d to %q; want 303 to /verify", r.status, r.header.Get("Location"))
	}
	b.get(s.linkIn(s.mailTo("ann@example.com", "Confirm your email"), "/verify"))
	if r := b.get("/profile"); r.status != http.StatusOK {
		t.Errorf("verified /profile = %d; want 200", r.status)
	}
}

func TestAccountNameAndPassword(t *testing.T) {
	s := newMailSite(t, nil)
	b := s.loggedIn("ann@example.com", true)
	other := s.browser()
	other.login("ann@example.com", goodPassword, true)
	r := b.get("/account")
	mustContain(t, "account page", r.body, `action="/account/name"`, `action="/account/password"`, `action="/account/email"`, `action="/account/delete"`, `href="/account/export"`)
	mustContain(t, "navbar", b.get("/profile").body, `href="/account"`)

	if r := b.post("/account/name", url.Values{"name": {"  "}}); r.status != http.StatusUnprocessableEntity {
		t.Errorf("POST /account/name blank = %d; want 422", r.status)
	}
	b.post("/account/name", url.Values{"name": {"Ada Lovelace"}})
	mustContain(t, "profile after rename", b.get("/profile").body, "Welcome, Ada Lovelace!")

	change := func(current, pw, confirm string) result {
		return b.post("/account/password", url.Values{"current": {current}, "password": {pw}, "confirm": {confirm}})
	}
	if r := change("wrong password", "a new long passphrase", "a new long passphrase"); r.status != http.StatusUnprocessableEntity {
		t.Errorf("wrong current password = %d; want 422", r.status)
	} else {
		mustContain(t, "wrong current password", r.body, "not your current password")
	}
	if r := change(goodPassword, "a new long passphrase", "different"); r.status != http.StatusUnprocessableEntity {
		t.Errorf("confirmation differs = %d; want 422", r.status)
	}
	if r := change(goodPassword, "short", "short"); r.status != http.StatusUnprocessableEntity {
		t.Errorf("too short = %d; want 422", r.status)
	}
	// A login restored by remember-me is not fresh.
	third := s.browser()
	third.login("ann@example.com", goodPassword, true)
	if r := third.restart().post("/account/password", url.Values{"current": {goodPassword}, "password": {"a new long passphrase"}, "confirm": {"a new long passphrase"}}); r.status != http.StatusSeeOther || !strings.HasPrefix(r.header.Get("Location"), "/login") {
		t.Errorf("remembered login: POST /account/password = %d to %q; want 303 to /login", r.status, r.header.Get("Location"))
	}
	if r := change(goodPassword, "a new long passphrase", "a new long passphrase"); r.status != http.StatusSeeOther {
		t.Fatalf("change password = %d; want 303 (body %q)", r.status, r.body)
	}
	s.mailTo("ann@example.com", "Your password was changed")
	if r := b.get("/profile"); r.status != http.StatusOK {
		t.Errorf("the login session that made the change: /profile = %d; want 200", r.status)
	}
	if r := other.get("/profile"); r.status != http.StatusSeeOther {
		t.Errorf("other session after the change: /profile = %d; want 303", r.status)
	}
}

func TestChangeEmailAndUndo(t *testing.T) {
	s := newMailSite(t, nil)
	b := s.loggedIn("ann@example.com", false)
	s.loggedIn("bob@example.com", false)
	if r := b.post("/account/email", url.Values{"email": {"not an address"}}); r.status != http.StatusUnprocessableEntity {
		t.Errorf("invalid new email = %d; want 422", r.status)
	}
	if r := b.post("/account/email", url.Values{"email": {"ann@new.example"}}); r.status != http.StatusSeeOther {
		t.Fatalf("POST /account/email = %d; want 303", r.status)
	}
	mustContain(t, "account before confirmation", b.get("/account").body, "ann@example.com")
	confirm := s.linkIn(s.mailTo("ann@new.example", "Confirm your new email"), "/email/confirm")
	b.follow(b.get(confirm))
	mustContain(t, "account after confirmation", b.get("/account").body, "ann@new.example")

	undo := s.linkIn(s.mailTo("ann@example.com", "Your email address was changed"), "/email/undo")
	// Opening the undo link (a scanner does) changes nothing.
	r := s.browser().get(undo)
	if r.status != http.StatusOK || r.header.Get("Referrer-Policy") != "no-referrer" {
		t.Errorf("GET undo link = %d, Referrer-Policy %q; want 200, no-referrer", r.status, r.header.Get("Referrer-Policy"))
	}
	mustContain(t, "account after opening undo", b.get("/account").body, "ann@new.example")
	tok := regexp.MustCompile(`name="token" value="([^"]+)"`).FindStringSubmatch(r.body)
	if tok == nil {
		t.Fatalf("undo page has no token field: %q", r.body)
	}
	if r := s.browser().post("/email/undo", url.Values{"token": {tok[1]}}); r.status != http.StatusSeeOther {
		t.Fatalf("POST /email/undo = %d; want 303", r.status)
	}
	if r := b.get("/account"); r.status != http.StatusSeeOther {
		t.Errorf("after undo, the session is still alive: /account = %d; want 303", r.status)
	}
	if u, err := s.store.UserByEmail(t.Context(), "ann@example.com"); err != nil || u.EmailVerifiedAt.IsZero() {
		t.Errorf("after undo, UserByEmail(old) = %+v, %v; want the account back, verified", u, err)
	}
	again := s.browser()
	mustContain(t, "undo again", again.follow(again.post("/email/undo", url.Values{"token": {tok[1]}})).body, "invalid or has expired")
	// Another user's address: the confirmation says it is taken.
	b = s.browser()
	b.login("ann@example.com", goodPassword, false)
	b.post("/account/email", url.Values{"email": {"carol@example.com"}})
	confirm = s.linkIn(s.mailTo("carol@example.com", "Confirm your new email"), "/email/confirm")
	s.browser().signup("carol@example.com", "Carol", goodPassword)
	mustContain(t, "confirm a taken address", b.follow(b.get(confirm)).body, "Another account uses that address")
}

func TestExportAndDelete(t *testing.T) {
	s := newMailSite(t, nil)
	b := s.loggedIn("ann@example.com", false)
	r := b.get("/account/export")
	if r.status != http.StatusOK || !strings.Contains(r.header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("GET /account/export = %d, %q; want 200, an attachment", r.status, r.header.Get("Content-Disposition"))
	}
	var data struct {
		Profile  map[string]any   `json:"profile"`
		Sessions []map[string]any `json:"sessions"`
	}
	if err := json.Unmarshal([]byte(r.body), &data); err != nil {
		t.Fatalf("export is not JSON: %v", err)
	}
	if data.Profile["email"] != "ann@example.com" || len(data.Sessions) != 1 || data.Sessions[0]["current"] != true {
		t.Errorf("export = %s; want Ann's profile and her one session", r.body)
	}
	mustNotContain(t, "export", strings.ToLower(r.body), "hash", "argon2", "token")

	if r := b.post("/account/delete", url.Values{"password": {"wrong password"}}); r.status != http.StatusUnprocessableEntity {
		t.Errorf("delete with a wrong password = %d; want 422", r.status)
	}
	other := s.browser()
	other.login("ann@example.com", goodPassword, true)
	r = b.post("/account/delete", url.Values{"password": {goodPassword}})
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/" {
		t.Fatalf("delete = %d to %q; want 303 to /", r.status, r.header.Get("Location"))
	}
	mustContain(t, "home after delete", b.follow(r).body, "Your account has been deleted")
	s.mailTo("ann@example.com", "Your account was deleted")
	if _, err := s.store.UserByEmail(t.Context(), "ann@example.com"); !errors.Is(err, account.ErrUserNotFound) {
		t.Errorf("after delete, UserByEmail = %v; want %v", err, account.ErrUserNotFound)
	}
	for name, br := range map[string]*browser{"this browser": b, "another": other, "another's remember-me": other.restart()} {
		if r := br.get("/profile"); r.status != http.StatusSeeOther {
			t.Errorf("%s after delete: /profile = %d; want 303", name, r.status)
		}
	}
}

// TestLifecycleHostileInput posts what no form sends to every lifecycle
// endpoint: nothing may answer 5xx.
func TestLifecycleHostileInput(t *testing.T) {
	s := newMailSite(t, nil)
	b := s.loggedIn("ann@example.com", false)
	anon := s.browser()
	hostile := []string{"", "\x00", "\xff\xfe", strings.Repeat("a", 5000), "<script>alert(1)</script>", "ann@example.com\r\nBcc: x@example.com", "%00%0d%0a"}
	for _, v := range hostile {
		for _, c := range []struct {
			b    *browser
			path string
			form url.Values
		}{
			{anon, "/forgot", url.Values{"email": {v}}},
			{anon, "/reset", url.Values{"email": {v}, "code": {v}, "password": {v}, "confirm": {v}}},
			{anon, "/email/undo", url.Values{"token": {v}}},
			{b, "/account/name", url.Values{"name": {v}}},
			{b, "/account/email", url.Values{"email": {v}}},
			{b, "/account/password", url.Values{"current": {v}, "password": {v}, "confirm": {v}}},
			{b, "/account/delete", url.Values{"password": {v}}},
		} {
			if r := c.b.post(c.path, c.form); r.status >= 500 {
				t.Errorf("POST %s with %q = %d; want no 5xx", c.path, v, r.status)
			}
		}
		for _, path := range []string{"/reset?token=", "/verify?token=", "/email/confirm?token=", "/email/undo?token="} {
			if r := anon.get(path + url.QueryEscape(v)); r.status >= 500 {
				t.Errorf("GET %s%q = %d; want no 5xx", path, v, r.status)
			}
		}
	}
	s.app.Wait()
	for _, m := range s.mail.msgs {
		if strings.ContainsAny(m.To, "\r\n") {
			t.Errorf("a mail went to %q", m.To)
		}
	}
}

// TestTokensActOnTheirOwnUser opens links mailed to Bob in Ann's logged-in
// browser: each acts on Bob's account, never on the session's.
func TestTokensActOnTheirOwnUser(t *testing.T) {
	s := newMailSite(t, nil)
	ann := s.loggedIn("ann@example.com", false)
	bobBrowser := s.loggedIn("bob@example.com", false)

	ann.get(s.linkIn(s.mailTo("bob@example.com", "Confirm your email"), "/verify"))
	if u, _ := s.store.UserByEmail(t.Context(), "ann@example.com"); !u.EmailVerifiedAt.IsZero() {
		t.Errorf("Bob's verification link verified Ann")
	}
	if u, _ := s.store.UserByEmail(t.Context(), "bob@example.com"); u.EmailVerifiedAt.IsZero() {
		t.Errorf("Bob's verification link, opened by Ann, did not verify Bob")
	}

	bobBrowser.post("/account/email", url.Values{"email": {"bob@new.example"}})
	ann.get(s.linkIn(s.mailTo("bob@new.example", "Confirm your new email"), "/email/confirm"))
	if _, err := s.store.UserByEmail(t.Context(), "ann@example.com"); err != nil {
		t.Errorf("Bob's change link changed Ann's address: %v", err)
	}
	if _, err := s.store.UserByEmail(t.Context(), "bob@new.example"); err != nil {
		t.Errorf("Bob's change link, opened by Ann, did not move Bob: %v", err)
	}

	s.browser().post("/forgot", url.Values{"email": {"bob@new.example"}})
	ann.get(s.linkIn(s.mailTo("bob@new.example", "Reset your password"), "/reset"))
	ann.post("/reset", newPassword("a new long passphrase"))
	if r := s.browser().login("ann@example.com", goodPassword, false); r.header.Get("Location") != "/profile" {
		t.Errorf("Bob's reset link changed Ann's password")
	}
	if r := s.browser().login("bob@new.example", "a new long passphrase", false); r.header.Get("Location") != "/profile" {
		t.Errorf("Bob's reset link, used by Ann, did not change Bob's password")
	}
	if r := ann.get("/profile"); r.status != http.StatusOK {
		t.Errorf("Ann's session after Bob's reset: /profile = %d; want 200", r.status)
	}
}
