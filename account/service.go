package account

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"net/mail"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/latchauth/latch/password"
	"github.com/latchauth/latch/throttle"
	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// ErrBadCredentials is the one answer to a failed login, whether the email
// is unknown or the password wrong.
var ErrBadCredentials = errors.New("account: wrong email or password")

// ThrottledError is returned by [Service.Authenticate] while a login must
// wait after too many failures, even for the right password.
type ThrottledError struct {
	// RetryAfter is how long to wait before the next attempt.
	RetryAfter time.Duration
}

// Error says how long to wait.
func (e *ThrottledError) Error() string {
	return fmt.Sprintf("account: too many failed login attempts; try again in %s", e.RetryAfter.Round(time.Second))
}

// FieldErrors maps form fields ("email", "name", "password") to a message a
// person can act on. It is returned by [Service.SignUp] when input is invalid.
type FieldErrors map[string]string

// Error lists the fields and their messages.
func (e FieldErrors) Error() string {
	var b strings.Builder
	b.WriteString("account: invalid input:")
	for _, f := range []string{"email", "name", "password"} {
		if msg, ok := e[f]; ok {
			fmt.Fprintf(&b, " %s: %s", f, msg)
		}
	}
	return b.String()
}

// Limits on input, in bytes or characters as stated.
const (
	// MaxEmailLength is the longest email accepted, in bytes (RFC 5321).
	MaxEmailLength = 254
	// MaxNameLength is the longest name accepted, in characters.
	MaxNameLength = 100
)

// Service applies the account rules on top of a [Store]. Its exported fields
// are settings; [NewService] fills the defaults.
type Service struct {
	// Store keeps the accounts. Required.
	Store Store
	// Hasher hashes and verifies passwords. Required.
	Hasher *password.Hasher
	// Tokens keeps mailed links and codes. NewService sets it to Store
	// when Store is also a TokenStore; nil makes the methods that mail
	// links return ErrNoTokenStore.
	Tokens TokenStore
	// CodeLimiter throttles guesses of mailed short codes per email
	// address, from any client: 5 free, locked for an hour after 10.
	// NewService sets it up on the store of the policy's limiters; nil
	// disables it.
	CodeLimiter *throttle.Limiter
	// Throttle slows down failed logins per device, per account and per
	// client address (see [throttle.Policy]); nil disables throttling.
	Throttle *throttle.Policy
	// Devices verifies the device cookies given to Authenticate; nil
	// treats every login as coming from an unknown device. Its user names
	// are account IDs in decimal: a password reset and "log out
	// everywhere" call Devices.Revoke(ctx, strconv.FormatInt(id, 10)).
	Devices *throttle.Devices
	// MinPasswordLength is the shortest password accepted, in characters.
	// Default 8, the NIST SP 800-63B minimum.
	MinPasswordLength int
	// Now returns the current time; tests replace it. Default time.Now.
	Now func() time.Time
}

// NewService returns a Service with the default settings, throttling
// logins with policy (nil: not at all). When store is a [HashSampler],
// hasher's failed verifications take as long as the slowest stored hash
// format would, so that timing does not tell which users were imported
// with a cheaper one (see [password.Hasher.WatchStoredHashes]).
func NewService(store Store, hasher *password.Hasher, policy *throttle.Policy) *Service {
	s := &Service{Store: store, Hasher: hasher, Throttle: policy, MinPasswordLength: 8, Now: time.Now}
	if hs, ok := store.(HashSampler); ok && hasher != nil {
		hasher.WatchStoredHashes(hs.LegacyHashSamples)
	}
	if policy != nil && policy.Account != nil {
		// A code is 8 characters from 23: 5 free guesses, then a lockout,
		// leave an attacker a chance of about 1 in 10^10 per hour.
		cl := throttle.New(policy.Account.Store)
		cl.Free, cl.Max, cl.Lockout, cl.Now = 5, 10, time.Hour, policy.Account.Now
		s.CodeLimiter = cl
	}
	s.Tokens, _ = store.(TokenStore)
	return s
}

// canonicalEmail is the form emails are stored and compared in: trimmed,
// in Unicode normalisation form NFKC and case-folded, so that addresses
// that look the same (a full-width "Ａ", "ß" and "ss", composed and
// decomposed accents) are one address to the unique index. ASCII, the
// usual case, is lower-cased, which is the same thing.
func canonicalEmail(s string) string {
	s = strings.TrimSpace(s)
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			// Folding can undo NFKC ("ǅ" folds to "ǆ", whose NFKC is
			// "dž"); normalising again makes the result stable.
			return norm.NFKC.String(cases.Fold().String(norm.NFKC.String(s)))
		}
	}
	return strings.ToLower(s)
}

