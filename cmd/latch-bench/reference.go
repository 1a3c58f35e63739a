package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/latchauth/latch/password"
	"golang.org/x/crypto/argon2"
)

// serveReference runs one of the reference servers on addr until SIGTERM.
// They are the least a Go server must do for the same page, so that latch's
// figures read as fractions of what this machine allows:
//
//   - hello answers every request with a fixed text;
//   - hmac checks a session cookie signed with HMAC-SHA256 against a map in
//     memory and renders a small html/template page with the user's name,
//     as a session-cookie login without a database would.
func serveReference(kind, addr string) error {
	var h http.Handler
	switch kind {
	case "hello":
		h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "Hello, world!\n")
		})
	case "hmac":
		h = newHMACReference()
	default:
		return fmt.Errorf("unknown reference %q; want hello or hmac", kind)
	}
	srv := &http.Server{Addr: addr, Handler: h, ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	if err := srv.ListenAndServe(); err != http.ErrServerClosed {
		return err
	}
	return nil
}

// hmacReference is the reference for an authenticated page.
type hmacReference struct {
	key      []byte
	page     *template.Template
	mu       sync.RWMutex
	sessions map[string]string // session ID to the user's name
}

const hmacCookie = "ref_session"

var hmacPage = template.Must(template.New("profile").Parse(`<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>{{.Title}}</title><link rel="stylesheet" href="/static/app.css"></head>
<body>
<nav><a href="/">Home</a> <a href="/profile">Profile</a></nav>
<main><h1 class="title">Welcome, {{.Name}}!</h1></main>
</body>
</html>
`))

func newHMACReference() *hmacReference {
	key := make([]byte, 32)
	rand.Read(key)
	return &hmacReference{key: key, page: hmacPage, sessions: map[string]string{}}
}

func (h *hmacReference) sign(id string) string {
	m := hmac.New(sha256.New, h.key)
	m.Write([]byte(id))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func (h *hmacReference) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/healthz":
		io.WriteString(w, "ok\n")
	case "/login": // GET /login?name=NAME starts a session
		b := make([]byte, 16)
		rand.Read(b)
		id := hex.EncodeToString(b)
		h.mu.Lock()
		h.sessions[id] = r.URL.Query().Get("name")
		h.mu.Unlock()
		http.SetCookie(w, &http.Cookie{Name: hmacCookie, Value: id + "." + h.sign(id), Path: "/", HttpOnly: true})
		io.WriteString(w, "ok\n")
	case "/profile":
		c, err := r.Cookie(hmacCookie)
		if err != nil {
			http.Redirect(w, r, "/login", http.StatusSeeOther)
			return
		}
		id, sig, _ := strings.Cut(c.Value, ".")
		if !hmac.Equal([]byte(sig), []byte(h.sign(id))) {
			http.Redirect(w, r, "/login", http.StatusSeeOther)
			return
		}
		h.mu.RLock()
		name, ok := h.sessions[id]
		h.mu.RUnlock()
		if !ok {
			http.Redirect(w, r, "/login", http.StatusSeeOther)
			return
		}
		var buf bytes.Buffer
		if err := h.page.Execute(&buf, struct{ Title, Name string }{"Profile", name}); err != nil {
			http.Error(w, "render failed", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(buf.Bytes())
	default:
		http.NotFound(w, r)
	}
}

// argon2Result is what -measure-argon2 prints.
type argon2Result struct {
	Hashes  int     `json:"hashes"`
	Seconds float64 `json:"seconds"`
	P50     float64 `json:"p50_ms"`
	P99     float64 `json:"p99_ms"`
	// CPUSeconds is the CPU time the process used while measuring, its
	// warm-up left out.
	CPUSeconds float64 `json:"cpu_seconds"`
}

// measureArgon2 computes argon2id hashes at latch's default parameters, one
// after the other, for d, and prints how many as JSON: the ceiling of
// logins and sign-ups per second on the core it runs on. It hashes for
// warmup first, uncounted, as the scenarios compared with it warm up: the
// first allocations of 19 MiB, in a new process, are not the steady state.
func measureArgon2(warmup, d time.Duration, out io.Writer) error {
	p := password.DefaultParams
	salt := make([]byte, p.SaltLen)
	rand.Read(salt)
	pw := []byte("correct horse battery staple")
	for start := time.Now(); ; {
		argon2.IDKey(pw, salt, p.Time, p.Memory, p.Threads, p.KeyLen)
		if time.Since(start) >= warmup {
			break
		}
	}
	var times []time.Duration
	cpu0 := selfCPUTime()
	start := time.Now()
	for time.Since(start) < d {
		t0 := time.Now()
		argon2.IDKey(pw, salt, p.Time, p.Memory, p.Threads, p.KeyLen)
		times = append(times, time.Since(t0))
	}
	elapsed, cpu := time.Since(start), selfCPUTime()-cpu0
	slices.Sort(times)
	return json.NewEncoder(out).Encode(argon2Result{
		Hashes:     len(times),
		Seconds:    elapsed.Seconds(),
		P50:        ms(percentile(times, 0.5)),
		P99:        ms(percentile(times, 0.99)),
		CPUSeconds: cpu.Seconds(),
	})
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
