package events_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/servicecontacts/servicecontacts/api/events"
	"github.com/servicecontacts/servicecontacts/shared/contact"
	"github.com/servicecontacts/servicecontacts/shared/eventbus"
)

var at = time.Date(2025, 3, 14, 9, 26, 53, 589_000_000, time.UTC)

const operator = "arn:aws:iam::000000000000:user/support-alice"

// request is an announcement about a request, as the domain fills it.
func request(t contact.AnnouncementType, state contact.State, by string) contact.Announcement {
	return contact.Announcement{
		ID: "0123456789abcdef0123456789abcdef-" + strings.ToLower(string(t)), Type: t, At: at, By: by,
		RequestID: "0123456789abcdef0123456789abcdef", ServiceID: "example.com", ServiceType: "domain",
		Role: contact.Tech, From: "yy22222-ovh", To: "ww44444-ovh", RequestedBy: "xx11111-ovh", State: state,
	}
}

var holders = map[contact.Role]string{contact.Admin: "xx11111-ovh", contact.Tech: "yy22222-ovh", contact.Billing: "zz33333-ovh"}

// samples returns announcements of every type, in every form the domain may give them.
func samples() map[string]contact.Announcement {
	out := map[string]contact.Announcement{}
	a := request(contact.ContactChangeRequested, contact.Pending, "xx11111-ovh")
	a.Parties = []string{"xx11111-ovh", "ww44444-ovh"}
	out["requested"] = a

	a = request(contact.ContactChangeConfirmed, contact.Pending, "ww44444-ovh")
	a.Party = "ww44444-ovh"
	out["confirmed, others waiting"] = a
	a = request(contact.ContactChangeConfirmed, contact.Applying, "xx11111-ovh")
	a.Party = "xx11111-ovh"
	out["confirmed by the last party"] = a

	out["applied"] = request(contact.ContactChangeApplied, contact.Done, contact.System)
	a = request(contact.ContactChangeApplied, contact.Done, contact.System)
	a.Parties = []string{"xx11111-ovh", "ww44444-ovh"}
	out["applied, with its parties"] = a
	out["refused"] = request(contact.ContactChangeRefused, contact.Refused, "ww44444-ovh")
	out["cancelled by the requester"] = request(contact.ContactChangeCancelled, contact.Cancelled, "xx11111-ovh")
	out["cancelled by support"] = request(contact.ContactChangeCancelled, contact.Cancelled, operator)
	out["expired"] = request(contact.ContactChangeExpired, contact.Expired, contact.System)
	for _, code := range contact.FailureCodes {
		a := request(contact.ContactChangeFailed, contact.Failed, contact.System)
		a.Reason = code
		out["failed: "+string(code)] = a
	}

	service := func(before, after map[contact.Role]string) contact.Announcement {
		return contact.Announcement{
			ID: "rec-0001", Type: contact.ServiceContactsChanged, At: at,
			By: "arn:aws:sts::123456789012:assumed-role/provisioning/sync", ServiceID: "ns123.ip-1-2-3.eu",
			ServiceType: "dedicated-server", Before: before, After: after,
		}
	}
	out["service created"] = service(nil, holders)
	out["service deleted"] = service(holders, nil)
	changed := map[contact.Role]string{contact.Admin: "xx11111-ovh", contact.Tech: "ww44444-ovh", contact.Billing: "zz33333-ovh"}
	out["service holders changed"] = service(holders, changed)
	// An applied request changes a service's holders too: the domain fills the event from
	// the request.
	a = request(contact.ServiceContactsChanged, contact.Done, contact.System)
	a.Before, a.After = holders, changed
	out["service holders changed by a request"] = a
	return out
}

// required lists, per detail-type, the detail's fields an event may not lack.
var required = func() map[contact.AnnouncementType][]string {
	base := []string{"eventId", "requestId", "serviceId", "serviceType", "role", "from", "to", "requestedBy", "state", "by", "at"}
	with := func(extra ...string) []string { return append(slices.Clone(base), extra...) }
	return map[contact.AnnouncementType][]string{
		contact.ContactChangeRequested: with("parties"),
		contact.ContactChangeConfirmed: with("party"),
		contact.ContactChangeApplied:   with(),
		contact.ContactChangeRefused:   with(),
		contact.ContactChangeCancelled: with(),
		contact.ContactChangeExpired:   with(),
		contact.ContactChangeFailed:    with("reason"),
		contact.ServiceContactsChanged: {"eventId", "serviceId", "by", "at"},
	}
}()

// envelopes returns each sample as the local log and as EventBridge would deliver it.
func envelopes(t *testing.T) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	for name, a := range samples() {
		out[name+" (local)"] = decode(t, eventbus.Envelope(a, "000000000000", "local"))
		aws := eventbus.Envelope(a, "123456789012", "eu-west-3")
		aws.ID = "6a7e8feb-b491-4cf7-a9f1-bf3703467718" // EventBridge's own
		out[name+" (AWS)"] = decode(t, aws)
	}
	return out
}

