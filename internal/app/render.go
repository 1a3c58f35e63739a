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
	if err := a.templates[name].ExecuteTemplate(buf, "layout", p); err != nil {
		return fmt.Errorf("render %s: %w", name, err)
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	// Pages can show a user's data and one-time messages: never cache them.
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		w.Write(buf.Bytes())
	}
	return nil
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
