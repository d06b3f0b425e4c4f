package storetest

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/servicecontacts/servicecontacts/shared/contact"
)

// setTaskToken: SetTaskToken stores the party's token in one write, with the version moved
// on and the request due at its expiry, only where the party is at the index given and the
// request is pending with nothing owed; anything else is a conflict that changes nothing.
func setTaskToken(t *testing.T, e *env) {
	tests := []struct {
		name  string
		party int
		nic   string
		// prepare changes the request after its creation; nil leaves it as created.
		prepare func(c *contact.Change)
		stored  bool
	}{
		{"the first party", 0, alice, nil, true},
		{"the second party", 1, dario, nil, true},
		{"the other party's index", 0, dario, nil, false},
		{"an email owed", 1, dario, func(c *contact.Change) {
			c.Outbox = []contact.Message{{ID: "2:waiting:" + alice, Kind: contact.NoticeWaiting, To: alice, Owed: 2, NextAt: base}}
		}, false},
		{"an event owed", 1, dario, func(c *contact.Change) {
			c.Events = []contact.Announcement{{ID: "e1", Type: contact.ContactChangeRequested, At: base, ServiceID: c.ServiceID, Owed: 1, NextAt: base}}
		}, false},
		{"an answer owed", 1, dario, func(c *contact.Change) { c.AnswerAgainAt = base.Add(time.Minute) }, false},
		{"applying", 1, dario, func(c *contact.Change) { c.State = contact.Applying }, false},
		{"ended", 1, dario, func(c *contact.Change) { c.State = contact.Cancelled }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := setup(t, e.api)
			c := newChange(t, "example.org", contact.Tech, alice, dario, alice, base)
			c.DueAt = base.Add(2 * time.Minute) // the workflow not seen yet
			mustCreate(t, e.store, c)
			c = mustChange(t, e.store, c.ID)
			if tt.prepare != nil {
				tt.prepare(&c)
				var err error
				if c, err = e.store.SaveBookkeeping(ctx, c); err != nil {
					t.Fatal(err)
				}
			}
			got, err := e.store.SetTaskToken(ctx, c.ID, tt.party, tt.nic, "task-1")
			after := mustChange(t, e.store, c.ID)
			if !tt.stored {
				checkKind(t, "SetTaskToken", err, contact.ErrConflict)
				if diff := cmp.Diff(c, after); diff != "" {
					t.Errorf("a refused SetTaskToken changed the request (-before +after):\n%s", diff)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := c
			want.Parties = append([]contact.Party(nil), c.Parties...)
			want.Parties[tt.party].TaskToken = "task-1"
			want.Version, want.DueAt = c.Version+1, c.ExpiresAt
			if diff := cmp.Diff(want, after); diff != "" {
				t.Errorf("stored request (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(after, got); diff != "" {
				t.Errorf("returned request (-stored +returned):\n%s", diff)
			}
		})
	}
}
