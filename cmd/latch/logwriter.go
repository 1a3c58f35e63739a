package main

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"time"
)

// Log buffering: how much and for how long. At tens of thousands of
// requests a second, one write(2) per request line cost about a tenth of the
// server's CPU on the home page; batching makes it a few writes a second.
const (
	logBufferSize    = 64 << 10
	logFlushInterval = 100 * time.Millisecond
)

// logWriter batches log lines into few writes. A line waits in memory until
// the buffer fills, until the flush interval has passed since the oldest
// line waiting, or until [logWriter.Flush] or [logWriter.Close].
//
// The trade-off: a process killed without a chance to flush (kill -9, a
// crash of the runtime, the OOM killer) loses the lines of up to one flush
// interval. Loggers built by newLogger flush after every record at level
// Warn or above, so only info and debug lines, such as request lines, can
// be lost that way; errors reach the output at once. A graceful stop calls
// Close, which loses nothing.
//
// A logWriter is safe for concurrent use. Each Write is kept whole: the
// buffer is flushed before a write that would not fit, and a write larger
// than the buffer goes straight out, so lines from concurrent loggers never
// interleave.
type logWriter struct {
	out      io.Writer
	interval time.Duration

	mu        sync.Mutex
	buf       []byte
	timer     *time.Timer // nil until the first write
	scheduled bool        // the timer will flush what buf holds
	closed    bool
}

// newLogWriter returns a logWriter into out that holds up to size bytes for
// up to interval.
func newLogWriter(out io.Writer, size int, interval time.Duration) *logWriter {
	return &logWriter{out: out, interval: interval, buf: make([]byte, 0, size)}
}

// Write adds p to the buffer, or writes it out directly once w is closed.
// An error is that of the output, for p or for the lines flushed to make
// room for it; p is then dropped.
func (w *logWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return w.out.Write(p)
	}
	if len(w.buf)+len(p) > cap(w.buf) {
		if err := w.flushLocked(); err != nil {
			return 0, err
		}
		if len(p) > cap(w.buf) {
			return w.out.Write(p)
		}
	}
	w.buf = append(w.buf, p...)
	if !w.scheduled {
		w.scheduled = true
		if w.timer == nil {
			w.timer = time.AfterFunc(w.interval, w.tick)
		} else {
			w.timer.Reset(w.interval)
		}
	}
	return len(p), nil
}

// tick is the timer's flush. Its error has nowhere to go: the next write
// or flush meets it again if the output is still broken.
func (w *logWriter) tick() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.scheduled = false
	w.flushLocked()
}

// Flush writes out the buffered lines now.
func (w *logWriter) Flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.flushLocked()
}

// Close flushes the buffer and stops buffering: later writes, such as a
// last log line from a goroutine still stopping, go straight to the output.
// It does not close the output.
func (w *logWriter) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closed = true
	if w.timer != nil {
		w.timer.Stop()
	}
	return w.flushLocked()
}

// flushLocked writes out the buffer and empties it, even when the write
// fails, so that a broken output cannot make it grow. w.mu must be held.
func (w *logWriter) flushLocked() error {
	if len(w.buf) == 0 {
		return nil
	}
	_, err := w.out.Write(w.buf)
	w.buf = w.buf[:0]
	return err
}

// flushingHandler is a slog handler writing into a logWriter that flushes
// it after each record at level Warn or above, so that warnings and errors
// are never held back (and the lines before them go out with them, in
// order).
type flushingHandler struct {
	slog.Handler
	w *logWriter
}

// Handle passes r on, then flushes if r is a warning or an error.
func (h flushingHandler) Handle(ctx context.Context, r slog.Record) error {
	err := h.Handler.Handle(ctx, r)
	if r.Level >= slog.LevelWarn {
		if ferr := h.w.Flush(); err == nil {
			err = ferr
		}
	}
	return err
}

// WithAttrs returns the handler with attrs, still flushing.
func (h flushingHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return flushingHandler{h.Handler.WithAttrs(attrs), h.w}
}

// WithGroup returns the handler with the group, still flushing.
func (h flushingHandler) WithGroup(name string) slog.Handler {
	return flushingHandler{h.Handler.WithGroup(name), h.w}
}
