package throttle

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// DeviceStore keeps, per user, when the user's device cookies were last
// revoked. Implementations must be safe for concurrent use, and a
// revocation, once RevokeDevices returned, must survive a crash: it is
// what a password reset relies on.
type DeviceStore interface {
	// DevicesRevokedAt returns the latest time given to RevokeDevices for
	// user, or the zero time and a nil error if there is none.
	DevicesRevokedAt(ctx context.Context, user string) (time.Time, error)
	// RevokeDevices records that the device cookies of user issued at or
	// before at are no longer valid. An earlier time than the one kept
	// changes nothing.
	RevokeDevices(ctx context.Context, user string, at time.Time) error
}

// Devices issues and verifies device cookies, after OWASP's "Slow Down
// Online Guessing Attacks with Device Cookies": a browser that logged in to
// an account gets a signed token naming the account and a random device ID,
// and its later logins to that account are throttled on the device alone
// (see [Policy.Device]), never by guessing from elsewhere.
//
// A token is signed with HMAC-SHA256 under a key derived from the app's
// secret key, so it cannot be forged or moved to another account; it holds
// no secret, only the user, the time of issue and the device ID. It is
// valid for MaxAge after its issue, until [Devices.Revoke] for its user.
// Logging out does not revoke it: the browser stays known. A password reset
// and "log out everywhere" should call Revoke, since whoever held the
// account may have collected tokens.
//
// Its fields are settings; use [NewDevices] and change them before first
// use.
type Devices struct {
	// Store keeps revocations. Required.
	Store DeviceStore
	// MaxAge is how long a token stays valid after its issue, and so how
	// long a browser is known without logging in again. Default 365 days.
	MaxAge time.Duration
	// Now returns the current time; tests replace it. Default time.Now.
	Now func() time.Time

	key []byte
}

// NewDevices returns Devices signing with a key derived from secret, which
// should be the app's secret key of at least 32 random bytes, keeping
// revocations in store.
func NewDevices(secret []byte, store DeviceStore) *Devices {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("latch device cookie v1"))
	return &Devices{Store: store, MaxAge: 365 * 24 * time.Hour, Now: time.Now, key: m.Sum(nil)}
}

// deviceVersion starts every token, so that its format can change.
const deviceVersion = "d1"

// Issue returns a new token for user, the value of the device cookie to
// set after user logged in with the right password. It names a new device
// each time.
func (d *Devices) Issue(user string) string {
	payload := strings.Join([]string{
		deviceVersion,
		base64.RawURLEncoding.EncodeToString([]byte(user)),
		strconv.FormatInt(d.now().UnixMicro(), 10),
		rand.Text(),
	}, ".")
	return payload + "." + d.sign(payload)
}

func (d *Devices) sign(payload string) string {
	m := hmac.New(sha256.New, d.key)
	m.Write([]byte(payload))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// Verify returns the device ID of token if it is a valid device cookie for
// user: signed by d, issued less than MaxAge ago and after the user's last
// revocation. Otherwise it returns "" and a nil error: a forged, foreign,
// old or garbled token makes an unknown device, nothing worse. An error
// means the revocations could not be read.
func (d *Devices) Verify(ctx context.Context, token, user string) (string, error) {
	if token == "" || len(token) > 512 {
		return "", nil
	}
	i := strings.LastIndexByte(token, '.')
	if i < 0 || !hmac.Equal([]byte(token[i+1:]), []byte(d.sign(token[:i]))) {
		return "", nil
	}
	parts := strings.Split(token[:i], ".")
	if len(parts) != 4 || parts[0] != deviceVersion {
		return "", nil
	}
	name, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil || string(name) != user {
		return "", nil
	}
	us, err := strconv.ParseInt(parts[2], 10, 64)
	if err != nil {
		return "", nil
	}
	issued := time.UnixMicro(us)
	if d.now().Sub(issued) >= d.MaxAge {
		return "", nil
	}
	revoked, err := d.Store.DevicesRevokedAt(ctx, user)
	if err != nil {
		return "", fmt.Errorf("throttle: read device revocation: %w", err)
	}
	if !revoked.IsZero() && !issued.After(revoked) {
		return "", nil
	}
	return parts[3], nil
}

// Revoke makes every device cookie issued so far for user invalid: its
// browsers become unknown devices, throttled with everyone else, until
// they log in again. Call it when a password is reset or changed, and on
// "log out everywhere".
func (d *Devices) Revoke(ctx context.Context, user string) error {
	if err := d.Store.RevokeDevices(ctx, user, d.now()); err != nil {
		return fmt.Errorf("throttle: revoke devices: %w", err)
	}
	return nil
}

// now returns the current time to the microsecond, the precision of tokens
// and stores, in UTC.
func (d *Devices) now() time.Time {
	return d.Now().UTC().Truncate(time.Microsecond)
}
