package twofactor

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base32"
	"encoding/binary"
	"net/url"
	"strings"
	"time"
)

// Parameters of the codes, those every authenticator app assumes when a
// key says nothing else (RFC 6238: HMAC-SHA-1, 6 digits, 30 seconds).
const (
	// Period is the length of a time step.
	Period = 30 * time.Second
	// Digits is the length of a code.
	Digits = 6
	// secretBytes is the size of a new secret: 160 bits, the length of
	// HMAC-SHA-1's output, as RFC 4226 recommends.
	secretBytes = 20
)

// b32 is the encoding of secrets shown to users and put in key URLs.
var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// Key is a new authenticator secret, before the user has proved with a code
// that their app holds it.
type Key struct {
	// Secret is the shared secret.
	Secret []byte
}

// NewKey returns a key with a random secret.
func NewKey() Key {
	b := make([]byte, secretBytes)
	rand.Read(b) // never returns an error; it crashes the program if the OS has no randomness
	return Key{Secret: b}
}

// ParseKey returns the key whose secret is s in base32, as [Key.Base32]
// wrote it; spaces and case do not matter.
func ParseKey(s string) (Key, bool) {
	s = strings.ToUpper(strings.ReplaceAll(s, " ", ""))
	b, err := b32.DecodeString(s)
	if err != nil || len(b) < 10 || len(b) > 64 {
		return Key{}, false
	}
	return Key{Secret: b}, true
}

// Base32 returns the secret as users type it into an authenticator app.
func (k Key) Base32() string { return b32.EncodeToString(k.Secret) }

// URL returns the otpauth:// URL of the key, which a QR code carries to the
// app: issuer names the site and account the user, both shown in the app.
func (k Key) URL(issuer, account string) string {
	q := url.Values{}
	q.Set("secret", k.Base32())
	q.Set("issuer", issuer)
	q.Set("algorithm", "SHA1")
	q.Set("digits", "6")
	q.Set("period", "30")
	u := url.URL{Scheme: "otpauth", Host: "totp", Path: "/" + issuer + ":" + account, RawQuery: q.Encode()}
	return u.String()
}

// Step returns the time step of t.
func Step(t time.Time) int64 { return t.Unix() / int64(Period/time.Second) }

// Code returns the code of secret at time t, as an authenticator app shows
// it: RFC 6238 over RFC 4226's HOTP with HMAC-SHA-1 and 6 digits.
func Code(secret []byte, t time.Time) string { return hotp(secret, Step(t)) }

// hotp returns the code of counter c (RFC 4226, section 5.3).
func hotp(secret []byte, c int64) string {
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], uint64(c))
	mac := hmac.New(sha1.New, secret)
	mac.Write(msg[:])
	sum := mac.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	v := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	v %= 1_000_000
	var out [Digits]byte
	for i := Digits - 1; i >= 0; i-- {
		out[i] = byte('0' + v%10)
		v /= 10
	}
	return string(out[:])
}

// matchStep returns the step among from..to (inclusive) whose code is code,
// checking every one in constant time.
func matchStep(secret []byte, code string, from, to int64) (int64, bool) {
	var found int64
	ok := false
	for s := from; s <= to; s++ {
		if subtle.ConstantTimeCompare([]byte(hotp(secret, s)), []byte(code)) == 1 {
			found, ok = s, true
		}
	}
	return found, ok
}

// IsTOTPCode reports whether s, spaces removed, has the shape of an
// authenticator code: six digits.
func IsTOTPCode(s string) bool {
	s = strings.ReplaceAll(s, " ", "")
	if len(s) != Digits {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
