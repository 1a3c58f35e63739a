// Package flash carries one-time messages, such as "You have logged out.",
// from the request that sets them to the next page the browser shows,
// across one redirect, as Flask's flash() does.
//
// The messages ride in a cookie signed with HMAC-SHA256 under the
// application's secret key, so nobody can make the site show words of
// theirs; a cookie that is forged, garbled or too long is dropped without a
// word, as if there were none. A message has a category (danger, success,
// info, say) for the page to style it by, and optional application data;
// the cookie can also carry data of its own, such as the fields of a form
// whose submission failed, to fill the form again after the redirect.
//
// The content is signed, not encrypted: the browser's user can read it, so
// it must hold nothing the user may not see.
package flash

import (
	"cmp"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"
)

// Message is one message to show.
type Message struct {
	// Text is the message as the user reads it.
	Text string `json:"t"`
	// Category says how to show it: "danger", "success", "info" or
	// whatever the application's pages style.
	Category string `json:"c,omitempty"`
	// Data is optional JSON the application shows with the message, such
	// as a link to add after the text.
	Data json.RawMessage `json:"d,omitempty"`
}

// Contents is everything one flash cookie carries.
type Contents struct {
	// Messages are shown on the next page, in order.
	Messages []Message `json:"m,omitempty"`
	// Data is optional JSON for the next request, such as the values of a
	// form to fill again. It is the first thing left out when the cookie
	// would be too long.
	Data json.RawMessage `json:"d,omitempty"`
}

// MaxCookieLen is the longest cookie value a Flash writes or reads, below
// the 4096 bytes browsers keep for a whole cookie with its name. A longer
// value from a browser was not written by a Flash, and is dropped unread.
const MaxCookieLen = 4000

// ErrTooLarge is returned by [Flash.Save] and [Flash.Add] when messages
// were left out because the cookie would have been longer than
// [MaxCookieLen].
var ErrTooLarge = errors.New("flash: messages left out: they do not fit in one cookie; send shorter or fewer messages")

var errNoKey = errors.New("flash: the Flash has no key; make it with New")

// Flash reads and writes the flash cookie. Make it with [New], then set its
// fields before use; its methods may then be called from many goroutines
// at once. A Flash not made by New reads no cookie and writes none.
type Flash struct {
	key []byte

	// Name is the cookie's name. Default "flash". With Secure it is sent
	// with the "__Host-" prefix.
	Name string
	// Secure marks the cookie Secure and names it with the "__Host-"
	// prefix, which browsers accept only from HTTPS, for the whole host
	// and no domain, so that a subdomain cannot plant a flash cookie (a
	// signed one replayed from elsewhere on the site, say) or one that
	// shadows the site's. Set it whenever the site is served over HTTPS.
	// Default false.
	Secure bool
	// MaxAge is how long messages wait for the next page; zero means the
	// default. Default 5 minutes: a redirect takes a moment, and a message
	// found an hour later would be about something the user no longer
	// remembers.
	MaxAge time.Duration
}

// New returns a Flash that signs its cookies with key, which must be at
// least 32 bytes of secret randomness; the key may be shared with other
// uses, as signatures are bound to this package and to the cookie's Name.
func New(key []byte) (*Flash, error) {
	if len(key) < 32 {
		return nil, errors.New("flash: key must be at least 32 bytes; generate one with `openssl rand -hex 32`")
	}
	return &Flash{key: append([]byte(nil), key...), Name: "flash", MaxAge: 5 * time.Minute}, nil
}

// CookieName returns the name the cookie is sent under: Name, with the
// "__Host-" prefix when Secure.
func (f *Flash) CookieName() string {
	name := cmp.Or(f.Name, "flash")
	if f.Secure {
		return "__Host-" + name
	}
	return name
}

// Set replaces the messages waiting for the next page with msgs. It
// reports [ErrTooLarge] when some did not fit.
func (f *Flash) Set(w http.ResponseWriter, msgs ...Message) error {
	return f.Save(w, Contents{Messages: msgs})
}

// Add appends msgs to the messages waiting for the next page: those of
// r's cookie, or those this response already sets, from an earlier Add,
// Set or Save while serving r. Messages already taken by [Flash.Take]
// during r are not shown again. It reports [ErrTooLarge] when some did not
// fit.
func (f *Flash) Add(w http.ResponseWriter, r *http.Request, msgs ...Message) error {
	c, ok := f.fromResponse(w)
	if !ok {
		c = f.read(r)
	}
	c.Messages = append(c.Messages, msgs...)
	return f.Save(w, c)
}

