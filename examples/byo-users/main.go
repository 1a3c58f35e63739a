// Command byo-users is a small web app that brings its own users to latch:
// its own table of users, named users, in the SQLite file where sqlitestore
// keeps latch's sessions (latch's tables are all named latch_...), logins
// checked by account.Authenticator over that table, HTML pages for people
// and a JSON API for programs.
//
//	go run ./examples/byo-users -addr localhost:8081 -data-dir ./byo-data
//
// Pages: / (home), /signup, /login, /logout, and /key, which issues an API
// key. The API: GET /api/me answers the logged-in user as JSON, to a
// browser by its session cookie or to a program by its key:
//
//	curl -H "Authorization: Bearer KEY" http://localhost:8081/api/me
//
// Without either, /api/me answers 401 JSON with WWW-Authenticate, never a
// redirect to the login page.
package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"html/template"
	"log"
	"net"
	"net/http"
	"net/mail"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/latchauth/latch"
	"github.com/latchauth/latch/account"
	"github.com/latchauth/latch/password"
	"github.com/latchauth/latch/sqlitestore"
	"github.com/latchauth/latch/throttle"
	_ "modernc.org/sqlite" // registers the "sqlite" driver for database/sql
)

func main() {
	addr := flag.String("addr", "localhost:8081", "address to listen on")
	dir := flag.String("data-dir", "./byo-data", "folder for the database of users and sessions")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *addr, *dir); err != nil {
		fmt.Fprintln(os.Stderr, "byo-users:", err)
		os.Exit(1)
	}
}

// run serves the app on addr until ctx is done.
func run(ctx context.Context, addr, dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create data folder: %w", err)
	}
	a, err := newApp(ctx, dir, password.DefaultParams)
	if err != nil {
		return err
	}
	defer a.Close()
	srv := &http.Server{Addr: addr, Handler: a.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(shutdown)
	}()
	log.Printf("byo-users: listening on http://%s", addr)
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// User is the app's own user, from its own table.
type User struct {
	ID    int64
	Email string
	Name  string
}

// schema is the app's own: latch needs no column of it. The API key is kept
// as its SHA-256 only, as latch keeps session tokens, so that a copy of the
// database opens no account.
const schema = `
CREATE TABLE IF NOT EXISTS users (
	id            INTEGER PRIMARY KEY,
	email         TEXT NOT NULL UNIQUE,
	name          TEXT NOT NULL,
	password_hash TEXT NOT NULL,
	api_key_hash  BLOB UNIQUE,
	created_at    TEXT NOT NULL
)`

// app holds the app's database and latch's Manager.
type app struct {
	users    *sql.DB
	sessions *sqlitestore.DB
	hasher   *password.Hasher
	auth     *latch.Manager[User]
	// logins checks passwords against the users table, throttled and
	// timed alike for unknown emails and wrong passwords.
	logins *account.Authenticator
}

// newApp opens the app's database in dir and hashes passwords with params.
//
// The users and latch's sessions share one file, app.db: sqlitestore names
// its tables latch_..., so the app's users table is its own. sqlitestore
// creates the file and sets it to WAL; the app's pool then opens it.
func newApp(ctx context.Context, dir string, params password.Params) (*app, error) {
	path := filepath.Join(dir, "app.db")
	sessions, err := sqlitestore.Open(ctx, path)
	if err != nil {
		return nil, err
	}
	// One connection: SQLite has one writer at a time, and this app's
	// traffic is small. synchronous=FULL makes a committed sign-up survive
	// a crash; busy_timeout waits while sqlitestore writes.
	dsn := "file:" + path + "?_pragma=synchronous(FULL)&_pragma=busy_timeout(10000)"
	users, err := sql.Open("sqlite", dsn)
	if err != nil {
		sessions.Close()
		return nil, fmt.Errorf("open users database: %w", err)
	}
	users.SetMaxOpenConns(1)
	if _, err := users.ExecContext(ctx, schema); err != nil {
		users.Close()
		sessions.Close()
		return nil, fmt.Errorf("create users table in %s: %w", path, err)
	}
	a := &app{users: users, sessions: sessions, hasher: password.NewHasher(params, 0, 64)}
	a.logins = &account.Authenticator{
		Lookup: a.lookupLogin,
		Rehash: a.rehash,
		Hasher: a.hasher,
		// Failure counts live in latch's table latch_login_failures.
		Throttle: throttle.NewPolicy(sessions),
	}
	a.auth = latch.New(sessions, a.loadUser)
	a.auth.RequestLoader = a.userFromKey
	return a, nil
}

// Close closes the databases.
func (a *app) Close() error {
	return errors.Join(a.sessions.Close(), a.users.Close())
}

