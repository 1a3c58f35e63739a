package mailer

// Message is one email to one recipient, with a plain-text body and an
// optional HTML alternative.
type Message struct {
	// To is the recipient's address.
	To string
	// Subject is the subject line.
	Subject string
	// Text is the plain-text body. Required.
	Text string
	// HTML is the HTML alternative of Text; empty sends plain text only.
	HTML string
}
