package storetest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchauth/latch/account"
)

// Users checks s against the [account.Store] contract.
func Users(t *testing.T, s account.Store) {
	t.Run("Create", func(t *testing.T) { testCreateUser(t, s) })
	t.Run("EmailTaken", func(t *testing.T) { testEmailTaken(t, s) })
	t.Run("EmailTakenConcurrent", func(t *testing.T) { testEmailTakenConcurrent(t, s) })
	t.Run("NotFound", func(t *testing.T) { testUserNotFound(t, s) })
	t.Run("RecordLogin", func(t *testing.T) { testRecordLogin(t, s) })
	t.Run("SetPasswordHash", func(t *testing.T) { testSetPasswordHash(t, s) })
	t.Run("Delete", func(t *testing.T) { testDeleteUser(t, s) })
	t.Run("List", func(t *testing.T) { testListUsers(t, s) })
	t.Run("SetEmail", func(t *testing.T) { testSetEmail(t, s) })
	t.Run("SetName", func(t *testing.T) { testSetName(t, s) })
	t.Run("SetEmailVerified", func(t *testing.T) { testSetEmailVerified(t, s) })
	if hs, ok := s.(account.HashSampler); ok {
		t.Run("LegacyHashSamples", func(t *testing.T) { testLegacyHashSamples(t, s, hs) })
	}
}

// newUser returns an unsaved user with a random email.
func newUser() account.User {
	id := randomID()
	return account.User{
		Email:        id + "@storetest.example",
		Name:         "Storetest Ünïcode " + id,
		PasswordHash: "$argon2id$v=19$m=65536,t=3,p=4$" + id,
	}
}

// createUser stores u, stopping the subtest if it cannot, and registers a
// cleanup that removes the user.
func createUser(t *testing.T, s account.Store, u account.User) account.User {
	t.Helper()
	got, err := s.CreateUser(t.Context(), u)
	if err != nil {
		t.Fatalf("CreateUser(%s) error = %v; want nil", formatUser(u), err)
	}
	t.Cleanup(func() {
		// t.Context is already canceled when cleanups run.
		s.DeleteUser(context.Background(), got.ID)
	})
	return got
}

func equalUser(a, b account.User) bool {
	return a.ID == b.ID &&
		a.Email == b.Email &&
		a.Name == b.Name &&
		a.PasswordHash == b.PasswordHash &&
		sameTime(a.CreatedAt, b.CreatedAt) &&
		sameTime(a.LastLoginAt, b.LastLoginAt) &&
		sameTime(a.EmailVerifiedAt, b.EmailVerifiedAt)
}

func formatUser(u account.User) string {
	return fmt.Sprintf("{ID:%d Email:%q Name:%q PasswordHash:%q CreatedAt:%s LastLoginAt:%s EmailVerifiedAt:%s}",
		u.ID, u.Email, u.Name, u.PasswordHash, formatTime(u.CreatedAt), formatTime(u.LastLoginAt), formatTime(u.EmailVerifiedAt))
}

// wantUser checks that both UserByID and UserByEmail return want.
func wantUser(t *testing.T, s account.Store, want account.User) {
	t.Helper()
	got, err := s.UserByID(t.Context(), want.ID)
	if err != nil {
		t.Errorf("UserByID(%d) error = %v; want nil", want.ID, err)
	} else if !equalUser(got, want) {
		t.Errorf("UserByID(%d) = %v; want %v", want.ID, formatUser(got), formatUser(want))
	}
	got, err = s.UserByEmail(t.Context(), want.Email)
	if err != nil {
		t.Errorf("UserByEmail(%q) error = %v; want nil", want.Email, err)
	} else if !equalUser(got, want) {
		t.Errorf("UserByEmail(%q) = %v; want %v", want.Email, formatUser(got), formatUser(want))
	}
}

// wantNoUser checks that neither the ID nor the email finds a user.
func wantNoUser(t *testing.T, s account.Store, id int64, email string) {
	t.Helper()
	if got, err := s.UserByID(t.Context(), id); !errors.Is(err, account.ErrUserNotFound) {
		t.Errorf("UserByID(%d) = %v, %v; want %v", id, formatUser(got), err, account.ErrUserNotFound)
	}
	if got, err := s.UserByEmail(t.Context(), email); !errors.Is(err, account.ErrUserNotFound) {
		t.Errorf("UserByEmail(%q) = %v, %v; want %v", email, formatUser(got), err, account.ErrUserNotFound)
	}
}

