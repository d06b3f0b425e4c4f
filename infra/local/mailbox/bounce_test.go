package mailbox

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/servicecontacts/servicecontacts/shared/bounce"
	"github.com/servicecontacts/servicecontacts/shared/mail"
)

func TestBounces(t *testing.T) {
	tests := []struct {
		address string
		want    bool
	}{
		{"dana@bounce.test", true},
		{"Dana@BOUNCE.Test", true},
		{"dana@eu.bounce.test", true},
		{"dana@bounce.test.", true},
		{"Dana <dana@bounce.test>", true},
		{"dana@example.com", false},
		{"dana@nobounce.test", false},
		{"dana@bounce.test.example.com", false},
		{"bounce.test@example.com", false},
		{"bounce.test", false},
		{"", false},
	}
	for _, tt := range tests {
		t.Run(tt.address, func(t *testing.T) {
			if got := Bounces(tt.address); got != tt.want {
				t.Errorf("Bounces(%q) = %v, want %v", tt.address, got, tt.want)
			}
		})
	}
}

// marker records the bounces the real bounce handler reports.
type marker struct {
	mu    sync.Mutex
	calls []string
}

func (m *marker) RecordBounce(_ context.Context, nic, address string, at time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls = append(m.calls, nic+" "+address+" "+at.Format(time.RFC3339Nano))
	return nil
}

var bounced = mail.Message{To: "dana@bounce.test", Subject: "Please confirm", Text: "token", HTML: "<p>token</p>",
	NIC: "ww44444-ovh", RequestID: "9f2c4e1a7b3d4c5e8f9a0b1c2d3e4f50"}

// A message to bounce.test is kept and listed, and its bounce, as SES would publish it,
// reaches the bounce handler, which marks the recipient's account.
func TestBounceReachesTheHandler(t *testing.T) {
	var logs bytes.Buffer
	b := newBox()
	b.log = slog.New(slog.NewJSONHandler(&logs, nil))
	m := &marker{}
	var events []json.RawMessage
	var mu sync.Mutex
	h := bounce.New(m, b.log)
	b.OnBounce(func(ctx context.Context, event json.RawMessage) error {
		mu.Lock()
		events = append(events, event)
		mu.Unlock()
		return h.Handle(ctx, event)
	})
	send(t, b, first, bounced, second)
	b.bouncing.Wait()

	if diff := cmp.Diff([]string{"ww44444-ovh dana@bounce.test 2025-03-01T09:30:01Z"}, m.calls); diff != "" {
		t.Errorf("bounces recorded (-want +got):\n%s", diff)
	}
	if len(events) != 1 {
		t.Fatalf("%d bounce events, want 1", len(events))
	}
	var e struct {
		Source     string `json:"source"`
		DetailType string `json:"detail-type"`
		Detail     struct {
			Bounce struct {
				BounceType        string `json:"bounceType"`
				BouncedRecipients []struct {
					EmailAddress string `json:"emailAddress"`
				} `json:"bouncedRecipients"`
			} `json:"bounce"`
			Mail struct {
				Tags map[string][]string `json:"tags"`
			} `json:"mail"`
		} `json:"detail"`
	}
	if err := json.Unmarshal(events[0], &e); err != nil {
		t.Fatal(err)
	}
	d := e.Detail
	if e.Source != "aws.ses" || e.DetailType != "Email Bounced" || d.Bounce.BounceType != "Permanent" ||
		len(d.Bounce.BouncedRecipients) != 1 || d.Bounce.BouncedRecipients[0].EmailAddress != bounced.To ||
		!isOnly(d.Mail.Tags["nic"], bounced.NIC) || !isOnly(d.Mail.Tags["request"], bounced.RequestID) {
		t.Errorf("bounce event %s: want SES's permanent bounce of the message, tagged with its NIC and request", events[0])
	}

	var listed []map[string]any
	if err := json.Unmarshal(serve(b, http.MethodGet, "/_local/mail").Body.Bytes(), &listed); err != nil {
		t.Fatal(err)
	}
	var flags []any
	for _, l := range listed {
		flags = append(flags, l["to"], l["bounced"])
	}
	if diff := cmp.Diff([]any{first.To, nil, bounced.To, true, second.To, nil}, flags); diff != "" {
		t.Errorf("GET /_local/mail: to and bounced (-want +got):\n%s", diff)
	}
	if strings.Contains(logs.String(), bounced.To) {
		t.Errorf("the logs name the address:\n%s", logs.String())
	}
}

