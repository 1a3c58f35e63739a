package app

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
)

// flash is a one-time message shown on the next page, as Flask's flash().
type flash struct {
	// Text is the message.
	Text string `json:"t"`
	// Kind is a Bulma notification colour: danger, success, info, warning.
	Kind string `json:"k"`
	// LinkText and LinkURL add ". Go to <a>LinkText</a>." after the text.
	LinkText string `json:"lt,omitempty"`
	LinkURL  string `json:"lu,omitempty"`
}

// Lead returns Text without its closing full stop, for the sentence that
// a link adds after it: a message written as a whole sentence must not
// read "one.. Go to".
func (f flash) Lead() string { return strings.TrimSuffix(f.Text, ".") }

// flashCookie carries flashes and the form values of a redirected
// submission across one redirect, signed with the app's secret key so that
// nobody can make the site show a message of theirs.
type flashCookie struct {
	Flashes []flash    `json:"f,omitempty"`
	Form    formValues `json:"v"`
}

const flashCookieName = "latch_flash"

// flasher reads and writes the flash cookie.
type flasher struct {
	key    []byte
	secure bool
}

// name is the flash cookie's name: in secure mode with the "__Host-"
// prefix, as the session cookies have, which browsers accept only from
// HTTPS, for the whole host and no domain, so that a subdomain cannot plant
// a flash cookie (a signed one replayed from elsewhere on the site, say)
// or one that shadows the site's.
func (f *flasher) name() string {
	if f.secure {
		return "__Host-" + flashCookieName
	}
	return flashCookieName
}

func (f *flasher) sign(b []byte) []byte {
	m := hmac.New(sha256.New, f.key)
	m.Write([]byte("latch flash v1\x00"))
	m.Write(b)
	return m.Sum(nil)
}

// maxFlashCookie is the longest cookie value read accepts, below the 4096
// bytes browsers keep for a whole cookie.
const maxFlashCookie = 4000

// set stores c for the next request. The messages always fit; form values
// so long that the cookie would not (an email of 500 "<", escaped by JSON)
// are left out, so the message still shows, over an empty field.
func (f *flasher) set(w http.ResponseWriter, c flashCookie) {
	v := f.encode(c)
	if len(v) > maxFlashCookie {
		c.Form = formValues{}
		v = f.encode(c)
	}
	http.SetCookie(w, &http.Cookie{
		Name: f.name(), Value: v, Path: "/", MaxAge: 300,
		HttpOnly: true, Secure: f.secure, SameSite: http.SameSiteLaxMode,
	})
}

// encode returns c as a signed cookie value.
func (f *flasher) encode(c flashCookie) string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b) + "." + base64.RawURLEncoding.EncodeToString(f.sign(b))
}

// add appends one message for the next request; for latch.Manager.Flash.
func (f *flasher) add(w http.ResponseWriter, r *http.Request, text string) {
	f.set(w, flashCookie{Flashes: []flash{{Text: text, Kind: "info"}}})
}

// read returns the cookie's content, empty when absent or tampered with.
func (f *flasher) read(r *http.Request) flashCookie {
	var c flashCookie
	ck, err := r.Cookie(f.name())
	if err != nil || len(ck.Value) > maxFlashCookie {
		return c
	}
	body, sig, ok := strings.Cut(ck.Value, ".")
	if !ok {
		return c
	}
	b, err1 := base64.RawURLEncoding.DecodeString(body)
	s, err2 := base64.RawURLEncoding.DecodeString(sig)
	if err1 != nil || err2 != nil || !hmac.Equal(s, f.sign(b)) {
		return c
	}
	if json.Unmarshal(b, &c) != nil {
		return flashCookie{}
	}
	return c
}

// present reports whether r carries the flash cookie, exactly when
// r.Cookie would find it. Most requests carry no cookie, or only the
// session's: looking for the name in the raw header first spares them the
// parsing of every cookie.
func (f *flasher) present(r *http.Request) bool {
	for _, line := range r.Header["Cookie"] {
		if strings.Contains(line, flashCookieName) {
			_, err := r.Cookie(f.name())
			return err == nil
		}
	}
	return false
}

// take returns the pending flashes and clears the cookie.
func (f *flasher) take(w http.ResponseWriter, r *http.Request) []flash {
	return f.takeAll(w, r).Flashes
}

// takeAll returns the cookie's content, flashes and form values, and clears
// the cookie if there is one.
func (f *flasher) takeAll(w http.ResponseWriter, r *http.Request) flashCookie {
	if !f.present(r) {
		return flashCookie{}
	}
	f.clear(w)
	return f.read(r)
}

func (f *flasher) clear(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: f.name(), Path: "/", MaxAge: -1, HttpOnly: true, Secure: f.secure, SameSite: http.SameSiteLaxMode})
}
