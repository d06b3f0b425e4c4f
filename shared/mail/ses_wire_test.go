package mail_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/servicecontacts/servicecontacts/shared/mail"
	"github.com/servicecontacts/servicecontacts/shared/ses"
	"github.com/servicecontacts/servicecontacts/shared/ses/sestest"
)

// TestSESWireEveryEmail sends every email, in every language, through the SES adapter to the
// SES v2 emulator, and reads back what it stored and what went over the wire.
const wireFrom = "no-reply@contacts.example.com"

func TestSESWireEveryEmail(t *testing.T) {
	faults := sestest.NewFaults()
	n := mail.NewNotifier(ses.New(sestest.EmulatorClient(t, faults), wireFrom, "contacts-events"), mail.BaseURL)
	wantTags := map[string][]wireTag{} // by recipient address
	for _, lang := range mail.AllLanguages {
		for _, kind := range mail.AllKinds {
			t.Run(string(kind)+"/"+string(lang), func(t *testing.T) {
				notice := mail.Notices(lang)[kind]
				notice.To.Email = sestest.UniqueAddress(string(kind) + "-" + string(lang))
				wantTags[notice.To.Email] = []wireTag{{"nic", notice.To.NIC}, {"request", mail.AboutID(notice)}}
				want, err := n.Render(notice)
				if err != nil {
					t.Fatal(err)
				}
				if err := n.Notify(context.Background(), notice); err != nil {
					t.Fatalf("Notify: %v", err)
				}
				got := sestest.EmulatorEmails(t, notice.To.Email)
				if len(got) != 1 {
					t.Fatalf("the emulator holds %d emails for the recipient, want 1", len(got))
				}
				e := got[0]
				if e.From != wireFrom {
					t.Errorf("from = %q, want %q", e.From, wireFrom)
				}
				if len(e.Destination.To) != 1 {
					t.Errorf("to = %q, want only the recipient", e.Destination.To)
				}
				if e.Subject != want.Subject {
					t.Errorf("subject = %q, want %q", e.Subject, want.Subject)
				}
				// Compare without printing: the bodies may hold a token.
				if e.Body.Text != want.Text {
					t.Errorf("the stored text body (%d bytes) differs from the rendered one (%d bytes)", len(e.Body.Text), len(want.Text))
				}
				if e.Body.HTML != want.HTML {
					t.Errorf("the stored HTML body (%d bytes) differs from the rendered one (%d bytes)", len(e.Body.HTML), len(want.HTML))
				}
				if mail.IsTokenKind(kind) && !strings.Contains(e.Body.Text, notice.Token) {
					t.Error("the stored token email lacks the token")
				}
			})
		}
	}

	// What went over the wire: the configuration set, the tags naming the recipient's
	// account and the request, and UTF-8 charsets.
	calls := faults.Calls()
	if len(calls) != len(mail.AllLanguages)*len(mail.AllKinds) {
		t.Fatalf("%d SendEmail calls, want %d", len(calls), len(mail.AllLanguages)*len(mail.AllKinds))
	}
	for _, body := range calls {
		var in struct {
			ConfigurationSetName string
			FromEmailAddress     string
			Destination          struct{ ToAddresses []string }
			EmailTags            []wireTag
			Content              struct {
				Simple struct {
					Subject struct{ Charset string }
					Body    struct{ Text, Html struct{ Charset string } }
				}
			}
		}
		if err := json.Unmarshal(body, &in); err != nil {
			t.Fatalf("SendEmail body is not JSON: %v", err)
		}
		s := in.Content.Simple
		if in.ConfigurationSetName != "contacts-events" || in.FromEmailAddress != wireFrom ||
			s.Subject.Charset != "UTF-8" || s.Body.Text.Charset != "UTF-8" || s.Body.Html.Charset != "UTF-8" {
			t.Errorf("SendEmail sent configuration set %q, from %q, charsets %q/%q/%q; want contacts-events, %s, UTF-8",
				in.ConfigurationSetName, in.FromEmailAddress, s.Subject.Charset, s.Body.Text.Charset, s.Body.Html.Charset, wireFrom)
		}
		if len(in.Destination.ToAddresses) != 1 {
			t.Fatalf("SendEmail sent to %d addresses, want 1", len(in.Destination.ToAddresses))
		}
		want := wantTags[in.Destination.ToAddresses[0]]
		if want == nil {
			t.Fatal("SendEmail sent to an address no notice named")
		}
		if diff := cmp.Diff(want, in.EmailTags); diff != "" {
			t.Errorf("SendEmail tags (-want +got):\n%s", diff)
		}
	}
}

// wireTag is a message tag as SendEmail's JSON carries it.
type wireTag struct{ Name, Value string }
