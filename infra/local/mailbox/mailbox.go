// Package mailbox is the local stack's stand-in for SES: it keeps every message sent in
// memory and shows them, as JSON at GET /_local/mail and as a web page at
// GET /_local/mail/ui. Mail to the domain bounce.test (or under it) bounces: the box keeps
// it too, and hands the event SES would publish for its permanent bounce to the function
// given to OnBounce.
package mailbox

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	netmail "net/mail"
	"strings"
	"sync"
	"time"

	"github.com/servicecontacts/servicecontacts/shared/bounce"
	"github.com/servicecontacts/servicecontacts/shared/mail"
)

// BounceDomain is the domain whose addresses, and those of its subdomains, bounce.
const BounceDomain = "bounce.test"

// Message is a message the box received, and when.
type Message struct {
	mail.Message
	SentAt time.Time
	// Bounced: the address bounces (see Bounces); the message is kept all the same.
	Bounced bool
}

// BounceFunc receives the EventBridge event SES would publish for a bounce (on AWS, an
// EventBridge rule delivers it to the bounce function).
type BounceFunc func(ctx context.Context, event json.RawMessage) error

// Box stores messages in memory. It is safe for concurrent use.
type Box struct {
	now     func() time.Time
	log     *slog.Logger
	handler http.Handler

	mu       sync.Mutex
	messages []Message
	// cleared counts the messages Clear dropped, so that a waiter's place stays valid.
	cleared int
	// arrived is closed, and replaced, whenever a message arrives.
	arrived  chan struct{}
	onBounce BounceFunc
	// bouncing counts the calls of onBounce under way.
	bouncing sync.WaitGroup
}

var _ mail.Sender = (*Box)(nil)

// Option configures a Box.
type Option func(*Box)

// WithLogger makes the box log to log (by default, slog's default logger).
func WithLogger(log *slog.Logger) Option {
	return func(b *Box) { b.log = log }
}

// New returns an empty box.
func New(opts ...Option) *Box {
	b := &Box{now: time.Now, log: slog.Default(), arrived: make(chan struct{})}
	for _, opt := range opts {
		opt(b)
	}
	b.handler = b.routes()
	return b
}

// OnBounce makes the box call f with the event of each message it bounces from now on;
// nil calls nothing. f runs on a goroutine of its own, not within Send, as SES reports a
// bounce apart from accepting the email; an error it returns is logged.
func (b *Box) OnBounce(f BounceFunc) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.onBounce = f
}

// Bounces reports whether mail to address bounces: its domain is BounceDomain or a
// subdomain of it.
func Bounces(address string) bool {
	if a, err := netmail.ParseAddress(address); err == nil {
		address = a.Address
	}
	at := strings.LastIndexByte(address, '@')
	if at < 0 {
		return false
	}
	domain := strings.TrimSuffix(strings.ToLower(address[at+1:]), ".")
	return domain == BounceDomain || strings.HasSuffix(domain, "."+BounceDomain)
}

// Send stores m and, when its address bounces, has the bounce reported.
func (b *Box) Send(ctx context.Context, m mail.Message) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	msg := Message{Message: m, SentAt: b.now().UTC(), Bounced: Bounces(m.To)}
	b.mu.Lock()
	b.messages = append(b.messages, msg)
	close(b.arrived)
	b.arrived = make(chan struct{})
	report := b.onBounce
	if !msg.Bounced {
		report = nil
	}
	if report != nil {
		b.bouncing.Add(1)
	}
	b.mu.Unlock()

	if report != nil {
		// The sender's context may end with its request; the bounce comes later.
		go b.bounce(context.WithoutCancel(ctx), report, msg)
	}
	return nil
}

// bounce hands the event of msg's bounce to report.
func (b *Box) bounce(ctx context.Context, report BounceFunc, msg Message) {
	defer b.bouncing.Done()
	log := b.log.With("nic", msg.NIC, "changeId", msg.RequestID)
	if err := report(ctx, bounce.Event(msg.Message, msg.SentAt)); err != nil {
		log.WarnContext(ctx, "local mail bounced, and handling the bounce failed", "err", err)
		return
	}
	log.InfoContext(ctx, "local mail bounced")
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
