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

// hiddenCharacter describes the first character of s that no address
// should hold: one that cannot be seen, or that changes how the text
// around it is shown, and so can make one address pass for another.
func hiddenCharacter(s string) string {
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
		return fmt.Sprintf("%s (U+%04X)", what, r)
	}
	return ""
}

// NormalizeEmail returns an email address in the form it is stored and
// compared in (trimmed, NFKC, case-folded), after checking that it is a
// plain address (no display name, no comments) at a domain name, made of
// valid text without control, invisible or direction-changing characters.
// Its error is a [*ValidationError]: [ErrEmailMissing], [ErrEmailNotText],
// [ErrEmailHiddenCharacter] (its Detail names the character),
// [ErrEmailTooLong], [ErrEmailIPAddress] or [ErrEmailInvalid].
func NormalizeEmail(s string) (string, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return "", ErrEmailMissing
	case !utf8.ValidString(s):
		return "", ErrEmailNotText
	}
	if c := hiddenCharacter(s); c != "" {
		e := *ErrEmailHiddenCharacter
		e.Detail = c
		return "", &e
	}
	s = canonicalEmail(s)
	if len(s) > MaxEmailLength {
		return "", limited(ErrEmailTooLong, MaxEmailLength)
	}
	at := strings.LastIndexByte(s, '@')
	if at >= 0 {
		domain := s[at+1:]
		if _, err := netip.ParseAddr(strings.Trim(domain, "[]")); err == nil || strings.HasPrefix(domain, "[") {
			return "", ErrEmailIPAddress
		}
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" || !strings.Contains(s[at+1:], ".") {
		return "", ErrEmailInvalid
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
// It returns [FieldErrors] for invalid input, one [*ValidationError] per
// field at fault, [ErrEmailTaken] when the email
// has an account (also under concurrent sign-ups), and [password.ErrBusy]
// when the server is too busy hashing.
func (s *Service) SignUp(ctx context.Context, email, name, pw string) (User, error) {
	u, err := s.validate(email, name, pw)
	if err != nil {
		return User{}, err
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

// validate returns the user of a sign-up, or [FieldErrors].
func (s *Service) validate(email, name, pw string) (User, error) {
	e, eerr := NormalizeEmail(email)
	n, nerr := NormalizeName(name)
	return User{Email: e, Name: n}, fieldErrors(eerr, nerr, s.CheckNewPassword(pw, email, name))
}

// NormalizeName trims a display name and checks it is present, at most
// [MaxNameLength] characters and free of control characters. Its error is
// a [*ValidationError]: [ErrNameMissing], [ErrNameNotText],
// [ErrNameTooLong] or [ErrNameControl].
func NormalizeName(s string) (string, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return "", ErrNameMissing
	case !utf8.ValidString(s):
		return "", ErrNameNotText
	case utf8.RuneCountInString(s) > MaxNameLength:
		return "", limited(ErrNameTooLong, MaxNameLength)
	case strings.IndexFunc(s, unicode.IsControl) >= 0:
		return "", ErrNameControl
	}
	return s, nil
}

// CheckPassword applies the password rules to a new password: valid text, at
// least MinPasswordLength characters, at most [password.MaxLength] bytes,
// not one character repeated, and not a commonly used password. Use
// [Service.CheckNewPassword] when the account's email and name are known.
// Its error is a [*ValidationError]: [ErrPasswordNotText],
// [ErrPasswordTooShort], [ErrPasswordTooLong], [ErrPasswordRepeated] or
// [ErrPasswordCommon].
func (s *Service) CheckPassword(pw string) error {
	return s.CheckNewPassword(pw, "", "")
}

// CheckNewPassword applies [Service.CheckPassword]'s rules to a new password
// for the account with email and name, and refuses too the email, its part
// before the @ and the name, compared after NFKC and case folding: they are
// the first guesses of anyone who knows whose account it is
// ([ErrPasswordIsEmail], [ErrPasswordIsName]).
func (s *Service) CheckNewPassword(pw, email, name string) error {
	if err := s.checkPassword(pw); err != nil {
		return err
	}
	p := canonicalEmail(pw)
	email = canonicalEmail(email)
	local, _, _ := strings.Cut(email, "@")
	switch {
	case email != "" && (p == email || p == local):
		return ErrPasswordIsEmail
	case strings.TrimSpace(name) != "" && p == canonicalEmail(name):
		return ErrPasswordIsName
	}
	return nil
}

func (s *Service) checkPassword(pw string) error {
	first, _ := utf8.DecodeRuneInString(pw)
	switch {
	case !utf8.ValidString(pw):
		return ErrPasswordNotText
	case utf8.RuneCountInString(pw) < s.MinPasswordLength:
		return limited(ErrPasswordTooShort, s.MinPasswordLength)
	case len(pw) > password.MaxLength:
		return limited(ErrPasswordTooLong, password.MaxLength)
	case strings.Trim(pw, string(first)) == "":
		return ErrPasswordRepeated
	case isCommon(pw):
		return ErrPasswordCommon
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
	// Email and Password are as the user typed them. For an
	// [Authenticator], Email is the login it looks up, whatever kind.
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
	// One sequence of checks for every kind of user store: the
	// Authenticator's, over this Service's users.
	var u User
	a := Authenticator{
		Hasher:   s.Hasher,
		Throttle: s.Throttle,
		Devices:  s.Devices,
		// The email as typed, not as given: an account stored before
		// emails were case-folded is found by its older form too.
		Lookup: func(ctx context.Context, _ string) (string, string, error) {
			var err error
			if u, err = s.userByEmail(ctx, in.Email); err != nil {
				return "", "", err
			}
			return strconv.FormatInt(u.ID, 10), u.PasswordHash, nil
		},
		record: func(ctx context.Context, _, newHash string) error {
			now := s.Now()
			if err := s.Store.RecordLogin(ctx, u.ID, now, newHash); err != nil {
				return fmt.Errorf("account: record login: %w", err)
			}
			u.LastLoginAt = now
			if newHash != "" {
				u.PasswordHash = newHash
			}
			return nil
		},
	}
	if _, err := a.Authenticate(ctx, in); err != nil {
		return User{}, err
	}
	return u, nil
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
