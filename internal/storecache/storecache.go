// Package storecache is the in-memory cache of sessions, users and session
// lists that latch's stores put in front of their database, so that a page
// load usually reads nothing from it. The stores decide how they learn of
// other processes' writes: sqlitestore polls SQLite's data_version,
// pgstore listens for PostgreSQL notifications.
package storecache

import (
	"bytes"
	"cmp"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/latchauth/latch"
	"github.com/latchauth/latch/account"
)

// cacheLimit bounds each of the cache's maps. When one is full, an arbitrary
// entry makes room: the cache only saves reads, so losing an entry costs one
// query.
const cacheLimit = 10_000

// listLimit is the longest session list the cache keeps: a user logged in
// on more devices than that is read from the database, so that the cache's size
// stays bounded by cacheLimit entries of bounded size.
const listLimit = 100

// listedLimit bounds the sessions held in all lists together: with lists of
// up to listLimit, cacheLimit lists could otherwise hold a million.
const listedLimit = 20_000

// Cache keeps in memory what every page load reads: the session of a token,
// the user of a session, and a user's list of sessions. It holds only what
// the database held; the store using it must make it forget a record as
// soon as the record may have changed:
//
//   - each write the store makes forgets the records it touched, after the
//     write is committed and before the write method returns, so a request
//     that starts after a logout or a revocation was answered cannot find the
//     old record;
//   - writes by other processes are the store's to find out, by whatever
//     means its database offers, calling the Forget methods, or ForgetAll,
//     and SetOff while it cannot tell;
//   - a read that raced with a write does not fill the cache: the store
//     takes Generation before its query and passes it to the Fill method,
//     which drops the record if anything was forgotten since.
//
// Lookups that find nothing are not cached, so a session or user created by
// anyone is seen at once. A Cache is safe for concurrent use; what it
// returns is a copy, which callers may change.
type Cache struct {
	mu  sync.Mutex
	gen uint64 // counts forgettings; see fill methods
	// off is set while the poller cannot tell whether another process
	// wrote: the cache is then bypassed until a poll succeeds again.
	off      bool
	sessions map[string]latch.Session   // by token hash
	tokens   map[string]string          // session ID → token hash
	lists    map[string][]latch.Session // by user ID
	listed   int                        // sessions in all lists
	users    map[int64]account.User     // by user ID
}

// New returns an empty Cache, off until SetOff(false): a store turns it on
// once it can tell when other processes write.
func New() *Cache {
	c := &Cache{off: true}
	c.reset()
	return c
}

// reset forgets everything. The caller holds c.mu, or owns c.
func (c *Cache) reset() {
	c.gen++
	c.sessions = make(map[string]latch.Session)
	c.tokens = make(map[string]string)
	c.lists = make(map[string][]latch.Session)
	c.listed = 0
	c.users = make(map[int64]account.User)
}

// Generation returns the generation to pass to a Fill method after the
// query.
func (c *Cache) Generation() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

// Session returns a copy of the cached session with the given token hash.
func (c *Cache) Session(hash []byte) (latch.Session, bool) {
	c.mu.Lock()
	s, ok := c.sessions[string(hash)]
	c.mu.Unlock()
	if !ok {
		return latch.Session{}, false
	}
	return cloneSession(s), true
}

// FillSession caches s, read at generation gen.
func (c *Cache) FillSession(gen uint64, s latch.Session) {
	s = cloneSession(s)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.off || c.gen != gen {
		return
	}
	// The same session under an older token goes, so that forgetting it
	// by ID can always find it.
	if old, ok := c.tokens[s.ID]; ok {
		c.dropSession(old)
	}
	for len(c.sessions) >= cacheLimit {
		for key := range c.sessions {
			c.dropSession(key) // an arbitrary one
			break
		}
	}
	key := string(s.TokenHash)
	c.dropSession(key)
	c.sessions[key] = s
	c.tokens[s.ID] = key
}

// dropSession forgets the session under the token hash key, in both maps:
// sessions and tokens always hold the same sessions, one by token and one
// by ID. The caller holds c.mu.
func (c *Cache) dropSession(key string) {
	if s, ok := c.sessions[key]; ok {
		delete(c.tokens, s.ID)
		delete(c.sessions, key)
	}
}

// List returns a copy of the user's cached session list.
func (c *Cache) List(userID string) ([]latch.Session, bool) {
	c.mu.Lock()
	list, ok := c.lists[userID]
	c.mu.Unlock()
	if !ok {
		return nil, false
	}
	out := make([]latch.Session, len(list))
	for i, s := range list {
		out[i] = cloneSession(s)
	}
	return out, true
}

// FillList caches the user's session list, read at generation gen.
func (c *Cache) FillList(gen uint64, userID string, list []latch.Session) {
	if len(list) > listLimit {
		return
	}
	own := make([]latch.Session, len(list))
	for i, s := range list {
		own[i] = cloneSession(s)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.off || c.gen != gen {
		return
	}
	c.dropList(userID)
	for len(c.lists) >= cacheLimit || c.listed+len(own) > listedLimit {
		for u := range c.lists {
			c.dropList(u) // an arbitrary one
			break
		}
	}
	c.lists[userID] = own
	c.listed += len(own)
}

// dropList forgets the user's list. The caller holds c.mu.
func (c *Cache) dropList(userID string) {
	c.listed -= len(c.lists[userID])
	delete(c.lists, userID)
}

// User returns the cached user with the given ID.
func (c *Cache) User(id int64) (account.User, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	u, ok := c.users[id]
	return u, ok
}

// FillUser caches u, read at generation gen.
func (c *Cache) FillUser(gen uint64, u account.User) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.off || c.gen != gen {
		return
	}
	makeRoom(c.users)
	c.users[u.ID] = u
}

