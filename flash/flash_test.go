package flash_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/latchauth/latch/flash"
)

var testKey = bytes.Repeat([]byte("k"), 32)

func newFlash(t *testing.T) *flash.Flash {
	t.Helper()
	f, err := flash.New(testKey)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// next returns a request carrying the cookies that rec set, as the browser
// sends them on the redirect that follows: of several of one name, the
// last.
func next(rec *httptest.ResponseRecorder) *http.Request {
	jar := map[string]string{}
	for _, c := range rec.Result().Cookies() {
		if c.MaxAge < 0 {
			delete(jar, c.Name)
		} else {
			jar[c.Name] = c.Value
		}
	}
	r := httptest.NewRequest("GET", "/", nil)
	for name, value := range jar {
		r.AddCookie(&http.Cookie{Name: name, Value: value})
	}
	return r
}

func TestNewShortKey(t *testing.T) {
	if _, err := flash.New(make([]byte, 31)); err == nil {
		t.Error("New(31-byte key) = nil error; want one")
	}
}

func TestRoundTrip(t *testing.T) {
	f := newFlash(t)
	rec := httptest.NewRecorder()
	want := flash.Contents{
		Messages: []flash.Message{{Text: "Saved.", Category: "success"}, {Text: "Look", Category: "info", Data: json.RawMessage(`{"url":"/x"}`)}},
		Data:     json.RawMessage(`{"email":"ann@example.com"}`),
	}
	if err := f.Save(rec, want); err != nil {
		t.Fatalf("Save = %v", err)
	}
	r := next(rec)
	rec2 := httptest.NewRecorder()
	got := f.TakeAll(rec2, r)
	gb, _ := json.Marshal(got)
	wb, _ := json.Marshal(want)
	if !bytes.Equal(gb, wb) {
		t.Errorf("TakeAll = %s; want %s", gb, wb)
	}
	cleared := rec2.Result().Cookies()
	if len(cleared) != 1 || cleared[0].Name != "flash" || cleared[0].MaxAge >= 0 {
		t.Errorf("TakeAll set cookies %v; want one clearing flash", cleared)
	}
}

// TestBadCookies checks that cookies not written under the key, or
// changed since, give no message, and are cleared.
func TestBadCookies(t *testing.T) {
	f := newFlash(t)
	rec := httptest.NewRecorder()
	f.Set(rec, flash.Message{Text: "Hello"})
	good := rec.Result().Cookies()[0].Value

	other, _ := flash.New(bytes.Repeat([]byte("o"), 32))
	orec := httptest.NewRecorder()
	other.Set(orec, flash.Message{Text: "Hacked"})
	otherKey := orec.Result().Cookies()[0].Value

	renamed := newFlash(t)
	renamed.Name = "other"
	rrec := httptest.NewRecorder()
	renamed.Set(rrec, flash.Message{Text: "Hacked"})
	otherName := rrec.Result().Cookies()[0].Value

	body, sig, _ := strings.Cut(good, ".")
	for _, v := range []string{
		otherKey,  // another key
		otherName, // the same key, another cookie
		"eyJtIjpbeyJ0IjoiSGFja2VkIn1dfQ." + sig,
		body + ".AAAA",
		body,
		body + "." + sig + "x",
		"%%%." + sig,
		strings.Repeat("A", flash.MaxCookieLen+1),
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.AddCookie(&http.Cookie{Name: "flash", Value: v})
		rec := httptest.NewRecorder()
		if got := f.Take(rec, r); len(got) != 0 {
			t.Errorf("Take(cookie %.40q) = %v; want none", v, got)
		}
		if cs := rec.Result().Cookies(); len(cs) != 1 || cs[0].MaxAge >= 0 {
			t.Errorf("Take(cookie %.40q) set %v; want the cookie cleared", v, cs)
		}
	}
}

// TestUnsigned checks that a Flash not made by New, which has no key,
// neither writes nor believes a cookie.
func TestUnsigned(t *testing.T) {
	var f flash.Flash
	rec := httptest.NewRecorder()
	if err := f.Set(rec, flash.Message{Text: "Hello"}); err == nil {
		t.Error("Set on a Flash without key = nil error; want one")
	}
	if cs := rec.Result().Cookies(); len(cs) != 0 {
		t.Errorf("Set on a Flash without key set %v; want nothing", cs)
	}
}

func TestSecureName(t *testing.T) {
	f := newFlash(t)
	f.Secure = true
	f.Name = "app_flash"
	rec := httptest.NewRecorder()
	f.Set(rec, flash.Message{Text: "Hi"})
	c := rec.Result().Cookies()[0]
	if c.Name != "__Host-app_flash" || !c.Secure || c.Path != "/" || c.Domain != "" || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.MaxAge != 300 {
		t.Errorf("cookie = %+v; want __Host-app_flash, Secure, HttpOnly, Lax, Path=/, no Domain, Max-Age 300", c)
	}
	// Without the prefix, the cookie is not read: a subdomain could set it.
	r := httptest.NewRequest("GET", "/", nil)
	r.AddCookie(&http.Cookie{Name: "app_flash", Value: c.Value})
	if got := f.Take(httptest.NewRecorder(), r); len(got) != 0 {
		t.Errorf("Take(cookie without __Host-) = %v; want none", got)
	}
}

// TestTooLarge checks that data that does not fit is left out first,
// quietly, and messages after it, with ErrTooLarge, and that every
// cookie written stays within MaxCookieLen.
func TestTooLarge(t *testing.T) {
	f := newFlash(t)
	big, _ := json.Marshal(strings.Repeat("<", 2000)) // escaped by JSON: six bytes each
	rec := httptest.NewRecorder()
	if err := f.Save(rec, flash.Contents{Messages: []flash.Message{{Text: "Try again."}}, Data: big}); err != nil {
		t.Errorf("Save(too much data) = %v; want nil (data is left out quietly)", err)
	}
	got := f.TakeAll(httptest.NewRecorder(), next(rec))
	if len(got.Messages) != 1 || got.Data != nil {
		t.Errorf("after too much data, TakeAll = %+v; want the message without data", got)
	}

	msgs := make([]flash.Message, 5)
	for i := range msgs {
		msgs[i] = flash.Message{Text: fmt.Sprintf("%d %s", i, strings.Repeat("x", 900))}
	}
	rec = httptest.NewRecorder()
	if err := f.Set(rec, msgs...); !errors.Is(err, flash.ErrTooLarge) {
		t.Errorf("Set(4.5 KB of messages) = %v; want ErrTooLarge", err)
	}
	if v := rec.Result().Cookies()[0].Value; len(v) > flash.MaxCookieLen {
		t.Errorf("cookie value is %d bytes; want at most %d", len(v), flash.MaxCookieLen)
	}
	taken := f.Take(httptest.NewRecorder(), next(rec))
	if len(taken) == 0 || len(taken) == 5 || !strings.HasPrefix(taken[0].Text, "0 ") {
		t.Errorf("Take after too many messages = %d messages; want the first ones that fit", len(taken))
	}
}

// TestAdd checks that Add keeps what is waiting, from the request or set
// earlier in the same response, and does not bring back what Take took.
func TestAdd(t *testing.T) {
	f := newFlash(t)
	rec := httptest.NewRecorder()
	f.Set(rec, flash.Message{Text: "one"})
	r := next(rec)

	rec = httptest.NewRecorder()
	f.Add(rec, r, flash.Message{Text: "two"})
	f.Add(rec, r, flash.Message{Text: "three"})
	if got := texts(f.Take(httptest.NewRecorder(), next(rec))); got != "one two three" {
		t.Errorf("after two Adds, Take = %q; want \"one two three\"", got)
	}

	rec = httptest.NewRecorder()
	f.Take(rec, r)
	f.Add(rec, r, flash.Message{Text: "later"})
	if got := texts(f.Take(httptest.NewRecorder(), next(rec))); got != "later" {
		t.Errorf("Take then Add, next Take = %q; want \"later\"", got)
	}
}

func texts(msgs []flash.Message) string {
	var s []string
	for _, m := range msgs {
		s = append(s, m.Text)
	}
	return strings.Join(s, " ")
}

// A handler sets a message and redirects; the next page takes it, once.
func Example() {
	key := bytes.Repeat([]byte{7}, 32) // in an app: its secret key
	f, err := flash.New(key)
	if err != nil {
		panic(err)
	}

	// POST /logout
	rec := httptest.NewRecorder()
	f.Set(rec, flash.Message{Text: "You have logged out.", Category: "info"})

	// GET / after the redirect, carrying the cookie.
	r := httptest.NewRequest("GET", "/", nil)
	r.AddCookie(rec.Result().Cookies()[0])
	for _, m := range f.Take(httptest.NewRecorder(), r) {
		fmt.Printf("%s: %s\n", m.Category, m.Text)
	}
	// Output: info: You have logged out.
}

// The values of a failed form ride along with the message, to fill the
// form again.
func ExampleFlash_Save() {
	f, _ := flash.New(bytes.Repeat([]byte{7}, 32))
	type form struct{ Email string }
	data, _ := json.Marshal(form{Email: "ann@example.com"})
	rec := httptest.NewRecorder()
	f.Save(rec, flash.Contents{
		Messages: []flash.Message{{Text: "Please check your login details.", Category: "danger"}},
		Data:     data,
	})

	r := httptest.NewRequest("GET", "/login", nil)
	r.AddCookie(rec.Result().Cookies()[0])
	c := f.TakeAll(httptest.NewRecorder(), r)
	var v form
	json.Unmarshal(c.Data, &v)
	fmt.Println(c.Messages[0].Text, v.Email)
	// Output: Please check your login details. ann@example.com
}

// TestInvalidData checks that data that is not JSON is left out and the
// messages still go.
func TestInvalidData(t *testing.T) {
	f := newFlash(t)
	rec := httptest.NewRecorder()
	f.Save(rec, flash.Contents{Messages: []flash.Message{{Text: "Hi", Data: json.RawMessage("{")}}, Data: json.RawMessage("nope")})
	got := f.TakeAll(httptest.NewRecorder(), next(rec))
	if len(got.Messages) != 1 || got.Messages[0].Text != "Hi" || got.Messages[0].Data != nil || got.Data != nil {
		t.Errorf("TakeAll after data that is not JSON = %+v; want the message alone", got)
	}
}
