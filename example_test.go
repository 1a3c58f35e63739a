package latch_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/latchauth/latch"
	"github.com/latchauth/latch/latchtest"
	"github.com/latchauth/latch/memstore"
)

type User struct{ Name string }

var users = map[string]User{"42": {Name: "Anthony"}}

// A complete application: a login handler, a protected page and the
// middleware around them.
func Example() {
	m := latch.New(&memstore.Store{}, func(ctx context.Context, id string) (User, error) {
		u, ok := users[id]
		if !ok {
			return User{}, latch.ErrUnknownUser
		}
		return u, nil
	})

	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		// Check the password here, then:
		if err := m.LogIn(w, r, "42", latch.LoginOptions{Remember: r.FormValue("remember") == "on"}); err != nil {
			http.Error(w, "could not log in", http.StatusServiceUnavailable)
			return
		}
		http.Redirect(w, r, "/profile", http.StatusSeeOther)
	})
	mux.Handle("GET /profile", m.RequireLogin(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "Welcome, %s!", m.Current(r).User.Name)
	})))
	handler := m.Middleware(mux)

	// An anonymous visit is sent to the login page.
	rec := httptest.NewRecorder()
	handler.ServeHTTP(rec, httptest.NewRequest("GET", "/profile", nil))
	fmt.Println(rec.Code, rec.Header().Get("Location"))

	// Logging in sets the session cookie; with it, the profile opens.
	rec = httptest.NewRecorder()
	handler.ServeHTTP(rec, httptest.NewRequest("POST", "/login", nil))
	req := httptest.NewRequest("GET", "/profile", nil)
	for _, c := range rec.Result().Cookies() {
		req.AddCookie(c)
	}
	rec = httptest.NewRecorder()
	handler.ServeHTTP(rec, req)
	fmt.Println(rec.Code, rec.Body.String())
	// Output:
	// 303 /login?next=%2Fprofile
	// 200 Welcome, Anthony!
}

func ExampleSafeNext() {
	for _, next := range []string{"/profile?tab=1", "//evil.example", "https://evil.example", "/\\evil.example"} {
		_, ok := latch.SafeNext(next)
		fmt.Println(next, ok)
	}
	// Output:
	// /profile?tab=1 true
	// //evil.example false
	// https://evil.example false
	// /\evil.example false
}

// newManager returns a Manager on a memstore that loads the users above.
func newManager() *latch.Manager[User] {
	return latch.New(&memstore.Store{}, func(ctx context.Context, id string) (User, error) {
		u, ok := users[id]
		if !ok {
			return User{}, latch.ErrUnknownUser
		}
		return u, nil
	})
}

// send serves one request to h with the given cookies and headers
// ("Name: value"), as a browser would send it.
func send(h http.Handler, method, path string, cookies []*http.Cookie, headers ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, nil)
	for _, c := range cookies {
		req.AddCookie(c)
	}
	for _, kv := range headers {
		k, v, _ := strings.Cut(kv, ": ")
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// login logs the user in as a login handler would, and returns the cookies
// the browser gets.
func login(m *latch.Manager[User], id string, opts latch.LoginOptions) []*http.Cookie {
	h := m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := m.LogIn(w, r, id, opts); err != nil {
			panic(err)
		}
	}))
	return live(send(h, "POST", "/login", nil, "User-Agent: Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0"))
}

// live returns the cookies of rec that are set, not cleared.
func live(rec *httptest.ResponseRecorder) []*http.Cookie {
	var set []*http.Cookie
	for _, c := range rec.Result().Cookies() {
		if c.MaxAge >= 0 {
			set = append(set, c)
		}
	}
	return set
}

