// Package throttle slows down repeated failed logins, without letting
// anyone lock a user out.
//
// A [Limiter] counts consecutive failures per key. The first [Limiter.Free]
// failures cost nothing; after them every attempt must wait [Limiter.Delay],
// doubling with each further failure up to [Limiter.MaxDelay]. While a key
// must wait, even the right password is refused: answering differently
// would tell the attacker that the guess was right. The limiter never sleeps
// in the request: it answers at once with how long to wait (for HTTP 429 and
// Retry-After), so a flood of attempts ties up no goroutines.
//
// # The login policy: per device, per account, per address
//
// A [Policy] decides which keys a login attempt counts on. Its model is
// OWASP's "Slow Down Online Guessing Attacks with Device Cookies":
//
//   - A browser that logged in to an account gets a signed device cookie
//     for it ([Devices]). Its later attempts on that account count on its
//     device alone ([Policy.Device]: 5 free failures, then 1 s doubling up
//     to 15 minutes). Guessing from elsewhere never slows it down, so the
//     owner keeps logging in during an attack.
//   - Every other attempt on an account counts on the account, across all
//     addresses ([Policy.Account]: 10 free failures, then 1 s doubling up
//     to 15 minutes). Guessing spread over many addresses is slowed down as
//     one: the 100 consecutive failures NIST SP 800-63B allows take about
//     20 hours.
//   - It also counts on its client address, across accounts
//     ([Policy.Address]: 20 free failures, then 1 s doubling up to 1
//     minute), against one password tried on many accounts. Many people may
//     share an address; those with a device cookie skip this limit.
//   - Sign-ups count per address ([Policy.SignUp]: 20 free, then 1 s
//     doubling up to 1 minute), since each answers whether an email has an
//     account.
//
// Every limit is a delay, never a lockout: whoever fails on purpose can
// make others wait at most the cap, and a known device not at all. A key
// starts afresh 24 hours after its last failure. To change a number, set
// the field of the limiter in the Policy that [NewPolicy] returns (for
// example p.Account.Free = 20), or set a limiter to nil to turn its limit
// off.
//
// # Device cookies
//
// [Devices] is the device cookie's whole life: [Devices.Issue] after a
// login with the right password returns the cookie's value;
// [Devices.Verify] on a login attempt returns the device ID to put in
// [Keys.Device] if the cookie is valid for the account; [Devices.Revoke]
// makes every cookie of a user issued so far invalid. A password reset or
// change, and "log out everywhere", must call Revoke: whoever held the
// account may have collected cookies that would otherwise let them guess
// at the device's pace for a year. Revocations are kept by a
// [DeviceStore] (the SQL stores of latch implement it) and must survive a
// crash, unlike failure counts. The cookie itself is the app's: set it
// HttpOnly, SameSite=Lax, and Secure with the "__Host-" prefix over HTTPS.
//
// # Attempts count before they are checked
//
// Checking a password takes tens of milliseconds. Were a failure recorded
// only after the check, every attempt sent in parallel would find the count
// as it was before any of them and go ahead: an attacker could check dozens
// of guesses for the price of one. So a caller asks [Limiter.Begin] before
// checking, which counts the attempt as a failure at once, atomically with
// the decision, or refuses it while the key must wait; parallel attempts
// therefore count against each other exactly as attempts made one after the
// other do. A wrong password leaves the failure in place. An attempt that
// did not fail gives its failure back: [Limiter.Succeed] forgets the key after
// the right password, and [Attempt.Release] undoes only the attempt's own
// failure, for a key that must not be forgiven as a whole (the client
// address of a login into one account) or for an attempt abandoned before
// its answer (the server was busy, the request went away).
package throttle

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"
	"time"
)

// State is what a [Store] remembers of one key.
type State struct {
	// Failures counts the consecutive failures.
	Failures int
	// LastFailure is when the latest one happened.
	LastFailure time.Time
}

// Store keeps failure counts. Implementations must be safe for concurrent use
// and, when shared by several processes, atomic across them.
//
// A State with zero Failures stands for a key that has no record; its
// LastFailure carries no meaning.
type Store interface {
	// Failures returns the state of key; an unknown key has the zero State
	// and a nil error.
	Failures(ctx context.Context, key string) (State, error)
	// AddFailure atomically adds one failure at now to key and returns the
	// new state. A key whose last failure is older than forget starts again
	// from zero. The record may be dropped once it is older than forget.
	// Unlike SwapFailures it never loses to another writer, so that a
	// failure is counted however many arrive at once.
	AddFailure(ctx context.Context, key string, now time.Time, forget time.Duration) (State, error)
	// SwapFailures atomically sets the state of key to new if it is still
	// old, as Failures returned it (the zero State for an unknown key),
	// and reports whether it did. A new State with zero Failures deletes
	// the record. Times are compared to the microsecond and must be kept
	// at least that precisely, so that what Failures returns is old for
	// the next call. A record whose LastFailure is older than forget may
	// be dropped at any time.
	SwapFailures(ctx context.Context, key string, old, new State, forget time.Duration) (bool, error)
	// ResetFailures forgets key.
	ResetFailures(ctx context.Context, key string) error
}

