package account

import (
	"fmt"
	"strings"
)

// A ValidationError is a rule of sign-up or of an account change that the
// input broke. Its Field and Code name the rule; the words shown to a
// person are the application's to choose, from Code and Limit. Compare with
// errors.Is against the ErrEmail..., ErrName... and ErrPassword... values,
// which match any error of the same Field and Code whatever its Limit.
type ValidationError struct {
	// Field is the input at fault: "email", "name" or "password".
	Field string
	// Code says which rule it broke, such as "too_long".
	Code string
	// Limit is the bound crossed, for rules that have one: a length in
	// bytes or characters, as the rule's value documents; 0 otherwise.
	Limit int
	// Detail says more, in words for anyone, for rules that document it,
	// such as the character [ErrEmailHiddenCharacter] found; "" otherwise.
	Detail string
}

// Error describes the broken rule in English, for logs and programs.
func (e *ValidationError) Error() string {
	what := strings.ReplaceAll(e.Code, "_", " ")
	if e.Detail != "" {
		what += ": " + e.Detail
	}
	if e.Limit > 0 {
		return fmt.Sprintf("account: %s %s (limit %d)", e.Field, what, e.Limit)
	}
	return fmt.Sprintf("account: %s %s", e.Field, what)
}

// Is reports whether target is a *ValidationError of the same Field and
// Code, so that errors.Is(err, ErrPasswordTooShort) holds whatever the
// minimum in effect.
func (e *ValidationError) Is(target error) bool {
	t, ok := target.(*ValidationError)
	return ok && t.Field == e.Field && t.Code == e.Code
}

// The rules of [NormalizeEmail], [NormalizeName], [Service.CheckPassword]
// and [Service.CheckNewPassword].
var (
	// ErrEmailMissing: the email address is empty.
	ErrEmailMissing = &ValidationError{Field: "email", Code: "missing"}
	// ErrEmailNotText: the address is not valid UTF-8.
	ErrEmailNotText = &ValidationError{Field: "email", Code: "not_text"}
	// ErrEmailHiddenCharacter: the address holds a character that cannot
	// be seen or changes how the text around it is shown (control,
	// invisible, direction-changing, special space), often pasted by
	// accident and able to make one address pass for another. Detail
	// names it, as in "an invisible character (U+200B)".
	ErrEmailHiddenCharacter = &ValidationError{Field: "email", Code: "hidden_character"}
	// ErrEmailIPAddress: the address is at an IP address rather than a
	// domain name.
	ErrEmailIPAddress = &ValidationError{Field: "email", Code: "ip_address"}
	// ErrEmailTooLong: the address is longer than Limit bytes
	// ([MaxEmailLength]).
	ErrEmailTooLong = &ValidationError{Field: "email", Code: "too_long"}
	// ErrEmailInvalid: not a plain address at a domain with a dot, such
	// as name@example.com (a display name or comments are refused too).
	ErrEmailInvalid = &ValidationError{Field: "email", Code: "invalid"}

	// ErrNameMissing: the name is empty or blank.
	ErrNameMissing = &ValidationError{Field: "name", Code: "missing"}
	// ErrNameNotText: the name is not valid UTF-8.
	ErrNameNotText = &ValidationError{Field: "name", Code: "not_text"}
	// ErrNameTooLong: the name is longer than Limit characters
	// ([MaxNameLength]).
	ErrNameTooLong = &ValidationError{Field: "name", Code: "too_long"}
	// ErrNameControl: the name holds control characters.
	ErrNameControl = &ValidationError{Field: "name", Code: "control_characters"}

	// ErrPasswordNotText: the password is not valid UTF-8.
	ErrPasswordNotText = &ValidationError{Field: "password", Code: "not_text"}
	// ErrPasswordTooShort: the password is shorter than Limit characters
	// ([Service.MinPasswordLength]).
	ErrPasswordTooShort = &ValidationError{Field: "password", Code: "too_short"}
	// ErrPasswordTooLong: the password is longer than Limit bytes
	// ([password.MaxLength]).
	ErrPasswordTooLong = &ValidationError{Field: "password", Code: "too_long"}
	// ErrPasswordRepeated: the password is one character repeated.
	ErrPasswordRepeated = &ValidationError{Field: "password", Code: "repeated_character"}
	// ErrPasswordIsEmail: the password is the account's email, or its
	// part before the @.
	ErrPasswordIsEmail = &ValidationError{Field: "password", Code: "is_email"}
	// ErrPasswordIsName: the password is the account's name.
	ErrPasswordIsName = &ValidationError{Field: "password", Code: "is_name"}
	// ErrPasswordCommon: the password is on the list of common ones.
	ErrPasswordCommon = &ValidationError{Field: "password", Code: "common"}
)

// limited returns a copy of rule with its Limit set.
func limited(rule *ValidationError, limit int) *ValidationError {
	e := *rule
	e.Limit = limit
	return &e
}

// FieldErrors are the rules an input broke, one per field at most, in the
// order email, name, password. It is returned by [Service.SignUp] and the
// account changes; errors.Is finds each of them in it.
type FieldErrors []*ValidationError

// Error lists the broken rules.
func (e FieldErrors) Error() string {
	var b strings.Builder
	b.WriteString("account: invalid input:")
	for _, v := range e {
		fmt.Fprintf(&b, " %s %s;", v.Field, strings.ReplaceAll(v.Code, "_", " "))
	}
	return strings.TrimSuffix(b.String(), ";")
}

// Unwrap returns the broken rules, for errors.Is and errors.As.
func (e FieldErrors) Unwrap() []error {
	errs := make([]error, len(e))
	for i, v := range e {
		errs[i] = v
	}
	return errs
}

// fieldErrors returns the ValidationErrors among errs as FieldErrors, nil
// when all of errs are nil, or the first error of another kind as it is.
func fieldErrors(errs ...error) error {
	var fe FieldErrors
	for _, err := range errs {
		v, ok := err.(*ValidationError)
		switch {
		case ok:
			fe = append(fe, v)
		case err != nil:
			return err
		}
	}
	if len(fe) == 0 {
		return nil
	}
	return fe
}
