package app_test

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchauth/latch/internal/app"
	"github.com/latchauth/latch/throttle"
	"github.com/latchauth/latch/twofactor"
)

// testClock is a settable clock for the app, its throttling included.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// tfSite is a mail site on a test clock.
type tfSite struct {
	*mailSite
	clock *testClock
	tt    *testing.T
}

func newTFSite(t *testing.T, edit func(*app.Config)) *tfSite {
	t.Helper()
	clock := &testClock{t: time.Date(2026, 5, 6, 7, 8, 0, 0, time.UTC)}
	s := newMailSite(t, func(c *app.Config) {
		c.Now = clock.Now
		c.Throttle = throttle.NewPolicy(&throttle.MemoryStore{})
		c.Throttle.SetNow(clock.Now)
		if edit != nil {
			edit(c)
		}
	})
	return &tfSite{mailSite: s, clock: clock, tt: t}
}

var (
	secretRE = regexp.MustCompile(`<code id="secret" class="secret">([A-Z2-7]+)</code>`)
	tokenRE  = regexp.MustCompile(`name="token" value="([^"]+)"`)
	codesRE  = regexp.MustCompile(`<li><code>([a-z2-9]{5}-[a-z2-9]{5})</code></li>`)
)

// setup reads the secret and the setup token off the page.
func setup(t *testing.T, body string) (twofactor.Key, string) {
	t.Helper()
	m := secretRE.FindStringSubmatch(body)
	tok := tokenRE.FindStringSubmatch(body)
	if m == nil || tok == nil {
		t.Fatalf("setup page has no secret or token: %q", body)
	}
	k, ok := twofactor.ParseKey(m[1])
	if !ok {
		t.Fatalf("secret %q does not parse", m[1])
	}
	return k, html.UnescapeString(tok[1])
}

// enrol turns on two-step sign-in for the logged-in browser b and returns
// its key and recovery codes.
func (s *tfSite) enrol(b *browser) (twofactor.Key, []string) {
	s.t.Helper()
	r := b.get("/account/2fa")
	if r.status != 200 {
		s.t.Fatalf("GET /account/2fa = %d; want 200", r.status)
	}
	mustContain(s.tt, "setup page", r.body, `name="code"`, `src="data:image/png;base64,`)
	k, tok := setup(s.tt, r.body)
	r = b.post("/account/2fa", url.Values{"token": {tok}, "code": {twofactor.Code(k.Secret, s.clock.Now())}})
	if r.status != 200 {
		s.t.Fatalf("POST /account/2fa = %d; want 200 (%q)", r.status, r.body)
	}
	var codes []string
	for _, m := range codesRE.FindAllStringSubmatch(r.body, -1) {
		codes = append(codes, m[1])
	}
	if len(codes) != 10 {
		s.t.Fatalf("recovery codes shown after enrolment: %v; want 10", codes)
	}
	mustContain(s.tt, "recovery codes page", r.body, `download="recovery-codes.txt"`, "data:text/plain")
	s.clock.Add(twofactor.Period) // the enrolment's code is spent
	return k, codes
}

// partial logs a new browser in with the password and checks that it lands
// on the second step.
func (s *tfSite) partial(email string, remember bool) *browser {
	s.t.Helper()
	b := s.browser()
	r := b.login(email, goodPassword, remember)
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/login/2fa" {
		s.t.Fatalf("login = %d to %q; want 303 to /login/2fa", r.status, r.header.Get("Location"))
	}
	return b
}

