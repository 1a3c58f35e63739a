// Command latch runs the latch web app: the Flask-Login tutorial's sign-up,
// log-in, profile and log-out pages, secure by default, on SQLite with no
// setup.
//
//	go run ./cmd/latch            # serves http://localhost:8080, data in ./data
//	go run ./cmd/latch --help     # every setting
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

// run is main without the process: it returns the exit code.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return serve(ctx, args, getenv, stdout, stderr)
	case "help":
		usage(stdout)
		return 0
	case "users":
		return users(ctx, args, getenv, os.Stdin, stdout, stderr)
	case "hash-worker":
		// Started by serve, not by people: see hashWorker.
		return hashWorker(stderr)
	default:
		fmt.Fprintf(stderr, "latch: unknown command %q; see latch --help\n", cmd)
		return 2
	}
}

func serve(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	cfg, err := parseConfig(args, getenv, stdout)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "latch: %v\n", err)
		return 2
	}
	log, logw := newLogger(cfg, stderr)
	// Deferred first, so it runs last: the lines logged while stopping are
	// written out before the process exits.
	defer logw.Close()
	srv, err := openServer(ctx, cfg, log)
	if err != nil {
		log.Error("cannot start", "error", err)
		return 1
	}
	defer srv.Close()
	log.Info("latch listening", append([]any{"url", "http://" + srv.Addr()}, srv.cfg.logValues()...)...)
	if cfg.BaseURL == "" {
		log.Info("no base URL set (-base-url, LATCH_BASE_URL): links in mails use http:// and the listen address, and requests for any host are served", "addr", cfg.Addr)
	}
	logw.Flush() // whoever watches the start sees it at once
	if err := srv.Serve(ctx); err != nil {
		log.Error("server stopped", "error", err)
		return 1
	}
	log.Info("latch stopped")
	return 0
}

// newLogger returns the server's logger, writing into w through a
// logWriter: info and debug lines, such as the one per request, are written
// in batches (see logWriter for what a crash can lose); warnings and errors
// at once. The caller must Close the logWriter when the server has stopped.
func newLogger(cfg config, w io.Writer) (*slog.Logger, *logWriter) {
	lw := newLogWriter(w, logBufferSize, logFlushInterval)
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	var h slog.Handler = slog.NewTextHandler(lw, opts)
	if cfg.LogFormat == "json" {
		h = slog.NewJSONHandler(lw, opts)
	}
	return slog.New(flushingHandler{h, lw}), lw
}

// redact returns raw, a database or Redis URL, with its password hidden,
// for logs; none is what an empty raw means.
func redact(raw, none string) string {
	if raw == "" {
		return none
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}
