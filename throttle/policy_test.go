package throttle_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/latchauth/latch/throttle"
)

// newPolicy returns the default Policy on a MemoryStore whose clock stands
// still at *now.
func newPolicy(now *time.Time) (*throttle.Policy, *throttle.MemoryStore) {
	store := &throttle.MemoryStore{}
	p := throttle.NewPolicy(store)
	p.SetNow(func() time.Time { return *now })
	return p, store
}

// TestPolicyDistributedGuessing guesses one account's password from 30
// addresses, 4 guesses each: the account-wide limit lets no more through
// than its free failures and one, then refuses even a new address, while
// the owner's known device goes ahead.
func TestPolicyDistributedGuessing(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	p, _ := newPolicy(&now)
	ctx := context.Background()
	checked := 0
	for i := range 30 {
		for range 4 {
			tk, wait, err := p.Begin(ctx, throttle.Keys{Account: "ann@example.com", Client: fmt.Sprintf("198.51.100.%d", i)})
			if err != nil {
				t.Fatal(err)
			}
			if tk != nil {
				checked++ // a wrong password: its failures stand
			} else if wait <= 0 {
				t.Fatalf("Begin refused with wait %v; want a positive wait", wait)
			}
		}
	}
	if want := p.Account.Free + 1; checked != want {
		t.Errorf("30 addresses x 4 guesses: %d checked; want %d", checked, want)
	}
	tk, wait, err := p.Begin(ctx, throttle.Keys{Account: "ANN@example.com", Client: "203.0.113.1"})
	if tk != nil || wait <= 0 || err != nil {
		t.Errorf("Begin from a new address after the guessing = %v, %v, %v; want refused with a wait", tk, wait, err)
	}
	tk, wait, err = p.Begin(ctx, throttle.Keys{Account: "ann@example.com", Client: "203.0.113.1", Device: "owner"})
	if tk == nil || wait != 0 || err != nil || !tk.KnownDevice() {
		t.Fatalf("Begin from the owner's device = %v, %v, %v; want an attempt at once", tk, wait, err)
	}
}

// TestPolicyDelaysNotLockouts keeps guessing one account from unknown
// devices, each guess as soon as allowed: the wait never exceeds the cap,
// and the 100 consecutive failures of NIST SP 800-63B take many hours.
func TestPolicyDelaysNotLockouts(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	now := start
	p, _ := newPolicy(&now)
	ctx := context.Background()
	for i := range 100 {
		client := fmt.Sprintf("198.51.100.%d", i%50)
		tk, wait, err := p.Begin(ctx, throttle.Keys{Account: "ann@example.com", Client: client})
		if err != nil {
			t.Fatal(err)
		}
		if tk == nil {
			if wait > p.Account.MaxDelay {
				t.Fatalf("guess %d: wait %v; want at most %v", i+1, wait, p.Account.MaxDelay)
			}
			now = now.Add(wait)
			if tk, _, err = p.Begin(ctx, throttle.Keys{Account: "ann@example.com", Client: client}); tk == nil || err != nil {
				t.Fatalf("guess %d after waiting %v = %v, %v; want an attempt", i+1, wait, tk, err)
			}
		}
	}
	if took := now.Sub(start); took < 12*time.Hour {
		t.Errorf("100 failures took %v; want at least 12h", took)
	}
}

// TestPolicyAddressCountsInAdvance sends 40 attempts at once from one
// address on 40 accounts: no more are checked than the address's free
// failures and one, the wait left is short, and a user with a device
// cookie behind the address goes ahead.
func TestPolicyAddressCountsInAdvance(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	p, _ := newPolicy(&now)
	ctx := context.Background()
	var checked atomic.Int32
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Go(func() {
			tk, _, err := p.Begin(ctx, throttle.Keys{Account: fmt.Sprintf("user%d@example.com", i), Client: "203.0.113.5"})
			if err != nil {
				t.Error(err)
			}
			if tk != nil {
				checked.Add(1)
			}
		})
	}
	wg.Wait()
	if n, want := int(checked.Load()), p.Address.Free+1; n != want {
		t.Errorf("40 parallel attempts from one address: %d checked; want %d", n, want)
	}
	_, wait, _ := p.Begin(ctx, throttle.Keys{Account: "bob@example.com", Client: "203.0.113.5"})
	if wait <= 0 || wait > time.Minute {
		t.Errorf("unknown device behind the address: wait %v; want between 0 and 1m", wait)
	}
	tk, wait, err := p.Begin(ctx, throttle.Keys{Account: "bob@example.com", Client: "203.0.113.5", Device: "bob's laptop"})
	if tk == nil || wait != 0 || err != nil {
		t.Errorf("known device behind the address = %v, %v, %v; want an attempt at once", tk, wait, err)
	}
}

