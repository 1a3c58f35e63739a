package app_test

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchauth/latch/internal/app"
	"github.com/latchauth/latch/internal/apptest"
)

// recordingHandler keeps the records logged through it.
type recordingHandler struct {
	mu   sync.Mutex
	recs []slog.Record
}

func (h *recordingHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *recordingHandler) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *recordingHandler) WithGroup(string) slog.Handler            { return h }

func (h *recordingHandler) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.recs = append(h.recs, r.Clone())
	return nil
}

// TestRequestLine checks the record logged for each request: its message,
// level, source, and attributes in order, as Logger.LogAttrs logged it.
func TestRequestLine(t *testing.T) {
	rec := &recordingHandler{}
	site := apptest.New(t, nil, app.Config{Logger: slog.New(rec)})
	h := site.App.Handler()
	// serve serves GET path and returns its request line, logged last.
	serve := func(path string) (r slog.Record, start, end time.Time) {
		t.Helper()
		rec.recs = nil
		req := httptest.NewRequest("GET", path, nil)
		req.RemoteAddr = "198.51.100.7:4321"
		start = time.Now()
		h.ServeHTTP(httptest.NewRecorder(), req)
		end = time.Now()
		if len(rec.recs) == 0 {
			t.Fatalf("GET %s logged nothing", path)
		}
		return rec.recs[len(rec.recs)-1], start, end
	}

	var sources []slog.Source
	for _, tt := range []struct {
		path   string
		level  slog.Level
		status int64
	}{
		{"/nope?token=secret", slog.LevelInfo, 404},
		{"/", slog.LevelInfo, 200},
		{"/healthz", slog.LevelError, 503}, // after the database is closed
	} {
		if tt.status == 503 {
			site.Store.Close()
		}
		r, start, end := serve(tt.path)
		if r.Message != "request" || r.Level != tt.level {
			t.Errorf("GET %s: record %q at %v; want %q at %v", tt.path, r.Message, r.Level, "request", tt.level)
		}
		var keys []string
		attrs := map[string]slog.Value{}
		r.Attrs(func(a slog.Attr) bool {
			keys = append(keys, a.Key)
			attrs[a.Key] = a.Value
			return true
		})
		if want := []string{"method", "path", "status", "bytes", "duration", "client"}; !slices.Equal(keys, want) {
			t.Errorf("GET %s: attributes %q; want %q", tt.path, keys, want)
		}
		path, _, _ := strings.Cut(tt.path, "?")
		if got := attrs["method"].String() + " " + attrs["path"].String(); got != "GET "+path {
			t.Errorf("GET %s: logged %q; want %q", tt.path, got, "GET "+path)
		}
		if got := attrs["status"].Int64(); got != tt.status {
			t.Errorf("GET %s: logged status %d; want %d", tt.path, got, tt.status)
		}
		if attrs["bytes"].Int64() <= 0 || attrs["duration"].Duration() <= 0 {
			t.Errorf("GET %s: logged bytes %v, duration %v; want both positive", tt.path, attrs["bytes"], attrs["duration"])
		}
		if got := attrs["client"].String(); got != "198.51.100.7" {
			t.Errorf("GET %s: logged client %q; want %q", tt.path, got, "198.51.100.7")
		}
		if r.Time.Before(start) || r.Time.After(end) || attrs["duration"].Duration() > end.Sub(start) {
			t.Errorf("GET %s: record time %v, duration %v; want within the request, served from %v to %v",
				tt.path, r.Time, attrs["duration"], start, end)
		}
		sources = append(sources, *r.Source())
	}
	for _, src := range sources {
		if filepath.Base(src.File) != "middleware.go" || !strings.Contains(src.Function, "logRequests") || src != sources[0] {
			t.Errorf("request line source = %+v; want the same place in logRequests for every request", src)
		}
	}
}
