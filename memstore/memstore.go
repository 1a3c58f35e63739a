// Package memstore keeps latch sessions in process memory.
//
// A [Store] is for tests, examples and single-process applications that
// accept losing every session at restart: when the process stops, every user
// is logged out and every remember-me cookie stops working. Applications that
// run several processes, or that must keep users logged in across deploys,
// need a store backed by a database.
package memstore

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/latchauth/latch"
)

var (
	_ latch.SessionStore  = (*Store)(nil)
	_ latch.SessionPruner = (*Store)(nil)
)

// Store is a [latch.SessionStore] and [latch.SessionPruner] in memory. Its
// zero value is an empty store ready to use; a Store must not be copied
// after first use.
//
// The store copies the hashes it is given and those it returns, so callers
// cannot change a stored record by writing into a slice.
type Store struct {
	mu         sync.Mutex
	byID       map[string]latch.Session
	byToken    map[string]string // string(TokenHash) to ID
	byRemember map[string]string // string(RememberHash) and string(PrevRememberHash) to ID; no entry when none
	byUser     map[string]map[string]struct{}
}

// clone returns a copy of s that shares no memory with it. An empty remember
// hash becomes nil: both mean "none".
func clone(s latch.Session) latch.Session {
	s.TokenHash = bytes.Clone(s.TokenHash)
	s.RememberHash = cloneHash(s.RememberHash)
	s.PrevRememberHash = cloneHash(s.PrevRememberHash)
	return s
}

// cloneHash copies h; empty becomes nil.
func cloneHash(h []byte) []byte {
	if len(h) == 0 {
		return nil
	}
	return bytes.Clone(h)
}

func (st *Store) init() {
	if st.byID == nil {
		st.byID = make(map[string]latch.Session)
		st.byToken = make(map[string]string)
		st.byRemember = make(map[string]string)
		st.byUser = make(map[string]map[string]struct{})
	}
}

// conflict returns an error if s would share its token or remember hash with
// a session other than the one with its ID.
func (st *Store) conflict(s latch.Session) error {
	if id, ok := st.byToken[string(s.TokenHash)]; ok && id != s.ID {
		return fmt.Errorf("memstore: session %s: token hash already used by another session", s.ID)
	}
	for _, h := range [][]byte{s.RememberHash, s.PrevRememberHash} {
		if len(h) == 0 {
			continue
		}
		if id, ok := st.byRemember[string(h)]; ok && id != s.ID {
			return fmt.Errorf("memstore: session %s: remember hash already used by another session", s.ID)
		}
	}
	return nil
}

// insert indexes s, which must be a clone.
func (st *Store) insert(s latch.Session) {
	st.byID[s.ID] = s
	st.byToken[string(s.TokenHash)] = s.ID
	for _, h := range [][]byte{s.RememberHash, s.PrevRememberHash} {
		if len(h) > 0 {
			st.byRemember[string(h)] = s.ID
		}
	}
	ids := st.byUser[s.UserID]
	if ids == nil {
		ids = make(map[string]struct{})
		st.byUser[s.UserID] = ids
	}
	ids[s.ID] = struct{}{}
}

// remove drops the session with the given ID from every index.
func (st *Store) remove(id string) {
	s, ok := st.byID[id]
	if !ok {
		return
	}
	delete(st.byID, id)
	delete(st.byToken, string(s.TokenHash))
	for _, h := range [][]byte{s.RememberHash, s.PrevRememberHash} {
		if len(h) > 0 {
			delete(st.byRemember, string(h))
		}
	}
	if ids := st.byUser[s.UserID]; ids != nil {
		delete(ids, id)
		if len(ids) == 0 {
			delete(st.byUser, s.UserID)
		}
	}
}

// CreateSession implements [latch.SessionStore]. It returns an error if the
// ID, token hash or remember hash is already in use.
func (st *Store) CreateSession(_ context.Context, s latch.Session) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.init()
	if _, ok := st.byID[s.ID]; ok {
		return fmt.Errorf("memstore: session %s: ID already used", s.ID)
	}
	if err := st.conflict(s); err != nil {
		return err
	}
	st.insert(clone(s))
	return nil
}

// SessionByToken implements [latch.SessionStore].
func (st *Store) SessionByToken(_ context.Context, hash []byte) (latch.Session, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.lookup(st.byToken, hash)
}

// SessionByRemember implements [latch.SessionStore]. An empty hash finds
// nothing, so sessions without remember-me are never restored by it.
func (st *Store) SessionByRemember(_ context.Context, hash []byte) (latch.Session, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.lookup(st.byRemember, hash)
}

func (st *Store) lookup(index map[string]string, hash []byte) (latch.Session, error) {
	if len(hash) == 0 {
		return latch.Session{}, latch.ErrSessionNotFound
	}
	id, ok := index[string(hash)]
	if !ok {
		return latch.Session{}, latch.ErrSessionNotFound
	}
	return clone(st.byID[id]), nil
}

