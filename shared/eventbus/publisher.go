package eventbus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/servicecontacts/servicecontacts/shared/contact"
)

// PutEventsAPI is the EventBridge method the publisher calls.
type PutEventsAPI interface {
	PutEvents(ctx context.Context, in *eventbridge.PutEventsInput, optFns ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error)
}

// EventBridge's limits on one PutEvents call.
const (
	// MaxEntries is the most entries one call takes.
	MaxEntries = 10
	// MaxEntrySize is the most an entry may weigh, counted as EventBridge counts it: the
	// UTF-8 bytes of Source, DetailType, Detail and each resource, and 14 for Time.
	MaxEntrySize = 256 * 1024
	timeSize     = 14
)

// ErrTooLarge is the error for an event whose entry is over MaxEntrySize: EventBridge
// would refuse it on every try.
var ErrTooLarge = errors.New("event over EventBridge's 256 KB entry limit")

// Publisher publishes announcements on an EventBridge bus.
//
// EventBridge assigns every event an id of its own: a PutEventsRequestEntry has Source,
// DetailType, Detail, Resources, Time, EventBusName and TraceHeader, and no id. The
// announcement's stable id therefore travels in the detail, as detail.eventId, which is
// the same on every delivery of the event while the envelope's id is not.
type Publisher struct {
	api PutEventsAPI
	bus string
}

var _ contact.Publisher = (*Publisher)(nil)

// New returns a publisher that puts events on the bus named busName (a name or an ARN).
func New(api PutEventsAPI, busName string) *Publisher {
	return &Publisher{api: api, bus: busName}
}

// Publish puts events on the bus, up to MaxEntries a call, in order. It returns the ids of
// those EventBridge accepted. The others are left undelivered and err says why: an event
// over MaxEntrySize is never sent (ErrTooLarge); an entry EventBridge failed, or a call
// that failed, is reported with its error code; throttling and EventBridge's own faults
// wrap contact.ErrUnavailable, so that the caller tries again later. A failed call stops
// the publication: the events after it are left for the next try.
func (p *Publisher) Publish(ctx context.Context, events []contact.Announcement) ([]string, error) {
	var delivered []string
	var errs []error
	var batch []contact.Announcement
	var entries []types.PutEventsRequestEntry
	size := 0
	// flush sends the batch, and reports a failed call; failed entries go to errs.
	flush := func() error {
		if len(entries) == 0 {
			return nil
		}
		ids, failed, err := p.put(ctx, batch, entries)
		delivered = append(delivered, ids...)
		errs = append(errs, failed...)
		batch, entries, size = nil, nil, 0
		return err
	}
	for _, a := range events {
		entry, n, err := p.entry(a)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		// The call's entries stay under the entry limit together too, as EventBridge
		// asks of a batch.
		if len(entries) == MaxEntries || size+n > MaxEntrySize {
			if err := flush(); err != nil {
				return delivered, errors.Join(append(errs, err)...)
			}
		}
		batch, entries, size = append(batch, a), append(entries, entry), size+n
	}
	if err := flush(); err != nil {
		errs = append(errs, err)
	}
	return delivered, errors.Join(errs...)
}

// entry returns a's PutEvents entry and its size.
func (p *Publisher) entry(a contact.Announcement) (types.PutEventsRequestEntry, int, error) {
	detail, err := json.Marshal(Detail(a))
	if err != nil {
		return types.PutEventsRequestEntry{}, 0, fmt.Errorf("encode event %s: %w", a.ID, err)
	}
	e := types.PutEventsRequestEntry{
		Source:     aws.String(Source),
		DetailType: aws.String(string(a.Type)),
		Detail:     aws.String(string(detail)),
	}
	n := len(Source) + len(a.Type) + len(detail)
	if !a.At.IsZero() { // without it, EventBridge stamps the time of the call
		e.Time = aws.Time(a.At.UTC())
		n += timeSize
	}
	if p.bus != "" {
		e.EventBusName = aws.String(p.bus)
	}
	if n > MaxEntrySize {
		return types.PutEventsRequestEntry{}, 0, fmt.Errorf("event %s (%s) is %d bytes: %w", a.ID, a.Type, n, ErrTooLarge)
	}
	return e, n, nil
}

// put sends one call. It returns the ids of the events EventBridge accepted, the errors
// of the entries it failed, and err when the call itself failed.
func (p *Publisher) put(ctx context.Context, batch []contact.Announcement, entries []types.PutEventsRequestEntry) (delivered []string, failed []error, err error) {
	out, err := p.api.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: entries})
	if err != nil {
		return nil, nil, fmt.Errorf("put %d events on bus %s: %w", len(entries), p.bus, classify(err))
	}
	// EventBridge answers one result per entry, in the order of the request.
	if len(out.Entries) != len(entries) {
		return nil, nil, fmt.Errorf("put %d events on bus %s: %d results: %w", len(entries), p.bus, len(out.Entries), errUnavailable("events_unconfirmed", "EventBridge did not report on every event"))
	}
	for i, r := range out.Entries {
		a := batch[i]
		// A failed entry has an error code, an accepted one EventBridge's event id.
		code := aws.ToString(r.ErrorCode)
		if code == "" && aws.ToString(r.EventId) != "" {
			delivered = append(delivered, a.ID)
			continue
		}
		err := fmt.Errorf("event %s (%s) failed: %s: %s", a.ID, a.Type, code, aws.ToString(r.ErrorMessage))
		if retryableEntry[code] || code == "" {
			err = fmt.Errorf("%w: %w", errUnavailable("events_throttled", "EventBridge did not take the event ("+code+")"), err)
		}
		failed = append(failed, err)
	}
	return delivered, failed, nil
}

// The per-entry error codes EventBridge documents as worth retrying.
var retryableEntry = map[string]bool{
	"InternalFailure":     true,
	"ThrottlingException": true,
}

func errUnavailable(code, message string) *contact.Error {
	return &contact.Error{Kind: contact.ErrUnavailable, Code: code, Message: message, RetryAfter: 1}
}

// classify wraps a failed call's error with contact.ErrUnavailable when the same call may
// well succeed a moment later: throttling, EventBridge's own faults, a call that never got
// an answer. It keeps err in the chain.
func classify(err error) error {
	var api smithy.APIError
	var resp *awshttp.ResponseError
	var send *smithyhttp.RequestSendError
	var netErr net.Error
	switch {
	case errors.As(err, &api) && (api.ErrorCode() == "ThrottlingException" || api.ErrorCode() == "Throttling"):
		return fmt.Errorf("%w: %w", errUnavailable("events_throttled", "EventBridge is throttling"), err)
	case errors.As(err, &resp) && resp.HTTPStatusCode() >= 500,
		errors.As(err, &api) && api.ErrorFault() == smithy.FaultServer,
		errors.As(err, &send), errors.As(err, &netErr),
		errors.Is(err, context.DeadlineExceeded), errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("%w: %w", errUnavailable("events_unavailable", "EventBridge could not be reached"), err)
	}
	return err
}