// Save replaces what waits for the next request with c. When the cookie
// would be too long, c.Data is left out first, so the messages still show;
// then messages from the last, and Save reports [ErrTooLarge].
func (f *Flash) Save(w http.ResponseWriter, c Contents) error {
	if len(f.key) == 0 {
		// A cookie signed with no key is one anybody could forge.
		return errNoKey
	}
	v := f.encode(c)
	var err error
	if len(v) > MaxCookieLen && c.Data != nil {
		c.Data = nil
		v = f.encode(c)
	}
	for len(v) > MaxCookieLen {
		c.Messages = c.Messages[:len(c.Messages)-1]
		v = f.encode(c)
		err = ErrTooLarge
	}
	if len(c.Messages) == 0 && c.Data == nil {
		f.clear(w)
		return err
	}
	http.SetCookie(w, f.cookie(v, int(cmp.Or(f.MaxAge, 5*time.Minute)/time.Second)))
	return err
}

// Take returns the messages waiting for this page and clears them, so
// that they show once. A forged, garbled or expired cookie gives none.
func (f *Flash) Take(w http.ResponseWriter, r *http.Request) []Message {
	return f.TakeAll(w, r).Messages
}

// TakeAll returns the messages and data waiting for this request and
// clears them. Any cookie of the flash's name is cleared, readable or not,
// so that a bad one does not stay in the browser.
func (f *Flash) TakeAll(w http.ResponseWriter, r *http.Request) Contents {
	if _, err := r.Cookie(f.CookieName()); err != nil {
		return Contents{}
	}
	f.clear(w)
	return f.read(r)
}

func (f *Flash) cookie(value string, maxAge int) *http.Cookie {
	// HttpOnly: no script needs the messages. Lax: the messages follow
	// the site's own redirects and top-level links to it.
	return &http.Cookie{
		Name: f.CookieName(), Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: f.Secure, SameSite: http.SameSiteLaxMode,
	}
}

func (f *Flash) clear(w http.ResponseWriter) {
	http.SetCookie(w, f.cookie("", -1))
}

// sign returns the MAC of b. The package's own label and the cookie's
// Name come first, so that a value signed with the same key for another
// purpose, or for another flash cookie, is never accepted here.
func (f *Flash) sign(b []byte) []byte {
	m := hmac.New(sha256.New, f.key)
	m.Write([]byte("latch flash v2\x00"))
	m.Write([]byte(cmp.Or(f.Name, "flash")))
	m.Write([]byte{0})
	m.Write(b)
	return m.Sum(nil)
}

// encode returns c as a signed cookie value: the JSON and its MAC, each in
// unpadded URL-safe base64, joined by a dot.
func (f *Flash) encode(c Contents) string {
	b, err := json.Marshal(c)
	if err != nil {
		// Only Data that is not JSON gets here; the messages still go.
		c.Data = nil
		for i := range c.Messages {
			if !json.Valid(c.Messages[i].Data) {
				c.Messages[i].Data = nil
			}
		}
		b, _ = json.Marshal(c)
	}
	return base64.RawURLEncoding.EncodeToString(b) + "." + base64.RawURLEncoding.EncodeToString(f.sign(b))
}

// decode returns the contents of a cookie value, or false when it is too
// long, garbled or not signed with the key.
func (f *Flash) decode(v string) (Contents, bool) {
	var c Contents
	if len(v) > MaxCookieLen || len(f.key) == 0 {
		return c, false
	}
	body, sig, ok := strings.Cut(v, ".")
	if !ok {
		return c, false
	}
	b, err1 := base64.RawURLEncoding.DecodeString(body)
	s, err2 := base64.RawURLEncoding.DecodeString(sig)
	if err1 != nil || err2 != nil || !hmac.Equal(s, f.sign(b)) {
		return c, false
	}
	if json.Unmarshal(b, &c) != nil {
		return Contents{}, false
	}
	return c, true
}

// read returns the contents of r's cookie, empty when absent or bad.
func (f *Flash) read(r *http.Request) Contents {
	ck, err := r.Cookie(f.CookieName())
	if err != nil {
		return Contents{}
	}
	c, _ := f.decode(ck.Value)
	return c
}

// fromResponse returns what the response being written already sets, if
// it sets the cookie: empty if it clears it.
func (f *Flash) fromResponse(w http.ResponseWriter) (Contents, bool) {
	lines := w.Header()["Set-Cookie"]
	for i := len(lines) - 1; i >= 0; i-- {
		ck, err := http.ParseSetCookie(lines[i])
		if err != nil || ck.Name != f.CookieName() {
			continue
		}
		if ck.MaxAge < 0 {
			return Contents{}, true
		}
		c, _ := f.decode(ck.Value)
		return c, true
	}
	return Contents{}, false
}
