package contact_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/servicecontacts/servicecontacts/shared/contact"
)

// failingFor makes the notifier answer err for notices of kind, and succeed otherwise.
func failingFor(kind contact.NoticeKind, err error) func(context.Context, contact.Notice) error {
	return func(_ context.Context, n contact.Notice) error {
		if n.Kind == kind {
			return err
		}
		return nil
	}
}

var errThrottled = fmt.Errorf("ses: throttled: %w", contact.ErrUnavailable)

func TestOutboxKeepsWhatCouldNotBeSent(t *testing.T) {
	t.Parallel()
	onBackends(t, func(t *testing.T, e *env) {
		c := e.newTech()
		e.mail.NotifyFunc = failingFor(contact.NoticeCancelled, errThrottled)
		at := e.clock.Advance(time.Minute)
		got, err := e.m.Cancel(e.ctx, adm, c.ID)
		if err != nil {
			t.Fatalf("Cancel with the mail service down: %v", err)
		}
		if got.State != contact.Cancelled {
			t.Fatalf("Cancel returned %s", got.State)
		}
		stored := e.wantState(c.ID, contact.Cancelled)
		e.wantReleased(stored)
		if n := len(e.mail.Sent()); n != 2 {
			t.Errorf("%d notices sent, want only the 2 token emails", n)
		}
		// Every message stays, one attempt more, due again later.
		var to []string
		for _, msg := range stored.Outbox {
			to = append(to, msg.To)
			if msg.Kind != contact.NoticeCancelled || msg.Attempts != 1 || !msg.NextAt.After(at) {
				t.Errorf("message %+v, want cancelled, 1 attempt, due after %v", msg, at)
			}
		}
		if diff := cmp.Diff([]string{adm, nwc, tec}, to); diff != "" {
			t.Errorf("outbox recipients (-want +got):\n%s", diff)
		}
		if stored.DueAt.IsZero() || !stored.DueAt.Equal(stored.Outbox[0].NextAt) {
			t.Errorf("due at %v, want when the first message is, %v", stored.DueAt, stored.Outbox[0].NextAt)
		}

		// Before NextAt, the reconciler leaves them.
		if _, err := e.m.Reconcile(e.ctx, c.ID); err != nil {
			t.Fatal(err)
		}
		if n := len(e.mail.Attempts()); n != 5 {
			t.Errorf("%d notify calls, want the 5 so far (nothing before NextAt)", n)
		}

		// Still down at NextAt: tried again, due later still.
		e.clock.Advance(stored.Outbox[0].NextAt.Sub(e.clock.Now()))
		if _, err := e.m.Reconcile(e.ctx, c.ID); err != nil {
			t.Fatal(err)
		}
		again := e.change(c.ID)
		for i, msg := range again.Outbox {
			if msg.Attempts != 2 || !msg.NextAt.After(stored.Outbox[i].NextAt) {
				t.Errorf("message %+v after a second failure, want 2 attempts, due after %v", msg, stored.Outbox[i].NextAt)
			}
		}

		// Back up: the next pass after NextAt sends each one exactly once.
		e.mail.NotifyFunc = nil
		e.clock.Advance(again.Outbox[0].NextAt.Sub(e.clock.Now()) + time.Millisecond)
		if _, err := e.m.Reconcile(e.ctx, c.ID); err != nil {
			t.Fatal(err)
		}
		e.wantTold(c.ID, contact.NoticeCancelled, adm, nwc, tec)
		done := e.change(c.ID)
		if len(done.Outbox) != 0 || !done.DueAt.IsZero() {
			t.Errorf("outbox %+v due %v, want empty and never due", done.Outbox, done.DueAt)
		}
		for range 2 {
			e.clock.Advance(time.Hour)
			if _, err := e.m.Reconcile(e.ctx, c.ID); err != nil {
				t.Fatal(err)
			}
		}
		e.wantTold(c.ID, contact.NoticeCancelled, adm, nwc, tec)
	})
}

