package clientip_test

import (
	"fmt"
	"net/http/httptest"
	"net/netip"
	"testing"

	"github.com/latchauth/latch/clientip"
)

func TestClientIP(t *testing.T) {
	behindProxy := clientip.New([]netip.Prefix{
		netip.MustParsePrefix("10.0.0.0/8"),
		netip.MustParsePrefix("::1/128"),
	})
	direct := clientip.New(nil)
	tests := []struct {
		p                 *clientip.Resolver
		remote, xff, want string
	}{
		{behindProxy, "192.0.2.7:1234", "", "192.0.2.7"},
		{behindProxy, "192.0.2.7:1234", "203.0.113.9", "192.0.2.7"},          // untrusted peer: header ignored
		{behindProxy, "10.1.2.3:80", "203.0.113.9", "203.0.113.9"},           // trusted proxy
		{behindProxy, "10.1.2.3:80", "1.1.1.1, 203.0.113.9", "203.0.113.9"},  // the client's own entry is not believed
		{behindProxy, "10.1.2.3:80", "203.0.113.9, 10.9.9.9", "203.0.113.9"}, // two proxies
		{behindProxy, "10.1.2.3:80", "garbage", clientip.Unknown},            // never the proxy's own address
		{behindProxy, "10.1.2.3:80", "garbage, 10.9.9.9", clientip.Unknown},  // nor another proxy's
		{behindProxy, "10.1.2.3:80", "garbage, 203.0.113.9", "203.0.113.9"},  // the client's own garbage is not read
		{behindProxy, "10.1.2.3:80", "[2001:db8::5]:443", "2001:db8::5"},
		{behindProxy, "10.1.2.3:80", "203.0.113.9, 10.9.9.9:8080", "203.0.113.9"},
		{behindProxy, "10.1.2.3:80", "", "10.1.2.3"},
		{behindProxy, "[::ffff:10.1.2.3]:80", "198.51.100.4", "198.51.100.4"},
		{direct, "10.1.2.3:80", "203.0.113.9", "10.1.2.3"},
		{direct, "pipe", "203.0.113.9", "pipe"},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = tt.remote
		if tt.xff != "" {
			r.Header.Set("X-Forwarded-For", tt.xff)
		}
		if got := tt.p.ClientIP(r); got != tt.want {
			t.Errorf("ClientIP(remote %s, XFF %q) = %s; want %s", tt.remote, tt.xff, got, tt.want)
		}
	}
}

// TestClientIPMultipleHeaders checks that X-Forwarded-For split over
// several header lines is read as one list, the last line rightmost.
func TestClientIPMultipleHeaders(t *testing.T) {
	p := clientip.New([]netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")})
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "10.1.2.3:80"
	r.Header.Add("X-Forwarded-For", "1.1.1.1")
	r.Header.Add("X-Forwarded-For", "203.0.113.9, 10.2.2.2")
	if got := p.ClientIP(r); got != "203.0.113.9" {
		t.Errorf("ClientIP = %s; want 203.0.113.9", got)
	}
}

// TestNewCopiesPrefixes checks that changing the caller's slice after New
// does not change whom the Resolver trusts.
func TestNewCopiesPrefixes(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	p := clientip.New(trusted)
	trusted[0] = netip.MustParsePrefix("192.0.2.0/24")
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "192.0.2.7:1234"
	r.Header.Set("X-Forwarded-For", "203.0.113.9")
	if got := p.ClientIP(r); got != "192.0.2.7" {
		t.Errorf("ClientIP after the caller's slice changed = %s; want 192.0.2.7", got)
	}
}

// TestWarnOnce checks that Warn is called once, with the peer, for
// requests carrying X-Forwarded-For when no proxy is trusted, and never
// for requests without it.
func TestWarnOnce(t *testing.T) {
	p := clientip.New(nil)
	var peers []string
	p.Warn = func(peer string) { peers = append(peers, peer) }
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "127.0.0.1:4000"
	p.ClientIP(r)
	if len(peers) != 0 {
		t.Fatalf("a request without X-Forwarded-For warned about %q", peers)
	}
	r.Header.Set("X-Forwarded-For", "203.0.113.9")
	for range 3 {
		if got := p.ClientIP(r); got != "127.0.0.1" {
			t.Errorf("ClientIP = %s; want 127.0.0.1 (no proxy is trusted)", got)
		}
	}
	if len(peers) != 1 || peers[0] != "127.0.0.1" {
		t.Errorf("Warn called with %q; want once with 127.0.0.1", peers)
	}
}

// A load balancer at 10.0.0.5 forwards a request it got from 203.0.113.9;
// the client's own claim to be 1.1.1.1 is ignored.
func ExampleResolver_ClientIP() {
	ips := clientip.New([]netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")})
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "10.0.0.5:41000"
	r.Header.Set("X-Forwarded-For", "1.1.1.1, 203.0.113.9")
	fmt.Println(ips.ClientIP(r))
	// Output: 203.0.113.9
}
