package storetest

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/servicecontacts/servicecontacts/shared/contact"
)

const principal = "arn:aws:iam::111122223333:user/support"

func newRecord(id string, subject contact.RecordSubject, key string) contact.Record {
	return contact.Record{
		ID: id, At: base, By: principal, Subject: subject, Key: key, Action: contact.ActionUpdated,
		Changes: []string{"tech: a → b"}, DueAt: base.Add(time.Minute),
	}
}

// accountEdits writes accounts with their records, and marks an address bouncing only while
// the account still has it.
func accountEdits(t *testing.T, e *env) {
	a := contact.Account{NIC: "ff66666-ovh", Email: "f@example.com", Language: contact.French, GoodStanding: true}
	if err := e.store.PutAccount(ctx, a, newRecord("rec-a1", contact.SubjectAccount, a.NIC)); err != nil {
		t.Fatal(err)
	}
	got, err := e.store.Account(ctx, a.NIC)
	if err != nil || !cmp.Equal(a, got) {
		t.Fatalf("account read back %+v, %v; want %+v", got, err, a)
	}
	at := base.Add(time.Hour)
	if err := e.store.MarkBounced(ctx, a.NIC, "f@example.com", at); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.store.Account(ctx, a.NIC); !got.BouncedAt.Equal(at) {
		t.Errorf("bounced at %v, want %v", got.BouncedAt, at)
	}
	wantKind(t, e.store.MarkBounced(ctx, a.NIC, "other@example.com", at), contact.ErrConflict)
	wantKind(t, e.store.MarkBounced(ctx, nobody, "x@example.com", at), contact.ErrConflict)
	// A record id is written once.
	wantKind(t, e.store.PutAccount(ctx, a, newRecord("rec-a1", contact.SubjectAccount, a.NIC)), contact.ErrConflict)
}

// serviceEdits writes and deletes services only while their roles are as the caller read
// them, keeping the locks of open requests.
func serviceEdits(t *testing.T, e *env) {
	prev := mustService(t, e.store, "example.com")
	c := newChange(t, "example.com", contact.Tech, bruno, carla, alice, base)
	mustCreate(t, e.store, c)

	next := contact.Service{ID: "example.com", Type: "domain", Contacts: map[contact.Role]string{contact.Admin: alice, contact.Tech: dario, contact.Billing: carla}}
	// prev was read before the request locked the tech role: stale.
	wantKind(t, e.store.PutService(ctx, next, prev, newRecord("rec-s1", contact.SubjectService, next.ID)), contact.ErrConflict)
	wantKind(t, e.store.DeleteService(ctx, prev, newRecord("rec-s2", contact.SubjectService, next.ID)), contact.ErrConflict)
	if _, err := e.store.Record(ctx, "rec-s1"); err == nil {
		t.Error("a failed edit left its record")
	}

	current := mustService(t, e.store, "example.com")
	if err := e.store.PutService(ctx, next, current, newRecord("rec-s3", contact.SubjectService, next.ID)); err != nil {
		t.Fatal(err)
	}
	got := mustService(t, e.store, "example.com")
	if diff := cmp.Diff(next.Contacts, got.Contacts); diff != "" {
		t.Errorf("holders (-want +got):\n%s", diff)
	}
	if got.Open[contact.Tech] != c.ID {
		t.Errorf("the tech lock is %q, want it kept for %s", got.Open[contact.Tech], c.ID)
	}
	page, err := e.store.ServicesOf(ctx, dario, contact.ServiceQuery{Role: contact.Tech})
	if err != nil || len(page.Services) != 1 || page.Services[0].ID != "example.com" {
		t.Errorf("dario's tech services %+v, %v", page.Services, err)
	}

	fresh := contact.Service{ID: "new.example", Type: "hosting", Contacts: next.Contacts}
	if err := e.store.PutService(ctx, fresh, contact.Service{}, newRecord("rec-s4", contact.SubjectService, fresh.ID)); err != nil {
		t.Fatal(err)
	}
	// "New" again, while it exists: the caller's read is stale.
	wantKind(t, e.store.PutService(ctx, fresh, contact.Service{}, newRecord("rec-s5", contact.SubjectService, fresh.ID)), contact.ErrConflict)

	if err := e.store.DeleteService(ctx, got, newRecord("rec-s6", contact.SubjectService, got.ID)); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.Service(ctx, "example.com"); err == nil {
		t.Error("the service is still there")
	}
	if page, _ := e.store.ServicesOf(ctx, dario, contact.ServiceQuery{Role: contact.Tech}); len(page.Services) != 1 || page.Services[0].ID != fresh.ID {
		t.Errorf("dario's tech services after the deletion %+v, want only %s", page.Services, fresh.ID)
	}
}

