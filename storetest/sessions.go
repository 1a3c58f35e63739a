package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchauth/latch"
)

// Sessions checks s against the [latch.SessionStore] contract, and against
// [latch.SessionPruner] when s implements it.
func Sessions(t *testing.T, s latch.SessionStore) {
	t.Run("RoundTrip", func(t *testing.T) { testSessionRoundTrip(t, s) })
	t.Run("NoRemember", func(t *testing.T) { testSessionNoRemember(t, s) })
	t.Run("NotFound", func(t *testing.T) { testSessionNotFound(t, s) })
	t.Run("NoAliasing", func(t *testing.T) { testSessionNoAliasing(t, s) })
	t.Run("Update", func(t *testing.T) { testSessionUpdate(t, s) })
	t.Run("Touch", func(t *testing.T) { testSessionTouch(t, s) })
	t.Run("UpdateDeleted", func(t *testing.T) { testSessionUpdateDeleted(t, s) })
	t.Run("Delete", func(t *testing.T) { testSessionDelete(t, s) })
	t.Run("UserSessions", func(t *testing.T) { testUserSessions(t, s) })
	t.Run("DeleteUserSessions", func(t *testing.T) { testDeleteUserSessions(t, s) })
	t.Run("RotateSession", func(t *testing.T) { testRotateSession(t, s) })
	t.Run("RotateSessionRace", func(t *testing.T) { testRotateSessionRace(t, s) })
	t.Run("RecentUserSessions", func(t *testing.T) { testRecentUserSessions(t, s) })
	t.Run("RecentUserSessionsMany", func(t *testing.T) { testRecentUserSessionsMany(t, s) })
	t.Run("DeleteUserSession", func(t *testing.T) { testDeleteUserSession(t, s) })
	t.Run("TrimUserSessions", func(t *testing.T) { testTrimUserSessions(t, s) })
	if p, ok := s.(latch.SessionPruner); ok {
		t.Run("DeleteExpiredSessions", func(t *testing.T) { testDeleteExpiredSessions(t, s, p) })
	}
}

// newSession returns a remembered, fresh session of userID created at
// created, with every field set and random hashes.
func newSession(userID string, created time.Time) latch.Session {
	return latch.Session{
		ID:           randomID(),
		UserID:       userID,
		TokenHash:    randomHash(),
		RememberHash: randomHash(),
		Remember:     true,
		Fresh:        true,
		CreatedAt:    created,
		LastSeenAt:   created.Add(90*time.Second + 123*time.Microsecond),
		ExpiresAt:    created.Add(30 * 24 * time.Hour),
		IP:           "2001:db8::" + randomID()[:4],
		UserAgent:    "Mozilla/5.0 (storetest; ünïcode) " + randomID(),
	}
}

// newUserID returns a random user identifier and registers a cleanup that
// removes the user's sessions.
func newUserID(t *testing.T, s latch.SessionStore) string {
	t.Helper()
	id := "storetest-" + randomID()
	t.Cleanup(func() {
		// t.Context is already canceled when cleanups run.
		s.DeleteUserSessions(context.Background(), id, "")
	})
	return id
}

// createSession stores sess, stopping the subtest if it cannot, since the
// checks that follow would only repeat the failure.
func createSession(t *testing.T, s latch.SessionStore, sess latch.Session) {
	t.Helper()
	if err := s.CreateSession(t.Context(), sess); err != nil {
		t.Fatalf("CreateSession(%s) = %v; want nil", formatSession(sess), err)
	}
}

func equalSession(a, b latch.Session) bool {
	return a.ID == b.ID &&
		a.UserID == b.UserID &&
		bytes.Equal(a.TokenHash, b.TokenHash) &&
		bytes.Equal(a.RememberHash, b.RememberHash) && // nil and empty both mean none
		a.Remember == b.Remember &&
		a.Fresh == b.Fresh &&
		sameTime(a.CreatedAt, b.CreatedAt) &&
		sameTime(a.LastSeenAt, b.LastSeenAt) &&
		sameTime(a.ExpiresAt, b.ExpiresAt) &&
		a.IP == b.IP &&
		a.UserAgent == b.UserAgent &&
		bytes.Equal(a.PrevRememberHash, b.PrevRememberHash) &&
		sameTime(a.RotatedAt, b.RotatedAt)
}

func formatSession(s latch.Session) string {
	return fmt.Sprintf("{ID:%q UserID:%q TokenHash:%x RememberHash:%x Remember:%t Fresh:%t CreatedAt:%s LastSeenAt:%s ExpiresAt:%s IP:%q UserAgent:%q PrevRememberHash:%x RotatedAt:%s}",
		s.ID, s.UserID, s.TokenHash, s.RememberHash, s.Remember, s.Fresh,
		formatTime(s.CreatedAt), formatTime(s.LastSeenAt), formatTime(s.ExpiresAt),
		s.IP, s.UserAgent, s.PrevRememberHash, formatTime(s.RotatedAt))
}

