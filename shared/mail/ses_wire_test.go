package mail

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/google/go-cmp/cmp"

	"github.com/servicecontacts/servicecontacts/shared/contact"
)

// These tests speak the real SES v2 wire protocol to aws-ses-v2-local, which
// infra/make/with-ses-local starts under `make test` and names in SES_ENDPOINT.

// SESEndpoint returns the emulator's address, or skips the test outside `make test`.
func SESEndpoint(t testing.TB) string {
	t.Helper()
	endpoint := os.Getenv("SES_ENDPOINT")
	if endpoint == "" {
		t.Skip("SES_ENDPOINT is not set: run under infra/make/with-ses-local (make test does) to test against aws-ses-v2-local")
	}
	return strings.TrimRight(endpoint, "/")
}

// EmulatorClient is an SES v2 client of the emulator, configured as on AWS but for the
// endpoint and credentials. Its retries back off briefly, to keep the tests quick.
func EmulatorClient(t testing.TB, transport *Faults) *sesv2.Client {
	t.Helper()
	return sesv2.New(sesv2.Options{
		BaseEndpoint: aws.String(SESEndpoint(t)),
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDLOCAL", "local-secret", ""),
		HTTPClient:   &http.Client{Transport: transport, Timeout: 30 * time.Second},
		Retryer: retry.NewStandard(func(o *retry.StandardOptions) {
			o.Backoff = retry.NewExponentialJitterBackoff(50 * time.Millisecond)
		}),
	})
}

// Faults sits between the SDK and the emulator. It keeps the JSON of every SendEmail call
// and, when told to, answers SendEmail with an SES error instead of passing it on, as SES
// v2 does: the status, the error type in x-amzn-ErrorType, and a JSON body with a message.
type Faults struct {
	mu     sync.Mutex
	next   http.RoundTripper
	fail   int // SendEmail calls left to fail; negative: all of them
	status int
	code   string
	match  func(body []byte) bool
	calls  [][]byte
}

// NewFaults returns a transport that passes everything on.
func NewFaults() *Faults { return &Faults{next: http.DefaultTransport} }

// Fail makes the next n SendEmail calls (every one when n < 0) whose body match accepts
// (nil: all) fail with the HTTP status and SES error code given.
func (f *Faults) Fail(n, status int, code string, match func(body []byte) bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail, f.status, f.code, f.match = n, status, code, match
}

// Calls returns the bodies of the SendEmail calls so far, failed ones included.
func (f *Faults) Calls() [][]byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([][]byte(nil), f.calls...)
}

func (f *Faults) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method != http.MethodPost || req.URL.Path != "/v2/email/outbound-emails" {
		return f.next.RoundTrip(req)
	}
	body, err := io.ReadAll(req.Body)
	_ = req.Body.Close()
	if err != nil {
		return nil, err
	}
	req.Body = io.NopCloser(bytes.NewReader(body))

	f.mu.Lock()
	f.calls = append(f.calls, body)
	inject := f.fail != 0 && (f.match == nil || f.match(body))
	if inject && f.fail > 0 {
		f.fail--
	}
	status, code := f.status, f.code
	f.mu.Unlock()

	if !inject {
		return f.next.RoundTrip(req)
	}
	msg, _ := json.Marshal(map[string]string{"message": "injected " + code})
	return &http.Response{
		Status:     fmt.Sprintf("%d %s", status, http.StatusText(status)),
		StatusCode: status,
		Proto:      "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{
			"Content-Type":     {"application/json"},
			"X-Amzn-Errortype": {code + ":http://internal.amazon.com/coral/com.amazonaws.sesv2/"},
			"X-Amzn-Requestid": {"00000000-0000-0000-0000-000000000000"},
		},
		Body:          io.NopCloser(bytes.NewReader(msg)),
		ContentLength: int64(len(msg)),
		Request:       req,
	}, nil
}

