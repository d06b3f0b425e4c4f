package eventbus_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/google/go-cmp/cmp"

	"github.com/servicecontacts/servicecontacts/shared/contact"
	"github.com/servicecontacts/servicecontacts/shared/eventbus"
)

var at = time.Date(2025, 3, 14, 9, 26, 53, 589_000_000, time.UTC)

func requested(id string) contact.Announcement {
	return contact.Announcement{
		ID: id, Type: contact.ContactChangeRequested, At: at, By: "xx11111-ovh",
		RequestID: "0123456789abcdef0123456789abcdef", ServiceID: "example.com", ServiceType: "domain",
		Role: contact.Tech, From: "yy22222-ovh", To: "ww44444-ovh", RequestedBy: "xx11111-ovh",
		State: contact.Pending, Parties: []string{"xx11111-ovh", "ww44444-ovh"},
	}
}

func announcements(n int) []contact.Announcement {
	out := make([]contact.Announcement, n)
	for i := range out {
		out[i] = requested(fmt.Sprintf("ev-%02d", i))
	}
	return out
}

func ids(events []contact.Announcement) []string {
	var out []string
	for _, a := range events {
		out = append(out, a.ID)
	}
	return out
}

func TestPublishPutsEveryEventInOrderTenACall(t *testing.T) {
	t.Parallel()
	bus := &fakeBus{}
	events := announcements(23)
	delivered, err := eventbus.New(bus, "contacts-bus").Publish(context.Background(), events)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(ids(events), delivered); diff != "" {
		t.Errorf("delivered (-want +got):\n%s", diff)
	}
	calls := bus.Calls()
	var sizes []int
	var sent []string
	for _, call := range calls {
		sizes = append(sizes, len(call))
		for _, e := range call {
			var d eventbus.EventDetail
			if err := json.Unmarshal([]byte(aws.ToString(e.Detail)), &d); err != nil {
				t.Fatal(err)
			}
			sent = append(sent, d.EventID)
		}
	}
	if diff := cmp.Diff([]int{10, 10, 3}, sizes); diff != "" {
		t.Errorf("entries per call (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(ids(events), sent); diff != "" {
		t.Errorf("order sent (-want +got):\n%s", diff)
	}
}

func TestPublishEntry(t *testing.T) {
	t.Parallel()
	bus := &fakeBus{}
	a := requested("ev-1")
	if _, err := eventbus.New(bus, "arn:aws:events:eu-west-3:123456789012:event-bus/contacts").Publish(context.Background(), []contact.Announcement{a}); err != nil {
		t.Fatal(err)
	}
	e := bus.Calls()[0][0]
	got := map[string]any{
		"source": aws.ToString(e.Source), "detailType": aws.ToString(e.DetailType),
		"bus": aws.ToString(e.EventBusName), "time": aws.ToTime(e.Time), "resources": len(e.Resources),
	}
	want := map[string]any{
		"source": "servicecontacts", "detailType": "ContactChangeRequested",
		"bus": "arn:aws:events:eu-west-3:123456789012:event-bus/contacts", "time": at, "resources": 0,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("entry (-want +got):\n%s", diff)
	}
	var detail map[string]any
	if err := json.Unmarshal([]byte(aws.ToString(e.Detail)), &detail); err != nil {
		t.Fatal(err)
	}
	wantDetail := map[string]any{
		"eventId": "ev-1", "requestId": "0123456789abcdef0123456789abcdef", "serviceId": "example.com",
		"serviceType": "domain", "role": "tech", "from": "yy22222-ovh", "to": "ww44444-ovh",
		"requestedBy": "xx11111-ovh", "state": "pending", "parties": []any{"xx11111-ovh", "ww44444-ovh"},
		"by": "xx11111-ovh", "at": "2025-03-14T09:26:53.589Z",
	}
	if diff := cmp.Diff(wantDetail, detail); diff != "" {
		t.Errorf("detail (-want +got):\n%s", diff)
	}
}

func TestPublishWithoutEventsCallsNothing(t *testing.T) {
	t.Parallel()
	bus := &fakeBus{}
	delivered, err := eventbus.New(bus, "b").Publish(context.Background(), nil)
	if err != nil || len(delivered) != 0 || len(bus.Calls()) != 0 {
		t.Errorf("Publish(nil) = %v, %v after %d calls; want nothing", delivered, err, len(bus.Calls()))
	}
}

func TestPublishFailedEntries(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		codes       map[string]string // eventId -> error code
		unavailable bool
	}{
		{"throttled entry", map[string]string{"ev-03": "ThrottlingException"}, true},
		{"internal failure", map[string]string{"ev-11": "InternalFailure"}, true},
		{"refused entries", map[string]string{"ev-00": "NotAuthorizedForSourceException", "ev-12": "AccessDeniedException"}, false},
		{"some of each", map[string]string{"ev-01": "MalformedDetail", "ev-02": "ThrottlingException"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			bus := &fakeBus{failEntry: func(id string) string { return tt.codes[id] }}
			events := announcements(13)
			delivered, err := eventbus.New(bus, "b").Publish(context.Background(), events)
			var want []string
			for _, id := range ids(events) {
				if tt.codes[id] == "" {
					want = append(want, id)
				}
			}
			if diff := cmp.Diff(want, delivered); diff != "" {
				t.Errorf("delivered (-want +got):\n%s", diff)
			}
			if err == nil {
				t.Fatal("no error for failed entries")
			}
			for id, code := range tt.codes {
				if !strings.Contains(err.Error(), id) || !strings.Contains(err.Error(), code) {
					t.Errorf("error %q does not name %s and %s", err, id, code)
				}
			}
			if got := errors.Is(err, contact.ErrUnavailable); got != tt.unavailable {
				t.Errorf("errors.Is(%v, ErrUnavailable) = %v, want %v", err, got, tt.unavailable)
			}
		})
	}
}

