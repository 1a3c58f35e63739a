package app

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strconv"
	"sync"

	"github.com/latchauth/latch/account"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// page is the data every template gets.
type page struct {
	// Title is the page title, shown in the browser tab.
	Title string
	// User is the logged-in user, nil when anonymous.
	User *account.User
	// Flashes are messages carried over from the previous request.
	Flashes []flash
	// Form holds submitted values to show again (never the password).
	Form formValues
	// Errors maps fields to validation messages.
	Errors account.FieldErrors
	// Next is the safe page to go to after login.
	Next string
	// Message is the text of an error page.
	Message string
	// Sessions are the user's sessions, on the profile page.
	Sessions []sessionView
	// MinPasswordLength is the password rule shown on the sign-up form.
	MinPasswordLength int
}

// formValues are the fields kept filled after a failed submission.
type formValues struct {
	Email string `json:"e,omitempty"`
	Name  string `json:"n,omitempty"`
}

// parseTemplates builds one template set per page: the layout plus the page.
func parseTemplates() (map[string]*template.Template, error) {
	pages := []string{"index", "login", "signup", "profile", "logout", "error"}
	set := make(map[string]*template.Template, len(pages))
	for _, name := range pages {
		t, err := template.ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("parse template %s: %w", name, err)
		}
		set[name] = t
	}
	return set, nil
}

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// render writes a page with the given status. The page is rendered into a
// buffer first, so that a template error becomes a clean 500, not half a page.
func (a *App) render(w http.ResponseWriter, r *http.Request, status int, name string, p page) error {
	if p.User == nil {
		if cur := a.auth.Current(r); cur.Authenticated {
			p.User = &cur.User
		}
	}
	if p.Flashes == nil {
		p.Flashes = a.flashes.take(w, r)
	}
	p.MinPasswordLength = a.accounts.MinPasswordLength
	buf := bufPool.Get().(*bytes.Buffer)
	buf.Reset()
	defer bufPool.Put(buf)
	if err := a.execute(buf, name, p); err != nil {
		return err
	}
	writePage(w, r, status, buf.Bytes(), []string{strconv.Itoa(buf.Len())})
	return nil
}

// execute renders the page name with p into buf.
func (a *App) execute(buf *bytes.Buffer, name string, p page) error {
	if err := a.templates[name].ExecuteTemplate(buf, "layout", p); err != nil {
		return fmt.Errorf("render %s: %w", name, err)
	}
	return nil
}

// Header values of every page, built once so that writePage assigns them
// without Header.Set's key canonicalisation and per-call slice. Nobody
// modifies them in place: Header.Set replaces a value and Header.Add
// appends to a full slice, which copies it.
var (
	htmlContentType = []string{"text/html; charset=utf-8"}
	// Pages can show a user's data and one-time messages: never cache them.
	noStore = []string{"no-store"}
)

// writePage sends a rendered page with its headers; a HEAD request gets the
// headers only. length is the body's Content-Length, as a header value.
func writePage(w http.ResponseWriter, r *http.Request, status int, body []byte, length []string) {
	h := w.Header()
	h["Content-Type"] = htmlContentType
	h["Content-Length"] = length
	h["Cache-Control"] = noStore
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		w.Write(body)
	}
}

// fixedPage is a page rendered once, at start, because every request that
// gets it gets the same bytes.
type fixedPage struct {
	body   []byte
	length []string // Content-Length, ready for writePage
}

// renderFixed renders the page name with p once, as render would for a
// request that leads to the same p.
func (a *App) renderFixed(name string, p page) (fixedPage, error) {
	p.MinPasswordLength = a.accounts.MinPasswordLength
	var buf bytes.Buffer
	if err := a.execute(&buf, name, p); err != nil {
		return fixedPage{}, err
	}
	return fixedPage{body: buf.Bytes(), length: []string{strconv.Itoa(buf.Len())}}, nil
}

// staticHandler serves the embedded CSS.
func staticHandler() http.Handler {
	sub, err := fs.Sub(staticFS, "static")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	files := http.FileServerFS(sub)
	return http.StripPrefix("/static/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=86400")
		files.ServeHTTP(w, r)
	}))
}
