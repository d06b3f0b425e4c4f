package contact_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/servicecontacts/servicecontacts/shared/contact"
)

func ptr[T any](v T) *T { return &v }

func TestPutAccount(t *testing.T) {
	t.Parallel()
	onBackends(t, func(t *testing.T, e *env) {
		const nic = "ne20001-ovh"
		a := contact.Account{NIC: "NE20001-ovh", Email: "new@example.net", Language: contact.French, GoodStanding: true}
		got, changed, err := e.m.PutAccount(e.ctx, operator, a)
		if err != nil || !changed || got.NIC != nic {
			t.Fatalf("PutAccount = %+v, %v, %v; want the new account, changed", got, changed, err)
		}
		stored, err := e.st.Account(e.ctx, nic)
		if err != nil || stored.Email != a.Email || stored.Language != contact.French || !stored.GoodStanding {
			t.Fatalf("stored account %+v, %v", stored, err)
		}
		if _, changed, err := e.m.PutAccount(e.ctx, operator, a); err != nil || changed {
			t.Errorf("repeated PutAccount: changed=%v, err=%v; want unchanged", changed, err)
		}

		for _, tt := range []struct {
			name string
			a    contact.Account
			code string
		}{
			{"bad nic", contact.Account{NIC: "nobody", Email: "x@example.com", Language: "en"}, "invalid_nic"},
			{"no email", contact.Account{NIC: nic, Email: "", Language: "en"}, "invalid_email"},
			{"two @", contact.Account{NIC: nic, Email: "a@b@example.com", Language: "en"}, "invalid_email"},
			{"space", contact.Account{NIC: nic, Email: "a b@example.com", Language: "en"}, "invalid_email"},
			{"too long", contact.Account{NIC: nic, Email: strings.Repeat("a", 250) + "@x.io", Language: "en"}, "invalid_email"},
			{"language", contact.Account{NIC: nic, Email: "x@example.com", Language: "de"}, "invalid_language"},
		} {
			_, _, err := e.m.PutAccount(e.ctx, operator, tt.a)
			if !errors.Is(err, contact.ErrInvalid) || !strings.HasPrefix(err.Error(), tt.code) {
				t.Errorf("%s: err = %v, want %s", tt.name, err, tt.code)
			}
		}
	})
}

func TestPatchAccount(t *testing.T) {
	t.Parallel()
	onBackends(t, func(t *testing.T, e *env) {
		got, changed, err := e.m.PatchAccount(e.ctx, operator, late, contact.AccountPatch{GoodStanding: ptr(true)})
		if err != nil || !changed || !got.GoodStanding || got.Email != "late@example.com" {
			t.Fatalf("PatchAccount = %+v, %v, %v", got, changed, err)
		}
		if _, changed, _ := e.m.PatchAccount(e.ctx, operator, late, contact.AccountPatch{GoodStanding: ptr(true)}); changed {
			t.Error("a repeated patch changed the account")
		}
		_, _, err = e.m.PatchAccount(e.ctx, operator, ghost, contact.AccountPatch{GoodStanding: ptr(true)})
		wantError(t, err, contact.ErrNotFound, "account_not_found")
		_, _, err = e.m.PatchAccount(e.ctx, operator, late, contact.AccountPatch{})
		wantError(t, err, contact.ErrInvalid, "empty_patch")
		_, _, err = e.m.PatchAccount(e.ctx, operator, late, contact.AccountPatch{Language: ptr(contact.Language("xx"))})
		wantError(t, err, contact.ErrInvalid, "invalid_language")
	})
}