func ExampleManager_LogIn() {
	m := newManager()
	h := m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Check the password here, then log in, remembered for a week.
		opts := latch.LoginOptions{Remember: true, Duration: 7 * 24 * time.Hour}
		if err := m.LogIn(w, r, "42", opts); err != nil {
			http.Error(w, "could not log in", http.StatusServiceUnavailable)
			return
		}
		// The rest of the request sees the new login.
		cur := m.Current(r)
		fmt.Println(cur.User.Name, cur.Fresh, cur.Remember, cur.Source)
	}))
	rec := send(h, "POST", "/login", nil)
	session, remember := m.CookieNames()
	for _, c := range live(rec) {
		fmt.Println(c.Name == session, c.Name == remember, c.HttpOnly)
	}
	// Output:
	// Anthony true true session
	// true false true
	// false true true
}

func ExampleManager_CompleteLogIn() {
	m := newManager()
	m.PendingKey = []byte("a secret of at least 32 bytes....")
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		// The password was right, and the user has a second factor.
		if err := m.LogIn(w, r, "42", latch.LoginOptions{Partial: true}); err != nil {
			http.Error(w, "could not log in", http.StatusServiceUnavailable)
			return
		}
		fmt.Println("after the password:", m.Current(r).Authenticated)
	})
	mux.HandleFunc("POST /login/code", func(w http.ResponseWriter, r *http.Request) {
		p, ok := m.Pending(r)
		if !ok {
			http.Redirect(w, r, "/login", http.StatusSeeOther)
			return
		}
		fmt.Println("code owed by user", p.UserID)
		// Check the user's code here, then:
		if err := m.CompleteLogIn(w, r); err != nil {
			http.Error(w, "log in again", http.StatusUnauthorized)
			return
		}
		fmt.Println("after the code:", m.Current(r).User.Name)
	})
	h := m.Middleware(mux)
	rec := send(h, "POST", "/login", nil)
	send(h, "POST", "/login/code", live(rec))
	// Output:
	// after the password: false
	// code owed by user 42
	// after the code: Anthony
}

func ExampleManager_LogOut() {
	m := newManager()
	mux := http.NewServeMux()
	mux.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) {
		if err := m.LogOut(w, r); err != nil {
			http.Error(w, "could not log out", http.StatusServiceUnavailable)
			return
		}
		fmt.Println("after LogOut:", m.Current(r).Authenticated)
	})
	mux.HandleFunc("GET /whoami", func(w http.ResponseWriter, r *http.Request) {
		fmt.Println("whoami:", m.Current(r).User.Name)
	})
	h := m.Middleware(mux)

	cookies := login(m, "42", latch.LoginOptions{})
	send(h, "GET", "/whoami", cookies)
	send(h, "POST", "/logout", cookies)
	// The old cookies are dead: the session is gone from the store.
	send(h, "GET", "/whoami", cookies)
	// Output:
	// whoami: Anthony
	// after LogOut: false
	// whoami:
}

func ExampleManager_ConfirmLogin() {
	m := newManager()
	mux := http.NewServeMux()
	mux.HandleFunc("POST /confirm", func(w http.ResponseWriter, r *http.Request) {
		// Check the password again here, then:
		if err := m.ConfirmLogin(w, r); err != nil {
			http.Error(w, "log in first", http.StatusUnauthorized)
		}
	})
	mux.Handle("POST /password", m.RequireFresh(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "password changed")
	})))
	h := m.Middleware(mux)

	// A login restored from the remember-me cookie is not fresh.
	_, remember := m.CookieNames()
	var cookies []*http.Cookie
	for _, c := range login(m, "42", latch.LoginOptions{Remember: true}) {
		if c.Name == remember {
			cookies = append(cookies, c)
		}
	}
	rec := send(h, "POST", "/password", cookies)
	fmt.Println(rec.Code, rec.Header().Get("Location"))
	cookies = live(rec) // the restored session's new cookies

	rec = send(h, "POST", "/confirm", cookies)
	cookies = live(rec) // ConfirmLogin rotates the session token
	rec = send(h, "POST", "/password", cookies)
	fmt.Println(rec.Code, rec.Body.String())
	// Output:
	// 303 /login
	// 200 password changed
}

