package account

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"net/mail"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/latchauth/latch/password"
	"github.com/latchauth/latch/throttle"
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
// logins with policy (nil: not at all).
func NewService(store Store, hasher *password.Hasher, policy *throttle.Policy) *Service {
	s := &Service{Store: store, Hasher: hasher, Throttle: policy, MinPasswordLength: 8, Now: time.Now}
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

// canonicalEmail is the form emails are stored and compared in: trimmed
// and in lower case.
func canonicalEmail(s string) string {
	return strings.ToLower(strings.TrimSpace(s))
}

// NormalizeEmail trims and lower-cases an email address and checks that it is
// a plain address (no display name, no comments). Its error is a
// [*ValidationError]: [ErrEmailMissing], [ErrEmailTooLong] or
// [ErrEmailInvalid].
func NormalizeEmail(s string) (string, error) {
	s = canonicalEmail(s)
	switch {
	case s == "":
		return "", ErrEmailMissing
	case len(s) > MaxEmailLength:
		return "", limited(ErrEmailTooLong, MaxEmailLength)
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" || !strings.Contains(s[strings.LastIndexByte(s, '@')+1:], ".") {
		return "", ErrEmailInvalid
	}
	return s, nil
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
	if _, err := s.Store.UserByEmail(ctx, u.Email); err == nil {
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
	return User{Email: e, Name: n}, fieldErrors(eerr, nerr, s.CheckPassword(pw))
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
// and not a commonly used password. Its error is a [*ValidationError]:
// [ErrPasswordNotText], [ErrPasswordTooShort], [ErrPasswordTooLong] or
// [ErrPasswordCommon].
func (s *Service) CheckPassword(pw string) error {
	switch {
	case !utf8.ValidString(pw):
		return ErrPasswordNotText
	case utf8.RuneCountInString(pw) < s.MinPasswordLength:
		return limited(ErrPasswordTooShort, s.MinPasswordLength)
	case len(pw) > password.MaxLength:
		return limited(ErrPasswordTooLong, password.MaxLength)
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
		Lookup: func(ctx context.Context, email string) (string, string, error) {
			var err error
			if u, err = s.Store.UserByEmail(ctx, email); err != nil {
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
