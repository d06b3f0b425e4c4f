package eventbridge_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	sdk "github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/smithy-go"

	"github.com/servicecontacts/servicecontacts/infra/local/eventbridge"
	"github.com/servicecontacts/servicecontacts/shared/contact"
	"github.com/servicecontacts/servicecontacts/shared/eventbus"
)

func serve(t *testing.T) (*eventbridge.Bus, *sdk.Client, string) {
	t.Helper()
	bus := eventbridge.New(slog.New(slog.DiscardHandler))
	srv := httptest.NewServer(bus)
	t.Cleanup(srv.Close)
	client := sdk.New(sdk.Options{
		BaseEndpoint: aws.String(srv.URL), Region: "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", ""),
	})
	return bus, client, srv.URL
}

// The system's own publisher, through the SDK's EventBridge client, delivers its events:
// each kept in order with its detail, time and bus, and each given an id of its own.
func TestPublisherThroughTheWire(t *testing.T) {
	bus, client, url := serve(t)
	at := time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)
	var sent []contact.Announcement
	for i, typ := range []contact.AnnouncementType{contact.ContactChangeRequested, contact.ContactChangeApplied} {
		sent = append(sent, contact.Announcement{ID: "ev" + string(rune('1'+i)), Type: typ, At: at, RequestID: "6f1c2a9e0b7d4c3f8e5a1b2c3d4e5f60", ServiceID: "example.com", Role: contact.Tech})
	}
	delivered, err := eventbus.New(client, "servicecontacts-local-events").Publish(context.Background(), sent)
	if err != nil || len(delivered) != 2 {
		t.Fatalf("publish: %v %v", delivered, err)
	}
	got := bus.Events()
	if len(got) != 2 {
		t.Fatalf("%d events kept, want 2", len(got))
	}
	for i, ev := range got {
		if ev.Source != eventbus.Source || ev.DetailType != string(sent[i].Type) || !ev.Time.Equal(at) || ev.Bus != "servicecontacts-local-events" {
			t.Errorf("event %d: %+v", i, ev)
		}
		if !strings.Contains(string(ev.Detail), "example.com") {
			t.Errorf("event %d: detail %s", i, ev.Detail)
		}
	}
	if got[0].ID == got[1].ID || got[0].ID == "" {
		t.Errorf("event ids %q and %q, want two ids", got[0].ID, got[1].ID)
	}

	resp, err := http.Get(url + "/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var listed []map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&listed); err != nil || len(listed) != 2 || listed[1]["detail-type"] != string(contact.ContactChangeApplied) {
		t.Errorf("GET /events: %v %v", listed, err)
	}
}

// An entry EventBridge refuses fails alone, with its code, in its place among the results.
func TestEntriesFailOneByOne(t *testing.T) {
	bus, client, _ := serve(t)
	out, err := client.PutEvents(context.Background(), &sdk.PutEventsInput{Entries: []types.PutEventsRequestEntry{
		{Source: aws.String("servicecontacts"), DetailType: aws.String("A"), Detail: aws.String(`{"a":1}`)},
		{Source: aws.String("servicecontacts"), DetailType: aws.String("B"), Detail: aws.String(`not json`)},
		{Source: aws.String("servicecontacts"), Detail: aws.String(`{}`)},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if out.FailedEntryCount != 2 || len(out.Entries) != 3 {
		t.Fatalf("%d failed of %d results, want 2 of 3", out.FailedEntryCount, len(out.Entries))
	}
	if aws.ToString(out.Entries[0].EventId) == "" || aws.ToString(out.Entries[1].ErrorCode) != "MalformedDetail" || aws.ToString(out.Entries[2].ErrorCode) != "InvalidArgument" {
		t.Errorf("results %+v %+v %+v", out.Entries[0], out.Entries[1], out.Entries[2])
	}
	if n := len(bus.Events()); n != 1 {
		t.Errorf("%d events kept, want 1", n)
	}
}

// A call of more than ten entries is refused whole, as a validation error the SDK names.
func TestTooManyEntries(t *testing.T) {
	bus, client, _ := serve(t)
	entries := make([]types.PutEventsRequestEntry, eventbridge.MaxEntries+1)
	for i := range entries {
		entries[i] = types.PutEventsRequestEntry{Source: aws.String("s"), DetailType: aws.String("d"), Detail: aws.String("{}")}
	}
	_, err := client.PutEvents(context.Background(), &sdk.PutEventsInput{Entries: entries})
	var api smithy.APIError
	if !errors.As(err, &api) || api.ErrorCode() != "ValidationException" {
		t.Fatalf("error %v, want a ValidationException", err)
	}
	if n := len(bus.Events()); n != 0 {
		t.Errorf("%d events kept, want none", n)
	}
}
