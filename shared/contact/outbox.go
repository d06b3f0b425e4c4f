package contact

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
)

// Message is an email a transition owes to one account, kept in the request's outbox until
// it is sent. Token emails are not among them: a token is never stored, so it is sent at
// once or replaced by a resend.
type Message struct {
	// ID is unique within the request: the version that owed it, the kind and the
	// recipient. Removing a sent message by ID keeps a concurrent write's own messages.
	ID      string
	Kind    NoticeKind
	To      string // NIC handle
	Failure Failure
	// Owed is the version of the request whose write owed the message: the caller that
	// made that write sends it at once, and nobody else does before NextAt.
	Owed int
	// Attempts counts failed sends; NextAt is when anyone may send it (again).
	Attempts int
	NextAt   time.Time
}

// Outbox delivery settings.
const (
	// maxPermanentAttempts bounds the sends of a message that the mail service refuses for
	// good (a rejected address): it is dropped after that, and the drop is logged. A
	// passing fault (throttling) is retried for as long as it lasts.
	maxPermanentAttempts = 5
	maxRetryDelay        = 15 * time.Minute
	// DefaultOwnerWindow is how long the writer that owed a message has to send it before
	// the reconciler may: long enough that the two do not both send it.
	DefaultOwnerWindow = time.Minute
)

// owe adds to c's outbox a message of kind to each of nics, owed by the write about to
// store c (at version c.Version+1); others may send it from nextAt.
func (c *Change) owe(kind NoticeKind, nics []string, failure Failure, nextAt time.Time) {
	if c.BatchID != "" {
		return // the batch tells its outcomes in one email per account (see tellBatch)
	}
	owed := c.Version + 1
	for _, nic := range nics {
		id := fmt.Sprintf("%d:%s:%s", owed, kind, nic)
		if slices.ContainsFunc(c.Outbox, func(m Message) bool { return m.ID == id }) {
			continue
		}
		c.Outbox = append(c.Outbox, Message{ID: id, Kind: kind, To: nic, Failure: failure, Owed: owed, NextAt: nextAt.UTC()})
	}
}

// oweOutcome adds the emails that tell how c ended: everyone involved learns the outcome,
// and on success the previous holders listed in Notify learn that the role passed on.
func (c *Change) oweOutcome(failure Failure, nextAt time.Time) {
	kind := map[State]NoticeKind{Done: NoticeDone, Refused: NoticeRefused, Cancelled: NoticeCancelled, Expired: NoticeExpired, Failed: NoticeFailed}[c.State]
	if kind == "" {
		return
	}
	var told []string
	for _, nic := range c.Involved() {
		if kind == NoticeDone && contains(c.Notify, nic) {
			continue // told below that the role passed on
		}
		told = append(told, nic)
	}
	c.owe(kind, told, failure, nextAt)
	if kind == NoticeDone {
		c.owe(NoticeReplaced, c.Notify, Failure{}, nextAt)
	}
}

// deliver sends the messages of c's outbox that the write of version mine owed (0 for
// none: the caller wrote no transition) and those whose NextAt has come, publishes its
// events likewise, then removes the sent and published ones from the stored request and
// reschedules the others, whatever else was written meanwhile. A failure is logged, not
// returned: what failed stays owed and the reconciler delivers it later. It returns the
// request as last read or saved.
func (m *Manager) deliver(ctx context.Context, c Change, mine int) Change {
	return m.deliverWith(ctx, m.accountReader(), c, mine)
}

// deliverWith is deliver reading the recipients' accounts through accounts, which may
// hold them already.
func (m *Manager) deliverWith(ctx context.Context, accounts *accountReader, c Change, mine int) Change {
	c = m.deliverOutbox(ctx, accounts, c, mine)
	if mine != 0 && c.BatchID != "" && c.State.Terminal() {
		// The write that ended one of a batch's requests may have ended the last of them.
		m.tellBatch(ctx, c.BatchID)
	}
	return c
}

