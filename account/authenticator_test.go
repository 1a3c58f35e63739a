package account_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/latchauth/latch/account"
	"github.com/latchauth/latch/password"
	"github.com/latchauth/latch/sqlitestore"
	"github.com/latchauth/latch/throttle"
	"golang.org/x/crypto/argon2"
	"modernc.org/sqlite"
)

// appUsers is an application's own table of users, in the file where
// sqlitestore keeps latch's tables, reached through an Authenticator.
type appUsers struct {
	db      *sql.DB
	store   *sqlitestore.DB
	lookups atomic.Int64 // calls of lookup
}

// newAppUsers creates the table with one user, "u-ann", whose login is
// "ann" and whose password is hashed by h.
func newAppUsers(t *testing.T, h *password.Hasher) *appUsers {
	t.Helper()
	path := filepath.Join(t.TempDir(), "app.db")
	store, err := sqlitestore.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	c, err := sqlite.NewConnector(path + "?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(c)
	t.Cleanup(func() { db.Close() })
	hash, err := h.Hash(t.Context(), "correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`CREATE TABLE users (id TEXT PRIMARY KEY, login TEXT NOT NULL UNIQUE, pw TEXT NOT NULL)`,
		`INSERT INTO users VALUES ('u-ann', 'ann', '` + hash + `')`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	return &appUsers{db: db, store: store}
}

func (u *appUsers) lookup(ctx context.Context, login string) (string, string, error) {
	u.lookups.Add(1)
	var id, hash string
	err := u.db.QueryRowContext(ctx, `SELECT id, pw FROM users WHERE login = ?`, login).Scan(&id, &hash)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", account.ErrUserNotFound
	}
	return id, hash, err
}

func (u *appUsers) rehash(ctx context.Context, id, hash string) error {
	_, err := u.db.ExecContext(ctx, `UPDATE users SET pw = ? WHERE id = ?`, hash, id)
	return err
}

func (u *appUsers) storedHash(t *testing.T) string {
	t.Helper()
	var hash string
	if err := u.db.QueryRow(`SELECT pw FROM users WHERE id = 'u-ann'`).Scan(&hash); err != nil {
		t.Fatal(err)
	}
	return hash
}

// newAuthenticator returns an Authenticator over a new appUsers, with
// throttling and device cookies kept in sqlitestore.
func newAuthenticator(t *testing.T, h *password.Hasher) (*account.Authenticator, *appUsers) {
	t.Helper()
	users := newAppUsers(t, h)
	return &account.Authenticator{
		Lookup:   users.lookup,
		Rehash:   users.rehash,
		Hasher:   h,
		Throttle: throttle.NewPolicy(users.store),
		Devices:  throttle.NewDevices([]byte(strings.Repeat("k", 32)), users.store),
	}, users
}

func TestAuthenticator(t *testing.T) {
	a, users := newAuthenticator(t, password.NewHasher(testParams, 2, 8))
	ctx := t.Context()
	if id, err := a.Authenticate(ctx, account.Login{Email: " ANN ", Password: "correct horse battery", Client: "192.0.2.1"}); err != nil || id != "u-ann" {
		t.Fatalf("Authenticate(right password) = %q, %v; want u-ann, nil", id, err)
	}
	for _, login := range []string{"ann", "nobody", strings.Repeat("x", 5000)} {
		if id, err := a.Authenticate(ctx, account.Login{Email: login, Password: "wrong password", Client: "192.0.2.2"}); !errors.Is(err, account.ErrBadCredentials) || id != "" {
			t.Errorf("Authenticate(%.20q, wrong) = %q, %v; want ErrBadCredentials", login, id, err)
		}
	}
	// A login longer than any user's is not looked up.
	if n := users.lookups.Load(); n != 3 {
		t.Errorf("Lookup called %d times; want 3, not for the over-long login", n)
	}
}

// TestAuthenticatorThrottles fails on one account from one address: the
// right password is then refused from any unknown device, but not from
// the owner's device cookie.
func TestAuthenticatorThrottles(t *testing.T) {
	a, _ := newAuthenticator(t, password.NewHasher(testParams, 2, 8))
	ctx := t.Context()
	for range a.Throttle.Account.Free + 1 {
		a.Authenticate(ctx, account.Login{Email: "ann", Password: "wrong password", Client: "192.0.2.9"})
	}
	var te *account.ThrottledError
	for _, client := range []string{"192.0.2.9", "198.51.100.1"} {
		if _, err := a.Authenticate(ctx, account.Login{Email: "ann", Password: "correct horse battery", Client: client}); !errors.As(err, &te) || te.RetryAfter <= 0 {
			t.Errorf("Authenticate from %s while the account is throttled = %v; want *ThrottledError", client, err)
		}
	}
	// A cookie issued for another user is an unknown device.
	other := a.Devices.Issue("u-bob")
	if _, err := a.Authenticate(ctx, account.Login{Email: "ann", Password: "correct horse battery", Client: "198.51.100.1", Device: other}); !errors.As(err, &te) {
		t.Errorf("Authenticate with another user's device cookie = %v; want *ThrottledError", err)
	}
	device := a.Devices.Issue("u-ann")
	if id, err := a.Authenticate(ctx, account.Login{Email: "ann", Password: "correct horse battery", Client: "198.51.100.1", Device: device}); err != nil || id != "u-ann" {
		t.Errorf("Authenticate from the owner's device = %q, %v; want u-ann", id, err)
	}
}

// TestAuthenticatorUnknownUserWorks checks that an unknown login costs an
// argon2id derivation at the Hasher's parameters, as a wrong password
// does, so that timing does not tell which logins exist.
func TestAuthenticatorUnknownUserWorks(t *testing.T) {
	h := password.NewHasher(testParams, 2, 8)
	var derived []uint32 // memory cost of each derivation
	h.UseArgon2(func(_ context.Context, pw, salt []byte, time, memory uint32, threads uint8, keyLen uint32) ([]byte, error) {
		derived = append(derived, memory)
		return argon2.IDKey(pw, salt, time, memory, threads, keyLen), nil
	})
	a, _ := newAuthenticator(t, h)
	a.Throttle = nil
	for _, login := range []string{"ann", "nobody"} {
		derived = nil
		if _, err := a.Authenticate(t.Context(), account.Login{Email: login, Password: "wrong password"}); !errors.Is(err, account.ErrBadCredentials) {
			t.Fatalf("Authenticate(%s, wrong) = %v; want ErrBadCredentials", login, err)
		}
		if len(derived) != 1 || derived[0] != testParams.Memory {
			t.Errorf("Authenticate(%s, wrong) derived %v (memory in KiB); want one derivation at %d", login, derived, testParams.Memory)
		}
	}
}

// TestAuthenticatorBusy holds the Hasher's only slot, with no queue: a
// login then is refused with ErrBusy before looking the user up, and
// counts no failure.
func TestAuthenticatorBusy(t *testing.T) {
	h := password.NewHasher(testParams, 1, -1)
	entered, release := make(chan struct{}), make(chan struct{})
	h.UseArgon2(func(_ context.Context, pw, salt []byte, time, memory uint32, threads uint8, keyLen uint32) ([]byte, error) {
		select {
		case entered <- struct{}{}:
			<-release
		default:
		}
		return argon2.IDKey(pw, salt, time, memory, threads, keyLen), nil
	})
	a, users := newAuthenticator(t, h)
	done := make(chan error)
	go func() {
		_, err := a.Authenticate(context.Background(), account.Login{Email: "ann", Password: "correct horse battery", Client: "192.0.2.1"})
		done <- err
	}()
	<-entered
	before := users.lookups.Load()
	if _, err := a.Authenticate(t.Context(), account.Login{Email: "ann", Password: "correct horse battery", Client: "192.0.2.2"}); !errors.Is(err, password.ErrBusy) {
		t.Errorf("Authenticate while the hasher is full = %v; want ErrBusy", err)
	}
	if n := users.lookups.Load() - before; n != 0 {
		t.Errorf("Authenticate while the hasher is full looked the user up %d times; want 0", n)
	}
	close(release)
	if err := <-done; err != nil {
		t.Errorf("the login holding the slot = %v; want success", err)
	}
	if st, err := users.store.Failures(t.Context(), "client|"+throttle.Client("192.0.2.2")); err != nil || st.Failures != 0 {
		t.Errorf("failures of the refused client = %+v, %v; want none", st, err)
	}
}

// TestAuthenticatorRehash logs in with a hash of older parameters: the
// login succeeds and Rehash stores a hash at the current ones. A Rehash
// that fails fails no login.
func TestAuthenticatorRehash(t *testing.T) {
	old := password.NewHasher(password.Params{Memory: 32, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, 2, 8)
	h := password.NewHasher(testParams, 2, 8)
	a, users := newAuthenticator(t, old)
	a.Hasher = h
	oldHash := users.storedHash(t)

	store := a.Rehash
	a.Rehash = func(context.Context, string, string) error { return errors.New("disk full") }
	if id, err := a.Authenticate(t.Context(), account.Login{Email: "ann", Password: "correct horse battery"}); err != nil || id != "u-ann" {
		t.Fatalf("Authenticate with a failing Rehash = %q, %v; want u-ann, nil", id, err)
	}
	if users.storedHash(t) != oldHash {
		t.Fatalf("stored hash changed though Rehash failed")
	}

	a.Rehash = store
	if _, err := a.Authenticate(t.Context(), account.Login{Email: "ann", Password: "correct horse battery"}); err != nil {
		t.Fatal(err)
	}
	newHash := users.storedHash(t)
	if newHash == oldHash {
		t.Fatalf("stored hash unchanged after a login with old parameters")
	}
	if ok, rehash, err := h.Verify(t.Context(), newHash, "correct horse battery"); !ok || rehash || err != nil {
		t.Errorf("Verify(new hash) = %v, rehash %v, %v; want a match at the current parameters", ok, rehash, err)
	}
}
