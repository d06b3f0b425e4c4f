package ses

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"

	"github.com/servicecontacts/servicecontacts/shared/contact"
	"github.com/servicecontacts/servicecontacts/shared/mail"
	"github.com/servicecontacts/servicecontacts/shared/ses/sestest"
)

// These tests speak the real SES v2 wire protocol to aws-ses-v2-local, which
// infra/make/with-ses-local starts under `make test` and names in SES_ENDPOINT.

const wireFrom = "no-reply@contacts.example.com"

func TestSESWireWithoutConfigurationSet(t *testing.T) {
	faults := sestest.NewFaults()
	to := sestest.UniqueAddress("plain")
	ses := New(sestest.EmulatorClient(t, faults), wireFrom, "")
	if err := ses.Send(context.Background(), mail.Message{To: to, Subject: "Réglé ✓", Text: "texte é", HTML: "<p>texte é</p>"}); err != nil {
		t.Fatal(err)
	}
	calls := faults.Calls()
	if len(calls) != 1 || bytes.Contains(calls[0], []byte("ConfigurationSetName")) || bytes.Contains(calls[0], []byte("EmailTags")) {
		t.Errorf("SendEmail calls %d, want 1 without ConfigurationSetName nor EmailTags (the message names no account)", len(calls))
	}
	got := sestest.EmulatorEmails(t, to)
	if len(got) != 1 || got[0].Subject != "Réglé ✓" || got[0].Body.Text != "texte é" || got[0].Body.HTML != "<p>texte é</p>" {
		t.Errorf("stored %+v, want the message with its accents intact", got)
	}
}

// The errors SES documents for SendEmail, as its wire protocol carries them, go through the
// SDK's own deserializer and then the adapter's classification.
func TestSESWireErrors(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		code       string
		failures   int
		wantErr    bool
		wantType   any
		wantKind   error
		wantReject bool
		wantCalls  int
	}{
		{name: "throttled once, the SDK retries", status: 429, code: "TooManyRequestsException", failures: 1, wantCalls: 2},
		{name: "throttled throughout", status: 429, code: "TooManyRequestsException", failures: -1, wantErr: true,
			wantType: new(*types.TooManyRequestsException), wantKind: contact.ErrUnavailable, wantCalls: 3},
		{name: "daily quota", status: 429, code: "LimitExceededException", failures: -1, wantErr: true,
			wantType: new(*types.LimitExceededException), wantKind: contact.ErrUnavailable},
		{name: "sending paused", status: 400, code: "SendingPausedException", failures: -1, wantErr: true,
			wantType: new(*types.SendingPausedException), wantKind: contact.ErrUnavailable, wantCalls: 1},
		{name: "address rejected", status: 400, code: "MessageRejected", failures: -1, wantErr: true,
			wantType: new(*types.MessageRejected), wantReject: true, wantCalls: 1},
		{name: "mail from not verified", status: 400, code: "MailFromDomainNotVerifiedException", failures: -1, wantErr: true,
			wantType: new(*types.MailFromDomainNotVerifiedException), wantReject: true, wantCalls: 1},
		{name: "account suspended", status: 400, code: "AccountSuspendedException", failures: -1, wantErr: true,
			wantType: new(*types.AccountSuspendedException), wantReject: true, wantCalls: 1},
		{name: "no such configuration set", status: 404, code: "NotFoundException", failures: -1, wantErr: true,
			wantType: new(*types.NotFoundException), wantCalls: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			faults := sestest.NewFaults()
			faults.Fail(tt.failures, tt.status, tt.code, nil)
			to := sestest.UniqueAddress("errors")
			err := New(sestest.EmulatorClient(t, faults), wireFrom, "").Send(context.Background(),
				mail.Message{To: to, Subject: "s", Text: "secret body", HTML: "<p>secret body</p>"})
			if tt.wantCalls > 0 && len(faults.Calls()) != tt.wantCalls {
				t.Errorf("%d SendEmail calls, want %d", len(faults.Calls()), tt.wantCalls)
			}
			stored := sestest.EmulatorEmails(t, to)
			if !tt.wantErr {
				if err != nil {
					t.Fatalf("Send: %v", err)
				}
				if len(stored) != 1 {
					t.Errorf("the emulator holds %d emails, want 1", len(stored))
				}
				return
			}
			if err == nil {
				t.Fatal("Send succeeded, want an error")
			}
			if len(stored) != 0 {
				t.Errorf("the emulator holds %d emails, want none", len(stored))
			}
			if !errors.As(err, tt.wantType) {
				t.Errorf("error %v: the SDK did not decode it as %T", err, tt.wantType)
			}
			var domainErr *contact.Error
			if tt.wantKind != nil {
				if !errors.Is(err, tt.wantKind) || !errors.As(err, &domainErr) || domainErr.Code != "mail_throttled" {
					t.Errorf("error %v: want a mail_throttled error of kind %v", err, tt.wantKind)
				}
			} else if errors.As(err, &domainErr) {
				t.Errorf("error %v wraps a domain error, want none", err)
			}
			if got := errors.Is(err, ErrRejected); got != tt.wantReject {
				t.Errorf("errors.Is(%v, ErrRejected) = %v, want %v", err, got, tt.wantReject)
			}
			if strings.Contains(err.Error(), "secret body") {
				t.Error("the error carries the message body")
			}
		})
	}
}
