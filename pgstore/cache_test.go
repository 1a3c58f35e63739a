package pgstore_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/latchauth/latch"
	"github.com/latchauth/latch/account"
	"github.com/latchauth/latch/internal/eventually"
	"github.com/latchauth/latch/internal/pgtest"
	"github.com/latchauth/latch/pgstore"
)

// seedUser creates a user with one session in db.
func seedUser(t *testing.T, db *pgstore.DB) (account.User, latch.Session) {
	t.Helper()
	u, err := db.CreateUser(t.Context(), account.User{Email: pgtest.RandomName() + "@example.com", Name: "Ada", PasswordHash: "hash"})
	if err != nil {
		t.Fatalf("CreateUser error = %v; want nil", err)
	}
	s := newSession(strconv.FormatInt(u.ID, 10))
	if err := db.CreateSession(t.Context(), s); err != nil {
		t.Fatalf("CreateSession error = %v; want nil", err)
	}
	return u, s
}

// warm reads the user and the session list twice, so that the second read
// may come from the cache.
func warm(t *testing.T, db *pgstore.DB, u account.User, userID string) {
	t.Helper()
	for range 2 {
		if _, err := db.UserByID(t.Context(), u.ID); err != nil {
			t.Fatalf("UserByID error = %v; want nil", err)
		}
		if _, err := db.UserSessions(t.Context(), userID); err != nil {
			t.Fatalf("UserSessions error = %v; want nil", err)
		}
	}
}

// TestCacheOtherInstance changes records through one store and checks that
// another store on the same schema, an instance on another machine, stops
// serving what it cached.
func TestCacheOtherInstance(t *testing.T) {
	u, _ := pgtest.NewSchema(t)
	a, b := openDB(t, u), openDB(t, u)
	ctx := t.Context()
	user, s := seedUser(t, a)
	warm(t, a, user, s.UserID)

	if err := b.SetPasswordHash(ctx, user.ID, "new hash"); err != nil {
		t.Fatalf("b: SetPasswordHash error = %v; want nil", err)
	}
	eventually.True(t, 2*time.Second, "a: UserByID after b changed the hash", func() error {
		if got, err := a.UserByID(ctx, user.ID); err != nil || got.PasswordHash != "new hash" {
			return fmt.Errorf("hash %q, error %v", got.PasswordHash, err)
		}
		return nil
	})

	second := newSession(s.UserID)
	if err := b.CreateSession(ctx, second); err != nil {
		t.Fatalf("b: CreateSession error = %v; want nil", err)
	}
	eventually.True(t, 2*time.Second, "a: UserSessions after b created a session", func() error {
		if list, err := a.UserSessions(ctx, s.UserID); err != nil || len(list) != 2 {
			return fmt.Errorf("%d sessions, error %v", len(list), err)
		}
		return nil
	})

	readTwice(t, a, second.TokenHash)
	if err := b.DeleteSession(ctx, second.ID); err != nil {
		t.Fatalf("b: DeleteSession error = %v; want nil", err)
	}
	eventually.True(t, 2*time.Second, "a: SessionByToken after b deleted it", func() error {
		if got, err := a.SessionByToken(ctx, second.TokenHash); !errors.Is(err, latch.ErrSessionNotFound) {
			return fmt.Errorf("session %q, error %v; want ErrSessionNotFound", got.ID, err)
		}
		return nil
	})
	eventually.True(t, 2*time.Second, "a: UserSessions after b deleted a session", func() error {
		if list, err := a.UserSessions(ctx, s.UserID); err != nil || len(list) != 1 {
			return fmt.Errorf("%d sessions, error %v", len(list), err)
		}
		return nil
	})

	s.IP = "192.0.2.77"
	if err := b.UpdateSession(ctx, s); err != nil {
		t.Fatalf("b: UpdateSession error = %v; want nil", err)
	}
	eventually.True(t, 2*time.Second, "a: UserSessions after b updated a session", func() error {
		if list, err := a.UserSessions(ctx, s.UserID); err != nil || len(list) != 1 || list[0].IP != s.IP {
			return fmt.Errorf("%+v, error %v", list, err)
		}
		return nil
	})

	if _, err := b.DeleteUserSessions(ctx, s.UserID, ""); err != nil {
		t.Fatalf("b: DeleteUserSessions error = %v; want nil", err)
	}
	if err := b.DeleteUser(ctx, user.ID); err != nil {
		t.Fatalf("b: DeleteUser error = %v; want nil", err)
	}
	eventually.True(t, 2*time.Second, "a: after b deleted the user and the sessions", func() error {
		if list, err := a.UserSessions(ctx, s.UserID); err != nil || len(list) != 0 {
			return fmt.Errorf("%d sessions, error %v", len(list), err)
		}
		if got, err := a.UserByID(ctx, user.ID); !errors.Is(err, account.ErrUserNotFound) {
			return fmt.Errorf("user %q, error %v", got.Email, err)
		}
		return nil
	})

	// Pruning forgets every list.
	third := newSession("pruned")
	third.ExpiresAt = time.Now().Add(-time.Minute)
	if err := a.CreateSession(ctx, third); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if list, err := a.UserSessions(ctx, "pruned"); err != nil || len(list) != 1 {
			t.Fatalf("a: UserSessions(pruned) = %d sessions, %v; want 1", len(list), err)
		}
	}
	if _, err := b.DeleteExpiredSessions(ctx, time.Now(), time.Now().Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	eventually.True(t, 2*time.Second, "a: UserSessions after b pruned", func() error {
		if list, err := a.UserSessions(ctx, "pruned"); err != nil || len(list) != 0 {
			return fmt.Errorf("%d sessions, error %v", len(list), err)
		}
		return nil
	})
}

