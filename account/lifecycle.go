package account

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/latchauth/latch/password"
	"github.com/latchauth/latch/throttle"
)

// How long mailed links and codes work.
const (
	// ResetTTL bounds a password reset link and its code.
	ResetTTL = time.Hour
	// VerifyTTL bounds an email verification link.
	VerifyTTL = 24 * time.Hour
	// ChangeEmailTTL bounds the link that confirms a new address.
	ChangeEmailTTL = 24 * time.Hour
	// UndoEmailTTL bounds the link, sent to the old address, that undoes
	// a change of address.
	UndoEmailTTL = 7 * 24 * time.Hour
)

// ErrNoTokenStore is returned by the methods that mail links when the
// Service has no [TokenStore].
var ErrNoTokenStore = errors.New("account: no token store: set Service.Tokens to mail links")

// ErrSameEmail is returned by [Service.RequestEmailChange] for the address
// the user already has.
var ErrSameEmail = errors.New("account: this is already your email address")

// Mailed is what a mail about an account carries: whom to write to, and the
// secret of its link, to put in a URL.
type Mailed struct {
	// User is the account concerned, as it is now.
	User User
	// To is the address to write to.
	To string
	// Token is the secret of the link. Only its hash is stored.
	Token string
	// Code is the short code to type instead of following the link, for
	// password resets; empty otherwise.
	Code string
	// ExpiresAt is when the link and code stop working.
	ExpiresAt time.Time
}

// tokens returns the token store, or ErrNoTokenStore.
func (s *Service) tokens() (TokenStore, error) {
	if s.Tokens == nil {
		return nil, ErrNoTokenStore
	}
	return s.Tokens, nil
}

// issue stores a new token of purpose for u concerning email, valid for ttl,
// and returns its secret and expiry.
func (s *Service) issue(ctx context.Context, u User, purpose, email string, ttl time.Duration) (Mailed, error) {
	ts, err := s.tokens()
	if err != nil {
		return Mailed{}, err
	}
	secret, hash := NewSecret()
	now := s.Now()
	m := Mailed{User: u, To: email, Token: secret, ExpiresAt: now.Add(ttl)}
	if err := ts.CreateToken(ctx, Token{Purpose: purpose, UserID: u.ID, Hash: hash, Email: email, CreatedAt: now, ExpiresAt: m.ExpiresAt}); err != nil {
		return Mailed{}, fmt.Errorf("account: store %s token: %w", purpose, err)
	}
	return m, nil
}

// PruneTokens deletes expired tokens, when Tokens is a [TokenPruner]; run it
// now and then, as latch.Manager.Prune for sessions.
func (s *Service) PruneTokens(ctx context.Context) (int, error) {
	p, ok := s.Tokens.(TokenPruner)
	if !ok {
		return 0, nil
	}
	n, err := p.DeleteExpiredTokens(ctx, s.Now())
	if err != nil {
		return n, fmt.Errorf("account: prune tokens: %w", err)
	}
	return n, nil
}

// RequestPasswordReset makes a reset link and code for the account with the
// email, replacing any made before. For an address without an account it
// makes them all the same, so that both take the same time, and returns
// [ErrUserNotFound]: tell the person asking the same in both cases.
func (s *Service) RequestPasswordReset(ctx context.Context, email string) (Mailed, error) {
	email = canonicalEmail(email)
	code := NewCode()
	var u User
	var err error
	if len(email) <= MaxEmailLength {
		u, err = s.Store.UserByEmail(ctx, email)
	} else {
		err = ErrUserNotFound
	}
	if errors.Is(err, ErrUserNotFound) {
		NewSecret()
		HashCode(PurposeResetCode, email, code)
		return Mailed{}, ErrUserNotFound
	} else if err != nil {
		return Mailed{}, fmt.Errorf("account: look up email: %w", err)
	}
	ts, err := s.tokens()
	if err != nil {
		return Mailed{}, err
	}
	// Only the latest link works: a mail left in an old inbox opens nothing.
	if _, err := ts.DeleteUserTokens(ctx, u.ID, PurposeReset, PurposeResetCode); err != nil {
		return Mailed{}, fmt.Errorf("account: delete old reset tokens: %w", err)
	}
	m, err := s.issue(ctx, u, PurposeReset, u.Email, ResetTTL)
	if err != nil {
		return Mailed{}, err
	}
	now := s.Now()
	if err := ts.CreateToken(ctx, Token{Purpose: PurposeResetCode, UserID: u.ID, Hash: HashCode(PurposeResetCode, u.Email, code),
		Email: u.Email, CreatedAt: now, ExpiresAt: m.ExpiresAt}); err != nil {
		return Mailed{}, fmt.Errorf("account: store reset code: %w", err)
	}
	m.Code = code
	return m, nil
}

