package contact_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/servicecontacts/servicecontacts/shared/contact"
)

func TestDecideAcceptFirstPartyThenLast(t *testing.T) {
	t.Parallel()
	onBackends(t, func(t *testing.T, e *env) {
		c := e.newTech()
		at := e.clock.Advance(3 * time.Hour)

		got := e.decide(c.ID, adm, true)
		stored := e.wantState(c.ID, contact.Pending)
		for _, x := range []contact.Change{got, stored} {
			if diff := cmp.Diff([]string{nwc}, x.WaitingFor()); diff != "" {
				t.Errorf("waiting for (-want +got):\n%s", diff)
			}
			if p, _ := x.Party(adm); p.Status != contact.Accepted {
				t.Errorf("%s is %s, want accepted", adm, p.Status)
			}
		}
		if ev := lastEvent(t, stored); ev.Event != string(contact.StepAccepted) || ev.By != adm || !ev.At.Equal(at) {
			t.Errorf("last event %+v, want accepted by %s at %v", ev, adm, at)
		}
		// The party who accepted is told the others have not yet, once.
		e.wantTold(c.ID, contact.NoticeWaiting, adm)
		if len(stored.Outbox) != 0 {
			t.Errorf("outbox %+v, want empty once the waiting notice went", stored.Outbox)
		}
		// Nothing is sent again later.
		e.clock.Advance(contact.DefaultOwnerWindow + time.Minute)
		if _, err := e.m.Reconcile(e.ctx, c.ID); err != nil {
			t.Fatal(err)
		}
		e.wantTold(c.ID, contact.NoticeWaiting, adm)

		// The last party accepts through the emailed link: the token alone authenticates.
		got, err := e.m.Decide(e.ctx, contact.Decision{ChangeID: c.ID, Token: e.mail.Token(c.ID, nwc), Accept: true})
		if err != nil {
			t.Fatal(err)
		}
		if got.State != contact.Applying {
			t.Errorf("Decide returned %s, want applying", got.State)
		}
		stored = e.wantState(c.ID, contact.Applying)
		if ev := lastEvent(t, stored); ev.Event != string(contact.StepApplying) || ev.By != contact.System {
			t.Errorf("last event %+v, want applying by the system", ev)
		}
		if n := len(stored.History); n != 4 { // created, accepted ×2, applying
			t.Errorf("history %+v, want 4 entries", stored.History)
		}
		e.wantTold(c.ID, contact.NoticeWaiting, adm) // not the last party
		if n := len(e.mail.Of(c.ID, contact.NoticeDone)); n != 0 {
			t.Errorf("%d done notices before the change applied", n)
		}
		// Still locked, and nothing changed yet: the workflow applies it.
		if e.service(svcID).Open[contact.Tech] != c.ID {
			t.Error("an applying request no longer locks its role")
		}
		e.wantContacts(svcID, exampleContacts())
	})
}

func TestDecideRefuse(t *testing.T) {
	t.Parallel()
	onBackends(t, func(t *testing.T, e *env) {
		c := e.newTech()
		e.decide(c.ID, adm, true)
		got := e.decide(c.ID, nwc, false)
		if got.State != contact.Refused {
			t.Fatalf("Decide returned %s, want refused", got.State)
		}
		stored := e.wantState(c.ID, contact.Refused)
		if p, _ := stored.Party(nwc); p.Status != contact.Declined {
			t.Errorf("%s is %s, want refused", nwc, p.Status)
		}
		if ev := lastEvent(t, stored); ev.Event != string(contact.StepRefused) || ev.By != nwc {
			t.Errorf("last event %+v, want refused by %s", ev, nwc)
		}
		e.wantReleased(stored)
		e.wantContacts(svcID, exampleContacts())
		// Everyone involved learns it once: the requester, the parties, the previous holder.
		e.wantTold(c.ID, contact.NoticeRefused, adm, nwc, tec)
		if !stored.DueAt.IsZero() || len(stored.Outbox) != 0 {
			t.Errorf("due %v with outbox %+v, want nothing left to do", stored.DueAt, stored.Outbox)
		}
		// Later passes (the workflow's refused path, the reconciler) send nothing again.
		e.clock.Advance(contact.DefaultOwnerWindow + time.Minute)
		if _, err := e.m.Finish(e.ctx, c.ID, contact.Refused); err != nil {
			t.Fatal(err)
		}
		if _, err := e.m.Reconcile(e.ctx, c.ID); err != nil {
			t.Fatal(err)
		}
		e.wantTold(c.ID, contact.NoticeRefused, adm, nwc, tec)
		e.wantState(c.ID, contact.Refused)
	})
}