func TestPublishFailedCall(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		err         error
		unavailable bool
	}{
		{"throttled", &types.ThrottlingException{Message: aws.String("Rate exceeded")}, true},
		{"internal error", &types.InternalException{Message: aws.String("oops")}, true},
		{"service unavailable", &awshttp.ResponseError{ResponseError: &smithyhttp.ResponseError{
			Response: &smithyhttp.Response{Response: &http.Response{StatusCode: http.StatusServiceUnavailable}},
			Err:      errors.New("service unavailable"),
		}}, true},
		{"unreachable", &smithyhttp.RequestSendError{Err: errors.New("connection refused")}, true},
		{"timed out", context.DeadlineExceeded, true},
		{"access denied", &smithy.GenericAPIError{Code: "AccessDeniedException", Message: "no", Fault: smithy.FaultClient}, false},
		{"bus gone", &types.ResourceNotFoundException{Message: aws.String("no such bus")}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// The second call fails: the first ten are delivered, the rest wait.
			bus := &fakeBus{failCall: func(n int) error {
				if n == 2 {
					return tt.err
				}
				return nil
			}}
			events := announcements(25)
			delivered, err := eventbus.New(bus, "b").Publish(context.Background(), events)
			if diff := cmp.Diff(ids(events[:10]), delivered); diff != "" {
				t.Errorf("delivered (-want +got):\n%s", diff)
			}
			if !errors.Is(err, tt.err) {
				t.Errorf("error %v does not wrap %v", err, tt.err)
			}
			if got := errors.Is(err, contact.ErrUnavailable); got != tt.unavailable {
				t.Errorf("errors.Is(%v, ErrUnavailable) = %v, want %v", err, got, tt.unavailable)
			}
			if n := len(bus.Calls()); n != 2 {
				t.Errorf("%d calls, want 2: a failed call stops the publication", n)
			}
		})
	}
}

// parties returns n distinct NIC handles.
func parties(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("pp%07d-ovh", i)
	}
	return out
}

func TestPublishSizeLimit(t *testing.T) {
	t.Parallel()
	// Each party adds 16 bytes to the detail: 17,000 of them make an entry over 256 KB,
	// 6,000 one of about 96 KB.
	huge := requested("huge")
	huge.Parties = parties(17_000)
	big := func(id string) contact.Announcement {
		a := requested(id)
		a.Parties = parties(6_000)
		return a
	}
	events := []contact.Announcement{big("big-1"), huge, big("big-2"), big("big-3"), requested("small")}
	bus := &fakeBus{}
	delivered, err := eventbus.New(bus, "b").Publish(context.Background(), events)
	if !errors.Is(err, eventbus.ErrTooLarge) || !strings.Contains(err.Error(), "huge") {
		t.Errorf("error %v does not say event huge is too large", err)
	}
	if errors.Is(err, contact.ErrUnavailable) {
		t.Errorf("error %v says to try again, which can never succeed", err)
	}
	if diff := cmp.Diff([]string{"big-1", "big-2", "big-3", "small"}, delivered); diff != "" {
		t.Errorf("delivered (-want +got):\n%s", diff)
	}
	var sizes []int
	for _, call := range bus.Calls() {
		sizes = append(sizes, len(call))
	}
	// Two big entries fit in one call, a third would take it over 256 KB.
	if diff := cmp.Diff([]int{2, 2}, sizes); diff != "" {
		t.Errorf("entries per call (-want +got):\n%s", diff)
	}
}

func TestPublishStopsWhenContextEnds(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	delivered, err := eventbus.New(&fakeBus{}, "b").Publish(ctx, announcements(3))
	if len(delivered) != 0 || !errors.Is(err, context.Canceled) {
		t.Errorf("Publish after cancel = %v, %v; want nothing delivered and context.Canceled", delivered, err)
	}
}
