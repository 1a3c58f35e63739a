package memstore

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/latchauth/latch/twofactor"
)

var _ twofactor.Store = (*Factors)(nil)

// Factors is a [twofactor.Store] in memory. Its zero value is an empty
// store ready to use; a Factors must not be copied after first use. Factors
// are lost when the process stops, so every user must enrol again.
type Factors struct {
	mu       sync.Mutex
	totp     map[int64]twofactor.TOTP
	recovery map[int64]map[string]struct{}
	devices  map[string]twofactor.TrustedDevice // by ID
	resets   map[int64]twofactor.Reset
	passkeys []twofactor.Passkey
}

func (f *Factors) init() {
	if f.totp == nil {
		f.totp = make(map[int64]twofactor.TOTP)
		f.recovery = make(map[int64]map[string]struct{})
		f.devices = make(map[string]twofactor.TrustedDevice)
		f.resets = make(map[int64]twofactor.Reset)
	}
}

// TOTP implements [twofactor.Store].
func (f *Factors) TOTP(_ context.Context, userID int64) (twofactor.TOTP, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t, ok := f.totp[userID]
	if !ok {
		return twofactor.TOTP{}, twofactor.ErrNotFound
	}
	t.Sealed = bytes.Clone(t.Sealed)
	return t, nil
}

// PutTOTP implements [twofactor.Store].
func (f *Factors) PutTOTP(_ context.Context, t twofactor.TOTP) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.init()
	t.Sealed = bytes.Clone(t.Sealed)
	f.totp[t.UserID] = t
	return nil
}

// UseTOTPStep implements [twofactor.Store].
func (f *Factors) UseTOTPStep(_ context.Context, userID, step int64) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t, ok := f.totp[userID]
	if !ok || t.LastStep >= step {
		return false, nil
	}
	t.LastStep = step
	f.totp[userID] = t
	return true, nil
}

// ReplaceRecoveryCodes implements [twofactor.Store].
func (f *Factors) ReplaceRecoveryCodes(_ context.Context, userID int64, hashes [][]byte, _ time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.init()
	set := make(map[string]struct{}, len(hashes))
	for _, h := range hashes {
		set[string(h)] = struct{}{}
	}
	f.recovery[userID] = set
	return nil
}

// ConsumeRecoveryCode implements [twofactor.Store].
func (f *Factors) ConsumeRecoveryCode(_ context.Context, userID int64, hash []byte) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	set := f.recovery[userID]
	if _, ok := set[string(hash)]; !ok {
		return false, nil
	}
	delete(set, string(hash))
	return true, nil
}

// RecoveryCodesLeft implements [twofactor.Store].
func (f *Factors) RecoveryCodesLeft(_ context.Context, userID int64) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.recovery[userID]), nil
}

// CreateTrustedDevice implements [twofactor.Store].
func (f *Factors) CreateTrustedDevice(_ context.Context, d twofactor.TrustedDevice) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.init()
	if _, ok := f.devices[d.ID]; ok {
		return fmt.Errorf("memstore: create trusted device: ID already used")
	}
	for _, o := range f.devices {
		if bytes.Equal(o.Hash, d.Hash) {
			return fmt.Errorf("memstore: create trusted device: hash already used")
		}
	}
	d.Hash = bytes.Clone(d.Hash)
	f.devices[d.ID] = d
	return nil
}

// TrustedDevice implements [twofactor.Store].
func (f *Factors) TrustedDevice(_ context.Context, hash []byte) (twofactor.TrustedDevice, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, d := range f.devices {
		if bytes.Equal(d.Hash, hash) {
			d.Hash = bytes.Clone(d.Hash)
			return d, nil
		}
	}
	return twofactor.TrustedDevice{}, twofactor.ErrNotFound
}

// TrustedDevices implements [twofactor.Store].
func (f *Factors) TrustedDevices(_ context.Context, userID int64) ([]twofactor.TrustedDevice, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var list []twofactor.TrustedDevice
	for _, d := range f.devices {
		if d.UserID == userID {
			d.Hash = bytes.Clone(d.Hash)
			list = append(list, d)
		}
	}
	slices.SortFunc(list, func(a, b twofactor.TrustedDevice) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(b.ID, a.ID)
	})
	return list, nil
}

// DeleteTrustedDevice implements [twofactor.Store].
func (f *Factors) DeleteTrustedDevice(_ context.Context, userID int64, id string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	d, ok := f.devices[id]
	if !ok || d.UserID != userID {
		return false, nil
	}
	delete(f.devices, id)
	return true, nil
}