func testCreateUser(t *testing.T, s account.Store) {
	u := newUser()
	got := createUser(t, s, u)
	if got.ID == 0 {
		t.Errorf("CreateUser(%s).ID = 0; want an assigned ID", formatUser(u))
	}
	if got.CreatedAt.IsZero() {
		t.Errorf("CreateUser(%s).CreatedAt is zero; want the creation time", formatUser(u))
	}
	want := u
	want.ID, want.CreatedAt = got.ID, got.CreatedAt
	if !equalUser(got, want) {
		t.Errorf("CreateUser(%s) = %v; want %v", formatUser(u), formatUser(got), formatUser(want))
	}
	wantUser(t, s, got)

	// Empty name and a second user: IDs differ.
	u2 := newUser()
	u2.Name = ""
	got2 := createUser(t, s, u2)
	if got2.ID == got.ID {
		t.Errorf("CreateUser(%s).ID = %d, the ID of %s", formatUser(u2), got2.ID, formatUser(got))
	}
	wantUser(t, s, got2)
	wantUser(t, s, got)
}

func testEmailTaken(t *testing.T, s account.Store) {
	first := createUser(t, s, newUser())
	dup := newUser()
	dup.Email = first.Email
	got, err := s.CreateUser(t.Context(), dup)
	if !errors.Is(err, account.ErrEmailTaken) {
		t.Errorf("CreateUser(%s) = %v, %v; want %v", formatUser(dup), formatUser(got), err, account.ErrEmailTaken)
		if err == nil {
			t.Cleanup(func() { s.DeleteUser(context.Background(), got.ID) })
		}
	}
	// Nothing was written: the first user is intact, and no user has the
	// duplicate's name.
	wantUser(t, s, first)
	after := first.ID
	for {
		page, err := s.ListUsers(t.Context(), after, 100)
		if err != nil {
			t.Fatalf("ListUsers(%d, 100) error = %v; want nil", after, err)
		}
		for _, u := range page {
			if u.Name == dup.Name || (u.Email == dup.Email && u.ID != first.ID) {
				t.Errorf("after CreateUser(%s) failed, ListUsers found %s", formatUser(dup), formatUser(u))
			}
		}
		if len(page) < 100 {
			break
		}
		after = page[len(page)-1].ID
	}
}

// testEmailTakenConcurrent checks that concurrent sign-ups with one email
// leave exactly one account: the store must rely on its unique constraint,
// not on a lookup before the insert.
func testEmailTakenConcurrent(t *testing.T, s account.Store) {
	const n = 20
	email := newUser().Email
	var (
		wg      sync.WaitGroup
		start   = make(chan struct{})
		mu      sync.Mutex
		created []account.User
		taken   int
	)
	for i := range n {
		wg.Go(func() {
			u := newUser()
			u.Email = email
			<-start
			got, err := s.CreateUser(t.Context(), u)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				created = append(created, got)
			case errors.Is(err, account.ErrEmailTaken):
				taken++
			default:
				t.Errorf("CreateUser #%d (%s) error = %v; want nil or %v", i, formatUser(u), err, account.ErrEmailTaken)
			}
		})
	}
	close(start)
	wg.Wait()
	for _, u := range created {
		t.Cleanup(func() { s.DeleteUser(context.Background(), u.ID) })
	}
	if len(created) != 1 || taken != n-1 {
		t.Errorf("%d concurrent CreateUser with email %q: %d succeeded, %d got %v; want 1 and %d",
			n, email, len(created), taken, account.ErrEmailTaken, n-1)
	}
	if len(created) == 1 {
		wantUser(t, s, created[0])
	}
}

func testUserNotFound(t *testing.T, s account.Store) {
	email := newUser().Email
	for _, id := range []int64{0, -1, math.MaxInt64} {
		wantNoUser(t, s, id, email)
	}
}