func formatSessionIDs(list []latch.Session) string {
	ids := make([]string, len(list))
	for i, s := range list {
		ids[i] = s.ID
	}
	return "[" + strings.Join(ids, " ") + "]"
}

// wantSessionByToken checks that SessionByToken(want.TokenHash) returns want.
func wantSessionByToken(t *testing.T, s latch.SessionStore, want latch.Session) {
	t.Helper()
	got, err := s.SessionByToken(t.Context(), want.TokenHash)
	if err != nil {
		t.Errorf("SessionByToken(%x) error = %v; want nil", want.TokenHash, err)
	} else if !equalSession(got, want) {
		t.Errorf("SessionByToken(%x) = %v; want %v", want.TokenHash, formatSession(got), formatSession(want))
	}
}

// wantSessionByRemember checks that SessionByRemember(want.RememberHash)
// returns want.
func wantSessionByRemember(t *testing.T, s latch.SessionStore, want latch.Session) {
	t.Helper()
	got, err := s.SessionByRemember(t.Context(), want.RememberHash)
	if err != nil {
		t.Errorf("SessionByRemember(%x) error = %v; want nil", want.RememberHash, err)
	} else if !equalSession(got, want) {
		t.Errorf("SessionByRemember(%x) = %v; want %v", want.RememberHash, formatSession(got), formatSession(want))
	}
}

// wantNoSessionByToken checks that no session has the token hash.
func wantNoSessionByToken(t *testing.T, s latch.SessionStore, hash []byte) {
	t.Helper()
	got, err := s.SessionByToken(t.Context(), hash)
	if !errors.Is(err, latch.ErrSessionNotFound) {
		t.Errorf("SessionByToken(%x) = %v, %v; want %v", hash, formatSession(got), err, latch.ErrSessionNotFound)
	}
}

// wantNoSessionByRemember checks that no session has the remember hash.
func wantNoSessionByRemember(t *testing.T, s latch.SessionStore, hash []byte) {
	t.Helper()
	got, err := s.SessionByRemember(t.Context(), hash)
	if !errors.Is(err, latch.ErrSessionNotFound) {
		t.Errorf("SessionByRemember(%x) = %v, %v; want %v", hash, formatSession(got), err, latch.ErrSessionNotFound)
	}
}

// wantUserSessions checks that UserSessions(userID) returns want, in order.
func wantUserSessions(t *testing.T, s latch.SessionStore, userID string, want ...latch.Session) {
	t.Helper()
	got, err := s.UserSessions(t.Context(), userID)
	if err != nil {
		t.Errorf("UserSessions(%q) error = %v; want nil", userID, err)
		return
	}
	if len(got) != len(want) {
		t.Errorf("UserSessions(%q) = %s; want %s", userID, formatSessionIDs(got), formatSessionIDs(want))
		return
	}
	for i := range got {
		if !equalSession(got[i], want[i]) {
			t.Errorf("UserSessions(%q)[%d] = %v; want %v", userID, i, formatSession(got[i]), formatSession(want[i]))
		}
	}
}

func testSessionRoundTrip(t *testing.T, s latch.SessionStore) {
	sess := newSession(newUserID(t, s), baseTime())
	createSession(t, s, sess)
	wantSessionByToken(t, s, sess)
	wantSessionByRemember(t, s, sess)

	// Every field differs from the first record's, booleans and empty
	// strings included.
	other := newSession(sess.UserID, baseTime().Add(-time.Hour))
	other.Remember = false
	other.RememberHash = nil
	other.Fresh = false
	other.IP = ""
	other.UserAgent = ""
	createSession(t, s, other)
	wantSessionByToken(t, s, other)
	wantSessionByToken(t, s, sess)
}

// testSessionNoRemember checks that nil and empty remember hashes both mean
// "none": several sessions may have none, and no lookup finds them by it, so
// an empty remember-me cookie restores nobody's session.
func testSessionNoRemember(t *testing.T, s latch.SessionStore) {
	userID := newUserID(t, s)
	now := baseTime()
	a := newSession(userID, now)
	a.Remember, a.RememberHash = false, nil
	b := newSession(userID, now.Add(time.Second))
	b.Remember, b.RememberHash = false, []byte{}
	c := newSession(userID, now.Add(2*time.Second))
	c.Remember, c.RememberHash = false, nil
	for _, sess := range []latch.Session{a, b, c} {
		createSession(t, s, sess)
	}
	for _, sess := range []latch.Session{a, b, c} {
		wantSessionByToken(t, s, sess)
	}
	wantNoSessionByRemember(t, s, nil)
	wantNoSessionByRemember(t, s, []byte{})
}