func TestPutServiceCreates(t *testing.T) {
	t.Parallel()
	onBackends(t, func(t *testing.T, e *env) {
		holders := map[contact.Role]string{contact.Admin: nwc, contact.Tech: "ZZ10005-ovh", contact.Billing: nwc}
		svc, changed, err := e.m.PutService(e.ctx, operator, contact.Service{ID: "new.example", Type: "domain", Contacts: holders})
		if err != nil || !changed {
			t.Fatalf("PutService = %v, %v", changed, err)
		}
		want := map[contact.Role]string{contact.Admin: nwc, contact.Tech: zed, contact.Billing: nwc}
		if diff := cmp.Diff(want, svc.Contacts); diff != "" {
			t.Errorf("holders (-want +got):\n%s", diff)
		}
		e.wantContacts("new.example", want)
		// The new holder sees it among their services, through the index.
		page, err := e.m.ListServices(e.ctx, zed, contact.ServiceQuery{})
		if err != nil || len(page.Services) != 1 || page.Services[0].ID != "new.example" {
			t.Errorf("services of %s: %+v, %v", zed, page.Services, err)
		}
		events := e.events.Published()
		if len(events) != 1 || events[0].Type != contact.ServiceContactsChanged || events[0].Before != nil || events[0].By != operator {
			t.Fatalf("events %+v, want one ServiceContactsChanged by the operator with no holders before", events)
		}
		if _, changed, err := e.m.PutService(e.ctx, operator, contact.Service{ID: "new.example", Type: "domain", Contacts: holders}); err != nil || changed {
			t.Errorf("repeated PutService: changed=%v, err=%v", changed, err)
		}
		if got := len(e.events.Published()); got != 1 {
			t.Errorf("a repeated PutService published: %d events in all, want 1", got)
		}

		for _, tt := range []struct {
			name     string
			svc      contact.Service
			kind     error
			code     string
			contacts map[contact.Role]string
		}{
			{"unknown account", contact.Service{ID: "x.example", Type: "domain"}, contact.ErrRule, "contact_not_found", map[contact.Role]string{contact.Admin: ghost, contact.Tech: nwc, contact.Billing: nwc}},
			{"missing role", contact.Service{ID: "x.example", Type: "domain"}, contact.ErrInvalid, "invalid_nic", map[contact.Role]string{contact.Admin: nwc, contact.Tech: nwc}},
			{"bad type", contact.Service{ID: "x.example", Type: "Domain Name"}, contact.ErrInvalid, "invalid_type", holders},
			{"bad id", contact.Service{ID: "x/../y", Type: "domain"}, contact.ErrInvalid, "invalid_service_id", holders},
		} {
			tt.svc.Contacts = tt.contacts
			_, _, err := e.m.PutService(e.ctx, operator, tt.svc)
			wantError(t, err, tt.kind, tt.code)
		}
	})
}

// Correcting a holder ends the request open on that role, failed, on the operator's
// authority, and tells its parties; requests on other roles go on.
func TestPutServiceCorrectsAHolder(t *testing.T) {
	t.Parallel()
	onBackends(t, func(t *testing.T, e *env) {
		tech := e.newTech()
		billing := e.request1(bil, svcID, contact.Billing, nwc)
		holders := map[contact.Role]string{contact.Admin: adm, contact.Tech: zed, contact.Billing: bil}
		if _, changed, err := e.m.PutService(e.ctx, operator, contact.Service{ID: svcID, Type: "domain", Contacts: holders}); err != nil || !changed {
			t.Fatalf("PutService = %v, %v", changed, err)
		}
		e.wantContacts(svcID, holders)
		ended := e.wantState(tech.ID, contact.Failed)
		if last := lastEvent(t, ended); last.By != operator || last.Detail != "the tech contact changed meanwhile" {
			t.Errorf("last history entry %+v, want the failure by %s", last, operator)
		}
		e.wantTold(tech.ID, contact.NoticeFailed, adm, nwc, tec)
		e.wantReleased(ended)
		e.wantState(billing.ID, contact.Pending)
		failed := e.events.Published()
		var reason contact.FailureCode
		for _, a := range failed {
			if a.Type == contact.ContactChangeFailed {
				reason = a.Reason
			}
		}
		if reason != contact.FailureContactChanged {
			t.Errorf("failed event gives reason %q, want %q", reason, contact.FailureContactChanged)
		}
		// The role is free for a new request, by its new holder.
		e.request1(adm, svcID, contact.Tech, nwc)
	})
}

