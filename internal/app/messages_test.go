package app

import (
	"strings"
	"testing"

	"github.com/latchauth/latch/account"
)

// TestValidationMessages checks that every rule of the account package has
// words of its own here, naming the limit where the rule has one.
func TestValidationMessages(t *testing.T) {
	tests := []struct {
		rule *account.ValidationError
		want string
	}{
		{account.ErrEmailMissing, "enter your email address"},
		{&account.ValidationError{Field: "email", Code: "too_long", Limit: 254}, "at most 254 characters"},
		{account.ErrEmailInvalid, "valid email address"},
		{account.ErrNameMissing, "enter your name"},
		{account.ErrNameNotText, "not valid text"},
		{&account.ValidationError{Field: "name", Code: "too_long", Limit: 100}, "at most 100 characters"},
		{account.ErrNameControl, "control characters"},
		{account.ErrPasswordNotText, "not valid text"},
		{&account.ValidationError{Field: "password", Code: "too_short", Limit: 12}, "at least 12 characters"},
		{&account.ValidationError{Field: "password", Code: "too_long", Limit: 1024}, "at most 1024 bytes"},
		{account.ErrPasswordCommon, "too common"},
		{account.ErrEmailNotText, "not valid text"},
		{&account.ValidationError{Field: "email", Code: "hidden_character", Detail: "an invisible character (U+200B)"}, "contains an invisible character (U+200B)"},
		{account.ErrEmailIPAddress, "not at an IP address"},
		{account.ErrPasswordRepeated, "one character repeated"},
		{account.ErrPasswordIsEmail, "your email address"},
		{account.ErrPasswordIsName, "your name"},
	}
	for _, tt := range tests {
		got := ValidationMessage(tt.rule)
		if !strings.Contains(got, tt.want) || strings.HasPrefix(got, "Please check this field") {
			t.Errorf("ValidationMessage(%v) = %q; want words of its own with %q", tt.rule, got, tt.want)
		}
	}
	if got := ValidationMessage(&account.ValidationError{Field: "email", Code: "new_rule"}); got == "" {
		t.Errorf("ValidationMessage(a rule added later) = %q; want a sentence", got)
	}
	if got := ValidationMessage(account.ErrBadCredentials); got != "" {
		t.Errorf("ValidationMessage(ErrBadCredentials) = %q; want \"\"", got)
	}
}
