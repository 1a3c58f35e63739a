package app

import (
	"bytes"
	"context"
	"embed"
	"fmt"
	htmltemplate "html/template"
	"net/url"
	"strings"
	texttemplate "text/template"
	"time"

	"github.com/latchauth/latch/account"
	"github.com/latchauth/latch/mailer"
)

// Mailer sends mail. Enqueue hands a message over for delivery and returns
// at once; an error means it was not accepted (a full queue, for one).
type Mailer interface {
	Enqueue(ctx context.Context, m mailer.Message) error
}

//go:embed templates/mail/*.txt templates/mail/*.html
var mailFS embed.FS

// mailKinds are the mails the app sends, each a text and an HTML template
// of that name in templates/mail.
var mailKinds = []string{"verify", "signup-exists", "reset", "password-changed", "change-email", "email-changed", "email-restored", "goodbye", "new-device", "twofactor"}

// mailTemplates holds, per kind of mail, its subject, text and HTML bodies.
type mailTemplates struct {
	text map[string]*texttemplate.Template
	html map[string]*htmltemplate.Template
}

func parseMailTemplates() (*mailTemplates, error) {
	mt := &mailTemplates{text: map[string]*texttemplate.Template{}, html: map[string]*htmltemplate.Template{}}
	for _, k := range mailKinds {
		t, err := texttemplate.ParseFS(mailFS, "templates/mail/"+k+".txt")
		if err != nil {
			return nil, fmt.Errorf("parse mail template %s: %w", k, err)
		}
		h, err := htmltemplate.ParseFS(mailFS, "templates/mail/layout.html", "templates/mail/"+k+".html")
		if err != nil {
			return nil, fmt.Errorf("parse mail template %s: %w", k, err)
		}
		mt.text[k], mt.html[k] = t, h
	}
	return mt, nil
}

// mailData is what a mail template gets.
type mailData struct {
	// Name is the recipient's display name.
	Name string
	// Email is the address concerned: the new one of a change, the
	// recipient's otherwise.
	Email string
	// Link is the mail's link, if any; CodeLink the page to type Code on.
	Link, Code, CodeLink string
	// Expires says in words how long Link and Code work.
	Expires string
	// Note is a sentence a mail adds, such as which devices were logged out.
	Note string
	// Site is the base URL, to name the site.
	Site string
	// Title is the subject of a notice whose words vary.
	Title string
}

// link returns the absolute URL of path with query, built from the base
// URL alone: never from a request, whose Host header anyone can forge.
func (a *App) link(path string, query url.Values) string {
	u := *a.baseURL
	u.Path = strings.TrimSuffix(u.Path, "/") + path
	u.RawQuery = query.Encode()
	return u.String()
}

// compose renders the mail kind to to with d.
func (a *App) compose(kind, to string, d mailData) (mailer.Message, error) {
	d.Site = a.baseURL.String()
	var text, html bytes.Buffer
	if err := a.mails.text[kind].Execute(&text, d); err != nil {
		return mailer.Message{}, fmt.Errorf("render mail %s: %w", kind, err)
	}
	if err := a.mails.html[kind].ExecuteTemplate(&html, "layout", d); err != nil {
		return mailer.Message{}, fmt.Errorf("render mail %s: %w", kind, err)
	}
	// The text template's first line is the subject.
	subject, body, _ := strings.Cut(text.String(), "\n")
	return mailer.Message{To: to, Subject: strings.TrimPrefix(subject, "Subject: "), Text: strings.TrimLeft(body, "\n"), HTML: html.String()}, nil
}

// send composes and enqueues a mail. A mail that cannot be sent is logged,
// never shown: the page answers the same whether or not a mail went out,
// lest it tell who has an account.
func (a *App) send(ctx context.Context, kind, to string, d mailData) {
	// A notice goes out even when the browser that caused it went away.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), backgroundTimeout)
	defer cancel()
	m, err := a.compose(kind, to, d)
	if err != nil {
		a.log.Error("compose mail", "kind", kind, "error", err)
		return
	}
	if a.cfg.Mail == nil {
		// Only the recipient, masked as in every log, and the subject:
		// bodies hold single-use links, which logs never contain.
		a.log.Warn("no mailer configured; mail dropped", "kind", kind, "to", maskEmail(to), "subject", m.Subject)
		return
	}
	if err := a.cfg.Mail.Enqueue(ctx, m); err != nil {
		a.log.Error("enqueue mail", "kind", kind, "to", maskEmail(to), "error", err)
	}
}

// backgroundLimit bounds the mail jobs running off the request path; beyond
// it a job runs in its request, slower but never lost.
const backgroundLimit = 64

// backgroundTimeout bounds one mail job.
const backgroundTimeout = 30 * time.Second

// later runs job off the request path, so that a response takes the same
// time whether the job finds an account (and writes a token, renders and
// enqueues a mail) or not.
func (a *App) later(req context.Context, job func(ctx context.Context)) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(req), backgroundTimeout)
	select {
	case a.jobs <- struct{}{}:
		a.jobsRunning.Add(1)
		go func() {
			defer func() { <-a.jobs; cancel(); a.jobsRunning.Done() }()
			job(ctx)
		}()
	default:
		defer cancel()
		job(ctx)
	}
}

// Wait waits for the mail jobs started off the request path to finish, for
// a clean shutdown and for tests.
func (a *App) Wait() { a.jobsRunning.Wait() }

// expiresIn says a token lifetime in words.
func expiresIn(d time.Duration) string {
	switch {
	case d >= 48*time.Hour:
		return fmt.Sprintf("%d days", int(d/(24*time.Hour)))
	case d >= 2*time.Hour:
		return fmt.Sprintf("%d hours", int(d/time.Hour))
	case d == time.Hour:
		return "1 hour"
	}
	return d.String()
}

// userMail returns mail data for u.
func userMail(u account.User) mailData {
	return mailData{Name: u.Name, Email: u.Email}
}
