package sqlitestore

import (
	"bytes"
	"context"
	"maps"
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
// on more devices than that is read from the file, so that the cache's size
// stays bounded by cacheLimit entries of bounded size.
const listLimit = 100

// pollInterval is how often the cache asks SQLite whether another process
// wrote to the file. It bounds how long a change made by another process,
// such as `latch users delete`, can go unseen.
const pollInterval = 100 * time.Millisecond

// cache keeps in memory what every page load reads: the session of a token,
// the user of a session, and a user's list of sessions. It holds only what
// the database held, and forgets it as soon as it may have changed:
//
//   - every write this DB makes forgets the records it touched, after the
//     write is committed and before the write method returns, so a request
//     that starts after a logout or a revocation was answered cannot find the
//     old session;
//   - a write by another process on the same file is found out by polling
//     SQLite's data_version on the writer connection, which changes only
//     when another connection commits; the whole cache is then forgotten;
//   - a read that raced with a write does not fill the cache: fills carry the
//     generation seen before the query and are dropped if any forgetting
//     happened since.
//
// Lookups that find nothing are not cached, so a session or user created by
// anyone is seen at once.
type cache struct {
	mu  sync.Mutex
	gen uint64 // counts forgettings; see fill methods
	// off is set while the poller cannot tell whether another process
	// wrote: the cache is then bypassed until a poll succeeds again.
	off      bool
	sessions map[string]latch.Session   // by token hash
	tokens   map[string]string          // session ID → token hash
	lists    map[string][]latch.Session // by user ID
	users    map[int64]account.User     // by user ID
}

// newCache returns an empty cache, off until the first poll of the file's
// data_version succeeds.
func newCache() *cache {
	c := &cache{off: true}
	c.reset()
	return c
}

// reset forgets everything. The caller holds c.mu, or owns c.
func (c *cache) reset() {
	c.gen++
	c.sessions = make(map[string]latch.Session)
	c.tokens = make(map[string]string)
	c.lists = make(map[string][]latch.Session)
	c.users = make(map[int64]account.User)
}

// generation returns the generation to pass to a fill after the query.
func (c *cache) generation() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

// session returns a copy of the cached session with the given token hash.
func (c *cache) session(hash []byte) (latch.Session, bool) {
	c.mu.Lock()
	s, ok := c.sessions[string(hash)]
	c.mu.Unlock()
	if !ok {
		return latch.Session{}, false
	}
	return cloneSession(s), true
}

// fillSession caches s, read at generation gen.
func (c *cache) fillSession(gen uint64, s latch.Session) {
	s = cloneSession(s)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.off || c.gen != gen {
		return
	}
	makeRoom(c.sessions)
	makeRoom(c.tokens)
	key := string(s.TokenHash)
	c.sessions[key] = s
	c.tokens[s.ID] = key
}

// list returns a copy of the user's cached session list.
func (c *cache) list(userID string) ([]latch.Session, bool) {
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

// fillList caches the user's session list, read at generation gen.
func (c *cache) fillList(gen uint64, userID string, list []latch.Session) {
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
	makeRoom(c.lists)
	c.lists[userID] = own
}

// user returns the cached user with the given ID.
func (c *cache) user(id int64) (account.User, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	u, ok := c.users[id]
	return u, ok
}

// fillUser caches u, read at generation gen.
func (c *cache) fillUser(gen uint64, u account.User) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.off || c.gen != gen {
		return
	}
	makeRoom(c.users)
	c.users[u.ID] = u
}

// forgetSessions forgets the sessions with the given IDs and the session
// lists of the given users.
func (c *cache) forgetSessions(ids []string, userIDs ...string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	for _, id := range ids {
		if key, ok := c.tokens[id]; ok {
			if s, ok := c.sessions[key]; ok {
				delete(c.lists, s.UserID)
			}
			delete(c.sessions, key)
			delete(c.tokens, id)
		}
	}
	for _, u := range userIDs {
		delete(c.lists, u)
	}
}

// forgetUserSessions forgets every session of the user and its list.
func (c *cache) forgetUserSessions(userID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	delete(c.lists, userID)
	for key, s := range c.sessions {
		if s.UserID == userID {
			delete(c.sessions, key)
			delete(c.tokens, s.ID)
		}
	}
}

// forgetUser forgets the user with the given ID.
func (c *cache) forgetUser(id int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	delete(c.users, id)
}

// forgetAll forgets everything.
func (c *cache) forgetAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.reset()
}

// setOff turns the cache off (forgetting everything) or back on.
func (c *cache) setOff(off bool) {
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

// watch polls the writer connection's data_version until ctx is done, and
// forgets the cache whenever another process has committed a change to the
// file. While the poll fails, the cache is off: without an answer, a
// change cannot be ruled out.
func (db *DB) watch(ctx context.Context) {
	defer close(db.watching)
	t := time.NewTicker(pollInterval)
	defer t.Stop()
	var last dataVersion
	for {
		v, err := db.dataVersion(ctx)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			db.cache.setOff(true)
		case v != last:
			db.cache.forgetAll()
			db.cache.setOff(false)
		default:
			db.cache.setOff(false)
		}
		last = v
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// dataVersion is the writer connection's PRAGMA data_version. Its value counts
// per connection, so the connection is part of it.
type dataVersion struct {
	conn    any // the driver's connection
	version int64
}

// dataVersion returns the writer connection's data_version. The writer is
// the only connection of this DB that writes, so the value changes exactly
// when another process commits. Should the pool replace the connection,
// the new one counts afresh, and the changed conn tells.
func (db *DB) dataVersion(ctx context.Context) (dataVersion, error) {
	conn, err := db.write.Conn(ctx)
	if err != nil {
		return dataVersion{}, err
	}
	defer conn.Close()
	var v dataVersion
	if err := conn.Raw(func(dc any) error { v.conn = dc; return nil }); err != nil {
		return dataVersion{}, err
	}
	if err := conn.QueryRowContext(ctx, `PRAGMA data_version`).Scan(&v.version); err != nil {
		return dataVersion{}, err
	}
	return v, nil
}
