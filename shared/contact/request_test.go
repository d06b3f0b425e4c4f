package contact_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/servicecontacts/servicecontacts/shared/contact"
)

func TestRequestChangesRefused(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		caller    string
		serviceID string
		wanted    map[contact.Role]string
		kind      error
		code      string
	}{
		{"nothing asked", adm, svcID, map[contact.Role]string{}, contact.ErrInvalid, "empty_request"},
		{"no such service", adm, "nowhere.example", map[contact.Role]string{contact.Tech: nwc}, contact.ErrNotFound, "service_not_found"},
		{"caller holds no role", stranger, svcID, map[contact.Role]string{contact.Tech: nwc}, contact.ErrNotFound, "service_not_found"},
		{"malformed handle", adm, svcID, map[contact.Role]string{contact.Tech: "bob"}, contact.ErrInvalid, "invalid_nic"},
		{"tech names a billing", tec, svcID, map[contact.Role]string{contact.Billing: nwc}, contact.ErrForbidden, "not_allowed"},
		{"billing takes tech himself", bil, svcID, map[contact.Role]string{contact.Tech: bil}, contact.ErrForbidden, "not_allowed"},
		{"current holder named", adm, svcID, map[contact.Role]string{contact.Tech: tec}, contact.ErrRule, "same_holder"},
		{"new contact has no account", adm, svcID, map[contact.Role]string{contact.Tech: ghost}, contact.ErrRule, "contact_not_found"},
		{"new contact has no email", adm, svcID, map[contact.Role]string{contact.Tech: mute}, contact.ErrRule, "contact_without_email"},
		{"confirming party has no email", mute, muteSvc, map[contact.Role]string{contact.Tech: nwc}, contact.ErrRule, "party_without_email"},
		{"current billing not in good standing", adm, lateSvc, map[contact.Role]string{contact.Billing: nwc}, contact.ErrRule, "current_billing_not_in_good_standing"},
		{"new billing not in good standing", adm, svcID, map[contact.Role]string{contact.Billing: late}, contact.ErrRule, "new_billing_not_in_good_standing"},
		{"admin takes billing from a late payer", adm, lateSvc, map[contact.Role]string{contact.Billing: adm}, contact.ErrRule, "current_billing_not_in_good_standing"},
		// All or none: the good tech request is not created either.
		{"one of two fails", adm, svcID, map[contact.Role]string{contact.Tech: nwc, contact.Billing: ghost}, contact.ErrRule, "contact_not_found"},
		{"admin ok but tech not allowed for him", tec, svcID, map[contact.Role]string{contact.Tech: nwc, contact.Admin: nwc}, contact.ErrForbidden, "not_allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			onBackends(t, func(t *testing.T, e *env) {
				checked := tt.serviceID
				if _, err := e.st.Service(e.ctx, checked); errors.Is(err, contact.ErrNotFound) {
					checked = svcID
				}
				before := e.service(checked)
				_, err := e.m.RequestChanges(e.ctx, tt.caller, tt.serviceID, tt.wanted)
				wantError(t, err, tt.kind, tt.code)

				if got := e.wf.Calls(); len(got) != 0 {
					t.Errorf("workflow calls %+v, want none", got)
				}
				if got := e.mail.Attempts(); len(got) != 0 {
					t.Errorf("notices %+v, want none", got)
				}
				page, err := e.m.ListChanges(e.ctx, tt.caller, contact.ChangeQuery{})
				if err != nil {
					t.Fatal(err)
				}
				if len(page.Changes) != 0 {
					t.Errorf("%d requests created, want none", len(page.Changes))
				}
				if after := e.service(checked); len(after.Open) != 0 || !cmp.Equal(before, after) {
					t.Errorf("service changed: before %+v, after %+v", before, after)
				}
			})
		})
	}
}

