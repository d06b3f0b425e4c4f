package contact_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/servicecontacts/servicecontacts/shared/contact"
)

const operator = "arn:aws:iam::111122223333:user/support-alice"

// Each flow of a request publishes exactly its sequence of events, once each.
func TestEventsOfEachFlow(t *testing.T) {
	t.Parallel()
	type E = contact.AnnouncementType
	const (
		requested = contact.ContactChangeRequested
		confirmed = contact.ContactChangeConfirmed
		applied   = contact.ContactChangeApplied
		changed   = contact.ServiceContactsChanged
	)
	tests := []struct {
		name string
		flow func(t *testing.T, e *env, c contact.Change)
		want []E
	}{
		{"applied", func(t *testing.T, e *env, c contact.Change) {
			e.acceptAll(c)
			if _, err := e.m.Apply(e.ctx, c.ID); err != nil {
				t.Fatal(err)
			}
		}, []E{requested, confirmed, confirmed, applied, changed}},
		{"refused", func(t *testing.T, e *env, c contact.Change) {
			e.decide(c.ID, adm, true)
			e.decide(c.ID, nwc, false)
		}, []E{requested, confirmed, contact.ContactChangeRefused}},
		{"cancelled", func(t *testing.T, e *env, c contact.Change) {
			if _, err := e.m.Cancel(e.ctx, adm, c.ID); err != nil {
				t.Fatal(err)
			}
		}, []E{requested, contact.ContactChangeCancelled}},
		{"expired", func(t *testing.T, e *env, c contact.Change) {
			e.clock.Advance(contact.DefaultExpiry + time.Minute)
			if _, err := e.m.Reconcile(e.ctx, c.ID); err != nil {
				t.Fatal(err)
			}
		}, []E{requested, contact.ContactChangeExpired}},
		{"failed when the service is deleted", func(t *testing.T, e *env, c contact.Change) {
			if _, err := e.m.DeleteService(e.ctx, operator, svcID); err != nil {
				t.Fatal(err)
			}
		}, []E{requested, contact.ContactChangeFailed}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			onBackends(t, func(t *testing.T, e *env) {
				c := e.newTech()
				tt.flow(t, e, c)
				if diff := cmp.Diff(tt.want, e.events.Types(c.ID)); diff != "" {
					t.Errorf("events of request %s (-want +got):\n%s", c.ID, diff)
				}
				if owed := e.change(c.ID).Events; len(owed) != 0 {
					t.Errorf("request %s still owes %d events after they were published", c.ID, len(owed))
				}
				for _, a := range e.events.Published() {
					b, err := json.Marshal(a)
					if err != nil {
						t.Fatal(err)
					}
					if strings.Contains(string(b), "@") {
						t.Errorf("event %s names an email address: %s", a.ID, b)
					}
					if a.ServiceID != svcID || a.At.IsZero() || a.ID == "" {
						t.Errorf("event %+v lacks its service, time or id", a)
					}
				}
			})
		})
	}
}