func testSessionNotFound(t *testing.T, s latch.SessionStore) {
	wantNoSessionByToken(t, s, randomHash())
	wantNoSessionByRemember(t, s, randomHash())
	wantNoSessionByToken(t, s, nil)
	wantNoSessionByToken(t, s, []byte{})

	id := randomID()
	if err := s.DeleteSession(t.Context(), id); err != nil {
		t.Errorf("DeleteSession(%q) = %v; want nil", id, err)
	}
	userID := "storetest-" + randomID()
	got, err := s.UserSessions(t.Context(), userID)
	if err != nil || len(got) != 0 {
		t.Errorf("UserSessions(%q) = %s, %v; want [], nil", userID, formatSessionIDs(got), err)
	}
	n, err := s.DeleteUserSessions(t.Context(), userID, "")
	if err != nil || n != 0 {
		t.Errorf("DeleteUserSessions(%q, %q) = %d, %v; want 0, nil", userID, "", n, err)
	}
}

// testSessionNoAliasing checks that the store keeps its own copy of the
// hashes it is given and hands out copies, so neither side can change the
// other's record by writing into a slice.
func testSessionNoAliasing(t *testing.T, s latch.SessionStore) {
	sess := newSession(newUserID(t, s), baseTime())
	want := sess
	want.TokenHash = bytes.Clone(sess.TokenHash)
	want.RememberHash = bytes.Clone(sess.RememberHash)
	createSession(t, s, sess)
	sess.TokenHash[0] ^= 0xff
	sess.RememberHash[0] ^= 0xff
	wantSessionByToken(t, s, want)
	wantSessionByRemember(t, s, want)

	got, err := s.SessionByToken(t.Context(), want.TokenHash)
	if err != nil {
		t.Fatalf("SessionByToken(%x) error = %v; want nil", want.TokenHash, err)
	}
	got.TokenHash[0] ^= 0xff
	if len(got.RememberHash) > 0 {
		got.RememberHash[0] ^= 0xff
	}
	wantSessionByToken(t, s, want)
	wantSessionByRemember(t, s, want)

	list, err := s.UserSessions(t.Context(), want.UserID)
	if err != nil || len(list) != 1 {
		t.Fatalf("UserSessions(%q) = %s, %v; want [%s], nil", want.UserID, formatSessionIDs(list), err, want.ID)
	}
	list[0].TokenHash[0] ^= 0xff
	wantSessionByToken(t, s, want)
}

func testSessionUpdate(t *testing.T, s latch.SessionStore) {
	userID := newUserID(t, s)
	now := baseTime()
	old := newSession(userID, now)
	createSession(t, s, old)
	// Another session of the same user must come through untouched.
	bystander := newSession(userID, now.Add(-time.Minute))
	createSession(t, s, bystander)

	// A renewal: both tokens rotate, the old remember hash is kept as the
	// previous one, and every other mutable field changes.
	renewed := old
	renewed.TokenHash = randomHash()
	renewed.PrevRememberHash = old.RememberHash
	renewed.RotatedAt = old.LastSeenAt.Add(time.Hour + 7*time.Microsecond)
	renewed.RememberHash = randomHash()
	renewed.Fresh = false
	renewed.LastSeenAt = old.LastSeenAt.Add(time.Hour + 7*time.Microsecond)
	renewed.ExpiresAt = old.ExpiresAt.Add(24 * time.Hour)
	renewed.IP = "192.0.2.7"
	renewed.UserAgent = "curl/8.0 " + randomID()
	// Read first: a store that caches must forget what it read.
	wantSessionByToken(t, s, old)
	wantUserSessions(t, s, userID, old, bystander)
	if err := s.UpdateSession(t.Context(), renewed); err != nil {
		t.Fatalf("UpdateSession(%s) = %v; want nil", formatSession(renewed), err)
	}
	wantNoSessionByToken(t, s, old.TokenHash)
	wantSessionByToken(t, s, renewed)
	wantSessionByRemember(t, s, renewed)
	// The previous remember hash finds the session too.
	if got, err := s.SessionByRemember(t.Context(), old.RememberHash); err != nil || !equalSession(got, renewed) {
		t.Errorf("SessionByRemember(previous %x) = %v, %v; want %v", old.RememberHash, formatSession(got), err, formatSession(renewed))
	}

	// A touch: the hashes stay, which must not trip their uniqueness.
	touched := renewed
	touched.LastSeenAt = renewed.LastSeenAt.Add(time.Minute)
	wantUserSessions(t, s, userID, renewed, bystander)
	if err := s.UpdateSession(t.Context(), touched); err != nil {
		t.Errorf("UpdateSession(%s) = %v; want nil", formatSession(touched), err)
	}
	wantSessionByToken(t, s, touched)
	wantSessionByRemember(t, s, touched)
	wantUserSessions(t, s, userID, touched, bystander)

	// Forgetting remember-me drops the remember hash.
	forgotten := touched
	forgotten.Remember = false
	forgotten.RememberHash = nil
	forgotten.PrevRememberHash = nil
	if err := s.UpdateSession(t.Context(), forgotten); err != nil {
		t.Errorf("UpdateSession(%s) = %v; want nil", formatSession(forgotten), err)
	}
	wantSessionByToken(t, s, forgotten)
	wantNoSessionByRemember(t, s, touched.RememberHash)
	wantNoSessionByRemember(t, s, old.RememberHash)

	wantSessionByToken(t, s, bystander)
	wantSessionByRemember(t, s, bystander)
	wantUserSessions(t, s, userID, forgotten, bystander)
}