func testRecordLogin(t *testing.T, s account.Store) {
	u := createUser(t, s, newUser())
	if !u.LastLoginAt.IsZero() {
		t.Errorf("CreateUser(%s).LastLoginAt = %s; want zero", formatUser(u), formatTime(u.LastLoginAt))
	}

	at := baseTime()
	if err := s.RecordLogin(t.Context(), u.ID, at, ""); err != nil {
		t.Errorf("RecordLogin(%d, %s, %q) = %v; want nil", u.ID, formatTime(at), "", err)
	}
	u.LastLoginAt = at
	wantUser(t, s, u)

	// A login that upgrades the hash, as after a change of parameters.
	at = at.Add(time.Hour + 3*time.Microsecond)
	hash := "$argon2id$v=19$m=131072,t=4,p=4$" + randomID()
	if err := s.RecordLogin(t.Context(), u.ID, at, hash); err != nil {
		t.Errorf("RecordLogin(%d, %s, %q) = %v; want nil", u.ID, formatTime(at), hash, err)
	}
	u.LastLoginAt, u.PasswordHash = at, hash
	wantUser(t, s, u)

	if err := s.RecordLogin(t.Context(), math.MaxInt64, at, hash); !errors.Is(err, account.ErrUserNotFound) {
		t.Errorf("RecordLogin(%d, %s, %q) = %v; want %v", int64(math.MaxInt64), formatTime(at), hash, err, account.ErrUserNotFound)
	}
}

func testSetPasswordHash(t *testing.T, s account.Store) {
	u := createUser(t, s, newUser())
	other := createUser(t, s, newUser())
	hash := "$argon2id$v=19$m=65536,t=3,p=4$" + randomID()
	if err := s.SetPasswordHash(t.Context(), u.ID, hash); err != nil {
		t.Errorf("SetPasswordHash(%d, %q) = %v; want nil", u.ID, hash, err)
	}
	u.PasswordHash = hash
	wantUser(t, s, u)
	wantUser(t, s, other)

	if err := s.SetPasswordHash(t.Context(), math.MaxInt64, hash); !errors.Is(err, account.ErrUserNotFound) {
		t.Errorf("SetPasswordHash(%d, %q) = %v; want %v", int64(math.MaxInt64), hash, err, account.ErrUserNotFound)
	}
}

func testDeleteUser(t *testing.T, s account.Store) {
	u := createUser(t, s, newUser())
	other := createUser(t, s, newUser())
	if err := s.DeleteUser(t.Context(), u.ID); err != nil {
		t.Errorf("DeleteUser(%d) = %v; want nil", u.ID, err)
	}
	wantNoUser(t, s, u.ID, u.Email)
	wantUser(t, s, other)
	if err := s.DeleteUser(t.Context(), u.ID); !errors.Is(err, account.ErrUserNotFound) {
		t.Errorf("DeleteUser(%d) again = %v; want %v", u.ID, err, account.ErrUserNotFound)
	}
	if err := s.RecordLogin(t.Context(), u.ID, baseTime(), ""); !errors.Is(err, account.ErrUserNotFound) {
		t.Errorf("RecordLogin(deleted %d) = %v; want %v", u.ID, err, account.ErrUserNotFound)
	}

	// The email is free again.
	again := newUser()
	again.Email = u.Email
	got := createUser(t, s, again)
	wantUser(t, s, got)
}

func testListUsers(t *testing.T, s account.Store) {
	const n, limit = 5, 2
	mine := make(map[int64]account.User)
	var after int64 = math.MaxInt64
	for range n {
		u := createUser(t, s, newUser())
		mine[u.ID] = u
		after = min(after, u.ID-1)
	}

	// Page through from just before the first of ours; other users may be
	// interleaved, so only order, limits and our own records are checked.
	found := 0
	for found < n {
		from := after
		page, err := s.ListUsers(t.Context(), from, limit)
		if err != nil {
			t.Fatalf("ListUsers(%d, %d) error = %v; want nil", from, limit, err)
		}
		if len(page) > limit {
			t.Errorf("ListUsers(%d, %d) returned %d users; want at most %d", from, limit, len(page), limit)
		}
		for i, u := range page {
			if u.ID <= after {
				t.Errorf("ListUsers(%d, %d)[%d].ID = %d; want > %d, in ID order", from, limit, i, u.ID, after)
				continue
			}
			after = u.ID
			if want, ok := mine[u.ID]; ok {
				found++
				if !equalUser(u, want) {
					t.Errorf("ListUsers(%d, %d)[%d] = %v; want %v", from, limit, i, formatUser(u), formatUser(want))
				}
			}
		}
		if len(page) < limit || after == from {
			break
		}
	}
	if found != n {
		t.Errorf("paging with ListUsers(after, %d) found %d of the %d users created; want all", limit, found, n)
	}

	page, err := s.ListUsers(t.Context(), math.MaxInt64, limit)
	if err != nil || len(page) != 0 {
		t.Errorf("ListUsers(%d, %d) = %d users, %v; want 0, nil", int64(math.MaxInt64), limit, len(page), err)
	}
}