// Correcting the admin also ends the requests the previous admin's authority allowed on the
// other roles, as an admin hand-over does; a request another holder made goes on.
func TestPutServiceCorrectsTheAdmin(t *testing.T) {
	t.Parallel()
	onBackends(t, func(t *testing.T, e *env) {
		byAdmin := e.newTech()                                    // adm's authority
		byBilling := e.request1(bil, svcID, contact.Billing, nwc) // bil's own role
		holders := map[contact.Role]string{contact.Admin: zed, contact.Tech: tec, contact.Billing: bil}
		if _, _, err := e.m.PutService(e.ctx, operator, contact.Service{ID: svcID, Type: "domain", Contacts: holders}); err != nil {
			t.Fatal(err)
		}
		ended := e.wantState(byAdmin.ID, contact.Failed)
		if last := lastEvent(t, ended); last.By != operator || last.Detail != "the admin changed meanwhile" {
			t.Errorf("last history entry %+v", last)
		}
		e.wantState(byBilling.ID, contact.Pending)
	})
}

func TestDeleteService(t *testing.T) {
	t.Parallel()
	onBackends(t, func(t *testing.T, e *env) {
		tech := e.newTech()
		if err := e.m.RegisterTask(e.ctx, tech.ID, nwc, "task-nwc"); err != nil {
			t.Fatal(err)
		}
		deleted, err := e.m.DeleteService(e.ctx, operator, svcID)
		if err != nil || !deleted {
			t.Fatalf("DeleteService = %v, %v", deleted, err)
		}
		if _, err := e.st.Service(e.ctx, svcID); !errors.Is(err, contact.ErrNotFound) {
			t.Errorf("service still there: %v", err)
		}
		ended := e.wantState(tech.ID, contact.Failed)
		if last := lastEvent(t, ended); last.By != operator || last.Detail != "the service no longer exists" {
			t.Errorf("last history entry %+v", last)
		}
		e.wantTold(tech.ID, contact.NoticeFailed, adm, nwc, tec)
		if got := e.wf.Answers(); len(got) != 1 || got[0].TaskToken != "task-nwc" {
			t.Errorf("workflow answers %+v, want the wait of %s stopped", got, nwc)
		}
		if deleted, err := e.m.DeleteService(e.ctx, operator, svcID); err != nil || deleted {
			t.Errorf("deleting again = %v, %v; want nothing changed", deleted, err)
		}
		var holders []contact.Announcement
		for _, a := range e.events.Published() {
			if a.Type == contact.ServiceContactsChanged {
				holders = append(holders, a)
			}
		}
		if len(holders) != 1 || holders[0].After != nil || holders[0].Before[contact.Tech] != tec {
			t.Errorf("ServiceContactsChanged events %+v, want one with the holders before and none after", holders)
		}
	})
}

// An edit whose author dies before ending the requests it affects is settled by the
// reconciler: the requests end, the events go out, the record owes nothing more.
func TestEditSettledByTheReconciler(t *testing.T) {
	t.Parallel()
	onBackends(t, func(t *testing.T, e *env) {
		tech := e.newTech()
		dead := true
		e.hooks.set(func(h *hookStore) {
			h.change = func(id string) (contact.Change, error, bool) {
				if dead && id == tech.ID {
					return contact.Change{}, errors.New("the function died"), true
				}
				return contact.Change{}, nil, false
			}
		})
		e.events.PublishFunc = func([]contact.Announcement) ([]string, error) { return nil, errors.New("the function died") }
		if _, err := e.m.DeleteService(e.ctx, operator, svcID); err != nil {
			t.Fatal(err)
		}
		e.wantState(tech.ID, contact.Pending)

		dead = false
		e.events.PublishFunc = nil
		e.clock.Advance(contact.DefaultOwnerWindow + 10*contact.DefaultOwnerWindow)
		if _, err := e.m.Sweep(e.ctx); err != nil {
			t.Fatal(err)
		}
		e.wantState(tech.ID, contact.Failed)
		if got := e.events.Types(svcID); !cmp.Equal(got, []contact.AnnouncementType{contact.ServiceContactsChanged}) {
			t.Errorf("service events %v", got)
		}
		if n, err := e.m.Sweep(e.ctx); err != nil || n != 0 {
			t.Errorf("a second sweep found %d due, err %v; want nothing left", n, err)
		}
	})
}

