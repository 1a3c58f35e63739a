package app

import (
	"net/http/httptest"
	"net/netip"
	"testing"
)

func TestClientIP(t *testing.T) {
	a := &App{cfg: Config{TrustedProxies: []netip.Prefix{
		netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128"),
	}}}
	tests := []struct {
		remote, xff, want string
	}{
		{"192.0.2.7:1234", "", "192.0.2.7"},
		{"192.0.2.7:1234", "203.0.113.9", "192.0.2.7"},          // untrusted peer: header ignored
		{"10.1.2.3:80", "203.0.113.9", "203.0.113.9"},           // trusted proxy
		{"10.1.2.3:80", "1.1.1.1, 203.0.113.9", "203.0.113.9"},  // the client's own entry is not believed
		{"10.1.2.3:80", "203.0.113.9, 10.9.9.9", "203.0.113.9"}, // two proxies
		{"10.1.2.3:80", "garbage", "10.1.2.3"},
		{"10.1.2.3:80", "", "10.1.2.3"},
		{"[::1]:80", "2001:db8::5", "2001:db8::5"},
		{"[::ffff:10.1.2.3]:80", "198.51.100.4", "198.51.100.4"},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = tt.remote
		if tt.xff != "" {
			r.Header.Set("X-Forwarded-For", tt.xff)
		}
		if got := a.clientIP(r); got != tt.want {
			t.Errorf("clientIP(remote %s, XFF %q) = %s; want %s", tt.remote, tt.xff, got, tt.want)
		}
	}
}

func TestClientIPWithoutProxies(t *testing.T) {
	a := &App{}
	tests := []struct {
		remote, xff, want string
	}{
		{"192.0.2.7:1234", "", "192.0.2.7"},
		{"10.1.2.3:80", "203.0.113.9", "10.1.2.3"}, // no proxy is trusted: header ignored
		{"[::1]:80", "2001:db8::5", "::1"},
		{"pipe", "203.0.113.9", "pipe"},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = tt.remote
		if tt.xff != "" {
			r.Header.Set("X-Forwarded-For", tt.xff)
		}
		if got := a.clientIP(r); got != tt.want {
			t.Errorf("clientIP(remote %s, XFF %q) = %s; want %s", tt.remote, tt.xff, got, tt.want)
		}
	}
}
