package password

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// MaxLength is the longest password accepted, in bytes. Longer input is
// refused with [ErrTooLong] before any hashing; it is never truncated, so two
// different passwords can never be accepted as the same one.
const MaxLength = 1024

var (
	// ErrTooLong is returned by [Hasher.Hash] and [Hasher.Verify] for a
	// password longer than [MaxLength] bytes.
	ErrTooLong = errors.New("password is longer than 1024 bytes")

	// ErrBusy is returned by [Hasher.Hash] and [Hasher.Verify] when every
	// hashing slot is in use and the wait queue is full. It is an overload
	// signal, not a verdict on the password: an HTTP handler should answer
	// 503 Service Unavailable with a Retry-After header.
	ErrBusy = errors.New("password hashing is at capacity")

	// ErrUnknownFormat is returned, wrapped with detail, for a stored hash
	// that is not one of the supported formats or whose parameters are out of
	// the accepted bounds.
	ErrUnknownFormat = errors.New("unknown password hash format")
)

// Params are argon2id parameters.
type Params struct {
	// Memory is the memory cost in KiB. It must be at least 8*Threads and at
	// most 262144 (256 MiB).
	Memory uint32
	// Time is the number of passes over the memory, 1 to 10.
	Time uint32
	// Threads is the degree of parallelism, 1 to 16.
	Threads uint8
	// SaltLen is the length of the random salt in bytes, 8 to 64.
	SaltLen uint32
	// KeyLen is the length of the derived key in bytes, 16 to 128.
	KeyLen uint32
}

// DefaultParams are the OWASP Password Storage Cheat Sheet's argon2id
// settings: 19 MiB of memory, two passes, one thread, a 16-byte salt and a
// 32-byte key. One hash takes some 30 to 50 ms on a server core.
var DefaultParams = Params{
	Memory:  19 * 1024,
	Time:    2,
	Threads: 1,
	SaltLen: 16,
	KeyLen:  32,
}

// A Hasher hashes new passwords with argon2id and verifies passwords against
// hashes in any supported format. Its methods are safe for concurrent use.
//
// Hashing is deliberately expensive, so a Hasher bounds its work: at most
// concurrency hashes run at once and at most queue more wait for a slot.
// A call that finds the queue full returns [ErrBusy] at once rather than
// piling up goroutines and argon2 memory under a flood of logins.
//
// Create Hashers with [NewHasher]; the zero value is not usable.
type Hasher struct {
	params  Params
	slots   chan struct{} // holds one token per running hash
	queue   int64
	waiting atomic.Int64
	dummy   *argon2Hash // verified against when there is no stored hash
	floor   *floor      // nil unless WatchStoredHashes was called

	// argon2 computes argon2id keys; nil means argon2.IDKey, here.
	argon2 Argon2Func

	// inSlot, if set, runs while a slot is held, before the work. Tests use
	// it to hold slots and to count concurrent hashes.
	inSlot func()

	// ObserveWait, if set before first use, is told how long each hash
	// that found every slot taken waited for one, for the operator's
	// metrics: a growing wait is the first sign of too many logins for
	// the CPUs.
	ObserveWait func(time.Duration)
}

// Argon2Func computes an argon2id key as golang.org/x/crypto/argon2.IDKey
// does, for instance in another process. It must return exactly IDKey's
// result or an error, and must not keep password.
type Argon2Func func(ctx context.Context, password, salt []byte, time, memory uint32, threads uint8, keyLen uint32) ([]byte, error)

// UseArgon2 makes h compute its argon2id keys, for new hashes, for
// verification and for unknown users alike, with f instead of in the
// calling goroutine. h still bounds how many run at once and how many wait.
// Legacy formats are still verified in this process. Call UseArgon2 before
// h is first used.
func (h *Hasher) UseArgon2(f Argon2Func) {
	h.argon2 = f
}

