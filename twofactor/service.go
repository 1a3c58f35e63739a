package twofactor

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Errors of the checks. Their text is meant for the user.
var (
	// ErrBadCode is a code that is not the user's: mistyped, made for
	// another account, or a recovery code not (or no longer) theirs.
	ErrBadCode = errors.New("twofactor: that code is not correct; check it and try again")
	// ErrCodeExpired is an authenticator code of a step that has passed:
	// the app now shows another.
	ErrCodeExpired = errors.New("twofactor: that code has expired; enter the one your app shows now")
	// ErrCodeUsed is an authenticator code that was already accepted once
	// (RFC 6238, section 5.2): it is never accepted again, whoever sends
	// it.
	ErrCodeUsed = errors.New("twofactor: that code was already used; wait for your app to show a new one")
	// ErrNoTOTP is returned for a user with no authenticator enrolled.
	ErrNoTOTP = errors.New("twofactor: no authenticator app is set up for this account")
)

// RecoveryCodeCount is how many recovery codes a user gets at a time.
const RecoveryCodeCount = 10

// expiredSteps is how far back a code is recognised as expired rather than
// wrong: 5 minutes, long enough for a user who copied a code slowly.
const expiredSteps = 10

// Service checks and manages second factors over a [Store]. Its exported
// fields are settings; change them before first use.
type Service struct {
	store  Store
	aead   cipher.AEAD
	macKey []byte

	// Skew is how many time steps a code may be away from the server's
	// clock, each way, for clocks that drift. Default 1 (RFC 6238,
	// section 5.2, recommends at most one).
	Skew int64
	// TrustFor is how long a trusted device skips the second factor.
	// Default 30 days.
	TrustFor time.Duration
	// ResetDelay is the wait between a reset asked for by email and the
	// removal of the factors, during which any logged-in session of the
	// user may cancel it. Default 3 days.
	ResetDelay time.Duration
	// Now returns the current time; tests replace it. Default time.Now.
	Now func() time.Time
}

// NewService returns a Service on store. Secrets and recovery codes are
// protected with keys derived from secret (the application's secret key,
// at least 32 bytes) by HKDF-SHA-256, one key per use: a copy of the
// database without the secret key gives neither codes nor recovery codes.
// Changing the secret key makes every enrolment unusable.
func NewService(store Store, secret []byte) (*Service, error) {
	if len(secret) < 32 {
		return nil, errors.New("twofactor: the secret key must be at least 32 bytes")
	}
	enc, err := hkdf.Key(sha256.New, secret, nil, "latch twofactor totp secret v1", 32)
	if err != nil {
		return nil, fmt.Errorf("twofactor: derive key: %w", err)
	}
	mac, err := hkdf.Key(sha256.New, secret, nil, "latch twofactor recovery code v1", 32)
	if err != nil {
		return nil, fmt.Errorf("twofactor: derive key: %w", err)
	}
	block, err := aes.NewCipher(enc)
	if err != nil {
		return nil, fmt.Errorf("twofactor: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("twofactor: %w", err)
	}
	return &Service{
		store:      store,
		aead:       aead,
		macKey:     mac,
		Skew:       1,
		TrustFor:   30 * 24 * time.Hour,
		ResetDelay: 3 * 24 * time.Hour,
		Now:        time.Now,
	}, nil
}

// userAD binds a sealed secret to its user, so that a row copied onto
// another user's decrypts to nothing.
func userAD(userID int64) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(userID))
	return append([]byte("latch totp user "), b[:]...)
}

func (s *Service) seal(userID int64, secret []byte) []byte {
	nonce := make([]byte, s.aead.NonceSize())
	rand.Read(nonce)
	return s.aead.Seal(nonce, nonce, secret, userAD(userID))
}

func (s *Service) open(userID int64, sealed []byte) ([]byte, error) {
	n := s.aead.NonceSize()
	if len(sealed) < n {
		return nil, errors.New("twofactor: stored secret is too short")
	}
	secret, err := s.aead.Open(nil, sealed[:n], sealed[n:], userAD(userID))
	if err != nil {
		return nil, fmt.Errorf("twofactor: open stored secret (was the secret key changed?): %w", err)
	}
	return secret, nil
}

