package latch_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/latchauth/latch"
	"github.com/latchauth/latch/memstore"
)

// downAudit is an audit store whose database does not answer.
type downAudit struct{ memstore.Audit }

func (*downAudit) AppendAudit(context.Context, latch.AuditEvent) (int64, error) {
	return 0, errors.New("connection refused")
}

func TestAuditRecordDropsWhenDown(t *testing.T) {
	var logs bytes.Buffer
	l := &latch.AuditLog{Store: &downAudit{}, Logger: slog.New(slog.NewTextHandler(&logs, nil))}
	l.Record(t.Context(), latch.AuditEvent{UserID: "7", Kind: latch.AuditLogin})
	if got := logs.String(); !strings.Contains(got, "audit event dropped") || !strings.Contains(got, "connection refused") {
		t.Errorf("logs = %q; want the dropped event and its error", got)
	}
}

func TestAuditRecordBoundsFields(t *testing.T) {
	var st memstore.Audit
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	l := &latch.AuditLog{Store: &st, Now: func() time.Time { return now }}
	l.Record(t.Context(), latch.AuditEvent{UserID: "7", Kind: latch.AuditLogin, Device: strings.Repeat("é", 1000)})
	got, more, err := l.Events(t.Context(), "7", 0, 10)
	if err != nil || more || len(got) != 1 {
		t.Fatalf("Events = %d, %v, %v; want 1 event", len(got), more, err)
	}
	if len(got[0].Device) > 128 || !strings.HasPrefix(got[0].Device, "é") || !strings.HasSuffix(got[0].Device, "é") {
		t.Errorf("Device = %d bytes %q; want at most 128, whole characters", len(got[0].Device), got[0].Device)
	}
	if !got[0].At.Equal(now) {
		t.Errorf("At = %v; want %v", got[0].At, now)
	}
}

func TestAuditPruneRetention(t *testing.T) {
	var st memstore.Audit
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	l := &latch.AuditLog{Store: &st, Now: func() time.Time { return now }}
	l.Record(t.Context(), latch.AuditEvent{UserID: "7", Kind: "old", At: now.Add(-181 * 24 * time.Hour)})
	l.Record(t.Context(), latch.AuditEvent{UserID: "7", Kind: "recent", At: now.Add(-179 * 24 * time.Hour)})
	if n, err := l.Prune(t.Context()); n != 1 || err != nil {
		t.Errorf("Prune = %d, %v; want 1, nil (default retention 180 days)", n, err)
	}
	got, _, _ := l.Events(t.Context(), "7", 0, 10)
	if len(got) != 1 || got[0].Kind != "recent" {
		t.Errorf("Events after Prune = %+v; want the recent one", got)
	}
	l.Retention = time.Hour
	if n, _ := l.Prune(t.Context()); n != 1 {
		t.Errorf("Prune with Retention 1h = %d; want 1", n)
	}
}
