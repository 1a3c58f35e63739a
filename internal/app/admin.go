package app

import (
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/latchauth/latch"
	"github.com/latchauth/latch/account"
)

// adminPageSize is how many users a page of the console lists.
const adminPageSize = 50

// adminRow is a user as the console shows one.
type adminRow struct {
	ID        int64
	Email     string
	Name      string
	Created   string
	LastLogin string
	Roles     string
	Disabled  bool
}

// adminView is what the console's pages show.
type adminView struct {
	// Query is the search typed, shown again in its box.
	Query string
	// Users is a page of the list; Next the address of the next page.
	Users []adminRow
	Next  string
	// Target is the user of a user's page.
	Target adminRow
	// Sessions are the target's live sessions, most recently used first.
	Sessions     []sessionView
	MoreSessions int
}

// same reports whether v and o show the same.
func (v adminView) same(o adminView) bool {
	return v.Query == o.Query && slices.Equal(v.Users, o.Users) && v.Next == o.Next &&
		v.Target == o.Target && slices.Equal(v.Sessions, o.Sessions) && v.MoreSessions == o.MoreSessions
}

func rowOf(u account.User) adminRow {
	last := "never"
	if !u.LastLoginAt.IsZero() {
		last = u.LastLoginAt.UTC().Format("2 Jan 2006 15:04 UTC")
	}
	return adminRow{
		ID: u.ID, Email: u.Email, Name: u.Name,
		Created:   u.CreatedAt.UTC().Format("2 Jan 2006"),
		LastLogin: last, Roles: string(u.Roles), Disabled: !u.DisabledAt.IsZero(),
	}
}

// isAdmin is the console's guard: only users with the admin role.
func isAdmin(u account.User) bool { return u.Roles.Has(account.RoleAdmin) }

// adminRoutes adds the administration console. Every path under /admin
// answers 404 to anyone but an administrator, anonymous or not, so that
// the console's existence tells nothing; every action also needs a fresh
// login, so a stolen remember-me cookie of an administrator cannot use it.
func (a *App) adminRoutes(route func(string, http.Handler)) {
	hidden := a.handle(func(http.ResponseWriter, *http.Request) error { return errNotFound })
	admin := func(h http.Handler) http.Handler { return a.auth.RequireWith(isAdmin, h, hidden) }
	act := func(h http.Handler) http.Handler { return admin(a.auth.RequireFresh(h)) }
	route("GET /admin/users", admin(a.handle(a.adminUsers)))
	route("GET /admin/users/{id}", admin(a.handle(a.adminUser)))
	route("POST /admin/users/{id}/disable", act(a.handle(a.adminDisable)))
	route("POST /admin/users/{id}/enable", act(a.handle(a.adminEnable)))
	route("POST /admin/users/{id}/end-sessions", act(a.handle(a.adminEndSessions)))
	route("POST /admin/users/{id}/delete", act(a.handle(a.adminDelete)))
	route("GET /admin/", hidden)
}

var errBadQuery = &httpError{http.StatusBadRequest, "Bad request", "That search is too long or not valid text. Please search for part of an email address or a name."}

func (a *App) adminUsers(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	query := q.Get("q")
	if len(query) > account.MaxEmailLength || !validText(query) {
		return errBadQuery
	}
	var after int64
	if s := q.Get("after"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			return errBadPage
		}
		after = n
	}
	users, err := a.store.SearchUsers(r.Context(), query, after, adminPageSize+1)
	if err != nil {
		return err
	}
	v := adminView{Query: query, Users: make([]adminRow, 0, len(users))}
	if len(users) > adminPageSize {
		users = users[:adminPageSize]
		next := url.Values{"after": {strconv.FormatInt(users[len(users)-1].ID, 10)}}
		if query != "" {
			next.Set("q", query)
		}
		v.Next = "/admin/users?" + next.Encode()
	}
	for _, u := range users {
		v.Users = append(v.Users, rowOf(u))
	}
	return a.render(w, r, http.StatusOK, "admin-users", page{Title: "Users", Admin: v})
}

// target reads the user that the path names, or answers 404.
func (a *App) target(r *http.Request) (account.User, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return account.User{}, errNotFound
	}
	u, err := a.store.UserByID(r.Context(), id)
	if errors.Is(err, account.ErrUserNotFound) {
		return account.User{}, errNotFound
	}
	return u, err
}

