package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/latchauth/latch/account"
)

// Tokens checks s against the [account.TokenStore] contract.
func Tokens(t *testing.T, s account.TokenStore) {
	t.Run("Consume", func(t *testing.T) { testConsumeToken(t, s) })
	t.Run("Reused", func(t *testing.T) { testTokenReused(t, s) })
	t.Run("Expired", func(t *testing.T) { testTokenExpired(t, s) })
	t.Run("Forged", func(t *testing.T) { testTokenForged(t, s) })
	t.Run("OtherPurpose", func(t *testing.T) { testTokenOtherPurpose(t, s) })
	t.Run("ConsumeConcurrent", func(t *testing.T) { testConsumeConcurrent(t, s) })
	t.Run("DeleteUserTokens", func(t *testing.T) { testDeleteUserTokens(t, s) })
	if p, ok := s.(account.TokenPruner); ok {
		t.Run("DeleteExpired", func(t *testing.T) { testDeleteExpiredTokens(t, s, p) })
	}
	if l, ok := s.(account.TokenLooker); ok {
		t.Run("Lookup", func(t *testing.T) { testLookupToken(t, s, l) })
	}
}

// testLookupToken checks that a lookup finds a live token without using it
// up, and refuses what ConsumeToken would refuse.
func testLookupToken(t *testing.T, s account.TokenStore, l account.TokenLooker) {
	ctx := t.Context()
	now := baseTime()
	tok := newToken(newTokenUserID(), account.PurposeReset)
	createToken(t, s, tok)
	for range 2 {
		got, err := l.LookupToken(ctx, tok.Purpose, tok.Hash, now)
		if err != nil || !equalToken(got, tok) {
			t.Fatalf("LookupToken(%s) = %s, %v; want the token, nil", formatToken(tok), formatToken(got), err)
		}
	}
	for _, c := range []struct {
		what    string
		purpose string
		hash    []byte
		at      time.Time
	}{
		{"another purpose", account.PurposeVerify, tok.Hash, now},
		{"a forged hash", tok.Purpose, randomHash(), now},
		{"at its expiry", tok.Purpose, tok.Hash, tok.ExpiresAt},
	} {
		if got, err := l.LookupToken(ctx, c.purpose, c.hash, c.at); !errors.Is(err, account.ErrTokenInvalid) {
			t.Errorf("LookupToken with %s = %s, %v; want %v", c.what, formatToken(got), err, account.ErrTokenInvalid)
		}
	}
	if _, err := s.ConsumeToken(ctx, tok.Purpose, tok.Hash, now); err != nil {
		t.Fatalf("ConsumeToken after LookupToken = %v; want nil: a lookup must not use the token up", err)
	}
	if got, err := l.LookupToken(ctx, tok.Purpose, tok.Hash, now); !errors.Is(err, account.ErrTokenInvalid) {
		t.Errorf("LookupToken of a used token = %s, %v; want %v", formatToken(got), err, account.ErrTokenInvalid)
	}
}

// newTokenUserID returns a user ID no other test uses.
func newTokenUserID() int64 {
	return 1<<40 + rand.Int64N(1<<50)
}

// newToken returns an unsaved token for user, valid for an hour from now.
func newToken(user int64, purpose string) account.Token {
	now := baseTime()
	return account.Token{
		Purpose:   purpose,
		UserID:    user,
		Hash:      randomHash(),
		Email:     randomID() + "@storetest.example",
		CreatedAt: now,
		ExpiresAt: now.Add(time.Hour),
	}
}

// createToken stores tok, stopping the subtest if it cannot, and registers
// a cleanup that removes the user's tokens.
func createToken(t *testing.T, s account.TokenStore, tok account.Token) {
	t.Helper()
	if err := s.CreateToken(t.Context(), tok); err != nil {
		t.Fatalf("CreateToken(%s) = %v; want nil", formatToken(tok), err)
	}
	t.Cleanup(func() { s.DeleteUserTokens(context.Background(), tok.UserID) })
}

func equalToken(a, b account.Token) bool {
	return a.Purpose == b.Purpose && a.UserID == b.UserID && bytes.Equal(a.Hash, b.Hash) &&
		a.Email == b.Email && sameTime(a.CreatedAt, b.CreatedAt) && sameTime(a.ExpiresAt, b.ExpiresAt)
}

func formatToken(tok account.Token) string {
	return fmt.Sprintf("{Purpose:%q UserID:%d Hash:%x Email:%q CreatedAt:%s ExpiresAt:%s}",
		tok.Purpose, tok.UserID, tok.Hash, tok.Email, formatTime(tok.CreatedAt), formatTime(tok.ExpiresAt))
}

// wantInvalid checks that consuming hash for purpose at now fails with
// account.ErrTokenInvalid.
func wantInvalid(t *testing.T, s account.TokenStore, what, purpose string, hash []byte, now time.Time) {
	t.Helper()
	got, err := s.ConsumeToken(t.Context(), purpose, hash, now)
	if !errors.Is(err, account.ErrTokenInvalid) {
		t.Errorf("ConsumeToken(%s) = %s, %v; want %v", what, formatToken(got), err, account.ErrTokenInvalid)
	}
}

func testConsumeToken(t *testing.T, s account.TokenStore) {
	tok := newToken(newTokenUserID(), account.PurposeReset)
	createToken(t, s, tok)
	got, err := s.ConsumeToken(t.Context(), tok.Purpose, tok.Hash, baseTime())
	if err != nil || !equalToken(got, tok) {
		t.Errorf("ConsumeToken(%x) = %s, %v; want %s, nil", tok.Hash, formatToken(got), err, formatToken(tok))
	}
}