func TestDecideRefusedByTheOnlyParty(t *testing.T) {
	t.Parallel()
	onBackends(t, func(t *testing.T, e *env) {
		c := e.request1(adm, svcID, contact.Billing, adm) // adm alone confirms; bil is told
		e.decide(c.ID, adm, false)
		e.wantReleased(e.wantState(c.ID, contact.Refused))
		e.wantTold(c.ID, contact.NoticeRefused, adm, bil)
	})
}

func TestDecideTokenErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// prepare brings request c where the case needs it and returns the decision to try.
		prepare func(t *testing.T, e *env, c contact.Change) contact.Decision
		kind    error
		code    string
	}{
		{"missing token", func(t *testing.T, e *env, c contact.Change) contact.Decision {
			return contact.Decision{ChangeID: c.ID, Caller: nwc, Accept: true}
		}, contact.ErrInvalid, "missing_token"},
		{"unknown token", func(t *testing.T, e *env, c contact.Change) contact.Decision {
			return contact.Decision{ChangeID: c.ID, Token: "not-a-token", Accept: true}
		}, contact.ErrForbidden, "invalid_token"},
		{"the stored hash", func(t *testing.T, e *env, c contact.Change) contact.Decision {
			p, _ := c.Party(nwc)
			return contact.Decision{ChangeID: c.ID, Token: p.TokenHash, Accept: true}
		}, contact.ErrForbidden, "invalid_token"},
		{"token of another request", func(t *testing.T, e *env, c contact.Change) contact.Decision {
			other := e.request1(adm, svcID, contact.Billing, nwc)
			return contact.Decision{ChangeID: c.ID, Token: e.mail.Token(other.ID, nwc), Accept: true}
		}, contact.ErrForbidden, "invalid_token"},
		{"replaced by a resend", func(t *testing.T, e *env, c contact.Change) contact.Decision {
			old := e.mail.Token(c.ID, nwc)
			if _, err := e.m.Resend(e.ctx, adm, c.ID); err != nil {
				t.Fatal(err)
			}
			return contact.Decision{ChangeID: c.ID, Token: old, Caller: nwc, Accept: true}
		}, contact.ErrGone, "token_replaced"},
		{"already used", func(t *testing.T, e *env, c contact.Change) contact.Decision {
			e.decide(c.ID, adm, true)
			return contact.Decision{ChangeID: c.ID, Token: e.mail.Token(c.ID, adm), Caller: adm, Accept: false}
		}, contact.ErrGone, "token_used"},
		{"used on an applying request", func(t *testing.T, e *env, c contact.Change) contact.Decision {
			e.acceptAll(c)
			return contact.Decision{ChangeID: c.ID, Token: e.mail.Token(c.ID, nwc), Accept: false}
		}, contact.ErrGone, "token_used"},
		{"expired", func(t *testing.T, e *env, c contact.Change) contact.Decision {
			e.clock.Advance(contact.DefaultExpiry)
			return contact.Decision{ChangeID: c.ID, Token: e.mail.Token(c.ID, nwc), Caller: nwc, Accept: true}
		}, contact.ErrGone, "request_expired"},
		{"expired and ended", func(t *testing.T, e *env, c contact.Change) contact.Decision {
			e.clock.Advance(contact.DefaultExpiry)
			if _, err := e.m.Reconcile(e.ctx, c.ID); err != nil {
				t.Fatal(err)
			}
			e.wantState(c.ID, contact.Expired)
			return contact.Decision{ChangeID: c.ID, Token: e.mail.Token(c.ID, nwc), Accept: true}
		}, contact.ErrGone, "request_expired"},
		{"refused by the other party", func(t *testing.T, e *env, c contact.Change) contact.Decision {
			e.decide(c.ID, adm, false)
			return contact.Decision{ChangeID: c.ID, Token: e.mail.Token(c.ID, nwc), Caller: nwc, Accept: true}
		}, contact.ErrGone, "request_closed"},
		{"cancelled", func(t *testing.T, e *env, c contact.Change) contact.Decision {
			if _, err := e.m.Cancel(e.ctx, adm, c.ID); err != nil {
				t.Fatal(err)
			}
			return contact.Decision{ChangeID: c.ID, Token: e.mail.Token(c.ID, nwc), Accept: true}
		}, contact.ErrGone, "request_closed"},
		{"a party with another party's token", func(t *testing.T, e *env, c contact.Change) contact.Decision {
			return contact.Decision{ChangeID: c.ID, Token: e.mail.Token(c.ID, nwc), Caller: adm, Accept: true}
		}, contact.ErrForbidden, "invalid_token"},
		{"the previous holder with a party's token", func(t *testing.T, e *env, c contact.Change) contact.Decision {
			return contact.Decision{ChangeID: c.ID, Token: e.mail.Token(c.ID, nwc), Caller: tec, Accept: false}
		}, contact.ErrForbidden, "invalid_token"},
		{"a stranger with a party's token", func(t *testing.T, e *env, c contact.Change) contact.Decision {
			return contact.Decision{ChangeID: c.ID, Token: e.mail.Token(c.ID, nwc), Caller: stranger, Accept: true}
		}, contact.ErrNotFound, "request_not_found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			onBackends(t, func(t *testing.T, e *env) {
				c := e.newTech()
				d := tt.prepare(t, e, c)
				before := e.change(c.ID)
				notices := len(e.mail.Attempts())
				answers := len(e.wf.Answers())

				_, err := e.m.Decide(e.ctx, d)
				wantError(t, err, tt.kind, tt.code)

				// A wrong token is recorded in the history, without the token, and
				// nothing else changes.
				want := before
				if tt.code == "invalid_token" {
					by := d.Caller
					if by == "" {
						by = contact.Anonymous
					}
					want.History = append(slices.Clone(before.History), contact.Event{At: e.clock.Now(), By: by, Event: contact.EventTokenRejected, Detail: "1 wrong token"})
					want.Version++
				}
				if diff := cmp.Diff(want, e.change(c.ID)); diff != "" {
					t.Errorf("a refused decision changed the request (-want +got):\n%s", diff)
				}
				if n := len(e.mail.Attempts()); n != notices {
					t.Errorf("%d notices sent by a refused decision", n-notices)
				}
				if n := len(e.wf.Answers()); n != answers {
					t.Errorf("%d workflow answers by a refused decision", n-answers)
				}
			})
		})
	}
}