func TestOutboxRetriesAPassingFaultForAsLongAsItLasts(t *testing.T) {
	t.Parallel()
	onBackends(t, func(t *testing.T, e *env) {
		c := e.newTech()
		e.mail.NotifyFunc = failingFor(contact.NoticeRefused, errThrottled)
		e.decide(c.ID, nwc, false)
		const attempts = 8
		for i := 1; i < attempts; i++ {
			next := e.change(c.ID).Outbox[0].NextAt
			e.clock.Advance(next.Sub(e.clock.Now()))
			if _, err := e.m.Reconcile(e.ctx, c.ID); err != nil {
				t.Fatal(err)
			}
		}
		stored := e.change(c.ID)
		if len(stored.Outbox) != 3 {
			t.Fatalf("outbox %+v, want the 3 refused notices still owed", stored.Outbox)
		}
		for _, msg := range stored.Outbox {
			if msg.Attempts != attempts {
				t.Errorf("message %+v, want %d attempts", msg, attempts)
			}
			if delay := msg.NextAt.Sub(e.clock.Now()); delay <= 0 || delay > 15*time.Minute {
				t.Errorf("next attempt in %v, want a delay of at most 15 minutes", delay)
			}
		}
		e.mail.NotifyFunc = nil
		e.clock.Advance(15 * time.Minute)
		if n, err := e.m.Sweep(e.ctx); err != nil || n != 1 {
			t.Fatalf("Sweep = %d, %v; want the 1 request that owes emails", n, err)
		}
		e.wantTold(c.ID, contact.NoticeRefused, adm, nwc, tec)
	})
}

func TestOutboxDropsAPermanentFailure(t *testing.T) {
	t.Parallel()
	onBackends(t, func(t *testing.T, e *env) {
		c := e.newTech()
		rejected := errors.New("ses: address rejected")
		e.mail.NotifyFunc = func(_ context.Context, n contact.Notice) error {
			if n.To.NIC == tec {
				return rejected
			}
			return nil
		}
		if _, err := e.m.Cancel(e.ctx, adm, c.ID); err != nil {
			t.Fatal(err)
		}
		e.wantTold(c.ID, contact.NoticeCancelled, adm, nwc)
		for range 10 {
			stored := e.change(c.ID)
			if len(stored.Outbox) == 0 {
				break
			}
			e.clock.Advance(stored.Outbox[0].NextAt.Sub(e.clock.Now()))
			if _, err := e.m.Reconcile(e.ctx, c.ID); err != nil {
				t.Fatal(err)
			}
		}
		tries := 0
		for _, n := range e.mail.Attempts() {
			if n.To == tec {
				tries++
			}
		}
		if tries != 5 {
			t.Errorf("%d attempts to tell %s, want 5 before giving up", tries, tec)
		}
		stored := e.change(c.ID)
		if len(stored.Outbox) != 0 || !stored.DueAt.IsZero() {
			t.Errorf("outbox %+v due %v, want the message dropped", stored.Outbox, stored.DueAt)
		}
		e.wantTold(c.ID, contact.NoticeCancelled, adm, nwc) // the others once, not again
	})
}

func TestOutboxSkipsWhoCannotBeTold(t *testing.T) {
	t.Parallel()
	onBackends(t, func(t *testing.T, e *env) {
		c := e.newTech()
		e.deleteAccount(tec) // the previous holder's account was closed
		if _, err := e.m.Cancel(e.ctx, adm, c.ID); err != nil {
			t.Fatal(err)
		}
		e.wantTold(c.ID, contact.NoticeCancelled, adm, nwc)
		for _, n := range e.mail.Attempts() {
			if n.To == tec {
				t.Errorf("notice %+v to an account that is gone", n)
			}
		}
		if stored := e.change(c.ID); len(stored.Outbox) != 0 {
			t.Errorf("outbox %+v, want empty", stored.Outbox)
		}
	})
}
