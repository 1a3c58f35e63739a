package main

import (
	"bytes"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"net/mail"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestServeMailsResetLinkToOutbox runs latch serve with no mail settings and
// no base URL, as `go run ./cmd/latch` does: asking for a password reset
// writes an .eml file into DATA_DIR/outbox whose link points at the
// address the server listens on, and that link opens the reset page.
func TestServeMailsResetLinkToOutbox(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	srv, _, _ := startServer(t, dir)
	base := "http://" + srv.Addr()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	post := func(path string, form url.Values) *http.Response {
		t.Helper()
		resp, err := client.PostForm(base+path, form)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	if resp := post("/signup", url.Values{"email": {"ada@example.org"}, "name": {"Ada"}, "password": {"correct horse battery"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("POST /signup: status %d; want 303", resp.StatusCode)
	}
	outbox := filepath.Join(dir, "outbox")
	waitFor(t, "the verification mail in the outbox", func() bool { return len(mailsIn(t, outbox)) == 1 })
	if resp := post("/forgot", url.Values{"email": {"ada@example.org"}}); resp.StatusCode != http.StatusSeeOther && resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /forgot: status %d; want 200 or 303", resp.StatusCode)
	}
	var reset string
	waitFor(t, "the reset mail in the outbox", func() bool {
		for _, body := range mailsIn(t, outbox) {
			if m := regexp.MustCompile(`https?://[^\s"<>]+/reset\?[^\s"<>]+`).FindString(body); m != "" {
				reset = m
				return true
			}
		}
		return false
	})
	if !strings.HasPrefix(reset, base+"/reset?") {
		t.Fatalf("reset link %q; want it on %s, where the server listens", reset, base)
	}
	resp, err := client.Get(reset)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("GET reset link: status %d; want 303 to the page without the token", resp.StatusCode)
	}
}

// mailsIn returns the text parts of the .eml files in dir.
func mailsIn(t *testing.T, dir string) []string {
	t.Helper()
	entries, _ := os.ReadDir(dir)
	var texts []string
	for _, e := range entries {
		// A message is written to a dot file, then renamed into place.
		if !strings.HasSuffix(e.Name(), ".eml") || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		m, err := mail.ReadMessage(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%s does not parse: %v", e.Name(), err)
		}
		_, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
		if err != nil {
			t.Fatalf("%s: Content-Type: %v", e.Name(), err)
		}
		mr := multipart.NewReader(m.Body, params["boundary"])
		for {
			p, err := mr.NextPart()
			if err != nil {
				break
			}
			if strings.HasPrefix(p.Header.Get("Content-Type"), "text/plain") {
				b, _ := io.ReadAll(p) // quoted-printable is decoded by the reader
				texts = append(texts, string(b))
			}
		}
	}
	return texts
}

func TestLinkAddr(t *testing.T) {
	tests := []struct {
		configured string
		bound      net.Addr
		want       string
	}{
		{"localhost:8080", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8080}, "localhost:8080"},
		{"127.0.0.1:0", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 41234}, "127.0.0.1:41234"},
		{"example.com:443", &net.TCPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 443}, "example.com:443"},
		{":8080", &net.TCPAddr{IP: net.IPv6unspecified, Port: 8080}, "[::]:8080"},
		{"0.0.0.0:8080", &net.TCPAddr{IP: net.IPv4zero, Port: 8080}, "0.0.0.0:8080"},
	}
	for _, tt := range tests {
		if got := linkAddr(tt.configured, tt.bound); got != tt.want {
			t.Errorf("linkAddr(%q, %v) = %q; want %q", tt.configured, tt.bound, got, tt.want)
		}
	}
}