// isOnly reports whether got holds want alone.
func isOnly(got []string, want string) bool { return len(got) == 1 && got[0] == want }

// A bounce that cannot be handled is logged; sending and listing go on.
func TestBounceFailureIsLogged(t *testing.T) {
	var logs bytes.Buffer
	b := newBox()
	b.log = slog.New(slog.NewJSONHandler(&logs, nil))
	b.OnBounce(func(context.Context, json.RawMessage) error { return errors.New("store unavailable") })
	if err := b.Send(context.Background(), bounced); err != nil {
		t.Fatalf("Send: %v, want nil whatever the bounce callback does", err)
	}
	b.bouncing.Wait()
	if got := b.Messages(); len(got) != 1 || !got[0].Bounced {
		t.Errorf("Messages = %+v, want the bounced message", got)
	}
	var entry map[string]any
	if err := json.Unmarshal(logs.Bytes(), &entry); err != nil {
		t.Fatalf("log %q: %v", logs.String(), err)
	}
	if entry["level"] != "WARN" || entry["err"] != "store unavailable" || entry["nic"] != bounced.NIC || entry["changeId"] != bounced.RequestID {
		t.Errorf("log entry %v: want a warning with the error, the NIC and the request", entry)
	}
	if strings.Contains(logs.String(), bounced.To) {
		t.Errorf("the logs name the address:\n%s", logs.String())
	}
}

// The bounce is reported apart from Send, as SES reports it, even once the sender's
// context has ended.
func TestBounceOutlivesTheSendersContext(t *testing.T) {
	b := newBox()
	ended := make(chan struct{})
	errc := make(chan error, 1)
	b.OnBounce(func(ctx context.Context, _ json.RawMessage) error {
		<-ended
		errc <- ctx.Err()
		return nil
	})
	ctx, cancel := context.WithCancel(context.Background())
	if err := b.Send(ctx, bounced); err != nil {
		t.Fatal(err)
	}
	cancel()
	close(ended)
	if err := <-errc; err != nil {
		t.Errorf("the bounce callback's context ended with the sender's: %v", err)
	}
	b.bouncing.Wait()
}

func TestNoBounceCallback(t *testing.T) {
	tests := []struct {
		name     string
		onBounce BounceFunc
	}{
		{name: "never set"},
		{name: "set, then removed", onBounce: func(context.Context, json.RawMessage) error {
			t.Error("the removed callback was called")
			return nil
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newBox()
			if tt.onBounce != nil {
				b.OnBounce(tt.onBounce)
				b.OnBounce(nil)
			}
			send(t, b, bounced)
			b.bouncing.Wait()
			if got := b.Messages(); len(got) != 1 || !got[0].Bounced {
				t.Errorf("Messages = %+v, want the bounced message", got)
			}
		})
	}
}

func TestUIShowsBounce(t *testing.T) {
	b := newBox()
	send(t, b, first)
	if page := serve(b, http.MethodGet, "/_local/mail/ui").Body.String(); strings.Contains(page, "<dt>Bounced</dt>") {
		t.Errorf("page shows a bounce for a message that did not bounce:\n%s", page)
	}
	send(t, b, bounced)
	if page := serve(b, http.MethodGet, "/_local/mail/ui").Body.String(); strings.Count(page, "<dt>Bounced</dt>") != 1 {
		t.Errorf("page does not show the one bounce:\n%s", page)
	}
}