func TestFindChanges(t *testing.T) {
	t.Parallel()
	onBackends(t, func(t *testing.T, e *env) {
		tech := e.newTech()
		e.clock.Advance(time.Second) // newest first
		server := e.request1(adm, serverID, contact.Tech, zed)
		ids := func(p contact.ChangePage) []string {
			var out []string
			for _, c := range p.Changes {
				out = append(out, c.ID)
			}
			return out
		}
		for _, tt := range []struct {
			name string
			q    contact.ChangeSearch
			want []string
		}{
			{"by service", contact.ChangeSearch{ServiceID: svcID}, []string{tech.ID}},
			{"by account", contact.ChangeSearch{NIC: adm}, []string{server.ID, tech.ID}},
			{"by both", contact.ChangeSearch{ServiceID: serverID, NIC: zed}, []string{server.ID}},
			{"by both, none", contact.ChangeSearch{ServiceID: svcID, NIC: zed}, nil},
			{"by state", contact.ChangeSearch{NIC: adm, State: contact.Done}, nil},
		} {
			page, err := e.m.FindChanges(e.ctx, tt.q)
			if err != nil {
				t.Fatalf("%s: %v", tt.name, err)
			}
			if diff := cmp.Diff(tt.want, ids(page)); diff != "" {
				t.Errorf("%s (-want +got):\n%s", tt.name, diff)
			}
		}
		_, err := e.m.FindChanges(e.ctx, contact.ChangeSearch{})
		wantError(t, err, contact.ErrInvalid, "missing_filter")
		_, err = e.m.FindChanges(e.ctx, contact.ChangeSearch{NIC: "bob"})
		wantError(t, err, contact.ErrInvalid, "invalid_nic")
		if c, err := e.m.ChangeByID(e.ctx, tech.ID); err != nil || c.ID != tech.ID {
			t.Errorf("ChangeByID = %v, %v", c.ID, err)
		}
		_, err = e.m.ChangeByID(e.ctx, "nope")
		wantError(t, err, contact.ErrNotFound, "request_not_found")
	})
}

func TestCancelFor(t *testing.T) {
	t.Parallel()
	onBackends(t, func(t *testing.T, e *env) {
		c := e.newTech()
		_, err := e.m.CancelFor(e.ctx, operator, c.ID, " ")
		wantError(t, err, contact.ErrInvalid, "invalid_reason")
		got, err := e.m.CancelFor(e.ctx, operator, c.ID, "customer asked by phone")
		if err != nil || got.State != contact.Cancelled {
			t.Fatalf("CancelFor = %s, %v", got.State, err)
		}
		if last := lastEvent(t, got); last.By != operator || last.Detail != "customer asked by phone" {
			t.Errorf("history %+v", last)
		}
		e.wantTold(c.ID, contact.NoticeCancelled, adm, nwc, tec)
		_, err = e.m.CancelFor(e.ctx, operator, c.ID, "again")
		wantError(t, err, contact.ErrConflict, "not_pending")
	})
}

func TestResendFor(t *testing.T) {
	t.Parallel()
	onBackends(t, func(t *testing.T, e *env) {
		c := e.newTech()
		old := e.mail.Token(c.ID, nwc)
		got, err := e.m.ResendFor(e.ctx, operator, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if last := lastEvent(t, got); last.By != operator || last.Event != "resent" {
			t.Errorf("history %+v", last)
		}
		if e.mail.Token(c.ID, nwc) == old {
			t.Error("no new token was sent")
		}
		_, err = e.m.ResendFor(e.ctx, operator, c.ID)
		wantError(t, err, contact.ErrRateLimited, "resend_too_soon")
	})
}
