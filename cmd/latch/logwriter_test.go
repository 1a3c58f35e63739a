package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchauth/latch/internal/apptest"
)

// waitFor polls cond until it holds, failing the test after a few seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 5s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestLogWriterHoldsLinesUntilFlush(t *testing.T) {
	out := &apptest.Buffer{}
	w := newLogWriter(out, 1024, time.Hour)
	defer w.Close()
	fmt.Fprintln(w, "one")
	fmt.Fprintln(w, "two")
	if got := out.String(); got != "" {
		t.Fatalf("output before Flush = %q; want nothing yet", got)
	}
	if err := w.Flush(); err != nil {
		t.Fatalf("Flush = %v", err)
	}
	if got, want := out.String(), "one\ntwo\n"; got != want {
		t.Errorf("output after Flush = %q; want %q", got, want)
	}
}

func TestLogWriterFlushesAfterInterval(t *testing.T) {
	out := &apptest.Buffer{}
	w := newLogWriter(out, 1024, 10*time.Millisecond)
	defer w.Close()
	fmt.Fprintln(w, "one")
	waitFor(t, "first line written by the timer", func() bool { return out.String() == "one\n" })
	// The timer is armed again by the next line after a flush.
	fmt.Fprintln(w, "two")
	waitFor(t, "second line written by the timer", func() bool { return out.String() == "one\ntwo\n" })
}

func TestLogWriterFlushesWhenFull(t *testing.T) {
	out := &apptest.Buffer{}
	w := newLogWriter(out, 16, time.Hour)
	defer w.Close()
	long := strings.Repeat("x", 20) + "\n"
	steps := []struct {
		write, want string
	}{
		// Fits: held.
		{"0123456789\n", ""},
		// Does not fit: the first line goes out, the second is held.
		{"abcdefghij\n", "0123456789\n"},
		// Larger than the buffer: the held line, then it, straight out.
		{long, "0123456789\nabcdefghij\n" + long},
	}
	for _, s := range steps {
		if n, err := io.WriteString(w, s.write); n != len(s.write) || err != nil {
			t.Fatalf("Write(%q) = %d, %v; want %d, nil", s.write, n, err, len(s.write))
		}
		if got := out.String(); got != s.want {
			t.Errorf("after Write(%q), output = %q; want %q", s.write, got, s.want)
		}
	}
}

func TestLogWriterCloseFlushes(t *testing.T) {
	out := &apptest.Buffer{}
	w := newLogWriter(out, 1024, time.Hour)
	fmt.Fprintln(w, "held")
	if err := w.Close(); err != nil {
		t.Fatalf("Close = %v", err)
	}
	if got := out.String(); got != "held\n" {
		t.Fatalf("output after Close = %q; want %q", got, "held\n")
	}
	fmt.Fprintln(w, "late")
	if got := out.String(); got != "held\nlate\n" {
		t.Errorf("output of a write after Close = %q; want it written at once", got)
	}
}

func TestLogWriterOutputError(t *testing.T) {
	broken := errors.New("disk full")
	w := newLogWriter(errWriter{broken}, 16, time.Hour)
	defer w.Close()
	io.WriteString(w, "0123456789\n")
	if err := w.Flush(); !errors.Is(err, broken) {
		t.Errorf("Flush into a failing output = %v; want %v", err, broken)
	}
	if len(w.buf) != 0 {
		t.Errorf("buffer after a failed flush holds %d bytes; want it emptied", len(w.buf))
	}
}

type errWriter struct{ err error }

func (w errWriter) Write([]byte) (int, error) { return 0, w.err }

// TestLoggerFlushesWarnings checks that a logger from newLogger writes
// warnings and errors at once, with the lines held before them, also
// through With and WithGroup.
func TestLoggerFlushesWarnings(t *testing.T) {
	for _, format := range []string{"text", "json"} {
		out := &apptest.Buffer{}
		log, lw := newLogger(config{LogLevel: slog.LevelInfo, LogFormat: format}, out)
		lw.interval = time.Hour // only the flushes under test write
		log.Info("request", "path", "/")
		if got := out.String(); got != "" {
			t.Fatalf("%s: output after an info line = %q; want it held", format, got)
		}
		log.Warn("slow")
		lines := strings.Split(strings.TrimSpace(out.String()), "\n")
		if len(lines) != 2 || !strings.Contains(lines[0], "request") || !strings.Contains(lines[1], "slow") {
			t.Errorf("%s: output after a warning = %q; want the info line, then the warning", format, lines)
		}
		log.With("k", "v").WithGroup("g").Error("failed", "error", "boom")
		if got := out.String(); !strings.Contains(got, "failed") {
			t.Errorf("%s: output after an error through With and WithGroup = %q; want the error", format, got)
		}
		log.Debug("not enabled")
		lw.Close()
		if got := out.String(); strings.Contains(got, "not enabled") {
			t.Errorf("%s: output = %q; want no debug line at level info", format, got)
		}
	}
}

