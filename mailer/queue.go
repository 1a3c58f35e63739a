package mailer

import (
	"context"
	crand "crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/mail"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	gomail "github.com/wneessen/go-mail"
)

// Defaults of [Config].
const (
	DefaultLimit        = 10000
	DefaultConcurrency  = 4
	DefaultMinBackoff   = 30 * time.Second
	DefaultMaxBackoff   = time.Hour
	DefaultMaxAge       = 24 * time.Hour
	DefaultLease        = 10 * time.Minute
	DefaultPollInterval = 5 * time.Second
	DefaultSendTimeout  = 2 * time.Minute
)

// Limits of a [Message], beyond which [Queue.Enqueue] refuses it: they
// keep a queue row, and the mail, of a reasonable size.
const (
	maxSubject = 998 // the longest line RFC 5322 allows
	maxBody    = 1 << 20
)

// Config holds the settings of a [Queue]. From and Sender are required;
// every other field has a default when zero.
type Config struct {
	// From is the sender of every message, such as
	// "latch <noreply@example.com>": a single address, with an optional
	// display name. Its domain names the Message-IDs.
	From string
	// Sender delivers the messages: an [SMTPSender], or an [Outbox].
	Sender Sender
	// Logger receives a line for each message given up, and for each
	// failed attempt at warn level. Default: discarded.
	Logger *slog.Logger

	// Limit is the number of messages the queue may hold; Enqueue
	// returns an error wrapping [ErrQueueFull] beyond it. Default 10,000.
	Limit int
	// Concurrency is the number of messages sent at once by this
	// process. Default 4.
	Concurrency int
	// MinBackoff is the wait after a first failed attempt; each further
	// failure doubles it, up to MaxBackoff. Each wait is drawn at random
	// between half and all of that, so that messages failed together do
	// not all come back together. Defaults 30s and 1h.
	MinBackoff, MaxBackoff time.Duration
	// MaxAge is how long after it was queued a message is given up when
	// an attempt fails. Default 24h.
	MaxAge time.Duration
	// Lease is how long a message claimed by a process is left to it
	// before another may send it: after a crash, the message is sent
	// again this long after its claim. It must exceed SendTimeout.
	// Default 10 minutes.
	Lease time.Duration
	// PollInterval is how often the queue looks for messages that came
	// due: retries, messages whose lease ended, and messages queued by
	// another process. Enqueue wakes the worker of its own process at
	// once. Default 5s.
	PollInterval time.Duration
	// SendTimeout bounds one attempt. Default 2 minutes.
	SendTimeout time.Duration
	// Observe, if set, is told the outcome of each attempt to send: "sent",
	// "retry" (failed, to be tried again) or "given_up", for the
	// operator's metrics.
	Observe func(outcome string)
	// Now returns the current time; tests replace it. Default time.Now.
	Now func() time.Time
}

// Queue sends messages in the background, from a [QueueStore]. Enqueue
// adds a message and returns; [Queue.Run] sends. Create one with [New].
type Queue struct {
	store  QueueStore
	cfg    Config
	from   *mail.Address
	domain string
	log    *slog.Logger
	wake   chan struct{}
}

