package app

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"

	latchflash "github.com/latchauth/latch/flash"
)

// flash is a one-time message shown on the next page, as Flask's flash().
type flash struct {
	// Text is the message.
	Text string
	// Kind is a Bulma notification colour: danger, success, info, warning;
	// the cookie carries it as the message's category.
	Kind string
	// LinkText and LinkURL add ". Go to <a>LinkText</a>." after the text;
	// the cookie carries them as the message's data.
	LinkText string
	LinkURL  string
}

// Lead returns Text without its closing full stop, for the sentence that
// a link adds after it: a message written as a whole sentence must not
// read "one.. Go to".
func (f flash) Lead() string { return strings.TrimSuffix(f.Text, ".") }

// flashCookie carries flashes and the form values of a redirected
// submission across one redirect, signed with the app's secret key so that
// nobody can make the site show a message of theirs.
type flashCookie struct {
	Flashes []flash
	Form    formValues
}

const flashCookieName = "latch_flash"

// flasher reads and writes the flash cookie through the public flash
// package, converting between its messages and the app's.
type flasher struct {
	jar    *latchflash.Flash
	secure bool
}

func newFlasher(key []byte, secure bool) (*flasher, error) {
	jar, err := latchflash.New(key)
	if err != nil {
		return nil, err
	}
	jar.Name = flashCookieName
	jar.Secure = secure
	jar.MaxAge = 5 * time.Minute
	return &flasher{jar: jar, secure: secure}, nil
}

// name is the flash cookie's name: in secure mode with the "__Host-"
// prefix, as the session cookies have; see [latchflash.Flash.Secure].
func (f *flasher) name() string {
	if f.secure {
		return "__Host-" + flashCookieName
	}
	return flashCookieName
}

// flashLink is the link a message carries as its data.
type flashLink struct {
	Text string `json:"t"`
	URL  string `json:"u"`
}

// set stores c for the next request. The messages always fit; form values
// so long that the cookie would not (an email of 500 "<", escaped by JSON)
// are left out, so the message still shows, over an empty field.
func (f *flasher) set(w http.ResponseWriter, c flashCookie) {
	var out latchflash.Contents
	for _, m := range c.Flashes {
		msg := latchflash.Message{Text: m.Text, Category: m.Kind}
		if m.LinkText != "" || m.LinkURL != "" {
			msg.Data, _ = json.Marshal(flashLink{Text: m.LinkText, URL: m.LinkURL})
		}
		out.Messages = append(out.Messages, msg)
	}
	if c.Form != (formValues{}) {
		out.Data, _ = json.Marshal(c.Form)
	}
	// The only error is ErrTooLarge, and the app's messages are short.
	_ = f.jar.Save(w, out)
}

// add sets one message for the next request; for latch.Manager.Flash.
func (f *flasher) add(w http.ResponseWriter, r *http.Request, text string) {
	f.set(w, flashCookie{Flashes: []flash{{Text: text, Kind: "info"}}})
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
// the cookie if there is one. A forged or garbled cookie gives nothing.
func (f *flasher) takeAll(w http.ResponseWriter, r *http.Request) flashCookie {
	if !f.present(r) {
		return flashCookie{}
	}
	in := f.jar.TakeAll(w, r)
	var c flashCookie
	for _, m := range in.Messages {
		fl := flash{Text: m.Text, Kind: m.Category}
		var l flashLink
		if m.Data != nil && json.Unmarshal(m.Data, &l) == nil {
			fl.LinkText, fl.LinkURL = l.Text, l.URL
		}
		c.Flashes = append(c.Flashes, fl)
	}
	if in.Data != nil && json.Unmarshal(in.Data, &c.Form) != nil {
		c.Form = formValues{}
	}
	return c
}
