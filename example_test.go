package latch_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/latchauth/latch"
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

func ExampleManager_RequireFresh() {
	m := latch.New(&memstore.Store{}, func(ctx context.Context, id string) (User, error) { return users[id], nil })
	// Changing the password needs a password typed in this session, not a
	// login restored by the remember-me cookie.
	m.RefreshURL = "/reauthenticate"
	http.Handle("POST /password", m.RequireFresh(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "password changed")
	})))
}
