package account_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/latchauth/latch/account"
	"github.com/latchauth/latch/password"
	"github.com/latchauth/latch/sqlitestore"
	"github.com/latchauth/latch/throttle"
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
	}
	for _, tt := range tests {
		got, err := account.NormalizeEmail(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("NormalizeEmail(%q) = %q, %v; want %q, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func newService(t *testing.T) (*account.Service, *sqlitestore.DB) {
	t.Helper()
	db, err := sqlitestore.Open(context.Background(), t.TempDir()+"/a.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	h := password.NewHasher(password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, 2, 8)
	return account.NewService(db, h, throttle.New(db)), db
}

func TestAuthenticate(t *testing.T) {
	s, _ := newService(t)
	ctx := context.Background()
	if _, err := s.SignUp(ctx, "Ann@example.com", "Ann", "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	u, err := s.Authenticate(ctx, " ANN@example.com", "correct horse battery", "192.0.2.1")
	if err != nil || u.Name != "Ann" || u.LastLoginAt.IsZero() {
		t.Fatalf("Authenticate(right password) = %+v, %v; want Ann with LastLoginAt", u, err)
	}
	for _, email := range []string{"ann@example.com", "nobody@example.com", "not an email", strings.Repeat("x", 5000)} {
		if _, err := s.Authenticate(ctx, email, "wrong password", "192.0.2.2"); !errors.Is(err, account.ErrBadCredentials) {
			t.Errorf("Authenticate(%.20q, wrong) = %v; want ErrBadCredentials", email, err)
		}
	}
}

func TestAuthenticateThrottles(t *testing.T) {
	s, _ := newService(t)
	ctx := context.Background()
	s.SignUp(ctx, "ann@example.com", "Ann", "correct horse battery")
	for range s.Limiter.Free + 1 {
		s.Authenticate(ctx, "ann@example.com", "wrong password", "192.0.2.9")
	}
	_, err := s.Authenticate(ctx, "ann@example.com", "correct horse battery", "192.0.2.9")
	var te *account.ThrottledError
	if !errors.As(err, &te) || te.RetryAfter <= 0 {
		t.Fatalf("Authenticate while throttled = %v; want *ThrottledError", err)
	}
	if _, err := s.Authenticate(ctx, "ann@example.com", "correct horse battery", "198.51.100.1"); err != nil {
		t.Errorf("Authenticate from another client = %v; want success", err)
	}
}

func TestSignUpRules(t *testing.T) {
	s, _ := newService(t)
	ctx := context.Background()
	_, err := s.SignUp(ctx, "bad", "", "123")
	var fe account.FieldErrors
	if !errors.As(err, &fe) || fe["email"] == "" || fe["name"] == "" || fe["password"] == "" {
		t.Fatalf("SignUp(all bad) = %v; want FieldErrors for email, name and password", err)
	}
	if _, err := s.SignUp(ctx, "ann@example.com", "Ann", "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SignUp(ctx, "ANN@example.com", "Ann 2", "correct horse battery"); !errors.Is(err, account.ErrEmailTaken) {
		t.Errorf("SignUp(same email, other case) = %v; want ErrEmailTaken", err)
	}
	s.MinPasswordLength = 12
	if err := s.CheckPassword("elevenchars"); err == nil || !strings.Contains(err.Error(), "12") {
		t.Errorf("CheckPassword(11 chars) with minimum 12 = %v; want an error naming 12", err)
	}
}

func TestAuthenticateThrottlesOneClientAcrossAccounts(t *testing.T) {
	s, _ := newService(t)
	ctx := context.Background()
	s.SignUp(ctx, "ann@example.com", "Ann", "correct horse battery")
	// One password tried on many accounts from one address: each account
	// sees one failure, the address sees them all.
	for i := range s.ClientLimiter.Free + 1 {
		if _, err := s.Authenticate(ctx, fmt.Sprintf("user%d@example.com", i), "Summer2026!", "203.0.113.5"); !errors.Is(err, account.ErrBadCredentials) {
			t.Fatalf("attempt %d = %v; want ErrBadCredentials", i, err)
		}
	}
	var te *account.ThrottledError
	if _, err := s.Authenticate(ctx, "ann@example.com", "correct horse battery", "203.0.113.5"); !errors.As(err, &te) {
		t.Errorf("Authenticate from the stuffing address = %v; want *ThrottledError", err)
	}
	if _, err := s.Authenticate(ctx, "ann@example.com", "correct horse battery", "198.51.100.7"); err != nil {
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
		_, err := s.Authenticate(ctx, "ann@example.com", "correct horse battery", "192.0.2.1")
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
	for i := range 3 {
		if _, err := s.Authenticate(ctx, long, "whatever password", "192.0.2.1"); !errors.Is(err, account.ErrBadCredentials) {
			t.Fatalf("attempt %d with a 60 KB email: %v; want ErrBadCredentials", i+1, err)
		}
	}
	var te *account.ThrottledError
	if _, err := s.Authenticate(ctx, long, "whatever password", "192.0.2.1"); err != nil && !errors.As(err, &te) && !errors.Is(err, account.ErrBadCredentials) {
		t.Fatalf("fourth attempt: %v", err)
	}
	if _, err := s.Authenticate(ctx, long, "whatever password", "192.0.2.1"); !errors.As(err, &te) {
		t.Errorf("fifth attempt with the same long email: %v; want throttled", err)
	}
}
