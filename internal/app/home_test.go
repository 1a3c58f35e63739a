package app

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"

	"github.com/latchauth/latch/sqlitestore"
)

// newTestApp returns an app on a SQLite store in a temporary folder.
func newTestApp(t *testing.T) *App {
	t.Helper()
	store, err := sqlitestore.Open(context.Background(), t.TempDir()+"/latch.db")
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { store.Close() })
	a, err := New(store, Config{SecretKey: bytes.Repeat([]byte("k"), 32)})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return a
}

// TestAnonymousHomeMatchesRender checks that the home page rendered once at
// start is, byte for byte and header for header, what rendering the
// template for an anonymous request without a flash gives.
func TestAnonymousHomeMatchesRender(t *testing.T) {
	a := newTestApp(t)
	for _, method := range []string{"GET", "HEAD"} {
		r := httptest.NewRequest(method, "/", nil)
		fast := httptest.NewRecorder()
		if err := a.home(fast, r); err != nil {
			t.Fatalf("%s / (fixed page): %v", method, err)
		}
		slow := httptest.NewRecorder()
		if err := a.render(slow, r, http.StatusOK, "index", page{}); err != nil {
			t.Fatalf("%s / (template): %v", method, err)
		}
		if fast.Code != slow.Code {
			t.Errorf("%s / status = %d; want %d as rendered", method, fast.Code, slow.Code)
		}
		if !reflect.DeepEqual(fast.Header(), slow.Header()) {
			t.Errorf("%s / header = %v; want %v as rendered", method, fast.Header(), slow.Header())
		}
		if !bytes.Equal(fast.Body.Bytes(), slow.Body.Bytes()) {
			t.Errorf("%s / body =\n%s\nwant as rendered:\n%s", method, fast.Body, slow.Body)
		}
	}
	if len(a.anonHome.body) == 0 || !bytes.Contains(a.anonHome.body, []byte(`href="/signup"`)) {
		t.Errorf("fixed home page = %q; want the anonymous home page", a.anonHome.body)
	}
}

func TestFlashPresent(t *testing.T) {
	tests := []struct {
		cookies []string // Cookie header lines
		want    bool
	}{
		{nil, false},
		{[]string{"latch_session=abc"}, false},
		{[]string{"latch_flash=abc"}, true},
		{[]string{"a=1; latch_flash=abc.def; b=2"}, true},
		{[]string{"a=1", "latch_flash=x"}, true},
		{[]string{"not_latch_flash=x"}, false},
		{[]string{"latch_flash_other=x"}, false},
		{[]string{"x=latch_flash"}, false},
		{[]string{`latch_flash="bad value`}, false},
	}
	f := &flasher{}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header["Cookie"] = tt.cookies
		_, err := r.Cookie(flashCookieName)
		if got := f.present(r); got != tt.want || got != (err == nil) {
			t.Errorf("present(Cookie %q) = %v; want %v, as r.Cookie finds it (err %v)", tt.cookies, got, tt.want, err)
		}
	}
}
