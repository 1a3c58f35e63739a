package twofactor

import (
	"context"
	"errors"
	"time"
)

// ErrNotFound is returned by a [Store] when the record asked for does not
// exist.
var ErrNotFound = errors.New("twofactor: not found")

// TOTP is a user's authenticator-app enrolment.
type TOTP struct {
	// UserID is the account.
	UserID int64
	// Sealed is the shared secret encrypted with AES-256-GCM under a key
	// derived from the application's secret key, bound to UserID: nonce
	// then ciphertext. A copy of the database alone gives no codes.
	Sealed []byte
	// LastStep is the last 30-second time step whose code was accepted;
	// no code of that step or an earlier one is accepted again.
	LastStep int64
	// CreatedAt is when the user enrolled.
	CreatedAt time.Time
}

// TrustedDevice is a browser where the user asked not to be asked for a
// second factor again for a while. The browser holds a random token; the
// store holds its SHA-256.
type TrustedDevice struct {
	// ID names the device in listings and revocations; not a credential.
	ID string
	// UserID is the account.
	UserID int64
	// Hash is the SHA-256 of the browser's token; unique per store.
	Hash []byte
	// Label describes the browser, from its User-Agent, bounded.
	Label string
	// CreatedAt is when the device was trusted.
	CreatedAt time.Time
	// ExpiresAt is when it stops being trusted.
	ExpiresAt time.Time
}

// Passkey is a WebAuthn credential of a user: a key pair held by an
// authenticator (a phone, a security key, a password manager), whose
// public half the site keeps.
type Passkey struct {
	// ID names the passkey in listings, renames and removals; not a
	// credential.
	ID string
	// UserID is the account.
	UserID int64
	// CredentialID is the authenticator's identifier of the key; unique
	// per store.
	CredentialID []byte
	// PublicKey is the COSE-encoded public key.
	PublicKey []byte
	// SignCount is the authenticator's signature counter as last seen;
	// a counter that goes back signals a cloned key.
	SignCount uint32
	// BackupEligible reports a key that may be synced to other devices;
	// BackedUp that it is.
	BackupEligible, BackedUp bool
	// Transports are how the browser may reach the authenticator
	// ("internal", "hybrid", "usb", ...).
	Transports []string
	// Name is the user's name for it.
	Name string
	// CreatedAt is when it was registered; LastUsedAt when it last
	// logged in, zero if never.
	CreatedAt, LastUsedAt time.Time
}

// Reset is a request, made by email, to remove a user's factors after a
// waiting period, for someone who lost them.
type Reset struct {
	// UserID is the account.
	UserID int64
	// RequestedAt is when the request was made.
	RequestedAt time.Time
	// DueAt is when the factors may be removed, unless the request is
	// cancelled before.
	DueAt time.Time
}

// Store keeps second factors per user. Implementations must be safe for
// concurrent use and, when shared by several processes, atomic across them;
// the storetest package checks one against this contract. Lookups of a
// missing record return [ErrNotFound]; deleting one is not an error.
type Store interface {
	// TOTP returns the user's authenticator enrolment.
	TOTP(ctx context.Context, userID int64) (TOTP, error)
	// PutTOTP stores t, replacing the user's enrolment if any.
	PutTOTP(ctx context.Context, t TOTP) error
	// UseTOTPStep sets the user's LastStep to step if it is below step, in
	// one atomic step, and reports whether it did: of two requests with
	// the same code, exactly one is accepted. A user without enrolment
	// gives false.
	UseTOTPStep(ctx context.Context, userID, step int64) (bool, error)

	// ReplaceRecoveryCodes replaces the user's recovery codes by hashes,
	// in one transaction.
	ReplaceRecoveryCodes(ctx context.Context, userID int64, hashes [][]byte, at time.Time) error
	// ConsumeRecoveryCode removes the user's code with hash, and reports
	// whether there was one: of concurrent uses of a code, exactly one
	// finds it.
	ConsumeRecoveryCode(ctx context.Context, userID int64, hash []byte) (bool, error)
	// RecoveryCodesLeft counts the user's unused recovery codes.
	RecoveryCodesLeft(ctx context.Context, userID int64) (int, error)

	// CreateTrustedDevice stores d. A duplicate ID or Hash is an error.
	CreateTrustedDevice(ctx context.Context, d TrustedDevice) error
	// TrustedDevice returns the device whose Hash is hash, expired or
	// not.
	TrustedDevice(ctx context.Context, hash []byte) (TrustedDevice, error)
	// TrustedDevices returns the user's devices, newest first, expired ones
	// included.
	TrustedDevices(ctx context.Context, userID int64) ([]TrustedDevice, error)
	// DeleteTrustedDevice removes the user's device with the ID and
	// reports whether there was one: one user cannot remove another's.
	DeleteTrustedDevice(ctx context.Context, userID int64, id string) (bool, error)
	// DeleteTrustedDevices removes every device of the user and reports
	// how many.
	DeleteTrustedDevices(ctx context.Context, userID int64) (int, error)

	// CreateReset stores r unless the user has a reset pending, and
	// returns the one that is stored afterwards: asking again neither
	// restarts nor shortens the wait.
	CreateReset(ctx context.Context, r Reset) (Reset, error)
	// Reset returns the user's pending reset.
	Reset(ctx context.Context, userID int64) (Reset, error)
	// DeleteReset removes the user's pending reset and reports whether
	// there was one.
	DeleteReset(ctx context.Context, userID int64) (bool, error)

	// CreatePasskey stores p. A duplicate ID or CredentialID is an
	// error.
	CreatePasskey(ctx context.Context, p Passkey) error
	// Passkeys returns the user's passkeys, oldest first.
	Passkeys(ctx context.Context, userID int64) ([]Passkey, error)
	// PasskeyByCredential returns the passkey whose CredentialID is id.
	PasskeyByCredential(ctx context.Context, credentialID []byte) (Passkey, error)
	// UsePasskey records a login with the user's passkey: its new
	// signature counter and backup state, and the time. It reports
	// whether the user has the passkey.
	UsePasskey(ctx context.Context, userID int64, id string, signCount uint32, backedUp bool, at time.Time) (bool, error)
	// RenamePasskey renames the user's passkey, and reports whether the
	// user has it.
	RenamePasskey(ctx context.Context, userID int64, id, name string) (bool, error)
	// DeletePasskey removes the user's passkey, and reports whether the
	// user had it: one user cannot remove another's.
	DeletePasskey(ctx context.Context, userID int64, id string) (bool, error)

	// DeleteFactors removes every factor of the user, passkeys, recovery
	// codes, trusted devices and a pending reset included, in one
	// transaction.
	DeleteFactors(ctx context.Context, userID int64) error
}
