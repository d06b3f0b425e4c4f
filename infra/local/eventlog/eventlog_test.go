package eventlog_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/servicecontacts/servicecontacts/api/events"
	"github.com/servicecontacts/servicecontacts/infra/local/eventlog"
	"github.com/servicecontacts/servicecontacts/shared/contact"
	"github.com/servicecontacts/servicecontacts/shared/eventbus"
)

var at = time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC)

func confirmed(id string, party string) contact.Announcement {
	return contact.Announcement{
		ID: id, Type: contact.ContactChangeConfirmed, At: at, By: party,
		RequestID: "0123456789abcdef0123456789abcdef", ServiceID: "example.com", ServiceType: "domain",
		Role: contact.Tech, From: "yy22222-ovh", To: "ww44444-ovh", RequestedBy: "xx11111-ovh",
		State: contact.Pending, Party: party,
	}
}

func envelopeIDs(events []eventbus.Event) []string {
	var out []string
	for _, e := range events {
		out = append(out, e.ID)
	}
	return out
}

func TestPublishKeepsOrderAndDropsRedeliveries(t *testing.T) {
	t.Parallel()
	l := eventlog.New()
	ctx := context.Background()
	a, b, c := confirmed("ev-a", "xx11111-ovh"), confirmed("ev-b", "ww44444-ovh"), confirmed("ev-c", "xx11111-ovh")
	steps := []struct {
		publish []contact.Announcement
		want    []string // the log after the step
	}{
		{[]contact.Announcement{a, b}, []string{"ev-a", "ev-b"}},
		{[]contact.Announcement{b}, []string{"ev-a", "ev-b"}},               // a redelivery
		{[]contact.Announcement{c, a, c}, []string{"ev-a", "ev-b", "ev-c"}}, // new and old mixed
	}
	for i, s := range steps {
		delivered, err := l.Publish(ctx, s.publish)
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		var want []string
		for _, e := range s.publish {
			want = append(want, e.ID)
		}
		if diff := cmp.Diff(want, delivered); diff != "" {
			t.Errorf("step %d: delivered (-want +got):\n%s", i, diff)
		}
		if diff := cmp.Diff(s.want, envelopeIDs(l.Events())); diff != "" {
			t.Errorf("step %d: log (-want +got):\n%s", i, diff)
		}
	}
	// The first delivery is kept, whatever a redelivery carries.
	changed := b
	changed.At = at.Add(time.Hour)
	if _, err := l.Publish(ctx, []contact.Announcement{changed}); err != nil {
		t.Fatal(err)
	}
	if got := l.Events()[1].Time; !got.Equal(at) {
		t.Errorf("ev-b is at %v after a redelivery, want %v", got, at)
	}
}

