package storetest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"syscall"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// Fault is an error DynamoDB answers with, as its API reference documents it: an HTTP status
// and a JSON body whose __type names the exception.
type Fault struct {
	Status  int
	Type    string         // e.g. ProvisionedThroughputExceededException
	Message string         //
	Extra   map[string]any // further members, e.g. CancellationReasons
	// Unreachable makes the call fail before any answer, as a refused connection does.
	Unreachable bool
}

// The faults the store must survive.
var (
	Throttled = Fault{Status: 400, Type: "ProvisionedThroughputExceededException",
		Message: "The level of configured provisioned throughput for the table was exceeded."}
	RequestLimit = Fault{Status: 400, Type: "RequestLimitExceeded",
		Message: "Throughput exceeds the current throughput limit for your account."}
	ConditionFailed = Fault{Status: 400, Type: "ConditionalCheckFailedException",
		Message: "The conditional request failed"}
	// Refused is a connection DynamoDB's endpoint refuses.
	Refused = Fault{Unreachable: true}
)

// refusal is the error a dial to a closed port gives.
func refusal() error {
	return &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
}

// Cancelled is a TransactionCanceledException with one reason code per item of the
// transaction ("None" for an item that did not fail).
func Cancelled(codes ...string) Fault {
	reasons := make([]map[string]string, len(codes))
	for i, code := range codes {
		reasons[i] = map[string]string{"Code": code}
		if code != "None" {
			reasons[i]["Message"] = code
		}
	}
	return Fault{Status: 400, Type: "TransactionCanceledException",
		Message: "Transaction cancelled, please refer cancellation reasons for specific reasons [" + strings.Join(codes, ", ") + "]",
		Extra:   map[string]any{"CancellationReasons": reasons}}
}

// Faults sits between an SDK client and DynamoDB Local and answers chosen operations with a
// Fault instead of forwarding them, so the SDK's own error decoding and retries run. Only
// calls made with a context from Scope fail: work running beside the test is left alone.
type Faults struct {
	next  http.RoundTripper
	mu    sync.Mutex
	rules map[string]*rule // by operation name, e.g. "TransactWriteItems"
}

type rule struct {
	fault Fault
	times int // how many more calls fail; negative for every call
}

// NewFaults returns a Faults that forwards everything until told otherwise.
func NewFaults() *Faults {
	return &Faults{next: http.DefaultTransport, rules: map[string]*rule{}}
}

// Install makes a client's calls go through f.
func (f *Faults) Install(o *dynamodb.Options) {
	o.HTTPClient = &http.Client{Transport: f}
}

type scopeKey struct{}

// Scope marks ctx so that the calls made with it can fail.
func (f *Faults) Scope(ctx context.Context) context.Context {
	return context.WithValue(ctx, scopeKey{}, f)
}

// Fail makes the next times calls of operation answer fault; times < 0 means every call
// until Heal.
func (f *Faults) Fail(operation string, fault Fault, times int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rules[operation] = &rule{fault: fault, times: times}
}

// Heal forwards every call again.
func (f *Faults) Heal() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rules = map[string]*rule{}
}

// RoundTrip implements http.RoundTripper.
func (f *Faults) RoundTrip(req *http.Request) (*http.Response, error) {
	// The JSON protocol names the operation in X-Amz-Target: DynamoDB_20120810.GetItem.
	_, op, _ := strings.Cut(req.Header.Get("X-Amz-Target"), ".")
	if req.Context().Value(scopeKey{}) != f {
		return f.next.RoundTrip(req)
	}
	if fault, ok := f.take(op); ok {
		if req.Body != nil {
			_, _ = io.Copy(io.Discard, req.Body)
			_ = req.Body.Close()
		}
		if fault.Unreachable {
			return nil, refusal()
		}
		return fault.response(req), nil
	}
	return f.next.RoundTrip(req)
}

func (f *Faults) take(op string) (Fault, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.rules[op]
	if !ok || r.times == 0 {
		return Fault{}, false
	}
	if r.times > 0 {
		r.times--
	}
	return r.fault, true
}

func (fault Fault) response(req *http.Request) *http.Response {
	body := map[string]any{"__type": "com.amazonaws.dynamodb.v20120810#" + fault.Type, "message": fault.Message}
	for k, v := range fault.Extra {
		body[k] = v
	}
	if _, ok := fault.Extra["CancellationReasons"]; ok {
		// TransactionCanceledException spells its message with a capital M.
		delete(body, "message")
		body["Message"] = fault.Message
	}
	b, _ := json.Marshal(body) // plain maps of strings: never fails
	h := http.Header{}
	h.Set("Content-Type", "application/x-amz-json-1.0")
	h.Set("X-Amzn-Requestid", "FAULT0000000000000000000000000000000000000000000000")
	return &http.Response{
		Status: fmt.Sprintf("%d %s", fault.Status, http.StatusText(fault.Status)), StatusCode: fault.Status, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: h, Body: io.NopCloser(bytes.NewReader(b)), ContentLength: int64(len(b)), Request: req,
	}
}