func ExampleManager_Sessions() {
	m := newManager()
	ctx := context.Background()
	for _, ua := range []string{"Firefox on a laptop", "Safari on a phone"} {
		h := m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			m.LogIn(w, r, "42", latch.LoginOptions{})
		}))
		send(h, "POST", "/login", nil, "User-Agent: "+ua)
	}
	// SessionInfo has everything to show but the token hashes.
	list, _ := m.Sessions(ctx, "42")
	fmt.Println(len(list))

	// Revoke ends one session; a session of another user is not found.
	fmt.Println(m.Revoke(ctx, "42", list[0].ID))
	fmt.Println(m.Revoke(ctx, "7", list[1].ID))
	n, _ := m.RevokeAll(ctx, "42", "")
	fmt.Println(n)
	// Output:
	// 2
	// <nil>
	// latch: session not found
	// 1
}

func ExampleManager_RecentSessions() {
	m := newManager()
	for range 3 {
		login(m, "42", latch.LoginOptions{})
	}
	list, more, _ := m.RecentSessions(context.Background(), "42", 2)
	fmt.Println(len(list), "listed,", more, "more")
	// Output:
	// 2 listed, 1 more
}

func ExampleManager_Prune() {
	m := newManager()
	login(m, "42", latch.LoginOptions{})
	// A day and a half later, the session is past its 24-hour lifetime.
	m.Now = func() time.Time { return time.Now().Add(36 * time.Hour) }
	n, err := m.Prune(context.Background())
	fmt.Println(n, err)
	// Output:
	// 1 <nil>
}

// An API authenticated by a key in the Authorization header, beside pages
// authenticated by the session cookie.
func ExampleManager_RequestLoader() {
	m := newManager()
	m.RequestLoader = func(r *http.Request) (string, error) {
		if r.Header.Get("Authorization") == "Bearer secret-key-of-42" {
			return "42", nil
		}
		return "", nil // no key, or a wrong one: anonymous
	}
	api := m.RequireLoginWith(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cur := m.Current(r)
		fmt.Fprintf(w, "%s (%s, fresh %v)", cur.User.Name, cur.Source, cur.Fresh)
	}), latch.DenyJSON(`Bearer realm="api"`))
	h := m.Middleware(api)

	rec := send(h, "GET", "/api/me", nil, "Authorization: Bearer secret-key-of-42")
	fmt.Println(rec.Code, rec.Body.String())
	rec = send(h, "GET", "/api/me", nil, "Authorization: Bearer guessed")
	fmt.Println(rec.Code, rec.Header().Get("WWW-Authenticate"), strings.TrimSpace(rec.Body.String()))
	// Output:
	// 200 Anthony (request, fresh false)
	// 401 Bearer realm="api" {"error":"authentication required"}
}

// An API that answers 401 whatever the client's Accept header, while pages
// send browsers to the login page.
func ExampleManager_Unauthorized() {
	m := newManager()
	mux := http.NewServeMux()
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") })
	mux.Handle("GET /profile", m.RequireLogin(ok))
	api := latch.DenyJSON(`Bearer realm="api"`)
	mux.Handle("GET /api/me", m.RequireLoginWith(ok, api))
	h := m.Middleware(mux)

	// curl and fetch() send "Accept: */*".
	for _, path := range []string{"/profile", "/api/me"} {
		rec := send(h, "GET", path, nil, "Accept: */*")
		fmt.Println(path, rec.Code, rec.Header().Get("Location")+rec.Header().Get("WWW-Authenticate"))
	}
	// Unauthorized changes the answer of every guard without its own.
	members := newManager()
	members.Unauthorized = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "members only", http.StatusForbidden)
	})
	h = members.Middleware(members.RequireLogin(ok))
	rec := send(h, "GET", "/profile", nil)
	fmt.Println("/profile", rec.Code, strings.TrimSpace(rec.Body.String()))
	// Output:
	// /profile 303 /login?next=%2Fprofile
	// /api/me 401 Bearer realm="api"
	// /profile 403 members only
}