func TestTwoFactorContract(t *testing.T) {
	s := newTFSite(t, nil)
	b := s.loggedIn("ann@example.com", false)
	k, _ := s.enrol(b)
	if m := s.mailTo("ann@example.com", "Two-step sign-in is on"); !strings.Contains(m.Text, "turned on") {
		t.Errorf("enrolment notice: %q", m.Text)
	}
	b.post("/logout", url.Values{})

	b = s.partial("ann@example.com", false)
	r := b.get("/login/2fa")
	if r.status != 200 {
		t.Fatalf("GET /login/2fa = %d", r.status)
	}
	mustContain(t, "second step", r.body, `<form method="post" action="/login/2fa"`, `name="code"`)
	for _, p := range []string{"/profile", "/account", "/account/2fa"} {
		if r := b.get(p); r.status != http.StatusSeeOther || !strings.HasPrefix(r.header.Get("Location"), "/login") {
			t.Errorf("GET %s with a partial login = %d to %q; want 303 to /login", p, r.status, r.header.Get("Location"))
		}
	}
	if r := b.get("/"); strings.Contains(r.body, `href="/profile"`) {
		t.Errorf("home page with a partial login shows the logged-in navbar")
	}
	r = b.post("/login/2fa", url.Values{"code": {twofactor.Code(k.Secret, s.clock.Now())}})
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/profile" {
		t.Fatalf("POST /login/2fa with the right code = %d to %q; want 303 to /profile (%q)", r.status, r.header.Get("Location"), r.body)
	}
	if r := b.get("/profile"); r.status != 200 || !strings.Contains(r.body, "Ann") {
		t.Fatalf("GET /profile after the code = %d", r.status)
	}
	if r := b.get("/login/2fa"); r.status != http.StatusSeeOther {
		t.Errorf("GET /login/2fa after completing = %d; want 303 away", r.status)
	}
}

func TestTwoFactorRefusals(t *testing.T) {
	s := newTFSite(t, nil)
	b := s.loggedIn("ann@example.com", false)
	k, _ := s.enrol(b)
	b.post("/logout", url.Values{})

	b = s.partial("ann@example.com", false)
	other := twofactor.NewKey()
	for _, c := range []struct {
		what, code, want string
	}{
		{"wrong", twofactor.Code(other.Secret, s.clock.Now()), "That code is not correct"},
		{"expired", twofactor.Code(k.Secret, s.clock.Now().Add(-3*twofactor.Period)), "That code has expired"},
		{"empty", "", "Please enter the 6-digit code"},
		{"junk", strings.Repeat("x", 5000), "That code is not correct"},
	} {
		r := b.post("/login/2fa", url.Values{"code": {c.code}})
		if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, c.want) {
			t.Errorf("%s code: %d; want 422 saying %q", c.what, r.status, c.want)
		}
		if r := b.get("/profile"); r.status != http.StatusSeeOther {
			t.Errorf("GET /profile after a %s code = %d; want 303", c.what, r.status)
		}
	}
	code := twofactor.Code(k.Secret, s.clock.Now())
	if r := b.post("/login/2fa", url.Values{"code": {code}}); r.status != http.StatusSeeOther {
		t.Fatalf("right code = %d; want 303", r.status)
	}
	// The same code, in another browser within its 30 seconds: refused.
	b2 := s.partial("ann@example.com", false)
	r := b2.post("/login/2fa", url.Values{"code": {code}})
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "already been used") {
		t.Errorf("replayed code: %d; want 422 saying it was used (%q)", r.status, r.body)
	}
	if r := b2.get("/profile"); r.status != http.StatusSeeOther {
		t.Errorf("GET /profile after a replayed code = %d; want 303", r.status)
	}
}

func TestTwoFactorPartialExpires(t *testing.T) {
	s := newTFSite(t, nil)
	b := s.loggedIn("ann@example.com", false)
	k, _ := s.enrol(b)
	b.post("/logout", url.Values{})
	b = s.partial("ann@example.com", false)
	s.clock.Add(5*time.Minute + time.Second)
	r := b.post("/login/2fa", url.Values{"code": {twofactor.Code(k.Secret, s.clock.Now())}})
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/login" {
		t.Fatalf("code after 5 minutes = %d to %q; want 303 to /login", r.status, r.header.Get("Location"))
	}
	if r := b.get("/login"); !strings.Contains(r.body, "more than 5 minutes") {
		t.Errorf("login page after an expired second step does not say why")
	}
	if r := b.get("/profile"); r.status != http.StatusSeeOther {
		t.Errorf("GET /profile = %d; want 303", r.status)
	}
}

