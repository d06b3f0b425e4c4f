package bounce

import (
	"encoding/json"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/servicecontacts/servicecontacts/shared/mail"
)

func TestEvent(t *testing.T) {
	when := time.Date(2025, 3, 1, 10, 31, 1, 669_123_456, time.FixedZone("CET", 3600))
	untagged := sampleMessage
	untagged.NIC, untagged.RequestID = "", ""
	tests := []struct {
		name      string
		msg       mail.Message
		permanent bool
		want      map[string]any // values at paths of the event
	}{
		{name: "hard bounce", msg: sampleMessage, permanent: true, want: map[string]any{
			"detail.bounce.bounceType":    "Permanent",
			"detail.bounce.bounceSubType": "General",
			"detail.mail.tags.nic":        []any{sampleNIC},
			"detail.mail.tags.request":    []any{sampleRequest},
		}},
		{name: "soft bounce", msg: sampleMessage, want: map[string]any{
			"detail.bounce.bounceType":    "Transient",
			"detail.bounce.bounceSubType": "MailboxFull",
			"detail.mail.tags.nic":        []any{sampleNIC},
		}},
		{name: "untagged", msg: untagged, permanent: true, want: map[string]any{
			"detail.mail.tags.nic":     nil,
			"detail.mail.tags.request": nil,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := event(tt.msg, when, tt.permanent)
			var got map[string]any
			if err := json.Unmarshal(raw, &got); err != nil {
				t.Fatalf("Event is not JSON: %v\n%s", err, raw)
			}
			common := map[string]any{
				"version":                 "0",
				"source":                  "aws.ses",
				"detail-type":             "Email Bounced",
				"time":                    "2025-03-01T09:31:01Z",
				"detail.eventType":        "Bounce",
				"detail.bounce.timestamp": "2025-03-01T09:31:01.670Z", // rounded up
				"detail.mail.destination": []any{sampleAddress},
				"detail.bounce.bouncedRecipients": []any{map[string]any{
					"emailAddress":   sampleAddress,
					"action":         "failed",
					"status":         map[bool]string{true: "5.1.1", false: "5.2.2"}[tt.permanent],
					"diagnosticCode": map[bool]string{true: "smtp; 550 5.1.1 user unknown", false: "smtp; 552 5.2.2 mailbox full"}[tt.permanent],
				}},
			}
			for path, want := range merge(common, tt.want) {
				if diff := cmp.Diff(want, lookup(got, path)); diff != "" {
					t.Errorf("%s (-want +got):\n%s", path, diff)
				}
			}
		})
	}
}

// Event has the shape SES publishes: every field it writes is one the documented sample
// has, at the same place.
func TestEventShapeIsSES(t *testing.T) {
	var sampleEvent, built map[string]any
	if err := json.Unmarshal(sample(t, "bounce-permanent.json", nil), &sampleEvent); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(Event(sampleMessage, time.Now()), &built); err != nil {
		t.Fatal(err)
	}
	documented := paths(sampleEvent, "")
	for _, p := range paths(built, "") {
		if !slices.Contains(documented, p) {
			t.Errorf("Event writes %s, which SES's bounce event does not have", p)
		}
	}
	for _, p := range []string{"id", "account", "region", "resources", "detail.bounce.feedbackId", "detail.mail.messageId", "detail.mail.timestamp"} {
		if !slices.Contains(paths(built, ""), p) {
			t.Errorf("Event lacks %s", p)
		}
	}
}

func TestEventIDsAreFresh(t *testing.T) {
	ids := map[string]bool{}
	for range 3 {
		var e struct{ ID string }
		if err := json.Unmarshal(Event(sampleMessage, time.Now()), &e); err != nil {
			t.Fatal(err)
		}
		if len(e.ID) != 36 || ids[e.ID] {
			t.Errorf("event id %q: want a fresh 36-character id", e.ID)
		}
		ids[e.ID] = true
	}
}

func merge(a, b map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

// lookup returns the value at a dotted path of decoded JSON, or nil.
func lookup(v any, path string) any {
	for len(path) > 0 {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		key, rest, _ := strings.Cut(path, ".")
		v, path = m[key], rest
	}
	return v
}

// paths lists the dotted paths of the object keys in decoded JSON, looking into the first
// element of arrays, sorted. The keys of mail.tags are values, not shape, and are skipped.
func paths(v any, prefix string) []string {
	var out []string
	switch v := v.(type) {
	case map[string]any:
		for k, child := range v {
			p := prefix + k
			out = append(out, p)
			if p != "detail.mail.tags" {
				out = append(out, paths(child, p+".")...)
			}
		}
	case []any:
		if len(v) > 0 {
			out = append(out, paths(v[0], prefix)...)
		}
	}
	sort.Strings(out)
	return out
}