func TestDecideUnknownRequest(t *testing.T) {
	t.Parallel()
	onBackends(t, func(t *testing.T, e *env) {
		for _, caller := range []string{"", adm} {
			_, err := e.m.Decide(e.ctx, contact.Decision{ChangeID: "no-such-request", Token: "x", Caller: caller, Accept: true})
			if !errors.Is(err, contact.ErrNotFound) {
				t.Errorf("caller %q: error %v, want not found", caller, err)
			}
		}
	})
}

func TestDecideAnswersRegisteredTasks(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		decide func(e *env, c contact.Change)
		want   []wfCall
		state  contact.State
	}{
		{"each acceptance continues its own task", func(e *env, c contact.Change) {
			e.decide(c.ID, adm, true)
			e.decide(c.ID, nwc, true)
		}, []wfCall{{Op: "continue", TaskToken: "task-" + adm}, {Op: "continue", TaskToken: "task-" + nwc}}, contact.Applying},
		{"the first acceptance continues only its task", func(e *env, c contact.Change) {
			e.decide(c.ID, nwc, true)
		}, []wfCall{{Op: "continue", TaskToken: "task-" + nwc}}, contact.Pending},
		{"a refusal stops every task", func(e *env, c contact.Change) {
			e.decide(c.ID, nwc, false)
		}, []wfCall{{Op: "stop", TaskToken: "task-" + adm, Reason: contact.Refused}, {Op: "stop", TaskToken: "task-" + nwc, Reason: contact.Refused}}, contact.Refused},
		{"a refusal after an acceptance stops every task", func(e *env, c contact.Change) {
			e.decide(c.ID, adm, true)
			e.decide(c.ID, nwc, false)
		}, []wfCall{
			{Op: "continue", TaskToken: "task-" + adm},
			{Op: "stop", TaskToken: "task-" + adm, Reason: contact.Refused}, {Op: "stop", TaskToken: "task-" + nwc, Reason: contact.Refused},
		}, contact.Refused},
		{"a cancellation stops every task", func(e *env, c contact.Change) {
			if _, err := e.m.Cancel(e.ctx, adm, c.ID); err != nil {
				e.t.Fatal(err)
			}
		}, []wfCall{{Op: "stop", TaskToken: "task-" + adm, Reason: contact.Cancelled}, {Op: "stop", TaskToken: "task-" + nwc, Reason: contact.Cancelled}}, contact.Cancelled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			onBackends(t, func(t *testing.T, e *env) {
				c := e.newTech()
				for _, p := range []string{adm, nwc} {
					if err := e.m.RegisterTask(e.ctx, c.ID, p, "task-"+p); err != nil {
						t.Fatal(err)
					}
				}
				if got := e.wf.Answers(); len(got) != 0 {
					t.Fatalf("tasks answered %+v before any decision", got)
				}
				tt.decide(e, c)
				if diff := cmp.Diff(tt.want, e.wf.Answers()); diff != "" {
					t.Errorf("workflow answers (-want +got):\n%s", diff)
				}
				e.wantState(c.ID, tt.state)
			})
		})
	}
}

