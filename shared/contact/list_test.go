package contact_test

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/servicecontacts/servicecontacts/shared/contact"
)

func serviceIDs(page contact.ServicePage) []string {
	var ids []string
	for _, s := range page.Services {
		ids = append(ids, s.ID)
	}
	return ids
}

func TestListServices(t *testing.T) {
	t.Parallel()
	onBackends(t, func(t *testing.T, e *env) {
		tests := []struct {
			name   string
			caller string
			q      contact.ServiceQuery
			want   []string
			more   bool
		}{
			{"every service of the admin", adm, contact.ServiceQuery{}, []string{svcID, lateSvc, serverID, ownSvc}, false},
			{"by role", tec, contact.ServiceQuery{Role: contact.Tech}, []string{svcID, lateSvc, muteSvc, serverID}, false},
			{"by role, none", tec, contact.ServiceQuery{Role: contact.Billing}, nil, false},
			{"by type", adm, contact.ServiceQuery{Type: "dedicated-server"}, []string{serverID}, false},
			{"by role and type", adm, contact.ServiceQuery{Role: contact.Tech, Type: "hosting"}, []string{ownSvc}, false},
			{"first page", adm, contact.ServiceQuery{Limit: 2}, []string{svcID, lateSvc}, true},
			{"a stranger", stranger, contact.ServiceQuery{}, nil, false},
		}
		for _, tt := range tests {
			page, err := e.m.ListServices(e.ctx, tt.caller, tt.q)
			if err != nil {
				t.Fatalf("%s: %v", tt.name, err)
			}
			if diff := cmp.Diff(tt.want, serviceIDs(page)); diff != "" {
				t.Errorf("%s (-want +got):\n%s", tt.name, diff)
			}
			if more := page.NextCursor != ""; more != tt.more {
				t.Errorf("%s: next cursor %q, want more: %v", tt.name, page.NextCursor, tt.more)
			}
		}

		// Paging goes through every service once.
		var all []string
		q := contact.ServiceQuery{Limit: 1}
		for range 10 {
			page, err := e.m.ListServices(e.ctx, adm, q)
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, serviceIDs(page)...)
			if page.NextCursor == "" {
				break
			}
			q.Cursor = page.NextCursor
		}
		if diff := cmp.Diff([]string{svcID, lateSvc, serverID, ownSvc}, all); diff != "" {
			t.Errorf("paging one by one (-want +got):\n%s", diff)
		}

		// The contacts come with each service.
		page, err := e.m.ListServices(e.ctx, adm, contact.ServiceQuery{Type: "domain", Limit: 1})
		if err != nil {
			t.Fatal(err)
		}
		if got := page.Services[0]; got.Type != "domain" || !cmp.Equal(got.Contacts, exampleContacts()) {
			t.Errorf("service %+v, want example.com with its contacts", got)
		}
	})
}

func TestListRefusesBadQueries(t *testing.T) {
	t.Parallel()
	onBackends(t, func(t *testing.T, e *env) {
		tests := []struct {
			name string
			list func() error
			code string
		}{
			{"unknown role", func() error {
				_, err := e.m.ListServices(e.ctx, adm, contact.ServiceQuery{Role: "owner"})
				return err
			}, "invalid_role"},
			{"services, negative limit", func() error {
				_, err := e.m.ListServices(e.ctx, adm, contact.ServiceQuery{Limit: -1})
				return err
			}, "invalid_limit"},
			{"services, limit too high", func() error {
				_, err := e.m.ListServices(e.ctx, adm, contact.ServiceQuery{Limit: contact.MaxPageSize + 1})
				return err
			}, "invalid_limit"},
			{"unknown state", func() error {
				_, err := e.m.ListChanges(e.ctx, adm, contact.ChangeQuery{State: "open"})
				return err
			}, "invalid_state"},
			{"changes, negative limit", func() error {
				_, err := e.m.ListChanges(e.ctx, adm, contact.ChangeQuery{Limit: -5})
				return err
			}, "invalid_limit"},
			{"changes, limit too high", func() error {
				_, err := e.m.ListChanges(e.ctx, adm, contact.ChangeQuery{Limit: contact.MaxPageSize + 1})
				return err
			}, "invalid_limit"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				wantError(t, tt.list(), contact.ErrInvalid, tt.code)
			})
		}
		// The bounds themselves are fine.
		if _, err := e.m.ListServices(e.ctx, adm, contact.ServiceQuery{Limit: contact.MaxPageSize}); err != nil {
			t.Errorf("limit %d: %v", contact.MaxPageSize, err)
		}
		if _, err := e.m.ListChanges(e.ctx, adm, contact.ChangeQuery{Limit: 1}); err != nil {
			t.Errorf("limit 1: %v", err)
		}
		// A cursor that is not one of ours is refused, not a server error.
		if _, err := e.m.ListChanges(e.ctx, adm, contact.ChangeQuery{Cursor: "garbage"}); !errors.Is(err, contact.ErrInvalid) {
			t.Errorf("a bad cursor: %v, want invalid", err)
		}
	})
}

