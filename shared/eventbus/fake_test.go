package eventbus_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/smithy-go"
)

// fakeBus plays EventBridge's PutEvents as its API reference describes it: at most 10
// entries and 256 KB a call, Source, DetailType and Detail (a JSON object) required of
// each entry, one result per entry in the order of the request, an EventId of its own for
// each accepted entry, ErrorCode and ErrorMessage for each failed one, FailedEntryCount.
type fakeBus struct {
	// failEntry, when set, names the error code EventBridge gives an entry, by the
	// entry's detail.eventId; "" accepts it.
	failEntry func(eventID string) string
	// failCall, when set, fails the n-th call (from 1) with the error it returns.
	failCall func(n int) error

	mu    sync.Mutex
	calls [][]types.PutEventsRequestEntry
	seq   int
}

func (f *fakeBus) PutEvents(ctx context.Context, in *eventbridge.PutEventsInput, _ ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f.calls = append(f.calls, append([]types.PutEventsRequestEntry(nil), in.Entries...))
	if f.failCall != nil {
		if err := f.failCall(len(f.calls)); err != nil {
			return nil, err
		}
	}
	if n := len(in.Entries); n < 1 || n > 10 {
		return nil, &smithy.GenericAPIError{Code: "ValidationException", Message: fmt.Sprintf("entries: %d, must be 1 to 10", n), Fault: smithy.FaultClient}
	}
	total := 0
	for _, e := range in.Entries {
		total += entrySize(e)
	}
	if total > 256*1024 {
		return nil, &smithy.GenericAPIError{Code: "ValidationException", Message: "total size of the entries in the request is over 256 KB", Fault: smithy.FaultClient}
	}
	out := &eventbridge.PutEventsOutput{}
	for _, e := range in.Entries {
		code, msg := f.check(e)
		if code != "" {
			out.FailedEntryCount++
			out.Entries = append(out.Entries, types.PutEventsResultEntry{ErrorCode: aws.String(code), ErrorMessage: aws.String(msg)})
			continue
		}
		f.seq++
		out.Entries = append(out.Entries, types.PutEventsResultEntry{EventId: aws.String(fmt.Sprintf("11111111-2222-3333-4444-%012d", f.seq))})
	}
	return out, nil
}

func (f *fakeBus) check(e types.PutEventsRequestEntry) (code, message string) {
	if aws.ToString(e.Source) == "" || aws.ToString(e.DetailType) == "" || e.Detail == nil {
		return "InvalidArgument", "Source, DetailType and Detail are required"
	}
	var detail map[string]any
	if err := json.Unmarshal([]byte(*e.Detail), &detail); err != nil {
		return "MalformedDetail", "Detail is malformed"
	}
	if entrySize(e) > 256*1024 {
		return "InvalidArgument", "entry is over 256 KB"
	}
	if f.failEntry != nil {
		id, _ := detail["eventId"].(string)
		if code := f.failEntry(id); code != "" {
			return code, "failed by the test"
		}
	}
	return "", ""
}

// entrySize counts an entry as EventBridge documents it.
func entrySize(e types.PutEventsRequestEntry) int {
	n := len(aws.ToString(e.Source)) + len(aws.ToString(e.DetailType)) + len(aws.ToString(e.Detail))
	if e.Time != nil {
		n += 14
	}
	for _, r := range e.Resources {
		n += len(r)
	}
	return n
}

func (f *fakeBus) Calls() [][]types.PutEventsRequestEntry {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([][]types.PutEventsRequestEntry(nil), f.calls...)
}
