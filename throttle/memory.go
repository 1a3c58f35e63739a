package throttle

import (
	"context"
	"sync"
	"time"
)

// MemoryStore is a [Store] in process memory, for a single instance and for
// tests. Its zero value is ready to use.
type MemoryStore struct {
	mu      sync.Mutex
	m       map[string]State
	sweepAt int // the size at which old records are next dropped
}

// Failures implements [Store].
func (s *MemoryStore) Failures(_ context.Context, key string) (State, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m[key], nil
}

// AddFailure implements [Store]. It also drops records older than forget, so
// the map does not grow without bound: whenever the map has doubled since
// the last sweep, so that sweeping costs a constant per call on average,
// however many keys an attacker sprays.
func (s *MemoryStore) AddFailure(_ context.Context, key string, now time.Time, forget time.Duration) (State, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
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
	st := s.m[key]
	if now.Sub(st.LastFailure) >= forget {
		st = State{}
	}
	st.Failures++
	st.LastFailure = now
	s.m[key] = st
	return st, nil
}

// ResetFailures implements [Store].
func (s *MemoryStore) ResetFailures(_ context.Context, key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, key)
	return nil
}
