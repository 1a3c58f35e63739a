// Package apptest starts the latch app for tests: on a SQLite store in a
// temporary folder, with cheap password hashing (hashing cost is measured
// in benchmarks, not paid by every test) and its log kept for the test.
package apptest

import (
	"bytes"
	"context"
	"log/slog"
	"sync"
	"testing"

	"github.com/latchauth/latch/internal/app"
	"github.com/latchauth/latch/password"
	"github.com/latchauth/latch/sqlitestore"
)

// CheapParams are argon2id parameters that make a hash take microseconds.
var CheapParams = password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// Site is an app built for a test.
type Site struct {
	// App is the app; serve App.Handler().
	App *app.App
	// Store is the app's database.
	Store *sqlitestore.DB
	// Hasher is the app's password hasher, for accounts made behind its back.
	Hasher *password.Hasher
	// Logs holds everything the app logged, at debug level.
	Logs *Buffer
}

// NewStore opens a SQLite store in a temporary folder, closed when the test
// ends.
func NewStore(t testing.TB) *sqlitestore.DB {
	t.Helper()
	store, err := sqlitestore.Open(context.Background(), t.TempDir()+"/latch.db")
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { store.Close() })
	return store
}

// New builds the app on store (a new one when nil) with cfg. Fields of cfg
// left zero get test values: a fixed secret key, a cheap Hasher and a
// debug-level logger into Logs.
func New(t testing.TB, store *sqlitestore.DB, cfg app.Config) *Site {
	t.Helper()
	if store == nil {
		store = NewStore(t)
	}
	s := &Site{Store: store, Logs: &Buffer{}}
	if cfg.SecretKey == nil {
		cfg.SecretKey = bytes.Repeat([]byte("k"), 32)
	}
	if cfg.Hasher == nil {
		cfg.Hasher = password.NewHasher(CheapParams, 4, 64)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(s.Logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	s.Hasher = cfg.Hasher
	a, err := app.New(store, cfg)
	if err != nil {
		t.Fatalf("app.New: %v", err)
	}
	s.App = a
	return s
}

// Buffer is a bytes.Buffer safe for the server's goroutines.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

// String returns everything written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
