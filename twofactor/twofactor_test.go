package twofactor_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/latchauth/latch/memstore"
	"github.com/latchauth/latch/twofactor"
)

// TestCodeRFC6238 checks the codes against the SHA-1 test vectors of RFC
// 6238, Appendix B, cut to 6 digits.
func TestCodeRFC6238(t *testing.T) {
	secret := []byte("12345678901234567890")
	for _, c := range []struct {
		unix int64
		want string
	}{
		{59, "287082"},
		{1111111109, "081804"},
		{1111111111, "050471"},
		{1234567890, "005924"},
		{2000000000, "279037"},
		{20000000000, "353130"},
	} {
		if got := twofactor.Code(secret, time.Unix(c.unix, 0)); got != c.want {
			t.Errorf("Code(t=%d) = %s; want %s", c.unix, got, c.want)
		}
	}
}

func TestKeyURL(t *testing.T) {
	k := twofactor.Key{Secret: []byte("12345678901234567890")}
	if got := k.Base32(); got != "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ" {
		t.Errorf("Base32() = %s", got)
	}
	u := k.URL("latch", "ann@example.com")
	if !strings.HasPrefix(u, "otpauth://totp/latch:ann@example.com?") || !strings.Contains(u, "secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ") {
		t.Errorf("URL() = %s", u)
	}
	if p, ok := twofactor.ParseKey(strings.ToLower("GEZD GNBV GY3T QOJQ GEZD GNBV GY3T QOJQ")); !ok || !bytes.Equal(p.Secret, k.Secret) {
		t.Errorf("ParseKey(lower case, spaced) = %v, %v", p, ok)
	}
	for _, bad := range []string{"", "1", "!!!!", "GEZD"} {
		if _, ok := twofactor.ParseKey(bad); ok {
			t.Errorf("ParseKey(%q) ok; want refused", bad)
		}
	}
}

type fixture struct {
	svc   *twofactor.Service
	store *memstore.Factors
	now   time.Time
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{store: &memstore.Factors{}, now: time.Date(2026, 3, 4, 5, 6, 0, 0, time.UTC)}
	svc, err := twofactor.NewService(f.store, []byte(strings.Repeat("s", 32)))
	if err != nil {
		t.Fatal(err)
	}
	svc.Now = func() time.Time { return f.now }
	f.svc = svc
	return f
}

func (f *fixture) enrol(t *testing.T, user int64) twofactor.Key {
	t.Helper()
	k := twofactor.NewKey()
	if err := f.svc.Enrol(t.Context(), user, k, twofactor.Code(k.Secret, f.now)); err != nil {
		t.Fatalf("Enrol() = %v", err)
	}
	return k
}

func TestEnrolNeedsTheCode(t *testing.T) {
	f := newFixture(t)
	k := twofactor.NewKey()
	ctx := t.Context()
	if err := f.svc.Enrol(ctx, 1, k, twofactor.Code(twofactor.NewKey().Secret, f.now)); !errors.Is(err, twofactor.ErrBadCode) {
		t.Errorf("Enrol(wrong code) = %v; want ErrBadCode", err)
	}
	if err := f.svc.Enrol(ctx, 1, k, twofactor.Code(k.Secret, f.now.Add(-3*time.Minute))); !errors.Is(err, twofactor.ErrCodeExpired) {
		t.Errorf("Enrol(code of 3 minutes ago) = %v; want ErrCodeExpired", err)
	}
	if st, _ := f.svc.Status(ctx, 1); st.Enabled() {
		t.Fatalf("enabled after refused enrolments")
	}
	if err := f.svc.Enrol(ctx, 1, k, twofactor.Code(k.Secret, f.now)); err != nil {
		t.Fatalf("Enrol(right code) = %v", err)
	}
	if st, _ := f.svc.Status(ctx, 1); !st.Enabled() || !st.TOTPSince.Equal(f.now) {
		t.Fatalf("Status() after enrolment = %+v", st)
	}
	// The enrolment's code is spent.
	if err := f.svc.CheckTOTP(ctx, 1, twofactor.Code(k.Secret, f.now)); !errors.Is(err, twofactor.ErrCodeUsed) {
		t.Errorf("CheckTOTP(the enrolment's code) = %v; want ErrCodeUsed", err)
	}
}

