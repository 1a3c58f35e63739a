package mailer

import (
	"context"
	"errors"
	"time"
)

// ErrQueueFull is returned, wrapped, by [Queue.Enqueue] and
// [QueueStore.EnqueueMail] when the queue already holds as many messages as
// it may. The message was not queued; the caller may tell its user to try
// again later.
var ErrQueueFull = errors.New("mail queue full: the mail server may be down or slow; try again later")

// QueuedMessage is a [Message] as the queue keeps it.
type QueuedMessage struct {
	Message

	// ID identifies the message in the queue and, with the sender's
	// domain, in its Message-ID header, so that every attempt sends the
	// same Message-ID. Random, set by [Queue.Enqueue].
	ID string
	// CreatedAt is when the message was queued: its Date header, and the
	// start of its maximum age.
	CreatedAt time.Time
	// DueAt is when the message is next to be sent: a claim moves it to
	// the end of the claim's lease, a failure to the next attempt.
	DueAt time.Time
	// Attempts counts the claims of the message, so the attempts begun.
	Attempts int
	// LastError is the error of the last failed attempt; empty before one.
	LastError string
}

// QueueStore keeps the messages of a [Queue] in a database, so that they
// survive a restart and several processes can share one queue. Its methods
// must be safe for concurrent use, by several processes on one database as
// well. Times are kept at microsecond precision or better.
//
// Each message is in one of two states, told apart by DueAt alone: due (at
// or before the present), or waiting (for a retry, or for the end of a
// lease). A claim takes due messages and makes them wait for a lease: a
// process that dies while sending leaves them to be claimed again once the
// lease ends.
type QueueStore interface {
	// EnqueueMail adds m unless the queue already holds limit messages or
	// more, in which case it returns an error wrapping [ErrQueueFull]. The
	// count and the insert are one atomic step: concurrent calls never
	// take the queue past limit. m.ID is new.
	EnqueueMail(ctx context.Context, m QueuedMessage, limit int) error

	// ClaimMail returns at most n messages whose DueAt is at or before
	// now, earliest due first, after setting each one's DueAt to leaseEnd
	// and adding one to its Attempts; the messages returned carry the new
	// values. A message is returned by one claim only, whatever the
	// number of callers, until its lease has ended. No due message: an
	// empty slice and no error.
	ClaimMail(ctx context.Context, now, leaseEnd time.Time, n int) ([]QueuedMessage, error)

	// RetryMail makes the message with the given ID due at dueAt and
	// records lastError. An unknown ID is not an error: the message may
	// have been sent and deleted by another claim after a lease ended.
	RetryMail(ctx context.Context, id string, dueAt time.Time, lastError string) error

	// DeleteMail removes the message with the given ID, sent or given up.
	// An unknown ID is not an error.
	DeleteMail(ctx context.Context, id string) error
}