// CreatedAt checks that s gives a user created without a CreatedAt the
// time of the clock that setNow installs in it, and that it returns and
// stores that time in UTC at microsecond precision. A store whose clock can
// be replaced runs it besides [Users].
func CreatedAt(t *testing.T, s account.Store, setNow func(func() time.Time)) {
	now := time.Date(2030, 1, 2, 3, 4, 5, 678901234, time.FixedZone("X", 3600))
	setNow(func() time.Time { return now })
	defer setNow(time.Now)
	u, err := s.CreateUser(t.Context(), newUser())
	if err != nil {
		t.Fatalf("CreateUser error = %v; want nil", err)
	}
	t.Cleanup(func() { s.DeleteUser(context.Background(), u.ID) })
	want := time.Date(2030, 1, 2, 2, 4, 5, 678901000, time.UTC)
	if u.CreatedAt != want {
		t.Errorf("CreateUser().CreatedAt = %v; want %v", u.CreatedAt, want)
	}
	got, err := s.UserByID(t.Context(), u.ID)
	if err != nil || got.CreatedAt != want {
		t.Errorf("UserByID(%d).CreatedAt = %v, %v; want %v", u.ID, got.CreatedAt, err, want)
	}
}

func testSetEmail(t *testing.T, s account.Store) {
	u := createUser(t, s, newUser())
	other := createUser(t, s, newUser())
	oldEmail := u.Email
	email := randomID() + "@storetest.example"
	at := baseTime()
	if err := s.SetEmail(t.Context(), u.ID, email, at); err != nil {
		t.Fatalf("SetEmail(%d, %q, %s) = %v; want nil", u.ID, email, formatTime(at), err)
	}
	u.Email, u.EmailVerifiedAt = email, at
	wantUser(t, s, u)
	wantUser(t, s, other)
	wantNoUser(t, s, 0, oldEmail)

	// Another user's address is refused and changes nothing.
	if err := s.SetEmail(t.Context(), u.ID, other.Email, time.Time{}); !errors.Is(err, account.ErrEmailTaken) {
		t.Errorf("SetEmail(%d, other's %q) = %v; want %v", u.ID, other.Email, err, account.ErrEmailTaken)
	}
	wantUser(t, s, u)

	// Back to the old address, not verified.
	if err := s.SetEmail(t.Context(), u.ID, oldEmail, time.Time{}); err != nil {
		t.Errorf("SetEmail(%d, %q, zero) = %v; want nil", u.ID, oldEmail, err)
	}
	u.Email, u.EmailVerifiedAt = oldEmail, time.Time{}
	wantUser(t, s, u)

	if err := s.SetEmail(t.Context(), math.MaxInt64, randomID()+"@storetest.example", at); !errors.Is(err, account.ErrUserNotFound) {
		t.Errorf("SetEmail(%d) = %v; want %v", int64(math.MaxInt64), err, account.ErrUserNotFound)
	}
}

func testSetName(t *testing.T, s account.Store) {
	u := createUser(t, s, newUser())
	other := createUser(t, s, newUser())
	name := "Ünïcode renamed " + randomID()
	if err := s.SetName(t.Context(), u.ID, name); err != nil {
		t.Errorf("SetName(%d, %q) = %v; want nil", u.ID, name, err)
	}
	u.Name = name
	wantUser(t, s, u)
	wantUser(t, s, other)
	if err := s.SetName(t.Context(), math.MaxInt64, name); !errors.Is(err, account.ErrUserNotFound) {
		t.Errorf("SetName(%d) = %v; want %v", int64(math.MaxInt64), err, account.ErrUserNotFound)
	}
}