// testSessionUpdateDeleted checks that updating a revoked session fails and
// does not bring it back.
// testSessionTouch checks that TouchSession changes LastSeenAt alone: a
// touch made after a rotation keeps the rotated tokens.
func testSessionTouch(t *testing.T, s latch.SessionStore) {
	userID := newUserID(t, s)
	now := baseTime()
	old := newSession(userID, now)
	createSession(t, s, old)
	// Read first: a store that caches must forget what it read.
	wantSessionByToken(t, s, old)
	wantUserSessions(t, s, userID, old)

	rotated := old
	rotated.TokenHash = randomHash()
	rotated.Fresh = !old.Fresh
	if err := s.UpdateSession(t.Context(), rotated); err != nil {
		t.Fatalf("UpdateSession(%s) = %v; want nil", formatSession(rotated), err)
	}
	// A request that read the session before the rotation touches it.
	seen := now.Add(time.Minute + 3*time.Microsecond)
	if err := s.TouchSession(t.Context(), old.ID, seen); err != nil {
		t.Fatalf("TouchSession(%q) = %v; want nil", old.ID, err)
	}
	touched := rotated
	touched.LastSeenAt = seen
	wantSessionByToken(t, s, touched)
	wantNoSessionByToken(t, s, old.TokenHash)
	wantUserSessions(t, s, userID, touched)

	if err := s.DeleteSession(t.Context(), old.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.TouchSession(t.Context(), old.ID, seen); !errors.Is(err, latch.ErrSessionNotFound) {
		t.Errorf("TouchSession of a deleted session = %v; want ErrSessionNotFound", err)
	}
}

func testSessionUpdateDeleted(t *testing.T, s latch.SessionStore) {
	sess := newSession(newUserID(t, s), baseTime())
	createSession(t, s, sess)
	if err := s.DeleteSession(t.Context(), sess.ID); err != nil {
		t.Fatalf("DeleteSession(%q) = %v; want nil", sess.ID, err)
	}
	sess.LastSeenAt = sess.LastSeenAt.Add(time.Minute)
	if err := s.UpdateSession(t.Context(), sess); !errors.Is(err, latch.ErrSessionNotFound) {
		t.Errorf("UpdateSession(deleted %q) = %v; want %v", sess.ID, err, latch.ErrSessionNotFound)
	}
	wantNoSessionByToken(t, s, sess.TokenHash)
	wantNoSessionByRemember(t, s, sess.RememberHash)
	wantUserSessions(t, s, sess.UserID)

	never := newSession(sess.UserID, baseTime())
	if err := s.UpdateSession(t.Context(), never); !errors.Is(err, latch.ErrSessionNotFound) {
		t.Errorf("UpdateSession(unknown %q) = %v; want %v", never.ID, err, latch.ErrSessionNotFound)
	}
	wantNoSessionByToken(t, s, never.TokenHash)
}

func testSessionDelete(t *testing.T, s latch.SessionStore) {
	userID := newUserID(t, s)
	gone := newSession(userID, baseTime())
	kept := newSession(userID, baseTime().Add(-time.Second))
	createSession(t, s, gone)
	createSession(t, s, kept)
	// Read first: a store that caches must forget what it read.
	wantSessionByToken(t, s, gone)
	wantUserSessions(t, s, userID, gone, kept)
	if err := s.DeleteSession(t.Context(), gone.ID); err != nil {
		t.Errorf("DeleteSession(%q) = %v; want nil", gone.ID, err)
	}
	wantNoSessionByToken(t, s, gone.TokenHash)
	wantNoSessionByRemember(t, s, gone.RememberHash)
	wantSessionByToken(t, s, kept)
	wantUserSessions(t, s, userID, kept)
	if err := s.DeleteSession(t.Context(), gone.ID); err != nil {
		t.Errorf("DeleteSession(%q) again = %v; want nil", gone.ID, err)
	}
}

func testUserSessions(t *testing.T, s latch.SessionStore) {
	userID := newUserID(t, s)
	otherID := newUserID(t, s)
	now := baseTime()
	newest := newSession(userID, now)
	middle := newSession(userID, now.Add(-time.Hour))
	middle.Remember, middle.RememberHash = false, nil
	// Expired sessions are listed too: the store does not interpret expiry.
	oldest := newSession(userID, now.Add(-48*time.Hour))
	oldest.ExpiresAt = now.Add(-time.Hour)
	other := newSession(otherID, now.Add(time.Minute))
	// Created out of order, so that insertion order cannot pass for age.
	for _, sess := range []latch.Session{middle, other, oldest, newest} {
		createSession(t, s, sess)
	}
	wantUserSessions(t, s, userID, newest, middle, oldest)
	wantUserSessions(t, s, otherID, other)
}

func testDeleteUserSessions(t *testing.T, s latch.SessionStore) {
	userID := newUserID(t, s)
	otherID := newUserID(t, s)
	now := baseTime()
	a := newSession(userID, now)
	b := newSession(userID, now.Add(-time.Minute))
	c := newSession(userID, now.Add(-2*time.Minute))
	other := newSession(otherID, now)
	for _, sess := range []latch.Session{a, b, c, other} {
		createSession(t, s, sess)
	}

	check := func(userID, keep string, want int) {
		t.Helper()
		n, err := s.DeleteUserSessions(t.Context(), userID, keep)
		if err != nil || n != want {
			t.Errorf("DeleteUserSessions(%q, %q) = %d, %v; want %d, nil", userID, keep, n, err, want)
		}
	}

	// Read first: a store that caches must forget what it read.
	for _, sess := range []latch.Session{a, b, c} {
		wantSessionByToken(t, s, sess)
	}
	wantUserSessions(t, s, userID, a, b, c)
	check(userID, b.ID, 2)
	wantUserSessions(t, s, userID, b)
	wantNoSessionByToken(t, s, a.TokenHash)
	wantNoSessionByRemember(t, s, c.RememberHash)
	wantSessionByToken(t, s, b)
	wantUserSessions(t, s, otherID, other)

	// keep names another user's session: it protects nothing here, and
	// does not delete that session either.
	check(userID, other.ID, 1)
	wantUserSessions(t, s, userID)
	wantUserSessions(t, s, otherID, other)
	check(userID, "", 0)

	check(otherID, "", 1)
	wantUserSessions(t, s, otherID)
}

func testDeleteExpiredSessions(t *testing.T, s latch.SessionStore, p latch.SessionPruner) {
	userID := newUserID(t, s)
	now := baseTime()
	idleBefore := now.Add(-time.Hour)

	at := func(created, lastSeen, expires time.Time, remember bool) latch.Session {
		sess := newSession(userID, created)
		sess.LastSeenAt, sess.ExpiresAt = lastSeen, expires
		sess.Remember = remember
		if !remember {
			sess.RememberHash = nil
		}
		return sess
	}
	day := 24 * time.Hour
	var (
		// Deleted: past its absolute end, remembered or not, seen or not.
		expiredRemembered = at(now.Add(-30*day), now.Add(-time.Minute), now.Add(-time.Minute), true)
		expiredActive     = at(now.Add(-2*day), now.Add(-time.Second), now.Add(-time.Second), false)
		// Deleted: idle and not remembered.
		idle = at(now.Add(-3*time.Hour), now.Add(-2*time.Hour), now.Add(day), false)
		// Kept: idle but remembered, so the cookie can still restore it.
		idleRemembered = at(now.Add(-4*time.Hour), now.Add(-2*time.Hour), now.Add(day), true)
		// Kept: active and unexpired.
		active = at(now.Add(-5*time.Hour), now.Add(-time.Minute), now.Add(day), false)
	)
	for _, sess := range []latch.Session{expiredRemembered, expiredActive, idle, idleRemembered, active} {
		createSession(t, s, sess)
	}

	n, err := p.DeleteExpiredSessions(t.Context(), now, idleBefore)
	// Other sessions in the store may be pruned as well.
	if err != nil || n < 3 {
		t.Errorf("DeleteExpiredSessions(%s, %s) = %d, %v; want at least 3, nil", formatTime(now), formatTime(idleBefore), n, err)
	}
	wantUserSessions(t, s, userID, idleRemembered, active)
	for _, sess := range []latch.Session{expiredRemembered, expiredActive, idle} {
		wantNoSessionByToken(t, s, sess.TokenHash)
	}
	wantNoSessionByRemember(t, s, expiredRemembered.RememberHash)
	wantSessionByRemember(t, s, idleRemembered)

	// A second pass finds nothing more of ours.
	if _, err := p.DeleteExpiredSessions(t.Context(), now, idleBefore); err != nil {
		t.Errorf("DeleteExpiredSessions(%s, %s) again error = %v; want nil", formatTime(now), formatTime(idleBefore), err)
	}
	wantUserSessions(t, s, userID, idleRemembered, active)
}

// rotated returns s as a rotation of its remember-me token at the given
// time makes it.
func rotated(s latch.Session, at time.Time) latch.Session {
	s.PrevRememberHash, s.RotatedAt = s.RememberHash, at
	s.TokenHash, s.RememberHash = randomHash(), randomHash()
	s.Fresh = false
	s.LastSeenAt = at
	s.IP = "198.51.100." + fmt.Sprint(len(randomID()))
	return s
}

func testRotateSession(t *testing.T, s latch.SessionStore) {
	userID := newUserID(t, s)
	now := baseTime()
	sess := newSession(userID, now)
	createSession(t, s, sess)
	// Read first: a store that caches must forget what it read.
	wantSessionByToken(t, s, sess)
	wantUserSessions(t, s, userID, sess)

	// A stale or empty remember hash rotates nothing.
	for _, stale := range [][]byte{randomHash(), nil, {}} {
		r := rotated(sess, now.Add(time.Minute))
		if err := s.RotateSession(t.Context(), r, stale); !errors.Is(err, latch.ErrSessionRotated) {
			t.Errorf("RotateSession(%q, stale %x) = %v; want %v", sess.ID, stale, err, latch.ErrSessionRotated)
		}
	}
	wantSessionByToken(t, s, sess)
	wantSessionByRemember(t, s, sess)

	first := rotated(sess, now.Add(time.Minute))
	if err := s.RotateSession(t.Context(), first, sess.RememberHash); err != nil {
		t.Fatalf("RotateSession(%s, %x) = %v; want nil", formatSession(first), sess.RememberHash, err)
	}
	wantNoSessionByToken(t, s, sess.TokenHash)
	wantSessionByToken(t, s, first)
	wantSessionByRemember(t, s, first)
	wantUserSessions(t, s, userID, first)

	// The token it replaced no longer rotates it.
	again := rotated(sess, now.Add(2*time.Minute))
	if err := s.RotateSession(t.Context(), again, sess.RememberHash); !errors.Is(err, latch.ErrSessionRotated) {
		t.Errorf("RotateSession with the replaced token = %v; want %v", err, latch.ErrSessionRotated)
	}
	wantSessionByToken(t, s, first)
	wantNoSessionByToken(t, s, again.TokenHash)

	// A session without remember-me has no hash to match, not even an
	// empty one.
	plain := newSession(userID, now.Add(-time.Hour))
	plain.Remember, plain.RememberHash = false, nil
	createSession(t, s, plain)
	if err := s.RotateSession(t.Context(), rotated(plain, now), nil); !errors.Is(err, latch.ErrSessionRotated) {
		t.Errorf("RotateSession(not remembered, nil) = %v; want %v", err, latch.ErrSessionRotated)
	}
	wantSessionByToken(t, s, plain)

	if err := s.DeleteSession(t.Context(), first.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.RotateSession(t.Context(), rotated(first, now.Add(3*time.Minute)), first.RememberHash); !errors.Is(err, latch.ErrSessionNotFound) {
		t.Errorf("RotateSession(deleted %q) = %v; want %v", first.ID, err, latch.ErrSessionNotFound)
	}
	wantNoSessionByRemember(t, s, first.RememberHash)
}

// testRotateSessionRace rotates one token from many goroutines at once:
// exactly one may win, and the store must hold its tokens.
func testRotateSessionRace(t *testing.T, s latch.SessionStore) {
	userID := newUserID(t, s)
	now := baseTime()
	sess := newSession(userID, now)
	createSession(t, s, sess)
	wantSessionByToken(t, s, sess)

	const racers = 16
	var (
		wg    sync.WaitGroup
		start = make(chan struct{})
		errs  [racers]error
		tries [racers]latch.Session
	)
	for i := range racers {
		tries[i] = rotated(sess, now.Add(time.Duration(i+1)*time.Second))
		wg.Go(func() {
			<-start
			errs[i] = s.RotateSession(context.Background(), tries[i], sess.RememberHash)
		})
	}
	close(start)
	wg.Wait()

	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Errorf("RotateSession: racers %d and %d both won", winner, i)
		case err == nil:
			winner = i
		case !errors.Is(err, latch.ErrSessionRotated):
			t.Errorf("RotateSession of racer %d = %v; want nil or %v", i, err, latch.ErrSessionRotated)
		}
	}
	if winner < 0 {
		t.Fatalf("RotateSession: no racer of %d won", racers)
	}
	wantSessionByToken(t, s, tries[winner])
	wantSessionByRemember(t, s, tries[winner])
	wantUserSessions(t, s, userID, tries[winner])
	for i, r := range tries {
		if i != winner {
			wantNoSessionByToken(t, s, r.TokenHash)
			wantNoSessionByRemember(t, s, r.RememberHash)
		}
	}
}

