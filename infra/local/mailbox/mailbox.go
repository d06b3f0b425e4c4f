// Package mailbox is the local stack's stand-in for SES: it keeps every message sent in
// memory and shows them, as JSON at GET /_local/mail and as a web page at
// GET /_local/mail/ui.
package mailbox

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/servicecontacts/servicecontacts/shared/mail"
)

// Message is a message the box received, and when.
type Message struct {
	mail.Message
	SentAt time.Time
}

// Box stores messages in memory. It is safe for concurrent use.
type Box struct {
	now     func() time.Time
	handler http.Handler

	mu       sync.Mutex
	messages []Message
	// cleared counts the messages Clear dropped, so that a waiter's place stays valid.
	cleared int
	// arrived is closed, and replaced, whenever a message arrives.
	arrived chan struct{}
}

var _ mail.Sender = (*Box)(nil)

// New returns an empty box.
func New() *Box {
	b := &Box{now: time.Now, arrived: make(chan struct{})}
	b.handler = b.routes()
	return b
}

// Send stores m.
func (b *Box) Send(ctx context.Context, m mail.Message) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.messages = append(b.messages, Message{Message: m, SentAt: b.now().UTC()})
	close(b.arrived)
	b.arrived = make(chan struct{})
	return nil
}

// Messages returns the messages received so far, oldest first.
func (b *Box) Messages() []Message {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]Message(nil), b.messages...)
}

// Clear forgets every message.
func (b *Box) Clear() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.cleared += len(b.messages)
	b.messages = nil
}

// Wait returns the oldest message, already received or still to come, for which match
// returns true. It gives up with ctx's error when ctx ends first. To wait only for messages
// sent from now on, match on something new, like a fresh request id or a SentAt after a
// time taken before.
func (b *Box) Wait(ctx context.Context, match func(Message) bool) (Message, error) {
	seen := 0 // messages looked at, counting those cleared since
	for {
		b.mu.Lock()
		fresh := append([]Message(nil), b.messages[max(seen-b.cleared, 0):]...)
		seen = b.cleared + len(b.messages)
		arrived := b.arrived
		b.mu.Unlock()

		for _, m := range fresh {
			if match(m) {
				return m, nil
			}
		}
		select {
		case <-arrived:
		case <-ctx.Done():
			return Message{}, ctx.Err()
		}
	}
}
