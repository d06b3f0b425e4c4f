// Package sestest is the test support of the SES v2 wire tests: a client of the
// aws-ses-v2-local emulator that infra/make/with-ses-local starts under `make test` and names
// in SES_ENDPOINT, with faults injected on its transport, and the emails it stored.
package sestest

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
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
)

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
	var out []StoredEmail
	for _, e := range StoredEmails(t) {
		for _, to := range e.Destination.To {
			if strings.EqualFold(to, address) {
				out = append(out, e)
				break
			}
		}
	}
	return out
}

// StoredEmails returns every email the emulator holds, oldest first.
func StoredEmails(t testing.TB) []StoredEmail {
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
	return store.Emails
}

// UniqueAddress returns an address no other test uses: the emulator's store is shared.
func UniqueAddress(name string) string {
	return strings.ToLower(name) + "-" + strings.ToLower(rand.Text()[:10]) + "@example.com"
}
