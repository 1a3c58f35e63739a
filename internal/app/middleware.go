package app

import (
	"cmp"
	"log/slog"
	"net/http"
	"runtime"
	"runtime/debug"
	"sync/atomic"
	"time"

	"github.com/latchauth/latch/clientip"
)

// contentSecurityPolicy allows the site's own stylesheets and nothing else:
// no script at all, no inline style, no framing, forms only to this site.
// The pages that use passkeys replace it with cspWithScript.
const contentSecurityPolicy = "default-src 'none'; style-src 'self'; img-src 'self' data:; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// securityHeaders sets the headers every response carries. They are built
// once, in canonical form, and assigned per request without Header.Set's
// canonicalisation, which showed in profiles of the home page.
//
// The set is the one OWASP ASVS 5.0 asks for (V3.4), and no more:
//   - the Content-Security-Policy forbids all script (but the site's own
//     passkey script on the pages that use it) and all framing
//     (frame-ancestors), which makes X-Frame-Options, obsolete since CSP
//     level 2, and a Permissions-Policy moot: no page can run the script
//     that would ask for a camera or a location, nor embed a frame that
//     could;
//   - nosniff, a same-origin Referrer-Policy, Cross-Origin-Opener-Policy
//     and Cross-Origin-Resource-Policy;
//   - Strict-Transport-Security when the site is served over HTTPS.
//
// A page adds Content-Type, Cache-Control and Vary, which makes eight
// entries in the header map. That is the most a Go map holds in its small
// form: a ninth makes net/http's per-request work on headers (the copy at
// WriteHeader, the lookups, the sorted write) about twice as slow, which
// measured as 5-8% of the home page's throughput. TestPageHeaders keeps the
// count; over HTTPS, HSTS makes nine, where TLS costs far more.
func (a *App) securityHeaders(next http.Handler) http.Handler {
	headers := map[string]string{
		"Content-Security-Policy":      contentSecurityPolicy,
		"X-Content-Type-Options":       "nosniff",
		"Referrer-Policy":              "same-origin",
		"Cross-Origin-Opener-Policy":   "same-origin",
		"Cross-Origin-Resource-Policy": "same-origin",
	}
	if a.cfg.SecureCookies {
		headers["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"
	}
	type kv struct {
		key string
		val []string
	}
	var fixed []kv
	for k, v := range headers {
		fixed = append(fixed, kv{http.CanonicalHeaderKey(k), []string{v}})
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		for _, f := range fixed {
			h[f.key] = f.val
		}
		next.ServeHTTP(w, r)
	})
}

// limitBody bounds request bodies, so a huge upload is refused instead of
// read into memory. A request the server knows to have no body (most GETs)
// has http.NoBody, which needs no bound and is left as is.
func (a *App) limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body != http.NoBody {
			r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes)
		}
		next.ServeHTTP(w, r)
	})
}

// statusWriter records the status and size of a response for the log.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int
}

// WriteHeader records the status.
func (s *statusWriter) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

// Write records the size.
func (s *statusWriter) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	n, err := s.ResponseWriter.Write(b)
	s.bytes += n
	return n, err
}

// Unwrap gives http.ResponseController the underlying writer.
func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// logRequests writes one structured line per request and turns a panic into
// a 500. It logs the path without the query string, which can carry
// tokens, and never a header or a body.
//
// The line is what Logger.LogAttrs would log, built here to spare two
// costs it has on every request: a walk of the stack for the record's
// source, which is always the same place and so is looked up once, and a
// third reading of the clock, as the end of the request serves as both the
// line's time and the end of its duration.
// routeOf is the route pattern that served r, such as "GET /login", as the
// mux set it; a request that matched no route of ours is "other".
func routeOf(r *http.Request) string {
	if r.Pattern == "" || r.Pattern == "/" {
		return "other"
	}
	return r.Pattern
}

func (a *App) logRequests(next http.Handler) http.Handler {
	h := a.log.Handler()
	var pc atomic.Uintptr // the line's source, for handlers that show it
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				a.log.Error("panic serving request", "method", r.Method, "path", r.URL.Path, "panic", p, "stack", string(debug.Stack()))
				if sw.status == 0 {
					a.serveError(sw, r, errInternal)
				}
			}
			if m := a.cfg.Metrics; m != nil {
				m.ObserveRequest(routeOf(r), cmp.Or(sw.status, http.StatusOK), time.Since(start))
			}
			level := slog.LevelInfo
			if sw.status >= 500 {
				level = slog.LevelError
			}
			ctx := r.Context()
			if !h.Enabled(ctx, level) {
				return
			}
			if pc.Load() == 0 {
				var pcs [1]uintptr
				runtime.Callers(1, pcs[:])
				pc.Store(pcs[0])
			}
			end := time.Now()
			rec := slog.NewRecord(end, level, "request", pc.Load())
			rec.AddAttrs(
				slog.String("method", r.Method),
				slog.String("path", r.URL.Path),
				slog.Int("status", sw.status),
				slog.Int("bytes", sw.bytes),
				slog.Duration("duration", end.Sub(start)),
				slog.String("client", a.clientIP(r)),
			)
			h.Handle(ctx, rec)
		}()
		next.ServeHTTP(sw, r)
	})
}

// clientIP returns the address of the client, believing X-Forwarded-For
// only from cfg.TrustedProxies; see [clientip.Resolver.ClientIP]. The
// resolver is made on first use, so that an App built by hand in a test
// has one too.
func (a *App) clientIP(r *http.Request) string {
	a.ipsOnce.Do(func() {
		a.ips = clientip.New(a.cfg.TrustedProxies)
		a.ips.Warn = func(peer string) {
			a.log.Warn("requests carry X-Forwarded-For but no proxy is trusted, so every client behind a proxy shares its address for throttling and session records; set -trusted-proxies (LATCH_TRUSTED_PROXIES) to the proxy's address", "proxy", peer)
		}
	})
	return a.ips.ClientIP(r)
}