func TestTwoFactorRecoveryCodes(t *testing.T) {
	s := newTFSite(t, nil)
	b := s.loggedIn("ann@example.com", false)
	_, codes := s.enrol(b)
	b.post("/logout", url.Values{})

	b = s.partial("ann@example.com", false)
	if r := b.post("/login/2fa", url.Values{"code": {strings.ToUpper(codes[3])}}); r.status != http.StatusSeeOther {
		t.Fatalf("recovery code = %d; want 303 (%q)", r.status, r.body)
	}
	if r := b.get("/profile"); r.status != 200 {
		t.Fatalf("GET /profile after a recovery code = %d", r.status)
	}
	if m := s.mailTo("ann@example.com", "recovery code was used"); !strings.Contains(m.Text, "9 are left") {
		t.Errorf("recovery code notice: %q", m.Text)
	}
	b2 := s.partial("ann@example.com", false)
	if r := b2.post("/login/2fa", url.Values{"code": {codes[3]}}); r.status != http.StatusUnprocessableEntity {
		t.Errorf("recovery code used twice = %d; want 422", r.status)
	}
	if r := b.get("/account"); !strings.Contains(r.body, "9 recovery codes left") {
		t.Errorf("account page does not count 9 recovery codes left")
	}
}

func TestTwoFactorThrottled(t *testing.T) {
	s := newTFSite(t, nil)
	b := s.loggedIn("ann@example.com", false)
	k, _ := s.enrol(b)
	b.post("/logout", url.Values{})
	other := twofactor.NewKey()
	// Wrong codes from several browsers count on the account together:
	// 5 are free, the sixth makes the next wait.
	for i := range 6 {
		pb := s.partial("ann@example.com", false)
		if r := pb.post("/login/2fa", url.Values{"code": {twofactor.Code(other.Secret, s.clock.Now())}}); r.status != http.StatusUnprocessableEntity {
			t.Fatalf("wrong code %d = %d; want 422", i+1, r.status)
		}
	}
	pb := s.partial("ann@example.com", false)
	r := pb.post("/login/2fa", url.Values{"code": {twofactor.Code(k.Secret, s.clock.Now())}})
	secs, _ := strconv.Atoi(r.header.Get("Retry-After"))
	if r.status != http.StatusTooManyRequests || secs < 1 || !strings.Contains(r.body, "Too many wrong codes") {
		t.Fatalf("code after 6 wrong ones = %d, Retry-After %q; want 429 with Retry-After", r.status, r.header.Get("Retry-After"))
	}
	if r := pb.get("/profile"); r.status != http.StatusSeeOther {
		t.Errorf("GET /profile after a throttled code = %d; want 303", r.status)
	}
	s.clock.Add(time.Duration(secs) * time.Second)
	if r := pb.post("/login/2fa", url.Values{"code": {twofactor.Code(k.Secret, s.clock.Now())}}); r.status != http.StatusSeeOther {
		t.Errorf("right code after the wait = %d; want 303", r.status)
	}
}

func TestTwoFactorTrustedDevice(t *testing.T) {
	s := newTFSite(t, nil)
	b := s.loggedIn("ann@example.com", false)
	k, _ := s.enrol(b)
	b.post("/logout", url.Values{})

	b = s.partial("ann@example.com", false)
	if r := b.post("/login/2fa", url.Values{"code": {twofactor.Code(k.Secret, s.clock.Now())}, "trust": {"on"}}); r.status != http.StatusSeeOther {
		t.Fatalf("code with trust = %d", r.status)
	}
	c := b.jar.set["latch_trusted"]
	if c == nil || !c.HttpOnly || c.MaxAge != 30*24*3600 {
		t.Fatalf("trusted-device cookie = %+v; want HttpOnly, 30 days", c)
	}
	b.post("/logout", url.Values{})
	// This browser skips the second step; another does not.
	if r := b.login("ann@example.com", goodPassword, false); r.header.Get("Location") != "/profile" {
		t.Fatalf("login on the trusted browser goes to %q; want /profile", r.header.Get("Location"))
	}
	s.partial("ann@example.com", false)
	r := b.get("/account/2fa")
	mustContain(t, "2fa page", r.body, "Remembered browsers", "Forget")
	// Forgotten from the account page: asked again.
	id := regexp.MustCompile(`name="id" value="([0-9a-f]+)"`).FindStringSubmatch(r.body)
	if id == nil {
		t.Fatalf("no device to forget on %q", r.body)
	}
	if r := b.post("/account/2fa/devices/forget", url.Values{"id": {id[1]}}); r.status != http.StatusSeeOther {
		t.Fatalf("forget device = %d", r.status)
	}
	b.post("/logout", url.Values{})
	if r := b.login("ann@example.com", goodPassword, false); r.header.Get("Location") != "/login/2fa" {
		t.Errorf("login after forgetting the device goes to %q; want /login/2fa", r.header.Get("Location"))
	}
	// After 30 days, a trusted browser is asked again.
	s.clock.Add(twofactor.Period)
	b = s.partial("ann@example.com", false)
	b.post("/login/2fa", url.Values{"code": {twofactor.Code(k.Secret, s.clock.Now())}, "trust": {"on"}})
	b.post("/logout", url.Values{})
	s.clock.Add(30*24*time.Hour + time.Minute)
	if r := b.login("ann@example.com", goodPassword, false); r.header.Get("Location") != "/login/2fa" {
		t.Errorf("login after 30 days goes to %q; want /login/2fa", r.header.Get("Location"))
	}
}