// CheckResetToken reports whether the secret of a reset link can still be
// used, without using it up, so that a page opened from a spent or expired
// link says so before the user types a new password: it returns
// [ErrTokenInvalid] then. When the store cannot look tokens up (it is no
// [TokenLooker]) it returns nil, and [Service.ResetPassword] decides.
func (s *Service) CheckResetToken(ctx context.Context, secret string) error {
	ts, err := s.tokens()
	if err != nil {
		return err
	}
	l, ok := ts.(TokenLooker)
	if !ok {
		return nil
	}
	_, err = l.LookupToken(ctx, PurposeReset, HashSecret(secret), s.Now())
	return err
}

// ResetPassword sets a new password with the secret of a reset link. The
// password is checked first, so a password the rules refuse ([FieldErrors])
// leaves the link usable. A link that cannot be used returns
// [ErrTokenInvalid]. On success every reset link and code of the user is
// void; end the user's sessions (latch.Manager.RevokeAll) and tell them.
func (s *Service) ResetPassword(ctx context.Context, secret, pw string) (User, error) {
	if err := s.CheckPassword(pw); err != nil {
		return User{}, fieldErrors(err)
	}
	ts, err := s.tokens()
	if err != nil {
		return User{}, err
	}
	t, err := ts.ConsumeToken(ctx, PurposeReset, HashSecret(secret), s.Now())
	if err != nil {
		return User{}, err
	}
	return s.finishReset(ctx, t, pw)
}

// ResetPasswordWithCode sets a new password with the short code mailed to
// email, typed on any device. Guesses are throttled per address by
// CodeLimiter, whichever client makes them: [*ThrottledError] while the
// address must wait. Otherwise as [Service.ResetPassword].
func (s *Service) ResetPasswordWithCode(ctx context.Context, email, code, pw string) (User, error) {
	if err := s.CheckPassword(pw); err != nil {
		return User{}, fieldErrors(err)
	}
	ts, err := s.tokens()
	if err != nil {
		return User{}, err
	}
	email = canonicalEmail(email)
	if len(email) > MaxEmailLength {
		email = email[:MaxEmailLength+1]
	}
	key := "reset-code|" + email
	attempt, err := beginCode(ctx, s.CodeLimiter, key)
	if err != nil {
		return User{}, err
	}
	t, err := ts.ConsumeToken(ctx, PurposeResetCode, HashCode(PurposeResetCode, email, code), s.Now())
	if errors.Is(err, ErrTokenInvalid) {
		return User{}, err // the guess stays counted
	} else if err != nil {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), releaseTimeout)
		defer cancel()
		return User{}, errors.Join(err, attempt.Release(ctx))
	}
	if s.CodeLimiter != nil {
		if err := s.CodeLimiter.Succeed(ctx, key); err != nil {
			return User{}, err
		}
	}
	return s.finishReset(ctx, t, pw)
}