// TestCacheListenerLost cuts every connection of a store, its listening
// one included, changes a user through another store meanwhile, and checks
// that the first store does not serve its cached copy for long: it stops
// caching while it cannot listen, and forgets everything once it listens
// again.
func TestCacheListenerLost(t *testing.T) {
	u, _ := pgtest.NewSchema(t)
	app := "latch-test-" + pgtest.RandomName()
	a := openDB(t, pgtest.WithParam(t, u, "application_name", app))
	b := openDB(t, u)
	ctx := t.Context()
	user, s := seedUser(t, a)
	for round := range 3 {
		waitListening(t, app+" listener")
		warm(t, a, user, s.UserID)
		if n := terminate(t, app); n < 1 {
			t.Fatalf("round %d: no server process had application_name %q", round, app)
		}
		if n := terminateNoWait(t, app+" listener"); n != 1 {
			t.Fatalf("round %d: %d server processes had application_name %q; want the listener's", round, n, app+" listener")
		}
		hash := "hash " + strconv.Itoa(round)
		if err := b.SetPasswordHash(ctx, user.ID, hash); err != nil {
			t.Fatalf("round %d: b: SetPasswordHash error = %v; want nil", round, err)
		}
		eventually.True(t, 2*time.Second, "a: UserByID after its listener was cut and b changed the user", func() error {
			if got, err := a.UserByID(ctx, user.ID); err != nil || got.PasswordHash != hash {
				return fmt.Errorf("hash %q, error %v", got.PasswordHash, err)
			}
			return nil
		})
	}
}