// Handler returns every route of the app.
func (a *app) Handler() http.Handler {
	api := latch.DenyJSON(`Bearer realm="byo-users"`)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", a.home)
	mux.HandleFunc("GET /signup", a.form("signup", "Sign up"))
	mux.HandleFunc("POST /signup", a.signup)
	mux.HandleFunc("GET /login", a.form("login", "Log in"))
	mux.HandleFunc("POST /login", a.login)
	mux.HandleFunc("POST /logout", a.logout)
	// A new key replaces the old one: ask for a password typed in this
	// session, not a session restored by remember-me.
	mux.Handle("POST /key", a.auth.RequireFresh(http.HandlerFunc(a.newKey)))
	mux.Handle("GET /api/me", a.auth.RequireLoginWith(http.HandlerFunc(a.me), api))
	// Cross-origin protection covers every form, login included.
	return http.NewCrossOriginProtection().Handler(a.auth.Middleware(mux))
}

// loadUser is latch's LoaderFunc: it reads the app's own table.
func (a *app) loadUser(ctx context.Context, id string) (User, error) {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		return User{}, latch.ErrUnknownUser
	}
	var u User
	err = a.users.QueryRowContext(ctx, `SELECT id, email, name FROM users WHERE id = ?`, n).Scan(&u.ID, &u.Email, &u.Name)
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, latch.ErrUnknownUser
	}
	if err != nil {
		return User{}, fmt.Errorf("load user %d: %w", n, err)
	}
	return u, nil
}

// lookupLogin is the Authenticator's Lookup: the ID and hash of the user
// with that email.
func (a *app) lookupLogin(ctx context.Context, email string) (id, hash string, err error) {
	var n int64
	err = a.users.QueryRowContext(ctx, `SELECT id, password_hash FROM users WHERE email = ?`, email).Scan(&n, &hash)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", account.ErrUserNotFound
	}
	if err != nil {
		return "", "", fmt.Errorf("look up %s: %w", email, err)
	}
	return strconv.FormatInt(n, 10), hash, nil
}

// rehash is the Authenticator's Rehash: it stores a hash at the current
// parameters after a login with an older one.
func (a *app) rehash(ctx context.Context, id, hash string) error {
	if _, err := a.users.ExecContext(ctx, `UPDATE users SET password_hash = ? WHERE id = ?`, hash, id); err != nil {
		log.Printf("byo-users: replace the password hash of user %s: %v", id, err)
		return err
	}
	return nil
}

// userFromKey is latch's RequestLoader: the user whose API key the
// Authorization header carries, or "" for none.
func (a *app) userFromKey(r *http.Request) (string, error) {
	key, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || key == "" || len(key) > 100 {
		return "", nil
	}
	h := sha256.Sum256([]byte(key))
	var id int64
	err := a.users.QueryRowContext(r.Context(), `SELECT id FROM users WHERE api_key_hash = ?`, h[:]).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("look up API key: %w", err)
	}
	return strconv.FormatInt(id, 10), nil
}

var pages = template.Must(template.New("").Parse(`
{{define "top"}}<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{{.Title}}</title></head><body>
<nav><a href="/">Home</a> {{if .User}}<form method="post" action="/logout" style="display:inline"><button>Log out</button></form>{{else}}<a href="/login">Log in</a> <a href="/signup">Sign up</a>{{end}}</nav>
{{with .Error}}<p role="alert">{{.}}</p>{{end}}{{end}}
{{define "home"}}{{template "top" .}}
{{if .User}}<h1>Hello, {{.User.Name}}!</h1>
<form method="post" action="/key"><button>Make a new API key</button></form>
{{with .Key}}<p>Your API key, shown once: <code id="key">{{.}}</code></p>{{end}}
{{else}}<h1>Welcome</h1><p>Log in to see your page.</p>{{end}}</body></html>{{end}}
{{define "login"}}{{template "top" .}}<h1>Log in</h1>
<form method="post" action="/login"><input type="hidden" name="next" value="{{.Next}}">
<label>Email <input type="email" name="email" value="{{.Email}}" required></label>
<label>Password <input type="password" name="password" required></label>
<label><input type="checkbox" name="remember"> Remember me</label>
<button>Log in</button></form></body></html>{{end}}
{{define "signup"}}{{template "top" .}}<h1>Sign up</h1>
<form method="post" action="/signup">
<label>Email <input type="email" name="email" value="{{.Email}}" required></label>
<label>Name <input name="name" value="{{.Name}}" required></label>
<label>Password <input type="password" name="password" minlength="8" required></label>
<button>Sign up</button></form></body></html>{{end}}
`))

// page is what every template gets.
type page struct {
	Title, Error, Email, Name, Next, Key string
	User                                 *User
}

