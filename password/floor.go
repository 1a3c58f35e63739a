package password

import (
	"context"
	"crypto/rand"
	"fmt"
	"slices"
	"sync"
	"time"
)

// floorRefresh is how often the floor follows the stored hashes: a legacy
// format added by an import run beside the server counts within a minute.
const floorRefresh = time.Minute

// floorSampleTimeout bounds the query for stored hashes.
const floorSampleTimeout = 10 * time.Second

// floorRuns is how many verifications a cost is the median of.
const floorRuns = 3

// floor makes failed verifications take as long as the slowest stored
// hash would. See [Hasher.WatchStoredHashes].
type floor struct {
	samples func(ctx context.Context) ([]string, error)

	mu         sync.Mutex
	d          time.Duration            // the floor
	costs      map[string]time.Duration // measured, by format and parameters
	ready      chan struct{}            // closed when d is first known
	refreshing bool
	updated    time.Time // when d was last refreshed
}

// WatchStoredHashes makes every failed verification by h, a wrong password
// or an unknown user alike, be answered no sooner than the floor: the time a
// verification takes with the slowest format and parameters among the hashes
// samples reports, or with h's own argon2id when they are all cheaper. A
// wrong password for a user imported with a fast legacy hash then takes as
// long as one for a user with a slow one, or for an email with no account, so
// timing tells neither which accounts exist nor how their hashes were made.
//
// samples returns one stored hash for each format and set of parameters in
// use other than argon2id (see account.HashSampler); h calls it at the first
// failed verification and then at most once a minute, in the background, so
// that hashes imported while the server runs count too. The cost of each is
// measured once, as the median of three verifications of a random password
// run in h's slots, and kept. Only the most expensive parameters of each
// family (PBKDF2, bcrypt, scrypt, argon2, HMAC) are measured, so a source with
// many iteration counts costs a few measurements, not one each.
//
// The floor is a wait after the verification, not more work: it holds no
// hashing slot and uses no CPU. Until the first measurement is done a failed
// verification waits for it. The floor falls again once logins have replaced
// the costly hashes. If samples fails, the floor stays as it was (h's own
// argon2id cost at first) and the next refresh tries again. Argon2id
// hashes with parameters other than h's are not sampled; those cheaper than
// h's are covered by the floor, costlier ones are not.
//
// Call WatchStoredHashes before h is first used; [account.NewService] calls it
// for stores that can sample their hashes.
func (h *Hasher) WatchStoredHashes(samples func(ctx context.Context) ([]string, error)) {
	h.floor = &floor{samples: samples, costs: make(map[string]time.Duration), ready: make(chan struct{})}
}

// Floor returns the time no failed verification is answered sooner than,
// or zero when none is known yet or h watches no stored hashes.
func (h *Hasher) Floor() time.Duration {
	if h.floor == nil {
		return 0
	}
	h.floor.mu.Lock()
	defer h.floor.mu.Unlock()
	return h.floor.d
}

// Cost returns how long verifying a password against encoded takes: the
// median of three verifications with its format and parameters, measured
// once and kept for every hash with the same ones. It waits for a slot
// even when the queue is full, since it is not a login. It returns an error
// wrapping [ErrUnknownFormat] for a hash [Identify] refuses.
func (h *Hasher) Cost(ctx context.Context, encoded string) (time.Duration, error) {
	s, err := parse(encoded)
	if err != nil {
		return 0, err
	}
	return h.cost(ctx, s)
}