// wantRecent checks that RecentUserSessions returns want, in order, and
// more.
func wantRecent(t *testing.T, s latch.SessionStore, userID string, now, idleBefore time.Time, limit int, wantMore int, want ...latch.Session) {
	t.Helper()
	got, more, err := s.RecentUserSessions(t.Context(), userID, now, idleBefore, limit)
	if err != nil {
		t.Errorf("RecentUserSessions(%q, limit %d) error = %v; want nil", userID, limit, err)
		return
	}
	if len(got) != len(want) || more != wantMore {
		t.Errorf("RecentUserSessions(%q, limit %d) = %s, %d more; want %s, %d more", userID, limit, formatSessionIDs(got), more, formatSessionIDs(want), wantMore)
		return
	}
	for i := range got {
		if !equalSession(got[i], want[i]) {
			t.Errorf("RecentUserSessions(%q, limit %d)[%d] = %v; want %v", userID, limit, i, formatSession(got[i]), formatSession(want[i]))
		}
	}
}

func testRecentUserSessions(t *testing.T, s latch.SessionStore) {
	userID := newUserID(t, s)
	otherID := newUserID(t, s)
	now := baseTime()
	idleBefore := now.Add(-time.Hour)
	day := 24 * time.Hour
	at := func(created, lastSeen, expires time.Time, remember bool) latch.Session {
		sess := newSession(userID, created)
		sess.LastSeenAt, sess.ExpiresAt, sess.Remember = lastSeen, expires, remember
		if !remember {
			sess.RememberHash = nil
		}
		return sess
	}
	var (
		// Live, in the order of their last use, which is not that of
		// their creation.
		recent   = at(now.Add(-5*day), now.Add(-time.Second), now.Add(day), true)
		active   = at(now.Add(-time.Hour), now.Add(-time.Minute), now.Add(day), false)
		idleKept = at(now.Add(-2*day), now.Add(-3*time.Hour), now.Add(day), true)
		// Not live: past its end, and idle without remember-me.
		expired = at(now.Add(-30*day), now.Add(-2*time.Second), now.Add(-time.Second), true)
		idle    = at(now.Add(-4*time.Hour), now.Add(-2*time.Hour), now.Add(day), false)
		other   = newSession(otherID, now)
	)
	for _, sess := range []latch.Session{idle, active, other, expired, idleKept, recent} {
		createSession(t, s, sess)
	}
	// Read first: a store that caches must forget what it read.
	wantUserSessions(t, s, userID, active, idle, idleKept, recent, expired)
	wantRecent(t, s, userID, now, idleBefore, 10, 0, recent, active, idleKept)
	wantRecent(t, s, userID, now, idleBefore, 2, 1, recent, active)
	wantRecent(t, s, userID, now, idleBefore, 1, 2, recent)
	wantRecent(t, s, userID, now, idleBefore, 0, 3)
	wantRecent(t, s, otherID, now, idleBefore, 10, 0, other)
	wantRecent(t, s, "storetest-"+randomID(), now, idleBefore, 10, 0)

	// Each change shows at the next call.
	if err := s.TouchSession(t.Context(), idleKept.ID, now); err != nil {
		t.Fatalf("TouchSession(%q) = %v; want nil", idleKept.ID, err)
	}
	idleKept.LastSeenAt = now
	wantRecent(t, s, userID, now, idleBefore, 2, 1, idleKept, recent)
	added := at(now, now.Add(time.Microsecond), now.Add(day), false)
	createSession(t, s, added)
	wantRecent(t, s, userID, now.Add(time.Second), idleBefore, 2, 2, added, idleKept)
	if err := s.DeleteSession(t.Context(), added.ID); err != nil {
		t.Fatal(err)
	}
	wantRecent(t, s, userID, now.Add(time.Second), idleBefore, 2, 1, idleKept, recent)
}

