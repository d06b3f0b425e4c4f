package contact_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/servicecontacts/servicecontacts/shared/contact"
)

// permissionRows are the rows of the rules table ("who may request what") on example.com.
var permissionRows = []struct {
	name      string
	caller    string
	role      contact.Role
	to        string
	authority contact.Role
}{
	{"admin sets new tech", adm, contact.Tech, nwc, contact.Admin},
	{"admin sets new billing", adm, contact.Billing, nwc, contact.Admin},
	{"admin takes tech himself", adm, contact.Tech, adm, contact.Admin},
	{"admin takes billing himself", adm, contact.Billing, adm, contact.Admin},
	{"admin hands admin over", adm, contact.Admin, nwc, contact.Admin},
	{"tech hands tech over", tec, contact.Tech, nwc, contact.Tech},
	{"billing hands billing over", bil, contact.Billing, nwc, contact.Billing},
}

// TestAuthorityIsCheckedWhenApplied: for every row of the rules table and every role change
// that can land between a request and its apply, the request is done only when the table
// still allows it on the service as it is then; otherwise it fails with the reason, the role
// is released, and the contacts are left as they were.
func TestAuthorityIsCheckedWhenApplied(t *testing.T) {
	t.Parallel()
	meanwhile := []struct {
		name string
		role contact.Role // "" for nothing
	}{
		{"admin changes", contact.Admin},
		{"tech changes", contact.Tech},
		{"billing changes", contact.Billing},
		{"nothing changes", ""},
	}
	for _, row := range permissionRows {
		for _, mw := range meanwhile {
			// What the spec says: a change of the request's own role is a changed contact;
			// a change of the admin, whose authority allowed the request, is a changed
			// admin; anything else leaves the request standing.
			var want contact.FailureCode
			switch {
			case mw.role == row.role:
				want = contact.FailureContactChanged
			case mw.role == contact.Admin && row.authority == contact.Admin:
				want = contact.FailureAdminChanged
			}
			t.Run(row.name+"/"+mw.name, func(t *testing.T) {
				t.Parallel()
				onBackends(t, func(t *testing.T, e *env) {
					c := e.request1(row.caller, svcID, row.role, row.to)
					if c.Authority != row.authority {
						t.Fatalf("authority %s recorded, want %s", c.Authority, row.authority)
					}
					for _, p := range c.Parties {
						e.decide(c.ID, p.NIC, true)
					}
					e.wantState(c.ID, contact.Applying)
					if mw.role != "" {
						e.setHolder(svcID, mw.role, zed)
					}
					svc := e.service(svcID)
					before := svc.Contacts

					// The rules table, evaluated again on the service as it is now, agrees.
					perm, err := contact.Permit(svc, row.caller, row.role, row.to)
					stillAllowed := err == nil && perm.Authority == row.authority && svc.Contacts[row.role] == c.From
					if stillAllowed != (want == "") {
						t.Fatalf("the rules table on %v allows the request: %v (%+v, %v); the expectation says %v",
							svc.Contacts, stillAllowed, perm, err, want == "")
					}

					got, err := e.m.Apply(e.ctx, c.ID)
					if err != nil {
						t.Fatal(err)
					}
					stored := e.change(c.ID)
					e.wantReleased(stored)
					if want == "" {
						if got.State != contact.Done || stored.State != contact.Done {
							t.Fatalf("request %s / stored %s, want done; history %+v", got.State, stored.State, stored.History)
						}
						after := map[contact.Role]string{}
						for r, nic := range before {
							after[r] = nic
						}
						after[row.role] = row.to
						e.wantContacts(svcID, after)
						return
					}
					if got.State != contact.Failed || stored.State != contact.Failed {
						t.Fatalf("request %s / stored %s, want failed (%s); history %+v", got.State, stored.State, want, stored.History)
					}
					wantFailure := contact.Failure{Code: want, Role: row.role}
					if ev := lastEvent(t, stored); ev.Event != string(contact.StepFailed) || ev.Detail != wantFailure.String() {
						t.Errorf("last event %+v, want failed: %s", ev, wantFailure)
					}
					failed := e.mail.Of(c.ID, contact.NoticeFailed)
					if len(failed) == 0 {
						t.Error("nobody was told the request failed")
					}
					for _, n := range failed {
						if n.Failure != wantFailure {
							t.Errorf("told %s: %+v, want %+v", n.To, n.Failure, wantFailure)
						}
					}
					e.wantContacts(svcID, before)
				})
			})
		}
	}
}

