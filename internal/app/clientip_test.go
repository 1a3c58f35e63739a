package app

import (
	"net/http/httptest"
	"net/netip"
	"testing"
)

func TestClientIP(t *testing.T) {
	behindProxy := &App{cfg: Config{TrustedProxies: []netip.Prefix{
		netip.MustParsePrefix("10.0.0.0/8"),
		netip.MustParsePrefix("::1/128"),
	}}}
	direct := &App{} // no proxy is trusted
	tests := []struct {
		app               *App
		remote, xff, want string
	}{
		{behindProxy, "192.0.2.7:1234", "", "192.0.2.7"},
		{behindProxy, "192.0.2.7:1234", "203.0.113.9", "192.0.2.7"},          // untrusted peer: header ignored
		{behindProxy, "10.1.2.3:80", "203.0.113.9", "203.0.113.9"},           // trusted proxy
		{behindProxy, "10.1.2.3:80", "1.1.1.1, 203.0.113.9", "203.0.113.9"},  // the client's own entry is not believed
		{behindProxy, "10.1.2.3:80", "203.0.113.9, 10.9.9.9", "203.0.113.9"}, // two proxies
		{behindProxy, "10.1.2.3:80", "garbage", "10.1.2.3"},
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
