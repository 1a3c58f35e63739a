// Package latch loads the logged-in user of each request of a net/http
// application, as Flask-Login does for Flask: the application says how to
// load a user from an ID, and latch does the rest.
//
// # Use
//
// Create a [Manager] with a [SessionStore] (memstore for tests, sqlitestore
// or pgstore for real) and a [LoaderFunc], wrap the application's handler
// in [Manager.Middleware], and then:
//
//   - [Manager.Current] tells a handler who is asking; an anonymous request
//     gets the zero [Current], never a nil. The user is loaded at the first
//     call, so a page that never asks never runs the loader;
//     [Manager.Lookup] also returns the error of a loader that failed;
//   - [Manager.RequestLoader] finds the user of a request without session,
//     such as an API client sending a key, who then passes the guards but
//     is never fresh;
//   - [Manager.LogIn] starts a session once the application has checked a
//     password, with the choices of [LoginOptions] ("remember me", a
//     duration, freshness); [Manager.LogOut] ends it. The rest of the
//     request sees either;
//   - [Manager.RequireLogin] guards pages for logged-in users, sending
//     browsers to the login page with a safe "next" and a flashed message;
//     [Manager.Unauthorized] and [Manager.NeedsRefresh] replace that answer,
//     and [Manager.RequireLoginWith] gives a route its own, such as
//     [DenyJSON] for an API;
//   - [LoginOptions.Partial] makes a login of two steps, for a second
//     factor (see below);
//   - [Manager.RequireFresh] guards sensitive pages: a login restored from
//     the remember-me cookie is not fresh, and [Manager.ConfirmLogin] makes
//     it fresh again after the user re-enters the password;
//   - [SafeNext] checks a redirect target taken from a request;
//   - [Manager.RecentSessions], [Manager.Revoke] and [Manager.RevokeAll]
//     list and end a user's sessions on every device; a user has at most
//     [Manager.MaxSessions] at once. Listings are [SessionInfo], without
//     token hashes;
//   - [Manager.OnEvent] is told of logins, logouts, restores and denials,
//     and [Manager.Protection] watches for a session carried to another
//     kind of browser.
//
// Package [github.com/latchauth/latch/latchtest] logs users in for tests of
// an application.
//
// latch renders no HTML: sign-up pages, flash messages and templates belong to
// the application. Password hashing is in the password package, login
// throttling in throttle, and accounts in account.
//
// # Two-step logins
//
// When a user has a second factor, the application checks the password
// and calls [Manager.LogIn] with [LoginOptions.Partial]. That starts no
// session: it ends the request's session, if any, and sets a cookie
// holding the partial login (user ID, the login's options, an expiry
// [Manager.PendingFor] ahead, 5 minutes by default, and a random nonce),
// signed with [Manager.PendingKey]. While it lasts, [Manager.Current] and
// the guards see an anonymous request: a user who owes a second factor
// reaches no page that needs a login. The second step's page reads the
// partial login with [Manager.Pending], checks the factor, and calls
// [Manager.CompleteLogIn], which starts the session as LogIn would have,
// with a new token, and clears the cookie; [Manager.CancelLogIn] and
// [Manager.LogOut] forget it. latch checks no factor itself, and keeps no
// record of partial logins: the application throttles second-step
// attempts per user (throttle.Limiter), since the cookie may be presented
// any number of times until it expires.
//
// # Security model
//
// Sessions live on the server. The browser holds only a random token of 256
// bits from crypto/rand; the store holds its SHA-256, so a leaked copy of the
// database cannot be used as cookies. Every session record belongs to a user
// and carries its creation time, last use, absolute expiry, remember flag,
// freshness, client address and user agent, so logging out truly ends a
// session and a user's sessions can be listed and revoked.
//
// The session token is replaced at every login (no session fixation) and
// the session deleted at logout. Idle and absolute timeouts are enforced by
// the server, whatever the browser keeps. Cookies are HttpOnly and
// SameSite=Lax, Secure and "__Host-" prefixed when [Manager.Secure] is set.
// The session cookie has no expiry, so it ends with the browser; a
// remember-me login adds a second, persistent cookie whose token is also
// only stored hashed, rotates at every use, and dies with the session. The
// rotation is a compare-and-swap in the store: of parallel requests with
// one token, one rotates it and the others are served in its grace.
//
// latch does not protect against cross-site request forgery by itself: wrap
// the application in [net/http.CrossOriginProtection], as the latch app does.
package latch
