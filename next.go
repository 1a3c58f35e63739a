package latch

import (
	"net/url"
	"strings"
)

// maxNextLen bounds the length of a redirect target taken from a request.
const maxNextLen = 2048

// SafeNext reports whether raw is a safe place to send a user after login and
// returns it. Only a path on this site is safe: it starts with a single "/",
// holds no backslash, no control character and no scheme or host. Everything
// else, such as "//evil.example", "/\evil.example", "https:evil.example",
// "javascript:..." or an absolute URL, is refused, because browsers resolve
// those to another site. [net/http.Redirect] does not make these checks.
func SafeNext(raw string) (string, bool) {
	if raw == "" || len(raw) > maxNextLen || raw[0] != '/' {
		return "", false
	}
	if len(raw) > 1 && (raw[1] == '/' || raw[1] == '\\') {
		return "", false
	}
	for i := 0; i < len(raw); i++ {
		if c := raw[i]; c < 0x20 || c == 0x7f || c == '\\' {
			return "", false
		}
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return "", false
	}
	// A percent-encoded slash or backslash at the start decodes into the
	// forms refused above; some proxies and frameworks decode before
	// routing, so refuse it too.
	if p := u.Path; strings.HasPrefix(p, "//") || strings.HasPrefix(p, "/\\") {
		return "", false
	}
	return raw, true
}
