package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/servicecontacts/servicecontacts/shared/contact"
)

// checkClass checks that err is of the class code names: "unavailable" or "throttled" (a
// *contact.Error of kind ErrUnavailable with that code and a retry hint), or "" (no kind at
// all, cause kept).
func checkClass(t *testing.T, err, cause error, code string) {
	t.Helper()
	var ce *contact.Error
	isError := errors.As(err, &ce)
	switch code {
	case "":
		if isError || errors.Is(err, contact.ErrUnavailable) {
			t.Errorf("got %v, want an error of no kind", err)
		}
	default:
		if !errors.Is(err, contact.ErrUnavailable) || !isError || ce.Code != code || ce.RetryAfter <= 0 {
			t.Errorf("got %v, want %s of kind %q with a retry hint", err, code, contact.ErrUnavailable)
		}
	}
	if code != "throttled" && cause != nil && !errors.Is(err, cause) {
		t.Errorf("got %v, which does not wrap its cause %v", err, cause)
	}
}

// An SDK error as the client returns it: the operation, then what went wrong.
func sdkError(op string, err error) error {
	return &smithy.OperationError{ServiceID: "DynamoDB", OperationName: op, Err: err}
}

func TestUnreachableClassification(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Addr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8000},
		Err: &os.SyscallError{Syscall: "connect", Err: syscall.ECONNREFUSED}}
	reset := &net.OpError{Op: "read", Net: "tcp", Err: &os.SyscallError{Syscall: "read", Err: syscall.ECONNRESET}}
	internal := &smithy.GenericAPIError{Code: "InternalServerError", Message: "Internal server error", Fault: smithy.FaultServer}
	validation := &smithy.GenericAPIError{Code: "ValidationException", Message: "One or more parameter values were invalid", Fault: smithy.FaultClient}
	tests := []struct {
		name string
		err  error
		code string // "unavailable", "throttled" or "" for no kind
	}{
		{"connection refused", sdkError("GetItem", &smithyhttp.RequestSendError{Err: refused}), "unavailable"},
		{"connection refused, bare", refused, "unavailable"},
		{"connection reset", sdkError("Query", &smithyhttp.RequestSendError{Err: reset}), "unavailable"},
		{"deadline exceeded", context.DeadlineExceeded, "unavailable"},
		{"deadline exceeded in the SDK", sdkError("GetItem", &smithy.CanceledError{Err: context.DeadlineExceeded}), "unavailable"},
		{"unexpected EOF", io.ErrUnexpectedEOF, "unavailable"},
		{"answer cut short", sdkError("GetItem", &smithy.DeserializationError{Err: fmt.Errorf("failed to decode response body, %w", io.ErrUnexpectedEOF)}), "unavailable"},
		{"server fault", internal, "unavailable"},
		{"server fault after the SDK's retries", sdkError("PutItem", &retry.MaxAttemptsError{Attempt: 3, Err: internal}), "unavailable"},
		{"the SDK's own InternalServerError", sdkError("GetItem", &types.InternalServerError{Message: aws.String("Internal server error")}), "unavailable"},
		{"provisioned throughput exceeded", &types.ProvisionedThroughputExceededException{Message: aws.String("slow down")}, "throttled"},
		{"throughput exceeded after the SDK's retries", sdkError("Query", &retry.MaxAttemptsError{Attempt: 3, Err: &types.ProvisionedThroughputExceededException{Message: aws.String("slow down")}}), "throttled"},
		{"throttling", &smithy.GenericAPIError{Code: "ThrottlingException", Message: "Rate exceeded", Fault: smithy.FaultClient}, "throttled"},
		{"validation", sdkError("Query", validation), ""},
		{"validation, bare", validation, ""},
		{"missing table", sdkError("GetItem", &types.ResourceNotFoundException{Message: aws.String("Requested resource not found")}), ""},
		{"unknown fault", &smithy.GenericAPIError{Code: "SomethingElse", Message: "?"}, ""},
	}
	// The classifiers the store's calls go through: every one gives the same class.
	classifiers := []struct {
		name     string
		classify func(error) error
		prefix   string
	}{
		{"wrap", func(err error) error { return wrap(err, "get account %s", "aa11111-ovh") }, "get account aa11111-ovh: "},
		{"transactionError", func(err error) error { return transactionError(err, true) }, ""},
		{"putError", putError, "put: "},
	}
	for _, tt := range tests {
		for _, c := range classifiers {
			t.Run(tt.name+"/"+c.name, func(t *testing.T) {
				got := c.classify(tt.err)
				checkClass(t, got, tt.err, tt.code)
				if c.prefix != "" && !strings.HasPrefix(got.Error(), c.prefix) {
					t.Errorf("got %q, want it to start with %q", got, c.prefix)
				}
			})
		}
	}
	for _, tt := range tests {
		if got := isUnreachable(tt.err); got != (tt.code == "unavailable") {
			t.Errorf("%s: isUnreachable %v, want %v", tt.name, got, !got)
		}
	}
}

// closedPort returns a loopback address nobody listens on: a port just freed.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return "http://" + addr
}

