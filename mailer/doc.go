// Package mailer sends latch's email in the background, from a queue kept
// in the database.
//
// # Model
//
// A page that sends mail (a verification link, a password reset) calls
// [Queue.Enqueue], which checks the [Message] and writes it to a
// [QueueStore] (a table of the SQLite or PostgreSQL store), and returns: no
// network, so a mail server that is down or slow never fails or slows a
// page. The queue is bounded ([Config.Limit]): past it, Enqueue returns an
// error wrapping [ErrQueueFull] instead of filling the disk while the mail
// server is away.
//
// [Queue.Run], started once per process for its lifetime, claims due
// messages, a few at a time ([Config.Concurrency]), and hands each to a
// [Sender]. A claim leases the message to the process ([Config.Lease]), so
// that several processes on one database never send the same message at
// once. A message sent is deleted. One that failed is tried again after a
// wait that doubles from 30 seconds to an hour, with jitter, until it is 24
// hours old, when it is given up and dropped with a log line at error
// level; a message the server refuses permanently (a 5xx reply) is given up
// at once. Enqueue wakes the worker of its own process at once; other
// processes find the message within [Config.PollInterval].
//
// # Delivery guarantees
//
// Once Enqueue returned nil the message is on disk, and is delivered at
// least once unless it is given up: a stop of the process (Run's context
// ends) releases the messages being sent, due again at once; a crash leaves
// them claimed until their lease ends, when they are sent again. A message
// may therefore arrive twice, when a process died, or a connection was cut,
// between the server accepting it and the queue deleting it. Every attempt
// sends the same Message-ID, by which a mail client may recognise the copy.
//
// # Senders
//
// An [SMTPSender] delivers to a relay or a provider's submission server,
// with STARTTLS required (smtp://), TLS from the start (smtps://), or, said
// explicitly, no TLS for a relay on the same host (smtp://HOST:PORT?tls=none).
// An [Outbox] writes each message as an .eml file into a folder instead: the
// zero-configuration default of the latch app, where developers open the
// files with a mail client. Both write the bytes that [Queue.Compose]
// produces with github.com/wneessen/go-mail: headers Date, From, To,
// Subject, Message-ID, and a multipart/alternative body of a text part and
// an HTML part (text alone when the message has no HTML), UTF-8 in
// quoted-printable.
package mailer
