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
// none: the caller wrote no transition) and those whose NextAt has come, then removes the
// sent ones from the stored request and reschedules the others, whatever else was written
// meanwhile. A failure is logged, not returned: the messages stay in the outbox and the
// reconciler sends them later. It returns the request as last read or saved.
func (m *Manager) deliver(ctx context.Context, c Change, mine int) Change {
	now := m.now()
	sent := map[string]bool{}
	failed := map[string]error{}
	for _, msg := range c.Outbox {
		if (mine == 0 || msg.Owed != mine) && msg.NextAt.After(now) {
			continue
		}
		err := m.send(ctx, c, msg)
		if err == nil {
			sent[msg.ID] = true
			continue
		}
		if !errors.Is(err, ErrUnavailable) && msg.Attempts+1 >= maxPermanentAttempts {
			m.log.ErrorContext(ctx, "email dropped after repeated refusals", "request", c.ID, "kind", msg.Kind, "to", msg.To, "err", err)
			sent[msg.ID] = true // given up: removed like a sent one
			continue
		}
		m.log.WarnContext(ctx, "email not sent yet", "request", c.ID, "kind", msg.Kind, "to", msg.To, "err", err)
		failed[msg.ID] = err
	}
	if len(sent) == 0 && len(failed) == 0 {
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
	}, time.Time{})
	if err != nil {
		// Sent messages stay in the outbox and may go again: at least once beats never.
		m.log.ErrorContext(ctx, "record sent emails", "request", c.ID, "err", err)
		return c
	}
	return saved
}

// send renders and sends one outbox message. An account that is gone or has no address
// cannot be told: the message counts as sent.
func (m *Manager) send(ctx context.Context, c Change, msg Message) error {
	acct, err := m.store.Account(ctx, msg.To)
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

// outboxDue is when the earliest message of c's outbox is due; zero when it is empty.
func (c Change) outboxDue() time.Time {
	var due time.Time
	for _, msg := range c.Outbox {
		if due.IsZero() || msg.NextAt.Before(due) {
			due = msg.NextAt
		}
	}
	return due
}