// New returns a queue on store with the settings of cfg, or an error
// saying which setting is wrong.
func New(store QueueStore, cfg Config) (*Queue, error) {
	if store == nil {
		return nil, errors.New("mailer: new queue: no store")
	}
	if cfg.Sender == nil {
		return nil, errors.New("mailer: new queue: no sender")
	}
	from, err := ParseFrom(cfg.From)
	if err != nil {
		return nil, fmt.Errorf("mailer: new queue: %w", err)
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	if cfg.Limit <= 0 {
		cfg.Limit = DefaultLimit
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = DefaultConcurrency
	}
	def(&cfg.MinBackoff, DefaultMinBackoff)
	def(&cfg.MaxBackoff, DefaultMaxBackoff)
	def(&cfg.MaxAge, DefaultMaxAge)
	def(&cfg.Lease, DefaultLease)
	def(&cfg.PollInterval, DefaultPollInterval)
	def(&cfg.SendTimeout, DefaultSendTimeout)
	if cfg.MaxBackoff < cfg.MinBackoff {
		return nil, fmt.Errorf("mailer: new queue: MaxBackoff %v is below MinBackoff %v", cfg.MaxBackoff, cfg.MinBackoff)
	}
	if cfg.Lease <= cfg.SendTimeout {
		return nil, fmt.Errorf("mailer: new queue: Lease %v must exceed SendTimeout %v, or a slow attempt could be doubled by another process", cfg.Lease, cfg.SendTimeout)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	_, domain, _ := strings.Cut(from.Address, "@")
	return &Queue{store: store, cfg: cfg, from: from, domain: domain, log: log, wake: make(chan struct{}, 1)}, nil
}

// ParseFrom checks a sender address such as "latch <noreply@example.com>"
// or "noreply@example.com": one address, with an optional display name.
func ParseFrom(s string) (*mail.Address, error) {
	a, err := mail.ParseAddress(s)
	if err != nil {
		return nil, fmt.Errorf("sender address %q: %w; want one address such as latch <noreply@example.com>", s, err)
	}
	if _, domain, _ := strings.Cut(a.Address, "@"); domain == "" {
		return nil, fmt.Errorf("sender address %q has no domain; want one such as noreply@example.com", s)
	}
	return a, nil
}

// Enqueue queues m for sending and returns without waiting for the network:
// a page that sends mail is as fast with the mail server down. It returns
// an error wrapping [ErrQueueFull] when the queue is full, and an error
// saying what to fix when m is not a message that can be sent (an invalid
// recipient, a line break in the subject, no text). Once Enqueue has
// returned nil, the message is in the store: it is sent even if the
// process stops first, by this process when it starts again or by another
// one sharing the database.
func (q *Queue) Enqueue(ctx context.Context, m Message) error {
	if err := checkMessage(m); err != nil {
		return fmt.Errorf("mailer: enqueue: %w", err)
	}
	now := q.cfg.Now()
	qm := QueuedMessage{
		Message:   m,
		ID:        newID(now),
		CreatedAt: now,
		DueAt:     now,
	}
	if err := q.store.EnqueueMail(ctx, qm, q.cfg.Limit); err != nil {
		return fmt.Errorf("mailer: enqueue: %w", err)
	}
	select {
	case q.wake <- struct{}{}:
	default: // a wake-up is already pending
	}
	return nil
}

// checkMessage reports what makes m unsendable.
func checkMessage(m Message) error {
	a, err := mail.ParseAddress(m.To)
	if err != nil || a.Name != "" || a.Address != m.To {
		return fmt.Errorf("recipient %q: want one plain address such as name@example.com", m.To)
	}
	switch {
	case strings.TrimSpace(m.Text) == "":
		return errors.New("the message has no text: Text is required")
	case strings.ContainsAny(m.Subject, "\r\n"):
		return errors.New("the subject holds a line break, which would end the mail's headers")
	case len(m.Subject) > maxSubject:
		return fmt.Errorf("the subject is %d bytes long; at most %d", len(m.Subject), maxSubject)
	case len(m.Text)+len(m.HTML) > maxBody:
		return fmt.Errorf("the message is %d bytes long; at most %d", len(m.Text)+len(m.HTML), maxBody)
	case !utf8.ValidString(m.Subject) || !utf8.ValidString(m.Text) || !utf8.ValidString(m.HTML):
		return errors.New("the message is not valid UTF-8")
	}
	return nil
}

// newID returns a new message ID: the time, so that outbox files sort in
// the order the messages were queued, and 80 random bits.
func newID(now time.Time) string {
	return now.UTC().Format("20060102T150405.000000Z") + "-" + strings.ToLower(crand16())
}

// crand16 returns 16 random base32 characters.
func crand16() string { return crand.Text()[:16] }

// Compose returns the mail the queue sends for qm, headers and all: From,
// To, Subject, Date (when queued), Message-ID (from qm.ID, the same at
// every attempt), and a text part with, when qm.HTML is set, an HTML
// alternative, both UTF-8 in quoted-printable.
func (q *Queue) Compose(qm QueuedMessage) (*gomail.Msg, error) {
	msg := gomail.NewMsg(gomail.WithCharset(gomail.CharsetUTF8), gomail.WithEncoding(gomail.EncodingQP))
	msg.FromMailAddress(q.from)
	if err := msg.To(qm.To); err != nil {
		return nil, fmt.Errorf("recipient %q: %w", qm.To, err)
	}
	msg.Subject(qm.Subject)
	msg.SetDateWithValue(qm.CreatedAt)
	msg.SetMessageIDWithValue(qm.ID + "@" + q.domain)
	msg.SetUserAgent("latch")
	msg.SetBodyString(gomail.TypeTextPlain, qm.Text)
	if qm.HTML != "" {
		msg.AddAlternativeString(gomail.TypeTextHTML, qm.HTML)
	}
	return msg, nil
}

// Run sends the queue's messages until ctx is done, then stops: attempts
// under way are cancelled and their messages made due again at once, and
// Run returns when they are. Messages are sent at least once: a process
// that dies during an attempt leaves its message to be sent again when
// the lease ends, and a server that received a message but whose reply was
// lost gets it again. Run returns nil after ctx is done; it keeps going
// through the store's errors, logging them.
func (q *Queue) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	slots := make(chan struct{}, q.cfg.Concurrency)
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-q.wake:
		case <-timer.C:
		}
		// Claim no more than the free slots, so that a claimed message
		// waits for a slot no longer than an attempt, well within its
		// lease.
		for ctx.Err() == nil {
			free := q.cfg.Concurrency - len(slots)
			if free == 0 {
				// Wait for a slot, then look again.
				select {
				case slots <- struct{}{}:
					<-slots
				case <-ctx.Done():
				}
				continue
			}
			now := q.cfg.Now()
			batch, err := q.store.ClaimMail(ctx, now, now.Add(q.cfg.Lease), free)
			if err != nil {
				if ctx.Err() == nil {
					q.log.Warn("mail queue: claim messages", "error", err)
				}
				break
			}
			for _, qm := range batch {
				slots <- struct{}{}
				wg.Go(func() {
					defer func() { <-slots }()
					q.attempt(ctx, qm)
				})
			}
			if len(batch) < free {
				break
			}
		}
		timer.Reset(q.cfg.PollInterval)
	}
}