// NewHasher returns a Hasher that writes argon2id hashes with p, runs at most
// concurrency hashes at once and lets at most queue more wait. A concurrency
// of zero or less means runtime.GOMAXPROCS(0); a negative queue means no
// waiting at all.
//
// NewHasher panics if p is outside the bounds documented on [Params]: those
// are the bounds [Hasher.Verify] accepts, so every hash a Hasher writes can
// be read back.
func NewHasher(p Params, concurrency, queue int) *Hasher {
	if err := checkArgon2Params(p); err != nil {
		panic("password: NewHasher: " + err.Error())
	}
	if concurrency <= 0 {
		concurrency = runtime.GOMAXPROCS(0)
	}
	if queue < 0 {
		queue = 0
	}
	// The dummy hash has h's exact cost, so that checking a password for a
	// user who does not exist takes as long as for one who does.
	dummy := &argon2Hash{params: p, salt: make([]byte, p.SaltLen), key: make([]byte, p.KeyLen)}
	rand.Read(dummy.salt)
	rand.Read(dummy.key)
	return &Hasher{
		params: p,
		slots:  make(chan struct{}, concurrency),
		queue:  int64(queue),
		dummy:  dummy,
	}
}

// Params returns the argon2id parameters h writes new hashes with.
func (h *Hasher) Params() Params {
	return h.params
}

// Hash returns an argon2id hash of password in the PHC string format that
// libargon2 and most other libraries read:
//
//	$argon2id$v=19$m=19456,t=2,p=1$<salt>$<key>
//
// where salt and key are standard base64 without padding, of the NFKC form
// of password ([Normalize]). It returns
// [ErrTooLong], [ErrBusy], or the context's error if ctx is done while
// waiting for a slot.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	if len(password) > MaxLength {
		return "", ErrTooLong
	}
	a := &argon2Hash{params: h.params, salt: make([]byte, h.params.SaltLen)}
	if _, err := rand.Read(a.salt); err != nil {
		return "", fmt.Errorf("read salt: %w", err)
	}
	password = Normalize(password)
	var err error
	if rerr := h.run(ctx, func() {
		a.key, err = h.derive(ctx, a, password, h.params.KeyLen)
	}); rerr != nil {
		return "", rerr
	}
	if err != nil {
		return "", err
	}
	return a.String(), nil
}

// Verify reports whether password matches encoded, a hash in any format that
// [Identify] accepts. When ok is true, rehash reports that the caller should
// replace the stored hash with one from [Hasher.Hash], now that it knows the
// password: because encoded is in a legacy format, is argon2id with
// parameters other than h.Params(), or matched only the password as typed
// and not its NFKC form. Rehash is false whenever ok is false.
//
// The password is tried in its NFKC form ([Normalize]) and, when that
// differs, as typed: hashes made by other systems, or before passwords were
// normalised, are of the bytes as typed, and are tried with those first.
//
// An empty encoded means there is no such user. Verify then does the work of
// a full argon2id verification at h's parameters and reports ok == false with
// a nil error, so that the caller's "bad credentials" answer takes as long
// for an unknown user as for a wrong password and does not reveal which
// accounts exist. When h watches the stored hashes
// ([Hasher.WatchStoredHashes]), every ok == false answer, for an unknown user
// or a wrong password, comes no sooner than [Hasher.Floor] after the call.
//
// A malformed, unknown or out-of-bounds encoded returns an error wrapping
// [ErrUnknownFormat]. Verify also returns [ErrTooLong], [ErrBusy], or the
// context's error if ctx is done while waiting for a slot. A plain bcrypt hash
// never matches a password longer than 72 bytes, since bcrypt would only look
// at the first 72, nor one containing a NUL byte.
func (h *Hasher) Verify(ctx context.Context, encoded, password string) (ok, rehash bool, err error) {
	if len(password) > MaxLength {
		return false, false, ErrTooLong
	}
	start := time.Now()
	forms := spellings(password)
	if encoded == "" {
		// As many verifications as a real hash would get.
		if rerr := h.run(ctx, func() {
			for _, pw := range forms {
				if _, err = h.verify(ctx, h.dummy, pw); err != nil {
					return
				}
			}
		}); rerr != nil {
			return false, false, rerr
		}
		if err == nil {
			h.waitFloor(ctx, start)
		}
		return false, false, err
	}
	s, err := parse(encoded)
	if err != nil {
		return false, false, err
	}
	a, isArgon2id := s.(*argon2Hash)
	mine := isArgon2id && a.format() == "argon2id"
	if !mine && len(forms) == 2 {
		// Other systems hashed the bytes as typed: try those first.
		forms[0], forms[1] = forms[1], forms[0]
	}
	matched := ""
	if rerr := h.run(ctx, func() {
		for _, pw := range forms {
			if ok, err = h.verify(ctx, s, pw); ok || err != nil {
				matched = pw
				return
			}
		}
	}); rerr != nil {
		return false, false, rerr
	}
	if err != nil {
		return false, false, err
	}
	if !ok {
		h.waitFloor(ctx, start)
		return false, false, nil
	}
	return true, !mine || a.params != h.params || matched != forms[0], nil
}