// finishReset sets pw for the user of the reset token t.
func (s *Service) finishReset(ctx context.Context, t Token, pw string) (User, error) {
	u, err := s.Store.UserByID(ctx, t.UserID)
	if errors.Is(err, ErrUserNotFound) {
		return User{}, ErrTokenInvalid
	} else if err != nil {
		return User{}, fmt.Errorf("account: look up user: %w", err)
	}
	// A link mailed to an address the user has since left resets nothing.
	if u.Email != t.Email {
		return User{}, ErrTokenInvalid
	}
	if err := s.setPassword(ctx, &u, pw); err != nil {
		return User{}, err
	}
	// Whoever guessed or stole the old password may hold a device cookie
	// that would spare their guesses the account-wide limit.
	if s.Devices != nil {
		if err := s.Devices.Revoke(ctx, strconv.FormatInt(u.ID, 10)); err != nil {
			return User{}, fmt.Errorf("account: revoke device cookies: %w", err)
		}
	}
	// The mail reached the address: it is the user's.
	if u.EmailVerifiedAt.IsZero() {
		now := s.Now()
		if err := s.Store.SetEmailVerified(ctx, u.ID, u.Email, now); err == nil {
			u.EmailVerifiedAt = now
		}
	}
	return u, nil
}

// setPassword hashes pw, stores it for u and voids u's reset links.
func (s *Service) setPassword(ctx context.Context, u *User, pw string) error {
	hash, err := s.Hasher.Hash(ctx, pw)
	if err != nil {
		return fmt.Errorf("account: hash password: %w", err)
	}
	if err := s.Store.SetPasswordHash(ctx, u.ID, hash); err != nil {
		return fmt.Errorf("account: set password: %w", err)
	}
	u.PasswordHash = hash
	if ts, err := s.tokens(); err == nil {
		if _, err := ts.DeleteUserTokens(ctx, u.ID, PurposeReset, PurposeResetCode); err != nil {
			return fmt.Errorf("account: delete reset tokens: %w", err)
		}
	}
	return nil
}

// RequestVerification makes a link that proves the user owns their email,
// replacing any made before.
func (s *Service) RequestVerification(ctx context.Context, u User) (Mailed, error) {
	ts, err := s.tokens()
	if err != nil {
		return Mailed{}, err
	}
	if _, err := ts.DeleteUserTokens(ctx, u.ID, PurposeVerify); err != nil {
		return Mailed{}, fmt.Errorf("account: delete old verification tokens: %w", err)
	}
	return s.issue(ctx, u, PurposeVerify, u.Email, VerifyTTL)
}

// VerifyEmail marks the user of a verification link's secret as owning the
// address it was sent to, and returns the user. A link that cannot be used,
// or was sent to an address the user has since left, returns
// [ErrTokenInvalid].
func (s *Service) VerifyEmail(ctx context.Context, secret string) (User, error) {
	ts, err := s.tokens()
	if err != nil {
		return User{}, err
	}
	t, err := ts.ConsumeToken(ctx, PurposeVerify, HashSecret(secret), s.Now())
	if err != nil {
		return User{}, err
	}
	now := s.Now()
	if err := s.Store.SetEmailVerified(ctx, t.UserID, t.Email, now); errors.Is(err, ErrUserNotFound) {
		return User{}, ErrTokenInvalid
	} else if err != nil {
		return User{}, fmt.Errorf("account: mark email verified: %w", err)
	}
	u, err := s.Store.UserByID(ctx, t.UserID)
	if err != nil {
		return User{}, fmt.Errorf("account: look up user: %w", err)
	}
	return u, nil
}