// testRecentUserSessionsMany lists the sessions of a user with more than a
// caching store keeps in one list.
func testRecentUserSessionsMany(t *testing.T, s latch.SessionStore) {
	userID := newUserID(t, s)
	now := baseTime()
	const many = 130
	var all []latch.Session
	for i := range many {
		sess := newSession(userID, now.Add(-time.Duration(i)*time.Minute))
		// Last used in the reverse order of creation, every fourth one
		// idle without remember-me.
		sess.LastSeenAt = now.Add(-time.Duration(many-i) * time.Second)
		if i%4 == 0 {
			sess.Remember, sess.RememberHash = false, nil
			sess.LastSeenAt = now.Add(-2*time.Hour - time.Duration(i)*time.Second)
		}
		createSession(t, s, sess)
		all = append(all, sess)
	}
	// Live ones, most recently used first: the last created first.
	var live []latch.Session
	for i := many - 1; i >= 0; i-- {
		if i%4 != 0 {
			live = append(live, all[i])
		}
	}
	for range 2 { // the second call may be answered from a cache
		wantRecent(t, s, userID, now, now.Add(-time.Hour), 5, len(live)-5, live[:5]...)
	}
	wantRecent(t, s, userID, now, now.Add(-time.Hour), 0, len(live))
	if err := s.DeleteSession(t.Context(), live[0].ID); err != nil {
		t.Fatal(err)
	}
	wantRecent(t, s, userID, now, now.Add(-time.Hour), 3, len(live)-4, live[1:4]...)
}