func TestCancel(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		caller  string
		prepare func(e *env, c contact.Change)
		kind    error  // nil: the cancellation succeeds
		code    string // of the error
	}{
		{name: "requester cancels"},
		{name: "requester cancels after accepting", caller: adm, prepare: func(e *env, c contact.Change) { e.decide(c.ID, adm, true) }},
		{name: "requester cancels after the other party accepted", caller: adm, prepare: func(e *env, c contact.Change) { e.decide(c.ID, nwc, true) }},
		{name: "a party who did not ask", caller: nwc, kind: contact.ErrForbidden, code: "not_requester"},
		{name: "the previous holder", caller: tec, kind: contact.ErrForbidden, code: "not_requester"},
		{name: "a stranger", caller: stranger, kind: contact.ErrNotFound, code: "request_not_found"},
		{name: "applying", caller: adm, prepare: func(e *env, c contact.Change) { e.acceptAll(c) }, kind: contact.ErrConflict, code: "not_pending"},
		{name: "already refused", caller: adm, prepare: func(e *env, c contact.Change) { e.decide(c.ID, nwc, false) }, kind: contact.ErrConflict, code: "not_pending"},
		{name: "already cancelled", caller: adm, prepare: func(e *env, c contact.Change) {
			if _, err := e.m.Cancel(e.ctx, adm, c.ID); err != nil {
				e.t.Fatal(err)
			}
		}, kind: contact.ErrConflict, code: "not_pending"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			onBackends(t, func(t *testing.T, e *env) {
				c := e.newTech()
				if err := e.m.RegisterTask(e.ctx, c.ID, nwc, "task-nwc"); err != nil {
					t.Fatal(err)
				}
				if tt.prepare != nil {
					tt.prepare(e, c)
				}
				caller := tt.caller
				if caller == "" {
					caller = adm
				}
				before := e.change(c.ID)
				cancelled := len(e.mail.Of(c.ID, contact.NoticeCancelled))
				got, err := e.m.Cancel(e.ctx, caller, c.ID)
				if tt.kind != nil {
					wantError(t, err, tt.kind, tt.code)
					if diff := cmp.Diff(before, e.change(c.ID)); diff != "" {
						t.Errorf("a refused cancellation changed the request (-before +after):\n%s", diff)
					}
					if n := len(e.mail.Of(c.ID, contact.NoticeCancelled)); n != cancelled {
						t.Errorf("%d cancelled notices sent by a refused cancellation", n-cancelled)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if got.State != contact.Cancelled {
					t.Errorf("Cancel returned %s, want cancelled", got.State)
				}
				stored := e.wantState(c.ID, contact.Cancelled)
				if ev := lastEvent(t, stored); ev.Event != string(contact.StepCancelled) || ev.By != adm {
					t.Errorf("last event %+v, want cancelled by %s", ev, adm)
				}
				e.wantReleased(stored)
				e.wantContacts(svcID, exampleContacts())
				e.wantTold(c.ID, contact.NoticeCancelled, adm, nwc, tec)
				want := []wfCall{{Op: "stop", TaskToken: "task-nwc", Reason: contact.Cancelled}}
				if tt.name == "requester cancels after the other party accepted" {
					want = append([]wfCall{{Op: "continue", TaskToken: "task-nwc"}}, want...)
				}
				if diff := cmp.Diff(want, e.wf.Answers()); diff != "" {
					t.Errorf("workflow answers (-want +got):\n%s", diff)
				}
			})
		})
	}
}