// checkCurrent checks the password of user id, typed to confirm a change,
// throttled as logins are from client (the same count). It returns the
// user, or [ErrBadCredentials], or [*ThrottledError].
func (s *Service) checkCurrent(ctx context.Context, id int64, pw, client string) (User, error) {
	u, err := s.Store.UserByID(ctx, id)
	if err != nil {
		return User{}, fmt.Errorf("account: look up user: %w", err)
	}
	// The user is logged in: the session stands for a known device, so
	// the check counts on a key of its own and never spends, nor is
	// slowed by, the account-wide budget that guessing elsewhere uses.
	ticket, err := begin(ctx, s.Throttle, throttle.Keys{Account: u.Email, Client: client, Device: "confirm|" + strconv.FormatInt(id, 10)})
	if err != nil {
		return User{}, err
	}
	ok, _, err := s.Hasher.Verify(ctx, u.PasswordHash, pw)
	switch {
	case errors.Is(err, password.ErrTooLong):
		ok = false // no password that long was ever accepted
	case err != nil:
		return User{}, release(ctx, err, ticket)
	}
	if !ok {
		return User{}, ErrBadCredentials // the failure counted in advance stands
	}
	if ticket != nil {
		if err := ticket.Succeed(ctx); err != nil {
			return User{}, fmt.Errorf("account: %w", err)
		}
	}
	return u, nil
}

// ChangePassword replaces the password of user id after checking the
// current one, typed by the user (throttled as logins are, per account and
// client). It returns [ErrBadCredentials] for a wrong current password,
// [*ThrottledError] while it must wait, and [FieldErrors] ("password") when
// the new one breaks the sign-up rules. End the user's other sessions.
func (s *Service) ChangePassword(ctx context.Context, id int64, current, pw, client string) (User, error) {
	if err := s.CheckPassword(pw); err != nil {
		return User{}, fieldErrors(err)
	}
	u, err := s.checkCurrent(ctx, id, current, client)
	if err != nil {
		return User{}, err
	}
	if err := s.setPassword(ctx, &u, pw); err != nil {
		return User{}, err
	}
	return u, nil
}

// ChangeName replaces the display name of user id, checked as at sign-up
// ([FieldErrors] "name").
func (s *Service) ChangeName(ctx context.Context, id int64, name string) (User, error) {
	n, err := NormalizeName(name)
	if err != nil {
		return User{}, fieldErrors(err)
	}
	if err := s.Store.SetName(ctx, id, n); err != nil {
		return User{}, fmt.Errorf("account: set name: %w", err)
	}
	u, err := s.Store.UserByID(ctx, id)
	if err != nil {
		return User{}, fmt.Errorf("account: look up user: %w", err)
	}
	return u, nil
}

// RequestEmailChange makes a link, to mail to the new address, that moves
// user id to it. Nothing changes until the link is followed. Whether
// another account has the address is not said here, which would tell who
// has an account: [Service.ConfirmEmailChange] finds out. It returns
// [FieldErrors] ("email") for an invalid address and [ErrSameEmail] for
// the current one.
func (s *Service) RequestEmailChange(ctx context.Context, id int64, email string) (Mailed, error) {
	e, err := NormalizeEmail(email)
	if err != nil {
		return Mailed{}, fieldErrors(err)
	}
	u, err := s.Store.UserByID(ctx, id)
	if err != nil {
		return Mailed{}, fmt.Errorf("account: look up user: %w", err)
	}
	if e == u.Email {
		return Mailed{}, ErrSameEmail
	}
	ts, err := s.tokens()
	if err != nil {
		return Mailed{}, err
	}
	if _, err := ts.DeleteUserTokens(ctx, id, PurposeChangeEmail); err != nil {
		return Mailed{}, fmt.Errorf("account: delete old change tokens: %w", err)
	}
	return s.issue(ctx, u, PurposeChangeEmail, e, ChangeEmailTTL)
}

