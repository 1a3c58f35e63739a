package storetest

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/latchauth/latch/account"
)

// AdminStore is an account store with the administration console's
// extras.
type AdminStore interface {
	account.Store
	account.AdminStore
}

// Admin checks s against the [account.AdminStore] contract.
func Admin(t *testing.T, s AdminStore) {
	t.Run("Roles", func(t *testing.T) { testRoles(t, s) })
	t.Run("Disabled", func(t *testing.T) { testDisabled(t, s) })
	t.Run("Missing", func(t *testing.T) { testAdminMissingUser(t, s) })
	t.Run("DeleteForgets", func(t *testing.T) { testAdminDeleteForgets(t, s) })
	t.Run("Search", func(t *testing.T) { testSearchUsers(t, s) })
}

// wantRoles checks that every read of the user has roles.
func wantRoles(t *testing.T, s AdminStore, u account.User, want account.Roles) {
	t.Helper()
	got, err := s.UserByID(t.Context(), u.ID)
	if err != nil || got.Roles != want {
		t.Errorf("UserByID(%d).Roles = %q, %v; want %q", u.ID, got.Roles, err, want)
	}
	got, err = s.UserByEmail(t.Context(), u.Email)
	if err != nil || got.Roles != want {
		t.Errorf("UserByEmail(%q).Roles = %q, %v; want %q", u.Email, got.Roles, err, want)
	}
	list, err := s.ListUsers(t.Context(), u.ID-1, 1)
	if err != nil || len(list) != 1 || list[0].Roles != want {
		t.Errorf("ListUsers(from %d) = %v, %v; want the user with roles %q", u.ID, list, err, want)
	}
}

func testRoles(t *testing.T, s AdminStore) {
	ctx := t.Context()
	u := createUser(t, s, newUser())
	other := createUser(t, s, newUser())
	wantRoles(t, s, u, "")
	for _, step := range []struct {
		role string
		on   bool
		want account.Roles
	}{
		{"admin", true, "admin"},
		{"admin", true, "admin"}, // again: no change, no error
		{"auditor", true, "admin auditor"},
		{"admin", false, "auditor"},
		{"admin", false, "auditor"},
		{"auditor", false, ""},
	} {
		if err := s.SetRole(ctx, u.ID, step.role, step.on); err != nil {
			t.Fatalf("SetRole(%d, %q, %v) = %v", u.ID, step.role, step.on, err)
		}
		wantRoles(t, s, u, step.want)
	}
	wantRoles(t, s, other, "")
}

func testDisabled(t *testing.T, s AdminStore) {
	ctx := t.Context()
	u := createUser(t, s, newUser())
	at := baseTime()
	for _, step := range []struct {
		name string
		at   time.Time
	}{{"disable", at}, {"disable again", at.Add(time.Second)}, {"enable", time.Time{}}, {"enable again", time.Time{}}} {
		if err := s.SetDisabled(ctx, u.ID, step.at); err != nil {
			t.Fatalf("%s: SetDisabled = %v", step.name, err)
		}
		got, err := s.UserByID(ctx, u.ID)
		if err != nil {
			t.Fatalf("%s: UserByID = %v", step.name, err)
		}
		if !sameTime(got.DisabledAt, step.at) {
			t.Errorf("%s: DisabledAt = %s; want %s", step.name, formatTime(got.DisabledAt), formatTime(step.at))
		}
	}
}

func testAdminMissingUser(t *testing.T, s AdminStore) {
	ctx := t.Context()
	u := createUser(t, s, newUser())
	if err := s.DeleteUser(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.SetRole(ctx, u.ID, "admin", true); !errors.Is(err, account.ErrUserNotFound) {
		t.Errorf("SetRole(missing user) = %v; want %v", err, account.ErrUserNotFound)
	}
	if err := s.SetRole(ctx, u.ID, "admin", false); !errors.Is(err, account.ErrUserNotFound) {
		t.Errorf("SetRole(missing user, off) = %v; want %v", err, account.ErrUserNotFound)
	}
	if err := s.SetDisabled(ctx, u.ID, baseTime()); !errors.Is(err, account.ErrUserNotFound) {
		t.Errorf("SetDisabled(missing user) = %v; want %v", err, account.ErrUserNotFound)
	}
}

// testAdminDeleteForgets checks that deleting a user takes its roles and
// disabled state with it, and does not fail because of them.
func testAdminDeleteForgets(t *testing.T, s AdminStore) {
	ctx := t.Context()
	u := createUser(t, s, newUser())
	if err := s.SetRole(ctx, u.ID, "admin", true); err != nil {
		t.Fatal(err)
	}
	if err := s.SetDisabled(ctx, u.ID, baseTime()); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteUser(ctx, u.ID); err != nil {
		t.Fatalf("DeleteUser(admin, disabled) = %v; want nil", err)
	}
	wantNoUser(t, s, u.ID, u.Email)
}

func testSearchUsers(t *testing.T, s AdminStore) {
	ctx := t.Context()
	tag := randomID()
	a := newUser()
	a.Email = "ann-" + tag + "@storetest.example"
	a.Name = "Ann " + strings.ToUpper(tag)
	b := newUser()
	b.Email = "bob-" + tag + "@storetest.example"
	b.Name = "Bob_100% " + tag
	ua, ub := createUser(t, s, a), createUser(t, s, b)
	ids := func(us []account.User) []int64 {
		var out []int64
		for _, u := range us {
			out = append(out, u.ID)
		}
		return out
	}
	for _, tt := range []struct {
		q    string
		want []int64
	}{
		{tag, []int64{ua.ID, ub.ID}},
		{strings.ToUpper("ann-" + tag), []int64{ua.ID}}, // case of the email ignored
		{"ann " + tag, []int64{ua.ID}},                  // case of the name ignored
		{"_100% " + tag, []int64{ub.ID}},
		{"%" + tag + "x", nil}, // wildcards are literal
	} {
		got, err := s.SearchUsers(ctx, tt.q, 0, 100)
		if err != nil {
			t.Fatalf("SearchUsers(%q) = %v", tt.q, err)
		}
		if g := ids(got); !equalIDs(g, tt.want) {
			t.Errorf("SearchUsers(%q) = %v; want %v", tt.q, g, tt.want)
		}
	}
	got, err := s.SearchUsers(ctx, tag, ua.ID, 100)
	if err != nil || !equalIDs(ids(got), []int64{ub.ID}) {
		t.Errorf("SearchUsers(%q, after %d) = %v, %v; want [%d]", tag, ua.ID, ids(got), err, ub.ID)
	}
	got, err = s.SearchUsers(ctx, tag, 0, 1)
	if err != nil || !equalIDs(ids(got), []int64{ua.ID}) {
		t.Errorf("SearchUsers(%q, limit 1) = %v, %v; want [%d]", tag, ids(got), err, ua.ID)
	}
}

func equalIDs(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
