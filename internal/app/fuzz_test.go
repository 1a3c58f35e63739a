package app_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// FuzzForms posts arbitrary values to every form: whatever arrives, the
// answer is never a 5xx, and no input is echoed unescaped.
func FuzzForms(f *testing.F) {
	f.Add("ann@example.com", "Ann", "correct horse battery", "/profile", "on")
	f.Add("", "", "", "", "")
	f.Add("\x00@\xff.com", "<script>", strings.Repeat("p", 2000), "//evil.example", "\r\n")
	f.Add("a@b.co", "\u202e\u0000", "pass word", "/\\evil", "1")
	s := newSite(f)
	h := s.srv.Config.Handler
	f.Fuzz(func(t *testing.T, email, name, pw, next, remember string) {
		for _, path := range []string{"/signup", "/login", "/logout", "/sessions/revoke"} {
			form := url.Values{"email": {email}, "name": {name}, "password": {pw}, "next": {next}, "remember": {remember}, "id": {name}}
			req := httptest.NewRequest("POST", path, strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("X-Forwarded-For", "192.0.2."+string('1'+byte(len(email)%9)))
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code >= 500 && rec.Code != http.StatusServiceUnavailable {
				t.Fatalf("POST %s %v = %d; want no 5xx", path, form, rec.Code)
			}
			if rec.Code == http.StatusServiceUnavailable {
				t.Fatalf("POST %s %v = 503 (%s); want no failure of the store", path, form, rec.Body.String())
			}
			if strings.Contains(rec.Body.String(), "<script>") {
				t.Fatalf("POST %s echoed <script> unescaped", path)
			}
		}
	})
}
