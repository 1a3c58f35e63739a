package memstore

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/latchauth/latch/account"
)

var (
	_ account.TokenStore  = (*Tokens)(nil)
	_ account.TokenPruner = (*Tokens)(nil)
	_ account.TokenLooker = (*Tokens)(nil)
)

// Tokens is an [account.TokenStore] in memory. Its zero value is an empty
// store ready to use; a Tokens must not be copied after first use. Tokens
// are lost when the process stops, so links already mailed stop working.
type Tokens struct {
	mu     sync.Mutex
	byHash map[string]account.Token
}

// CreateToken implements [account.TokenStore].
func (st *Tokens) CreateToken(_ context.Context, t account.Token) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.byHash == nil {
		st.byHash = make(map[string]account.Token)
	}
	if _, ok := st.byHash[string(t.Hash)]; ok {
		return fmt.Errorf("memstore: create token: hash already used")
	}
	if t.CreatedAt.IsZero() {
		t.CreatedAt = time.Now()
	}
	t.Hash = bytes.Clone(t.Hash)
	st.byHash[string(t.Hash)] = t
	return nil
}

// ConsumeToken implements [account.TokenStore].
func (st *Tokens) ConsumeToken(_ context.Context, purpose string, hash []byte, now time.Time) (account.Token, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	t, ok := st.byHash[string(hash)]
	if !ok || t.Purpose != purpose {
		return account.Token{}, account.ErrTokenInvalid
	}
	delete(st.byHash, string(hash))
	if !t.ExpiresAt.After(now) {
		return account.Token{}, account.ErrTokenInvalid
	}
	t.Hash = bytes.Clone(t.Hash)
	return t, nil
}

// LookupToken implements [account.TokenLooker].
func (st *Tokens) LookupToken(_ context.Context, purpose string, hash []byte, now time.Time) (account.Token, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	t, ok := st.byHash[string(hash)]
	if !ok || t.Purpose != purpose || !t.ExpiresAt.After(now) {
		return account.Token{}, account.ErrTokenInvalid
	}
	t.Hash = bytes.Clone(t.Hash)
	return t, nil
}

// DeleteUserTokens implements [account.TokenStore]. It looks at every
// token, holding the store's lock meanwhile.
func (st *Tokens) DeleteUserTokens(_ context.Context, userID int64, purposes ...string) (int, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	n := 0
	for h, t := range st.byHash {
		if t.UserID != userID {
			continue
		}
		match := len(purposes) == 0
		for _, p := range purposes {
			match = match || p == t.Purpose
		}
		if match {
			delete(st.byHash, h)
			n++
		}
	}
	return n, nil
}

// DeleteExpiredTokens implements [account.TokenPruner]. It looks at every
// token, holding the store's lock meanwhile.
func (st *Tokens) DeleteExpiredTokens(_ context.Context, now time.Time) (int, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	n := 0
	for h, t := range st.byHash {
		if !t.ExpiresAt.After(now) {
			delete(st.byHash, h)
			n++
		}
	}
	return n, nil
}