func testSetEmailVerified(t *testing.T, s account.Store) {
	u := createUser(t, s, newUser())
	other := createUser(t, s, newUser())
	at := baseTime()

	// A link sent to another address verifies nothing.
	if err := s.SetEmailVerified(t.Context(), u.ID, other.Email, at); !errors.Is(err, account.ErrUserNotFound) {
		t.Errorf("SetEmailVerified(%d, other's %q) = %v; want %v", u.ID, other.Email, err, account.ErrUserNotFound)
	}
	wantUser(t, s, u)

	if err := s.SetEmailVerified(t.Context(), u.ID, u.Email, at); err != nil {
		t.Errorf("SetEmailVerified(%d, %q, %s) = %v; want nil", u.ID, u.Email, formatTime(at), err)
	}
	u.EmailVerifiedAt = at
	wantUser(t, s, u)
	wantUser(t, s, other)
	if err := s.SetEmailVerified(t.Context(), math.MaxInt64, u.Email, at); !errors.Is(err, account.ErrUserNotFound) {
		t.Errorf("SetEmailVerified(%d) = %v; want %v", int64(math.MaxInt64), err, account.ErrUserNotFound)
	}
}

// hashGroup is the part of a stored hash that names its format and cost
// parameters: what precedes the salt.
func hashGroup(h string) string {
	cut := func(s string) string { return s[:strings.LastIndexByte(s, '$')+1] }
	if strings.HasPrefix(h, "$2") || strings.HasPrefix(h, "bcrypt") {
		return cut(h)
	}
	return cut(strings.TrimRight(cut(h), "$"))
}

func testLegacyHashSamples(t *testing.T, s account.Store, hs account.HashSampler) {
	bcryptTail := func() string { return strings.Repeat("a", 22) + (randomID() + strings.Repeat("b", 31))[:31] }
	hashes := []string{
		"sha256$" + randomID() + "$" + strings.Repeat("0", 64),
		"sha256$" + randomID() + "$" + strings.Repeat("1", 64),
		"pbkdf2:sha256:600000$" + randomID() + "$" + strings.Repeat("2", 64),
		"pbkdf2:sha256:600000$" + randomID() + "$" + strings.Repeat("3", 64),
		"pbkdf2:sha256:1000$" + randomID() + "$" + strings.Repeat("4", 64),
		"$2b$12$" + bcryptTail(),
		"$2b$12$" + bcryptTail(),
		"$2b$10$" + bcryptTail(),
		"pbkdf2_sha256$870000$" + randomID() + "$c2FsdHNhbHRzYWx0c2FsdHNhbHRzYWx0c2FsdHNhbHQ=",
		"bcrypt_sha256$$2b$12$" + bcryptTail(),
		"argon2$argon2id$v=19$m=102400,t=2,p=8$" + randomID() + "$" + randomID(),
	}
	var users []account.User
	for _, h := range hashes {
		u := newUser()
		u.PasswordHash = h
		users = append(users, createUser(t, s, u))
	}
	createUser(t, s, newUser()) // argon2id: never sampled

	samples := func() map[string]string {
		t.Helper()
		list, err := hs.LegacyHashSamples(t.Context())
		if err != nil {
			t.Fatalf("LegacyHashSamples() error = %v; want nil", err)
		}
		byGroup := make(map[string]string)
		for _, h := range list {
			if strings.HasPrefix(h, "$argon2id$") {
				t.Errorf("LegacyHashSamples() returned the argon2id hash %q", h)
			}
			if prev, ok := byGroup[hashGroup(h)]; ok {
				t.Errorf("LegacyHashSamples() returned %q and %q, of the same format and parameters %q", prev, h, hashGroup(h))
			}
			byGroup[hashGroup(h)] = h
		}
		return byGroup
	}
	got := samples()
	for _, h := range hashes {
		if sample, ok := got[hashGroup(h)]; !ok || !slices.Contains(hashes, sample) {
			t.Errorf("LegacyHashSamples() = %q; want one hash of %q, such as %q", got[hashGroup(h)], hashGroup(h), h)
		}
	}
	// Logins replace legacy hashes: their formats are then gone.
	for _, u := range users {
		if err := s.RecordLogin(t.Context(), u.ID, baseTime(), "$argon2id$v=19$m=65536,t=3,p=4$"+randomID()); err != nil {
			t.Fatal(err)
		}
	}
	for group, sample := range samples() {
		if slices.ContainsFunc(hashes, func(h string) bool { return hashGroup(h) == group }) {
			t.Errorf("after every legacy hash was replaced, LegacyHashSamples() still returns %q", sample)
		}
	}
}