func decode(t *testing.T, e eventbus.Event) map[string]any {
	t.Helper()
	raw, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func validate(t *testing.T, m map[string]any) error {
	t.Helper()
	raw, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return events.Validate(raw)
}

// clone deep-copies a decoded JSON value.
func clone(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[k] = clone(x)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = clone(x)
		}
		return out
	}
	return v
}

func detail(m map[string]any) map[string]any { return m["detail"].(map[string]any) }

func TestSamplesValidate(t *testing.T) {
	t.Parallel()
	for name, m := range envelopes(t) {
		if err := validate(t, m); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestEveryTypeHasASample(t *testing.T) {
	t.Parallel()
	seen := map[contact.AnnouncementType]bool{}
	for _, a := range samples() {
		seen[a.Type] = true
	}
	for _, typ := range contact.AnnouncementTypes {
		if !seen[typ] {
			t.Errorf("no sample of %s", typ)
		}
	}
}

func TestMissingFields(t *testing.T) {
	t.Parallel()
	for name, m := range envelopes(t) {
		typ := contact.AnnouncementType(m["detail-type"].(string))
		for field := range detail(m) {
			broken := clone(m).(map[string]any)
			delete(detail(broken), field)
			err := validate(t, broken)
			want := slices.Contains(required[typ], field) ||
				typ == contact.ServiceContactsChanged && noHolders(detail(broken))
			if (err != nil) != want {
				t.Errorf("%s without detail.%s: error %v, want an error: %v", name, field, err, want)
			}
		}
		for field := range m {
			broken := clone(m).(map[string]any)
			delete(broken, field)
			if err := validate(t, broken); err == nil {
				t.Errorf("%s without %s is valid", name, field)
			}
		}
	}
}

// noHolders reports a service change's detail that has neither before nor after.
func noHolders(d map[string]any) bool {
	_, before := d["before"]
	_, after := d["after"]
	return !before && !after
}

func TestServiceContactsChangedNeedsBeforeOrAfter(t *testing.T) {
	t.Parallel()
	m := decode(t, eventbus.Envelope(samples()["service holders changed"], "000000000000", "local"))
	delete(detail(m), "before")
	if err := validate(t, m); err != nil {
		t.Fatalf("without before: %v", err)
	}
	delete(detail(m), "after")
	if err := validate(t, m); err == nil {
		t.Error("a ServiceContactsChanged with neither before nor after is valid")
	}
}

// leaves calls f with a setter for every string in v, at every depth.
func leaves(v any, path string, f func(path string, set func(string))) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if _, ok := x.(string); ok {
				f(path+"."+k, func(s string) { v[k] = s })
				continue
			}
			leaves(x, path+"."+k, f)
		}
	case []any:
		for i, x := range v {
			if _, ok := x.(string); ok {
				f(fmt.Sprintf("%s[%d]", path, i), func(s string) { v[i] = s })
				continue
			}
			leaves(x, fmt.Sprintf("%s[%d]", path, i), f)
		}
	}
}

func TestNoFieldTakesAnEmailAddress(t *testing.T) {
	t.Parallel()
	emails := []string{"alice@example.com", "xx11111-ovh@example.com", "arn:aws:iam::000000000000:user/alice@example.com"}
	for name, m := range envelopes(t) {
		var paths []string
		leaves(m, "", func(path string, _ func(string)) { paths = append(paths, path) })
		sort.Strings(paths)
		for _, path := range paths {
			for _, email := range emails {
				broken := clone(m).(map[string]any)
				leaves(broken, "", func(p string, set func(string)) {
					if p == path {
						set(email)
					}
				})
				if err := validate(t, broken); err == nil {
					t.Errorf("%s with %s = %q is valid", name, path, email)
				}
			}
		}
	}
}

