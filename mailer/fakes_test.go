package mailer

import (
	"context"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// discardStore and discardSender stand in where a test of a pure function
// needs a Queue but never sends.
type discardStore struct{}

func (discardStore) EnqueueMail(context.Context, QueuedMessage, int) error { return nil }
func (discardStore) ClaimMail(context.Context, time.Time, time.Time, int) ([]QueuedMessage, error) {
	return nil, nil
}
func (discardStore) RetryMail(context.Context, string, time.Time, string) error { return nil }
func (discardStore) DeleteMail(context.Context, string) error                   { return nil }

type discardSender struct{}

func (discardSender) Send(context.Context, *gomail.Msg) error { return nil }