func testTokenReused(t *testing.T, s account.TokenStore) {
	tok := newToken(newTokenUserID(), account.PurposeVerify)
	createToken(t, s, tok)
	if _, err := s.ConsumeToken(t.Context(), tok.Purpose, tok.Hash, baseTime()); err != nil {
		t.Fatalf("ConsumeToken(%x) = %v; want nil", tok.Hash, err)
	}
	wantInvalid(t, s, "used once already", tok.Purpose, tok.Hash, baseTime())
}

func testTokenExpired(t *testing.T, s account.TokenStore) {
	tok := newToken(newTokenUserID(), account.PurposeReset)
	createToken(t, s, tok)
	wantInvalid(t, s, "at its expiry", tok.Purpose, tok.Hash, tok.ExpiresAt)
	// Refused once expired, it is gone, even for a clock set back.
	wantInvalid(t, s, "expired, then asked again earlier", tok.Purpose, tok.Hash, tok.CreatedAt)
}

func testTokenForged(t *testing.T, s account.TokenStore) {
	tok := newToken(newTokenUserID(), account.PurposeReset)
	createToken(t, s, tok)
	forged := bytes.Clone(tok.Hash)
	forged[0] ^= 1
	wantInvalid(t, s, "forged hash", tok.Purpose, forged, baseTime())
	wantInvalid(t, s, "empty hash", tok.Purpose, nil, baseTime())
	// The real one still works.
	if _, err := s.ConsumeToken(t.Context(), tok.Purpose, tok.Hash, baseTime()); err != nil {
		t.Errorf("ConsumeToken(real %x) after forgeries = %v; want nil", tok.Hash, err)
	}
}

func testTokenOtherPurpose(t *testing.T, s account.TokenStore) {
	tok := newToken(newTokenUserID(), account.PurposeVerify)
	createToken(t, s, tok)
	wantInvalid(t, s, "verify token as reset", account.PurposeReset, tok.Hash, baseTime())
	if _, err := s.ConsumeToken(t.Context(), tok.Purpose, tok.Hash, baseTime()); err != nil {
		t.Errorf("ConsumeToken(%x) for its own purpose after another = %v; want nil", tok.Hash, err)
	}
}

func testConsumeConcurrent(t *testing.T, s account.TokenStore) {
	tok := newToken(newTokenUserID(), account.PurposeReset)
	createToken(t, s, tok)
	const n = 16
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		won  int
		errs []error
	)
	start := make(chan struct{})
	for range n {
		wg.Go(func() {
			<-start
			_, err := s.ConsumeToken(context.Background(), tok.Purpose, tok.Hash, baseTime())
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				won++
			case !errors.Is(err, account.ErrTokenInvalid):
				errs = append(errs, err)
			}
		})
	}
	close(start)
	wg.Wait()
	if won != 1 || len(errs) > 0 {
		t.Errorf("%d concurrent ConsumeToken: %d succeeded, other errors %v; want exactly 1, the rest %v", n, won, errs, account.ErrTokenInvalid)
	}
}

func testDeleteUserTokens(t *testing.T, s account.TokenStore) {
	user, other := newTokenUserID(), newTokenUserID()
	reset, verify := newToken(user, account.PurposeReset), newToken(user, account.PurposeVerify)
	code := newToken(user, account.PurposeResetCode)
	keep := newToken(other, account.PurposeReset)
	for _, tok := range []account.Token{reset, verify, code, keep} {
		createToken(t, s, tok)
	}
	n, err := s.DeleteUserTokens(t.Context(), user, account.PurposeReset, account.PurposeResetCode)
	if err != nil || n != 2 {
		t.Errorf("DeleteUserTokens(%d, reset, reset-code) = %d, %v; want 2, nil", user, n, err)
	}
	wantInvalid(t, s, "deleted reset", reset.Purpose, reset.Hash, baseTime())
	wantInvalid(t, s, "deleted code", code.Purpose, code.Hash, baseTime())
	n, err = s.DeleteUserTokens(t.Context(), user)
	if err != nil || n != 1 {
		t.Errorf("DeleteUserTokens(%d) = %d, %v; want 1, nil", user, n, err)
	}
	wantInvalid(t, s, "deleted verify", verify.Purpose, verify.Hash, baseTime())
	if _, err := s.ConsumeToken(t.Context(), keep.Purpose, keep.Hash, baseTime()); err != nil {
		t.Errorf("ConsumeToken(another user's token) after DeleteUserTokens = %v; want nil", err)
	}
}

func testDeleteExpiredTokens(t *testing.T, s account.TokenStore, p account.TokenPruner) {
	user := newTokenUserID()
	live, expired := newToken(user, account.PurposeReset), newToken(user, account.PurposeVerify)
	expired.ExpiresAt = expired.CreatedAt.Add(-time.Second)
	createToken(t, s, live)
	createToken(t, s, expired)
	// Other tests' tokens may expire too: at least ours.
	if n, err := p.DeleteExpiredTokens(t.Context(), baseTime()); err != nil || n < 1 {
		t.Errorf("DeleteExpiredTokens = %d, %v; want at least 1, nil", n, err)
	}
	if n, err := s.DeleteUserTokens(t.Context(), user, account.PurposeVerify); err != nil || n != 0 {
		t.Errorf("after DeleteExpiredTokens, DeleteUserTokens(expired's purpose) = %d, %v; want 0: it was pruned", n, err)
	}
	if _, err := s.ConsumeToken(t.Context(), live.Purpose, live.Hash, baseTime()); err != nil {
		t.Errorf("ConsumeToken(live) after DeleteExpiredTokens = %v; want nil", err)
	}
}