func TestCheckTOTP(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	k := f.enrol(t, 7)
	f.now = f.now.Add(time.Minute)
	code := twofactor.Code(k.Secret, f.now)
	if err := f.svc.CheckTOTP(ctx, 7, code); err != nil {
		t.Fatalf("CheckTOTP(current code) = %v", err)
	}
	if err := f.svc.CheckTOTP(ctx, 7, code); !errors.Is(err, twofactor.ErrCodeUsed) {
		t.Errorf("CheckTOTP(replayed) = %v; want ErrCodeUsed", err)
	}
	// One step of drift each way, each step once.
	f.now = f.now.Add(2 * time.Minute)
	if err := f.svc.CheckTOTP(ctx, 7, twofactor.Code(k.Secret, f.now.Add(-twofactor.Period))); err != nil {
		t.Errorf("CheckTOTP(previous step) = %v; want nil", err)
	}
	if err := f.svc.CheckTOTP(ctx, 7, twofactor.Code(k.Secret, f.now.Add(twofactor.Period))); err != nil {
		t.Errorf("CheckTOTP(next step) = %v; want nil", err)
	}
	// Once the next step is used, the current one is older: refused.
	if err := f.svc.CheckTOTP(ctx, 7, twofactor.Code(k.Secret, f.now)); !errors.Is(err, twofactor.ErrCodeUsed) {
		t.Errorf("CheckTOTP(step before one used) = %v; want ErrCodeUsed", err)
	}
	f.now = f.now.Add(5 * time.Minute)
	if err := f.svc.CheckTOTP(ctx, 7, twofactor.Code(k.Secret, f.now.Add(-2*twofactor.Period))); !errors.Is(err, twofactor.ErrCodeExpired) {
		t.Errorf("CheckTOTP(two steps old) = %v; want ErrCodeExpired", err)
	}
	other := twofactor.NewKey()
	if err := f.svc.CheckTOTP(ctx, 7, twofactor.Code(other.Secret, f.now)); !errors.Is(err, twofactor.ErrBadCode) {
		t.Errorf("CheckTOTP(another key's code) = %v; want ErrBadCode", err)
	}
	for _, junk := range []string{"", "abcdef", "1234567", strings.Repeat("9", 1000)} {
		if err := f.svc.CheckTOTP(ctx, 7, junk); !errors.Is(err, twofactor.ErrBadCode) {
			t.Errorf("CheckTOTP(%.10q) = %v; want ErrBadCode", junk, err)
		}
	}
	if err := f.svc.CheckTOTP(ctx, 8, "123456"); !errors.Is(err, twofactor.ErrNoTOTP) {
		t.Errorf("CheckTOTP(user without TOTP) = %v; want ErrNoTOTP", err)
	}
}

// TestSecretEncryptedAtRest checks that the store holds no trace of the
// secret, and that another secret key, or another user's row, opens
// nothing.
func TestSecretEncryptedAtRest(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	k := f.enrol(t, 7)
	row, err := f.store.TOTP(ctx, 7)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(row.Sealed, k.Secret) || bytes.Contains(row.Sealed, []byte(k.Base32())) {
		t.Fatalf("the stored row holds the secret in clear")
	}
	f.now = f.now.Add(time.Minute)
	other, _ := twofactor.NewService(f.store, []byte(strings.Repeat("x", 32)))
	other.Now = f.svc.Now
	if err := other.CheckTOTP(ctx, 7, twofactor.Code(k.Secret, f.now)); err == nil || errors.Is(err, twofactor.ErrBadCode) {
		t.Errorf("CheckTOTP under another secret key = %v; want an error about the stored secret", err)
	}
	row.UserID = 8
	f.store.PutTOTP(ctx, row)
	if err := f.svc.CheckTOTP(ctx, 8, twofactor.Code(k.Secret, f.now)); err == nil {
		t.Errorf("CheckTOTP with user 7's row copied to user 8 = nil; want an error")
	}
}

func TestRecoveryCodes(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	codes, err := f.svc.NewRecoveryCodes(ctx, 7)
	if err != nil || len(codes) != 10 {
		t.Fatalf("NewRecoveryCodes() = %v, %v; want 10 codes", codes, err)
	}
	seen := map[string]bool{}
	for _, c := range codes {
		if len(c) != 11 || c[5] != '-' || seen[c] {
			t.Errorf("code %q: want xxxxx-xxxxx, all different", c)
		}
		seen[c] = true
	}
	if err := f.svc.UseRecoveryCode(ctx, 8, codes[0]); !errors.Is(err, twofactor.ErrBadCode) {
		t.Errorf("UseRecoveryCode(another user's) = %v; want ErrBadCode", err)
	}
	if err := f.svc.UseRecoveryCode(ctx, 7, " "+strings.ToUpper(strings.ReplaceAll(codes[0], "-", " "))+" "); err != nil {
		t.Errorf("UseRecoveryCode(upper case, spaced) = %v; want nil", err)
	}
	if err := f.svc.UseRecoveryCode(ctx, 7, codes[0]); !errors.Is(err, twofactor.ErrBadCode) {
		t.Errorf("UseRecoveryCode(used) = %v; want ErrBadCode", err)
	}
	if st, _ := f.svc.Status(ctx, 7); st.RecoveryCodesLeft != 9 {
		t.Errorf("RecoveryCodesLeft = %d; want 9", st.RecoveryCodesLeft)
	}
	fresh, _ := f.svc.NewRecoveryCodes(ctx, 7)
	if err := f.svc.UseRecoveryCode(ctx, 7, codes[1]); !errors.Is(err, twofactor.ErrBadCode) {
		t.Errorf("UseRecoveryCode(replaced) = %v; want ErrBadCode", err)
	}
	if err := f.svc.UseRecoveryCode(ctx, 7, fresh[9]); err != nil {
		t.Errorf("UseRecoveryCode(new) = %v", err)
	}
}