// UpdateSession implements [latch.SessionStore]. It returns an error, and
// changes nothing, if the new hashes belong to another session.
func (st *Store) UpdateSession(_ context.Context, s latch.Session) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	if _, ok := st.byID[s.ID]; !ok {
		return latch.ErrSessionNotFound
	}
	if err := st.conflict(s); err != nil {
		return err
	}
	st.remove(s.ID)
	st.insert(clone(s))
	return nil
}

// RotateSession implements [latch.SessionStore]. The comparison and the
// replacement happen under the store's lock, so racing rotations of one
// token have one winner.
func (st *Store) RotateSession(_ context.Context, s latch.Session, remember []byte) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	old, ok := st.byID[s.ID]
	if !ok {
		return latch.ErrSessionNotFound
	}
	if len(remember) == 0 || !bytes.Equal(old.RememberHash, remember) {
		return latch.ErrSessionRotated
	}
	if err := st.conflict(s); err != nil {
		return err
	}
	st.remove(s.ID)
	st.insert(clone(s))
	return nil
}

// TouchSession implements [latch.SessionStore].
func (st *Store) TouchSession(_ context.Context, id string, lastSeen time.Time) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	s, ok := st.byID[id]
	if !ok {
		return latch.ErrSessionNotFound
	}
	s.LastSeenAt = lastSeen
	st.byID[id] = s
	return nil
}

// DeleteSession implements [latch.SessionStore].
func (st *Store) DeleteSession(_ context.Context, id string) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.remove(id)
	return nil
}

// UserSessions implements [latch.SessionStore]. Sessions created at the same
// instant are ordered by ID, so the order is stable.
func (st *Store) UserSessions(_ context.Context, userID string) ([]latch.Session, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	ids := st.byUser[userID]
	list := make([]latch.Session, 0, len(ids))
	for id := range ids {
		list = append(list, clone(st.byID[id]))
	}
	slices.SortFunc(list, func(a, b latch.Session) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return cmp.Compare(b.ID, a.ID)
	})
	return list, nil
}

// byRecentUse orders sessions most recently used first, then by ID
// descending, as [latch.SessionStore.RecentUserSessions] asks.
func byRecentUse(a, b latch.Session) int {
	if c := b.LastSeenAt.Compare(a.LastSeenAt); c != 0 {
		return c
	}
	return cmp.Compare(b.ID, a.ID)
}

// RecentUserSessions implements [latch.SessionStore]. It looks at every
// session of the user, holding the store's lock meanwhile, and copies only
// those it returns.
func (st *Store) RecentUserSessions(_ context.Context, userID string, now, idleBefore time.Time, limit int) ([]latch.Session, int, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	var live []latch.Session
	for id := range st.byUser[userID] {
		s := st.byID[id]
		if now.Before(s.ExpiresAt) && (s.Remember || s.LastSeenAt.After(idleBefore)) {
			live = append(live, s)
		}
	}
	slices.SortFunc(live, byRecentUse)
	n := min(max(limit, 0), len(live))
	list := make([]latch.Session, n)
	for i := range list {
		list[i] = clone(live[i])
	}
	return list, len(live) - n, nil
}

// DeleteUserSession implements [latch.SessionStore].
func (st *Store) DeleteUserSession(_ context.Context, userID, id string) (bool, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if s, ok := st.byID[id]; !ok || s.UserID != userID {
		return false, nil
	}
	st.remove(id)
	return true, nil
}

// TrimUserSessions implements [latch.SessionStore].
func (st *Store) TrimUserSessions(_ context.Context, userID, keep string, limit int) (int, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	ids := st.byUser[userID]
	if len(ids) <= limit {
		return 0, nil
	}
	others := make([]latch.Session, 0, len(ids))
	for id := range ids {
		if id != keep {
			others = append(others, st.byID[id])
		}
	}
	slices.SortFunc(others, byRecentUse)
	room := max(limit-(len(ids)-len(others)), 0) // keep takes a place if it is the user's
	n := 0
	for _, s := range others[min(room, len(others)):] {
		st.remove(s.ID)
		n++
	}
	return n, nil
}

// DeleteUserSessions implements [latch.SessionStore].
func (st *Store) DeleteUserSessions(_ context.Context, userID, keep string) (int, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	n := 0
	for id := range st.byUser[userID] {
		if id != keep {
			st.remove(id)
			n++
		}
	}
	return n, nil
}

// DeleteExpiredSessions implements [latch.SessionPruner]. It looks at every
// session, holding the store's lock meanwhile.
func (st *Store) DeleteExpiredSessions(_ context.Context, now, idleBefore time.Time) (int, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	n := 0
	for id, s := range st.byID {
		if s.ExpiresAt.Before(now) || (!s.Remember && s.LastSeenAt.Before(idleBefore)) {
			st.remove(id)
			n++
		}
	}
	return n, nil
}