// recordsRoundTrip writes a record with every field set, saves it over its version, and finds
// it through the due index while it owes something.
func recordsRoundTrip(t *testing.T, e *env) {
	rec := newRecord("rec-r1", contact.SubjectService, "example.com")
	rec.Ends, rec.Reason = []string{"req-1", "req-2"}, contact.Failure{Code: contact.FailureServiceGone, Role: contact.Tech, Account: alice}
	rec.Events = []contact.Announcement{{
		ID: "rec-r1:ServiceContactsChanged", Type: contact.ServiceContactsChanged, At: base, By: principal,
		ServiceID: "example.com", ServiceType: "domain", Before: map[contact.Role]string{contact.Tech: bruno},
		Owed: 1, Attempts: 2, NextAt: base.Add(time.Minute),
	}}
	svc := mustService(t, e.store, "example.org")
	if err := e.store.DeleteService(ctx, svc, rec); err != nil {
		t.Fatal(err)
	}
	got, err := e.store.Record(ctx, rec.ID)
	rec.Version = 1
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(rec, got); diff != "" {
		t.Errorf("record (-want +got):\n%s", diff)
	}
	due, err := e.store.DueRecords(ctx, base.Add(time.Minute), 10)
	if err != nil || !cmp.Equal(due, []string{rec.ID}) {
		t.Errorf("due records %v, %v", due, err)
	}
	if due, _ := e.store.DueRecords(ctx, base, 10); len(due) != 0 {
		t.Errorf("records due before their time: %v", due)
	}
	settled := got
	settled.Ends, settled.Events, settled.DueAt = nil, nil, time.Time{}
	saved, err := e.store.SaveRecord(ctx, settled)
	if err != nil || saved.Version != 2 {
		t.Fatalf("SaveRecord = %+v, %v", saved, err)
	}
	_, err = e.store.SaveRecord(ctx, settled) // at version 1 again: stale
	wantKind(t, err, contact.ErrVersionConflict)
	if due, _ := e.store.DueRecords(ctx, base.Add(time.Hour), 10); len(due) != 0 {
		t.Errorf("a settled record is still due: %v", due)
	}
}

// eventsAndBouncesRoundTrip stores a request's owed events and a bounced party.
func eventsAndBouncesRoundTrip(t *testing.T, e *env) {
	c := newChange(t, "example.com", contact.Tech, bruno, carla, alice, base)
	c.Parties[1].Bounced = true
	c.Events = []contact.Announcement{
		{ID: c.ID + ":1:ContactChangeRequested", Type: contact.ContactChangeRequested, At: base, By: alice, RequestID: c.ID,
			ServiceID: c.ServiceID, ServiceType: "domain", Role: contact.Tech, From: bruno, To: carla, RequestedBy: alice,
			State: contact.Pending, Parties: []string{alice, carla}, Owed: 1, NextAt: base.Add(time.Minute)},
		{ID: c.ID + ":2:ContactChangeFailed", Type: contact.ContactChangeFailed, At: base, By: principal, RequestID: c.ID,
			ServiceID: c.ServiceID, Role: contact.Tech, State: contact.Failed, Reason: contact.FailureContactChanged,
			Party: carla, Before: map[contact.Role]string{contact.Tech: bruno}, After: map[contact.Role]string{contact.Tech: carla},
			Owed: 2, Attempts: 3, NextAt: base.Add(time.Hour)},
	}
	mustCreate(t, e.store, c)
	c.Version = 1
	if diff := cmp.Diff(c, mustChange(t, e.store, c.ID)); diff != "" {
		t.Errorf("request (-want +got):\n%s", diff)
	}
}

// changesOfService lists a service's requests, newest first, and filters by account.
func changesOfService(t *testing.T, e *env) {
	older := newChange(t, "example.com", contact.Tech, bruno, carla, alice, base)
	newer := newChange(t, "example.com", contact.Billing, carla, alice, alice, base.Add(time.Minute))
	elsewhere := newChange(t, "example.org", contact.Tech, alice, carla, alice, base)
	mustCreate(t, e.store, older, newer, elsewhere)
	ids := func(q contact.ChangeQuery) []string {
		t.Helper()
		var out []string
		for {
			page, err := e.store.ChangesOfService(ctx, "example.com", q)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range page.Changes {
				out = append(out, c.ID)
			}
			if page.NextCursor == "" {
				return out
			}
			q.Cursor = page.NextCursor
		}
	}
	if diff := cmp.Diff([]string{newer.ID, older.ID}, ids(contact.ChangeQuery{Limit: 1})); diff != "" {
		t.Errorf("requests on example.com (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{older.ID}, ids(contact.ChangeQuery{Involves: bruno})); diff != "" {
		t.Errorf("requests on example.com involving bruno (-want +got):\n%s", diff)
	}
}
