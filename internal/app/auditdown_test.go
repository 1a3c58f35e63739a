package app_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http/httptest"
	"testing"

	"github.com/latchauth/latch"
	"github.com/latchauth/latch/internal/app"
	"github.com/latchauth/latch/internal/apptest"
	"github.com/latchauth/latch/password"
	"github.com/latchauth/latch/sqlitestore"
)

// auditDown is the app's store with an audit log that refuses every
// event, as a database short of space would.
type auditDown struct{ *sqlitestore.DB }

func (auditDown) AppendAudit(context.Context, latch.AuditEvent) (int64, error) {
	return 0, errors.New("disk full")
}

// TestLoginSurvivesAuditFailure checks that security history that cannot
// be written stops nobody: sign-up, login and logout work, and each lost
// event is logged.
func TestLoginSurvivesAuditFailure(t *testing.T) {
	store := apptest.NewStore(t)
	logs := &apptest.Buffer{}
	a, err := app.New(auditDown{store}, app.Config{
		SecretKey: bytes.Repeat([]byte("k"), 32),
		Hasher:    password.NewHasher(apptest.CheapParams, 4, 64),
		Logger:    slog.New(slog.NewTextHandler(logs, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(srv.Close)
	s := &site{t: t, srv: srv, handler: srv.Config.Handler, store: store, logs: logs}
	b := s.browser()
	if r := b.signup("ann@example.com", "Ann", goodPassword); r.status != 303 {
		t.Fatalf("sign-up = %d; want 303", r.status)
	}
	if r := b.login("ann@example.com", goodPassword, false); r.status != 303 || r.header.Get("Location") != "/profile" {
		t.Fatalf("login = %d to %q; want 303 to /profile", r.status, r.header.Get("Location"))
	}
	if r := b.get("/profile"); r.status != 200 {
		t.Errorf("profile = %d; want 200", r.status)
	}
	mustContain(t, "logs", logs.String(), "audit event dropped", "kind=signup", "kind=login", "disk full")
	if r := b.get("/account/activity"); r.status != 200 {
		t.Errorf("activity with nothing recorded = %d; want 200", r.status)
	}
}
