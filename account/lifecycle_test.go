package account_test

import (
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/latchauth/latch/account"
)

// signUp creates an account with the password "correct horse battery".
func signUp(t *testing.T, s *account.Service, email string) account.User {
	t.Helper()
	u, err := s.SignUp(t.Context(), email, "Ann", "correct horse battery")
	if err != nil {
		t.Fatalf("SignUp(%q) = %v", email, err)
	}
	return u
}

func TestResetPassword(t *testing.T) {
	s, _ := newService(t)
	u := signUp(t, s, "ann@example.com")
	ctx := t.Context()
	device := s.Devices.Issue(strconv.FormatInt(u.ID, 10))

	if _, err := s.RequestPasswordReset(ctx, "nobody@example.com"); !errors.Is(err, account.ErrUserNotFound) {
		t.Errorf("RequestPasswordReset(unknown) = %v; want %v", err, account.ErrUserNotFound)
	}
	m, err := s.RequestPasswordReset(ctx, " ANN@example.com ")
	if err != nil || m.Token == "" || len(m.Code) != account.CodeLength || m.To != u.Email {
		t.Fatalf("RequestPasswordReset = %+v, %v; want a token and code for %s", m, err, u.Email)
	}
	// A password the rules refuse leaves the link usable.
	var fe account.FieldErrors
	if _, err := s.ResetPassword(ctx, m.Token, "short"); !errors.As(err, &fe) {
		t.Errorf("ResetPassword(weak) = %v; want FieldErrors", err)
	}
	if _, err := s.ResetPassword(ctx, m.Token+"x", "a new long passphrase"); !errors.Is(err, account.ErrTokenInvalid) {
		t.Errorf("ResetPassword(forged) = %v; want %v", err, account.ErrTokenInvalid)
	}
	if _, err := s.ResetPassword(ctx, m.Token, "a new long passphrase"); err != nil {
		t.Fatalf("ResetPassword = %v; want nil", err)
	}
	if _, err := s.ResetPassword(ctx, m.Token, "another long passphrase"); !errors.Is(err, account.ErrTokenInvalid) {
		t.Errorf("ResetPassword(used) = %v; want %v", err, account.ErrTokenInvalid)
	}
	// Whoever held the old password may hold a device cookie too.
	if id, err := s.Devices.Verify(ctx, device, strconv.FormatInt(u.ID, 10)); id != "" || err != nil {
		t.Errorf("device cookie issued before the reset: Verify = %q, %v; want \"\", nil (revoked)", id, err)
	}
	// The code went with the link.
	if _, err := s.ResetPasswordWithCode(ctx, u.Email, m.Code, "another long passphrase"); !errors.Is(err, account.ErrTokenInvalid) {
		t.Errorf("ResetPasswordWithCode after the link = %v; want %v", err, account.ErrTokenInvalid)
	}
	if _, err := s.Authenticate(ctx, account.Login{Email: u.Email, Password: "a new long passphrase", Client: "192.0.2.1"}); err != nil {
		t.Errorf("Authenticate(new password) = %v; want nil", err)
	}
	got, _ := s.Store.UserByID(ctx, u.ID)
	if got.EmailVerifiedAt.IsZero() {
		t.Errorf("after a reset, EmailVerifiedAt is zero; want set: the mail reached the address")
	}
}

func TestResetPasswordExpired(t *testing.T) {
	s, _ := newService(t)
	u := signUp(t, s, "ann@example.com")
	m, err := s.RequestPasswordReset(t.Context(), u.Email)
	if err != nil {
		t.Fatal(err)
	}
	s.Now = func() time.Time { return time.Now().Add(account.ResetTTL + time.Second) }
	if _, err := s.ResetPassword(t.Context(), m.Token, "a new long passphrase"); !errors.Is(err, account.ErrTokenInvalid) {
		t.Errorf("ResetPassword(expired) = %v; want %v", err, account.ErrTokenInvalid)
	}
}

func TestResetPasswordWithCode(t *testing.T) {
	s, _ := newService(t)
	u := signUp(t, s, "ann@example.com")
	other := signUp(t, s, "bob@example.com")
	ctx := t.Context()
	m, err := s.RequestPasswordReset(ctx, u.Email)
	if err != nil {
		t.Fatal(err)
	}
	// The code is tied to its address.
	if _, err := s.ResetPasswordWithCode(ctx, other.Email, m.Code, "a new long passphrase"); !errors.Is(err, account.ErrTokenInvalid) {
		t.Errorf("ResetPasswordWithCode(another address) = %v; want %v", err, account.ErrTokenInvalid)
	}
	// Typed in lower case with a dash, it still works.
	typed := m.Code[:4] + "-" + m.Code[4:]
	if _, err := s.ResetPasswordWithCode(ctx, "Ann@Example.com", typed, "a new long passphrase"); err != nil {
		t.Fatalf("ResetPasswordWithCode(%q) = %v; want nil", typed, err)
	}
	// Guessing is throttled per address, whatever the client.
	m, _ = s.RequestPasswordReset(ctx, u.Email)
	var te *account.ThrottledError
	for i := range 20 {
		_, err = s.ResetPasswordWithCode(ctx, u.Email, "AAAAAAAA", "a new long passphrase")
		if errors.As(err, &te) {
			break
		}
		if !errors.Is(err, account.ErrTokenInvalid) {
			t.Fatalf("guess %d = %v; want %v", i, err, account.ErrTokenInvalid)
		}
	}
	if te == nil {
		t.Fatalf("20 wrong codes: never throttled")
	}
	if _, err := s.ResetPasswordWithCode(ctx, u.Email, m.Code, "a new long passphrase"); !errors.As(err, &te) {
		t.Errorf("right code while throttled = %v; want *ThrottledError", err)
	}
	// The link is not throttled with it.
	if _, err := s.ResetPassword(ctx, m.Token, "yet another passphrase"); err != nil {
		t.Errorf("ResetPassword(link) while the code is throttled = %v; want nil", err)
	}
}

