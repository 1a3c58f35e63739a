package storetest

import (
	"bytes"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/latchauth/latch/twofactor"
)

// Factors checks s against the [twofactor.Store] contract.
func Factors(t *testing.T, s twofactor.Store) {
	t.Run("TOTP", func(t *testing.T) { testTOTP(t, s) })
	t.Run("TOTPStepConcurrent", func(t *testing.T) { testTOTPStepConcurrent(t, s) })
	t.Run("RecoveryCodes", func(t *testing.T) { testRecoveryCodes(t, s) })
	t.Run("RecoveryCodeConcurrent", func(t *testing.T) { testRecoveryCodeConcurrent(t, s) })
	t.Run("TrustedDevices", func(t *testing.T) { testTrustedDevices(t, s) })
	t.Run("Resets", func(t *testing.T) { testResets(t, s) })
	t.Run("Passkeys", func(t *testing.T) { testPasskeys(t, s) })
	t.Run("DeleteFactors", func(t *testing.T) { testDeleteFactors(t, s) })
}

// testTOTP checks that an enrolment is kept, replaced, and that its step
// only moves forward.
func testTOTP(t *testing.T, s twofactor.Store) {
	ctx := t.Context()
	user := newTokenUserID()
	if _, err := s.TOTP(ctx, user); !errors.Is(err, twofactor.ErrNotFound) {
		t.Errorf("TOTP(unknown user) error = %v; want ErrNotFound", err)
	}
	if ok, err := s.UseTOTPStep(ctx, user, 5); ok || err != nil {
		t.Errorf("UseTOTPStep(unknown user) = %v, %v; want false, nil", ok, err)
	}
	want := twofactor.TOTP{UserID: user, Sealed: randomHash(), LastStep: 100, CreatedAt: baseTime()}
	if err := s.PutTOTP(ctx, want); err != nil {
		t.Fatalf("PutTOTP() = %v", err)
	}
	t.Cleanup(func() { s.DeleteFactors(ctx, user) })
	got, err := s.TOTP(ctx, user)
	if err != nil || !bytes.Equal(got.Sealed, want.Sealed) || got.LastStep != 100 || got.UserID != user || !sameTime(got.CreatedAt, want.CreatedAt) {
		t.Fatalf("TOTP() = %+v, %v; want %+v", got, err, want)
	}
	for _, c := range []struct {
		step int64
		ok   bool
	}{{100, false}, {99, false}, {101, true}, {101, false}, {103, true}, {102, false}} {
		if ok, err := s.UseTOTPStep(ctx, user, c.step); ok != c.ok || err != nil {
			t.Errorf("UseTOTPStep(%d) = %v, %v; want %v, nil", c.step, ok, err, c.ok)
		}
	}
	if got, _ := s.TOTP(ctx, user); got.LastStep != 103 {
		t.Errorf("LastStep after uses = %d; want 103", got.LastStep)
	}
	repl := twofactor.TOTP{UserID: user, Sealed: randomHash(), LastStep: 7, CreatedAt: baseTime().Add(time.Second)}
	if err := s.PutTOTP(ctx, repl); err != nil {
		t.Fatalf("PutTOTP(replacement) = %v", err)
	}
	if got, _ := s.TOTP(ctx, user); !bytes.Equal(got.Sealed, repl.Sealed) || got.LastStep != 7 {
		t.Errorf("TOTP() after replacement = %+v; want %+v", got, repl)
	}
}

// testTOTPStepConcurrent checks that of requests racing with one step,
// exactly one wins.
func testTOTPStepConcurrent(t *testing.T, s twofactor.Store) {
	ctx := t.Context()
	user := newTokenUserID()
	if err := s.PutTOTP(ctx, twofactor.TOTP{UserID: user, Sealed: randomHash(), LastStep: 1, CreatedAt: baseTime()}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.DeleteFactors(ctx, user) })
	var wins atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			ok, err := s.UseTOTPStep(ctx, user, 2)
			if err != nil {
				t.Errorf("UseTOTPStep() error = %v", err)
			}
			if ok {
				wins.Add(1)
			}
		})
	}
	wg.Wait()
	if n := wins.Load(); n != 1 {
		t.Errorf("8 concurrent UseTOTPStep(2): %d accepted; want 1", n)
	}
}

