package account

import (
	"context"
	"errors"
	"time"
)

// Errors a [Store] returns, whatever its database.
var (
	// ErrUserNotFound means no user has the identifier or email asked for.
	ErrUserNotFound = errors.New("account: user not found")
	// ErrEmailTaken means another user already has the email. Stores detect
	// it from the database's unique constraint, so it holds under
	// concurrent sign-ups.
	ErrEmailTaken = errors.New("account: email address already exists")
)

// User is an account as stored.
type User struct {
	// ID is assigned by the store on creation.
	ID int64
	// Email is the normalised (lower-case, trimmed) address; unique.
	Email string
	// Name is the display name given at sign-up.
	Name string
	// PasswordHash is an encoded hash understood by the password package.
	PasswordHash string
	// CreatedAt is when the account was created.
	CreatedAt time.Time
	// LastLoginAt is when the user last logged in, zero if never.
	LastLoginAt time.Time
	// EmailVerifiedAt is when the user proved to own Email by a mailed
	// link, zero if not yet.
	EmailVerifiedAt time.Time
	// Roles are the user's roles, such as [RoleAdmin], read with the user
	// by stores that are also an [AdminStore]; empty otherwise.
	Roles Roles
	// DisabledAt is when an administrator disabled the account, zero if
	// it is enabled. A disabled user cannot log in.
	DisabledAt time.Time
}

// Store keeps user accounts. Implementations must be safe for concurrent use;
// the storetest package checks one against this contract.
type Store interface {
	// CreateUser inserts u and returns it with ID and CreatedAt set. A
	// duplicate email returns ErrEmailTaken and writes nothing.
	CreateUser(ctx context.Context, u User) (User, error)
	// UserByID returns the user with the given ID or ErrUserNotFound.
	UserByID(ctx context.Context, id int64) (User, error)
	// UserByEmail returns the user with the given normalised email or
	// ErrUserNotFound.
	UserByEmail(ctx context.Context, email string) (User, error)
	// RecordLogin sets the user's LastLoginAt to at and, when newHash is not
	// empty, replaces the password hash, in one transaction. A missing user
	// returns ErrUserNotFound.
	RecordLogin(ctx context.Context, id int64, at time.Time, newHash string) error
	// SetPasswordHash replaces the user's password hash, or returns
	// ErrUserNotFound.
	SetPasswordHash(ctx context.Context, id int64, hash string) error
	// DeleteUser removes the user, or returns ErrUserNotFound. Sessions
	// are kept by a latch.SessionStore: end them there too.
	DeleteUser(ctx context.Context, id int64) error
	// SetEmail replaces the user's email with a normalised one and sets
	// EmailVerifiedAt to verifiedAt (zero: not verified). An email another
	// user has returns ErrEmailTaken; a missing user ErrUserNotFound.
	SetEmail(ctx context.Context, id int64, email string, verifiedAt time.Time) error
	// SetName replaces the user's name, or returns ErrUserNotFound.
	SetName(ctx context.Context, id int64, name string) error
	// SetEmailVerified sets EmailVerifiedAt to at, if the user's email is
	// still email: a link sent to an address the user has since left must
	// not verify the new one. Otherwise it returns ErrUserNotFound.
	SetEmailVerified(ctx context.Context, id int64, email string, at time.Time) error
	// ListUsers returns up to limit users with ID greater than after,
	// in ID order.
	ListUsers(ctx context.Context, after int64, limit int) ([]User, error)
}

// HashSampler is a [Store] that can report the password hash formats in use
// cheaply. [NewService] uses it to make every failed login take as long as
// one against the slowest of them (see [password.Hasher.WatchStoredHashes]).
type HashSampler interface {
	// LegacyHashSamples returns one stored password hash for each format
	// and set of cost parameters among the hashes that are not argon2id,
	// such as one "pbkdf2:sha256:600000$..." and one "$2b$12$...". Every
	// login replaces such a hash by an argon2id one, so the answer is
	// small, and stores keep an index of those rows alone.
	LegacyHashSamples(ctx context.Context) ([]string, error)
}