func TestPublishRefusesEventWithoutID(t *testing.T) {
	t.Parallel()
	l := eventlog.New()
	delivered, err := l.Publish(context.Background(), []contact.Announcement{confirmed("", "xx11111-ovh"), confirmed("ev-1", "xx11111-ovh")})
	if err == nil {
		t.Error("no error for an event without an id")
	}
	if diff := cmp.Diff([]string{"ev-1"}, delivered); diff != "" {
		t.Errorf("delivered (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"ev-1"}, envelopeIDs(l.Events())); diff != "" {
		t.Errorf("log (-want +got):\n%s", diff)
	}
}

func TestEventsAreInTheEnvelope(t *testing.T) {
	t.Parallel()
	l := eventlog.New()
	a := confirmed("ev-1", "ww44444-ovh")
	if _, err := l.Publish(context.Background(), []contact.Announcement{a}); err != nil {
		t.Fatal(err)
	}
	want := []eventbus.Event{eventbus.Envelope(a, "000000000000", "local")}
	if diff := cmp.Diff(want, l.Events()); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}

func get(t *testing.T, l *eventlog.Log, method, path string) *httptest.ResponseRecorder {
	t.Helper()
	w := httptest.NewRecorder()
	l.ServeHTTP(w, httptest.NewRequest(method, path, nil))
	return w
}

func TestServeHTTP(t *testing.T) {
	t.Parallel()
	l := eventlog.New()
	w := get(t, l, http.MethodGet, "/_local/events")
	if w.Code != http.StatusOK || w.Body.String() != "[]\n" {
		t.Errorf("empty log: %d %q, want 200 []", w.Code, w.Body.String())
	}
	first, second := confirmed("ev-1", "ww44444-ovh"), confirmed("ev-2", "xx11111-ovh")
	second.State = contact.Applying
	for _, a := range []contact.Announcement{first, second} {
		if _, err := l.Publish(context.Background(), []contact.Announcement{a}); err != nil {
			t.Fatal(err)
		}
	}
	w = get(t, l, http.MethodGet, "/_local/events")
	if w.Code != http.StatusOK || w.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("GET: %d %s", w.Code, w.Header().Get("Content-Type"))
	}
	var raw []json.RawMessage
	if err := json.Unmarshal(w.Body.Bytes(), &raw); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range raw {
		// Each one is an event as a subscriber on AWS gets it.
		if err := events.Validate(e); err != nil {
			t.Errorf("%s: %v", e, err)
		}
		var decoded eventbus.Event
		if err := json.Unmarshal(e, &decoded); err != nil {
			t.Fatal(err)
		}
		got = append(got, decoded.ID)
	}
	if diff := cmp.Diff([]string{"ev-1", "ev-2"}, got); diff != "" {
		t.Errorf("GET /_local/events, oldest first (-want +got):\n%s", diff)
	}

	for _, method := range []string{http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch} {
		w := get(t, l, method, "/_local/events")
		if w.Code != http.StatusMethodNotAllowed {
			t.Errorf("%s /_local/events: %d, want 405", method, w.Code)
		}
	}
	if n := len(l.Events()); n != 2 {
		t.Errorf("%d events after the refused calls, want 2", n)
	}
}

func TestConcurrentPublish(t *testing.T) {
	t.Parallel()
	l := eventlog.New()
	const writers, each = 8, 50
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				// Every writer delivers its own events and, twice over, a shared one.
				a := confirmed(fmt.Sprintf("ev-%d-%d", w, i), "xx11111-ovh")
				shared := confirmed(fmt.Sprintf("shared-%d", i), "xx11111-ovh")
				if _, err := l.Publish(context.Background(), []contact.Announcement{a, shared, shared}); err != nil {
					t.Error(err)
				}
				_ = l.Events()
			}
		})
	}
	wg.Wait()
	got := l.Events()
	if len(got) != writers*each+each {
		t.Errorf("%d events, want %d", len(got), writers*each+each)
	}
	seen := map[string]bool{}
	for _, e := range got {
		if seen[e.ID] {
			t.Errorf("%s is in the log twice", e.ID)
		}
		seen[e.ID] = true
	}
}

func TestWait(t *testing.T) {
	t.Parallel()
	l := eventlog.New()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := l.Publish(ctx, []contact.Announcement{confirmed("ev-1", "xx11111-ovh")}); err != nil {
		t.Fatal(err)
	}
	done := make(chan eventbus.Event)
	go func() {
		e, err := l.Wait(ctx, func(e eventbus.Event) bool { return e.Detail.Party == "ww44444-ovh" })
		if err != nil {
			t.Error(err)
		}
		done <- e
	}()
	if _, err := l.Publish(ctx, []contact.Announcement{confirmed("ev-2", "ww44444-ovh")}); err != nil {
		t.Fatal(err)
	}
	if e := <-done; e.ID != "ev-2" {
		t.Errorf("Wait found %s, want ev-2", e.ID)
	}
	// An event already in the log is found at once.
	e, err := l.Wait(ctx, func(e eventbus.Event) bool { return e.ID == "ev-1" })
	if err != nil || e.ID != "ev-1" {
		t.Errorf("Wait for ev-1 = %s, %v", e.ID, err)
	}

	short, stop := context.WithCancel(ctx)
	stop()
	if _, err := l.Wait(short, func(eventbus.Event) bool { return false }); err != context.Canceled {
		t.Errorf("Wait after cancel = %v, want context.Canceled", err)
	}
}
