package storecache_test

import (
	"strconv"
	"testing"

	"github.com/latchauth/latch"
	"github.com/latchauth/latch/account"
	"github.com/latchauth/latch/internal/storecache"
)

func TestOffUntilTurnedOn(t *testing.T) {
	c := storecache.New()
	c.FillUser(c.Generation(), account.User{ID: 1})
	if _, ok := c.User(1); ok {
		t.Fatal("a new Cache kept a user before SetOff(false)")
	}
	c.SetOff(false)
	c.FillUser(c.Generation(), account.User{ID: 1})
	if _, ok := c.User(1); !ok {
		t.Fatal("an on Cache did not keep a user")
	}
	c.SetOff(true)
	if _, ok := c.User(1); ok {
		t.Fatal("SetOff(true) kept the user")
	}
}

// TestStaleFillDropped checks that a record read before something was
// forgotten is not cached: it may be older than the change.
func TestStaleFillDropped(t *testing.T) {
	c := storecache.New()
	c.SetOff(false)
	for name, forget := range map[string]func(){
		"ForgetUser":         func() { c.ForgetUser(99) },
		"ForgetSessions":     func() { c.ForgetSessions([]string{"x"}, "someone") },
		"ForgetUserSessions": func() { c.ForgetUserSessions("someone") },
		"ForgetAll":          c.ForgetAll,
	} {
		gen := c.Generation()
		forget()
		c.FillUser(gen, account.User{ID: 1})
		c.FillSession(gen, latch.Session{ID: "s", UserID: "1", TokenHash: []byte("t")})
		c.FillList(gen, "1", []latch.Session{{ID: "s"}})
		if _, ok := c.User(1); ok {
			t.Errorf("after %s: a user read before it was cached", name)
		}
		if _, ok := c.Session([]byte("t")); ok {
			t.Errorf("after %s: a session read before it was cached", name)
		}
		if _, ok := c.List("1"); ok {
			t.Errorf("after %s: a list read before it was cached", name)
		}
	}
}

// TestForgetting checks that each Forget method forgets what it names and
// nothing else.
func TestForgetting(t *testing.T) {
	c := storecache.New()
	c.SetOff(false)
	fill := func() {
		gen := c.Generation()
		for i := range 3 {
			id := strconv.Itoa(i)
			c.FillSession(gen, latch.Session{ID: "s" + id, UserID: id, TokenHash: []byte("t" + id)})
			c.FillList(gen, id, []latch.Session{{ID: "s" + id, UserID: id}})
			c.FillUser(gen, account.User{ID: int64(i)})
		}
	}
	has := func(i int) (session, list, user bool) {
		id := strconv.Itoa(i)
		_, session = c.Session([]byte("t" + id))
		_, list = c.List(id)
		_, user = c.User(int64(i))
		return
	}
	fill()
	c.ForgetSessions([]string{"s0"})
	if s, l, u := has(0); s || l || !u {
		t.Errorf("ForgetSessions(s0): session %v, list %v, user %v; want false, false (its owner's), true", s, l, u)
	}
	if s, l, u := has(1); !s || !l || !u {
		t.Errorf("ForgetSessions(s0) forgot user 1's records")
	}
	fill()
	c.ForgetUserSessions("1")
	if s, l, _ := has(1); s || l {
		t.Errorf("ForgetUserSessions(1): session %v, list %v; want both gone", s, l)
	}
	fill()
	c.ForgetUser(2)
	if s, l, u := has(2); !s || !l || u {
		t.Errorf("ForgetUser(2): session %v, list %v, user %v; want true, true, false", s, l, u)
	}
	fill()
	c.ForgetAll()
	for i := range 3 {
		if s, l, u := has(i); s || l || u {
			t.Errorf("ForgetAll left records of %d", i)
		}
	}
}

// TestCopies checks that callers cannot change the cache through what it
// returns or what they gave it.
func TestCopies(t *testing.T) {
	c := storecache.New()
	c.SetOff(false)
	s := latch.Session{ID: "s", UserID: "1", TokenHash: []byte("token")}
	list := []latch.Session{s}
	c.FillSession(c.Generation(), s)
	c.FillList(c.Generation(), "1", list)
	s.TokenHash[0] = 'X'
	list[0].ID = "changed"
	got, _ := c.Session([]byte("token"))
	got.TokenHash[0] = 'Y'
	gotList, _ := c.List("1")
	gotList[0].ID = "changed too"
	if again, ok := c.Session([]byte("token")); !ok || string(again.TokenHash) != "token" {
		t.Errorf("cached session changed through a slice: %q, %v", again.TokenHash, ok)
	}
	if again, _ := c.List("1"); again[0].ID != "s" {
		t.Errorf("cached list changed through a slice: %q", again[0].ID)
	}
}

func TestLongListsNotCached(t *testing.T) {
	c := storecache.New()
	c.SetOff(false)
	long := make([]latch.Session, 101)
	c.FillList(c.Generation(), "1", long)
	if _, ok := c.List("1"); ok {
		t.Error("a list of 101 sessions was cached; want lists of at most 100")
	}
	c.FillList(c.Generation(), "1", long[:100])
	if _, ok := c.List("1"); !ok {
		t.Error("a list of 100 sessions was not cached")
	}
}

// TestListedBounded fills lists of 100 sessions for many users and checks
// that the cache holds no more than its bound of sessions in lists, while
// still holding the latest.
func TestListedBounded(t *testing.T) {
	c := storecache.New()
	c.SetOff(false)
	list := make([]latch.Session, 100)
	for i := range 1000 {
		c.FillList(c.Generation(), strconv.Itoa(i), list)
	}
	held := 0
	for i := range 1000 {
		if l, ok := c.List(strconv.Itoa(i)); ok {
			held += len(l)
		}
	}
	if held > 20_000 || held < 10_000 {
		t.Errorf("lists hold %d sessions; want at most 20,000, and not far below", held)
	}
	if _, ok := c.List("999"); !ok {
		t.Error("the latest list is not held")
	}
	c.ForgetAll()
	c.FillList(c.Generation(), "x", list)
	if _, ok := c.List("x"); !ok {
		t.Error("after ForgetAll, a list is not held: the count was not reset")
	}
}

// TestForgetAfterEviction fills more sessions than the cache holds, so that
// some are evicted, then forgets each by ID, as a logout does: none may
// still be served.
func TestForgetAfterEviction(t *testing.T) {
	c := storecache.New()
	c.SetOff(false)
	const n = 10_500
	for i := range n {
		id := strconv.Itoa(i)
		c.FillSession(c.Generation(), latch.Session{ID: id, UserID: id, TokenHash: []byte("t" + id)})
	}
	for i := range n {
		id := strconv.Itoa(i)
		c.ForgetSessions([]string{id})
		if _, ok := c.Session([]byte("t" + id)); ok {
			t.Fatalf("session %s still served after ForgetSessions", id)
		}
	}
}

// TestRotationForgetsOldToken fills the same session under a new token
// without forgetting it first: the old token must not outlive it.
func TestRotationForgetsOldToken(t *testing.T) {
	c := storecache.New()
	c.SetOff(false)
	c.FillSession(c.Generation(), latch.Session{ID: "s", UserID: "1", TokenHash: []byte("old")})
	c.FillSession(c.Generation(), latch.Session{ID: "s", UserID: "1", TokenHash: []byte("new")})
	c.ForgetSessions([]string{"s"})
	for _, tok := range []string{"old", "new"} {
		if _, ok := c.Session([]byte(tok)); ok {
			t.Errorf("token %q still served after the session was forgotten", tok)
		}
	}
}