// DeleteTrustedDevices implements [twofactor.Store].
func (f *Factors) DeleteTrustedDevices(_ context.Context, userID int64) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.deleteDevices(userID), nil
}

func (f *Factors) deleteDevices(userID int64) int {
	n := 0
	for id, d := range f.devices {
		if d.UserID == userID {
			delete(f.devices, id)
			n++
		}
	}
	return n
}

// CreateReset implements [twofactor.Store].
func (f *Factors) CreateReset(_ context.Context, r twofactor.Reset) (twofactor.Reset, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.init()
	if old, ok := f.resets[r.UserID]; ok {
		return old, nil
	}
	f.resets[r.UserID] = r
	return r, nil
}

// Reset implements [twofactor.Store].
func (f *Factors) Reset(_ context.Context, userID int64) (twofactor.Reset, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.resets[userID]
	if !ok {
		return twofactor.Reset{}, twofactor.ErrNotFound
	}
	return r, nil
}

// DeleteReset implements [twofactor.Store].
func (f *Factors) DeleteReset(_ context.Context, userID int64) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, ok := f.resets[userID]
	delete(f.resets, userID)
	return ok, nil
}

// DeleteFactors implements [twofactor.Store].
func (f *Factors) DeleteFactors(_ context.Context, userID int64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.totp, userID)
	delete(f.recovery, userID)
	delete(f.resets, userID)
	f.deleteDevices(userID)
	f.passkeys = slices.DeleteFunc(f.passkeys, func(p twofactor.Passkey) bool { return p.UserID == userID })
	return nil
}

func clonePasskey(p twofactor.Passkey) twofactor.Passkey {
	p.CredentialID = bytes.Clone(p.CredentialID)
	p.PublicKey = bytes.Clone(p.PublicKey)
	p.Transports = slices.Clone(p.Transports)
	return p
}

// CreatePasskey implements [twofactor.Store].
func (f *Factors) CreatePasskey(_ context.Context, p twofactor.Passkey) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.init()
	for _, o := range f.passkeys {
		if o.ID == p.ID || bytes.Equal(o.CredentialID, p.CredentialID) {
			return fmt.Errorf("memstore: create passkey: ID or credential ID already used")
		}
	}
	f.passkeys = append(f.passkeys, clonePasskey(p))
	return nil
}

// Passkeys implements [twofactor.Store].
func (f *Factors) Passkeys(_ context.Context, userID int64) ([]twofactor.Passkey, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []twofactor.Passkey
	for _, p := range f.passkeys {
		if p.UserID == userID {
			out = append(out, clonePasskey(p))
		}
	}
	slices.SortStableFunc(out, func(a, b twofactor.Passkey) int { return a.CreatedAt.Compare(b.CreatedAt) })
	return out, nil
}

// PasskeyByCredential implements [twofactor.Store].
func (f *Factors) PasskeyByCredential(_ context.Context, credentialID []byte) (twofactor.Passkey, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, p := range f.passkeys {
		if bytes.Equal(p.CredentialID, credentialID) {
			return clonePasskey(p), nil
		}
	}
	return twofactor.Passkey{}, twofactor.ErrNotFound
}

// passkey returns the index of the user's passkey id, or -1.
func (f *Factors) passkey(userID int64, id string) int {
	return slices.IndexFunc(f.passkeys, func(p twofactor.Passkey) bool { return p.UserID == userID && p.ID == id })
}

// UsePasskey implements [twofactor.Store].
func (f *Factors) UsePasskey(_ context.Context, userID int64, id string, signCount uint32, backedUp bool, at time.Time) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	i := f.passkey(userID, id)
	if i < 0 {
		return false, nil
	}
	f.passkeys[i].SignCount, f.passkeys[i].BackedUp, f.passkeys[i].LastUsedAt = signCount, backedUp, at
	return true, nil
}

// RenamePasskey implements [twofactor.Store].
func (f *Factors) RenamePasskey(_ context.Context, userID int64, id, name string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	i := f.passkey(userID, id)
	if i < 0 {
		return false, nil
	}
	f.passkeys[i].Name = name
	return true, nil
}

// DeletePasskey implements [twofactor.Store].
func (f *Factors) DeletePasskey(_ context.Context, userID int64, id string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	i := f.passkey(userID, id)
	if i < 0 {
		return false, nil
	}
	f.passkeys = slices.Delete(f.passkeys, i, i+1)
	return true, nil
}
