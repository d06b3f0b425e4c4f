package contact_test

import (
	"testing"
	"time"

	"github.com/servicecontacts/servicecontacts/shared/contact"
)

// TestAPortAFunctionWasNotGivenLeavesItsWorkOwed: a Manager wired without a workflow and a
// notifier (as a function that calls neither is) still cancels a request, and the emails
// it could not send stay owed until a Manager that has a notifier reconciles it.
func TestAPortAFunctionWasNotGivenLeavesItsWorkOwed(t *testing.T) {
	t.Parallel()
	onBackends(t, func(t *testing.T, e *env) {
		c := e.newTech()
		sent := len(e.mail.Sent())
		bare := contact.New(contact.Config{Store: e.hooks, Now: e.clock.Now})
		if _, err := bare.Cancel(e.ctx, adm, c.ID); err != nil {
			t.Fatalf("Cancel without workflow and notifier: %v", err)
		}
		stored := e.wantState(c.ID, contact.Cancelled)
		if len(stored.Outbox) == 0 {
			t.Fatalf("no email owed after the notifier was missing: %+v", stored)
		}
		if n := len(e.mail.Sent()); n != sent {
			t.Fatalf("%d notices sent, want the %d token emails only", n, sent)
		}

		e.clock.Advance(24 * time.Hour)
		if _, err := e.m.Reconcile(e.ctx, c.ID); err != nil {
			t.Fatalf("Reconcile with every port: %v", err)
		}
		var cancelled int
		for _, n := range e.mail.Sent() {
			if n.Kind == contact.NoticeCancelled {
				cancelled++
			}
		}
		if cancelled != len(stored.Outbox) {
			t.Errorf("the reconciler sent %d cancellation notices, want the %d owed", cancelled, len(stored.Outbox))
		}
		if stored := e.change(c.ID); len(stored.Outbox) != 0 {
			t.Errorf("still owed after reconciling: %+v", stored.Outbox)
		}
	})
}