// TestAdminHandOverEndsThePreviousAdminsRequests is the case users found: the admin asks
// at once for a role and for a new admin; the admin hand-over applies first. The previous
// admin's other request must end there and then (admin_changed), its role untouched and
// released; requests that did not rest on his authority go on.
func TestAdminHandOverEndsThePreviousAdminsRequests(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		role     contact.Role
		to       string
		accepted bool     // whether the other request's parties all accepted (it is applying)
		told     []string // who learns that it failed
	}{
		{"tech for himself, pending", contact.Tech, adm, false, []string{adm, tec}},
		{"tech for himself, accepted", contact.Tech, adm, true, []string{adm, tec}},
		{"tech to a third party, pending", contact.Tech, nwc, false, []string{adm, nwc, tec}},
		{"tech to a third party, accepted", contact.Tech, nwc, true, []string{adm, nwc, tec}},
		{"billing for himself, pending", contact.Billing, adm, false, []string{adm, bil}},
		{"billing to a third party, accepted", contact.Billing, nwc, true, []string{adm, nwc, bil}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			onBackends(t, func(t *testing.T, e *env) {
				changes := e.request(adm, svcID, map[contact.Role]string{tt.role: tt.to, contact.Admin: zed})
				handOver, other := changes[0], changes[1] // in the order of contact.Roles
				if handOver.Role != contact.Admin || other.Role != tt.role {
					t.Fatalf("requests for %s and %s, want admin and %s", handOver.Role, other.Role, tt.role)
				}
				// A request of the tech's own, which the admin's authority did not allow.
				var own contact.Change
				if tt.role != contact.Tech {
					own = e.request1(tec, svcID, contact.Tech, nwc)
				}
				if tt.accepted {
					e.acceptAll(other)
				}
				e.acceptAll(handOver)
				done, err := e.m.Apply(e.ctx, handOver.ID)
				if err != nil {
					t.Fatal(err)
				}
				if done.State != contact.Done {
					t.Fatalf("the admin hand-over is %s, want done", done.State)
				}
				want := exampleContacts()
				want[contact.Admin] = zed
				e.wantContacts(svcID, want)

				// Ended right when the hand-over applied, not only at its own apply.
				stored := e.wantState(other.ID, contact.Failed)
				wantFailure := contact.Failure{Code: contact.FailureAdminChanged, Role: tt.role}
				if ev := lastEvent(t, stored); ev.Detail != wantFailure.String() {
					t.Errorf("last event %+v, want failed: %s", ev, wantFailure)
				}
				e.wantReleased(stored)
				e.wantTold(other.ID, contact.NoticeFailed, tt.told...)
				for _, n := range e.mail.Of(other.ID, contact.NoticeFailed) {
					if n.Failure != wantFailure {
						t.Errorf("told %s: %+v, want %+v", n.To, n.Failure, wantFailure)
					}
				}
				if own.ID != "" {
					e.wantState(own.ID, contact.Pending)
				}

				// Its own apply, when the workflow gets there, changes and sends nothing.
				notices := len(e.mail.Attempts())
				if got, err := e.m.Apply(e.ctx, other.ID); err != nil || got.State != contact.Failed {
					t.Errorf("Apply of the ended request = %s, %v; want failed", got.State, err)
				}
				e.wantContacts(svcID, want)
				if n := len(e.mail.Attempts()); n != notices {
					t.Errorf("%d more notices", n-notices)
				}
				// The new admin may ask for the role at once.
				e.request1(zed, svcID, tt.role, zed)
			})
		})
	}
}

// TestAdminHandOverLeavesOthersRequests: the requests of the tech and of the billing
// contact rest on their own roles; a new admin does not end them.
func TestAdminHandOverLeavesOthersRequests(t *testing.T) {
	t.Parallel()
	onBackends(t, func(t *testing.T, e *env) {
		handOver := e.request1(adm, svcID, contact.Admin, zed)
		techOwn := e.request1(tec, svcID, contact.Tech, nwc)
		billingOwn := e.request1(bil, svcID, contact.Billing, nwc)
		e.acceptAll(billingOwn)
		e.acceptAll(handOver)
		if got, err := e.m.Apply(e.ctx, handOver.ID); err != nil || got.State != contact.Done {
			t.Fatalf("Apply = %s, %v", got.State, err)
		}
		e.wantState(techOwn.ID, contact.Pending)
		e.wantState(billingOwn.ID, contact.Applying)
		e.acceptAll(techOwn)
		for _, id := range []string{techOwn.ID, billingOwn.ID} {
			if got, err := e.m.Apply(e.ctx, id); err != nil || got.State != contact.Done {
				t.Errorf("Apply(%s) = %s, %v; want done", id, got.State, err)
			}
		}
		if diff := cmp.Diff(map[contact.Role]string{contact.Admin: zed, contact.Tech: nwc, contact.Billing: nwc}, e.service(svcID).Contacts); diff != "" {
			t.Errorf("contacts (-want +got):\n%s", diff)
		}
	})
}