// Enrol sets up key as the user's authenticator, once the user has typed
// code from their app, which proves that it holds the key. The code's step
// counts as used. It replaces an enrolment the user had.
func (s *Service) Enrol(ctx context.Context, userID int64, key Key, code string) error {
	code = strings.ReplaceAll(code, " ", "")
	now := Step(s.Now())
	step, ok := matchStep(key.Secret, code, now-s.Skew, now+s.Skew)
	if !ok {
		if _, old := matchStep(key.Secret, code, now-expiredSteps, now-s.Skew-1); old {
			return ErrCodeExpired
		}
		return ErrBadCode
	}
	err := s.store.PutTOTP(ctx, TOTP{UserID: userID, Sealed: s.seal(userID, key.Secret), LastStep: step, CreatedAt: s.Now()})
	if err != nil {
		return fmt.Errorf("twofactor: enrol: %w", err)
	}
	return nil
}

// CheckTOTP checks an authenticator code of the user. It accepts the code of
// the current step and of Skew steps each way, each at most once: a code
// accepted before, or one of a step older than one accepted, gives
// [ErrCodeUsed]. It returns [ErrCodeExpired] for the code of a step that
// has passed, [ErrBadCode] for any other, and [ErrNoTOTP] when the user has
// no authenticator.
func (s *Service) CheckTOTP(ctx context.Context, userID int64, code string) error {
	t, err := s.store.TOTP(ctx, userID)
	if errors.Is(err, ErrNotFound) {
		return ErrNoTOTP
	} else if err != nil {
		return fmt.Errorf("twofactor: check code: %w", err)
	}
	secret, err := s.open(userID, t.Sealed)
	if err != nil {
		return err
	}
	code = strings.ReplaceAll(code, " ", "")
	now := Step(s.Now())
	step, ok := matchStep(secret, code, now-s.Skew, now+s.Skew)
	if !ok {
		if _, old := matchStep(secret, code, now-expiredSteps, now-s.Skew-1); old {
			return ErrCodeExpired
		}
		return ErrBadCode
	}
	// The store's compare-and-set decides, not t.LastStep as read above:
	// of two requests racing with one code, exactly one wins.
	used, err := s.store.UseTOTPStep(ctx, userID, step)
	if err != nil {
		return fmt.Errorf("twofactor: check code: %w", err)
	}
	if !used {
		return ErrCodeUsed
	}
	return nil
}

// recoveryAlphabet spells recovery codes: lower-case letters and digits
// without look-alikes (0/o, 1/l/i).
const recoveryAlphabet = "abcdefghjkmnpqrstuvwxyz23456789"

// NewRecoveryCodes gives the user RecoveryCodeCount new recovery codes,
// replacing any they had, and returns them to show once: only their keyed
// hashes are stored. Each is 10 characters (about 49 bits), written
// xxxxx-xxxxx.
func (s *Service) NewRecoveryCodes(ctx context.Context, userID int64) ([]string, error) {
	codes := make([]string, RecoveryCodeCount)
	hashes := make([][]byte, RecoveryCodeCount)
	for i := range codes {
		b := make([]byte, 10)
		for j := range b {
			b[j] = recoveryAlphabet[randIndex(len(recoveryAlphabet))]
		}
		codes[i] = string(b[:5]) + "-" + string(b[5:])
		hashes[i] = s.recoveryHash(userID, string(b))
	}
	if err := s.store.ReplaceRecoveryCodes(ctx, userID, hashes, s.Now()); err != nil {
		return nil, fmt.Errorf("twofactor: new recovery codes: %w", err)
	}
	return codes, nil
}

// randIndex returns a uniform random number in [0, n), n below 256.
func randIndex(n int) int {
	limit := 256 - 256%n
	var b [1]byte
	for {
		rand.Read(b[:])
		if int(b[0]) < limit {
			return int(b[0]) % n
		}
	}
}

// recoveryHash is the stored form of a code: an HMAC under a key derived
// from the secret key, so that a copy of the database cannot be searched
// for codes, even at 49 bits each. The user's ID is in it, so that a code
// is only ever one user's.
func (s *Service) recoveryHash(userID int64, code string) []byte {
	m := hmac.New(sha256.New, s.macKey)
	fmt.Fprintf(m, "%d:%s", userID, code)
	return m.Sum(nil)
}

// NormalizeRecoveryCode returns a recovery code as stored: lower case,
// without spaces or dashes.
func NormalizeRecoveryCode(code string) string {
	code = strings.ToLower(code)
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' || r == '\t' {
			return -1
		}
		return r
	}, code)
}