// Normalize returns password in the form h hashes it: Unicode
// normalisation form NFKC, so that the composed and decomposed spellings of
// "é", or a full-width "Ａ" and an "A", typed on different keyboards, are
// one password. It is RFC 8265's OpaqueString profile with NFKC in place of
// NFC, which also maps every non-ASCII space to U+0020 as OpaqueString does.
// Bytes that are not valid UTF-8 are kept as they are.
func Normalize(password string) string {
	for i := 0; i < len(password); i++ {
		if password[i] >= utf8.RuneSelf {
			return norm.NFKC.String(password)
		}
	}
	return password
}

// spellings returns the forms of password to verify: its NFKC form and, when
// that differs, the bytes as typed, which hashes made elsewhere, or here
// before passwords were normalised, were made from.
func spellings(password string) []string {
	if n := Normalize(password); n != password {
		return []string{n, password}
	}
	return []string{password}
}

// Identify reports the format of encoded: one of "argon2id",
// "werkzeug-sha256", "werkzeug-pbkdf2", "werkzeug-scrypt",
// "django-pbkdf2_sha256", "django-argon2", "django-bcrypt_sha256" or
// "bcrypt". It parses encoded fully and checks its cost parameters against
// the same bounds as [Hasher.Verify], so a hash it accepts can be verified at
// a bounded cost. Importers use it to refuse unknown hashes up front. For
// anything else it returns an error wrapping [ErrUnknownFormat].
func Identify(encoded string) (string, error) {
	s, err := parse(encoded)
	if err != nil {
		return "", err
	}
	return s.format(), nil
}

// derive computes a's key for password, with h's Argon2Func if it has one.
func (h *Hasher) derive(ctx context.Context, a *argon2Hash, password string, keyLen uint32) ([]byte, error) {
	if h.argon2 == nil {
		return a.derive(password, keyLen), nil
	}
	key, err := h.argon2(ctx, []byte(password), a.salt, a.params.Time, a.params.Memory, a.params.Threads, keyLen)
	if err != nil {
		return nil, fmt.Errorf("argon2id: %w", err)
	}
	return key, nil
}

// verify reports whether password matches s, deriving argon2id keys with
// h.derive.
func (h *Hasher) verify(ctx context.Context, s scheme, password string) (bool, error) {
	a, ok := s.(*argon2Hash)
	if !ok || h.argon2 == nil {
		return s.verify(password), nil
	}
	key, err := h.derive(ctx, a, password, uint32(len(a.key)))
	if err != nil {
		return false, err
	}
	return subtle.ConstantTimeCompare(key, a.key) == 1, nil
}

// run does work in one of h's slots, waiting in the queue if it has room.
func (h *Hasher) run(ctx context.Context, work func()) error {
	if err := h.acquire(ctx); err != nil {
		return err
	}
	defer func() { <-h.slots }()
	if h.inSlot != nil {
		h.inSlot()
	}
	work()
	return nil
}

// Running reports how many hashes are being computed at this moment.
func (h *Hasher) Running() int {
	return len(h.slots)
}

// Waiting reports how many hashes wait in the queue for a slot.
func (h *Hasher) Waiting() int {
	return int(max(h.waiting.Load(), 0))
}

// Busy reports whether a hash asked for now would be refused with ErrBusy:
// every slot is taken and the queue is full. Callers check it to refuse a
// login early, before doing other work for it.
func (h *Hasher) Busy() bool {
	return len(h.slots) == cap(h.slots) && h.waiting.Load() >= h.queue
}

func (h *Hasher) acquire(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case h.slots <- struct{}{}:
		return nil
	default:
	}
	if h.waiting.Add(1) > h.queue {
		h.waiting.Add(-1)
		return ErrBusy
	}
	defer h.waiting.Add(-1)
	start := time.Now()
	select {
	case h.slots <- struct{}{}:
		if h.ObserveWait != nil {
			h.ObserveWait(time.Since(start))
		}
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
