package app

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
)

func TestClientIP(t *testing.T) {
	behindProxy := &App{cfg: Config{TrustedProxies: []netip.Prefix{
		netip.MustParsePrefix("10.0.0.0/8"),
		netip.MustParsePrefix("::1/128"),
	}}}
	direct := &App{log: slog.New(slog.DiscardHandler)} // no proxy is trusted
	tests := []struct {
		app               *App
		remote, xff, want string
	}{
		{behindProxy, "192.0.2.7:1234", "", "192.0.2.7"},
		{behindProxy, "192.0.2.7:1234", "203.0.113.9", "192.0.2.7"},          // untrusted peer: header ignored
		{behindProxy, "10.1.2.3:80", "203.0.113.9", "203.0.113.9"},           // trusted proxy
		{behindProxy, "10.1.2.3:80", "1.1.1.1, 203.0.113.9", "203.0.113.9"},  // the client's own entry is not believed
		{behindProxy, "10.1.2.3:80", "203.0.113.9, 10.9.9.9", "203.0.113.9"}, // two proxies
		{behindProxy, "10.1.2.3:80", "garbage", "unknown"},                   // never the proxy's own address
		{behindProxy, "10.1.2.3:80", "garbage, 10.9.9.9", "unknown"},         // nor another proxy's
		{behindProxy, "10.1.2.3:80", "203.0.113.9, garbage", "unknown"},      // nor an entry the client wrote
		{behindProxy, "10.1.2.3:80", "garbage, 203.0.113.9", "203.0.113.9"},  // the client's own garbage is not read
		{behindProxy, "10.1.2.3:80", "203.0.113.9:5555", "203.0.113.9"},
		{behindProxy, "10.1.2.3:80", "[2001:db8::5]:443", "2001:db8::5"},
		{behindProxy, "10.1.2.3:80", "203.0.113.9, 10.9.9.9:8080", "203.0.113.9"},
		{behindProxy, "10.1.2.3:80", "1.1.1.1,203.0.113.9:1", "203.0.113.9"},
		{behindProxy, "10.1.2.3:80", "[2001:db8::5", "unknown"},
		{behindProxy, "10.1.2.3:80", "", "10.1.2.3"},
		{behindProxy, "[::1]:80", "2001:db8::5", "2001:db8::5"},
		{behindProxy, "[::ffff:10.1.2.3]:80", "198.51.100.4", "198.51.100.4"},
		{direct, "192.0.2.7:1234", "", "192.0.2.7"},
		{direct, "10.1.2.3:80", "203.0.113.9", "10.1.2.3"}, // header ignored
		{direct, "[::1]:80", "2001:db8::5", "::1"},
		{direct, "pipe", "203.0.113.9", "pipe"},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = tt.remote
		if tt.xff != "" {
			r.Header.Set("X-Forwarded-For", tt.xff)
		}
		if got := tt.app.clientIP(r); got != tt.want {
			t.Errorf("clientIP(remote %s, XFF %q, %d trusted proxies) = %s; want %s", tt.remote, tt.xff, len(tt.app.cfg.TrustedProxies), got, tt.want)
		}
	}
}

// TestForwardedWithoutTrustedProxy checks that a request carrying
// X-Forwarded-For to an app that trusts no proxy logs one warning naming
// the setting, and only once.
func TestForwardedWithoutTrustedProxy(t *testing.T) {
	rec := &warnRecorder{}
	a := &App{log: slog.New(rec)}
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "127.0.0.1:4000"
	a.clientIP(r)
	if len(rec.msgs) != 0 {
		t.Fatalf("a request without X-Forwarded-For logged %q", rec.msgs)
	}
	r.Header.Set("X-Forwarded-For", "203.0.113.9")
	for range 3 {
		if got := a.clientIP(r); got != "127.0.0.1" {
			t.Errorf("clientIP = %s; want 127.0.0.1 (no proxy is trusted)", got)
		}
	}
	if len(rec.msgs) != 1 || !strings.Contains(rec.msgs[0], "LATCH_TRUSTED_PROXIES") {
		t.Errorf("logged %q; want one warning naming LATCH_TRUSTED_PROXIES", rec.msgs)
	}
}

// warnRecorder keeps the messages of warnings logged through it.
type warnRecorder struct{ msgs []string }

func (h *warnRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (h *warnRecorder) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *warnRecorder) WithGroup(string) slog.Handler            { return h }

func (h *warnRecorder) Handle(_ context.Context, r slog.Record) error {
	if r.Level == slog.LevelWarn {
		h.msgs = append(h.msgs, r.Message)
	}
	return nil
}
