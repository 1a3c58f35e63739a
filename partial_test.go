package latch_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/latchauth/latch"
)

// partialHarness is the harness's Manager behind routes for a two-step
// login: /step1 checks "the password" and begins a partial login, /step2
// completes it when the code is "ok".
func partialHarness(t *testing.T) *harness {
	t.Helper()
	h := newHarness(t)
	h.m.PendingKey = []byte(strings.Repeat("k", 32))
	mux := http.NewServeMux()
	mux.HandleFunc("POST /step1", func(w http.ResponseWriter, r *http.Request) {
		opts := latch.LoginOptions{Partial: true, Remember: r.FormValue("remember") != ""}
		if err := h.m.LogIn(w, r, r.FormValue("user"), opts); err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		h.whoami(w, r)
	})
	mux.HandleFunc("GET /pending", func(w http.ResponseWriter, r *http.Request) {
		p, ok := h.m.Pending(r)
		if !ok {
			fmt.Fprint(w, "none")
			return
		}
		fmt.Fprintf(w, "%s remember=%v", p.UserID, p.Remember)
	})
	mux.HandleFunc("POST /step2", func(w http.ResponseWriter, r *http.Request) {
		if r.FormValue("code") != "ok" {
			http.Error(w, "wrong code", http.StatusUnauthorized)
			return
		}
		if err := h.m.CompleteLogIn(w, r); errors.Is(err, latch.ErrNoPendingLogin) {
			http.Error(w, "no pending login", http.StatusUnauthorized)
			return
		} else if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		h.whoami(w, r)
	})
	mux.HandleFunc("POST /cancel", func(w http.ResponseWriter, r *http.Request) { h.m.CancelLogIn(w, r) })
	mux.Handle("GET /private", h.m.RequireLogin(http.HandlerFunc(h.whoami)))
	mux.HandleFunc("GET /whoami", h.whoami)
	srv := httptest.NewServer(h.m.Middleware(mux))
	t.Cleanup(srv.Close)
	h.srv = srv
	return h
}

func TestPartialLoginIsAnonymousUntilCompleted(t *testing.T) {
	h := partialHarness(t)
	c := h.browser()
	if _, body := h.do(c, "POST", "/step1", url.Values{"user": {"1"}}); body != "anonymous" {
		t.Fatalf("Current after a partial LogIn = %q; want anonymous", body)
	}
	resp, _ := h.do(c, "GET", "/private", nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("GET /private with a partial login = %d; want 303 to the login page", resp.StatusCode)
	}
	if _, body := h.do(c, "GET", "/pending", nil); body != "1 remember=false" {
		t.Fatalf("Pending = %q; want user 1", body)
	}
	if resp, _ := h.do(c, "POST", "/step2", url.Values{"code": {"bad"}}); resp.StatusCode != 401 {
		t.Fatalf("wrong code: %d; want 401", resp.StatusCode)
	}
	if got := h.whoIs(c); got != "anonymous" {
		t.Fatalf("after a wrong code: %q; want anonymous", got)
	}
	resp, body := h.do(c, "POST", "/step2", url.Values{"code": {"ok"}})
	if body != "Anthony fresh=true" {
		t.Fatalf("CompleteLogIn: %q; want Anthony, fresh", body)
	}
	if sc := cookieNamed(resp, "latch_session"); sc == nil || sc.Value == "" {
		t.Fatalf("CompleteLogIn set no session cookie")
	}
	if pc := cookieNamed(resp, "latch_pending"); pc == nil || pc.MaxAge >= 0 {
		t.Fatalf("CompleteLogIn did not clear the pending cookie: %v", pc)
	}
	if _, body := h.do(c, "GET", "/private", nil); body != "Anthony fresh=true" {
		t.Fatalf("GET /private after completing = %q", body)
	}
	if _, body := h.do(c, "GET", "/pending", nil); body != "none" {
		t.Fatalf("Pending after completing = %q; want none", body)
	}
}

func TestPartialLoginEndsTheSessionBefore(t *testing.T) {
	h := partialHarness(t)
	// Log user 1 in fully, then begin a partial login for user 2: the
	// request must not go on as user 1.
	c := h.browser()
	h.do(c, "POST", "/step1", url.Values{"user": {"1"}})
	h.do(c, "POST", "/step2", url.Values{"code": {"ok"}})
	if got := h.whoIs(c); got != "Anthony fresh=true" {
		t.Fatalf("logged in as %q", got)
	}
	if _, body := h.do(c, "POST", "/step1", url.Values{"user": {"2"}}); body != "anonymous" {
		t.Fatalf("partial login over a session: %q; want anonymous", body)
	}
	if got := h.whoIs(c); got != "anonymous" {
		t.Fatalf("after a partial login over a session: %q; want anonymous", got)
	}
}