// ForgetSessions forgets the sessions with the given IDs and the session
// lists of the given users.
func (c *Cache) ForgetSessions(ids []string, userIDs ...string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	for _, id := range ids {
		if key, ok := c.tokens[id]; ok {
			c.dropList(c.sessions[key].UserID)
			c.dropSession(key)
		}
	}
	for _, u := range userIDs {
		c.dropList(u)
	}
}

// ForgetUserSessions forgets every session of the user and its list.
func (c *Cache) ForgetUserSessions(userID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.dropList(userID)
	for key, s := range c.sessions {
		if s.UserID == userID {
			c.dropSession(key)
		}
	}
}

// ForgetUser forgets the user with the given ID.
func (c *Cache) ForgetUser(id int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	delete(c.users, id)
}

// ForgetAll forgets everything.
func (c *Cache) ForgetAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.reset()
}

// SetOff turns the cache off, forgetting everything, or back on. While off
// it holds nothing, and lookups miss.
func (c *Cache) SetOff(off bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if off && !c.off {
		c.reset()
	}
	c.off = off
}

// makeRoom deletes an arbitrary entry of m if m is full.
func makeRoom[K comparable, V any](m map[K]V) {
	if len(m) < cacheLimit {
		return
	}
	for k := range maps.Keys(m) {
		delete(m, k)
		return
	}
}

// cloneSession returns s with its own copies of the hashes, so that neither
// the cache nor its callers can change the other's record.
func cloneSession(s latch.Session) latch.Session {
	s.TokenHash = bytes.Clone(s.TokenHash)
	s.RememberHash = bytes.Clone(s.RememberHash)
	s.PrevRememberHash = bytes.Clone(s.PrevRememberHash)
	return s
}

// ReadSession returns the session with the token hash from the cache, or
// from read, whose result it then caches.
func (c *Cache) ReadSession(hash []byte, read func() (latch.Session, error)) (latch.Session, error) {
	if s, ok := c.Session(hash); ok {
		return s, nil
	}
	gen := c.Generation()
	s, err := read()
	if err == nil {
		c.FillSession(gen, s)
	}
	return s, err
}

// ReadList returns the user's session list from the cache, or from read,
// whose result it then caches.
func (c *Cache) ReadList(userID string, read func() ([]latch.Session, error)) ([]latch.Session, error) {
	if list, ok := c.List(userID); ok {
		return list, nil
	}
	gen := c.Generation()
	list, err := read()
	if err == nil {
		c.FillList(gen, userID, list)
	}
	return list, err
}

// Recent returns, from the user's cached list, what
// [latch.SessionStore.RecentUserSessions] returns: at most limit live
// sessions, most recently used first, and the number of other live ones.
func (c *Cache) Recent(userID string, now, idleBefore time.Time, limit int) ([]latch.Session, int, bool) {
	c.mu.Lock()
	list, ok := c.lists[userID]
	c.mu.Unlock()
	if !ok {
		return nil, 0, false
	}
	// Cached lists are replaced, never changed in place: list can be
	// read without the lock.
	recent, more := pickRecent(list, now, idleBefore, limit)
	return recent, more, true
}

// pickRecent returns copies of the first limit of list's sessions that are
// live at now, as RecentUserSessions defines it, most recently used first,
// and how many live ones are left. It sorts pointers into list, not
// sessions, and copies only those it returns: a user with a hundred
// sessions costs a page little more than one with a few.
func pickRecent(list []latch.Session, now, idleBefore time.Time, limit int) ([]latch.Session, int) {
	live := make([]*latch.Session, 0, len(list))
	for i := range list {
		s := &list[i]
		if now.Before(s.ExpiresAt) && (s.Remember || s.LastSeenAt.After(idleBefore)) {
			live = append(live, s)
		}
	}
	slices.SortFunc(live, func(a, b *latch.Session) int {
		if c := b.LastSeenAt.Compare(a.LastSeenAt); c != 0 {
			return c
		}
		return cmp.Compare(b.ID, a.ID)
	})
	n := min(max(limit, 0), len(live))
	out := make([]latch.Session, n)
	for i := range out {
		out[i] = cloneSession(*live[i])
	}
	return out, len(live) - n
}

// ReadRecent answers RecentUserSessions from the user's cached list, or
// else reads the list with readList, which returns at most n of the user's
// sessions in UserSessions' order. A list that came back whole, of no more
// than listLimit sessions, is cached and answers; for a user with more, or
// while the cache is off, readRecent asks the database for the answer
// itself.
func (c *Cache) ReadRecent(userID string, now, idleBefore time.Time, limit int,
	readList func(n int) ([]latch.Session, error),
	readRecent func() ([]latch.Session, int, error)) ([]latch.Session, int, error) {
	if recent, more, ok := c.Recent(userID, now, idleBefore, limit); ok {
		return recent, more, nil
	}
	c.mu.Lock()
	off, gen := c.off, c.gen
	c.mu.Unlock()
	if off {
		// Nothing would be kept: the database's own answer reads less.
		return readRecent()
	}
	list, err := readList(listLimit + 1)
	if err != nil {
		return nil, 0, err
	}
	if len(list) > listLimit {
		return readRecent()
	}
	c.FillList(gen, userID, list)
	recent, more := pickRecent(list, now, idleBefore, limit)
	return recent, more, nil
}

// ReadUser returns the user with the ID from the cache, or from read, whose
// result it then caches.
func (c *Cache) ReadUser(id int64, read func() (account.User, error)) (account.User, error) {
	if u, ok := c.User(id); ok {
		return u, nil
	}
	gen := c.Generation()
	u, err := read()
	if err == nil {
		c.FillUser(gen, u)
	}
	return u, err
}
