// Package throttle slows down and then refuses repeated failed logins.
//
// A [Limiter] counts consecutive failures per key. The key chosen by latch's
// login is the account and the client address together, so an attacker
// guessing one account's password is stopped, while the real owner, coming
// from another address, can still log in: nobody can lock a user out from
// everywhere by failing on purpose.
//
// The first [Limiter.Free] failures cost nothing. After them every attempt must
// wait [Limiter.Delay], doubling with each further failure; after
// [Limiter.Max] failures the key is refused for [Limiter.Lockout]. While a
// key must wait, even the right password is refused: answering differently
// would tell the attacker that the guess was right. The limiter never sleeps
// in the request: it answers at once with how long to wait (for HTTP 429 and
// Retry-After), so a flood of attempts ties up no goroutines.
package throttle

import (
	"context"
	"fmt"
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
type Store interface {
	// Failures returns the state of key; an unknown key has the zero State
	// and a nil error.
	Failures(ctx context.Context, key string) (State, error)
	// AddFailure atomically adds one failure at now to key and returns the
	// new state. A key whose last failure is older than forget starts again
	// from zero. The record may be dropped once it is older than forget.
	AddFailure(ctx context.Context, key string, now time.Time, forget time.Duration) (State, error)
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
	// Max is the number of failures after which the key is locked out.
	// Default 10.
	Max int
	// Lockout is how long a key stays refused after Max failures, counted
	// from the last failure. Default 15 minutes.
	Lockout time.Duration
	// Forget is how long after its last failure a key starts afresh. It is
	// never shorter than Lockout. Default 1 hour.
	Forget time.Duration
	// Now returns the current time; tests replace it. Default time.Now.
	Now func() time.Time
}

// New returns a Limiter with the default settings on store.
func New(store Store) *Limiter {
	return &Limiter{
		Store:   store,
		Free:    3,
		Delay:   time.Second,
		Max:     10,
		Lockout: 15 * time.Minute,
		Forget:  time.Hour,
		Now:     time.Now,
	}
}

// Wait reports how long key must wait before its next attempt; zero means
// now. Callers check it before verifying a password and refuse the attempt
// while it is positive.
func (l *Limiter) Wait(ctx context.Context, key string) (time.Duration, error) {
	st, err := l.Store.Failures(ctx, key)
	if err != nil {
		return 0, fmt.Errorf("throttle: read failures: %w", err)
	}
	return l.wait(st), nil
}

func (l *Limiter) wait(st State) time.Duration {
	if st.Failures <= l.Free {
		return 0
	}
	since := l.Now().Sub(st.LastFailure)
	if since >= l.forget() {
		return 0
	}
	var need time.Duration
	if st.Failures >= l.Max {
		need = l.Lockout
	} else {
		// Doubling by multiplication, not a shift, so that a large
		// Delay reaches Lockout instead of overflowing.
		need = l.Delay
		for range st.Failures - l.Free - 1 {
			if need >= l.Lockout {
				break
			}
			need *= 2
		}
		need = min(need, l.Lockout)
	}
	if since >= need {
		return 0
	}
	return need - since
}

// Fail records a failed attempt for key and returns how long the next attempt
// must wait.
func (l *Limiter) Fail(ctx context.Context, key string) (time.Duration, error) {
	st, err := l.Store.AddFailure(ctx, key, l.Now(), l.forget())
	if err != nil {
		return 0, fmt.Errorf("throttle: record failure: %w", err)
	}
	return l.wait(st), nil
}

// Succeed forgets the failures of key after a successful attempt.
func (l *Limiter) Succeed(ctx context.Context, key string) error {
	if err := l.Store.ResetFailures(ctx, key); err != nil {
		return fmt.Errorf("throttle: reset failures: %w", err)
	}
	return nil
}

func (l *Limiter) forget() time.Duration {
	return max(l.Forget, l.Lockout)
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