// attempt sends qm once and records the outcome in the store.
func (q *Queue) attempt(ctx context.Context, qm QueuedMessage) {
	// The outcome is recorded even when ctx ends: a message left claimed
	// would wait for its lease.
	store := context.WithoutCancel(ctx)
	err := q.send(ctx, qm)
	now := q.cfg.Now()
	switch {
	case err == nil:
		q.observe("sent")
		if err := q.store.DeleteMail(store, qm.ID); err != nil {
			// It stays in the queue and is sent again when its lease
			// ends: at least once.
			q.log.Warn("mail queue: delete a sent message", "id", qm.ID, "error", err)
		}
		return
	case ctx.Err() != nil:
		// Shutting down: the next start, or another process, sends it.
		if err := q.store.RetryMail(store, qm.ID, now, "interrupted by shutdown"); err != nil {
			q.log.Warn("mail queue: release a message", "id", qm.ID, "error", err)
		}
		return
	case errors.Is(err, ErrRejected) || now.Sub(qm.CreatedAt) >= q.cfg.MaxAge:
		q.observe("given_up")
		q.log.Error("mail given up", "id", qm.ID, "to", qm.To, "subject", qm.Subject,
			"attempts", qm.Attempts, "queued", qm.CreatedAt, "error", err)
		if err := q.store.DeleteMail(store, qm.ID); err != nil {
			q.log.Warn("mail queue: delete a message given up", "id", qm.ID, "error", err)
		}
		return
	}
	q.observe("retry")
	wait := q.backoff(qm.Attempts)
	q.log.Warn("mail not sent; will retry", "id", qm.ID, "to", qm.To, "attempt", qm.Attempts, "retry_in", wait.Round(time.Second), "error", err)
	if err := q.store.RetryMail(store, qm.ID, now.Add(wait), err.Error()); err != nil {
		q.log.Warn("mail queue: reschedule a message", "id", qm.ID, "error", err)
	}
}

// observe tells Config.Observe of an attempt's outcome, if set.
func (q *Queue) observe(outcome string) {
	if q.cfg.Observe != nil {
		q.cfg.Observe(outcome)
	}
}

// send composes qm and hands it to the sender, within SendTimeout.
func (q *Queue) send(ctx context.Context, qm QueuedMessage) error {
	msg, err := q.Compose(qm)
	if err != nil {
		// Enqueue checked the message; one that still fails cannot
		// improve by waiting.
		return fmt.Errorf("%w: %w", ErrRejected, err)
	}
	ctx, cancel := context.WithTimeout(ctx, q.cfg.SendTimeout)
	defer cancel()
	return q.cfg.Sender.Send(ctx, msg)
}

// backoff returns the wait after the given number of failed attempts:
// MinBackoff doubled for each attempt after the first, at most MaxBackoff,
// of which a random part from half to all.
func (q *Queue) backoff(attempts int) time.Duration {
	d := q.cfg.MinBackoff
	for i := 1; i < attempts && d < q.cfg.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, q.cfg.MaxBackoff)
	return d/2 + rand.N(d/2+1)
}