func TestTwoFactorTrustEndsWithPasswordReset(t *testing.T) {
	s := newTFSite(t, nil)
	b := s.loggedIn("ann@example.com", false)
	k, _ := s.enrol(b)
	b.post("/logout", url.Values{})
	b = s.partial("ann@example.com", false)
	b.post("/login/2fa", url.Values{"code": {twofactor.Code(k.Secret, s.clock.Now())}, "trust": {"on"}})
	b.post("/logout", url.Values{})

	b.post("/forgot", url.Values{"email": {"ann@example.com"}})
	link := s.linkIn(s.mailTo("ann@example.com", "Reset"), "/reset")
	b.follow(b.get(link))
	const newPw = "a brand new password"
	if r := b.post("/reset", newPassword(newPw)); r.status != http.StatusSeeOther {
		t.Fatalf("reset = %d (%q)", r.status, r.body)
	}
	r := b.login("ann@example.com", newPw, false)
	if r.header.Get("Location") != "/login/2fa" {
		t.Errorf("login after a password reset on the trusted browser goes to %q; want /login/2fa", r.header.Get("Location"))
	}
}

func TestTwoFactorEnrolment(t *testing.T) {
	s := newTFSite(t, nil)
	b := s.loggedIn("ann@example.com", false)
	r := b.get("/account/2fa")
	k, tok := setup(t, r.body)
	other := twofactor.NewKey()
	r = b.post("/account/2fa", url.Values{"token": {tok}, "code": {twofactor.Code(other.Secret, s.clock.Now())}})
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "That code is not correct") {
		t.Errorf("enrolment with a wrong code = %d; want 422 saying so", r.status)
	}
	// The page shows the same key again, to retry without rescanning.
	if k2, _ := setup(t, r.body); k2.Base32() != k.Base32() {
		t.Errorf("the key changed after a wrong code")
	}
	r = b.post("/account/2fa", url.Values{"token": {tok + "x"}, "code": {twofactor.Code(k.Secret, s.clock.Now())}})
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "This setup has expired") {
		t.Errorf("enrolment with a forged token = %d; want 422", r.status)
	}
	s.clock.Add(31 * time.Minute)
	r = b.post("/account/2fa", url.Values{"token": {tok}, "code": {twofactor.Code(k.Secret, s.clock.Now())}})
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "This setup has expired") {
		t.Errorf("enrolment after 31 minutes = %d; want 422", r.status)
	}
	// A login restored from remember-me is not fresh: no setup page.
	rb := s.loggedIn("bob@example.com", true).restart()
	if r := rb.get("/account/2fa"); r.status != http.StatusSeeOther || !strings.HasPrefix(r.header.Get("Location"), "/login/confirm") {
		t.Errorf("GET /account/2fa not fresh = %d to %q; want 303 to /login/confirm", r.status, r.header.Get("Location"))
	}
	b.post("/logout", url.Values{})
	if r := b.login("ann@example.com", goodPassword, false); r.header.Get("Location") != "/profile" {
		t.Errorf("login without enrolment goes to %q; want /profile", r.header.Get("Location"))
	}
}