func testDeleteUserSession(t *testing.T, s latch.SessionStore) {
	userID := newUserID(t, s)
	otherID := newUserID(t, s)
	now := baseTime()
	mine := newSession(userID, now)
	kept := newSession(userID, now.Add(-time.Minute))
	theirs := newSession(otherID, now)
	for _, sess := range []latch.Session{mine, kept, theirs} {
		createSession(t, s, sess)
	}
	// Read first: a store that caches must forget what it read.
	wantSessionByToken(t, s, mine)
	wantSessionByToken(t, s, theirs)
	wantUserSessions(t, s, userID, mine, kept)
	wantUserSessions(t, s, otherID, theirs)

	check := func(userID, id string, want bool) {
		t.Helper()
		if found, err := s.DeleteUserSession(t.Context(), userID, id); err != nil || found != want {
			t.Errorf("DeleteUserSession(%q, %q) = %t, %v; want %t, nil", userID, id, found, err, want)
		}
	}
	// Another user's session is not found, and stays.
	check(userID, theirs.ID, false)
	wantSessionByToken(t, s, theirs)
	wantUserSessions(t, s, otherID, theirs)

	check(userID, mine.ID, true)
	wantNoSessionByToken(t, s, mine.TokenHash)
	wantNoSessionByRemember(t, s, mine.RememberHash)
	wantUserSessions(t, s, userID, kept)
	wantSessionByToken(t, s, kept)
	check(userID, mine.ID, false)
	check(userID, randomID(), false)
}

