package app

import (
	"errors"
	"fmt"
	"strings"

	"github.com/latchauth/latch/account"
)

// The sentences the app's forms and flashes show people are here, so that
// they read as one voice and can be reviewed, or translated, in one place.
// The error pages' words are beside their status codes in errors.go, the
// mails' in their templates.

// Messages the tutorial shows, word for word.
const (
	msgEmailExists    = "Email address already exists"
	msgBadLogin       = "Please check your login details and try again."
	msgSignedUp       = "Your account has been created. Please log in."
	msgLoggedOut      = "You have been logged out."
	msgTooManyTries   = "Too many failed login attempts. Please try again in %s."
	msgTooManySignUps = "Too many sign-up attempts from your network. Please try again in %s."
)

// Messages of the account lifecycle.
const (
	msgCheckInbox      = "If an account uses %s, we have sent it a link to choose a new password, and a code to type below instead. Check your inbox (and spam folder)."
	msgSignUpInbox     = "Check your inbox: we have sent a link to %s. Open it to confirm your address, then log in."
	msgPasswordReset   = "Your password has been changed and every device logged out. Please log in."
	msgTokenInvalid    = "This link or code is invalid or has expired. Please ask for a new one."
	msgTooManyMails    = "Too many emails were asked for. Please try again in %s."
	msgVerified        = "Thank you: your email address is confirmed."
	msgVerifySent      = "We have sent a new link to %s."
	msgNotMatching     = "The two passwords differ. Please type the same password twice."
	msgWrongPassword   = "That is not your current password."
	msgNameChanged     = "Your name has been changed."
	msgPasswordChanged = "Your password has been changed, and your other devices logged out."
	msgEmailSent       = "We have sent a link to %s. Your address changes when you open it."
	msgEmailChanged    = "Your email address is now %s."
	msgEmailTaken      = "Another account uses that address now, so your address was not changed."
	msgEmailRestored   = "Your previous email address is back, and every device has been logged out. If someone else changed it, choose a new password."
	msgDeleted         = "Your account has been deleted. Goodbye."
	msgSameEmail       = "This is already your email address."
	msgCodeMissing     = "Please type the code from the mail, or open its link."
)

// msgBadConfirm answers a wrong password on the confirmation page. The user
// is known there, so the message can name the password alone.
const msgBadConfirm = "That password is not right. Please try again."

// Messages of the sessions page.
const (
	msgDeviceLoggedOut = "That device has been logged out."
	msgSessionEnded    = "That session had already ended."
	msgOthersLoggedOut = "You have been logged out everywhere else."
	msgAllDevicesOut   = "Every device was logged out."
	msgOtherDevicesOut = "Your other devices were logged out."
)

// validationMessage is what a person is told for a broken rule of the
// account package, in words they can act on.
func validationMessage(e *account.ValidationError) string {
	switch *e {
	case *account.ErrEmailMissing:
		return "Please enter your email address."
	case *account.ErrEmailInvalid:
		return "Please enter a valid email address, like name@example.com."
	case *account.ErrEmailNotText:
		return "Your email address contains bytes that are not valid text; please type it again."
	case *account.ErrEmailIPAddress:
		return "Please use an address at a domain name, like name@example.com, not at an IP address."
	case *account.ErrPasswordRepeated:
		return "A password of one character repeated is easy to guess; please choose another."
	case *account.ErrPasswordIsEmail:
		return "Please don't use your email address, or its part before the @, as your password: it is the first thing anyone would try."
	case *account.ErrPasswordIsName:
		return "Please don't use your name as your password: it is the first thing anyone would try."
	case *account.ErrNameMissing:
		return "Please enter your name."
	case *account.ErrNameNotText:
		return "Your name contains characters that are not valid text."
	case *account.ErrNameControl:
		return "Your name contains control characters; please use letters, spaces and punctuation."
	case *account.ErrPasswordNotText:
		return "Your password contains bytes that are not valid text."
	case *account.ErrPasswordCommon:
		return "This password is too common and easy to guess; please choose another."
	}
	switch {
	case e.Is(account.ErrEmailHiddenCharacter):
		return "Your email address contains " + e.Detail + ", often pasted by accident and never part of an address; please type it again."
	case e.Is(account.ErrEmailTooLong):
		return fmt.Sprintf("Email addresses are at most %d characters long.", e.Limit)
	case e.Is(account.ErrNameTooLong):
		return fmt.Sprintf("Names are at most %d characters long.", e.Limit)
	case e.Is(account.ErrPasswordTooShort):
		return fmt.Sprintf("Please choose a password of at least %d characters.", e.Limit)
	case e.Is(account.ErrPasswordTooLong):
		return fmt.Sprintf("Passwords are at most %d bytes long.", e.Limit)
	}
	// A rule this file does not know yet still gets a sentence, and its
	// field the focus.
	return "Please check this field: " + strings.ReplaceAll(e.Code, "_", " ") + "."
}

// ValidationMessage is what a person is told for err when it is, or holds,
// one broken rule of the account package, such as an error of
// account.NormalizeEmail; "" otherwise. The command line says the same as
// the pages.
func ValidationMessage(err error) string {
	var e *account.ValidationError
	if !errors.As(err, &e) {
		return ""
	}
	return validationMessage(e)
}

// fieldMessages maps form fields to the message shown beside them.
type fieldMessages map[string]string

// messagesOf returns the messages for the broken rules of fe.
func messagesOf(fe account.FieldErrors) fieldMessages {
	m := make(fieldMessages, len(fe))
	for _, e := range fe {
		m[e.Field] = validationMessage(e)
	}
	return m
}

// emailMessages returns the message for an error of account.NormalizeEmail,
// beside the email field.
func emailMessages(err error) fieldMessages {
	var e *account.ValidationError
	if errors.As(err, &e) {
		return fieldMessages{"email": validationMessage(e)}
	}
	return fieldMessages{"email": validationMessage(account.ErrEmailInvalid)}
}
