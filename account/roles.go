package account

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"
)

// RoleAdmin is the role of the users who may use the administration
// console.
const RoleAdmin = "admin"

// Roles is a set of role names, kept as the sorted names joined by spaces
// so that a [User] stays comparable and cheap to copy.
type Roles string

// MakeRoles returns the set of names, ignoring empty ones and repeats.
func MakeRoles(names ...string) Roles {
	var keep []string
	for _, n := range names {
		if n = strings.TrimSpace(n); n != "" {
			keep = append(keep, n)
		}
	}
	slices.Sort(keep)
	return Roles(strings.Join(slices.Compact(keep), " "))
}

// Has reports whether name is one of the roles.
func (r Roles) Has(name string) bool {
	return name != "" && slices.Contains(strings.Fields(string(r)), name)
}

// List returns the role names in order.
func (r Roles) List() []string { return strings.Fields(string(r)) }

// ErrBadRole is returned for a role name that is not a short lower-case
// word.
var ErrBadRole = errors.New("account: a role is 1 to 32 lower-case letters, digits, '-' or '_'")

// CheckRole returns ErrBadRole unless name is 1 to 32 of a-z, 0-9, '-'
// and '_': roles are compared exactly and shown in pages and logs.
func CheckRole(name string) error {
	if name == "" || len(name) > 32 {
		return ErrBadRole
	}
	for _, c := range name {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' && c != '_' {
			return ErrBadRole
		}
	}
	return nil
}

// AdminStore is what an administration console needs of a [Store] beyond
// the account lifecycle. A store that implements it fills [User.Roles]
// and [User.DisabledAt] on every user it returns.
type AdminStore interface {
	// SetRole gives the user role when on is true and takes it away
	// otherwise; either is a no-op when already so. A missing user
	// returns ErrUserNotFound.
	SetRole(ctx context.Context, id int64, role string, on bool) error
	// SetDisabled disables the user as of at, or enables it when at is
	// zero. A missing user returns ErrUserNotFound.
	SetDisabled(ctx context.Context, id int64, at time.Time) error
	// SearchUsers returns up to limit users with ID greater than after,
	// in ID order, whose email or name contains query, ignoring the case
	// of ASCII letters. An empty query matches every user.
	SearchUsers(ctx context.Context, query string, after int64, limit int) ([]User, error)
}