// TestPolicyRefusedOnAccountCostsAddressNothing checks that an attempt
// refused by the account limit gives back what it counted on the address.
func TestPolicyRefusedOnAccountCostsAddressNothing(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	p, store := newPolicy(&now)
	ctx := context.Background()
	for i := range p.Account.Free + 1 {
		p.Begin(ctx, throttle.Keys{Account: "ann@example.com", Client: fmt.Sprintf("198.51.100.%d", i)})
	}
	before, _ := store.Failures(ctx, "client|203.0.113.9")
	if tk, _, _ := p.Begin(ctx, throttle.Keys{Account: "ann@example.com", Client: "203.0.113.9"}); tk != nil {
		t.Fatal("Begin past the account's limit went ahead")
	}
	wantState(t, store, "client|203.0.113.9", before)
}

// TestTicketSucceed checks what a right password forgives: for an unknown
// device, the account's count and the attempt's own count on the address;
// for a known device, its own count only, not the account's.
func TestTicketSucceed(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	p, store := newPolicy(&now)
	ctx := context.Background()
	for range 3 {
		p.Begin(ctx, throttle.Keys{Account: "ann@example.com", Client: "198.51.100.1"})
		p.Begin(ctx, throttle.Keys{Account: "ann@example.com", Client: "198.51.100.1", Device: "d"})
	}
	known, _, _ := p.Begin(ctx, throttle.Keys{Account: "ann@example.com", Client: "198.51.100.1", Device: "d"})
	if err := known.Succeed(ctx); err != nil {
		t.Fatal(err)
	}
	wantState(t, store, "device|d", throttle.State{})
	wantState(t, store, "account|ann@example.com", throttle.State{Failures: 3, LastFailure: now})

	unknown, _, _ := p.Begin(ctx, throttle.Keys{Account: "ann@example.com", Client: "198.51.100.1"})
	if err := unknown.Succeed(ctx); err != nil {
		t.Fatal(err)
	}
	wantState(t, store, "account|ann@example.com", throttle.State{})
	wantState(t, store, "client|198.51.100.1", throttle.State{Failures: 3, LastFailure: now})
}

// TestTicketRelease checks that an abandoned attempt costs nothing.
func TestTicketRelease(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	p, store := newPolicy(&now)
	ctx := context.Background()
	tk, _, _ := p.Begin(ctx, throttle.Keys{Account: "ann@example.com", Client: "198.51.100.1"})
	if err := tk.Release(ctx); err != nil {
		t.Fatal(err)
	}
	wantState(t, store, "account|ann@example.com", throttle.State{})
	wantState(t, store, "client|198.51.100.1", throttle.State{})
}

func TestBeginSignUp(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	p, _ := newPolicy(&now)
	ctx := context.Background()
	for i := range p.SignUp.Free + 1 {
		if wait, err := p.BeginSignUp(ctx, "203.0.113.5:4444"); wait != 0 || err != nil {
			t.Fatalf("sign-up %d = %v, %v; want 0, nil", i+1, wait, err)
		}
	}
	if wait, err := p.BeginSignUp(ctx, "203.0.113.5"); wait <= 0 || wait > time.Minute || err != nil {
		t.Errorf("sign-up past the limit = %v, %v; want a wait up to 1m", wait, err)
	}
	if wait, err := p.BeginSignUp(ctx, "198.51.100.1"); wait != 0 || err != nil {
		t.Errorf("sign-up from another address = %v, %v; want 0, nil", wait, err)
	}
}