// Limiter decides whether an attempt may go ahead. Its fields are settings;
// use [New] for the defaults and change them before first use.
type Limiter struct {
	// Store holds the counts. Required.
	Store Store
	// Free is how many consecutive failures cost nothing. Default 3.
	Free int
	// Delay is the wait after the first failure beyond Free; it doubles with
	// each further failure. Default 1 second.
	Delay time.Duration
	// MaxDelay caps the doubling wait: however many failures a key has,
	// its next attempt waits at most this long after the last one, so a
	// key is slowed down, never shut out. Zero means no cap beyond
	// Forget. Default 15 minutes.
	MaxDelay time.Duration
	// Max, when above zero, is the number of failures after which the key
	// is refused for Lockout. A lockout lets anyone who can fail on
	// purpose shut the owner of a key out, so the default is zero: none.
	Max int
	// Lockout is how long a key stays refused after Max failures, counted
	// from the last failure. Default zero.
	Lockout time.Duration
	// Forget is how long after its last failure a key starts afresh. It is
	// never shorter than MaxDelay or Lockout. Limiters sharing a store
	// should agree on it, since SQL stores drop records older than the
	// Forget of whichever limiter writes. Default 24 hours.
	Forget time.Duration
	// Now returns the current time; tests replace it. Default time.Now.
	Now func() time.Time
}

// New returns a Limiter with the default settings on store.
func New(store Store) *Limiter {
	return &Limiter{
		Store:    store,
		Free:     3,
		Delay:    time.Second,
		MaxDelay: 15 * time.Minute,
		Forget:   24 * time.Hour,
		Now:      time.Now,
	}
}

// maxSwaps bounds how often a Limiter reads and swaps a key's state while
// other writers keep changing it in between. Each lost swap means another
// writer's went through, so it takes a crowd on one key, or a store that
// does not give back the state it was given; either way the loop must end.
const maxSwaps = 32

// errContended is returned by update when it gave up.
var errContended = fmt.Errorf("the state of the key kept changing, %d times", maxSwaps)

// update reads the state of key and swaps it for change's answer, reading
// again while other writers get in between, and returns the state it
// replaced and the one it wrote. When change returns false, update writes nothing and
// returns ok == false. After each lost swap it pauses a random while, longer
// each time, so that attempts crowding one key take turns instead of
// colliding again; after maxSwaps it gives up with errContended.
func (l *Limiter) update(ctx context.Context, key string, change func(cur State) (State, bool)) (old, new State, ok bool, err error) {
	for try := range maxSwaps {
		if try > 0 {
			if err := backoff(ctx, try); err != nil {
				return State{}, State{}, false, err
			}
		}
		cur, err := l.Store.Failures(ctx, key)
		if err != nil {
			return State{}, State{}, false, err
		}
		next, write := change(cur)
		if !write {
			return cur, State{}, false, nil
		}
		swapped, err := l.Store.SwapFailures(ctx, key, cur, next, l.forget())
		if err != nil {
			return State{}, State{}, false, err
		}
		if swapped {
			return cur, next, true, nil
		}
	}
	return State{}, State{}, false, errContended
}

