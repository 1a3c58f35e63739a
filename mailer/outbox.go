package mailer

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	gomail "github.com/wneessen/go-mail"
)

// Outbox is a [Sender] that writes each message into a folder as an
// RFC 5322 file (name.eml) instead of sending it, byte for byte what an
// [SMTPSender] would send: for development, where a mail client opens the
// files, and for running with no mail server at all. Create one with
// [NewOutbox].
type Outbox struct {
	dir string
	log *slog.Logger
}

// NewOutbox returns an outbox writing into dir, creating it (mode 0700: the
// messages may carry links that log people in) if it does not exist. log
// receives an info line with the path of each file written; nil discards
// them.
func NewOutbox(dir string, log *slog.Logger) (*Outbox, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("mailer: create outbox: %w", err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Outbox{dir: dir, log: log}, nil
}

// Dir returns the folder the outbox writes into.
func (o *Outbox) Dir() string { return o.dir }

// Send implements [Sender]. The file is named after the message's
// Message-ID, so that a message sent again after a crash replaces its first
// copy rather than doubling it. It is written whole to a temporary file
// (mode 0600), synced, and renamed into place, so that a reader never sees
// half a message and a crash leaves none.
func (o *Outbox) Send(ctx context.Context, msg *gomail.Msg) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("mailer: outbox: %w", err)
	}
	name := fileName(msg.GetMessageID())
	f, err := os.CreateTemp(o.dir, ".tmp-*.eml")
	if err != nil {
		return fmt.Errorf("mailer: outbox: %w", err)
	}
	tmp := f.Name()
	fail := func(err error) error {
		f.Close()
		os.Remove(tmp)
		return fmt.Errorf("mailer: outbox: write %s: %w", name, err)
	}
	if _, err := msg.WriteTo(f); err != nil {
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		return fail(err)
	}
	path := filepath.Join(o.dir, name)
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("mailer: outbox: %w", err)
	}
	// The folder's entry must reach the disk too, or a crash could lose a
	// message the queue has already deleted.
	if d, err := os.Open(o.dir); err == nil {
		d.Sync()
		d.Close()
	}
	// The path alone: the recipient's address is personal data, which logs
	// at info level never hold, and the file says it to whoever opens it.
	o.log.Info("mail written to outbox", "path", path)
	return nil
}

// fileName turns a Message-ID such as <abc@example.com> into a file name
// safe on every system.
func fileName(messageID string) string {
	id := strings.Trim(messageID, "<>")
	id = strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '.', r == '_', r == '@':
			return r
		}
		return '_'
	}, id)
	if id == "" {
		id = "message"
	}
	return id + ".eml"
}