func TestPartialLoginExpires(t *testing.T) {
	h := partialHarness(t)
	c := h.browser()
	h.do(c, "POST", "/step1", url.Values{"user": {"1"}, "remember": {"on"}})
	h.clock.Add(5*time.Minute + time.Second)
	if _, body := h.do(c, "GET", "/pending", nil); body != "none" {
		t.Fatalf("Pending after 5 minutes = %q; want none", body)
	}
	resp, body := h.do(c, "POST", "/step2", url.Values{"code": {"ok"}})
	if resp.StatusCode != 401 || !strings.Contains(body, "no pending login") {
		t.Fatalf("CompleteLogIn after expiry: %d %q; want 401 no pending login", resp.StatusCode, body)
	}
}

func TestPartialLoginCookieIsSigned(t *testing.T) {
	h := partialHarness(t)
	c := h.browser()
	resp, _ := h.do(c, "POST", "/step1", url.Values{"user": {"1"}})
	pc := cookieNamed(resp, "latch_pending")
	if pc == nil {
		t.Fatal("no pending cookie")
	}
	payload, sig, _ := strings.Cut(pc.Value, ".")
	forged := strings.Replace(payload, "I", "J", 1) + "." + sig
	for _, v := range []string{forged, "", ".", "x.y", strings.Repeat("a", 5000), payload} {
		fc := h.withCookies(&http.Cookie{Name: "latch_pending", Value: v})
		if resp, _ := h.do(fc, "POST", "/step2", url.Values{"code": {"ok"}}); resp.StatusCode != 401 {
			t.Errorf("pending cookie %.40q: %d; want 401", v, resp.StatusCode)
		}
	}
	// The same cookie under another key is refused.
	h.m.PendingKey = []byte(strings.Repeat("z", 32))
	if resp, _ := h.do(c, "POST", "/step2", url.Values{"code": {"ok"}}); resp.StatusCode != 401 {
		t.Errorf("pending cookie under another key: %d; want 401", resp.StatusCode)
	}
}

func TestPartialLoginKeepsRemember(t *testing.T) {
	h := partialHarness(t)
	c := h.browser()
	h.do(c, "POST", "/step1", url.Values{"user": {"1"}, "remember": {"on"}})
	resp, _ := h.do(c, "POST", "/step2", url.Values{"code": {"ok"}})
	if rc := cookieNamed(resp, "latch_remember"); rc == nil || rc.Value == "" {
		t.Fatalf("a remembered partial login completed without a remember-me cookie")
	}
}

func TestPartialLoginNeedsKey(t *testing.T) {
	h := partialHarness(t)
	h.m.PendingKey = nil
	if resp, _ := h.do(h.browser(), "POST", "/step1", url.Values{"user": {"1"}}); resp.StatusCode != 500 {
		t.Fatalf("partial LogIn without PendingKey: %d; want an error", resp.StatusCode)
	}
}

func TestLogOutCancelsPartialLogin(t *testing.T) {
	h := partialHarness(t)
	c := h.browser()
	h.do(c, "POST", "/step1", url.Values{"user": {"1"}})
	h.do(c, "POST", "/cancel", nil)
	if _, body := h.do(c, "GET", "/pending", nil); body != "none" {
		t.Fatalf("Pending after CancelLogIn = %q; want none", body)
	}
}

func TestPartialLoginCookie(t *testing.T) {
	h := partialHarness(t)
	resp, _ := h.do(h.browser(), "POST", "/step1", url.Values{"user": {"1"}})
	pc := cookieNamed(resp, "latch_pending")
	if pc == nil || !pc.HttpOnly || pc.SameSite != http.SameSiteLaxMode || pc.MaxAge != 300 || pc.Path != "/" {
		t.Fatalf("pending cookie = %+v; want HttpOnly, SameSite=Lax, Max-Age 300, Path /", pc)
	}
	if strings.Contains(pc.Value, "Anthony") {
		t.Errorf("pending cookie holds the user's name")
	}
	h.m.Secure = true
	resp, _ = h.do(h.browser(), "POST", "/step1", url.Values{"user": {"1"}})
	if pc := cookieNamed(resp, "__Host-latch_pending"); pc == nil || !pc.Secure {
		t.Errorf("pending cookie with Secure = %v; want __Host-latch_pending, Secure", pc)
	}
}