// ConfirmEmailChange moves the user of a change link's secret to the new,
// now verified, address, and returns a link to undo it, to mail to the old
// address (Mailed.To), valid [UndoEmailTTL]. It returns [ErrTokenInvalid]
// for a link that cannot be used and [ErrEmailTaken] when another account
// took the address meanwhile.
func (s *Service) ConfirmEmailChange(ctx context.Context, secret string) (undo Mailed, err error) {
	ts, err := s.tokens()
	if err != nil {
		return Mailed{}, err
	}
	t, err := ts.ConsumeToken(ctx, PurposeChangeEmail, HashSecret(secret), s.Now())
	if err != nil {
		return Mailed{}, err
	}
	u, err := s.Store.UserByID(ctx, t.UserID)
	if errors.Is(err, ErrUserNotFound) {
		return Mailed{}, ErrTokenInvalid
	} else if err != nil {
		return Mailed{}, fmt.Errorf("account: look up user: %w", err)
	}
	old := u.Email
	now := s.Now()
	if err := s.Store.SetEmail(ctx, u.ID, t.Email, now); err != nil {
		if errors.Is(err, ErrEmailTaken) {
			return Mailed{}, ErrEmailTaken
		}
		return Mailed{}, fmt.Errorf("account: set email: %w", err)
	}
	// Links sent to the old address must not act on the new one.
	if _, err := ts.DeleteUserTokens(ctx, u.ID, PurposeReset, PurposeResetCode, PurposeVerify); err != nil {
		return Mailed{}, fmt.Errorf("account: delete old tokens: %w", err)
	}
	u.Email, u.EmailVerifiedAt = t.Email, now
	return s.issue(ctx, u, PurposeUndoEmail, old, UndoEmailTTL)
}

// UndoEmailChange puts back the address that a change replaced, with the
// secret of the link mailed to it, and returns the user. The address counts
// as verified: the link reached it. Pending changes are dropped. End the
// user's sessions: whoever made the change may be logged in. It returns
// [ErrTokenInvalid] for a link that cannot be used and [ErrEmailTaken] when
// another account took the old address meanwhile.
func (s *Service) UndoEmailChange(ctx context.Context, secret string) (User, error) {
	ts, err := s.tokens()
	if err != nil {
		return User{}, err
	}
	t, err := ts.ConsumeToken(ctx, PurposeUndoEmail, HashSecret(secret), s.Now())
	if err != nil {
		return User{}, err
	}
	now := s.Now()
	if err := s.Store.SetEmail(ctx, t.UserID, t.Email, now); errors.Is(err, ErrUserNotFound) {
		return User{}, ErrTokenInvalid
	} else if err != nil {
		return User{}, err
	}
	if _, err := ts.DeleteUserTokens(ctx, t.UserID, PurposeChangeEmail, PurposeReset, PurposeResetCode, PurposeVerify); err != nil {
		return User{}, fmt.Errorf("account: delete pending tokens: %w", err)
	}
	u, err := s.Store.UserByID(ctx, t.UserID)
	if err != nil {
		return User{}, fmt.Errorf("account: look up user: %w", err)
	}
	return u, nil
}

// DeleteAccount removes user id and their tokens after checking the
// password, typed by the user (throttled as logins are), and returns the
// user as it was. It returns [ErrBadCredentials] for a wrong password and
// [*ThrottledError] while it must wait. End the user's sessions too.
func (s *Service) DeleteAccount(ctx context.Context, id int64, pw, client string) (User, error) {
	u, err := s.checkCurrent(ctx, id, pw, client)
	if err != nil {
		return User{}, err
	}
	if ts, err := s.tokens(); err == nil {
		if _, err := ts.DeleteUserTokens(ctx, id); err != nil {
			return User{}, fmt.Errorf("account: delete tokens: %w", err)
		}
	}
	if err := s.Store.DeleteUser(ctx, id); err != nil {
		return User{}, fmt.Errorf("account: delete user: %w", err)
	}
	return u, nil
}

// beginCode counts a guess of a mailed code for key with l, or returns a
// [*ThrottledError] while key must wait. A nil l throttles nothing.
func beginCode(ctx context.Context, l *throttle.Limiter, key string) (*throttle.Attempt, error) {
	if l == nil {
		return nil, nil
	}
	a, wait, err := l.Begin(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("account: %w", err)
	}
	if a == nil {
		return nil, &ThrottledError{RetryAfter: wait}
	}
	return a, nil
}