// UseRecoveryCode spends one of the user's recovery codes: each works once.
// It returns [ErrBadCode] for a code that is not, or no longer, theirs.
func (s *Service) UseRecoveryCode(ctx context.Context, userID int64, code string) error {
	c := NormalizeRecoveryCode(code)
	if len(c) != 10 {
		return ErrBadCode
	}
	ok, err := s.store.ConsumeRecoveryCode(ctx, userID, s.recoveryHash(userID, c))
	if err != nil {
		return fmt.Errorf("twofactor: use recovery code: %w", err)
	}
	if !ok {
		return ErrBadCode
	}
	return nil
}

// Status is what a user has set up.
type Status struct {
	// TOTP reports whether an authenticator app is enrolled, since
	// TOTPSince.
	TOTP      bool
	TOTPSince time.Time
	// RecoveryCodesLeft counts the unused recovery codes.
	RecoveryCodesLeft int
	// Passkeys counts the registered passkeys.
	Passkeys int
	// Reset is the pending reset asked for by email, or nil.
	Reset *Reset
}

// Enabled reports whether the user owes a second factor after the
// password: an authenticator app or a passkey.
func (st Status) Enabled() bool { return st.TOTP || st.Passkeys > 0 }

// Status returns what the user has set up.
func (s *Service) Status(ctx context.Context, userID int64) (Status, error) {
	var st Status
	t, err := s.store.TOTP(ctx, userID)
	switch {
	case err == nil:
		st.TOTP, st.TOTPSince = true, t.CreatedAt
	case !errors.Is(err, ErrNotFound):
		return Status{}, fmt.Errorf("twofactor: status: %w", err)
	}
	keys, err := s.store.Passkeys(ctx, userID)
	if err != nil {
		return Status{}, fmt.Errorf("twofactor: status: %w", err)
	}
	st.Passkeys = len(keys)
	if st.RecoveryCodesLeft, err = s.store.RecoveryCodesLeft(ctx, userID); err != nil {
		return Status{}, fmt.Errorf("twofactor: status: %w", err)
	}
	r, err := s.store.Reset(ctx, userID)
	switch {
	case err == nil:
		st.Reset = &r
	case !errors.Is(err, ErrNotFound):
		return Status{}, fmt.Errorf("twofactor: status: %w", err)
	}
	return st, nil
}

// Disable removes every factor of the user: authenticator, passkeys,
// recovery codes, trusted devices, and a pending reset.
func (s *Service) Disable(ctx context.Context, userID int64) error {
	if err := s.store.DeleteFactors(ctx, userID); err != nil {
		return fmt.Errorf("twofactor: disable: %w", err)
	}
	return nil
}

// TrustDevice trusts a browser of the user for TrustFor and returns the
// token to keep in its cookie, and when it expires. label describes the
// browser in listings.
func (s *Service) TrustDevice(ctx context.Context, userID int64, label string) (string, time.Time, error) {
	b := make([]byte, 32)
	rand.Read(b)
	token := base64.RawURLEncoding.EncodeToString(b)
	id := make([]byte, 12)
	rand.Read(id)
	now := s.Now()
	h := sha256.Sum256([]byte(token))
	if len(label) > 200 {
		label = strings.ToValidUTF8(label[:200], "")
	}
	d := TrustedDevice{ID: hex.EncodeToString(id), UserID: userID, Hash: h[:], Label: label, CreatedAt: now, ExpiresAt: now.Add(s.TrustFor)}
	if err := s.store.CreateTrustedDevice(ctx, d); err != nil {
		return "", time.Time{}, fmt.Errorf("twofactor: trust device: %w", err)
	}
	return token, d.ExpiresAt, nil
}

// DeviceTrusted reports whether token, from a browser's cookie, is a
// trusted device of the user that has not expired.
func (s *Service) DeviceTrusted(ctx context.Context, userID int64, token string) (bool, error) {
	if token == "" || len(token) > 64 {
		return false, nil
	}
	h := sha256.Sum256([]byte(token))
	d, err := s.store.TrustedDevice(ctx, h[:])
	if errors.Is(err, ErrNotFound) {
		return false, nil
	} else if err != nil {
		return false, fmt.Errorf("twofactor: trusted device: %w", err)
	}
	return d.UserID == userID && s.Now().Before(d.ExpiresAt), nil
}

