// Package mail turns contact-change notices into emails and sends them: the Notifier renders
// a notice in the recipient's language, and a Sender delivers it (SES on AWS, the local mail
// catcher in the local stack).
package mail

import "context"

// Message is one email, ready to send.
type Message struct {
	To      string
	Subject string
	Text    string
	HTML    string
}

// Sender delivers messages.
type Sender interface {
	Send(ctx context.Context, m Message) error
}
