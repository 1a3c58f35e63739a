package account

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"net/mail"
	"net/netip"
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

// ThrottledError is returned by [Service.Authenticate] while an account and
// client must wait after too many failures, even for the right password.
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
	// Limiter throttles failed logins per account and client address; nil
	// disables throttling.
	Limiter *throttle.Limiter
	// ClientLimiter throttles failed logins per client address across all
	// accounts, against one password tried on many accounts (credential
	// stuffing). Its thresholds are higher, since many people may share an
	// address. NewService sets it up on Limiter's store; nil disables it.
	ClientLimiter *throttle.Limiter
	// MinPasswordLength is the shortest password accepted, in characters.
	// Default 8, the NIST SP 800-63B minimum.
	MinPasswordLength int
	// Now returns the current time; tests replace it. Default time.Now.
	Now func() time.Time
}

// NewService returns a Service with the default settings. When store is a
// [HashSampler], hasher's failed verifications take as long as the slowest
// stored hash format would, so that timing does not tell which users were
// imported with a cheaper one (see [password.Hasher.WatchStoredHashes]).
func NewService(store Store, hasher *password.Hasher, limiter *throttle.Limiter) *Service {
	s := &Service{Store: store, Hasher: hasher, Limiter: limiter, MinPasswordLength: 8, Now: time.Now}
	if hs, ok := store.(HashSampler); ok && hasher != nil {
		hasher.WatchStoredHashes(hs.LegacyHashSamples)
	}
	if limiter != nil {
		c := throttle.New(limiter.Store)
		c.Free, c.Max, c.Now = 20, 100, limiter.Now
		s.ClientLimiter = c
	}
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

// Authenticate checks an email and password from client (an IP address)
// and returns the user. It returns [ErrBadCredentials] for an unknown email
// or a wrong password alike, [*ThrottledError] while the account and client
// must wait, and [password.ErrBusy] when the server is too busy hashing. On
// success it records the login and, when the stored hash uses an old format
// or old parameters, replaces it with a current one in the same write.
//
// Each attempt counts as a failure for its account and client before its
// password is checked (see [throttle.Limiter.Begin]): otherwise attempts
// sent in parallel would all be checked before the first failure was
// counted. The count is given back when the attempt does not fail after
// all. The count of the client address across accounts is checked before
// and added to after a wrong password: many people may share an address and
// log in at the same moment, which counting in advance would refuse. Parallel
// attempts on many accounts from one address can thus pass its check
// together, as many as the hashing queue holds, each still counted for its
// account.
func (s *Service) Authenticate(ctx context.Context, email, pw, client string) (User, error) {
	// Under a login storm, refuse before any database work: a login that
	// would find the hashing queue full should cost nothing.
	if s.Hasher.Busy() {
		return User{}, password.ErrBusy
	}
	raw := email
	email = canonicalEmail(email)
	// No account has an email longer than MaxEmailLength: a longer one is
	// an unknown user, cut for its throttle key, which stays apart from
	// every real account's.
	tooLong := len(email) > MaxEmailLength
	if tooLong {
		email = email[:MaxEmailLength+1]
	}
	key := throttle.Key(email, client)
	clientKey := "client|" + throttle.Client(client)
	// The address first: refused there, the attempt counts for nothing.
	if s.ClientLimiter != nil {
		wait, err := s.ClientLimiter.Wait(ctx, clientKey)
		if err != nil {
			return User{}, err
		}
		if wait > 0 {
			return User{}, &ThrottledError{RetryAfter: wait}
		}
	}
	attempt, err := begin(ctx, s.Limiter, key)
	if err != nil {
		return User{}, err
	}
	var u User
	if !tooLong {
		if u, err = s.userByEmail(ctx, raw); err != nil && !errors.Is(err, ErrUserNotFound) {
			return User{}, release(ctx, fmt.Errorf("account: look up email: %w", err), attempt)
		}
	}
	// An unknown email is verified against nothing: the Hasher then does
	// the same work as for a real hash, so timing does not tell.
	ok, rehash, err := s.Hasher.Verify(ctx, u.PasswordHash, pw)
	switch {
	case errors.Is(err, password.ErrBusy), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		// Abandoned unchecked: no failure.
		return User{}, release(ctx, err, attempt)
	case errors.Is(err, password.ErrTooLong):
		ok = false // no password that long was ever accepted
	case err != nil:
		// An unreadable stored hash is no wrong password: it must reach
		// the logs, not lock the user out as failures would.
		return User{}, release(ctx, fmt.Errorf("account: check the password of user %d: %w", u.ID, err), attempt)
	}
	if !ok || u.ID == 0 {
		// The failure counted in advance for the account stands.
		if s.ClientLimiter != nil {
			if _, err := s.ClientLimiter.Fail(ctx, clientKey); err != nil {
				return User{}, err
			}
		}
		return User{}, ErrBadCredentials
	}
	var newHash string
	if rehash {
		if newHash, err = s.Hasher.Hash(ctx, pw); err != nil {
			newHash = "" // keep the old hash; rehash on a later login
		}
	}
	now := s.Now()
	if err := s.Store.RecordLogin(ctx, u.ID, now, newHash); err != nil {
		return User{}, release(ctx, fmt.Errorf("account: record login: %w", err), attempt)
	}
	u.LastLoginAt = now
	if newHash != "" {
		u.PasswordHash = newHash
	}
	// Only the account's count is forgiven: an attacker who owns one
	// account must not reset the address's count by logging into it.
	if s.Limiter != nil {
		if err := s.Limiter.Succeed(ctx, key); err != nil {
			return User{}, err
		}
	}
	return u, nil
}

// begin counts an attempt for key with l, or returns a [*ThrottledError]
// while key must wait. A nil l throttles nothing, and returns a nil Attempt.
func begin(ctx context.Context, l *throttle.Limiter, key string) (*throttle.Attempt, error) {
	if l == nil {
		return nil, nil
	}
	a, wait, err := l.Begin(ctx, key)
	if err != nil {
		return nil, err
	}
	if a == nil {
		return nil, &ThrottledError{RetryAfter: wait}
	}
	return a, nil
}

// releaseTimeout bounds the time spent giving back an attempt's failure,
// which goes on after the request's context is done.
const releaseTimeout = 5 * time.Second

// release gives back the failure counted for an attempt that ended in err
// without a wrong password, and returns err, joined with any error in doing
// so. It runs even when ctx is done, since a cancelled request is one reason
// to abandon an attempt; a failure it cannot give back stays counted.
func release(ctx context.Context, err error, a *throttle.Attempt) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), releaseTimeout)
	defer cancel()
	if rerr := a.Release(ctx); rerr != nil {
		err = errors.Join(err, rerr)
	}
	return err
}
