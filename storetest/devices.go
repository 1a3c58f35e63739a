package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/latchauth/latch/throttle"
)

// Devices checks s against the [throttle.DeviceStore] contract.
func Devices(t *testing.T, s throttle.DeviceStore) {
	ctx := context.Background()
	user, other := "storetest-"+randomID(), "storetest-"+randomID()
	wantRevokedAt := func(user string, want time.Time) {
		t.Helper()
		got, err := s.DevicesRevokedAt(ctx, user)
		if err != nil || !sameTime(got, want) {
			t.Errorf("DevicesRevokedAt(%q) = %s, %v; want %s, nil", user, formatTime(got), err, formatTime(want))
		}
	}
	revoke := func(user string, at time.Time) {
		t.Helper()
		if err := s.RevokeDevices(ctx, user, at); err != nil {
			t.Fatalf("RevokeDevices(%q, %s) = %v; want nil", user, formatTime(at), err)
		}
	}
	wantRevokedAt(user, time.Time{})

	now := time.Now().UTC().Truncate(time.Microsecond)
	revoke(user, now)
	wantRevokedAt(user, now)
	wantRevokedAt(other, time.Time{})

	// A later revocation moves the time; an earlier one, arriving late,
	// must not bring revoked cookies back.
	later := now.Add(time.Second + time.Microsecond)
	revoke(user, later)
	wantRevokedAt(user, later)
	revoke(user, now)
	wantRevokedAt(user, later)

	revoke(other, now)
	wantRevokedAt(other, now)
	wantRevokedAt(user, later)
}
