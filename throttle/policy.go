package throttle

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Policy is the login throttling of an app: which keys a login attempt
// counts on, and the [Limiter] of each. The package documentation explains
// the model; [NewPolicy] sets the numbers. A nil limiter turns its limit
// off. Change the fields before first use.
type Policy struct {
	// Device limits a browser holding a valid device cookie for the
	// account it logs in to (see [Devices]). Such an attempt counts on the
	// device alone, so that guessing elsewhere never slows the owner
	// down. Default: 5 free failures, then 1 s doubling up to 15 minutes.
	Device *Limiter
	// Account limits every other attempt on one account, from all
	// addresses together: guessing spread over many addresses is slowed
	// down as one. Default: 10 free failures, then 1 s doubling up to
	// 15 minutes, so that the 100 consecutive failures NIST SP 800-63B
	// allows an account take about 20 hours.
	Account *Limiter
	// Address limits the attempts of one client address on any account
	// without a device cookie: one password tried on many accounts.
	// Many people may share an address, so it allows more and waits less.
	// Default: 20 free failures, then 1 s doubling up to 1 minute.
	Address *Limiter
	// SignUp limits sign-up attempts per client address, each counted
	// whatever its outcome, since a sign-up answers whether an email has
	// an account. Default: 20 free, then 1 s doubling up to 1 minute.
	SignUp *Limiter
}

// NewPolicy returns the default Policy, its limiters sharing store. Every
// limiter forgets a key 24 hours after its last failure: counts outlive
// the longest wait by far, and limiters sharing a SQL store must agree on
// it (see [Limiter.Forget]).
func NewPolicy(store Store) *Policy {
	limiter := func(free int, maxDelay time.Duration) *Limiter {
		l := New(store)
		l.Free, l.MaxDelay = free, maxDelay
		return l
	}
	return &Policy{
		Device:  limiter(5, 15*time.Minute),
		Account: limiter(10, 15*time.Minute),
		Address: limiter(20, time.Minute),
		SignUp:  limiter(20, time.Minute),
	}
}

// SetNow makes every limiter of p read the time from now, for tests.
func (p *Policy) SetNow(now func() time.Time) {
	for _, l := range []*Limiter{p.Device, p.Account, p.Address, p.SignUp} {
		if l != nil {
			l.Now = now
		}
	}
}

// Keys names a login attempt for a [Policy].
type Keys struct {
	// Account is the account tried, such as its email address. It is
	// compared case-insensitively.
	Account string
	// Client is the client's address, as for [Client].
	Client string
	// Device is the device ID of a device cookie verified for Account by
	// [Devices.Verify]; empty for an unknown device.
	Device string
}

// The prefixes of a Policy's keys, which keep its limits apart in one
// store.
const (
	devicePrefix  = "device|"
	accountPrefix = "account|"
	addressPrefix = "client|"
	signUpPrefix  = "signup|"
)

// Begin asks whether a login attempt may go ahead now. If it may, Begin
// counts it as a failure on every key that applies, in advance, as
// [Limiter.Begin] does, and returns a [Ticket]; if not, it counts nothing
// and returns how long to wait. A known device counts on its device key
// alone; an unknown one on its client address, then on the account.
// Parallel attempts therefore count against each other on every key.
//
// After the password check, call [Ticket.Succeed] for the right password
// and [Ticket.Release] for an attempt abandoned unchecked; after a wrong
// password, nothing: its failures stand.
func (p *Policy) Begin(ctx context.Context, k Keys) (*Ticket, time.Duration, error) {
	t := &Ticket{p: p, known: k.Device != ""}
	if t.known {
		t.deviceKey = devicePrefix + k.Device
		a, wait, err := begin(ctx, p.Device, t.deviceKey)
		if err != nil || wait > 0 {
			return nil, wait, err
		}
		t.device = a
		return t, 0, nil
	}
	t.accountKey = accountPrefix + strings.ToLower(strings.TrimSpace(k.Account))
	// The address first: refused there, the attempt counts for nothing.
	a, wait, err := begin(ctx, p.Address, addressPrefix+Client(k.Client))
	if err != nil || wait > 0 {
		return nil, wait, err
	}
	t.address = a
	b, wait, err := begin(ctx, p.Account, t.accountKey)
	if err != nil || wait > 0 {
		// Refused on the account, the attempt was never checked: it must
		// not cost the address anything.
		if rerr := t.address.Release(context.WithoutCancel(ctx)); rerr != nil {
			err = errors.Join(err, rerr)
		}
		return nil, wait, err
	}
	t.account = b
	return t, 0, nil
}

// begin begins an attempt on key with l; a nil l lets every attempt go
// ahead and returns a nil Attempt.
func begin(ctx context.Context, l *Limiter, key string) (*Attempt, time.Duration, error) {
	if l == nil {
		return nil, 0, nil
	}
	return l.Begin(ctx, key)
}

// A Ticket is a login attempt that [Policy.Begin] let go ahead, counted as
// a failure on each of its keys.
type Ticket struct {
	p               *Policy
	known           bool
	deviceKey       string
	accountKey      string
	device, account *Attempt
	address         *Attempt
}

// KnownDevice reports whether the attempt came from a known device, and so
// was counted on its device alone.
func (t *Ticket) KnownDevice() bool { return t.known }

// Succeed ends an attempt whose password was right. A known device's
// failures are forgotten. For an unknown device, the account's failures
// are forgotten, since the attempt went through its limit; the address
// gets back only this attempt's failure, so that logging in to an account
// one owns does not wipe the guesses counted against others. A login from
// a known device leaves the account's count alone: guessing from elsewhere
// goes on being slowed down.
func (t *Ticket) Succeed(ctx context.Context) error {
	if t.known {
		if t.p.Device == nil {
			return nil
		}
		return t.p.Device.Succeed(ctx, t.deviceKey)
	}
	var err error
	if t.p.Account != nil {
		err = t.p.Account.Succeed(ctx, t.accountKey)
	}
	return errors.Join(err, t.address.Release(ctx))
}

// Release gives back the failures counted for an attempt abandoned before
// its password was checked (the server was busy, the request went away,
// the stored hash was unreadable), as [Attempt.Release] does. Pass a
// context that is not done, such as one from [context.WithoutCancel].
func (t *Ticket) Release(ctx context.Context) error {
	var errs []error
	for _, a := range []*Attempt{t.device, t.account, t.address} {
		if err := a.Release(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// BeginSignUp counts a sign-up attempt from client and returns zero, or
// counts nothing and returns how long the client must wait. Every attempt
// counts, whatever its outcome: the limit is on how fast one address can
// ask whether emails have accounts.
func (p *Policy) BeginSignUp(ctx context.Context, client string) (time.Duration, error) {
	_, wait, err := begin(ctx, p.SignUp, signUpPrefix+Client(client))
	if err != nil {
		return 0, fmt.Errorf("throttle: sign-up: %w", err)
	}
	return wait, nil
}