// StoredEmail is an email as the emulator keeps it (GET /store).
type StoredEmail struct {
	MessageID   string `json:"messageId"`
	From        string `json:"from"`
	Destination struct {
		To []string `json:"to"`
	} `json:"destination"`
	Subject string `json:"subject"`
	Body    struct {
		HTML string `json:"html"`
		Text string `json:"text"`
	} `json:"body"`
}

// EmulatorEmails returns the emails the emulator holds for address, oldest first.
func EmulatorEmails(t testing.TB, address string) []StoredEmail {
	t.Helper()
	resp, err := http.Get(SESEndpoint(t) + "/store")
	if err != nil {
		t.Fatalf("read the emulator's store: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /store: %s", resp.Status)
	}
	var store struct {
		Emails []StoredEmail `json:"emails"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&store); err != nil {
		t.Fatalf("decode the emulator's store: %v", err)
	}
	var out []StoredEmail
	for _, e := range store.Emails {
		for _, to := range e.Destination.To {
			if strings.EqualFold(to, address) {
				out = append(out, e)
				break
			}
		}
	}
	return out
}

// UniqueAddress returns an address no other test uses: the emulator's store is shared.
func UniqueAddress(name string) string {
	return strings.ToLower(name) + "-" + strings.ToLower(rand.Text()[:10]) + "@example.com"
}

const wireFrom = "no-reply@contacts.example.com"

func TestSESWireEveryEmail(t *testing.T) {
	faults := NewFaults()
	n := NewNotifier(NewSES(EmulatorClient(t, faults), wireFrom, "contacts-events"), baseURL)
	wantTags := map[string][]wireTag{} // by recipient address
	for _, lang := range allLanguages {
		for _, kind := range allKinds {
			t.Run(string(kind)+"/"+string(lang), func(t *testing.T) {
				notice := notices(lang)[kind]
				notice.To.Email = UniqueAddress(string(kind) + "-" + string(lang))
				wantTags[notice.To.Email] = []wireTag{{"nic", notice.To.NIC}, {"request", aboutID(notice)}}
				want, err := n.Render(notice)
				if err != nil {
					t.Fatal(err)
				}
				if err := n.Notify(context.Background(), notice); err != nil {
					t.Fatalf("Notify: %v", err)
				}
				got := EmulatorEmails(t, notice.To.Email)
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
				if isTokenKind(kind) && !strings.Contains(e.Body.Text, notice.Token) {
					t.Error("the stored token email lacks the token")
				}
			})
		}
	}

	// What went over the wire: the configuration set, the tags naming the recipient's
	// account and the request, and UTF-8 charsets.
	calls := faults.Calls()
	if len(calls) != len(allLanguages)*len(allKinds) {
		t.Fatalf("%d SendEmail calls, want %d", len(calls), len(allLanguages)*len(allKinds))
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

func TestSESWireWithoutConfigurationSet(t *testing.T) {
	faults := NewFaults()
	to := UniqueAddress("plain")
	ses := NewSES(EmulatorClient(t, faults), wireFrom, "")
	if err := ses.Send(context.Background(), Message{To: to, Subject: "Réglé ✓", Text: "texte é", HTML: "<p>texte é</p>"}); err != nil {
		t.Fatal(err)
	}
	calls := faults.Calls()
	if len(calls) != 1 || bytes.Contains(calls[0], []byte("ConfigurationSetName")) || bytes.Contains(calls[0], []byte("EmailTags")) {
		t.Errorf("SendEmail calls %d, want 1 without ConfigurationSetName nor EmailTags (the message names no account)", len(calls))
	}
	got := EmulatorEmails(t, to)
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
			faults := NewFaults()
			faults.Fail(tt.failures, tt.status, tt.code, nil)
			to := UniqueAddress("errors")
			err := NewSES(EmulatorClient(t, faults), wireFrom, "").Send(context.Background(),
				Message{To: to, Subject: "s", Text: "secret body", HTML: "<p>secret body</p>"})
			if tt.wantCalls > 0 && len(faults.Calls()) != tt.wantCalls {
				t.Errorf("%d SendEmail calls, want %d", len(faults.Calls()), tt.wantCalls)
			}
			stored := EmulatorEmails(t, to)
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