func TestLookup(t *testing.T) {
	t.Parallel()
	onBackends(t, func(t *testing.T, e *env) {
		c := e.newTech()
		token := e.mail.Token(c.ID, nwc)
		before := e.change(c.ID)
		for range 2 { // a mail scanner opening the link twice changes nothing
			got, acct, err := e.m.Lookup(e.ctx, c.ID, token, "")
			if err != nil {
				t.Fatal(err)
			}
			if got.ID != c.ID || acct.NIC != nwc || acct.Email != "nwc@example.com" {
				t.Errorf("Lookup = %s, %+v; want %s and the account of %s", got.ID, acct, c.ID, nwc)
			}
		}
		if diff := cmp.Diff(before, e.change(c.ID)); diff != "" {
			t.Errorf("Lookup changed the request (-before +after):\n%s", diff)
		}
		_, _, err := e.m.Lookup(e.ctx, c.ID, "", "")
		wantError(t, err, contact.ErrInvalid, "missing_token")
		_, _, err = e.m.Lookup(e.ctx, c.ID, "guess", "")
		wantError(t, err, contact.ErrForbidden, "invalid_token")
		if _, _, err := e.m.Lookup(e.ctx, "no-such-request", token, ""); !errors.Is(err, contact.ErrNotFound) {
			t.Errorf("Lookup of an unknown request: %v, want not found", err)
		}
		e.decide(c.ID, nwc, true)
		_, _, err = e.m.Lookup(e.ctx, c.ID, token, "")
		wantError(t, err, contact.ErrGone, "token_used")
		// A party whose account is gone still sees the page, under its handle.
		e.deleteAccount(adm)
		got, acct, err := e.m.Lookup(e.ctx, c.ID, e.mail.Token(c.ID, adm), "")
		if err != nil || got.ID != c.ID || acct.NIC != adm || acct.Email != "" {
			t.Errorf("Lookup for a party without account = %s, %+v, %v", got.ID, acct, err)
		}
	})
}