// waitFloor returns once the floor has passed since start, or ctx is done.
// A request cancelled while it waits still gets its failure: cancelling
// must not be a way to be answered sooner, nor to skip being counted.
func (h *Hasher) waitFloor(ctx context.Context, start time.Time) {
	f := h.floor
	if f == nil {
		return
	}
	h.refreshFloor()
	select {
	case <-f.ready:
	case <-ctx.Done():
		return
	}
	f.mu.Lock()
	wait := f.d - time.Since(start)
	f.mu.Unlock()
	if wait <= 0 {
		return
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// refreshFloor starts a refresh of the floor in the background when it is
// due, unless one is running.
func (h *Hasher) refreshFloor() {
	f := h.floor
	f.mu.Lock()
	due := f.updated.IsZero() || time.Since(f.updated) >= floorRefresh
	if f.refreshing || !due {
		f.mu.Unlock()
		return
	}
	f.refreshing = true
	f.mu.Unlock()
	go func() {
		d, sampled := h.measureFloor()
		f.mu.Lock()
		defer f.mu.Unlock()
		if sampled {
			f.d = d // the legacy hashes replaced by logins no longer count
		} else {
			f.d = max(d, f.d)
		}
		if f.updated.IsZero() {
			close(f.ready)
		}
		f.updated = time.Now()
		f.refreshing = false
	}()
}

// measureFloor returns the cost of h's own argon2id or of the slowest
// stored hash, whichever is more, and whether the stored hashes could be
// sampled.
func (h *Hasher) measureFloor() (time.Duration, bool) {
	ctx := context.Background()
	d, _ := h.cost(ctx, h.dummy)
	qctx, cancel := context.WithTimeout(ctx, floorSampleTimeout)
	samples, err := h.floor.samples(qctx)
	cancel()
	if err != nil {
		return d, false
	}
	// The costliest parameters of each family stand for it.
	type pick struct {
		s    scheme
		work float64
	}
	top := make(map[string]pick)
	for _, enc := range samples {
		s, err := parse(enc)
		if err != nil {
			continue // an unreadable hash fails at once, as every login with it does
		}
		fam, work := costOf(s)
		if t, ok := top[fam]; !ok || work > t.work {
			top[fam] = pick{s, work}
		}
	}
	for _, p := range top {
		s := p.s
		if c, err := h.cost(ctx, s); err == nil {
			d = max(d, c)
		}
	}
	return d, true
}

// cost measures, or recalls, the cost of verifying against s.
func (h *Hasher) cost(ctx context.Context, s scheme) (time.Duration, error) {
	key := costKey(s)
	if f := h.floor; f != nil {
		f.mu.Lock()
		c, ok := f.costs[key]
		f.mu.Unlock()
		if ok {
			return c, nil
		}
	}
	pw := rand.Text()
	runs := make([]time.Duration, 0, floorRuns)
	for range floorRuns {
		if err := h.measureSlot(ctx); err != nil {
			return 0, err
		}
		start := time.Now()
		_, err := h.verify(ctx, s, pw)
		runs = append(runs, time.Since(start))
		<-h.slots
		if err != nil {
			return 0, err
		}
	}
	slices.Sort(runs)
	c := runs[len(runs)/2]
	if f := h.floor; f != nil {
		f.mu.Lock()
		f.costs[key] = c
		f.mu.Unlock()
	}
	return c, nil
}

// measureSlot takes a slot for a measurement, waiting however long the
// queue is: a measurement is no login to refuse, and it must not use CPU
// or memory beyond the pool's bounds either.
func (h *Hasher) measureSlot(ctx context.Context) error {
	select {
	case h.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// costKey names the format and parameters of s that its verification cost
// depends on: hashes with the same key cost the same.
func costKey(s scheme) string {
	switch s := s.(type) {
	case *argon2Hash:
		return fmt.Sprintf("argon2 m=%d,t=%d,p=%d,k=%d", s.params.Memory, s.params.Time, s.params.Threads, len(s.key))
	case *bcryptHash:
		return fmt.Sprintf("%s %d", s.name, s.cost)
	case *djangoPBKDF2:
		return fmt.Sprintf("pbkdf2 %d", s.iter)
	case *werkzeugHash:
		return fmt.Sprintf("%s %d %d:%d:%d", s.name, s.iter, s.n, s.r, s.p)
	}
	return s.format()
}

// costOf returns the family of s and an estimate of its work that orders
// the parameters within the family: more work, longer verification.
func costOf(s scheme) (family string, work float64) {
	switch s := s.(type) {
	case *argon2Hash:
		return "argon2", float64(s.params.Memory) * float64(s.params.Time)
	case *bcryptHash:
		return "bcrypt", float64(uint64(1) << s.cost)
	case *djangoPBKDF2:
		return "pbkdf2", float64(s.iter)
	case *werkzeugHash:
		switch s.name {
		case "werkzeug-pbkdf2":
			return "pbkdf2", float64(s.iter)
		case "werkzeug-scrypt":
			return "scrypt", float64(s.n) * float64(s.r) * float64(s.p)
		}
	}
	return s.format(), 1
}