func TestRequestChangesRecordsWhatTheRulesSay(t *testing.T) {
	t.Parallel()
	type want struct {
		role      contact.Role
		from, to  string
		authority contact.Role
		parties   []string
		notify    []string
	}
	tests := []struct {
		name      string
		caller    string
		serviceID string
		wanted    map[contact.Role]string
		want      []want // in the order of contact.Roles
	}{
		{"admin sets new tech", adm, svcID, map[contact.Role]string{contact.Tech: nwc},
			[]want{{contact.Tech, tec, nwc, contact.Admin, []string{adm, nwc}, []string{tec}}}},
		{"admin sets new billing", adm, svcID, map[contact.Role]string{contact.Billing: nwc},
			[]want{{contact.Billing, bil, nwc, contact.Admin, []string{adm, nwc}, []string{bil}}}},
		{"admin takes tech himself", adm, svcID, map[contact.Role]string{contact.Tech: adm},
			[]want{{contact.Tech, tec, adm, contact.Admin, []string{adm}, []string{tec}}}},
		{"admin takes billing himself", adm, svcID, map[contact.Role]string{contact.Billing: adm},
			[]want{{contact.Billing, bil, adm, contact.Admin, []string{adm}, []string{bil}}}},
		{"admin hands admin over", adm, svcID, map[contact.Role]string{contact.Admin: nwc},
			[]want{{contact.Admin, adm, nwc, contact.Admin, []string{adm, nwc}, nil}}},
		{"tech hands tech over", tec, svcID, map[contact.Role]string{contact.Tech: nwc},
			[]want{{contact.Tech, tec, nwc, contact.Tech, []string{tec, nwc}, nil}}},
		{"billing hands billing over", bil, svcID, map[contact.Role]string{contact.Billing: nwc},
			[]want{{contact.Billing, bil, nwc, contact.Billing, []string{bil, nwc}, nil}}},
		{"handles compared without case", adm, svcID, map[contact.Role]string{contact.Tech: " NW10004-OVH "},
			[]want{{contact.Tech, tec, nwc, contact.Admin, []string{adm, nwc}, []string{tec}}}},
		{"three roles at once", adm, svcID, map[contact.Role]string{contact.Admin: zed, contact.Tech: adm, contact.Billing: nwc},
			[]want{
				{contact.Admin, adm, zed, contact.Admin, []string{adm, zed}, nil},
				{contact.Tech, tec, adm, contact.Admin, []string{adm}, []string{tec}},
				{contact.Billing, bil, nwc, contact.Admin, []string{adm, nwc}, []string{bil}},
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			onBackends(t, func(t *testing.T, e *env) {
				changes := e.request(tt.caller, tt.serviceID, tt.wanted)
				svc := e.service(tt.serviceID)
				seenTokens := map[string]bool{}
				for i, w := range tt.want {
					got := changes[i]
					stored := e.change(got.ID)
					for _, c := range []contact.Change{got, stored} {
						if c.Role != w.role || c.From != w.from || c.To != w.to || c.RequestedBy != tt.caller ||
							c.Authority != w.authority || c.State != contact.Pending || c.ServiceID != tt.serviceID || c.ServiceType != "domain" {
							t.Errorf("request %+v, want %+v by %s, pending", c, w, tt.caller)
						}
						if !c.CreatedAt.Equal(t0) || !c.ExpiresAt.Equal(t0.Add(contact.DefaultExpiry)) {
							t.Errorf("created %v, expires %v; want %v and 14 days later", c.CreatedAt, c.ExpiresAt, t0)
						}
						var nics []string
						for _, p := range c.Parties {
							nics = append(nics, p.NIC)
							if p.Status != contact.Waiting || p.TaskToken != "" || len(p.TokenHash) != 64 {
								t.Errorf("party %+v, want waiting with a token hash and no task", p)
							}
						}
						if diff := cmp.Diff(w.parties, nics); diff != "" {
							t.Errorf("parties (-want +got):\n%s", diff)
						}
						if diff := cmp.Diff(w.notify, c.Notify, cmpopts.EquateEmpty()); diff != "" {
							t.Errorf("notified (-want +got):\n%s", diff)
						}
					}
					if ev := lastEvent(t, stored); ev.Event != string(contact.StepCreated) || ev.By != tt.caller || !ev.At.Equal(t0) {
						t.Errorf("history %+v, want created by %s at %v", stored.History, tt.caller, t0)
					}
					if svc.Open[w.role] != got.ID {
						t.Errorf("the %s role is locked by %q, want %s", w.role, svc.Open[w.role], got.ID)
					}
					// Each party gets one token email with its own token, whose hash is stored.
					e.wantTold(got.ID, contact.NoticeToken, w.parties...)
					for _, p := range stored.Parties {
						token := e.mail.Token(got.ID, p.NIC)
						if contact.HashToken(token) != p.TokenHash {
							t.Errorf("the token emailed to %s does not match its stored hash", p.NIC)
						}
						if seenTokens[token] {
							t.Errorf("token of %s on %s was emailed for another party too", p.NIC, got.ID)
						}
						seenTokens[token] = true
					}
					if n := len(e.mail.Of(got.ID, "")); n != len(w.parties) {
						t.Errorf("%d notices about %s, want only the %d token emails", n, got.ID, len(w.parties))
					}
				}
				var started []string
				for _, c := range e.wf.Calls("start") {
					started = append(started, c.ChangeID)
				}
				var ids []string
				for _, c := range changes {
					ids = append(ids, c.ID)
				}
				if diff := cmp.Diff(ids, started); diff != "" {
					t.Errorf("workflows started (-want +got):\n%s", diff)
				}
			})
		})
	}
}