// The events of an applied change say who confirmed, and what the service's holders were
// before and after.
func TestEventDetails(t *testing.T) {
	t.Parallel()
	onBackends(t, func(t *testing.T, e *env) {
		c := e.newTech()
		e.acceptAll(c)
		if _, err := e.m.Apply(e.ctx, c.ID); err != nil {
			t.Fatal(err)
		}
		byType := map[contact.AnnouncementType][]contact.Announcement{}
		for _, a := range e.events.Published() {
			byType[a.Type] = append(byType[a.Type], a)
		}
		if got := byType[contact.ContactChangeRequested][0].Parties; !cmp.Equal(got, []string{adm, nwc}) {
			t.Errorf("requested event names parties %v, want [%s %s]", got, adm, nwc)
		}
		var who []string
		for _, a := range byType[contact.ContactChangeConfirmed] {
			who = append(who, a.Party)
		}
		if !cmp.Equal(who, []string{adm, nwc}) {
			t.Errorf("confirmed events name %v, want [%s %s]", who, adm, nwc)
		}
		holders := byType[contact.ServiceContactsChanged][0]
		wantBefore := map[contact.Role]string{contact.Admin: adm, contact.Tech: tec, contact.Billing: bil}
		wantAfter := map[contact.Role]string{contact.Admin: adm, contact.Tech: nwc, contact.Billing: bil}
		if diff := cmp.Diff(wantBefore, holders.Before); diff != "" {
			t.Errorf("holders before (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(wantAfter, holders.After); diff != "" {
			t.Errorf("holders after (-want +got):\n%s", diff)
		}
	})
}

// A function that dies right after a transition, before publishing, loses no event: they are
// stored with the transition, and the reconciler publishes them once the owner's window has
// passed, in order and once.
func TestEventsSurviveACrashAfterTheTransition(t *testing.T) {
	t.Parallel()
	onBackends(t, func(t *testing.T, e *env) {
		// The function that makes the request never gets to publish.
		e.events.PublishFunc = func([]contact.Announcement) ([]string, error) {
			return nil, errors.New("the function died")
		}
		c := e.newTech()
		e.decide(c.ID, adm, true)
		if got := e.events.Published(); len(got) != 0 {
			t.Fatalf("published %d events through a dead publisher", len(got))
		}
		if owed := e.change(c.ID).Events; len(owed) != 2 {
			t.Fatalf("request %s owes %d events, want 2", c.ID, len(owed))
		}

		e.events.PublishFunc = nil
		e.clock.Advance(contact.DefaultOwnerWindow) // retries come later than the window
		e.clock.Advance(time.Minute)
		if _, err := e.m.Sweep(e.ctx); err != nil {
			t.Fatal(err)
		}
		want := []contact.AnnouncementType{contact.ContactChangeRequested, contact.ContactChangeConfirmed}
		if diff := cmp.Diff(want, e.events.Types(c.ID)); diff != "" {
			t.Errorf("events after the sweep (-want +got):\n%s", diff)
		}
		if owed := e.change(c.ID).Events; len(owed) != 0 {
			t.Errorf("request %s still owes %d events", c.ID, len(owed))
		}
	})
}

// When EventBridge takes some events of a call and not others, the others stay owed and go
// later; none overtakes an earlier one of its request.
func TestEventsPartlyPublished(t *testing.T) {
	t.Parallel()
	onBackends(t, func(t *testing.T, e *env) {
		e.events.PublishFunc = func(events []contact.Announcement) ([]string, error) {
			return []string{events[0].ID}, errors.New("entry 2 failed: InternalFailure")
		}
		c := e.newTech()
		e.decide(c.ID, adm, true) // publishes Requested (again: taken) and Confirmed (refused)
		e.events.PublishFunc = nil
		e.clock.Advance(10 * time.Minute)
		if _, err := e.m.Sweep(e.ctx); err != nil {
			t.Fatal(err)
		}
		want := []contact.AnnouncementType{contact.ContactChangeRequested, contact.ContactChangeConfirmed}
		if diff := cmp.Diff(want, e.events.Types(c.ID)); diff != "" {
			t.Errorf("events (-want +got):\n%s", diff)
		}
	})
}

// Without a publisher (a function that does not publish), events wait for one that does.
func TestEventsWaitForAPublisher(t *testing.T) {
	t.Parallel()
	onBackends(t, func(t *testing.T, e *env) {
		silent := contact.New(contact.Config{Store: e.st, Workflow: e.wf, Notifier: e.mail, Now: e.clock.Now})
		c, err := silent.RequestChanges(e.ctx, adm, svcID, map[contact.Role]string{contact.Tech: nwc})
		if err != nil {
			t.Fatal(err)
		}
		stored := e.change(c[0].ID)
		if len(stored.Events) != 1 || stored.DueAt.After(e.clock.Now().Add(contact.DefaultOwnerWindow)) {
			t.Fatalf("request owes %d events, due %v; want 1, due within the owner's window", len(stored.Events), stored.DueAt)
		}
		e.clock.Advance(contact.DefaultOwnerWindow)
		if _, err := e.m.Sweep(e.ctx); err != nil {
			t.Fatal(err)
		}
		if got := e.events.Types(c[0].ID); len(got) != 1 {
			t.Errorf("events published by the reconciler: %v, want the request's one", got)
		}
	})
}