func TestTwoFactorDisable(t *testing.T) {
	s := newTFSite(t, nil)
	b := s.loggedIn("ann@example.com", false)
	s.enrol(b)
	if r := b.post("/account/2fa/disable", url.Values{}); r.status != http.StatusSeeOther {
		t.Fatalf("disable = %d", r.status)
	}
	s.mailTo("ann@example.com", "Two-step sign-in is off")
	b.post("/logout", url.Values{})
	if r := b.login("ann@example.com", goodPassword, false); r.header.Get("Location") != "/profile" {
		t.Errorf("login after disabling goes to %q; want /profile", r.header.Get("Location"))
	}
}

func TestTwoFactorResetByEmail(t *testing.T) {
	s := newTFSite(t, nil)
	b := s.loggedIn("ann@example.com", false)
	s.enrol(b)

	// Someone with the password, but without the phone, asks.
	lost := s.partial("ann@example.com", false)
	r := lost.post("/login/2fa/recover", url.Values{})
	if r.status != 200 || !strings.Contains(r.body, "We have sent a mail to ann@example.com") {
		t.Fatalf("recover = %d (%q)", r.status, r.body)
	}
	m := s.mailTo("ann@example.com", "Removal of your two-step sign-in")
	mustContain(t, "reset mail", m.Text, "Saturday 9 May 2026", s.linkIn(m, "/account"))
	// Any logged-in session sees it and may cancel it.
	r = b.get("/account")
	mustContain(t, "account page", r.body, "due to be removed", "Saturday 9 May 2026", `action="/account/2fa/reset/cancel"`)
	if r := b.post("/account/2fa/reset/cancel", url.Values{}); r.status != http.StatusSeeOther {
		t.Fatalf("cancel = %d", r.status)
	}
	s.mailTo("ann@example.com", "cancelled")
	if r := b.get("/account"); strings.Contains(r.body, "due to be removed") {
		t.Errorf("account page still shows the removal after cancelling")
	}
	s.clock.Add(4 * 24 * time.Hour)
	if r := s.browser().login("ann@example.com", goodPassword, false); r.header.Get("Location") != "/login/2fa" {
		t.Fatalf("login after a cancelled reset goes to %q; want /login/2fa", r.header.Get("Location"))
	}

	// Not cancelled: before the wait, the code is still owed; after it,
	// the password alone logs in and the factors are gone.
	lost = s.partial("ann@example.com", false)
	lost.post("/login/2fa/recover", url.Values{})
	s.clock.Add(3*24*time.Hour - time.Minute)
	s.partial("ann@example.com", false)
	s.clock.Add(time.Minute)
	if r := lost.login("ann@example.com", goodPassword, false); r.header.Get("Location") != "/profile" {
		t.Fatalf("login after the wait goes to %q; want /profile", r.header.Get("Location"))
	}
	s.mailTo("ann@example.com", "Two-step sign-in was removed")
	r = lost.get("/account/2fa")
	mustContain(t, "2fa page after reset", r.body, "Set up an authenticator app")
}

func TestTwoFactorResetDelaySetting(t *testing.T) {
	s := newTFSite(t, func(c *app.Config) { c.TwoFactorResetDelay = time.Hour })
	b := s.loggedIn("ann@example.com", false)
	s.enrol(b)
	lost := s.partial("ann@example.com", false)
	lost.post("/login/2fa/recover", url.Values{})
	s.clock.Add(time.Hour)
	if r := lost.login("ann@example.com", goodPassword, false); r.header.Get("Location") != "/profile" {
		t.Errorf("login an hour after asking, with a delay of an hour, goes to %q; want /profile", r.header.Get("Location"))
	}
}

