package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/latchauth/latch/password"
)

// httpError is an error with the status and the words a user sees.
type httpError struct {
	status  int
	title   string
	message string
}

// Error returns the status and the message.
func (e *httpError) Error() string { return fmt.Sprintf("%d %s", e.status, e.message) }

var (
	errNotFound    = &httpError{http.StatusNotFound, "Page not found", "There is no page at this address."}
	errInternal    = &httpError{http.StatusInternalServerError, "Something went wrong", "Something went wrong on our side. Please try again; if it keeps happening, contact the site's administrator."}
	errCrossOrigin = &httpError{http.StatusForbidden, "Request refused", "This form was sent from another site, so it was refused to protect your account. Please go back, reload the page and submit the form again."}
	errBusy        = &httpError{http.StatusServiceUnavailable, "Server busy", "The server is busy right now. Please try again in a few seconds."}
	errBadForm     = &httpError{http.StatusBadRequest, "Bad request", "The form could not be read. Please reload the page and try again."}
	errUnavailable = &httpError{http.StatusServiceUnavailable, "Temporarily unavailable", "We could not complete your request because the service is temporarily unavailable. Please try again in a few seconds."}
	errTooLarge    = &httpError{http.StatusRequestEntityTooLarge, "Request too large", "The form you sent is too large. Please shorten what you entered and try again."}
)

// errTemplate marks a page that could not be rendered.
var errTemplate = errors.New("template failed")

// logFailure logs an error of ours that a request met.
func (a *App) logFailure(r *http.Request, err error) {
	a.log.LogAttrs(r.Context(), slog.LevelError, "request failed", slog.String("method", r.Method),
		slog.String("path", r.URL.Path), slog.String("error", err.Error()))
}

// handle adapts a handler that returns an error to http.Handler, sending
// every error through serveError.
func (a *App) handle(fn func(http.ResponseWriter, *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := fn(w, r); err != nil {
			a.serveError(w, r, err)
		}
	})
}

// serveError is the one place that turns an error into a response: it
// decides the status, the log level and the words a user sees. Internal
// details are logged, never shown.
func (a *App) serveError(w http.ResponseWriter, r *http.Request, err error) {
	var he *httpError
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &he):
	case errors.As(err, &mbe):
		he = errTooLarge
	case errors.Is(err, password.ErrBusy):
		he = errBusy
	case errors.Is(err, context.Canceled):
		// The client went away; nobody is left to answer.
		a.log.Debug("request canceled", "path", r.URL.Path)
		return
	case errors.Is(err, password.ErrUnknownFormat), errors.Is(err, errTemplate):
		// A bug or bad data of ours, which trying again will not mend.
		a.logFailure(r, err)
		he = errInternal
	default:
		// Anything else is a failure of ours, typically the database
		// being away for a moment.
		a.logFailure(r, err)
		if a.cfg.Metrics != nil {
			a.cfg.Metrics.CountStoreError()
		}
		he = errUnavailable
	}
	if he.status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "5")
	}
	if rerr := a.render(w, r, he.status, "error", page{Title: he.title, Message: he.message, Flashes: []flash{}}); rerr != nil {
		a.log.Error("render error page", "error", rerr)
		http.Error(w, he.message, he.status)
	}
}
