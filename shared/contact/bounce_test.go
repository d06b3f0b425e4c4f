package contact_test

import (
	"testing"
	"time"

	"github.com/servicecontacts/servicecontacts/shared/contact"
)

// A bounced token email is seen in the request waiting for it; after support fixes the
// address, a resend reaches the party.
func TestBounceIsRecordedThenFixed(t *testing.T) {
	t.Parallel()
	onBackends(t, func(t *testing.T, e *env) {
		c := e.newTech()
		e.decide(c.ID, adm, true) // adm answered: only nwc waits
		other := e.request1(adm, serverID, contact.Tech, nwc)
		bouncedAt := e.clock.Advance(time.Minute)

		if err := e.m.RecordBounce(e.ctx, nwc, "nwc@example.com", bouncedAt); err != nil {
			t.Fatal(err)
		}
		for _, id := range []string{c.ID, other.ID} {
			got := e.change(id)
			if !party(got, nwc).Bounced {
				t.Errorf("request %s: party %s not marked bounced", id, nwc)
			}
			if last := lastEvent(t, got); last.Event != "email_bounced" || last.Detail != "the email to "+nwc+" bounced" {
				t.Errorf("request %s: last history entry %+v", id, last)
			}
		}
		if stored := e.change(c.ID); party(stored, adm).Bounced {
			t.Errorf("party %s, who answered, marked bounced", adm)
		}
		acct, err := e.st.Account(e.ctx, nwc)
		if err != nil || !acct.BouncedAt.Equal(bouncedAt) {
			t.Fatalf("account bounced at %v (%v), want %v", acct.BouncedAt, err, bouncedAt)
		}

		// EventBridge delivers at least once: the same bounce again adds nothing.
		before := len(e.change(c.ID).History)
		if err := e.m.RecordBounce(e.ctx, nwc, "nwc@example.com", bouncedAt); err != nil {
			t.Fatal(err)
		}
		if after := len(e.change(c.ID).History); after != before {
			t.Errorf("a repeated bounce added %d history entries", after-before)
		}
		// A bounce of an address the account no longer has changes nothing.
		if err := e.m.RecordBounce(e.ctx, tec, "old-tec@example.com", bouncedAt); err != nil {
			t.Fatal(err)
		}
		if acct, _ := e.st.Account(e.ctx, tec); !acct.BouncedAt.IsZero() {
			t.Error("a bounce of another address marked the account")
		}

		fixed, _, err := e.m.PatchAccount(e.ctx, operator, nwc, contact.AccountPatch{Email: ptr("nwc@fixed.example")})
		if err != nil || !fixed.BouncedAt.IsZero() {
			t.Fatalf("PatchAccount = %+v, %v; want the bounce cleared", fixed, err)
		}
		e.clock.Advance(contact.DefaultResendInterval)
		got, err := e.m.Resend(e.ctx, adm, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if party(got, nwc).Bounced {
			t.Error("the resend left the party marked bounced")
		}
		tokens := e.mail.Of(c.ID, contact.NoticeToken)
		if last := tokens[len(tokens)-1]; last.To != nwc || last.Email != "nwc@fixed.example" {
			t.Errorf("last token email went to %s at %s, want %s at the fixed address", last.To, last.Email, nwc)
		}
		// A late bounce of the email sent before the resend does not mark the party again.
		if err := e.m.RecordBounce(e.ctx, nwc, "nwc@fixed.example", bouncedAt); err != nil {
			t.Fatal(err)
		}
		if stored := e.change(c.ID); party(stored, nwc).Bounced {
			t.Error("a bounce older than the resend marked the party")
		}
	})
}

// party returns c's party nic; a zero Party if there is none.
func party(c contact.Change, nic string) contact.Party {
	p, _ := c.Party(nic)
	if p == nil {
		return contact.Party{}
	}
	return *p
}