func TestVerifyEmail(t *testing.T) {
	s, _ := newService(t)
	u := signUp(t, s, "ann@example.com")
	m, err := s.RequestVerification(t.Context(), u)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.VerifyEmail(t.Context(), m.Token)
	if err != nil || got.EmailVerifiedAt.IsZero() {
		t.Fatalf("VerifyEmail = %+v, %v; want verified", got, err)
	}
	if _, err := s.VerifyEmail(t.Context(), m.Token); !errors.Is(err, account.ErrTokenInvalid) {
		t.Errorf("VerifyEmail(used) = %v; want %v", err, account.ErrTokenInvalid)
	}
}

func TestChangeEmailAndUndo(t *testing.T) {
	s, _ := newService(t)
	u := signUp(t, s, "ann@example.com")
	ctx := t.Context()
	if _, err := s.RequestEmailChange(ctx, u.ID, "ANN@example.com"); !errors.Is(err, account.ErrSameEmail) {
		t.Errorf("RequestEmailChange(same) = %v; want %v", err, account.ErrSameEmail)
	}
	var fe account.FieldErrors
	if _, err := s.RequestEmailChange(ctx, u.ID, "not an address"); !errors.As(err, &fe) {
		t.Errorf("RequestEmailChange(invalid) = %v; want FieldErrors", err)
	}
	m, err := s.RequestEmailChange(ctx, u.ID, "ann@new.example")
	if err != nil || m.To != "ann@new.example" {
		t.Fatalf("RequestEmailChange = %+v, %v", m, err)
	}
	if got, _ := s.Store.UserByID(ctx, u.ID); got.Email != u.Email {
		t.Errorf("before confirmation, email = %q; want %q", got.Email, u.Email)
	}
	undo, err := s.ConfirmEmailChange(ctx, m.Token)
	if err != nil || undo.To != "ann@example.com" {
		t.Fatalf("ConfirmEmailChange = %+v, %v; want an undo link for the old address", undo, err)
	}
	if got, _ := s.Store.UserByID(ctx, u.ID); got.Email != "ann@new.example" || got.EmailVerifiedAt.IsZero() {
		t.Errorf("after confirmation, user = %+v; want the new address, verified", got)
	}
	if _, err := s.ConfirmEmailChange(ctx, m.Token); !errors.Is(err, account.ErrTokenInvalid) {
		t.Errorf("ConfirmEmailChange(used) = %v; want %v", err, account.ErrTokenInvalid)
	}
	got, err := s.UndoEmailChange(ctx, undo.Token)
	if err != nil || got.Email != "ann@example.com" {
		t.Errorf("UndoEmailChange = %+v, %v; want the old address back", got, err)
	}
	// Taken meanwhile: the confirmation says so.
	m, _ = s.RequestEmailChange(ctx, u.ID, "bob@example.com")
	signUp(t, s, "bob@example.com")
	if _, err := s.ConfirmEmailChange(ctx, m.Token); !errors.Is(err, account.ErrEmailTaken) {
		t.Errorf("ConfirmEmailChange(taken meanwhile) = %v; want %v", err, account.ErrEmailTaken)
	}
}

func TestChangePasswordAndDelete(t *testing.T) {
	s, _ := newService(t)
	u := signUp(t, s, "ann@example.com")
	ctx := t.Context()
	if _, err := s.ChangePassword(ctx, u.ID, "wrong password", "a new long passphrase", "192.0.2.1"); !errors.Is(err, account.ErrBadCredentials) {
		t.Errorf("ChangePassword(wrong current) = %v; want %v", err, account.ErrBadCredentials)
	}
	if _, err := s.ChangePassword(ctx, u.ID, "correct horse battery", "password", "192.0.2.1"); !errors.As(err, new(account.FieldErrors)) {
		t.Errorf("ChangePassword(common new) = %v; want FieldErrors", err)
	}
	if _, err := s.ChangePassword(ctx, u.ID, "correct horse battery", "a new long passphrase", "192.0.2.1"); err != nil {
		t.Errorf("ChangePassword = %v; want nil", err)
	}
	if _, err := s.ChangeName(ctx, u.ID, " "); !errors.As(err, new(account.FieldErrors)) {
		t.Errorf("ChangeName(blank) = %v; want FieldErrors", err)
	}
	if got, err := s.ChangeName(ctx, u.ID, " Ada "); err != nil || got.Name != "Ada" {
		t.Errorf("ChangeName = %+v, %v; want Ada", got, err)
	}
	if _, err := s.DeleteAccount(ctx, u.ID, "correct horse battery", "192.0.2.1"); !errors.Is(err, account.ErrBadCredentials) {
		t.Errorf("DeleteAccount(old password) = %v; want %v", err, account.ErrBadCredentials)
	}
	if _, err := s.DeleteAccount(ctx, u.ID, "a new long passphrase", "192.0.2.1"); err != nil {
		t.Errorf("DeleteAccount = %v; want nil", err)
	}
	if _, err := s.Store.UserByID(ctx, u.ID); !errors.Is(err, account.ErrUserNotFound) {
		t.Errorf("after DeleteAccount, UserByID = %v; want %v", err, account.ErrUserNotFound)
	}
}