func TestRequestChangesExpiryIsConfigurable(t *testing.T) {
	t.Parallel()
	onBackends(t, func(t *testing.T, e *env) {
		c := e.newTech()
		if want := t0.Add(72 * time.Hour); !c.ExpiresAt.Equal(want) || !e.change(c.ID).ExpiresAt.Equal(want) {
			t.Errorf("expires at %v, want %v", c.ExpiresAt, want)
		}
	}, func(cfg *contact.Config) { cfg.Expiry = 72 * time.Hour })
}

func TestRequestChangesOneOpenRequestPerRole(t *testing.T) {
	t.Parallel()
	onBackends(t, func(t *testing.T, e *env) {
		first := e.newTech()
		tests := []struct {
			name   string
			caller string
			wanted map[contact.Role]string
		}{
			{"same change again", adm, map[contact.Role]string{contact.Tech: nwc}},
			{"another tech", adm, map[contact.Role]string{contact.Tech: zed}},
			{"the tech himself", tec, map[contact.Role]string{contact.Tech: zed}},
			{"with a free role", adm, map[contact.Role]string{contact.Billing: zed, contact.Tech: zed}},
		}
		for _, tt := range tests {
			_, err := e.m.RequestChanges(e.ctx, tt.caller, svcID, tt.wanted)
			t.Logf("%s: %v", tt.name, err)
			wantError(t, err, contact.ErrConflict, "request_open")
		}
		if open := e.service(svcID).Open; len(open) != 1 || open[contact.Tech] != first.ID {
			t.Errorf("locks %v, want only the tech's, by %s", open, first.ID)
		}
		// Another role is free, and once the first request ended, so is the tech role.
		e.request1(adm, svcID, contact.Billing, zed)
		if _, err := e.m.Cancel(e.ctx, adm, first.ID); err != nil {
			t.Fatal(err)
		}
		e.request1(adm, svcID, contact.Tech, zed)
	})
}

func TestRequestChangesWorkflowStartFails(t *testing.T) {
	t.Parallel()
	onBackends(t, func(t *testing.T, e *env) {
		starts := 0
		e.wf.StartFunc = func(context.Context, contact.Change) error {
			starts++
			if starts == 2 { // the first request's workflow started, the second's cannot
				return errors.New("states: service unavailable")
			}
			return nil
		}
		_, err := e.m.RequestChanges(e.ctx, adm, svcID, map[contact.Role]string{contact.Tech: nwc, contact.Billing: zed})
		if e := wantError(t, err, contact.ErrUnavailable, "unavailable"); e.RetryAfter <= 0 {
			t.Errorf("RetryAfter = %d, want a positive delay", e.RetryAfter)
		}
		page, err := e.m.ListChanges(e.ctx, adm, contact.ChangeQuery{})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Changes) != 2 {
			t.Fatalf("%d requests stored, want the 2 abandoned ones", len(page.Changes))
		}
		for _, c := range page.Changes {
			c := e.wantState(c.ID, contact.Failed)
			e.wantReleased(c)
			if ev := lastEvent(t, c); ev.Event != string(contact.StepFailed) || ev.Detail != (contact.Failure{Code: contact.FailureWorkflowLost}).String() {
				t.Errorf("last event %+v, want failed: workflow lost", ev)
			}
			if !c.DueAt.IsZero() {
				t.Errorf("an abandoned request is due at %v, want never", c.DueAt)
			}
		}
		// The caller is told by the error: nobody is emailed, no token went out.
		if got := e.mail.Attempts(); len(got) != 0 {
			t.Errorf("notices %+v, want none", got)
		}
		e.wantContacts(svcID, exampleContacts())
		// The roles are free again: the same request can be made at once.
		e.wf.StartFunc = nil
		e.request(adm, svcID, map[contact.Role]string{contact.Tech: nwc, contact.Billing: zed})
	})
}

func TestRequestChangesTokenEmailFailureIsRecorded(t *testing.T) {
	t.Parallel()
	onBackends(t, func(t *testing.T, e *env) {
		e.mail.NotifyFunc = func(_ context.Context, n contact.Notice) error {
			if n.To.NIC == nwc {
				return errors.New("ses: address rejected")
			}
			return nil
		}
		c := e.newTech()
		stored := e.wantState(c.ID, contact.Pending)
		if ev := lastEvent(t, stored); ev.Event != "email_failed" || ev.Detail != nwc || ev.By != contact.System {
			t.Errorf("last event %+v, want email_failed for %s", ev, nwc)
		}
		e.wantTold(c.ID, contact.NoticeToken, adm)
		// A resend (after the address was fixed) reaches the party.
		e.mail.NotifyFunc = nil
		if _, err := e.m.Resend(e.ctx, nwc, c.ID); err != nil {
			t.Fatal(err)
		}
		if e.mail.Token(c.ID, nwc) == "" {
			t.Error("the resend did not email nwc a token")
		}
	})
}
