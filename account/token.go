package account

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"time"
)

// ErrTokenInvalid is the one answer to a token or code that cannot be used:
// unknown, forged, already used, expired, or made for another purpose. One
// answer for all, so that a guess learns nothing.
var ErrTokenInvalid = errors.New("account: this link or code is invalid or has expired; please ask for a new one")

// Purposes of tokens. A token made for one purpose is never accepted for
// another.
const (
	// PurposeReset is a password reset link.
	PurposeReset = "reset"
	// PurposeResetCode is the short code mailed beside a reset link.
	PurposeResetCode = "reset-code"
	// PurposeVerify is an email verification link.
	PurposeVerify = "verify"
	// PurposeChangeEmail confirms a new address; Token.Email holds it.
	PurposeChangeEmail = "change-email"
	// PurposeUndoEmail restores the address a change replaced; Token.Email
	// holds the old address.
	PurposeUndoEmail = "undo-email"
)

// Token is a single-use secret mailed to a user. Only the SHA-256 of the
// secret is stored, so a copy of the database opens no account.
type Token struct {
	// Purpose says what the token is for; see the Purpose constants.
	Purpose string
	// UserID is the account the token acts on.
	UserID int64
	// Hash is the SHA-256 of the secret; unique per store.
	Hash []byte
	// Email is the address the token concerns: the one it was sent to, or
	// the address it will set.
	Email string
	// ExpiresAt is when the token stops working.
	ExpiresAt time.Time
	// CreatedAt is when the token was made.
	CreatedAt time.Time
}

// TokenStore keeps tokens. Implementations must be safe for concurrent use;
// the storetest package checks one against this contract.
type TokenStore interface {
	// CreateToken stores t. A hash already stored is an error.
	CreateToken(ctx context.Context, t Token) error
	// ConsumeToken removes and returns the token with the purpose and
	// hash, atomically: of concurrent calls for one token, exactly one
	// gets it. A token that is unknown, of another purpose, or expired at
	// now (ExpiresAt not after now) returns ErrTokenInvalid; an expired
	// one is removed all the same.
	ConsumeToken(ctx context.Context, purpose string, hash []byte, now time.Time) (Token, error)
	// DeleteUserTokens removes the user's tokens of the purposes given, or
	// of every purpose when none is given, and returns how many it removed.
	DeleteUserTokens(ctx context.Context, userID int64, purposes ...string) (int, error)
}

// TokenLooker is a [TokenStore] that can find a token without using it up,
// so that a page opened from a mailed link can say at once that the link
// is spent or expired, before the user types anything. Opening a link must
// never use it: mail scanners open links.
type TokenLooker interface {
	// LookupToken returns the token with the purpose and hash, unchanged,
	// or ErrTokenInvalid when ConsumeToken would refuse it at now.
	LookupToken(ctx context.Context, purpose string, hash []byte, now time.Time) (Token, error)
}

// TokenPruner is a [TokenStore] that deletes expired tokens in bulk. Without
// it, an expired token stays until its user asks for another of its purpose
// or it is presented.
type TokenPruner interface {
	// DeleteExpiredTokens removes the tokens expired at now (ExpiresAt not
	// after now) and returns how many it removed.
	DeleteExpiredTokens(ctx context.Context, now time.Time) (int, error)
}

// NewSecret returns a random secret of 256 bits, as URL-safe text, and its
// hash as stored.
func NewSecret() (secret string, hash []byte) {
	b := make([]byte, 32)
	rand.Read(b)
	secret = base64.RawURLEncoding.EncodeToString(b)
	return secret, HashSecret(secret)
}

// HashSecret returns the stored form of a secret: its SHA-256.
func HashSecret(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// codeAlphabet has no letters or digits that read alike (0/O, 1/I/L, 5/S,
// 2/Z, 8/B, U/V), so that a code copied by hand is copied right.
const codeAlphabet = "ACDEFGHJKMNPQRTWXY34679"

// CodeLength is the length of a short code: 23^8, about 2^36, of which a
// throttled guesser tries a few dozen a day.
const CodeLength = 8

// NewCode returns a random short code of CodeLength characters.
func NewCode() string {
	b := make([]byte, CodeLength)
	for i := range b {
		b[i] = codeAlphabet[randIntn(len(codeAlphabet))]
	}
	return string(b)
}

// randIntn returns a uniform random number in [0, n), n at most 256.
func randIntn(n int) int {
	limit := 256 - 256%n // refuse the bytes that would favour low values
	var b [1]byte
	for {
		rand.Read(b[:])
		if int(b[0]) < limit {
			return int(b[0]) % n
		}
	}
}

// HashCode returns the stored form of a short code typed with email: the
// code is bound to the address, so a code is tried against one account
// only, and a guess must name it.
func HashCode(purpose, email, code string) []byte {
	h := sha256.New()
	h.Write([]byte(purpose))
	h.Write([]byte{0})
	h.Write([]byte(canonicalEmail(email)))
	h.Write([]byte{0})
	h.Write([]byte(normalizeCode(code)))
	return h.Sum(nil)
}

// normalizeCode upper-cases a typed code and drops the spaces and dashes
// people put in to read it.
func normalizeCode(code string) string {
	b := make([]byte, 0, CodeLength)
	for i := 0; i < len(code) && len(b) <= 64; i++ {
		c := code[i]
		switch {
		case c == ' ' || c == '-' || c == '\t':
			continue
		case c >= 'a' && c <= 'z':
			c -= 'a' - 'A'
		}
		b = append(b, c)
	}
	return string(b)
}
