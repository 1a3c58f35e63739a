package account_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchauth/latch/account"
	"github.com/latchauth/latch/password"
	"github.com/latchauth/latch/sqlitestore"
	"github.com/latchauth/latch/throttle"
	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
)

func TestNormalizeEmail(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"Ann@Example.COM", "ann@example.com", true},
		{"  ann@example.com\t", "ann@example.com", true},
		{"ann+tag@sub.example.co.uk", "ann+tag@sub.example.co.uk", true},
		{"", "", false},
		{"ann", "", false},
		{"ann@", "", false},
		{"@example.com", "", false},
		{"ann@localhost", "", false},
		{"Ann <ann@example.com>", "", false},
		{"ann@example.com, bob@example.com", "", false},
		{"ann@exa mple.com", "", false},
		{"ann\x00@example.com", "", false},
		{strings.Repeat("a", 250) + "@example.com", "", false},
		// One address, however it is spelled: NFKC and case folding.
		{"ＡＮＮ@example.com", "ann@example.com", true},
		{"Straße@example.de", "strasse@example.de", true},
		{"JOSE\u0301@example.com", "jos\u00e9@example.com", true},
		{"jos\u00e9@example.com", "jos\u00e9@example.com", true},
		{"ǅemal@example.com", "džemal@example.com", true},
	}
	for _, tt := range tests {
		got, err := account.NormalizeEmail(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("NormalizeEmail(%q) = %q, %v; want %q, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
		if again, err := account.NormalizeEmail(got); tt.ok && (again != got || err != nil) {
			t.Errorf("NormalizeEmail(%q) = %q, %v; want it unchanged", got, again, err)
		}
	}
}

// TestNormalizeEmailRefuses checks that addresses with characters that
// cannot be seen or that disguise the text, invalid UTF-8 and addresses at
// an IP address are refused, each with a message saying what is wrong.
func TestNormalizeEmailRefuses(t *testing.T) {
	hidden := account.ErrEmailHiddenCharacter
	tests := []struct {
		in   string
		rule *account.ValidationError
		want string // in the Detail
	}{
		{"an\u200bn@example.com", hidden, "invisible character (U+200B)"},
		{"\u202eann@example.com", hidden, "changes the direction of text (U+202E)"},
		{"ann\u2060@example.com", hidden, "invisible character (U+2060)"},
		{"\ufeffann@example.com", hidden, "invisible character (U+FEFF)"},
		{"an\u0085n@example.com", hidden, "control character (U+0085)"},
		{"an\u009bn@example.com", hidden, "control character (U+009B)"},
		{"an\u00a0n@example.com", hidden, "special space character (U+00A0)"},
		{"ann\xff@example.com", account.ErrEmailNotText, ""},
		{"user@[192.0.2.1]", account.ErrEmailIPAddress, ""},
		{"user@[IPv6:2001:db8::1]", account.ErrEmailIPAddress, ""},
		{"user@192.0.2.1", account.ErrEmailIPAddress, ""},
	}
	for _, tt := range tests {
		got, err := account.NormalizeEmail(tt.in)
		var ve *account.ValidationError
		if !errors.Is(err, tt.rule) || !errors.As(err, &ve) || !strings.Contains(ve.Detail, tt.want) {
			t.Errorf("NormalizeEmail(%q) = %q, %v; want %v with a Detail saying %q", tt.in, got, err, tt.rule, tt.want)
		}
	}
}

// TestEmailUniqueness checks that two spellings of one address are one
// account, and that an account stored before emails were case-folded, in
// lower case, is still found.
func TestEmailUniqueness(t *testing.T) {
	ctx := context.Background()
	s, db := newService(t)
	if _, err := s.SignUp(ctx, "Jos\u00e9@example.com", "José", "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	for _, email := range []string{"jose\u0301@example.com", "JOSÉ@ＥＸＡＭＰＬＥ.com"} {
		if _, err := s.SignUp(ctx, email, "Other", "correct horse battery"); !errors.Is(err, account.ErrEmailTaken) {
			t.Errorf("SignUp(%q) after José = %v; want ErrEmailTaken", email, err)
		}
		if _, err := s.Authenticate(ctx, account.Login{Email: email, Password: "correct horse battery", Client: "192.0.2.1"}); err != nil {
			t.Errorf("Authenticate(%q) = %v; want José's account", email, err)
		}
	}
	hash, err := s.Hasher.Hash(ctx, "correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreateUser(ctx, account.User{Email: "straße@example.de", Name: "Old", PasswordHash: hash}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(ctx, account.Login{Email: "Straße@example.de", Password: "correct horse battery", Client: "192.0.2.2"}); err != nil {
		t.Errorf("Authenticate(Straße@example.de) of an account stored in lower case = %v; want nil", err)
	}
	if _, err := s.SignUp(ctx, "STRAßE@example.de", "New", "correct horse battery"); !errors.Is(err, account.ErrEmailTaken) {
		t.Errorf("SignUp(STRAßE@example.de) beside straße@example.de = %v; want ErrEmailTaken", err)
	}
}

func newService(t *testing.T) (*account.Service, *sqlitestore.DB) {
	t.Helper()
	db, err := sqlitestore.Open(context.Background(), t.TempDir()+"/a.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	h := password.NewHasher(testParams, 2, 8)
	s := account.NewService(db, h, throttle.NewPolicy(db))
	s.Devices = throttle.NewDevices([]byte(strings.Repeat("k", 32)), db)
	return s, db
}

// testParams make hashes cheap, for tests.
var testParams = password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// setClock makes s's limiters read the time from *now, which the test
// moves.
func setClock(s *account.Service, now *time.Time) {
	s.Throttle.SetNow(func() time.Time { return *now })
	s.Devices.Now = func() time.Time { return *now }
}

// failures returns the stored counts of email from client: for the
// account, and for the client. The keys are those of [throttle.Policy].
func failures(t *testing.T, db *sqlitestore.DB, email, client string) (account, clientOnly throttle.State) {
	t.Helper()
	ctx := context.Background()
	account, err := db.Failures(ctx, "account|"+email)
	if err != nil {
		t.Fatal(err)
	}
	clientOnly, err = db.Failures(ctx, "client|"+throttle.Client(client))
	if err != nil {
		t.Fatal(err)
	}
	return account, clientOnly
}

func TestAuthenticate(t *testing.T) {
	s, _ := newService(t)
	ctx := context.Background()
	if _, err := s.SignUp(ctx, "Ann@example.com", "Ann", "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	u, err := s.Authenticate(ctx, account.Login{Email: " ANN@example.com", Password: "correct horse battery", Client: "192.0.2.1"})
	if err != nil || u.Name != "Ann" || u.LastLoginAt.IsZero() {
		t.Fatalf("Authenticate(right password) = %+v, %v; want Ann with LastLoginAt", u, err)
	}
	for _, email := range []string{"ann@example.com", "nobody@example.com", "not an email", strings.Repeat("x", 5000)} {
		if _, err := s.Authenticate(ctx, account.Login{Email: email, Password: "wrong password", Client: "192.0.2.2"}); !errors.Is(err, account.ErrBadCredentials) {
			t.Errorf("Authenticate(%.20q, wrong) = %v; want ErrBadCredentials", email, err)
		}
	}
}

// TestAuthenticateThrottles fails on one account from one address: the
// right password is then refused from there and from any other unknown
// device, since the limit is the account's, but not from the owner's
// known device.
func TestAuthenticateThrottles(t *testing.T) {
	s, _ := newService(t)
	ctx := context.Background()
	now := time.Now()
	setClock(s, &now)
	u, err := s.SignUp(ctx, "ann@example.com", "Ann", "correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	for range s.Throttle.Account.Free + 1 {
		s.Authenticate(ctx, account.Login{Email: "ann@example.com", Password: "wrong password", Client: "192.0.2.9"})
	}
	var te *account.ThrottledError
	for _, client := range []string{"192.0.2.9", "198.51.100.1"} {
		_, err := s.Authenticate(ctx, account.Login{Email: "ann@example.com", Password: "correct horse battery", Client: client})
		if !errors.As(err, &te) || te.RetryAfter <= 0 {
			t.Errorf("Authenticate from %s while the account is throttled = %v; want *ThrottledError", client, err)
		}
	}
	device := s.Devices.Issue(strconv.FormatInt(u.ID, 10))
	if _, err := s.Authenticate(ctx, account.Login{Email: "ann@example.com", Password: "correct horse battery", Client: "198.51.100.1", Device: device}); err != nil {
		t.Errorf("Authenticate from the owner's device = %v; want success", err)
	}
}

// TestAuthenticateDistributedGuessing guesses one account's password from
// 30 addresses, 4 guesses each: no more are checked than the account's
// free failures and one, the right password from a new address is then
// refused, and a device cookie counts only for the account it was issued
// for, and only until it is revoked.
func TestAuthenticateDistributedGuessing(t *testing.T) {
	s, _ := newService(t)
	ctx := context.Background()
	now := time.Now()
	setClock(s, &now)
	ann, err := s.SignUp(ctx, "ann@example.com", "Ann", "correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	bob, err := s.SignUp(ctx, "bob@example.com", "Bob", "correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	annDevice := s.Devices.Issue(strconv.FormatInt(ann.ID, 10))
	bobDevice := s.Devices.Issue(strconv.FormatInt(bob.ID, 10))
	now = now.Add(time.Second)
	checked := 0
	for i := range 30 {
		for range 4 {
			_, err := s.Authenticate(ctx, account.Login{Email: "ann@example.com", Password: "Summer2026!", Client: fmt.Sprintf("198.51.100.%d", i)})
			if errors.Is(err, account.ErrBadCredentials) {
				checked++
			}
		}
	}
	if want := s.Throttle.Account.Free + 1; checked != want {
		t.Errorf("30 addresses x 4 wrong passwords: %d checked; want %d", checked, want)
	}
	var te *account.ThrottledError
	for name, device := range map[string]string{"no": "", "Bob's": bobDevice, "a garbled": annDevice + "x"} {
		_, err := s.Authenticate(ctx, account.Login{Email: "ann@example.com", Password: "correct horse battery", Client: "203.0.113.1", Device: device})
		if !errors.As(err, &te) {
			t.Errorf("right password from a new address with %s device cookie = %v; want *ThrottledError", name, err)
		}
	}
	if _, err := s.Authenticate(ctx, account.Login{Email: "ann@example.com", Password: "correct horse battery", Client: "203.0.113.1", Device: annDevice}); err != nil {
		t.Errorf("right password with Ann's device cookie = %v; want success", err)
	}
	if err := s.Devices.Revoke(ctx, strconv.FormatInt(ann.ID, 10)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(ctx, account.Login{Email: "ann@example.com", Password: "correct horse battery", Client: "203.0.113.1", Device: annDevice}); !errors.As(err, &te) {
		t.Errorf("right password with a revoked device cookie = %v; want *ThrottledError", err)
	}
}

// TestAuthenticateKnownDeviceThrottledAlone checks that wrong passwords
// from a known device slow that device down, and only it.
func TestAuthenticateKnownDeviceThrottledAlone(t *testing.T) {
	s, db := newService(t)
	ctx := context.Background()
	now := time.Now()
	setClock(s, &now)
	u, err := s.SignUp(ctx, "ann@example.com", "Ann", "correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	device := s.Devices.Issue(strconv.FormatInt(u.ID, 10))
	for range s.Throttle.Device.Free + 1 {
		s.Authenticate(ctx, account.Login{Email: "ann@example.com", Password: "wrong password", Client: "192.0.2.1", Device: device})
	}
	var te *account.ThrottledError
	if _, err := s.Authenticate(ctx, account.Login{Email: "ann@example.com", Password: "correct horse battery", Client: "192.0.2.1", Device: device}); !errors.As(err, &te) {
		t.Errorf("right password from the device after its failures = %v; want *ThrottledError", err)
	}
	acct, client := failures(t, db, "ann@example.com", "192.0.2.1")
	if acct != (throttle.State{}) || client != (throttle.State{}) {
		t.Errorf("after a known device's failures: counts %+v for the account, %+v for the address; want none", acct, client)
	}
	if _, err := s.Authenticate(ctx, account.Login{Email: "ann@example.com", Password: "correct horse battery", Client: "192.0.2.1"}); err != nil {
		t.Errorf("right password from another device = %v; want success", err)
	}
}

func TestSignUpRules(t *testing.T) {
	s, _ := newService(t)
	ctx := context.Background()
	_, err := s.SignUp(ctx, "bad", "", "123")
	var fe account.FieldErrors
	if !errors.As(err, &fe) || len(fe) != 3 {
		t.Fatalf("SignUp(all bad) = %v; want FieldErrors for email, name and password", err)
	}
	for _, rule := range []error{account.ErrEmailInvalid, account.ErrNameMissing, account.ErrPasswordTooShort} {
		if !errors.Is(err, rule) {
			t.Errorf("SignUp(all bad) = %v; want it to hold %v", err, rule)
		}
	}
	if _, err := s.SignUp(ctx, "ann@example.com", "Ann", "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SignUp(ctx, "ANN@example.com", "Ann 2", "correct horse battery"); !errors.Is(err, account.ErrEmailTaken) {
		t.Errorf("SignUp(same email, other case) = %v; want ErrEmailTaken", err)
	}
	s.MinPasswordLength = 12
	var ve *account.ValidationError
	if err := s.CheckPassword("elevenchars"); !errors.Is(err, account.ErrPasswordTooShort) || !errors.As(err, &ve) || ve.Limit != 12 {
		t.Errorf("CheckPassword(11 chars) with minimum 12 = %v; want ErrPasswordTooShort with Limit 12", err)
	}
}

// TestValidationErrors checks that each rule is told by its own value,
// with its limit where it has one, and by no other.
func TestValidationErrors(t *testing.T) {
	s, _ := newService(t)
	rules := []*account.ValidationError{
		account.ErrEmailMissing, account.ErrEmailNotText, account.ErrEmailHiddenCharacter, account.ErrEmailTooLong, account.ErrEmailIPAddress, account.ErrEmailInvalid,
		account.ErrNameMissing, account.ErrNameNotText, account.ErrNameTooLong, account.ErrNameControl,
		account.ErrPasswordNotText, account.ErrPasswordTooShort, account.ErrPasswordTooLong, account.ErrPasswordRepeated, account.ErrPasswordIsEmail, account.ErrPasswordIsName, account.ErrPasswordCommon,
	}
	tests := []struct {
		check func() error
		want  *account.ValidationError
		limit int
	}{
		{func() error { _, err := account.NormalizeEmail("  "); return err }, account.ErrEmailMissing, 0},
		{func() error { _, err := account.NormalizeEmail(strings.Repeat("a", 250) + "@example.com"); return err }, account.ErrEmailTooLong, account.MaxEmailLength},
		{func() error { _, err := account.NormalizeEmail("Ann <ann@example.com>"); return err }, account.ErrEmailInvalid, 0},
		{func() error { _, err := account.NormalizeName(" "); return err }, account.ErrNameMissing, 0},
		{func() error { _, err := account.NormalizeName("Ann\xff"); return err }, account.ErrNameNotText, 0},
		{func() error { _, err := account.NormalizeName(strings.Repeat("é", 101)); return err }, account.ErrNameTooLong, account.MaxNameLength},
		{func() error { _, err := account.NormalizeName("Ann\x1b[2J"); return err }, account.ErrNameControl, 0},
		{func() error { return s.CheckPassword("long enough\xff") }, account.ErrPasswordNotText, 0},
		{func() error { return s.CheckPassword("seven77") }, account.ErrPasswordTooShort, 8},
		{func() error { return s.CheckPassword(strings.Repeat("p", password.MaxLength+1)) }, account.ErrPasswordTooLong, password.MaxLength},
		{func() error { return s.CheckPassword("PASSWORD1") }, account.ErrPasswordCommon, 0},
	}
	for _, tt := range tests {
		err := tt.check()
		var ve *account.ValidationError
		if !errors.As(err, &ve) || ve.Field != tt.want.Field || ve.Code != tt.want.Code || ve.Limit != tt.limit {
			t.Errorf("got %#v; want %s %s with Limit %d", err, tt.want.Field, tt.want.Code, tt.limit)
			continue
		}
		for _, r := range rules {
			if got := errors.Is(err, r); got != (r == tt.want) {
				t.Errorf("errors.Is(%v, %v) = %v; want %v", err, r, got, !got)
			}
		}
		if msg := err.Error(); !strings.HasPrefix(msg, "account: "+tt.want.Field+" ") {
			t.Errorf("%v: message %q; want it to start with the package and field", tt.want, msg)
		}
	}
}

func TestAuthenticateThrottlesOneClientAcrossAccounts(t *testing.T) {
	s, _ := newService(t)
	ctx := context.Background()
	s.SignUp(ctx, "ann@example.com", "Ann", "correct horse battery")
	// One password tried on many accounts from one address: each account
	// sees one failure, the address sees them all.
	for i := range s.Throttle.Address.Free + 1 {
		if _, err := s.Authenticate(ctx, account.Login{Email: fmt.Sprintf("user%d@example.com", i), Password: "Summer2026!", Client: "203.0.113.5"}); !errors.Is(err, account.ErrBadCredentials) {
			t.Fatalf("attempt %d = %v; want ErrBadCredentials", i, err)
		}
	}
	var te *account.ThrottledError
	if _, err := s.Authenticate(ctx, account.Login{Email: "ann@example.com", Password: "correct horse battery", Client: "203.0.113.5"}); !errors.As(err, &te) {
		t.Errorf("Authenticate from the stuffing address = %v; want *ThrottledError", err)
	}
	if _, err := s.Authenticate(ctx, account.Login{Email: "ann@example.com", Password: "correct horse battery", Client: "198.51.100.7"}); err != nil {
		t.Errorf("Authenticate from another address = %v; want success", err)
	}
}

// TestAuthenticateUnreadableHash checks that a stored hash the Hasher cannot
// read is reported as an error, not as a wrong password: it must reach the
// logs, and must not count towards locking the user out.
func TestAuthenticateUnreadableHash(t *testing.T) {
	s, db := newService(t)
	ctx := context.Background()
	u, err := s.SignUp(ctx, "ann@example.com", "Ann", "correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if err := db.SetPasswordHash(ctx, u.ID, "$argon2id$v=19$m=1,t=0,p=0$bad$hash"); err != nil {
		t.Fatal(err)
	}
	for i := range 6 {
		_, err := s.Authenticate(ctx, account.Login{Email: "ann@example.com", Password: "correct horse battery", Client: "192.0.2.1"})
		if !errors.Is(err, password.ErrUnknownFormat) {
			t.Fatalf("attempt %d with an unreadable hash: error %v; want one wrapping ErrUnknownFormat, not throttling or bad credentials", i+1, err)
		}
	}
}

// TestAuthenticateLongEmail checks that an email longer than any account's
// is a failed login like an unknown one, throttled like one.
func TestAuthenticateLongEmail(t *testing.T) {
	s, _ := newService(t)
	ctx := context.Background()
	long := strings.Repeat("a", 60000) + "@example.com"
	for i := range s.Throttle.Account.Free {
		if _, err := s.Authenticate(ctx, account.Login{Email: long, Password: "whatever password", Client: "192.0.2.1"}); !errors.Is(err, account.ErrBadCredentials) {
			t.Fatalf("attempt %d with a 60 KB email: %v; want ErrBadCredentials", i+1, err)
		}
	}
	var te *account.ThrottledError
	if _, err := s.Authenticate(ctx, account.Login{Email: long, Password: "whatever password", Client: "192.0.2.1"}); err != nil && !errors.As(err, &te) && !errors.Is(err, account.ErrBadCredentials) {
		t.Fatalf("attempt past the free ones: %v", err)
	}
	if _, err := s.Authenticate(ctx, account.Login{Email: long, Password: "whatever password", Client: "192.0.2.1"}); !errors.As(err, &te) {
		t.Errorf("second attempt past the free ones with the same long email: %v; want throttled", err)
	}
}

// TestAuthenticateParallel sends many wrong passwords for one account from
// one address at once. No more may be checked than one after the other
// (Free + 1), and each checked counts as a failure: the rest are refused
// before their password is checked.
func TestAuthenticateParallel(t *testing.T) {
	s, db := newService(t)
	ctx := context.Background()
	// Room in the hashing queue for every attempt, so that only the
	// limiter refuses them.
	s.Hasher = password.NewHasher(testParams, 2, 64)
	now := time.Now()
	setClock(s, &now)
	if _, err := s.SignUp(ctx, "ann@example.com", "Ann", "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	const n = 40
	errs := atOnce(n, func(int) error {
		_, err := s.Authenticate(ctx, account.Login{Email: "ann@example.com", Password: "wrong password", Client: "192.0.2.1"})
		return err
	})
	checked := 0
	for i, err := range errs {
		var te *account.ThrottledError
		switch {
		case errors.Is(err, account.ErrBadCredentials):
			checked++
		case errors.As(err, &te) && te.RetryAfter > 0:
		default:
			t.Errorf("attempt %d = %v; want ErrBadCredentials or *ThrottledError", i, err)
		}
	}
	if checked == 0 || checked > s.Throttle.Account.Free+1 {
		t.Errorf("%d parallel wrong passwords: %d checked; want 1 to %d", n, checked, s.Throttle.Account.Free+1)
	}
	acct, client := failures(t, db, "ann@example.com", "192.0.2.1")
	if acct.Failures != checked || client.Failures != checked {
		t.Errorf("after %d failures: counts for the account and client %d, for the client %d; want %d and %d",
			checked, acct.Failures, client.Failures, checked, checked)
	}
}

// TestAuthenticateSuccessCounts checks what a successful login does to the
// counts: the account's are forgiven, and the address's are left as they
// were, earlier failures included.
func TestAuthenticateSuccessCounts(t *testing.T) {
	s, db := newService(t)
	ctx := context.Background()
	now := time.Now()
	setClock(s, &now)
	if _, err := s.SignUp(ctx, "ann@example.com", "Ann", "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		now = now.Add(time.Second)
		if _, err := s.Authenticate(ctx, account.Login{Email: "ann@example.com", Password: "wrong password", Client: "192.0.2.1"}); !errors.Is(err, account.ErrBadCredentials) {
			t.Fatalf("Authenticate(wrong password) = %v; want ErrBadCredentials", err)
		}
	}
	_, before := failures(t, db, "ann@example.com", "192.0.2.1")
	if before.Failures != 2 {
		t.Fatalf("after 2 failures: count for the client %d; want 2", before.Failures)
	}
	now = now.Add(time.Second)
	if _, err := s.Authenticate(ctx, account.Login{Email: "ann@example.com", Password: "correct horse battery", Client: "192.0.2.1"}); err != nil {
		t.Fatalf("Authenticate(right password) = %v; want success", err)
	}
	acct, client := failures(t, db, "ann@example.com", "192.0.2.1")
	if acct != (throttle.State{}) {
		t.Errorf("after success: count for the account and client %+v; want none", acct)
	}
	if client.Failures != before.Failures || !client.LastFailure.Equal(before.LastFailure) {
		t.Errorf("after success: count for the client %+v; want %+v, as before", client, before)
	}
}

// TestAuthenticateAbandoned checks that an attempt ending before its
// password could be judged leaves the counts as they were: it is no
// failure.
func TestAuthenticateAbandoned(t *testing.T) {
	const email, client = "ann@example.com", "192.0.2.1"
	tests := []struct {
		name string
		// argon2 stands in for the hashing; it gets the cancel function
		// of the attempt's context.
		argon2 func(cancel context.CancelFunc) (err error)
		want   error
	}{
		{"Cancelled", func(cancel context.CancelFunc) error { cancel(); return context.Canceled }, context.Canceled},
		{"Busy", func(context.CancelFunc) error { return password.ErrBusy }, password.ErrBusy},
		{"HasherBroken", func(context.CancelFunc) error { return errBroken }, errBroken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, db := newService(t)
			ctx := context.Background()
			now := time.Now()
			setClock(s, &now)
			if _, err := s.SignUp(ctx, email, "Ann", "correct horse battery"); err != nil {
				t.Fatal(err)
			}
			for range 2 {
				now = now.Add(time.Second)
				if _, err := s.Authenticate(ctx, account.Login{Email: email, Password: "wrong password", Client: client}); !errors.Is(err, account.ErrBadCredentials) {
					t.Fatalf("Authenticate(wrong password) = %v; want ErrBadCredentials", err)
				}
			}
			acct, cl := failures(t, db, email, client)

			actx, cancel := context.WithCancel(ctx)
			defer cancel()
			h := password.NewHasher(testParams, 2, 8)
			h.UseArgon2(func(context.Context, []byte, []byte, uint32, uint32, uint8, uint32) ([]byte, error) {
				return nil, tt.argon2(cancel)
			})
			s.Hasher = h
			now = now.Add(time.Second)
			if _, err := s.Authenticate(actx, account.Login{Email: email, Password: "correct horse battery", Client: client}); !errors.Is(err, tt.want) {
				t.Fatalf("Authenticate = %v; want %v", err, tt.want)
			}
			gotAcct, gotCl := failures(t, db, email, client)
			if gotAcct != acct || gotCl != cl {
				t.Errorf("after the abandoned attempt: counts %+v and %+v; want %+v and %+v, as before", gotAcct, gotCl, acct, cl)
			}
		})
	}
}

var errBroken = errors.New("hashing service unreachable")

// TestAuthenticateSharedAddress logs many people in at once from one
// address, more than the address's free failures: behind a shared address
// all who logged in there before, holding a device cookie, must get in.
func TestAuthenticateSharedAddress(t *testing.T) {
	s, _ := newService(t)
	ctx := context.Background()
	s.Hasher = password.NewHasher(testParams, 2, 64)
	n := s.Throttle.Address.Free + 10
	devices := make([]string, n)
	for i := range n {
		u, err := s.SignUp(ctx, fmt.Sprintf("user%d@example.com", i), "User", "correct horse battery")
		if err != nil {
			t.Fatal(err)
		}
		devices[i] = s.Devices.Issue(strconv.FormatInt(u.ID, 10))
	}
	// Slow hashing keeps every login in flight at once.
	s.Hasher.UseArgon2(func(_ context.Context, pw, salt []byte, time_, memory uint32, threads uint8, keyLen uint32) ([]byte, error) {
		time.Sleep(20 * time.Millisecond)
		return argon2.IDKey(pw, salt, time_, memory, threads, keyLen), nil
	})
	errs := atOnce(n, func(i int) error {
		_, err := s.Authenticate(ctx, account.Login{Email: fmt.Sprintf("user%d@example.com", i), Password: "correct horse battery", Client: "198.51.100.7", Device: devices[i]})
		return err
	})
	for i, err := range errs {
		if err != nil {
			t.Errorf("login %d of %d at once from one address = %v; want success", i, n, err)
		}
	}
}

// TestAuthenticateClientRefusedKeepsAccountCount checks that an attempt
// refused for its address alone is no failure of the account.
func TestAuthenticateClientRefusedKeepsAccountCount(t *testing.T) {
	s, db := newService(t)
	ctx := context.Background()
	now := time.Now()
	setClock(s, &now)
	s.Throttle.Address.Free = 1
	for i := range 2 {
		s.Authenticate(ctx, account.Login{Email: fmt.Sprintf("user%d@example.com", i), Password: "Summer2026!", Client: "203.0.113.5"})
	}
	var te *account.ThrottledError
	if _, err := s.Authenticate(ctx, account.Login{Email: "ann@example.com", Password: "Summer2026!", Client: "203.0.113.5"}); !errors.As(err, &te) {
		t.Fatalf("Authenticate from the refused address = %v; want *ThrottledError", err)
	}
	acct, client := failures(t, db, "ann@example.com", "203.0.113.5")
	if acct != (throttle.State{}) || client.Failures != 2 {
		t.Errorf("after a refused attempt: counts %+v for the account, %+v for the client; want none and 2", acct, client)
	}
}

// atOnce calls f(0) to f(n-1) in n goroutines released together, and
// returns their errors in order.
func atOnce(n int, f func(i int) error) []error {
	var (
		wg    sync.WaitGroup
		start = make(chan struct{})
		errs  = make([]error, n)
	)
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = f(i)
		})
	}
	close(start)
	wg.Wait()
	return errs
}

// TestAuthenticateFloor checks that a wrong password for a user imported
// with a fast werkzeug hash, and an unknown email, are answered no sooner
// than a wrong password for a user with a bcrypt hash of cost 10 would be:
// timing tells neither which users exist nor how their hashes were made.
func TestAuthenticateFloor(t *testing.T) {
	ctx := context.Background()
	s, db := newService(t)
	mac := hmac.New(sha256.New, []byte("salt"))
	mac.Write([]byte("fast password"))
	fast := "sha256$salt$" + hex.EncodeToString(mac.Sum(nil))
	slow, err := bcrypt.GenerateFromPassword([]byte("slow password"), 10)
	if err != nil {
		t.Fatal(err)
	}
	for email, hash := range map[string]string{"fast@example.com": fast, "slow@example.com": string(slow)} {
		if _, err := db.CreateUser(ctx, account.User{Email: email, Name: "N", PasswordHash: hash}); err != nil {
			t.Fatal(err)
		}
	}
	bcryptCost, err := s.Hasher.Cost(ctx, string(slow))
	if err != nil {
		t.Fatal(err)
	}
	for i, email := range []string{"fast@example.com", "nobody@example.com", "fast@example.com"} {
		start := time.Now()
		_, err := s.Authenticate(ctx, account.Login{Email: email, Password: "wrong password", Client: fmt.Sprintf("192.0.2.%d", i+1)})
		took := time.Since(start)
		if !errors.Is(err, account.ErrBadCredentials) {
			t.Fatalf("Authenticate(%s, wrong password) = %v; want ErrBadCredentials", email, err)
		}
		if took < bcryptCost {
			t.Errorf("Authenticate(%s, wrong password) answered after %s; want no sooner than a bcrypt-10 verification, %s", email, took, bcryptCost)
		}
	}
	if _, err := s.Authenticate(ctx, account.Login{Email: "fast@example.com", Password: "fast password", Client: "192.0.2.9"}); err != nil {
		t.Errorf("Authenticate(fast@example.com, right password) = %v; want nil", err)
	}
}
