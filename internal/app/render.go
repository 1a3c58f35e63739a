package app

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"maps"
	"net/http"
	"slices"
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
	Errors fieldMessages
	// Next is the safe page to go to after login.
	Next string
	// Message is the text of an error page.
	Message string
	// Sessions are the user's most recently used sessions, on the profile
	// page.
	Sessions []sessionView
	// MoreSessions counts the user's other sessions, not listed.
	MoreSessions int
	// MinPasswordLength is the password rule shown on the sign-up form.
	MinPasswordLength int
	// Life holds what the account lifecycle's pages show.
	Life lifeView
	// Activity is a page of security events.
	Activity activityView
	// Admin is what the administration console shows.
	Admin adminView
	// TwoFactor holds what the two-step sign-in pages show, or nil.
	TwoFactor *twoFactorView
}

// formValues are the fields kept filled after a failed submission.
type formValues struct {
	Email string `json:"e,omitempty"`
	Name  string `json:"n,omitempty"`
}

// parseTemplates builds one template set per page: the layout plus the page.
func parseTemplates() (map[string]*template.Template, error) {
	pages := []string{"index", "login", "signup", "profile", "logout", "error", "confirm", "forgot", "reset", "sent", "verify", "account", "undo", "activity", "admin-users", "admin-user", "twofactor", "secondstep"}
	layout, err := readTemplate("layout")
	if err != nil {
		return nil, err
	}
	set := make(map[string]*template.Template, len(pages))
	for _, name := range pages {
		text, err := readTemplate(name)
		if err != nil {
			return nil, err
		}
		t, err := template.New("layout.html").Parse(layout)
		if err == nil {
			_, err = t.New(name + ".html").Parse(text)
		}
		if err != nil {
			return nil, fmt.Errorf("parse template %s: %w", name, err)
		}
		set[name] = t
	}
	return set, nil
}

// readTemplate returns the page template name without its indentation (see
// unindent).
func readTemplate(name string) (string, error) {
	b, err := fs.ReadFile(templateFS, "templates/"+name+".html")
	if err != nil {
		return "", fmt.Errorf("read template %s: %w", name, err)
	}
	return string(unindent(b)), nil
}

// unindent removes the leading and trailing blanks of every line and the
// lines left empty, which the templates have for their readers and a
// browser ignores: a line break stays between the words of two lines. It
// takes a quarter off the pages, and with it the profile of a user with
// one session fits net/http's 2 KiB response buffer, which then counts its
// Content-Length itself (see writePage). The page templates hold no pre,
// textarea or inline script, where blanks would matter; TestUnindentedPages
// keeps it so.
func unindent(b []byte) []byte {
	out := make([]byte, 0, len(b))
	for line := range bytes.Lines(b) {
		line = bytes.TrimSpace(line)
		if len(line) > 0 {
			out = append(append(out, line...), '\n')
		}
	}
	return out
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
	if fp, ok := a.memo.get(name, p); ok {
		writePage(w, r, status, fp.body, fp.length)
		return nil
	}
	buf := bufPool.Get().(*bytes.Buffer)
	buf.Reset()
	defer bufPool.Put(buf)
	if err := a.execute(buf, name, p); err != nil {
		return err
	}
	a.memo.put(name, p, buf.Bytes())
	writePage(w, r, status, buf.Bytes(), []string{strconv.Itoa(buf.Len())})
	return nil
}

// memoLimit bounds how many rendered pages a pageMemo keeps, memoMaxPage
// the size of each (a profile listing hundreds of sessions is rendered
// every time rather than kept), and memoMaxBytes their total size.
const (
	memoLimit    = 2000
	memoMaxPage  = 64 << 10
	memoMaxBytes = 16 << 20 // all pages together
)

// pageMemo keeps, for each logged-in user and page, the data it was last
// rendered with and the HTML it gave. A user reloading a page whose data
// has not changed gets the same bytes without running the template again,
// which was a quarter of the server's CPU on the profile page.
//
// It is exact, not a cache with an expiry: the templates are deterministic
// functions of the page data (they call no function of time or state), and
// the stored HTML is used only when every field of the new data equals the
// stored data (see samePage). Any change, a new session in the list, a
// renamed user, a flash, gives a new rendering.
type pageMemo struct {
	mu    sync.Mutex
	pages map[memoKey]memoPage
	bytes int // of all pages' HTML
}