// EmailError is the error [NormalizeEmail] returns. Its message speaks to the
// person typing the address; Problem, when set, says what is wrong with it in
// words for anyone, such as an operator reading an import report.
type EmailError struct {
	// Problem is what is wrong, such as "contains an invisible character
	// (U+200B)"; empty for the plain "not an address" cases.
	Problem string
	msg     string
}

// Error returns the message for the person typing the address.
func (e *EmailError) Error() string { return e.msg }

// emailRuneProblem describes the first character of s that no address
// should hold: one that cannot be seen, or that changes how the text
// around it is shown, and so can make one address pass for another.
func emailRuneProblem(s string) string {
	for _, r := range s {
		var what string
		switch {
		case r > ' ' && r < utf8.RuneSelf && r != 0x7f:
			continue // printable ASCII, the usual case
		case unicode.IsControl(r):
			what = "a control character"
		case unicode.Is(unicode.Bidi_Control, r):
			what = "a character that changes the direction of text"
		case unicode.Is(unicode.Cf, r), unicode.Is(unicode.Other_Default_Ignorable_Code_Point, r),
			unicode.Is(unicode.Variation_Selector, r), unicode.Is(unicode.Co, r):
			what = "an invisible character"
		case r != ' ' && unicode.Is(unicode.Z, r):
			what = "a special space character"
		default:
			continue
		}
		return fmt.Sprintf("contains %s (U+%04X)", what, r)
	}
	return ""
}

// NormalizeEmail returns an email address in the form it is stored and
// compared in (trimmed, NFKC, case-folded), after checking that it is a
// plain address (no display name, no comments) at a domain name, made of
// valid text without control, invisible or direction-changing characters.
// Its error is an [*EmailError] with a message a person can act on.
func NormalizeEmail(s string) (string, error) {
	s = strings.TrimSpace(s)
	invalid := &EmailError{msg: "Please enter a valid email address, like name@example.com."}
	switch {
	case s == "":
		return "", &EmailError{msg: "Please enter your email address."}
	case !utf8.ValidString(s):
		return "", &EmailError{Problem: "is not valid UTF-8 text", msg: "Your email address contains bytes that are not valid text; please type it again."}
	}
	if p := emailRuneProblem(s); p != "" {
		return "", &EmailError{Problem: p, msg: "Your email address " + p + ", often pasted by accident and never part of an address; please type it again."}
	}
	s = canonicalEmail(s)
	if len(s) > MaxEmailLength {
		return "", &EmailError{msg: fmt.Sprintf("Email addresses are at most %d characters long.", MaxEmailLength)}
	}
	at := strings.LastIndexByte(s, '@')
	if at >= 0 {
		domain := s[at+1:]
		if _, err := netip.ParseAddr(strings.Trim(domain, "[]")); err == nil || strings.HasPrefix(domain, "[") {
			return "", &EmailError{
				Problem: "is at an IP address rather than a domain name",
				msg:     "Please use an address at a domain name, like name@example.com, not at an IP address.",
			}
		}
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" || !strings.Contains(s[at+1:], ".") {
		return "", invalid
	}
	return s, nil
}

// userByEmail finds the user with the email raw, as typed. An account stored
// before emails were kept in NFKC and case-folded form was stored trimmed
// and lower-cased, which differs for a few addresses outside ASCII: it is
// found by that form when the canonical one finds nobody.
func (s *Service) userByEmail(ctx context.Context, raw string) (User, error) {
	email := canonicalEmail(raw)
	u, err := s.Store.UserByEmail(ctx, email)
	if old := strings.ToLower(strings.TrimSpace(raw)); errors.Is(err, ErrUserNotFound) && old != email && len(old) <= MaxEmailLength {
		return s.Store.UserByEmail(ctx, old)
	}
	return u, err
}

// SignUp validates the input, hashes the password and creates the account.
// It returns [FieldErrors] for invalid input, [ErrEmailTaken] when the email
// has an account (also under concurrent sign-ups), and [password.ErrBusy]
// when the server is too busy hashing.
func (s *Service) SignUp(ctx context.Context, email, name, pw string) (User, error) {
	u, errs := s.validate(email, name, pw)
	if len(errs) > 0 {
		return User{}, errs
	}
	if s.Hasher.Busy() {
		return User{}, password.ErrBusy
	}
	// Checking first saves an expensive hash; the unique index still
	// decides under concurrency.
	if _, err := s.userByEmail(ctx, email); err == nil {
		return User{}, ErrEmailTaken
	} else if !errors.Is(err, ErrUserNotFound) {
		return User{}, fmt.Errorf("account: look up email: %w", err)
	}
	hash, err := s.Hasher.Hash(ctx, pw)
	if err != nil {
		return User{}, fmt.Errorf("account: hash password: %w", err)
	}
	u.PasswordHash = hash
	u, err = s.Store.CreateUser(ctx, u)
	if err != nil {
		return User{}, fmt.Errorf("account: create user: %w", err)
	}
	return u, nil
}

