// Package bounce reads the bounce and complaint events SES publishes through EventBridge
// and marks the addresses that cannot be mailed, so that an email that did not arrive is
// seen, in the requests waiting for it, instead of vanishing. The emails name their
// recipient's account and their request in SES message tags (mail.TagNIC, mail.TagRequest),
// which SES publishes back with each event of a configuration set.
package bounce

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/servicecontacts/servicecontacts/shared/contact"
	"github.com/servicecontacts/servicecontacts/shared/mail"
)

// Marker records that mail to address, the email of the account nic, bounced at at.
// contact.Manager implements it. A repeated call for the same bounce (EventBridge delivers
// at least once) must change nothing more.
type Marker interface {
	RecordBounce(ctx context.Context, nic, address string, at time.Time) error
}

var _ Marker = (*contact.Manager)(nil)

// Handler handles SES's email events.
type Handler struct {
	marker Marker
	log    *slog.Logger
	now    func() time.Time
}

// New returns a Handler that marks bouncing addresses through m and logs to log (nil: the
// default logger).
func New(m Marker, log *slog.Logger) *Handler {
	if log == nil {
		log = slog.Default()
	}
	return &Handler{marker: m, log: log, now: time.Now}
}

// Handle handles one event as EventBridge delivers it. A permanent bounce or a complaint
// marks the recipient's address; other events are logged and left alone. It returns an
// error, for EventBridge to deliver the event again, only when the event cannot be decoded
// or the Marker failed; an event that can never be acted on (no nic tag, no address)
// returns nil. It logs NIC handles and request ids, never an address.
func (h *Handler) Handle(ctx context.Context, event json.RawMessage) error {
	var e events.EventBridgeEvent
	if err := json.Unmarshal(event, &e); err != nil {
		return fmt.Errorf("decode EventBridge event: %w", err)
	}
	if e.Source != Source {
		h.log.WarnContext(ctx, "ignoring an event that is not from SES", "event", e.ID, "source", e.Source, "detailType", e.DetailType)
		return nil
	}
	if e.DetailType != DetailTypeBounce && e.DetailType != DetailTypeComplaint {
		// The rule should not route them here; they say nothing about an address.
		h.log.InfoContext(ctx, "ignoring an SES event that is neither a bounce nor a complaint", "event", e.ID, "detailType", e.DetailType)
		return nil
	}
	var r record
	if err := json.Unmarshal(e.Detail, &r); err != nil {
		return fmt.Errorf("decode SES event %s (%s): %w", e.ID, e.DetailType, err)
	}
	nic, request := r.Mail.tag(mail.TagNIC), r.Mail.tag(mail.TagRequest)
	log := h.log.With("event", e.ID, "eventType", r.EventType, "nic", nic, "changeId", request, "sesMessageId", r.Mail.MessageID)

	v := judge(r)
	if !v.mark {
		log.InfoContext(ctx, "SES event: address not marked", "why", v.why)
		return nil
	}
	if nic == "" {
		log.WarnContext(ctx, "SES event without a readable nic tag: nobody to mark", "why", v.why)
		return nil
	}
	if len(v.addresses) == 0 {
		log.WarnContext(ctx, "SES event names no address: nothing to mark", "why", v.why)
		return nil
	}
	at := v.at
	if at.IsZero() {
		at = e.Time
	}
	if at.IsZero() {
		at = h.now()
	}
	for _, address := range v.addresses {
		err := h.marker.RecordBounce(ctx, nic, address, at.UTC())
		if errors.Is(err, contact.ErrNotFound) {
			// The account is gone: there is nothing left to mark, and retrying cannot help.
			log.InfoContext(ctx, "SES event for an account that no longer exists", "why", v.why)
			return nil
		}
		if err != nil {
			return fmt.Errorf("record the bounce of %s's address (request %s): %w", nic, request, err)
		}
	}
	log.InfoContext(ctx, "address marked as bouncing", "why", v.why, "recipients", len(v.addresses))
	return nil
}

// verdict is what an SES event says about the recipients' addresses.
type verdict struct {
	mark      bool     // the addresses cannot be mailed
	addresses []string // the recipients concerned
	at        time.Time
	why       string // for the logs
}

// judge decides whether r says that its recipients cannot be mailed.
func judge(r record) verdict {
	switch {
	case r.EventType == eventBounce && r.Bounce != nil:
		b := r.Bounce
		v := verdict{addresses: recipientsOf(b.BouncedRecipients, r.Mail), at: b.Timestamp.Time, why: "bounce " + b.BounceType + "/" + b.BounceSubType}
		// Only a hard bounce says the address cannot be mailed. SES publishes a soft bounce
		// (Transient: mailbox full, message too large) only after retrying it for a while
		// itself; the address exists and a later email may well arrive, so asking its owner
		// to change it would be wrong. An Undetermined bounce says nothing about the address
		// either.
		v.mark = b.BounceType == bouncePermanent
		return v
	case r.EventType == eventComplaint && r.Complaint != nil:
		c := r.Complaint
		v := verdict{addresses: recipientsOf(c.ComplainedRecipients, r.Mail), at: c.Timestamp.Time, why: strings.TrimSpace("complaint " + c.ComplaintFeedbackType)}
		// The recipient reported the email as spam: SES may suppress the address, and the
		// emails after it will not arrive. A "not-spam" report is the opposite.
		v.mark = c.ComplaintFeedbackType != feedbackNotSpam
		return v
	}
	return verdict{why: "event of another type"}
}

// recipientsOf returns the addresses an event names, or, when it names none (ISPs may
// redact complaints), those the email was sent to: one, for the emails sent here.
func recipientsOf(rs []recipient, m mailObject) []string {
	if a := addresses(rs); len(a) > 0 {
		return a
	}
	var out []string
	for _, d := range m.Destination {
		if d != "" {
			out = append(out, d)
		}
	}
	return out
}