type memoKey struct {
	name   string
	userID int64
}

type memoPage struct {
	data page
	fixedPage
}

// get returns the stored rendering of page name for p, if p equals the
// data it was rendered with.
func (m *pageMemo) get(name string, p page) (fixedPage, bool) {
	if p.User == nil {
		return fixedPage{}, false
	}
	m.mu.Lock()
	mp, ok := m.pages[memoKey{name, p.User.ID}]
	m.mu.Unlock()
	if !ok || !samePage(mp.data, p) {
		return fixedPage{}, false
	}
	return mp.fixedPage, true
}

// put stores body as the rendering of page name for p, replacing the
// user's previous one. Pages of anonymous visitors are not stored: they
// have no key of their own, and the common one is rendered once at start.
// Nor are pages over memoMaxPage.
func (m *pageMemo) put(name string, p page, body []byte) {
	if p.User == nil || len(body) > memoMaxPage {
		return
	}
	u := *p.User
	p.User = &u
	p.Flashes = slices.Clone(p.Flashes)
	p.Errors = maps.Clone(p.Errors)
	p.Sessions = slices.Clone(p.Sessions)
	mp := memoPage{data: p, fixedPage: fixedPage{body: bytes.Clone(body), length: []string{strconv.Itoa(len(body))}}}
	key := memoKey{name, u.ID}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.pages == nil {
		m.pages = make(map[memoKey]memoPage)
	}
	m.drop(key)
	for len(m.pages) >= memoLimit || m.bytes+len(body) > memoMaxBytes {
		for k := range m.pages {
			m.drop(k) // an arbitrary one: the next visit renders again
			break
		}
	}
	m.pages[key] = mp
	m.bytes += len(body)
}

// drop forgets the page stored under key. The caller holds m.mu.
func (m *pageMemo) drop(key memoKey) {
	m.bytes -= len(m.pages[key].body)
	delete(m.pages, key)
}

// samePage reports whether a and b hold the same data, field by field. A
// field added to page must be compared here; TestSamePageComparesEveryField
// fails until it is.
func samePage(a, b page) bool {
	return a.Title == b.Title &&
		(a.User == nil) == (b.User == nil) && (a.User == nil || *a.User == *b.User) &&
		slices.Equal(a.Flashes, b.Flashes) &&
		a.Form == b.Form &&
		maps.Equal(a.Errors, b.Errors) && (a.Errors == nil) == (b.Errors == nil) &&
		a.Next == b.Next &&
		a.Message == b.Message &&
		slices.Equal(a.Sessions, b.Sessions) &&
		a.MoreSessions == b.MoreSessions &&
		a.MinPasswordLength == b.MinPasswordLength &&
		a.Life == b.Life &&
		a.Activity.same(b.Activity) &&
		a.Admin.same(b.Admin) &&
		sameTwoFactor(a.TwoFactor, b.TwoFactor)
}

// execute renders the page name with p into buf.
func (a *App) execute(buf *bytes.Buffer, name string, p page) error {
	if err := a.templates[name].ExecuteTemplate(buf, "layout", p); err != nil {
		return fmt.Errorf("render %s: %w: %w", name, errTemplate, err)
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
//
// A body that fits net/http's response buffer gets its Content-Length from
// net/http, which counts the buffered bytes when the handler returns and
// writes the header without a map entry (see securityHeaders for why
// entries count). Longer bodies, and HEAD, which writes no body to count,
// get it here, so no page is sent chunked.
func writePage(w http.ResponseWriter, r *http.Request, status int, body []byte, length []string) {
	h := w.Header()
	h["Content-Type"] = htmlContentType
	h["Cache-Control"] = noStore
	head := r.Method == http.MethodHead
	if head || len(body) > countedBodySize {
		h["Content-Length"] = length
	}
	w.WriteHeader(status)
	if !head {
		w.Write(body)
	}
}

// countedBodySize is the longest body net/http sends with a Content-Length
// it counted itself: its response buffer (bufferBeforeChunkingSize in
// net/http), holding all a handler wrote when it returns.
const countedBodySize = 2048

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