// TestPasskeyEndpointsRefuseHostileInput sends the passkey endpoints what
// no browser following the pages would: answers without a ceremony, forged
// ceremony cookies, other users' passkeys, bad names.
func TestPasskeyEndpointsRefuseHostileInput(t *testing.T) {
	s := newMailSite(t, func(c *app.Config) { c.BaseURL = "" }) // localhost: passkeys on
	b := s.loggedIn("ann@example.com", false)
	for _, c := range []struct {
		path string
		want int
	}{
		{"/account/passkeys/finish?name=Laptop", http.StatusBadRequest},
		{"/account/passkeys/finish?name=", http.StatusUnprocessableEntity},
		{"/account/passkeys/finish?name=" + strings.Repeat("x", 61), http.StatusUnprocessableEntity},
		{"/login/passkey/finish", http.StatusBadRequest},
	} {
		r := b.do("POST", c.path, url.Values{}, "Cookie", "latch_webauthn=eyJwIjoibG9naW4ifQ.forged")
		if r.status != c.want || !strings.HasPrefix(r.header.Get("Content-Type"), "application/json") || !strings.Contains(r.body, `"error"`) {
			t.Errorf("POST %s = %d %q; want %d with a JSON error", c.path, r.status, r.body, c.want)
		}
	}
	// Begin gives options for this user; its cookie is signed and for
	// registration only.
	r := b.post("/account/passkeys/begin", url.Values{})
	if r.status != 200 || !strings.Contains(r.body, `"challenge"`) || !strings.Contains(r.body, `"residentKey":"required"`) {
		t.Fatalf("POST /account/passkeys/begin = %d %q", r.status, r.body)
	}
	if r := b.post("/login/passkey/finish", url.Values{}); r.status != http.StatusBadRequest {
		t.Errorf("a registration's ceremony used to log in = %d; want 400", r.status)
	}
	// Without a partial login, the second step's endpoints refuse.
	if r := s.browser().post("/login/2fa/passkey/begin", url.Values{}); r.status != http.StatusUnauthorized {
		t.Errorf("POST /login/2fa/passkey/begin without a partial login = %d; want 401", r.status)
	}
	// Anonymous: no registration.
	if r := s.browser().post("/account/passkeys/begin", url.Values{}); r.status != http.StatusUnauthorized {
		t.Errorf("POST /account/passkeys/begin anonymous = %d; want 401", r.status)
	}
	// Another user's passkey cannot be renamed or removed.
	for _, p := range []string{"/account/passkeys/rename", "/account/passkeys/delete"} {
		r := b.post(p, url.Values{"id": {"0123456789abcdef01234567"}, "name": {"Mine"}})
		if r.status != http.StatusSeeOther {
			t.Errorf("POST %s of an unknown passkey = %d; want 303", p, r.status)
		}
		if r := b.get("/account/2fa"); !strings.Contains(r.body, "That passkey is not one of yours any more.") {
			t.Errorf("POST %s of an unknown passkey: no message", p)
		}
	}
}

// TestScriptOnlyWherePasskeysNeedIt checks the Content-Security-Policy:
// script from the site itself on the pages that use passkeys, none
// anywhere else.
func TestScriptOnlyWherePasskeysNeedIt(t *testing.T) {
	s := newMailSite(t, func(c *app.Config) { c.BaseURL = "" })
	b := s.loggedIn("ann@example.com", false)
	for path, script := range map[string]bool{"/account/2fa": true, "/profile": false, "/account": false, "/": false} {
		r := b.get(path)
		csp := r.header.Get("Content-Security-Policy")
		if got := strings.Contains(csp, "script-src 'self'"); got != script || strings.Contains(csp, "unsafe-inline") {
			t.Errorf("GET %s: CSP %q; want script from the site: %v", path, csp, script)
		}
		if got := strings.Contains(r.body, "<script"); got != script {
			t.Errorf("GET %s has a script: %v; want %v", path, got, script)
		}
	}
	r := s.browser().get("/login")
	if !strings.Contains(r.header.Get("Content-Security-Policy"), "script-src 'self'") || !strings.Contains(r.body, `<script src="/static/passkey.js" defer></script>`) {
		t.Errorf("login page: no passkey script")
	}
	// A site reached by IP address has no passkeys, and no script.
	ip := newMailSite(t, nil)
	if r := ip.browser().get("/login"); strings.Contains(r.body, "<script") || strings.Contains(r.header.Get("Content-Security-Policy"), "script-src") {
		t.Errorf("login page of a site at an IP address has a script")
	}
}
