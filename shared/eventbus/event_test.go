package eventbus_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/servicecontacts/servicecontacts/shared/contact"
	"github.com/servicecontacts/servicecontacts/shared/eventbus"
)

func TestEnvelopeJSON(t *testing.T) {
	t.Parallel()
	failed := contact.Announcement{
		ID: "ev-7", Type: contact.ContactChangeFailed, At: at, By: contact.System,
		RequestID: "0123456789abcdef0123456789abcdef", ServiceID: "example.com", ServiceType: "domain",
		Role: contact.Billing, From: "zz33333-ovh", To: "vv55555-ovh", RequestedBy: "xx11111-ovh",
		State: contact.Failed, Reason: contact.FailureNotInGoodStanding,
		// Bookkeeping stays home.
		Owed: 3, Attempts: 2, NextAt: at,
	}
	created := contact.Announcement{
		ID: "ev-8", Type: contact.ServiceContactsChanged, At: at, By: "arn:aws:iam::123456789012:user/provisioning",
		ServiceID: "ns123.ip-1-2-3.eu", ServiceType: "dedicated-server",
		After: map[contact.Role]string{contact.Admin: "xx11111-ovh", contact.Tech: "yy22222-ovh", contact.Billing: "zz33333-ovh"},
	}
	tests := []struct {
		name string
		a    contact.Announcement
		want string
	}{
		{"request failed", failed, `{
			"version": "0", "id": "ev-7", "source": "servicecontacts", "account": "000000000000",
			"region": "local", "detail-type": "ContactChangeFailed", "time": "2025-03-14T09:26:53Z",
			"resources": [],
			"detail": {
				"eventId": "ev-7", "requestId": "0123456789abcdef0123456789abcdef",
				"serviceId": "example.com", "serviceType": "domain", "role": "billing",
				"from": "zz33333-ovh", "to": "vv55555-ovh", "requestedBy": "xx11111-ovh",
				"state": "failed", "reason": "not_in_good_standing", "by": "system",
				"at": "2025-03-14T09:26:53.589Z"
			}
		}`},
		{"service created", created, `{
			"version": "0", "id": "ev-8", "source": "servicecontacts", "account": "000000000000",
			"region": "local", "detail-type": "ServiceContactsChanged", "time": "2025-03-14T09:26:53Z",
			"resources": [],
			"detail": {
				"eventId": "ev-8", "serviceId": "ns123.ip-1-2-3.eu", "serviceType": "dedicated-server",
				"after": {"admin": "xx11111-ovh", "tech": "yy22222-ovh", "billing": "zz33333-ovh"},
				"by": "arn:aws:iam::123456789012:user/provisioning", "at": "2025-03-14T09:26:53.589Z"
			}
		}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := eventbus.Envelope(tt.a, "000000000000", "local")
			raw, err := json.Marshal(e)
			if err != nil {
				t.Fatal(err)
			}
			var got, want any
			if err := json.Unmarshal(raw, &got); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal([]byte(tt.want), &want); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("envelope (-want +got):\n%s", diff)
			}
			var back eventbus.Event
			if err := json.Unmarshal(raw, &back); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(e, back); diff != "" {
				t.Errorf("round trip (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDetailWithholdsEmailInPrincipal(t *testing.T) {
	t.Parallel()
	tests := []struct{ by, want string }{
		{"xx11111-ovh", "xx11111-ovh"},
		{contact.System, contact.System},
		{"arn:aws:iam::000000000000:user/support-alice", "arn:aws:iam::000000000000:user/support-alice"},
		{"arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Support_0a1b/alice@example.com", "arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Support_0a1b/redacted"},
		{"arn:aws:iam::123456789012:user/ops/bob@example.com", "arn:aws:iam::123456789012:user/ops/redacted"},
		{"alice@example.com", "redacted"},
		{"team@corp/alice", "redacted"},
	}
	for _, tt := range tests {
		got := eventbus.Detail(contact.Announcement{By: tt.by}).By
		if got != tt.want {
			t.Errorf("Detail(By %q).By = %q, want %q", tt.by, got, tt.want)
		}
		if strings.Contains(got, "@") {
			t.Errorf("Detail(By %q).By = %q holds an @", tt.by, got)
		}
	}
}

func TestDetailCopiesParties(t *testing.T) {
	t.Parallel()
	a := requested("ev-1")
	d := eventbus.Detail(a)
	a.Parties[0] = "changed"
	if d.Parties[0] != "xx11111-ovh" {
		t.Errorf("the detail shares its parties with the announcement: %v", d.Parties)
	}
}

func TestDetailHoldsTheFieldsOfItsType(t *testing.T) {
	t.Parallel()
	// As the domain fills them: from the request, whatever the type.
	request := func(typ contact.AnnouncementType) contact.Announcement {
		a := requested("ev-1")
		a.Type, a.Party, a.Reason = typ, "ww44444-ovh", contact.FailureRoleLocked
		a.Before = map[contact.Role]string{contact.Admin: "xx11111-ovh", contact.Tech: "yy22222-ovh", contact.Billing: "zz33333-ovh"}
		a.After = map[contact.Role]string{contact.Admin: "xx11111-ovh", contact.Tech: "ww44444-ovh", contact.Billing: "zz33333-ovh"}
		return a
	}
	base := eventbus.EventDetail{
		EventID: "ev-1", RequestID: "0123456789abcdef0123456789abcdef", ServiceID: "example.com",
		ServiceType: "domain", Role: "tech", From: "yy22222-ovh", To: "ww44444-ovh",
		RequestedBy: "xx11111-ovh", State: "pending", Parties: []string{"xx11111-ovh", "ww44444-ovh"},
		By: "xx11111-ovh", At: at,
	}
	with := func(f func(d *eventbus.EventDetail)) eventbus.EventDetail {
		d := base
		f(&d)
		return d
	}
	tests := []struct {
		typ  contact.AnnouncementType
		want eventbus.EventDetail
	}{
		{contact.ContactChangeRequested, base},
		{contact.ContactChangeConfirmed, with(func(d *eventbus.EventDetail) { d.Party = "ww44444-ovh" })},
		{contact.ContactChangeApplied, base},
		{contact.ContactChangeRefused, base},
		{contact.ContactChangeFailed, with(func(d *eventbus.EventDetail) { d.Reason = "role_locked" })},
		{contact.ServiceContactsChanged, eventbus.EventDetail{
			EventID: "ev-1", ServiceID: "example.com", ServiceType: "domain", By: "xx11111-ovh", At: at,
			Before: &eventbus.Holders{Admin: "xx11111-ovh", Tech: "yy22222-ovh", Billing: "zz33333-ovh"},
			After:  &eventbus.Holders{Admin: "xx11111-ovh", Tech: "ww44444-ovh", Billing: "zz33333-ovh"},
		}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, eventbus.Detail(request(tt.typ))); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.typ, diff)
		}
	}
}