func testRecoveryCodes(t *testing.T, s twofactor.Store) {
	ctx := t.Context()
	user, other := newTokenUserID(), newTokenUserID()
	t.Cleanup(func() { s.DeleteFactors(ctx, user); s.DeleteFactors(ctx, other) })
	if n, err := s.RecoveryCodesLeft(ctx, user); n != 0 || err != nil {
		t.Errorf("RecoveryCodesLeft(new user) = %d, %v; want 0, nil", n, err)
	}
	old := [][]byte{randomHash(), randomHash()}
	if err := s.ReplaceRecoveryCodes(ctx, user, old, baseTime()); err != nil {
		t.Fatalf("ReplaceRecoveryCodes() = %v", err)
	}
	codes := make([][]byte, 10)
	for i := range codes {
		codes[i] = randomHash()
	}
	if err := s.ReplaceRecoveryCodes(ctx, user, codes, baseTime()); err != nil {
		t.Fatalf("ReplaceRecoveryCodes() = %v", err)
	}
	if n, err := s.RecoveryCodesLeft(ctx, user); n != 10 || err != nil {
		t.Errorf("RecoveryCodesLeft() = %d, %v; want 10, nil", n, err)
	}
	if ok, err := s.ConsumeRecoveryCode(ctx, user, old[0]); ok || err != nil {
		t.Errorf("ConsumeRecoveryCode(replaced code) = %v, %v; want false, nil", ok, err)
	}
	if ok, err := s.ConsumeRecoveryCode(ctx, other, codes[0]); ok || err != nil {
		t.Errorf("ConsumeRecoveryCode(another user's code) = %v, %v; want false, nil", ok, err)
	}
	if ok, err := s.ConsumeRecoveryCode(ctx, user, codes[0]); !ok || err != nil {
		t.Errorf("ConsumeRecoveryCode() = %v, %v; want true, nil", ok, err)
	}
	if ok, err := s.ConsumeRecoveryCode(ctx, user, codes[0]); ok || err != nil {
		t.Errorf("ConsumeRecoveryCode(used code) = %v, %v; want false, nil", ok, err)
	}
	if n, _ := s.RecoveryCodesLeft(ctx, user); n != 9 {
		t.Errorf("RecoveryCodesLeft() after one use = %d; want 9", n)
	}
}

func testRecoveryCodeConcurrent(t *testing.T, s twofactor.Store) {
	ctx := t.Context()
	user := newTokenUserID()
	t.Cleanup(func() { s.DeleteFactors(ctx, user) })
	code := randomHash()
	if err := s.ReplaceRecoveryCodes(ctx, user, [][]byte{code}, baseTime()); err != nil {
		t.Fatal(err)
	}
	var wins atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			ok, err := s.ConsumeRecoveryCode(ctx, user, code)
			if err != nil {
				t.Errorf("ConsumeRecoveryCode() error = %v", err)
			}
			if ok {
				wins.Add(1)
			}
		})
	}
	wg.Wait()
	if n := wins.Load(); n != 1 {
		t.Errorf("8 concurrent uses of one recovery code: %d accepted; want 1", n)
	}
}