func TestTrustedDevices(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	token, exp, err := f.svc.TrustDevice(ctx, 7, "Firefox on Linux")
	if err != nil || !exp.Equal(f.now.Add(30*24*time.Hour)) {
		t.Fatalf("TrustDevice() = %v, %v", exp, err)
	}
	if ok, _ := f.svc.DeviceTrusted(ctx, 7, token); !ok {
		t.Errorf("DeviceTrusted(own token) = false")
	}
	if ok, _ := f.svc.DeviceTrusted(ctx, 8, token); ok {
		t.Errorf("DeviceTrusted(another user's token) = true")
	}
	list, _ := f.svc.TrustedDevices(ctx, 7)
	if len(list) != 1 || list[0].Label != "Firefox on Linux" {
		t.Fatalf("TrustedDevices() = %+v", list)
	}
	f.now = f.now.Add(30*24*time.Hour + time.Second)
	if ok, _ := f.svc.DeviceTrusted(ctx, 7, token); ok {
		t.Errorf("DeviceTrusted after 30 days = true")
	}
	if list, _ := f.svc.TrustedDevices(ctx, 7); len(list) != 0 {
		t.Errorf("TrustedDevices() after expiry = %d", len(list))
	}
	token, _, _ = f.svc.TrustDevice(ctx, 7, "Chrome")
	list, _ = f.svc.TrustedDevices(ctx, 7)
	if ok, _ := f.svc.ForgetDevice(ctx, 7, list[0].ID); !ok {
		t.Errorf("ForgetDevice() = false")
	}
	if ok, _ := f.svc.DeviceTrusted(ctx, 7, token); ok {
		t.Errorf("DeviceTrusted after ForgetDevice = true")
	}
}

func TestReset(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	f.enrol(t, 7)
	r, created, err := f.svc.RequestReset(ctx, 7)
	if err != nil || !created || !r.DueAt.Equal(f.now.Add(72*time.Hour)) {
		t.Fatalf("RequestReset() = %+v, %v, %v", r, created, err)
	}
	f.now = f.now.Add(time.Hour)
	if r2, created, _ := f.svc.RequestReset(ctx, 7); created || !r2.DueAt.Equal(r.DueAt) {
		t.Errorf("RequestReset(again) = %+v, %v; want the first, not new", r2, created)
	}
	if done, _ := f.svc.FinishReset(ctx, 7); done {
		t.Fatalf("FinishReset() before the wait = true")
	}
	f.now = r.DueAt
	if done, err := f.svc.FinishReset(ctx, 7); !done || err != nil {
		t.Fatalf("FinishReset() after the wait = %v, %v", done, err)
	}
	if st, _ := f.svc.Status(ctx, 7); st.Enabled() || st.Reset != nil {
		t.Errorf("Status() after reset = %+v; want nothing", st)
	}
	f.enrol(t, 7)
	f.svc.RequestReset(ctx, 7)
	if ok, _ := f.svc.CancelReset(ctx, 7); !ok {
		t.Errorf("CancelReset() = false")
	}
	f.now = f.now.Add(100 * time.Hour)
	if done, _ := f.svc.FinishReset(ctx, 7); done {
		t.Errorf("FinishReset() after cancel = true")
	}
}

func TestSealKey(t *testing.T) {
	f := newFixture(t)
	k := twofactor.NewKey()
	sealed := f.svc.SealKey(7, k)
	if got, err := f.svc.OpenKey(7, sealed); err != nil || !bytes.Equal(got.Secret, k.Secret) {
		t.Fatalf("OpenKey() = %v, %v; want the key", got, err)
	}
	if _, err := f.svc.OpenKey(8, sealed); !errors.Is(err, twofactor.ErrEnrolmentExpired) {
		t.Errorf("OpenKey(another user) = %v; want ErrEnrolmentExpired", err)
	}
	for _, junk := range []string{"", "!!", "AAAA", sealed[:len(sealed)-2]} {
		if _, err := f.svc.OpenKey(7, junk); !errors.Is(err, twofactor.ErrEnrolmentExpired) {
			t.Errorf("OpenKey(%q) = %v; want ErrEnrolmentExpired", junk, err)
		}
	}
	f.now = f.now.Add(31 * time.Minute)
	if _, err := f.svc.OpenKey(7, sealed); !errors.Is(err, twofactor.ErrEnrolmentExpired) {
		t.Errorf("OpenKey() after 31 minutes = %v; want ErrEnrolmentExpired", err)
	}
}
