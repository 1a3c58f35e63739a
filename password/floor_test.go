package password

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// floorHashes are a cheap and a costly legacy hash from the vectors: a
// werkzeug HMAC answered in microseconds and a bcrypt of cost 10.
func floorHashes(t *testing.T) (cheap, costly vector) {
	t.Helper()
	for _, v := range loadVectors(t) {
		switch {
		case v.Format == "werkzeug-sha256" && cheap.Hash == "" && v.Password != "":
			cheap = v
		case v.Format == "bcrypt" && v.Hash[:7] == "$2b$10$":
			costly = v
		}
	}
	if cheap.Hash == "" || costly.Hash == "" {
		t.Fatal("vectors lack a werkzeug-sha256 or a bcrypt cost-10 hash")
	}
	return cheap, costly
}

// TestFloor checks that with a bcrypt hash stored, a wrong password for a
// cheap werkzeug hash and an unknown user are both answered no sooner than
// the floor, which is at least bcrypt's measured cost, while the right
// password still logs in.
func TestFloor(t *testing.T) {
	ctx := context.Background()
	cheap, costly := floorHashes(t)
	h := NewHasher(testParams, 2, 8)
	h.WatchStoredHashes(func(context.Context) ([]string, error) {
		return []string{cheap.Hash, costly.Hash, "md5$unknown"}, nil
	})
	for _, tt := range []struct{ desc, hash string }{
		{"wrong password, werkzeug-sha256", cheap.Hash},
		{"unknown user", ""},
		{"wrong password, bcrypt", costly.Hash},
	} {
		start := time.Now()
		ok, _, err := h.Verify(ctx, tt.hash, "not the password")
		took := time.Since(start)
		if ok || err != nil {
			t.Fatalf("%s: Verify = %v, %v; want false, nil", tt.desc, ok, err)
		}
		if floor := h.Floor(); took < floor {
			t.Errorf("%s: answered after %s; want no sooner than the floor, %s", tt.desc, took, floor)
		}
	}
	bcryptCost, err := h.Cost(ctx, costly.Hash)
	if err != nil {
		t.Fatal(err)
	}
	if floor := h.Floor(); floor < bcryptCost || bcryptCost <= 0 {
		t.Errorf("Floor() = %s; want at least bcrypt's cost, %s", floor, bcryptCost)
	}
	if ok, _, err := h.Verify(ctx, cheap.Hash, cheap.Password); !ok || err != nil {
		t.Errorf("Verify(right password) = %v, %v; want true, nil", ok, err)
	}
}

// TestFloorWithoutSamples checks that a Hasher watching a store with no
// legacy hash, or one it cannot read, has its own argon2id cost as floor.
func TestFloorWithoutSamples(t *testing.T) {
	for _, samples := range []func(context.Context) ([]string, error){
		func(context.Context) ([]string, error) { return nil, nil },
		func(context.Context) ([]string, error) { return nil, errors.New("database down") },
	} {
		h := NewHasher(testParams, 1, 8)
		h.WatchStoredHashes(samples)
		if ok, _, err := h.Verify(context.Background(), "", "pw"); ok || err != nil {
			t.Fatalf("Verify(no user) = %v, %v; want false, nil", ok, err)
		}
		own, err := h.Cost(context.Background(), h.dummy.String())
		if err != nil {
			t.Fatal(err)
		}
		if got := h.Floor(); got != own {
			t.Errorf("Floor() = %s; want the argon2id cost %s", got, own)
		}
	}
}

// TestFloorHoldsNoSlot checks that a failure waiting for the floor leaves
// its hashing slot to others, and that cancelling the request while it
// waits still reports the failure, not a cancellation that would go
// uncounted.
func TestFloorHoldsNoSlot(t *testing.T) {
	cheap, _ := floorHashes(t)
	h := NewHasher(testParams, 1, 0) // one slot, no queue
	h.WatchStoredHashes(func(context.Context) ([]string, error) { return nil, nil })
	if _, _, err := h.Verify(context.Background(), "", "pw"); err != nil {
		t.Fatal(err) // the floor is known from here on
	}
	h.floor.mu.Lock()
	h.floor.d = time.Hour
	h.floor.mu.Unlock()

	ctx, cancel := context.WithCancel(context.Background())
	type result struct {
		ok  bool
		err error
	}
	done := make(chan result, 1)
	entered := make(chan struct{}, 1)
	h.inSlot = func() {
		select {
		case entered <- struct{}{}:
		default:
		}
	}
	go func() {
		ok, _, err := h.Verify(ctx, cheap.Hash, "not the password")
		done <- result{ok, err}
	}()
	<-entered
	// The waiting failure holds no slot: another verification runs, and
	// the right password is not made to wait for the floor.
	waitFor(t, "the failure to leave its slot", func() bool {
		ok, _, err := h.Verify(context.Background(), cheap.Hash, cheap.Password)
		return ok && err == nil
	})
	select {
	case r := <-done:
		t.Fatalf("a failure was answered before an hour's floor: %v, %v", r.ok, r.err)
	default:
	}
	cancel()
	if r := <-done; r.ok || r.err != nil {
		t.Errorf("Verify cancelled while waiting for the floor = %v, %v; want false, nil", r.ok, r.err)
	}
}

// TestFloorFollowsStore checks that the floor is measured again once its
// minute is up, and falls when the costly hashes are gone from the store,
// replaced at their users' logins.
func TestFloorFollowsStore(t *testing.T) {
	ctx := context.Background()
	_, costly := floorHashes(t)
	h := NewHasher(testParams, 1, 8)
	var mu sync.Mutex
	stored := []string{costly.Hash}
	h.WatchStoredHashes(func(context.Context) ([]string, error) {
		mu.Lock()
		defer mu.Unlock()
		return stored, nil
	})
	if _, _, err := h.Verify(ctx, "", "pw"); err != nil {
		t.Fatal(err)
	}
	bcryptCost, _ := h.Cost(ctx, costly.Hash)
	own, _ := h.Cost(ctx, h.dummy.String())
	if got := h.Floor(); got != max(bcryptCost, own) {
		t.Fatalf("Floor() = %s; want bcrypt's cost %s", got, bcryptCost)
	}
	mu.Lock()
	stored = nil
	mu.Unlock()
	h.floor.mu.Lock()
	h.floor.updated = time.Now().Add(-floorRefresh)
	h.floor.mu.Unlock()
	h.Verify(ctx, "", "pw") // starts the refresh
	waitFor(t, "the floor to fall to argon2id's cost", func() bool { return h.Floor() == own })
}