func ExampleManager_RequireFresh() {
	m := newManager()
	// Changing the password needs a password typed in this login session, not a
	// login restored by the remember-me cookie.
	m.RefreshURL = "/reauthenticate"
	h := m.Middleware(m.RequireFresh(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "password changed")
	})))
	fresh := login(m, "42", latch.LoginOptions{})
	notFresh := login(m, "42", latch.LoginOptions{NotFresh: true})
	rec := send(h, "POST", "/password", fresh)
	fmt.Println(rec.Code, rec.Body.String())
	rec = send(h, "POST", "/password", notFresh)
	fmt.Println(rec.Code, rec.Header().Get("Location"))
	// Output:
	// 200 password changed
	// 303 /reauthenticate
}

func ExampleManager_OnEvent() {
	m := newManager()
	m.OnEvent = func(r *http.Request, e latch.Event) {
		fmt.Println(e.Kind, e.UserID, e.Reason)
	}
	h := m.Middleware(m.RequireLogin(http.NotFoundHandler()))
	send(h, "GET", "/profile", nil)
	login(m, "42", latch.LoginOptions{})
	// Output:
	// denied  login required
	// logged in 42
}

func ExampleManager_Lookup() {
	m := latch.New(&memstore.Store{}, func(ctx context.Context, id string) (User, error) {
		return User{}, fmt.Errorf("users table: connection refused")
	})
	h := m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Current takes a failure for an anonymous visit; Lookup tells.
		_, err := m.Lookup(r)
		fmt.Println(m.Current(r).Authenticated, err)
	}))
	send(h, "GET", "/", login(m, "42", latch.LoginOptions{}))
	// Output:
	// false latch: load user "42": users table: connection refused
}

func ExampleManager_Protection() {
	m := newManager()
	m.Protection = latch.ProtectionBasic
	h := m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cur := m.Current(r)
		fmt.Println(cur.Authenticated, cur.Fresh)
	}))
	cookies := login(m, "42", latch.LoginOptions{})
	// login logs in from Firefox on Linux; a newer Firefox there keeps the
	// session fresh, Firefox on Windows presenting the same cookie does not.
	send(h, "GET", "/", cookies, "User-Agent: Mozilla/5.0 (X11; Linux x86_64) Firefox/134.0")
	send(h, "GET", "/", cookies, "User-Agent: Mozilla/5.0 (Windows NT 10.0) Firefox/133.0")
	// Output:
	// true true
	// true false
}

// Testing a guarded page of an application: latchtest logs the user in
// without the login form.
func Example_testing() {
	m := newManager()
	mux := http.NewServeMux()
	mux.Handle("GET /profile", m.RequireLogin(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "Welcome, %s!", m.Current(r).User.Name)
	})))
	srv := httptest.NewServer(m.Middleware(mux))
	defer srv.Close()

	t := &testing.T{} // in a test, the test's own t
	c := latchtest.LoginAs(t, m, srv.URL, "42", latch.LoginOptions{})
	resp, err := c.Get(srv.URL + "/profile")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.StatusCode, string(body))
	// Output:
	// 200 Welcome, Anthony!
}

// An API route that asks for a fresh login answers 401 in both cases, and
// says which through its own handler.
func ExampleManager_RequireFreshWith() {
	m := newManager()
	deny := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="api"`)
		if m.Current(r).Authenticated {
			http.Error(w, `{"error":"fresh login required"}`, http.StatusUnauthorized)
			return
		}
		http.Error(w, `{"error":"login required"}`, http.StatusUnauthorized)
	})
	h := m.Middleware(m.RequireFreshWith(http.NotFoundHandler(), deny))
	for _, cookies := range [][]*http.Cookie{nil, login(m, "42", latch.LoginOptions{NotFresh: true})} {
		rec := send(h, "DELETE", "/api/account", cookies)
		fmt.Println(rec.Code, strings.TrimSpace(rec.Body.String()))
	}
	// Output:
	// 401 {"error":"login required"}
	// 401 {"error":"fresh login required"}
}