func (m *Manager) deliverOutbox(ctx context.Context, accounts *accountReader, c Change, mine int) Change {
	now := m.now()
	var due []Message
	var recipients []string
	for _, msg := range c.Outbox {
		if (mine == 0 || msg.Owed != mine) && msg.NextAt.After(now) {
			continue
		}
		due = append(due, msg)
		recipients = append(recipients, msg.To)
	}
	// Every recipient's address in one read; should it fail, each send reads its own.
	if err := accounts.fetch(ctx, recipients); err != nil {
		m.log.WarnContext(ctx, "read the recipients' accounts", "changeId", c.ID, "err", err)
	}
	sent := map[string]bool{}
	failed := map[string]error{}
	for _, msg := range due {
		err := m.send(ctx, accounts, c, msg)
		if err == nil {
			sent[msg.ID] = true
			continue
		}
		if !errors.Is(err, ErrUnavailable) && msg.Attempts+1 >= maxPermanentAttempts {
			m.log.ErrorContext(ctx, "email dropped after repeated refusals", "changeId", c.ID, "kind", msg.Kind, "to", msg.To, "err", err)
			sent[msg.ID] = true // given up: removed like a sent one
			continue
		}
		m.log.WarnContext(ctx, "email not sent yet", "changeId", c.ID, "kind", msg.Kind, "to", msg.To, "err", err)
		failed[msg.ID] = err
	}
	published, unpublished := m.publish(ctx, c.ID, c.Events, mine, now)
	if len(sent) == 0 && len(failed) == 0 && len(published) == 0 && len(unpublished) == 0 {
		return c
	}
	saved, err := m.bookkeep(ctx, c, func(c *Change) {
		kept := c.Outbox[:0]
		for _, msg := range c.Outbox {
			if sent[msg.ID] {
				continue
			}
			if failed[msg.ID] != nil {
				msg.Attempts++
				msg.NextAt = now.Add(retryDelay(msg.Attempts)).UTC()
			}
			kept = append(kept, msg)
		}
		c.Outbox = kept
		c.Events = settle(c.Events, published, unpublished, now)
	}, time.Time{})
	if err != nil {
		// Sent messages stay in the outbox and may go again: at least once beats never.
		m.log.ErrorContext(ctx, "record sent emails and published events", "changeId", c.ID, "err", err)
		return c
	}
	return saved
}

// publish publishes, in order, the events of owed up to the last one that the write of
// version mine owed or whose NextAt has come: an event never overtakes an earlier one of
// the same outbox (its consumers see a request's events in order; one published twice
// keeps its id). It returns the ids published and those it tried and could not publish.
// Without a Publisher it publishes nothing: the events wait for a function that has one.
func (m *Manager) publish(ctx context.Context, subject string, owed []Announcement, mine int, now time.Time) (published, unpublished map[string]bool) {
	if m.publisher == nil {
		return nil, nil
	}
	last := -1
	for i, a := range owed {
		if (mine != 0 && a.Owed == mine) || !a.NextAt.After(now) {
			last = i
		}
	}
	if last < 0 {
		return nil, nil
	}
	batch := owed[:last+1]
	delivered, err := m.publisher.Publish(ctx, batch)
	published, unpublished = map[string]bool{}, map[string]bool{}
	for _, id := range delivered {
		published[id] = true
	}
	for _, a := range batch {
		if !published[a.ID] {
			unpublished[a.ID] = true
		}
	}
	if err != nil {
		m.log.WarnContext(ctx, "events not published yet", "subject", subject, "events", len(unpublished), "err", err)
	}
	return published, unpublished
}

// settle removes the published events from events and reschedules those that could not be
// published. Events are never dropped: other systems must learn of every transition.
func settle(events []Announcement, published, unpublished map[string]bool, now time.Time) []Announcement {
	if len(published) == 0 && len(unpublished) == 0 {
		return events
	}
	var kept []Announcement
	for _, a := range events {
		if published[a.ID] {
			continue
		}
		if unpublished[a.ID] {
			a.Attempts++
			a.NextAt = now.Add(retryDelay(a.Attempts)).UTC()
		}
		kept = append(kept, a)
	}
	return kept
}

// send renders and sends one outbox message. An account that is gone or has no address
// cannot be told: the message counts as sent.
func (m *Manager) send(ctx context.Context, accounts *accountReader, c Change, msg Message) error {
	acct, err := accounts.get(ctx, msg.To)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("load account %s: %w", msg.To, err)
	}
	if acct.Email == "" {
		return nil
	}
	return m.notifier.Notify(ctx, Notice{Kind: msg.Kind, To: acct, Change: c, Failure: msg.Failure})
}

// retryDelay grows with each failed attempt: 2s, 4s, 8s... up to maxRetryDelay.
func retryDelay(attempts int) time.Duration {
	d := time.Second << min(attempts, 20)
	return min(d, maxRetryDelay)
}

// outboxDue is when the earliest message or event of c's outbox is due; zero when both are
// empty.
func (c Change) outboxDue() time.Time {
	var due time.Time
	for _, msg := range c.Outbox {
		if due.IsZero() || msg.NextAt.Before(due) {
			due = msg.NextAt
		}
	}
	return earliest(due, eventsDue(c.Events))
}

// eventsDue is when the earliest of events is due; zero when there are none.
func eventsDue(events []Announcement) time.Time {
	var due time.Time
	for _, a := range events {
		if due.IsZero() || a.NextAt.Before(due) {
			due = a.NextAt
		}
	}
	return due
}

// earliest is the earlier of a and b, ignoring a zero time.
func earliest(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}