func testTrustedDevices(t *testing.T, s twofactor.Store) {
	ctx := t.Context()
	user, other := newTokenUserID(), newTokenUserID()
	t.Cleanup(func() { s.DeleteFactors(ctx, user); s.DeleteFactors(ctx, other) })
	now := baseTime()
	d1 := twofactor.TrustedDevice{ID: randomID(), UserID: user, Hash: randomHash(), Label: "Firefox", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	d2 := twofactor.TrustedDevice{ID: randomID(), UserID: user, Hash: randomHash(), Label: "Chrome", CreatedAt: now.Add(time.Second), ExpiresAt: now.Add(-time.Second)}
	d3 := twofactor.TrustedDevice{ID: randomID(), UserID: other, Hash: randomHash(), Label: "Safari", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	for _, d := range []twofactor.TrustedDevice{d1, d2, d3} {
		if err := s.CreateTrustedDevice(ctx, d); err != nil {
			t.Fatalf("CreateTrustedDevice(%s) = %v", d.Label, err)
		}
	}
	if err := s.CreateTrustedDevice(ctx, twofactor.TrustedDevice{ID: randomID(), UserID: user, Hash: d1.Hash, CreatedAt: now, ExpiresAt: now}); err == nil {
		t.Errorf("CreateTrustedDevice(duplicate hash) = nil; want an error")
	}
	got, err := s.TrustedDevice(ctx, d1.Hash)
	if err != nil || got.ID != d1.ID || got.UserID != user || got.Label != "Firefox" || !sameTime(got.ExpiresAt, d1.ExpiresAt) || !sameTime(got.CreatedAt, d1.CreatedAt) {
		t.Errorf("TrustedDevice() = %+v, %v; want %+v", got, err, d1)
	}
	if _, err := s.TrustedDevice(ctx, randomHash()); !errors.Is(err, twofactor.ErrNotFound) {
		t.Errorf("TrustedDevice(unknown) error = %v; want ErrNotFound", err)
	}
	list, err := s.TrustedDevices(ctx, user)
	if err != nil || len(list) != 2 || list[0].ID != d2.ID || list[1].ID != d1.ID {
		t.Errorf("TrustedDevices() = %+v, %v; want Chrome then Firefox", list, err)
	}
	if ok, err := s.DeleteTrustedDevice(ctx, other, d1.ID); ok || err != nil {
		t.Errorf("DeleteTrustedDevice(another user's) = %v, %v; want false, nil", ok, err)
	}
	if ok, err := s.DeleteTrustedDevice(ctx, user, d1.ID); !ok || err != nil {
		t.Errorf("DeleteTrustedDevice() = %v, %v; want true, nil", ok, err)
	}
	if _, err := s.TrustedDevice(ctx, d1.Hash); !errors.Is(err, twofactor.ErrNotFound) {
		t.Errorf("TrustedDevice(deleted) error = %v; want ErrNotFound", err)
	}
	if n, err := s.DeleteTrustedDevices(ctx, user); n != 1 || err != nil {
		t.Errorf("DeleteTrustedDevices() = %d, %v; want 1, nil", n, err)
	}
	if _, err := s.TrustedDevice(ctx, d3.Hash); err != nil {
		t.Errorf("TrustedDevice(another user's) after DeleteTrustedDevices = %v; want it kept", err)
	}
}

func testResets(t *testing.T, s twofactor.Store) {
	ctx := t.Context()
	user := newTokenUserID()
	t.Cleanup(func() { s.DeleteFactors(ctx, user) })
	if _, err := s.Reset(ctx, user); !errors.Is(err, twofactor.ErrNotFound) {
		t.Errorf("Reset(none) error = %v; want ErrNotFound", err)
	}
	now := baseTime()
	first := twofactor.Reset{UserID: user, RequestedAt: now, DueAt: now.Add(72 * time.Hour)}
	got, err := s.CreateReset(ctx, first)
	if err != nil || !sameTime(got.DueAt, first.DueAt) {
		t.Fatalf("CreateReset() = %+v, %v; want %+v", got, err, first)
	}
	again := twofactor.Reset{UserID: user, RequestedAt: now.Add(time.Hour), DueAt: now.Add(73 * time.Hour)}
	got, err = s.CreateReset(ctx, again)
	if err != nil || !sameTime(got.DueAt, first.DueAt) || !sameTime(got.RequestedAt, first.RequestedAt) {
		t.Errorf("CreateReset(while pending) = %+v, %v; want the first one", got, err)
	}
	if got, err := s.Reset(ctx, user); err != nil || !sameTime(got.DueAt, first.DueAt) || got.UserID != user {
		t.Errorf("Reset() = %+v, %v; want %+v", got, err, first)
	}
	if ok, err := s.DeleteReset(ctx, user); !ok || err != nil {
		t.Errorf("DeleteReset() = %v, %v; want true, nil", ok, err)
	}
	if ok, err := s.DeleteReset(ctx, user); ok || err != nil {
		t.Errorf("DeleteReset(again) = %v, %v; want false, nil", ok, err)
	}
}

func testDeleteFactors(t *testing.T, s twofactor.Store) {
	ctx := t.Context()
	user, other := newTokenUserID(), newTokenUserID()
	t.Cleanup(func() { s.DeleteFactors(ctx, other) })
	now := baseTime()
	for _, u := range []int64{user, other} {
		if err := s.PutTOTP(ctx, twofactor.TOTP{UserID: u, Sealed: randomHash(), CreatedAt: now}); err != nil {
			t.Fatal(err)
		}
		if err := s.ReplaceRecoveryCodes(ctx, u, [][]byte{randomHash()}, now); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateTrustedDevice(ctx, twofactor.TrustedDevice{ID: randomID(), UserID: u, Hash: randomHash(), CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateReset(ctx, twofactor.Reset{UserID: u, RequestedAt: now, DueAt: now}); err != nil {
			t.Fatal(err)
		}
		if err := s.CreatePasskey(ctx, newPasskey(u, now)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.DeleteFactors(ctx, user); err != nil {
		t.Fatalf("DeleteFactors() = %v", err)
	}
	if _, err := s.TOTP(ctx, user); !errors.Is(err, twofactor.ErrNotFound) {
		t.Errorf("TOTP() after DeleteFactors error = %v; want ErrNotFound", err)
	}
	if n, _ := s.RecoveryCodesLeft(ctx, user); n != 0 {
		t.Errorf("RecoveryCodesLeft() after DeleteFactors = %d; want 0", n)
	}
	if list, _ := s.TrustedDevices(ctx, user); len(list) != 0 {
		t.Errorf("TrustedDevices() after DeleteFactors = %d; want 0", len(list))
	}
	if _, err := s.Reset(ctx, user); !errors.Is(err, twofactor.ErrNotFound) {
		t.Errorf("Reset() after DeleteFactors error = %v; want ErrNotFound", err)
	}
	if list, _ := s.Passkeys(ctx, user); len(list) != 0 {
		t.Errorf("Passkeys() after DeleteFactors = %d; want 0", len(list))
	}
	if list, _ := s.Passkeys(ctx, other); len(list) != 1 {
		t.Errorf("another user's passkeys after DeleteFactors = %d; want 1", len(list))
	}
	if _, err := s.TOTP(ctx, other); err != nil {
		t.Errorf("another user's TOTP after DeleteFactors: %v; want it kept", err)
	}
	if n, _ := s.RecoveryCodesLeft(ctx, other); n != 1 {
		t.Errorf("another user's recovery codes after DeleteFactors = %d; want 1", n)
	}
}

func newPasskey(user int64, at time.Time) twofactor.Passkey {
	return twofactor.Passkey{ID: randomID(), UserID: user, CredentialID: randomHash(), PublicKey: randomHash(),
		SignCount: 3, BackupEligible: true, Transports: []string{"internal", "hybrid"}, Name: "Phone", CreatedAt: at}
}

func samePasskey(a, b twofactor.Passkey) bool {
	return a.ID == b.ID && a.UserID == b.UserID && bytes.Equal(a.CredentialID, b.CredentialID) &&
		bytes.Equal(a.PublicKey, b.PublicKey) && a.SignCount == b.SignCount && a.BackupEligible == b.BackupEligible &&
		a.BackedUp == b.BackedUp && strings.Join(a.Transports, ",") == strings.Join(b.Transports, ",") &&
		a.Name == b.Name && sameTime(a.CreatedAt, b.CreatedAt) && sameTime(a.LastUsedAt, b.LastUsedAt)
}

func testPasskeys(t *testing.T, s twofactor.Store) {
	ctx := t.Context()
	user, other := newTokenUserID(), newTokenUserID()
	t.Cleanup(func() { s.DeleteFactors(ctx, user); s.DeleteFactors(ctx, other) })
	now := baseTime()
	p1 := newPasskey(user, now)
	p2 := newPasskey(user, now.Add(time.Second))
	p2.Transports, p2.BackupEligible = nil, false
	for _, p := range []twofactor.Passkey{p2, p1} {
		if err := s.CreatePasskey(ctx, p); err != nil {
			t.Fatalf("CreatePasskey() = %v", err)
		}
	}
	dup := newPasskey(other, now)
	dup.CredentialID = p1.CredentialID
	if err := s.CreatePasskey(ctx, dup); err == nil {
		t.Errorf("CreatePasskey(duplicate credential ID) = nil; want an error")
	}
	list, err := s.Passkeys(ctx, user)
	if err != nil || len(list) != 2 || !samePasskey(list[0], p1) || !samePasskey(list[1], p2) {
		t.Fatalf("Passkeys() = %+v, %v; want p1 then p2", list, err)
	}
	got, err := s.PasskeyByCredential(ctx, p2.CredentialID)
	if err != nil || !samePasskey(got, p2) {
		t.Errorf("PasskeyByCredential() = %+v, %v; want %+v", got, err, p2)
	}
	if _, err := s.PasskeyByCredential(ctx, randomHash()); !errors.Is(err, twofactor.ErrNotFound) {
		t.Errorf("PasskeyByCredential(unknown) error = %v; want ErrNotFound", err)
	}
	used := now.Add(time.Minute)
	if ok, err := s.UsePasskey(ctx, user, p1.ID, 9, true, used); !ok || err != nil {
		t.Errorf("UsePasskey() = %v, %v; want true, nil", ok, err)
	}
	if ok, _ := s.UsePasskey(ctx, other, p1.ID, 10, true, used); ok {
		t.Errorf("UsePasskey(another user's) = true; want false")
	}
	if ok, err := s.RenamePasskey(ctx, user, p1.ID, "Laptop"); !ok || err != nil {
		t.Errorf("RenamePasskey() = %v, %v; want true, nil", ok, err)
	}
	if ok, _ := s.RenamePasskey(ctx, other, p1.ID, "Mine"); ok {
		t.Errorf("RenamePasskey(another user's) = true; want false")
	}
	want := p1
	want.SignCount, want.BackedUp, want.LastUsedAt, want.Name = 9, true, used, "Laptop"
	if got, _ := s.PasskeyByCredential(ctx, p1.CredentialID); !samePasskey(got, want) {
		t.Errorf("passkey after use and rename = %+v; want %+v", got, want)
	}
	if ok, _ := s.DeletePasskey(ctx, other, p1.ID); ok {
		t.Errorf("DeletePasskey(another user's) = true; want false")
	}
	if ok, err := s.DeletePasskey(ctx, user, p1.ID); !ok || err != nil {
		t.Errorf("DeletePasskey() = %v, %v; want true, nil", ok, err)
	}
	if list, _ := s.Passkeys(ctx, user); len(list) != 1 || list[0].ID != p2.ID {
		t.Errorf("Passkeys() after delete = %+v; want p2 alone", list)
	}
}