func changeIDs(page contact.ChangePage) []string {
	var ids []string
	for _, c := range page.Changes {
		ids = append(ids, c.ID)
	}
	return ids
}

func TestListChanges(t *testing.T) {
	t.Parallel()
	onBackends(t, func(t *testing.T, e *env) {
		tech := e.newTech()                                     // adm asks, nwc confirms, tec is told
		e.clock.Advance(time.Minute)                            //
		billing := e.request1(bil, svcID, contact.Billing, zed) // bil and zed
		e.clock.Advance(time.Minute)                            //
		server := e.request1(adm, serverID, contact.Admin, nwc) // adm and nwc
		e.decide(billing.ID, zed, false)                        // refused
		tests := []struct {
			name   string
			caller string
			q      contact.ChangeQuery
			want   []string
		}{
			{"the requester, newest first", adm, contact.ChangeQuery{}, []string{server.ID, tech.ID}},
			{"a party", nwc, contact.ChangeQuery{}, []string{server.ID, tech.ID}},
			{"the previous holder", tec, contact.ChangeQuery{}, []string{tech.ID}},
			{"by state", zed, contact.ChangeQuery{State: contact.Refused}, []string{billing.ID}},
			{"by state, none", zed, contact.ChangeQuery{State: contact.Pending}, nil},
			{"a page", nwc, contact.ChangeQuery{Limit: 1}, []string{server.ID}},
			{"a stranger", stranger, contact.ChangeQuery{}, nil},
		}
		for _, tt := range tests {
			page, err := e.m.ListChanges(e.ctx, tt.caller, tt.q)
			if err != nil {
				t.Fatalf("%s: %v", tt.name, err)
			}
			if diff := cmp.Diff(tt.want, changeIDs(page)); diff != "" {
				t.Errorf("%s (-want +got):\n%s", tt.name, diff)
			}
		}
		first, err := e.m.ListChanges(e.ctx, nwc, contact.ChangeQuery{Limit: 1})
		if err != nil || first.NextCursor == "" {
			t.Fatalf("first page: %v, cursor %q", err, first.NextCursor)
		}
		second, err := e.m.ListChanges(e.ctx, nwc, contact.ChangeQuery{Limit: 1, Cursor: first.NextCursor})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{tech.ID}, changeIDs(second)); diff != "" || second.NextCursor != "" {
			t.Errorf("second page (-want +got):\n%s, cursor %q", diff, second.NextCursor)
		}
		// One account's cursor does not page through another's list.
		if _, err := e.m.ListChanges(e.ctx, adm, contact.ChangeQuery{Limit: 1, Cursor: first.NextCursor}); !errors.Is(err, contact.ErrInvalid) {
			t.Errorf("another account's cursor: %v, want invalid", err)
		}
	})
}

func TestGetChange(t *testing.T) {
	t.Parallel()
	onBackends(t, func(t *testing.T, e *env) {
		c := e.newTech()
		for _, nic := range []string{adm, nwc, tec} {
			got, err := e.m.GetChange(e.ctx, nic, c.ID)
			if err != nil {
				t.Errorf("%s: %v", nic, err)
				continue
			}
			if diff := cmp.Diff(e.change(c.ID), got); diff != "" {
				t.Errorf("%s sees (-stored +got):\n%s", nic, diff)
			}
		}
		// Hidden from those it does not involve, exactly as a request that does not exist.
		for _, nic := range []string{stranger, bil, zed} {
			_, err := e.m.GetChange(e.ctx, nic, c.ID)
			wantError(t, err, contact.ErrNotFound, "request_not_found")
		}
		if _, err := e.m.GetChange(e.ctx, adm, "no-such-request"); !errors.Is(err, contact.ErrNotFound) {
			t.Errorf("an unknown request: %v, want not found", err)
		}
	})
}