// hangingUp returns the address of a server that accepts connections and closes them
// without answering.
func hangingUp(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			_ = conn.Close()
		}
	}()
	return "http://" + l.Addr().String()
}

// answering returns the address of a server that answers every call with DynamoDB's error
// of the given type and status.
func answering(t *testing.T, status int, errorType string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		w.WriteHeader(status)
		_, _ = fmt.Fprintf(w, `{"__type":"com.amazonaws.dynamodb.v20120810#%s","message":"%s"}`, errorType, errorType)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// silent returns the address of a server that never answers.
func silent(t *testing.T) string {
	t.Helper()
	stop := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body) // then the server notices the client hang up
		select {
		case <-r.Context().Done():
		case <-stop:
		}
	}))
	t.Cleanup(func() {
		close(stop)
		srv.Close()
	})
	return srv.URL
}

// storeAt returns a store whose client calls endpoint once per operation: no SDK retries.
func storeAt(endpoint string) *Store {
	client := dynamodb.New(dynamodb.Options{
		Region:           "us-east-1",
		Credentials:      credentials.NewStaticCredentialsProvider("local", "local", ""),
		BaseEndpoint:     aws.String(endpoint),
		RetryMaxAttempts: 1,
	})
	return New(client, Tables{Contacts: "contacts", Requests: "requests"})
}

func TestUnreachableDynamoDB(t *testing.T) {
	tests := []struct {
		name     string
		endpoint func(t *testing.T) string
		code     string
	}{
		{"nobody listening", closedPort, "unavailable"},
		{"connection closed unanswered", hangingUp, "unavailable"},
		{"no answer in time", silent, "unavailable"},
		{"internal server error", func(t *testing.T) string { return answering(t, 500, "InternalServerError") }, "unavailable"},
		{"service unavailable", func(t *testing.T) string { return answering(t, 503, "ServiceUnavailable") }, "unavailable"},
		{"throttled", func(t *testing.T) string { return answering(t, 400, "ProvisionedThroughputExceededException") }, "throttled"},
		{"invalid call", func(t *testing.T) string { return answering(t, 400, "ValidationException") }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := storeAt(tt.endpoint(t))
			ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
			defer cancel()
			_, err := s.Account(ctx, "aa11111-ovh")
			if err == nil {
				t.Fatal("Account succeeded")
			}
			checkClass(t, err, nil, tt.code)
		})
	}
}

// TestEveryCallUnreachable makes every call of the store on a DynamoDB nobody can reach:
// each answers "unavailable", whatever path its error takes.
func TestEveryCallUnreachable(t *testing.T) {
	s := storeAt(closedPort(t))
	at := time.Date(2025, 3, 1, 9, 30, 0, 0, time.UTC)
	open := contact.Change{
		ID: "req-1", ServiceID: "example.com", ServiceType: "domain", Role: contact.Tech, From: "bb22222-ovh", To: "cc33333-ovh",
		RequestedBy: "aa11111-ovh", State: contact.Pending, CreatedAt: at, ExpiresAt: at.Add(time.Hour), Version: 1,
		Parties: []contact.Party{{NIC: "cc33333-ovh", Status: contact.Waiting, TokenHash: "h"}},
	}
	ended := open
	ended.State = contact.Cancelled
	done := open
	done.State = contact.Done
	ctx := context.Background()
	calls := []struct {
		name string
		call func() error
	}{
		{"Account", func() error { _, err := s.Account(ctx, "aa11111-ovh"); return err }},
		{"Service", func() error { _, err := s.Service(ctx, "example.com"); return err }},
		{"ServicesOf", func() error { _, err := s.ServicesOf(ctx, "aa11111-ovh", contact.ServiceQuery{}); return err }},
		{"CreateChanges", func() error { return s.CreateChanges(ctx, []contact.Change{open}, nil) }},
		{"Change", func() error { _, err := s.Change(ctx, "req-1"); return err }},
		{"ChangesOf", func() error { _, err := s.ChangesOf(ctx, "aa11111-ovh", contact.ChangeQuery{}); return err }},
		{"SaveChange of an open request", func() error { _, err := s.SaveChange(ctx, open); return err }},
		{"SaveChange of an ended request", func() error { _, err := s.SaveChange(ctx, ended); return err }},
		{"SaveBookkeeping", func() error { _, err := s.SaveBookkeeping(ctx, ended); return err }},
		{"DueChanges", func() error { _, err := s.DueChanges(ctx, at, 10); return err }},
		{"ApplyChange", func() error { _, err := s.ApplyChange(ctx, done); return err }},
		{"Load", func() error {
			return s.Load(ctx, Seed{Accounts: []SeedAccount{{NIC: "aa11111-ovh", Email: "a@example.com"}}})
		}},
		{"SetHolder", func() error { return s.SetHolder(ctx, "example.com", contact.Tech, "aa11111-ovh") }},
		{"SetStanding", func() error { return s.SetStanding(ctx, "aa11111-ovh", true) }},
	}
	for _, c := range calls {
		t.Run(c.name, func(t *testing.T) {
			err := c.call()
			if err == nil {
				t.Fatal("succeeded")
			}
			checkClass(t, err, nil, "unavailable")
		})
	}
}
