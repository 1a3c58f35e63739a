package throttle

import (
	"context"
	"sync"
	"time"
)

// MemoryStore is a [Store] and a [DeviceStore] in process memory, for tests
// and for a single instance whose revocations may be lost with it. Its zero
// value is ready to use.
type MemoryStore struct {
	mu      sync.Mutex
	m       map[string]State
	sweepAt int // the size at which old records are next dropped
	revoked map[string]time.Time
}

// Failures implements [Store].
func (s *MemoryStore) Failures(_ context.Context, key string) (State, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m[key], nil
}

// AddFailure implements [Store].
func (s *MemoryStore) AddFailure(_ context.Context, key string, now time.Time, forget time.Duration) (State, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.m[key]
	if !ok {
		s.sweep(now, forget)
	}
	if now.Sub(st.LastFailure) >= forget {
		st = State{}
	}
	st.Failures++
	st.LastFailure = now
	s.m[key] = st
	return st, nil
}

// sweep runs before a key is added, with s.mu held. It drops the records
// older than forget at now, so that the map does not grow without bound:
// whenever the map has doubled since the last sweep, so that sweeping costs
// a constant per call on average, however many keys an attacker sprays.
func (s *MemoryStore) sweep(now time.Time, forget time.Duration) {
	if s.m == nil {
		s.m = make(map[string]State)
	}
	if len(s.m) >= max(s.sweepAt, 10000) {
		for k, st := range s.m {
			if now.Sub(st.LastFailure) >= forget {
				delete(s.m, k)
			}
		}
		s.sweepAt = 2 * len(s.m)
	}
}

// SwapFailures implements [Store]. When it adds a key, it sweeps old
// records as AddFailure does, taking the new record's time as the present.
func (s *MemoryStore) SwapFailures(_ context.Context, key string, old, new State, forget time.Duration) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.m[key]
	if ok != (old.Failures > 0) || ok && (cur.Failures != old.Failures || !cur.LastFailure.Equal(old.LastFailure)) {
		return false, nil
	}
	if new.Failures == 0 {
		delete(s.m, key)
		return true, nil
	}
	if !ok {
		s.sweep(new.LastFailure, forget)
	}
	s.m[key] = new
	return true, nil
}

// ResetFailures implements [Store].
func (s *MemoryStore) ResetFailures(_ context.Context, key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, key)
	return nil
}

// DevicesRevokedAt implements [DeviceStore].
func (s *MemoryStore) DevicesRevokedAt(_ context.Context, user string) (time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.revoked[user], nil
}

// RevokeDevices implements [DeviceStore].
func (s *MemoryStore) RevokeDevices(_ context.Context, user string, at time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.revoked == nil {
		s.revoked = make(map[string]time.Time)
	}
	if at.After(s.revoked[user]) {
		s.revoked[user] = at
	}
	return nil
}