func (s *Service) validate(email, name, pw string) (User, FieldErrors) {
	errs := FieldErrors{}
	e, err := NormalizeEmail(email)
	if err != nil {
		errs["email"] = err.Error()
	}
	n, err := NormalizeName(name)
	if err != nil {
		errs["name"] = err.Error()
	}
	if err := s.CheckNewPassword(pw, email, name); err != nil {
		errs["password"] = err.Error()
	}
	return User{Email: e, Name: n}, errs
}

// NormalizeName trims a display name and checks it is present, at most
// [MaxNameLength] characters and free of control characters.
func NormalizeName(s string) (string, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return "", errors.New("Please enter your name.")
	case !utf8.ValidString(s):
		return "", errors.New("Your name contains characters that are not valid text.")
	case utf8.RuneCountInString(s) > MaxNameLength:
		return "", fmt.Errorf("Names are at most %d characters long.", MaxNameLength)
	case strings.IndexFunc(s, unicode.IsControl) >= 0:
		return "", errors.New("Your name contains control characters; please use letters, spaces and punctuation.")
	}
	return s, nil
}

// CheckPassword applies the password rules to a new password: valid text, at
// least MinPasswordLength characters, at most [password.MaxLength] bytes,
// not one character repeated, and not a commonly used password. Use
// [Service.CheckNewPassword] when the account's email and name are known.
func (s *Service) CheckPassword(pw string) error {
	return s.CheckNewPassword(pw, "", "")
}

// CheckNewPassword applies [Service.CheckPassword]'s rules to a new password
// for the account with email and name, and refuses too the email, its part
// before the @ and the name, compared after NFKC and case folding: they are
// the first guesses of anyone who knows whose account it is.
func (s *Service) CheckNewPassword(pw, email, name string) error {
	if err := s.checkPassword(pw); err != nil {
		return err
	}
	p := canonicalEmail(pw)
	email = canonicalEmail(email)
	local, _, _ := strings.Cut(email, "@")
	switch {
	case email != "" && (p == email || p == local):
		return errors.New("Please don't use your email address, or its part before the @, as your password: it is the first thing anyone would try.")
	case strings.TrimSpace(name) != "" && p == canonicalEmail(name):
		return errors.New("Please don't use your name as your password: it is the first thing anyone would try.")
	}
	return nil
}

func (s *Service) checkPassword(pw string) error {
	first, _ := utf8.DecodeRuneInString(pw)
	switch {
	case !utf8.ValidString(pw):
		return errors.New("Your password contains bytes that are not valid text.")
	case utf8.RuneCountInString(pw) < s.MinPasswordLength:
		return fmt.Errorf("Please choose a password of at least %d characters.", s.MinPasswordLength)
	case len(pw) > password.MaxLength:
		return fmt.Errorf("Passwords are at most %d bytes long.", password.MaxLength)
	case strings.Trim(pw, string(first)) == "":
		return errors.New("A password of one character repeated is easy to guess; please choose another.")
	case isCommon(pw):
		return errors.New("This password is too common and easy to guess; please choose another.")
	}
	return nil
}

//go:embed common-passwords.txt
var commonList string

var common = sync.OnceValue(func() map[string]struct{} {
	m := make(map[string]struct{}, 30000)
	for line := range strings.Lines(commonList) {
		m[strings.TrimSpace(line)] = struct{}{}
	}
	return m
})

// isCommon reports whether pw, ignoring case, is on the list of common
// passwords (zxcvbn's 30,000 most frequent, MIT licence).
func isCommon(pw string) bool {
	_, ok := common()[strings.ToLower(pw)]
	return ok
}

// Login is an attempt to log in, as given to [Service.Authenticate].
type Login struct {
	// Email and Password are as the user typed them.
	Email, Password string
	// Client is the client's IP address.
	Client string
	// Device is the value of the browser's device cookie, as
	// [throttle.Devices.Issue] returned it after an earlier login; empty
	// for none.
	Device string
}

