package account

import (
	"context"
	"errors"
	"fmt"

	"github.com/latchauth/latch/password"
	"github.com/latchauth/latch/throttle"
)

// An Authenticator checks logins against users kept anywhere, such as an
// application's own users table, with the same defences as
// [Service.Authenticate], which is built on it: throttling per device,
// account and client address, the same work and answer for an unknown
// login as for a wrong password, a bound on the login's length, refusal
// before any work when the server is too busy hashing, and the
// replacement of outdated hashes on login. A Hasher that watches the stored
// hashes ([password.Hasher.WatchStoredHashes]) also makes every failure take
// as long as the slowest legacy format in use.
//
// Its exported fields are settings; Lookup and Hasher are required.
type Authenticator struct {
	// Lookup returns the ID and stored password hash of the user whose
	// login (an email address, a user name) is login, or an error
	// wrapping [ErrUserNotFound] when there is none. login arrives in the
	// form [NormalizeEmail] gives (trimmed, NFKC, case-folded: lower case
	// for ASCII), no longer than MaxLoginLength bytes. IDs
	// must not be empty; the hash is in a format [password.Hasher.Verify]
	// reads. Required.
	Lookup func(ctx context.Context, login string) (id, hash string, err error)
	// Rehash replaces the stored hash of the user id with newHash, after
	// a login whose hash was in an old format or had old parameters. Its
	// error fails no login, since the old hash still matches and a later
	// login tries again: Rehash logs its own errors. Nil: hashes are never
	// replaced.
	Rehash func(ctx context.Context, id, newHash string) error
	// Hasher verifies passwords and hashes the replacements. Required.
	Hasher *password.Hasher
	// Throttle slows down failed logins per device, per account and per
	// client address (see [throttle.Policy]); nil disables throttling.
	// The account's key is the login as Lookup receives it.
	Throttle *throttle.Policy
	// Devices verifies the device cookies given to Authenticate, issued
	// for the IDs that Lookup returns; nil treats every login as coming
	// from an unknown device.
	Devices *throttle.Devices
	// MaxLoginLength is the longest login looked up, in bytes: a longer
	// one is an unknown user. Default MaxEmailLength.
	MaxLoginLength int

	// record, when set, is called instead of Rehash after every
	// successful check, with the replacement hash or "": a Service
	// records the login and the new hash in one write, and an error
	// fails the login.
	record func(ctx context.Context, id, newHash string) error
}

// Authenticate checks a login, in.Email being the login given to Lookup,
// and returns the user's ID. It returns [ErrBadCredentials] for an unknown
// login or a wrong password alike, [*ThrottledError] while the attempt must
// wait, and [password.ErrBusy] when the server is too busy hashing.
//
// A Device naming the user makes the attempt a known device's, which
// [throttle.Policy] counts on the device alone; any other counts on the
// account and the client address. Each attempt counts as a failure before
// its password is checked (see [throttle.Policy.Begin]): otherwise attempts
// sent in parallel would all be checked before the first failure was
// counted. The count is given back when the attempt does not fail after
// all.
func (a *Authenticator) Authenticate(ctx context.Context, in Login) (string, error) {
	// Under a login storm, refuse before any database work: a login that
	// would find the hashing queue full should cost nothing.
	if a.Hasher.Busy() {
		return "", password.ErrBusy
	}
	limit := a.MaxLoginLength
	if limit <= 0 {
		limit = MaxEmailLength
	}
	login := canonicalEmail(in.Email)
	// No user has a login longer than the limit: a longer one is an
	// unknown user, cut for its throttle key, which stays apart from
	// every real account's.
	tooLong := len(login) > limit
	if tooLong {
		login = login[:limit+1]
	}
	// The user is looked up before the throttle, which needs to know
	// whether the device cookie is this user's.
	var id, hash string
	if !tooLong {
		var err error
		id, hash, err = a.Lookup(ctx, login)
		switch {
		case errors.Is(err, ErrUserNotFound):
			id, hash = "", ""
		case err != nil:
			return "", fmt.Errorf("account: look up login: %w", err)
		case id == "":
			return "", errors.New("account: look up login: Lookup returned an empty ID for a user it found; return ErrUserNotFound for none")
		}
	}
	keys := throttle.Keys{Account: login, Client: in.Client}
	// An unknown login's user is "", which no cookie names: the cookie is
	// checked the same way, so that its check does not tell either.
	if in.Device != "" && a.Devices != nil {
		dev, err := a.Devices.Verify(ctx, in.Device, id)
		if err != nil {
			return "", fmt.Errorf("account: %w", err)
		}
		keys.Device = dev
	}
	ticket, err := begin(ctx, a.Throttle, keys)
	if err != nil {
		return "", err
	}
	// An unknown login is verified against nothing: the Hasher then does
	// the same work as for a real hash, so timing does not tell.
	ok, rehash, err := a.Hasher.Verify(ctx, hash, in.Password)
	switch {
	case errors.Is(err, password.ErrBusy), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		// Abandoned unchecked: no failure.
		return "", release(ctx, err, ticket)
	case errors.Is(err, password.ErrTooLong):
		ok = false // no password that long was ever accepted
	case err != nil:
		// An unreadable stored hash is no wrong password: it must reach
		// the logs, not lock the user out as failures would.
		return "", release(ctx, fmt.Errorf("account: check the password of user %s: %w", id, err), ticket)
	}
	if !ok || id == "" {
		// The failures counted in advance stand.
		return "", ErrBadCredentials
	}
	var newHash string
	if rehash && (a.Rehash != nil || a.record != nil) {
		if newHash, err = a.Hasher.Hash(ctx, in.Password); err != nil {
			newHash = "" // keep the old hash; rehash on a later login
		}
	}
	switch {
	case a.record != nil:
		if err := a.record(ctx, id, newHash); err != nil {
			return "", release(ctx, err, ticket)
		}
	case newHash != "":
		// The login stands without the new hash: the old one still
		// matches, and the next login tries again.
		_ = a.Rehash(ctx, id, newHash)
	}
	if ticket != nil {
		if err := ticket.Succeed(ctx); err != nil {
			return "", fmt.Errorf("account: %w", err)
		}
	}
	return id, nil
}

// begin counts an attempt with p, or returns a [*ThrottledError] while it
// must wait. Without a policy it throttles nothing, and returns a nil
// Ticket.
func begin(ctx context.Context, p *throttle.Policy, k throttle.Keys) (*throttle.Ticket, error) {
	if p == nil {
		return nil, nil
	}
	t, wait, err := p.Begin(ctx, k)
	if err != nil {
		return nil, fmt.Errorf("account: %w", err)
	}
	if t == nil {
		return nil, &ThrottledError{RetryAfter: wait}
	}
	return t, nil
}