// TrustedDevices returns the user's trusted devices that have not expired,
// newest first.
func (s *Service) TrustedDevices(ctx context.Context, userID int64) ([]TrustedDevice, error) {
	all, err := s.store.TrustedDevices(ctx, userID)
	if err != nil {
		return nil, fmt.Errorf("twofactor: trusted devices: %w", err)
	}
	now := s.Now()
	live := all[:0]
	for _, d := range all {
		if now.Before(d.ExpiresAt) {
			live = append(live, d)
		}
	}
	return live, nil
}

// ForgetDevice stops trusting one of the user's devices, and reports
// whether the user had it.
func (s *Service) ForgetDevice(ctx context.Context, userID int64, id string) (bool, error) {
	ok, err := s.store.DeleteTrustedDevice(ctx, userID, id)
	if err != nil {
		return false, fmt.Errorf("twofactor: forget device: %w", err)
	}
	return ok, nil
}

// ForgetDevices stops trusting every device of the user: call it when the
// password is reset, since whoever had the account may have trusted one.
func (s *Service) ForgetDevices(ctx context.Context, userID int64) error {
	if _, err := s.store.DeleteTrustedDevices(ctx, userID); err != nil {
		return fmt.Errorf("twofactor: forget devices: %w", err)
	}
	return nil
}

// RequestReset asks for the user's factors to be removed after
// ResetDelay, and returns the pending reset and whether it is new: a
// request while one is pending changes nothing.
func (s *Service) RequestReset(ctx context.Context, userID int64) (Reset, bool, error) {
	now := s.Now()
	r, err := s.store.CreateReset(ctx, Reset{UserID: userID, RequestedAt: now, DueAt: now.Add(s.ResetDelay)})
	if err != nil {
		return Reset{}, false, fmt.Errorf("twofactor: request reset: %w", err)
	}
	return r, r.RequestedAt.Equal(now), nil
}

// CancelReset cancels the user's pending reset, and reports whether there
// was one.
func (s *Service) CancelReset(ctx context.Context, userID int64) (bool, error) {
	ok, err := s.store.DeleteReset(ctx, userID)
	if err != nil {
		return false, fmt.Errorf("twofactor: cancel reset: %w", err)
	}
	return ok, nil
}

// FinishReset removes the user's factors if a reset is pending and its
// wait is over, and reports whether it did.
func (s *Service) FinishReset(ctx context.Context, userID int64) (bool, error) {
	r, err := s.store.Reset(ctx, userID)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	} else if err != nil {
		return false, fmt.Errorf("twofactor: finish reset: %w", err)
	}
	if s.Now().Before(r.DueAt) {
		return false, nil
	}
	if err := s.Disable(ctx, userID); err != nil {
		return false, err
	}
	return true, nil
}

// enrolmentLife bounds how long a setup page may wait for its code.
const enrolmentLife = 30 * time.Minute

// ErrEnrolmentExpired is a setup form posted too late, or not made for
// this user: the user starts again with a new key.
var ErrEnrolmentExpired = errors.New("twofactor: this setup has expired; please start again with the new code shown")

// SealKey returns key sealed for userID, to carry in the setup form
// between showing the key and checking its first code, so that no server
// state is kept for setups never finished. It is opened by OpenKey within
// 30 minutes.
func (s *Service) SealKey(userID int64, key Key) string {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(s.Now().Unix()))
	nonce := make([]byte, s.aead.NonceSize())
	rand.Read(nonce)
	ad := append([]byte("latch totp enrolment "), userAD(userID)...)
	out := s.aead.Seal(nonce, nonce, append(b[:], key.Secret...), ad)
	return base64.RawURLEncoding.EncodeToString(out)
}

// OpenKey returns the key SealKey sealed for userID, or
// [ErrEnrolmentExpired].
func (s *Service) OpenKey(userID int64, sealed string) (Key, error) {
	raw, err := base64.RawURLEncoding.DecodeString(sealed)
	n := s.aead.NonceSize()
	if err != nil || len(raw) < n+8 {
		return Key{}, ErrEnrolmentExpired
	}
	ad := append([]byte("latch totp enrolment "), userAD(userID)...)
	plain, err := s.aead.Open(nil, raw[:n], raw[n:], ad)
	if err != nil || len(plain) < 8+10 {
		return Key{}, ErrEnrolmentExpired
	}
	made := time.Unix(int64(binary.BigEndian.Uint64(plain[:8])), 0)
	if age := s.Now().Sub(made); age < -time.Minute || age > enrolmentLife {
		return Key{}, ErrEnrolmentExpired
	}
	return Key{Secret: plain[8:]}, nil
}