// Authenticate checks a login and returns the user. It returns
// [ErrBadCredentials] for an unknown email or a wrong password alike,
// [*ThrottledError] while the attempt must wait, and [password.ErrBusy]
// when the server is too busy hashing. On success it records the login
// and, when the stored hash uses an old format or old parameters, replaces
// it with a current one in the same write.
//
// A Device naming the account makes the attempt a known device's, which
// [throttle.Policy] counts on the device alone; any other counts on the
// account and the client address. Each attempt counts as a failure before
// its password is checked (see [throttle.Policy.Begin]): otherwise attempts
// sent in parallel would all be checked before the first failure was
// counted. The count is given back when the attempt does not fail after
// all.
func (s *Service) Authenticate(ctx context.Context, in Login) (User, error) {
	// Under a login storm, refuse before any database work: a login that
	// would find the hashing queue full should cost nothing.
	if s.Hasher.Busy() {
		return User{}, password.ErrBusy
	}
	raw := in.Email
	email := canonicalEmail(raw)
	// No account has an email longer than MaxEmailLength: a longer one is
	// an unknown user, cut for its throttle key, which stays apart from
	// every real account's.
	tooLong := len(email) > MaxEmailLength
	if tooLong {
		email = email[:MaxEmailLength+1]
	}
	// The user is looked up before the throttle, which needs to know
	// whether the device cookie is this user's.
	var u User
	if !tooLong {
		var err error
		if u, err = s.userByEmail(ctx, raw); err != nil && !errors.Is(err, ErrUserNotFound) {
			return User{}, fmt.Errorf("account: look up email: %w", err)
		}
	}
	keys := throttle.Keys{Account: email, Client: in.Client}
	// An unknown email's user is "0", which no cookie names: the cookie
	// is checked the same way, so that its check does not tell either.
	if in.Device != "" && s.Devices != nil {
		dev, err := s.Devices.Verify(ctx, in.Device, strconv.FormatInt(u.ID, 10))
		if err != nil {
			return User{}, fmt.Errorf("account: %w", err)
		}
		keys.Device = dev
	}
	ticket, err := s.begin(ctx, keys)
	if err != nil {
		return User{}, err
	}
	// An unknown email is verified against nothing: the Hasher then does
	// the same work as for a real hash, so timing does not tell.
	ok, rehash, err := s.Hasher.Verify(ctx, u.PasswordHash, in.Password)
	switch {
	case errors.Is(err, password.ErrBusy), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		// Abandoned unchecked: no failure.
		return User{}, release(ctx, err, ticket)
	case errors.Is(err, password.ErrTooLong):
		ok = false // no password that long was ever accepted
	case err != nil:
		// An unreadable stored hash is no wrong password: it must reach
		// the logs, not lock the user out as failures would.
		return User{}, release(ctx, fmt.Errorf("account: check the password of user %d: %w", u.ID, err), ticket)
	}
	if !ok || u.ID == 0 {
		// The failures counted in advance stand.
		return User{}, ErrBadCredentials
	}
	var newHash string
	if rehash {
		if newHash, err = s.Hasher.Hash(ctx, in.Password); err != nil {
			newHash = "" // keep the old hash; rehash on a later login
		}
	}
	now := s.Now()
	if err := s.Store.RecordLogin(ctx, u.ID, now, newHash); err != nil {
		return User{}, release(ctx, fmt.Errorf("account: record login: %w", err), ticket)
	}
	u.LastLoginAt = now
	if newHash != "" {
		u.PasswordHash = newHash
	}
	if ticket != nil {
		if err := ticket.Succeed(ctx); err != nil {
			return User{}, fmt.Errorf("account: %w", err)
		}
	}
	return u, nil
}

// begin counts an attempt with s.Throttle, or returns a [*ThrottledError]
// while it must wait. Without a Throttle it throttles nothing, and returns
// a nil Ticket.
func (s *Service) begin(ctx context.Context, k throttle.Keys) (*throttle.Ticket, error) {
	if s.Throttle == nil {
		return nil, nil
	}
	t, wait, err := s.Throttle.Begin(ctx, k)
	if err != nil {
		return nil, fmt.Errorf("account: %w", err)
	}
	if t == nil {
		return nil, &ThrottledError{RetryAfter: wait}
	}
	return t, nil
}

// releaseTimeout bounds the time spent giving back an attempt's failure,
// which goes on after the request's context is done.
const releaseTimeout = 5 * time.Second

// release gives back the failure counted for an attempt that ended in err
// without a wrong password, and returns err, joined with any error in doing
// so. It runs even when ctx is done, since a cancelled request is one reason
// to abandon an attempt; a failure it cannot give back stays counted.
func release(ctx context.Context, err error, t *throttle.Ticket) error {
	if t == nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), releaseTimeout)
	defer cancel()
	if rerr := t.Release(ctx); rerr != nil {
		err = errors.Join(err, rerr)
	}
	return err
}