// backoff waits a random time up to 50µs × 2^try, at most about 13 ms,
// or until ctx is done.
func backoff(ctx context.Context, try int) error {
	t := time.NewTimer(rand.N(50 * time.Microsecond << min(try, 8)))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Wait reports how long key must wait before its next attempt; zero means
// now. It records nothing: to go ahead with an attempt, use [Limiter.Begin].
func (l *Limiter) Wait(ctx context.Context, key string) (time.Duration, error) {
	st, err := l.Store.Failures(ctx, key)
	if err != nil {
		return 0, fmt.Errorf("throttle: read failures: %w", err)
	}
	return l.wait(st, l.now()), nil
}

// Begin asks whether an attempt for key may go ahead now. If it may, Begin
// counts it as a failure at once and returns an [Attempt]; if key must wait,
// Begin records nothing and returns how long. The caller checks the password
// only with an Attempt in hand, and then, unless the password was wrong,
// gives the failure back with [Limiter.Succeed] or [Attempt.Release].
//
// The check and the count are one atomic step, so that parallel attempts
// count against each other: of any number sent at once, no more go ahead
// than would one after the other. When other attempts keep changing the
// count faster than Begin can record its own, Begin refuses with a wait of
// Delay rather than let an attempt through uncounted.
func (l *Limiter) Begin(ctx context.Context, key string) (*Attempt, time.Duration, error) {
	var wait time.Duration
	prev, rec, ok, err := l.update(ctx, key, func(st State) (State, bool) {
		now := l.now()
		if wait = l.wait(st, now); wait > 0 {
			return State{}, false
		}
		return State{Failures: l.current(st, now).Failures + 1, LastFailure: now}, true
	})
	switch {
	case errors.Is(err, errContended):
		if l.Delay > 0 {
			return nil, l.Delay, nil
		}
		return nil, time.Second, nil
	case err != nil:
		return nil, 0, fmt.Errorf("throttle: begin attempt: %w", err)
	case !ok:
		return nil, wait, nil
	}
	return &Attempt{l: l, key: key, prev: prev, rec: rec}, 0, nil
}

// An Attempt is a login attempt that [Limiter.Begin] let go ahead and
// counted as a failure in advance.
type Attempt struct {
	l    *Limiter
	key  string
	prev State // the state Begin found
	rec  State // the state Begin recorded
}

// Release gives back the failure counted for the attempt, which did not
// fail: the password was right, but the key is not to be forgiven as a
// whole, or the attempt was abandoned before its password was checked. If
// nothing has changed the key since [Limiter.Begin], the key returns to the
// state Begin found; otherwise one failure is taken off what is there now,
// leaving the other attempts' failures counted. Release on a nil Attempt
// does nothing, so that a caller without a Limiter need not check.
//
// An attempt is often abandoned because its request was cancelled; pass a
// context that is not done, such as one from [context.WithoutCancel].
func (a *Attempt) Release(ctx context.Context) error {
	if a == nil {
		return nil
	}
	_, _, _, err := a.l.update(ctx, a.key, func(cur State) (State, bool) {
		switch {
		case equal(cur, a.rec):
			return a.prev, true
		case cur.Failures > 1:
			return State{Failures: cur.Failures - 1, LastFailure: cur.LastFailure}, true
		case cur.Failures == 1:
			return State{}, true
		}
		return State{}, false // forgotten, reset or dropped meanwhile
	})
	if err != nil {
		return fmt.Errorf("throttle: release attempt: %w", err)
	}
	return nil
}

// equal reports whether a and b are the same state, the way stores compare
// them.
func equal(a, b State) bool {
	if a.Failures == 0 || b.Failures == 0 {
		return a.Failures == b.Failures
	}
	return a.Failures == b.Failures && a.LastFailure.Equal(b.LastFailure)
}

// current returns st as it counts at now: a state older than the forget
// window counts as none.
func (l *Limiter) current(st State, now time.Time) State {
	if now.Sub(st.LastFailure) >= l.forget() {
		return State{}
	}
	return st
}

func (l *Limiter) wait(st State, now time.Time) time.Duration {
	st = l.current(st, now)
	if st.Failures <= l.Free {
		return 0
	}
	since := now.Sub(st.LastFailure)
	// Doubling by multiplication, not a shift, so that a large Delay
	// reaches the cap instead of overflowing.
	limit := l.maxDelay()
	need := l.Delay
	for range st.Failures - l.Free - 1 {
		if need >= limit {
			break
		}
		need *= 2
	}
	need = min(need, limit)
	if l.Max > 0 && st.Failures >= l.Max {
		need = max(need, l.Lockout)
	}
	if since >= need {
		return 0
	}
	return need - since
}

// Fail records a failed attempt for key, whatever the state of key, and
// returns how long the next attempt must wait. It is for keys checked with
// [Limiter.Wait] before an attempt and counted after it, which lets
// parallel attempts through together; a caller that counts attempts with
// [Limiter.Begin] does not also call Fail.
func (l *Limiter) Fail(ctx context.Context, key string) (time.Duration, error) {
	now := l.now()
	st, err := l.Store.AddFailure(ctx, key, now, l.forget())
	if err != nil {
		return 0, fmt.Errorf("throttle: record failure: %w", err)
	}
	return l.wait(st, now), nil
}

// Succeed forgets the failures of key after a successful attempt.
func (l *Limiter) Succeed(ctx context.Context, key string) error {
	if err := l.Store.ResetFailures(ctx, key); err != nil {
		return fmt.Errorf("throttle: reset failures: %w", err)
	}
	return nil
}

func (l *Limiter) forget() time.Duration {
	return max(l.Forget, l.MaxDelay, l.Lockout)
}

// maxDelay is the cap of the doubling wait: MaxDelay, or without one the
// forget window, past which a key starts afresh anyway.
func (l *Limiter) maxDelay() time.Duration {
	if l.MaxDelay > 0 {
		return l.MaxDelay
	}
	return max(l.forget(), l.Delay)
}

// now returns the current time as stores keep it: in UTC, to the
// microsecond and without a monotonic clock reading, so that a state read
// back compares equal to the one written.
func (l *Limiter) now() time.Time {
	return l.Now().UTC().Truncate(time.Microsecond)
}

// Key joins an account name and a client address into a limiter key. The
// account is compared case-insensitively; IPv6 clients are grouped by their
// /64 network, since one host usually holds a whole /64.
func Key(account, client string) string {
	return strings.ToLower(strings.TrimSpace(account)) + "|" + Client(client)
}

// Client normalises a client address ("host", "host:port" or an IP) into the
// form used in keys: an IPv4 address, or an IPv6 /64 prefix.
func Client(addr string) string {
	if ap, err := netip.ParseAddrPort(addr); err == nil {
		return clientAddr(ap.Addr())
	}
	if a, err := netip.ParseAddr(addr); err == nil {
		return clientAddr(a)
	}
	return addr
}

func clientAddr(a netip.Addr) string {
	a = a.Unmap()
	if a.Is6() {
		p, _ := a.WithZone("").Prefix(64)
		return p.String()
	}
	return a.String()
}