func (a *App) adminUser(w http.ResponseWriter, r *http.Request) error {
	u, err := a.target(r)
	if err != nil {
		return err
	}
	key := userKey(u.ID)
	ss, more, err := a.auth.RecentSessions(r.Context(), key, profileSessions)
	if err != nil {
		return err
	}
	v := adminView{Target: rowOf(u), Sessions: make([]sessionView, 0, len(ss)), MoreSessions: more}
	for _, s := range ss {
		v.Sessions = append(v.Sessions, sessionView{
			ID: s.ID, Device: device(s.UserAgent), IP: s.IP, Remember: s.Remember,
			LastSeen:    s.LastSeenAt.UTC().Format("2 Jan 2006 15:04 UTC"),
			LastSeenISO: s.LastSeenAt.UTC().Format(time.RFC3339),
		})
	}
	act, err := a.activityOf(r, key, "/admin/users/"+key)
	if err != nil {
		return err
	}
	return a.render(w, r, http.StatusOK, "admin-user", page{Title: u.Email, Admin: v, Activity: act})
}

// adminAction runs an action of the console on the user the path names:
// never on the administrator's own account, which /account serves, so
// that nobody locks themselves out by a click. It records the action in
// the user's audit log with the administrator's ID, and goes back to to.
func (a *App) adminAction(w http.ResponseWriter, r *http.Request, kind string, do func(u account.User) (string, error)) error {
	u, err := a.target(r)
	if err != nil {
		return err
	}
	cur := a.auth.Current(r)
	if u.ID == cur.User.ID {
		return a.done(w, r, "/admin/users/"+userKey(u.ID), flash{Text: "You cannot do this to your own account here; your account page has what you may change.", Kind: "warning"})
	}
	msg, err := do(u)
	if err != nil {
		return err
	}
	a.record(r, slog.LevelInfo, "admin", outcomeSuccess, latch.AuditEvent{UserID: userKey(u.ID), Kind: kind, ActorID: cur.UserID}, slog.String("action", kind))
	to := "/admin/users/" + userKey(u.ID)
	if kind == kindAdminDeleted {
		to = "/admin/users"
	}
	return a.done(w, r, to, flash{Text: msg, Kind: "success"})
}

// kindAdminDeleted is the audit kind of an account deleted by an
// administrator.
const kindAdminDeleted = "account_deleted"

func (a *App) adminDisable(w http.ResponseWriter, r *http.Request) error {
	return a.adminAction(w, r, latch.AuditDisabled, func(u account.User) (string, error) {
		if err := a.store.SetDisabled(r.Context(), u.ID, time.Now()); err != nil {
			return "", err
		}
		// A disabled user's sessions end now, not at their next request.
		if _, err := a.auth.RevokeAll(r.Context(), userKey(u.ID), ""); err != nil {
			return "", err
		}
		return u.Email + " is disabled and logged out everywhere.", nil
	})
}

func (a *App) adminEnable(w http.ResponseWriter, r *http.Request) error {
	return a.adminAction(w, r, latch.AuditEnabled, func(u account.User) (string, error) {
		if err := a.store.SetDisabled(r.Context(), u.ID, time.Time{}); err != nil {
			return "", err
		}
		return u.Email + " can log in again.", nil
	})
}

func (a *App) adminEndSessions(w http.ResponseWriter, r *http.Request) error {
	return a.adminAction(w, r, latch.AuditSessionsEnded, func(u account.User) (string, error) {
		n, err := a.auth.RevokeAll(r.Context(), userKey(u.ID), "")
		if err != nil {
			return "", err
		}
		return u.Email + " is logged out everywhere (" + strconv.Itoa(n) + " ended).", nil
	})
}

func (a *App) adminDelete(w http.ResponseWriter, r *http.Request) error {
	return a.adminAction(w, r, kindAdminDeleted, func(u account.User) (string, error) {
		if err := a.store.DeleteUser(r.Context(), u.ID); err != nil && !errors.Is(err, account.ErrUserNotFound) {
			return "", err
		}
		if _, err := a.auth.RevokeAll(r.Context(), userKey(u.ID), ""); err != nil {
			return "", err
		}
		return u.Email + " is deleted.", nil
	})
}

// validText reports whether s is valid UTF-8 without control characters.
func validText(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	return strings.IndexFunc(s, unicode.IsControl) < 0
}