// render writes a page, rendered whole before the first byte goes out.
func (a *app) render(w http.ResponseWriter, r *http.Request, status int, name string, p page) {
	if cur := a.auth.Current(r); cur.Authenticated {
		p.User = &cur.User
	}
	var b strings.Builder
	if err := pages.ExecuteTemplate(&b, name, p); err != nil {
		a.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	fmt.Fprint(w, b.String())
}

// fail logs an internal error and answers 503 without its details.
func (a *app) fail(w http.ResponseWriter, r *http.Request, err error) {
	log.Printf("byo-users: %s %s: %v", r.Method, r.URL.Path, err)
	http.Error(w, "Something went wrong on our side. Please try again in a moment.", http.StatusServiceUnavailable)
}

func (a *app) home(w http.ResponseWriter, r *http.Request) {
	a.render(w, r, http.StatusOK, "home", page{Title: "Home"})
}

// form serves an empty login or sign-up form.
func (a *app) form(name, title string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		next, _ := latch.SafeNext(r.URL.Query().Get("next"))
		a.render(w, r, http.StatusOK, name, page{Title: title, Next: next})
	}
}

func (a *app) signup(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	email := strings.ToLower(strings.TrimSpace(r.PostFormValue("email")))
	name := strings.TrimSpace(r.PostFormValue("name"))
	pw := r.PostFormValue("password")
	p := page{Title: "Sign up", Email: email, Name: name}
	switch addr, err := mail.ParseAddress(email); {
	case err != nil || addr.Address != email || len(email) > 254:
		p.Error = "Please enter an email address such as name@example.com."
	case name == "" || utf8.RuneCountInString(name) > 100 || !utf8.ValidString(name):
		p.Error = "Please enter your name, up to 100 characters."
	case utf8.RuneCountInString(pw) < 8:
		p.Error = "Please choose a password of at least 8 characters."
	}
	if p.Error != "" {
		a.render(w, r, http.StatusBadRequest, "signup", p)
		return
	}
	hash, err := a.hasher.Hash(r.Context(), pw)
	if errors.Is(err, password.ErrTooLong) {
		p.Error = "Please choose a password of at most 1024 bytes."
		a.render(w, r, http.StatusBadRequest, "signup", p)
		return
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	// The UNIQUE email decides, also between two sign-ups at once; the
	// hash is computed either way, so both answers take as long.
	res, err := a.users.ExecContext(r.Context(), `INSERT INTO users (email, name, password_hash, created_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (email) DO NOTHING`, email, name, hash, time.Now().UTC().Format(time.RFC3339))
	if err != nil {
		a.fail(w, r, fmt.Errorf("create user: %w", err))
		return
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		p.Error = "Email address already exists."
		a.render(w, r, http.StatusConflict, "signup", p)
		return
	}
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

func (a *app) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	email := strings.ToLower(strings.TrimSpace(r.PostFormValue("email")))
	next, hasNext := latch.SafeNext(r.PostFormValue("next"))
	p := page{Title: "Log in", Email: email, Next: next}
	id, err := a.logins.Authenticate(r.Context(), account.Login{Email: email, Password: r.PostFormValue("password"), Client: clientIP(r)})
	var throttled *account.ThrottledError
	switch {
	case errors.Is(err, account.ErrBadCredentials):
		p.Error = "Please check your login details and try again."
		a.render(w, r, http.StatusUnauthorized, "login", p)
		return
	case errors.As(err, &throttled):
		w.Header().Set("Retry-After", strconv.Itoa(int(throttled.RetryAfter.Seconds())+1))
		p.Error = "Too many failed attempts. Please wait a minute and try again."
		a.render(w, r, http.StatusTooManyRequests, "login", p)
		return
	case err != nil:
		a.fail(w, r, err)
		return
	}
	opts := latch.LoginOptions{Remember: r.PostFormValue("remember") != ""}
	if err := a.auth.LogIn(w, r, id, opts); err != nil {
		a.fail(w, r, err)
		return
	}
	to := "/"
	if hasNext {
		to = next
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// clientIP is the address the request came from. The app answers
// browsers directly; behind a proxy, take it from the proxy's header
// instead, or every client is throttled as one.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func (a *app) logout(w http.ResponseWriter, r *http.Request) {
	if err := a.auth.LogOut(w, r); err != nil {
		a.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// newKey issues a new API key to the logged-in user, replacing any older
// one, and shows it once.
func (a *app) newKey(w http.ResponseWriter, r *http.Request) {
	b := make([]byte, 32)
	rand.Read(b)
	key := base64.RawURLEncoding.EncodeToString(b)
	h := sha256.Sum256([]byte(key))
	u := a.auth.Current(r).User
	if _, err := a.users.ExecContext(r.Context(), `UPDATE users SET api_key_hash = ? WHERE id = ?`, h[:], u.ID); err != nil {
		a.fail(w, r, fmt.Errorf("store API key: %w", err))
		return
	}
	a.render(w, r, http.StatusOK, "home", page{Title: "Home", Key: key})
}

// me answers who is asking, and how latch found out.
func (a *app) me(w http.ResponseWriter, r *http.Request) {
	cur := a.auth.Current(r)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(struct {
		ID    int64  `json:"id"`
		Email string `json:"email"`
		Name  string `json:"name"`
		Via   string `json:"via"`
	}{cur.User.ID, cur.User.Email, cur.User.Name, cur.Source.String()})
}
