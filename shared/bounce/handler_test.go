package bounce

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/servicecontacts/servicecontacts/shared/contact"
	"github.com/servicecontacts/servicecontacts/shared/mail"
)

// mark is one RecordBounce call.
type mark struct {
	NIC, Address string
	At           time.Time
}

// marks records the RecordBounce calls and answers them with err.
type marks struct {
	calls []mark
	err   error
}

func (m *marks) RecordBounce(_ context.Context, nic, address string, at time.Time) error {
	m.calls = append(m.calls, mark{nic, address, at})
	return m.err
}

const (
	sampleNIC     = "nn44444-ovh"
	sampleRequest = "9f2c4e1a7b3d4c5e8f9a0b1c2d3e4f50"
	sampleAddress = "newbie@example.com"
)

// sampleMessage is the email the samples are about.
var sampleMessage = mail.Message{To: sampleAddress, Subject: "Please confirm", Text: "text", HTML: "<p>html</p>", NIC: sampleNIC, RequestID: sampleRequest}

// sample returns testdata/name, edited by edit (nil: as it is). An edit gets the event
// decoded into maps and its detail.
func sample(t *testing.T, name string, edit func(event, detail map[string]any)) json.RawMessage {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	if edit == nil {
		return raw
	}
	var event map[string]any
	if err := json.Unmarshal(raw, &event); err != nil {
		t.Fatal(err)
	}
	edit(event, event["detail"].(map[string]any))
	out, err := json.Marshal(event)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func object(m map[string]any, key string) map[string]any { return m[key].(map[string]any) }

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestHandle(t *testing.T) {
	bounceAt := at("2025-03-01T09:31:01.669Z")
	hardBounce := mark{sampleNIC, sampleAddress, bounceAt}
	errStore := errors.New("store unavailable")
	tests := []struct {
		name      string
		event     func(t *testing.T) json.RawMessage
		markerErr error
		want      []mark
		wantErr   error // errAny: some error
	}{
		{name: "permanent bounce marks the recipient", event: file("bounce-permanent.json", nil), want: []mark{hardBounce}},
		{name: "transient bounce is not marked", event: file("bounce-transient.json", nil)},
		{name: "undetermined bounce is not marked", event: file("bounce-permanent.json", func(_, d map[string]any) {
			object(d, "bounce")["bounceType"], object(d, "bounce")["bounceSubType"] = "Undetermined", "Undetermined"
		})},
		{name: "complaint marks the recipient", event: file("complaint.json", nil),
			want: []mark{{sampleNIC, sampleAddress, at("2025-03-01T10:02:02.669Z")}}},
		{name: "not-spam report is not marked", event: file("complaint.json", func(_, d map[string]any) {
			object(d, "complaint")["complaintFeedbackType"] = "not-spam"
		})},
		{name: "delivery is not marked", event: file("delivery.json", nil)},
		{name: "without a nic tag nothing is marked", event: file("bounce-permanent.json", func(_, d map[string]any) {
			delete(object(object(d, "mail"), "tags"), mail.TagNIC)
		})},
		{name: "without any tag nothing is marked", event: file("bounce-permanent.json", func(_, d map[string]any) {
			delete(object(d, "mail"), "tags")
		})},
		{name: "without a request tag the recipient is marked", event: file("bounce-permanent.json", func(_, d map[string]any) {
			delete(object(object(d, "mail"), "tags"), mail.TagRequest)
		}), want: []mark{hardBounce}},
		{name: "no bounced recipient: the destination is marked", event: file("bounce-permanent.json", func(_, d map[string]any) {
			object(d, "bounce")["bouncedRecipients"] = []any{}
		}), want: []mark{hardBounce}},
		{name: "redacted complaint: the destination is marked", event: file("complaint.json", func(_, d map[string]any) {
			delete(object(d, "complaint"), "complainedRecipients")
		}), want: []mark{{sampleNIC, sampleAddress, at("2025-03-01T10:02:02.669Z")}}},
		{name: "no address at all: nothing is marked", event: file("bounce-permanent.json", func(_, d map[string]any) {
			object(d, "bounce")["bouncedRecipients"] = []any{map[string]any{"emailAddress": ""}}
			object(d, "mail")["destination"] = []any{}
		})},
		{name: "every bounced recipient is marked", event: file("bounce-permanent.json", func(_, d map[string]any) {
			object(d, "bounce")["bouncedRecipients"] = []any{
				map[string]any{"emailAddress": sampleAddress}, map[string]any{"emailAddress": "second@example.com"},
			}
		}), want: []mark{hardBounce, {sampleNIC, "second@example.com", bounceAt}}},
		{name: "without a bounce timestamp, the event's time", event: file("bounce-permanent.json", func(_, d map[string]any) {
			delete(object(d, "bounce"), "timestamp")
		}), want: []mark{{sampleNIC, sampleAddress, at("2025-03-01T09:31:02Z")}}},
		{name: "an event from elsewhere is ignored", event: file("bounce-permanent.json", func(e, _ map[string]any) {
			e["source"] = "servicecontacts"
		})},
		{name: "a Marker error is returned", event: file("bounce-permanent.json", nil), markerErr: errStore,
			want: []mark{hardBounce}, wantErr: errStore},
		{name: "an account gone is not an error", event: file("bounce-permanent.json", nil),
			markerErr: contact.Errorf(contact.ErrNotFound, "account_not_found", "account %s not found", sampleNIC), want: []mark{hardBounce}},
		{name: "an event that is not JSON is an error", event: func(*testing.T) json.RawMessage { return json.RawMessage(`{"source":`) }, wantErr: errAny},
		{name: "a detail that is not an SES record is an error", event: file("bounce-permanent.json", func(e, _ map[string]any) {
			e["detail"] = "Bounce"
		}), wantErr: errAny},
		{name: "another detail-type is ignored", event: file("bounce-permanent.json", func(e, _ map[string]any) {
			e["detail-type"] = "Email Delivered"
		})},
		{name: "a bounce detail-type over a record of another type is not marked", event: file("delivery.json", func(e, _ map[string]any) {
			e["detail-type"] = "Email Bounced"
		})},
		{name: "an encoded nic tag is decoded", event: file("bounce-permanent.json", func(_, d map[string]any) {
			object(object(d, "mail"), "tags")[mail.TagNIC] = []any{mail.TagValue("nn 44444_ovh")}
		}), want: []mark{{"nn 44444_ovh", sampleAddress, bounceAt}}},
		{name: "a nic tag mail did not encode marks nobody", event: file("bounce-permanent.json", func(_, d map[string]any) {
			object(object(d, "mail"), "tags")[mail.TagNIC] = []any{"nn_4"}
		})},
		{name: "Event: a hard bounce marks the recipient",
			event: func(*testing.T) json.RawMessage { return Event(sampleMessage, bounceAt) },
			want:  []mark{hardBounce}},
		{name: "Event: a soft bounce is not marked",
			event: func(*testing.T) json.RawMessage { return event(sampleMessage, bounceAt, false) }},
		{name: "Event: without a nic nothing is marked",
			event: func(*testing.T) json.RawMessage {
				return Event(mail.Message{To: sampleAddress, RequestID: sampleRequest}, bounceAt)
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			m := &marks{err: tt.markerErr}
			h := New(m, slog.New(slog.NewJSONHandler(&logs, nil)))
			err := h.Handle(context.Background(), tt.event(t))
			switch {
			case tt.wantErr == nil && err != nil:
				t.Fatalf("Handle: %v", err)
			case tt.wantErr == errAny && err == nil, tt.wantErr != nil && tt.wantErr != errAny && !errors.Is(err, tt.wantErr):
				t.Fatalf("Handle error = %v, want %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, m.calls); diff != "" {
				t.Errorf("RecordBounce calls (-want +got):\n%s", diff)
			}
			for _, leak := range []string{sampleAddress, "second@example.com"} {
				if strings.Contains(logs.String(), leak) || err != nil && strings.Contains(err.Error(), leak) {
					t.Errorf("the logs or the error name the address %s:\n%s%v", leak, logs.String(), err)
				}
			}
			if len(tt.want) > 0 && tt.wantErr == nil && !strings.Contains(logs.String(), `"nic":"`+tt.want[0].NIC+`"`) {
				t.Errorf("the logs do not name the account:\n%s", logs.String())
			}
		})
	}
}

// file returns the event of testdata/name, edited as sample does.
func file(name string, edit func(event, detail map[string]any)) func(*testing.T) json.RawMessage {
	return func(t *testing.T) json.RawMessage { return sample(t, name, edit) }
}

// errAny stands for "some error" in the tables.
var errAny = fmt.Errorf("any error")

// The log of a marked bounce names the account and the request, which is how an operator
// follows it.
func TestHandleLogsNICAndRequest(t *testing.T) {
	var logs bytes.Buffer
	h := New(&marks{}, slog.New(slog.NewJSONHandler(&logs, nil)))
	if err := h.Handle(context.Background(), sample(t, "bounce-permanent.json", nil)); err != nil {
		t.Fatal(err)
	}
	var entry map[string]any
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &entry); err != nil {
		t.Fatalf("log %q: %v", logs.String(), err)
	}
	for key, want := range map[string]string{"nic": sampleNIC, "changeId": sampleRequest, "eventType": "Bounce", "event": "c3d4e5f6-a7b8-9012-cdef-123456789012"} {
		if entry[key] != want {
			t.Errorf("log %s = %v, want %s (entry %v)", key, entry[key], want, entry)
		}
	}
}