func testTrimUserSessions(t *testing.T, s latch.SessionStore) {
	userID := newUserID(t, s)
	otherID := newUserID(t, s)
	now := baseTime()
	// Created newest first, last used in another order.
	used := func(i int, ago time.Duration) latch.Session {
		sess := newSession(userID, now.Add(-time.Duration(i)*time.Hour))
		sess.LastSeenAt = now.Add(-ago)
		return sess
	}
	var (
		newest = used(0, 5*time.Minute) // the new login, least recently used here
		a      = used(1, time.Minute)
		b      = used(2, 2*time.Minute)
		c      = used(3, 3*time.Minute)
		d      = used(4, 4*time.Minute)
		theirs = newSession(otherID, now)
	)
	for _, sess := range []latch.Session{a, theirs, d, newest, c, b} {
		createSession(t, s, sess)
	}
	// Read first: a store that caches must forget what it read.
	for _, sess := range []latch.Session{newest, a, b, c, d} {
		wantSessionByToken(t, s, sess)
	}
	wantUserSessions(t, s, userID, newest, a, b, c, d)
	wantRecent(t, s, userID, now, now.Add(-time.Hour), 10, 0, a, b, c, d, newest)

	check := func(keep string, limit, want int) {
		t.Helper()
		if n, err := s.TrimUserSessions(t.Context(), userID, keep, limit); err != nil || n != want {
			t.Errorf("TrimUserSessions(%q, %q, %d) = %d, %v; want %d, nil", userID, keep, limit, n, err, want)
		}
	}
	check(newest.ID, 5, 0)
	check(newest.ID, 10, 0)
	wantUserSessions(t, s, userID, newest, a, b, c, d)

	// keep stays, with the two most recently used others.
	check(newest.ID, 3, 2)
	wantUserSessions(t, s, userID, newest, a, b)
	wantRecent(t, s, userID, now, now.Add(-time.Hour), 10, 0, a, b, newest)
	for _, gone := range []latch.Session{c, d} {
		wantNoSessionByToken(t, s, gone.TokenHash)
		wantNoSessionByRemember(t, s, gone.RememberHash)
	}
	wantSessionByToken(t, s, newest)
	wantUserSessions(t, s, otherID, theirs)

	// keep naming no session of the user keeps no place.
	check(theirs.ID, 2, 1)
	wantUserSessions(t, s, userID, a, b)
	wantUserSessions(t, s, otherID, theirs)
	check("", 1, 1)
	wantUserSessions(t, s, userID, a)
	wantSessionByToken(t, s, a)
	wantNoSessionByToken(t, s, b.TokenHash)
}
