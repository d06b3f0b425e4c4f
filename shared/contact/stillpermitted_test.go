package contact

import (
	"maps"
	"testing"
)

// TestStillPermitted evaluates the rules table again on a service that changed after the
// request: the requester must still hold the authority, and the table must still ask the
// same parties.
func TestStillPermitted(t *testing.T) {
	t.Parallel()
	with := func(changes map[Role]string) Service {
		s := Service{ID: svc.ID, Contacts: maps.Clone(svc.Contacts)}
		maps.Copy(s.Contacts, changes)
		return s
	}
	request := func(by string, role Role, to string, authority Role, parties ...string) Change {
		c := Change{RequestedBy: by, Role: role, From: svc.Contacts[role], To: to, Authority: authority}
		for _, p := range parties {
			c.Parties = append(c.Parties, Party{NIC: p})
		}
		return c
	}
	tests := []struct {
		name string
		svc  Service
		c    Change
		want Failure
	}{
		{"admin's request, nothing changed", svc, request(admin, Tech, newcomer, Admin, admin, newcomer), Failure{}},
		{"admin's request, parties in another order", svc, request(admin, Tech, newcomer, Admin, newcomer, admin), Failure{}},
		{"admin's request, billing changed", with(map[Role]string{Billing: stranger}), request(admin, Tech, newcomer, Admin, admin, newcomer), Failure{}},
		{"admin's request, admin changed", with(map[Role]string{Admin: stranger}), request(admin, Tech, newcomer, Admin, admin, newcomer),
			Failure{Code: FailureAdminChanged, Role: Tech}},
		{"admin for himself, admin changed", with(map[Role]string{Admin: stranger}), request(admin, Billing, admin, Admin, admin),
			Failure{Code: FailureAdminChanged, Role: Billing}},
		// He still holds tech, so the table would allow it again, but on another authority.
		{"admin who is also tech, admin changed", Service{ID: svc.ID, Contacts: map[Role]string{Admin: stranger, Tech: admin, Billing: billing}},
			Change{RequestedBy: admin, Role: Tech, From: admin, To: newcomer, Authority: Admin, Parties: []Party{{NIC: admin}, {NIC: newcomer}}},
			Failure{Code: FailureAdminChanged, Role: Tech}},
		{"tech's request, admin changed", with(map[Role]string{Admin: stranger}), request(tech, Tech, newcomer, Tech, tech, newcomer), Failure{}},
		{"tech's request, tech changed", with(map[Role]string{Tech: stranger}), request(tech, Tech, newcomer, Tech, tech, newcomer),
			Failure{Code: FailureAuthorityLost, Role: Tech, Account: tech}},
		{"billing's request, billing changed", with(map[Role]string{Billing: stranger}), request(billing, Billing, newcomer, Billing, billing, newcomer),
			Failure{Code: FailureAuthorityLost, Role: Billing, Account: billing}},
		{"other parties than the table asks", svc, request(admin, Tech, newcomer, Admin, admin),
			Failure{Code: FailureAuthorityLost, Role: Admin, Account: admin}},
		{"as many parties, not the same", svc, request(admin, Tech, newcomer, Admin, admin, stranger),
			Failure{Code: FailureAuthorityLost, Role: Admin, Account: admin}},
		{"another authority than recorded", svc, request(admin, Tech, newcomer, Tech, admin, newcomer),
			Failure{Code: FailureAuthorityLost, Role: Tech, Account: admin}},
		{"new holder took the role meanwhile", with(map[Role]string{Tech: newcomer}), request(admin, Tech, newcomer, Admin, admin, newcomer),
			Failure{Code: FailureAuthorityLost, Role: Admin, Account: admin}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := StillPermitted(tt.svc, tt.c); got != tt.want {
				t.Errorf("StillPermitted() = %+v, want %+v", got, tt.want)
			}
		})
	}
}

// TestPermitDoesNotTellAPartyTwice: an admin who also holds the role he hands on confirms, and is not also told as its previous holder.
func TestPermitDoesNotTellAPartyTwice(t *testing.T) {
	t.Parallel()
	s := Service{ID: "s", Contacts: map[Role]string{Admin: admin, Tech: tech, Billing: admin}}
	got, err := Permit(s, admin, Billing, newcomer)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Parties) != 2 || got.Parties[0] != admin || got.Parties[1] != newcomer || len(got.Notify) != 0 {
		t.Errorf("Permit() = %+v, want %s and %s to confirm, nobody told", got, admin, newcomer)
	}
	_, err = Permit(Service{ID: "s", Contacts: map[Role]string{Admin: admin, Tech: admin, Billing: billing}}, billing, Tech, billing)
	if e, ok := err.(*Error); !ok || e.Code != "not_allowed" || e.Message == "" {
		t.Errorf("Permit() error = %v, want not_allowed", err)
	}
}
