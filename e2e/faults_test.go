package e2e_test

import (
	"net"
	"net/http"
	"strings"
	"testing"
)

// TestFaultsAreCaught makes sure the fault record of [tab] works, since
// every other test relies on it finding nothing: pages on another server
// log to the console, throw, break their Content-Security-Policy and load
// from an origin that is not theirs, and each of these must be reported.
func TestFaultsAreCaught(t *testing.T) {
	b := newBrowser(t)
	// A port nothing listens on, for a request that fails.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + l.Addr().String() + "/missing.png"
	l.Close()
	other := newOtherSite(t, map[string]string{
		"/noisy": `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Noisy</title></head><body>` +
			`<script>console.error("boom"); throw new Error("kaput");</script>` +
			`<img src="` + dead + `" alt="missing"></body></html>`,
		"/strict": `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">` +
			`<meta http-equiv="Content-Security-Policy" content="default-src 'none'">` +
			`<title>Strict</title><style>p { color: red; }</style></head>` +
			`<body><p>Hi</p><img src="/pixel.png" alt="pixel"></body></html>`,
	})
	tb := b.newTab(t, other)
	tests := []struct {
		path string
		want []string // each must be in one of the faults
	}{
		{"/noisy", []string{
			"console.error: boom",
			"uncaught exception",
			"Error: kaput",
			"request to another origin: " + dead,
			"request failed: " + dead + ": net::ERR_CONNECTION_REFUSED",
		}},
		{"/strict", []string{
			"browser log (security error): Applying inline style violates the following Content Security Policy directive",
			"browser log (security error): Loading the image '" + other + "/pixel.png' violates the following Content Security Policy directive",
			"request failed: " + other + "/pixel.png (blocked: csp)",
		}},
	}
	for _, tt := range tests {
		wantStatus(t, "open "+tt.path, tb.open(other+tt.path), http.StatusOK)
		tb.look() // a round trip, so that the page's events have arrived
		faults := tb.takeFaults()
		all := strings.Join(faults, "\n")
		for _, w := range tt.want {
			if !strings.Contains(all, w) {
				t.Errorf("faults of %s = %q; want one containing %q", tt.path, faults, w)
			}
		}
	}
}