func TestInvalidEvents(t *testing.T) {
	t.Parallel()
	base := decode(t, eventbus.Envelope(samples()["failed: role_locked"], "000000000000", "local"))
	service := decode(t, eventbus.Envelope(samples()["service created"], "000000000000", "local"))
	tests := []struct {
		name   string
		from   map[string]any
		change func(m map[string]any)
	}{
		{"wrong source", base, func(m map[string]any) { m["source"] = "aws.ses" }},
		{"wrong version", base, func(m map[string]any) { m["version"] = "1" }},
		{"extra envelope property", base, func(m map[string]any) { m["subject"] = "x" }},
		{"extra detail property", base, func(m map[string]any) { detail(m)["note"] = "x" }},
		{"token in the detail", base, func(m map[string]any) { detail(m)["token"] = "abcdef" }},
		{"unknown failure reason", base, func(m map[string]any) { detail(m)["reason"] = "bad_luck" }},
		{"state of another type", base, func(m map[string]any) { detail(m)["state"] = "done" }},
		{"detail of another type", base, func(m map[string]any) { m["detail-type"] = "ContactChangeApplied" }},
		{"unknown role", base, func(m map[string]any) { detail(m)["role"] = "owner" }},
		{"NIC not lowercase", base, func(m map[string]any) { detail(m)["to"] = "WW44444-OVH" }},
		{"NIC without suffix", base, func(m map[string]any) { detail(m)["to"] = "ww44444" }},
		{"time not UTC", base, func(m map[string]any) { detail(m)["at"] = "2025-03-14T10:26:53+01:00" }},
		{"time not a time", base, func(m map[string]any) { detail(m)["at"] = "2025-02-30T10:26:53Z" }},
		{"account not an AWS account", base, func(m map[string]any) { m["account"] = "local" }},
		{"detail not an object", base, func(m map[string]any) { m["detail"] = "{}" }},
		{"party on a failure", base, func(m map[string]any) { detail(m)["party"] = "ww44444-ovh" }},
		{"request id on a service change", service, func(m map[string]any) { detail(m)["requestId"] = "0123456789abcdef0123456789abcdef" }},
		{"role on a service change", service, func(m map[string]any) { detail(m)["role"] = "tech" }},
		{"holder missing", service, func(m map[string]any) { delete(detail(m)["after"].(map[string]any), "billing") }},
		{"holder of an unknown role", service, func(m map[string]any) { detail(m)["after"].(map[string]any)["owner"] = "xx11111-ovh" }},
	}
	if err := validate(t, base); err != nil {
		t.Fatalf("the base event is invalid: %v", err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := clone(tt.from).(map[string]any)
			tt.change(m)
			if err := validate(t, m); err == nil {
				t.Error("valid")
			}
		})
	}
}

func TestUnknownDetailType(t *testing.T) {
	t.Parallel()
	tests := []string{
		`{"version":"0","detail-type":"ContactChangeDelayed","source":"servicecontacts","detail":{}}`,
		`{"version":"0","source":"servicecontacts","detail":{}}`,
		`{"version":"0","detail-type":7}`,
	}
	for _, raw := range tests {
		if err := events.Validate([]byte(raw)); !errors.Is(err, events.ErrUnknownType) {
			t.Errorf("Validate(%s) = %v, want ErrUnknownType", raw, err)
		}
	}
	for _, raw := range []string{`[]`, `{"detail-type":`, ``} {
		if err := events.Validate([]byte(raw)); err == nil {
			t.Errorf("Validate(%q) is valid", raw)
		}
	}
}

func TestASchemaPerType(t *testing.T) {
	t.Parallel()
	var want []string
	for _, typ := range contact.AnnouncementTypes {
		want = append(want, string(typ))
	}
	sort.Strings(want)
	if got := events.DetailTypes(); !slices.Equal(got, want) {
		t.Errorf("schema files for %v, want one for each of %v", got, want)
	}
}

// schema reads a type's schema file.
func schema(t *testing.T, typ contact.AnnouncementType) map[string]any {
	t.Helper()
	raw, err := events.Schema(string(typ))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func strs(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	sort.Strings(out)
	return out
}

func sorted[S ~string](in []S) []string {
	var out []string
	for _, s := range in {
		out = append(out, string(s))
	}
	sort.Strings(out)
	return out
}

func TestSchemasNameWhatTheDomainKnows(t *testing.T) {
	t.Parallel()
	failed := schema(t, contact.ContactChangeFailed)
	props := failed["properties"].(map[string]any)["detail"].(map[string]any)["properties"].(map[string]any)
	if got, want := strs(props["reason"].(map[string]any)["enum"]), sorted(contact.FailureCodes); !slices.Equal(got, want) {
		t.Errorf("failure reasons %v, want %v", got, want)
	}
	for _, typ := range contact.AnnouncementTypes {
		m := schema(t, typ)
		if got, want := m["$schema"], "https://json-schema.org/draft/2020-12/schema"; got != want {
			t.Errorf("%s: $schema %v, want %v", typ, got, want)
		}
		if got := strs(m["$defs"].(map[string]any)["role"].(map[string]any)["enum"]); !slices.Equal(got, sorted(contact.Roles)) {
			t.Errorf("%s: roles %v, want %v", typ, got, sorted(contact.Roles))
		}
		detail := m["properties"].(map[string]any)["detail"].(map[string]any)
		if got, want := strs(detail["required"]), sorted(required[typ]); !slices.Equal(got, want) {
			t.Errorf("%s: detail requires %v, want %v", typ, got, want)
		}
	}
}

func TestSchemaOfUnknownType(t *testing.T) {
	t.Parallel()
	if _, err := events.Schema("../events"); !errors.Is(err, events.ErrUnknownType) {
		t.Errorf("Schema(../events) = %v, want ErrUnknownType", err)
	}
}
