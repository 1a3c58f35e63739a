// Package clientip finds the address of the client that sent an HTTP
// request, believing X-Forwarded-For only from proxies the application
// trusts.
//
// The address it returns is what throttles count failed logins by and what
// session records show, so it must not be something a client can choose. A
// proxy appends the address of whoever connected to it to X-Forwarded-For;
// everything to the left of that was written by earlier hops, the first of
// which is the client itself. A [Resolver] therefore reads the header only
// when the connection comes from a trusted proxy, and then walks it from the
// right, stopping at the first address that is not a trusted proxy.
//
// Use one Resolver for the life of the application, for example as
// latch.Manager's ClientIP:
//
//	ips := clientip.New([]netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")})
//	m.ClientIP = ips.ClientIP
package clientip

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync/atomic"
)

// Unknown is the client address of a request that came through a trusted
// proxy whose X-Forwarded-For entry for its sender is no address at all.
//
// Falling back to the proxy's own address would pool such requests with
// everything else the proxy sends without a header, and a client able to
// garble its hop could then spend that address's login failures for
// everyone; taking the hop's text as it is would let it pick a fresh
// identity for every attempt. Unknown clients share one identity instead,
// apart from every real address.
const Unknown = "unknown"

// Resolver returns client addresses. Its methods may be called from many
// goroutines at once.
type Resolver struct {
	trusted []netip.Prefix
	warned  atomic.Bool

	// Warn, when set, is called once, the first time a request carries
	// X-Forwarded-For while no proxy is trusted, with the address of the
	// peer that sent it. Such a header means a proxy nobody configured,
	// behind which every client shares the proxy's address, which an
	// operator should hear about. Set it before the first request.
	// Default nil: no call.
	Warn func(peer string)
}

// New returns a Resolver that believes X-Forwarded-For from connections
// whose address is in one of trusted. With no trusted prefixes, the
// client is always the connection's peer. IPv4-mapped IPv6 addresses match
// the IPv4 prefixes.
func New(trusted []netip.Prefix) *Resolver {
	return &Resolver{trusted: append([]netip.Prefix(nil), trusted...)}
}

// ClientIP returns the address of the client that sent r, without a port.
// X-Forwarded-For is believed only when r's connection comes from a trusted
// proxy, and then only up to the first address that is not a trusted proxy
// itself, counting from the right: entries further left were written by
// the client and may be forged. Entries may carry a port, as IP:port or
// [IPv6]:port. An entry that is no address, where the walk reaches it,
// makes the client [Unknown]. A RemoteAddr that is not host:port (a Unix
// socket, say) is returned as it is.
func (p *Resolver) ClientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if len(p.trusted) == 0 {
		// No proxy to believe: the usual case, decided at once.
		if _, ok := r.Header["X-Forwarded-For"]; ok && p.Warn != nil && !p.warned.Load() && p.warned.CompareAndSwap(false, true) {
			p.Warn(host)
		}
		return host
	}
	addr, err := netip.ParseAddr(host)
	if err != nil || !p.trusts(addr) {
		return host
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		hop, ok := parseHop(hops[i])
		if !ok {
			if i == len(hops)-1 && strings.TrimSpace(hops[i]) == "" {
				break // no header at all: the proxy is the client
			}
			return Unknown
		}
		addr = hop.Unmap()
		if !p.trusts(addr) {
			break
		}
	}
	return addr.String()
}

// parseHop parses one X-Forwarded-For entry: an IP address, IP:port or
// [IPv6]:port, with surrounding spaces.
func parseHop(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	if a, err := netip.ParseAddr(s); err == nil {
		return a, true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr(), true
	}
	return netip.Addr{}, false
}

func (p *Resolver) trusts(addr netip.Addr) bool {
	addr = addr.Unmap()
	for _, t := range p.trusted {
		if t.Contains(addr) {
			return true
		}
	}
	return false
}
