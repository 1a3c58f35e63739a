package app

import (
	"reflect"
	"testing"

	"github.com/latchauth/latch/account"
)

// TestSamePageComparesEveryField changes each field of a page in turn and
// checks that samePage sees the difference, so that a field added to page
// without being compared cannot make the memo serve a stale rendering.
func TestSamePageComparesEveryField(t *testing.T) {
	base := page{
		Title:             "Profile",
		User:              &account.User{ID: 1, Email: "ada@example.com", Name: "Ada"},
		Flashes:           []flash{{Text: "hello", Kind: "info"}},
		Form:              formValues{Email: "ada@example.com"},
		Errors:            fieldMessages{"email": "bad"},
		Next:              "/profile",
		Message:           "message",
		Sessions:          []sessionView{{ID: "s1", Device: "Firefox on Linux"}},
		MoreSessions:      3,
		MinPasswordLength: 8,
		Life:              lifeView{Fresh: true},
		Activity:          activityView{Events: []eventView{{Text: "Signed in"}}, Older: "/a?before=2"},
		Admin:             adminView{Users: []adminRow{{ID: 1}}, Sessions: []sessionView{{ID: "s"}}},
		TwoFactor:         &twoFactorView{Enabled: true, Codes: []string{"abcde-fghjk"}},
	}
	copyOf := func(p page) page {
		u := *p.User
		p.User = &u
		p.Flashes = append([]flash(nil), p.Flashes...)
		p.Sessions = append([]sessionView(nil), p.Sessions...)
		p.Activity.Events = append([]eventView(nil), p.Activity.Events...)
		p.Admin.Users = append([]adminRow(nil), p.Admin.Users...)
		p.Admin.Sessions = append([]sessionView(nil), p.Admin.Sessions...)
		errs := fieldMessages{}
		for k, v := range p.Errors {
			errs[k] = v
		}
		p.Errors = errs
		tf := *p.TwoFactor
		tf.Codes = append([]string(nil), tf.Codes...)
		p.TwoFactor = &tf
		return p
	}
	if !samePage(base, copyOf(base)) {
		t.Fatal("samePage(p, copy of p) = false; want true")
	}
	changes := map[string]func(p *page){
		"Title":             func(p *page) { p.Title = "Other" },
		"User":              func(p *page) { p.User.Name = "Bob" },
		"Flashes":           func(p *page) { p.Flashes[0].Text = "bye" },
		"Form":              func(p *page) { p.Form.Name = "Ada" },
		"Errors":            func(p *page) { p.Errors["email"] = "worse" },
		"Next":              func(p *page) { p.Next = "/" },
		"Message":           func(p *page) { p.Message = "other" },
		"Sessions":          func(p *page) { p.Sessions[0].IP = "192.0.2.9" },
		"MoreSessions":      func(p *page) { p.MoreSessions = 4 },
		"MinPasswordLength": func(p *page) { p.MinPasswordLength = 12 },
		"Life":              func(p *page) { p.Life.Fresh = false },
		"Activity":          func(p *page) { p.Activity.Events[0].Text = "Signed out" },
		"Admin":             func(p *page) { p.Admin.Users[0].Disabled = true },
		"TwoFactor":         func(p *page) { p.TwoFactor.Codes[0] = "other-codes" },
	}
	fields := reflect.TypeFor[page]()
	for i := range fields.NumField() {
		name := fields.Field(i).Name
		change, ok := changes[name]
		if !ok {
			t.Errorf("page.%s: no change tested; compare it in samePage and add it here", name)
			continue
		}
		p := copyOf(base)
		change(&p)
		if samePage(base, p) {
			t.Errorf("samePage ignores a change of page.%s", name)
		}
	}
}

// TestMemoBounded stores more pages than the memo may hold, in number and
// in bytes, and checks its bounds.
func TestMemoBounded(t *testing.T) {
	var m pageMemo
	body := make([]byte, 20<<10)
	for i := range 3000 {
		p := page{User: &account.User{ID: int64(i)}}
		m.put("profile", p, body)
		if len(m.pages) > memoLimit || m.bytes > memoMaxBytes {
			t.Fatalf("after %d pages: %d pages, %d bytes; want at most %d and %d", i+1, len(m.pages), m.bytes, memoLimit, memoMaxBytes)
		}
	}
	if _, ok := m.get("profile", page{User: &account.User{ID: 2999}}); !ok {
		t.Error("the latest page is not held")
	}
	total := 0
	for _, p := range m.pages {
		total += len(p.body)
	}
	if total != m.bytes {
		t.Errorf("memo counts %d bytes; its pages hold %d", m.bytes, total)
	}
	m.put("profile", page{User: &account.User{ID: 5000}}, make([]byte, memoMaxPage+1))
	if _, ok := m.get("profile", page{User: &account.User{ID: 5000}}); ok {
		t.Error("a page over memoMaxPage was kept")
	}
}