// TestLogWriterConcurrentLines logs from many goroutines through a small
// buffer flushed often: every line must come out whole, once.
func TestLogWriterConcurrentLines(t *testing.T) {
	out := &apptest.Buffer{}
	w := newLogWriter(out, 300, time.Millisecond)
	log := slog.New(slog.NewTextHandler(w, nil))
	const writers, lines = 8, 500
	var wg sync.WaitGroup
	for g := range writers {
		wg.Go(func() {
			for n := range lines {
				log.Info("request", "g", g, "n", n, "pad", strings.Repeat("p", n%50+1))
			}
		})
	}
	wg.Wait()
	w.Close()
	seen := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n") {
		var g, n int
		var pad string
		f := strings.Fields(line)
		if len(f) != 6 || !strings.HasPrefix(f[0], "time=") {
			t.Fatalf("line %q is not a whole record", line)
		}
		if _, err := fmt.Sscanf(strings.Join(f[3:], " "), "g=%d n=%d pad=%s", &g, &n, &pad); err != nil || pad != strings.Repeat("p", n%50+1) {
			t.Fatalf("line %q is not a whole record (%v)", line, err)
		}
		key := fmt.Sprint(g, " ", n)
		if seen[key] {
			t.Fatalf("line g=%d n=%d written twice", g, n)
		}
		seen[key] = true
	}
	if len(seen) != writers*lines {
		t.Errorf("got %d lines; want %d", len(seen), writers*lines)
	}
}

// BenchmarkRequestLog measures one request line logged as the server logs
// it, into /dev/null: written at once (a write(2) per line) and through the
// logWriter.
func BenchmarkRequestLog(b *testing.B) {
	devNull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer devNull.Close()
	bench := func(b *testing.B, log *slog.Logger) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				log.LogAttrs(b.Context(), slog.LevelInfo, "request",
					slog.String("method", "GET"), slog.String("path", "/"), slog.Int("status", 200),
					slog.Int("bytes", 1234), slog.Duration("duration", 35*time.Microsecond),
					slog.String("client", "192.0.2.7"))
			}
		})
	}
	b.Run("direct", func(b *testing.B) {
		bench(b, slog.New(slog.NewTextHandler(devNull, nil)))
	})
	b.Run("buffered", func(b *testing.B) {
		log, lw := newLogger(config{LogLevel: slog.LevelInfo, LogFormat: "text"}, devNull)
		defer lw.Close()
		bench(b, log)
	})
}

// TestServeLogsEveryRequestBeforeExit serves a few requests, stops the
// server gracefully and checks that the request lines and the last line
// were all written by the time serve returns.
func TestServeLogsEveryRequestBeforeExit(t *testing.T) {
	stderr := &apptest.Buffer{}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e := env(map[string]string{"LATCH_DATA_DIR": t.TempDir(), "LATCH_ADDR": "127.0.0.1:0", "LATCH_LOG_FORMAT": "json"})
	code := make(chan int, 1)
	go func() { code <- run(ctx, []string{"serve"}, e, io.Discard, stderr) }()

	var base string
	waitFor(t, "the listening line, flushed at start", func() bool {
		for line := range strings.Lines(stderr.String()) {
			var rec struct{ Msg, URL string }
			if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "latch listening" {
				base = rec.URL
				return true
			}
		}
		return false
	})
	const n = 3
	for range n {
		resp, err := http.Get(base + "/")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	cancel()
	if c := <-code; c != 0 {
		t.Fatalf("serve exit = %d; want 0 after a graceful stop (stderr %s)", c, stderr)
	}
	logs := stderr.String()
	if got := strings.Count(logs, `"msg":"request"`); got != n {
		t.Errorf("stderr holds %d request lines; want %d:\n%s", got, n, logs)
	}
	if !strings.HasSuffix(logs, `"msg":"latch stopped"}`+"\n") {
		t.Errorf("stderr does not end with the stop line:\n%s", logs)
	}
}