// waitListening waits until a connection named app listens.
func waitListening(t *testing.T, app string) {
	t.Helper()
	conn := pgtest.Connect(t)
	for deadline := time.Now().Add(10 * time.Second); ; {
		var n int
		err := conn.QueryRow(t.Context(), `
			SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND application_name = $1 AND query LIKE 'LISTEN %'`, app).Scan(&n)
		if err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no connection named %q listens after 10s", app)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestCacheOff checks latch_cache=off: every read goes to the database, so
// another store's change shows at once, and PostgreSQL never sees the
// parameter.
func TestCacheOff(t *testing.T) {
	u, _ := pgtest.NewSchema(t)
	a := openDB(t, pgtest.WithParam(t, u, "latch_cache", "off"))
	b := openDB(t, u)
	ctx := t.Context()
	user, s := seedUser(t, a)
	warm(t, a, user, s.UserID)
	if err := b.SetPasswordHash(ctx, user.ID, "changed"); err != nil {
		t.Fatal(err)
	}
	if got, err := a.UserByID(ctx, user.ID); err != nil || got.PasswordHash != "changed" {
		t.Errorf("UserByID right after another store's change = %q, %v; want the new hash", got.PasswordHash, err)
	}
	if _, err := pgstore.Open(ctx, pgtest.WithParam(t, u, "latch_cache", "maybe")); err == nil || !strings.Contains(err.Error(), "want on or off") {
		t.Errorf("Open with latch_cache=maybe: %v; want an error saying on or off", err)
	}
}

// terminateNoWait ends the server processes serving connections named app
// and returns how many there were, without waiting for them to be gone: a
// listener connects again by itself, at once.
func terminateNoWait(t *testing.T, app string) int {
	t.Helper()
	var n int
	err := pgtest.Connect(t).QueryRow(t.Context(), `
		SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE datname = current_database() AND pid <> pg_backend_pid() AND application_name = $1`,
		app).Scan(&n)
	if err != nil {
		t.Fatalf("terminate %q: %v", app, err)
	}
	return n
}

// TestPruneNotifiesOnlyDeletions listens on a store's channel and checks
// that pruning with nothing to delete sends no notification, which would
// make every store forget its whole cache, and that pruning a session
// sends one.
func TestPruneNotifiesOnlyDeletions(t *testing.T) {
	u, schema := pgtest.NewSchema(t)
	db := openDB(t, u)
	ctx := t.Context()
	conn := pgtest.Connect(t)
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{pgstore.ChannelName(schema)}.Sanitize()); err != nil {
		t.Fatal(err)
	}
	next := func() string {
		t.Helper()
		wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		n, err := conn.WaitForNotification(wctx)
		if err != nil {
			t.Fatalf("no notification: %v", err)
		}
		return n.Payload
	}
	now := time.Now()
	if n, err := db.DeleteExpiredSessions(ctx, now, now.Add(-time.Hour)); err != nil || n != 0 {
		t.Fatalf("DeleteExpiredSessions on an empty table = %d, %v; want 0, nil", n, err)
	}
	// A change that does notify, to tell "nothing sent" from "not yet".
	user, _ := seedUser(t, db)
	if err := db.SetPasswordHash(ctx, user.ID, "other"); err != nil {
		t.Fatal(err)
	}
	for p := next(); p != "u:"+strconv.FormatInt(user.ID, 10); p = next() {
		if p == "*" {
			t.Fatal("pruning nothing notified every store to forget its cache")
		}
	}

	old := newSession("pruned")
	old.ExpiresAt = now.Add(-time.Minute)
	if err := db.CreateSession(ctx, old); err != nil {
		t.Fatal(err)
	}
	if n, err := db.DeleteExpiredSessions(ctx, now, now.Add(-time.Hour)); err != nil || n != 1 {
		t.Fatalf("DeleteExpiredSessions = %d, %v; want 1, nil", n, err)
	}
	for p := next(); p != "*"; p = next() {
	}
}

// TestRelaxedCommit checks that a write batch starting with relaxNote runs
// with synchronous_commit off, and that the setting ends with its
// transaction: the pool's one connection is back to on for the next write.
func TestRelaxedCommit(t *testing.T) {
	u, _ := pgtest.NewSchema(t)
	db := openDB(t, pgtest.WithParam(t, u, "pool_max_conns", "1"))
	relaxed, after, err := db.SynchronousCommit(t.Context())
	if err != nil || relaxed != "off" || after != "on" {
		t.Errorf("synchronous_commit in a relaxed write %q, after it %q, error %v; want off, on, nil", relaxed, after, err)
	}
}

// TestCacheOtherInstanceBoundedSessions checks that another instance's
// trim, rotation and revocation reach this one's cached session list, as
// RecentUserSessions, which a profile page reads, serves it.
func TestCacheOtherInstanceBoundedSessions(t *testing.T) {
	u, _ := pgtest.NewSchema(t)
	a, b := openDB(t, u), openDB(t, u)
	ctx := t.Context()
	_, s := seedUser(t, a)
	older := newSession(s.UserID)
	older.LastSeenAt = s.LastSeenAt.Add(-time.Minute)
	if err := a.CreateSession(ctx, older); err != nil {
		t.Fatalf("CreateSession error = %v; want nil", err)
	}
	recent := func(db *pgstore.DB) ([]latch.Session, int, error) {
		now := time.Now()
		return db.RecentUserSessions(ctx, s.UserID, now, now.Add(-time.Hour), 10)
	}
	wantRecent := func(what string, ids ...string) {
		t.Helper()
		eventually.True(t, 2*time.Second, "a: RecentUserSessions after b "+what, func() error {
			list, more, err := recent(a)
			if err != nil || more != 0 || len(list) != len(ids) {
				return fmt.Errorf("%d sessions, %d more, error %v; want %d", len(list), more, err, len(ids))
			}
			for i, id := range ids {
				if list[i].ID != id {
					return fmt.Errorf("session %d is %s; want %s", i, list[i].ID, id)
				}
			}
			return nil
		})
	}
	for range 2 { // the second read may come from the cache
		if list, _, err := recent(a); err != nil || len(list) != 2 {
			t.Fatalf("a: RecentUserSessions = %d sessions, %v; want 2", len(list), err)
		}
	}

	if n, err := b.TrimUserSessions(ctx, s.UserID, s.ID, 1); err != nil || n != 1 {
		t.Fatalf("b: TrimUserSessions = %d, %v; want 1, nil", n, err)
	}
	wantRecent("trimmed a session", s.ID)

	r := s
	r.PrevRememberHash, r.RememberHash, r.RotatedAt = s.RememberHash, []byte(pgtest.RandomName()), time.Now()
	r.IP = "192.0.2.99"
	if err := b.RotateSession(ctx, r, s.RememberHash); err != nil {
		t.Fatalf("b: RotateSession error = %v; want nil", err)
	}
	eventually.True(t, 2*time.Second, "a: RecentUserSessions after b rotated a session", func() error {
		if list, _, err := recent(a); err != nil || len(list) != 1 || list[0].IP != r.IP {
			return fmt.Errorf("%+v, error %v", list, err)
		}
		return nil
	})

	if found, err := b.DeleteUserSession(ctx, s.UserID, s.ID); err != nil || !found {
		t.Fatalf("b: DeleteUserSession = %t, %v; want true, nil", found, err)
	}
	wantRecent("revoked a session")
}

// readTwice reads the session with the token hash twice, so that the
// second read may come from the cache, and returns it.
func readTwice(t *testing.T, db *pgstore.DB, hash []byte) latch.Session {
	t.Helper()
	var s latch.Session
	for range 2 {
		var err error
		if s, err = db.SessionByToken(t.Context(), hash); err != nil {
			t.Fatalf("SessionByToken error = %v; want nil", err)
		}
	}
	return s
}

// setIP changes a session's IP behind the stores' backs, with no
// notification, to tell a session served from memory from one read from the
// database.
func setIP(t *testing.T, schema, id, ip string) {
	t.Helper()
	_, err := pgtest.Connect(t).Exec(t.Context(),
		`UPDATE `+pgx.Identifier{schema, "latch_sessions"}.Sanitize()+` SET ip = $2 WHERE id = $1`, id, ip)
	if err != nil {
		t.Fatalf("set the IP of session %s: %v", id, err)
	}
}

// TestCacheSessions checks that a store serves sessions from memory, and
// that each write to a session through another store on the same schema,
// an instance on another machine, reaches it: a session ended there is
// refused here within moments, and a session changed there is read again.
func TestCacheSessions(t *testing.T) {
	u, schema := pgtest.NewSchema(t)
	a, b := openDB(t, u), openDB(t, u)
	ctx := t.Context()

	s := newSession("cached")
	if err := a.CreateSession(ctx, s); err != nil {
		t.Fatal(err)
	}
	readTwice(t, a, s.TokenHash)
	setIP(t, schema, s.ID, "192.0.2.200")
	if got, err := a.SessionByToken(ctx, s.TokenHash); err != nil || got.IP != s.IP {
		t.Errorf("a: SessionByToken after an unannounced change = IP %q, %v; want the cached %q", got.IP, err, s.IP)
	}

	now := time.Now()
	gone := func(got latch.Session, err error, _ latch.Session) error {
		if !errors.Is(err, latch.ErrSessionNotFound) {
			return fmt.Errorf("session %q, error %v; want ErrSessionNotFound", got.ID, err)
		}
		return nil
	}
	for _, tt := range []struct {
		name  string
		write func(s latch.Session) (latch.Session, error) // returns s as written
		check func(got latch.Session, err error, want latch.Session) error
	}{
		{"DeleteSession", func(s latch.Session) (latch.Session, error) {
			return s, b.DeleteSession(ctx, s.ID)
		}, gone},
		{"DeleteUserSession", func(s latch.Session) (latch.Session, error) {
			_, err := b.DeleteUserSession(ctx, s.UserID, s.ID)
			return s, err
		}, gone},
		{"DeleteUserSessions", func(s latch.Session) (latch.Session, error) {
			_, err := b.DeleteUserSessions(ctx, s.UserID, "")
			return s, err
		}, gone},
		{"TrimUserSessions", func(s latch.Session) (latch.Session, error) {
			newer := newSession(s.UserID)
			newer.LastSeenAt = s.LastSeenAt.Add(time.Minute)
			if err := b.CreateSession(ctx, newer); err != nil {
				return s, err
			}
			_, err := b.TrimUserSessions(ctx, s.UserID, newer.ID, 1)
			return s, err
		}, gone},
		{"DeleteExpiredSessions", func(s latch.Session) (latch.Session, error) {
			s.ExpiresAt = now.Add(-time.Minute)
			if err := b.UpdateSession(ctx, s); err != nil {
				return s, err
			}
			_, err := b.DeleteExpiredSessions(ctx, now, now.Add(-time.Hour))
			return s, err
		}, gone},
		{"UpdateSession, new token", func(s latch.Session) (latch.Session, error) {
			s.TokenHash = []byte(pgtest.RandomName())
			return s, b.UpdateSession(ctx, s)
		}, gone},
		{"RotateSession", func(s latch.Session) (latch.Session, error) {
			old := s.RememberHash
			s.PrevRememberHash, s.RememberHash, s.RotatedAt = old, []byte(pgtest.RandomName()), now
			s.TokenHash = []byte(pgtest.RandomName())
			return s, b.RotateSession(ctx, s, old)
		}, gone},
		{"UpdateSession, same token", func(s latch.Session) (latch.Session, error) {
			s.Fresh = false
			return s, b.UpdateSession(ctx, s)
		}, func(got latch.Session, err error, want latch.Session) error {
			if err != nil || got.Fresh {
				return fmt.Errorf("fresh %t, error %v; want false, nil", got.Fresh, err)
			}
			return nil
		}},
		{"TouchSession", func(s latch.Session) (latch.Session, error) {
			s.LastSeenAt = s.LastSeenAt.Add(time.Hour).Truncate(time.Microsecond)
			return s, b.TouchSession(ctx, s.ID, s.LastSeenAt)
		}, func(got latch.Session, err error, want latch.Session) error {
			if err != nil || !got.LastSeenAt.Equal(want.LastSeenAt) {
				return fmt.Errorf("last seen %v, error %v; want %v, nil", got.LastSeenAt, err, want.LastSeenAt)
			}
			return nil
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := newSession(pgtest.RandomName())
			if err := a.CreateSession(ctx, s); err != nil {
				t.Fatal(err)
			}
			readTwice(t, a, s.TokenHash)
			want, err := tt.write(s)
			if err != nil {
				t.Fatalf("b: %s error = %v; want nil", tt.name, err)
			}
			eventually.True(t, 2*time.Second, "a: SessionByToken after b's "+tt.name, func() error {
				got, err := a.SessionByToken(ctx, s.TokenHash)
				return tt.check(got, err, want)
			})
		})
	}
}

// TestCacheSessionsListenerDown keeps a store's listening connection from
// reconnecting, as a server refusing connections would, and checks that
// the store then reads every session from the database, so that a
// revocation made meanwhile, which it cannot hear of, is honoured at once;
// and that it serves sessions from memory again once it listens.
func TestCacheSessionsListenerDown(t *testing.T) {
	u, schema := pgtest.NewSchema(t)
	admin := pgtest.Connect(t)
	ctx := t.Context()
	// A role of the test's own, since connection limits do not apply to
	// superusers: lowered below its connections, it keeps the listener
	// from reconnecting while the pool's connection lives on.
	role := "latch_test_" + pgtest.RandomName()
	ident := pgx.Identifier{role}.Sanitize()
	for _, q := range []string{
		`CREATE ROLE ` + ident + ` LOGIN`,
		`GRANT ALL ON SCHEMA ` + pgx.Identifier{schema}.Sanitize() + ` TO ` + ident,
	} {
		if _, err := admin.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		for _, q := range []string{`DROP OWNED BY ` + ident, `DROP ROLE ` + ident} {
			if _, err := admin.Exec(ctx, q); err != nil {
				t.Errorf("%s: %v", q, err)
			}
		}
	})
	app := "latch-test-" + pgtest.RandomName()
	au := pgtest.WithParam(t, pgtest.WithParam(t, u, "application_name", app), "pool_max_conns", "1")
	pu, err := url.Parse(au)
	if err != nil {
		t.Fatal(err)
	}
	pu.User = url.User(role)
	a := openDB(t, pu.String())
	b := openDB(t, u)
	waitListening(t, app+" listener")

	s := newSession("listener-down")
	if err := a.CreateSession(ctx, s); err != nil {
		t.Fatal(err)
	}
	readTwice(t, a, s.TokenHash)
	setIP(t, schema, s.ID, "192.0.2.201")
	if got, err := a.SessionByToken(ctx, s.TokenHash); err != nil || got.IP != s.IP {
		t.Fatalf("a: SessionByToken while listening, after an unannounced change = IP %q, %v; want the cached %q", got.IP, err, s.IP)
	}

	if _, err := admin.Exec(ctx, `ALTER ROLE `+ident+` CONNECTION LIMIT 0`); err != nil {
		t.Fatal(err)
	}
	if n := terminateNoWait(t, app+" listener"); n != 1 {
		t.Fatalf("%d server processes had application_name %q; want the listener's", n, app+" listener")
	}
	eventually.True(t, 2*time.Second, "a: SessionByToken once the listener is cut", func() error {
		if got, err := a.SessionByToken(ctx, s.TokenHash); err != nil || got.IP != "192.0.2.201" {
			return fmt.Errorf("IP %q, error %v; want the database's 192.0.2.201", got.IP, err)
		}
		return nil
	})
	// Nothing is cached while the listener is down: each change, however
	// made, shows at the next read.
	readTwice(t, a, s.TokenHash)
	setIP(t, schema, s.ID, "192.0.2.202")
	if got, err := a.SessionByToken(ctx, s.TokenHash); err != nil || got.IP != "192.0.2.202" {
		t.Errorf("a: SessionByToken while not listening, after an unannounced change = IP %q, %v; want 192.0.2.202", got.IP, err)
	}
	if err := b.DeleteSession(ctx, s.ID); err != nil {
		t.Fatal(err)
	}
	if got, err := a.SessionByToken(ctx, s.TokenHash); !errors.Is(err, latch.ErrSessionNotFound) {
		t.Errorf("a: SessionByToken right after b deleted it, while a's listener is down = %q, %v; want ErrSessionNotFound", got.ID, err)
	}
	var listening int
	if err := admin.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE application_name = $1`, app+" listener").Scan(&listening); err != nil || listening != 0 {
		t.Fatalf("listeners of a during the check = %d, %v; want 0: the test did not keep it down", listening, err)
	}

	if _, err := admin.Exec(ctx, `ALTER ROLE `+ident+` CONNECTION LIMIT -1`); err != nil {
		t.Fatal(err)
	}
	waitListening(t, app+" listener")
	if got, err := a.SessionByToken(ctx, s.TokenHash); !errors.Is(err, latch.ErrSessionNotFound) {
		t.Errorf("a: SessionByToken once listening again = %q, %v; want ErrSessionNotFound", got.ID, err)
	}
	s2 := newSession("listener-back")
	if err := a.CreateSession(ctx, s2); err != nil {
		t.Fatal(err)
	}
	eventually.True(t, 5*time.Second, "a: serves sessions from memory once listening again", func() error {
		read := readTwice(t, a, s2.TokenHash)
		setIP(t, schema, s2.ID, pgtest.RandomName())
		if got, err := a.SessionByToken(ctx, s2.TokenHash); err != nil || got.IP != read.IP {
			return fmt.Errorf("IP %q, error %v; want the cached %q", got.IP, err, read.IP)
		}
		return nil
	})
}
