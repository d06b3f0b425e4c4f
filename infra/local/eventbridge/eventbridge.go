// Package eventbridge receives the events the functions publish when they run under the
// SAM CLI: EventBridge's PutEvents over its wire protocol (AWS JSON 1.1, X-Amz-Target
// AWSEvents.PutEvents), as its API reference describes it, keeping each accepted event for
// the tests and the developer to read (GET /events).
package eventbridge

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"
)

// Target is the X-Amz-Target of the one operation the Bus serves.
const Target = "AWSEvents.PutEvents"

// MaxEntries and MaxCallSize are PutEvents' quotas: 10 entries and 256 KB a call.
const (
	MaxEntries  = 10
	MaxCallSize = 256 * 1024
)

// Event is an event the Bus accepted, in the shape EventBridge delivers it to a rule's
// target.
type Event struct {
	ID         string          `json:"id"`
	Source     string          `json:"source"`
	DetailType string          `json:"detail-type"`
	Time       time.Time       `json:"time"`
	Resources  []string        `json:"resources"`
	Detail     json.RawMessage `json:"detail"`
	Bus        string          `json:"-"`
}

// Bus keeps the events put on it, in the order they came.
type Bus struct {
	log    *slog.Logger
	mu     sync.Mutex
	events []Event
}

// New returns an empty Bus that logs each call on log.
func New(log *slog.Logger) *Bus { return &Bus{log: log} }

// Events returns the events accepted so far, oldest first.
func (b *Bus) Events() []Event {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]Event(nil), b.events...)
}

// entry is a PutEventsRequestEntry; Time is in epoch seconds, as AWS JSON sends it.
type entry struct {
	Source       *string
	DetailType   *string
	Detail       *string
	Resources    []string
	Time         *float64
	EventBusName *string
	TraceHeader  *string
}

type result struct {
	EventId      string `json:",omitempty"`
	ErrorCode    string `json:",omitempty"`
	ErrorMessage string `json:",omitempty"`
}

// ServeHTTP answers PutEvents on POST and lists the events on GET /events.
func (b *Bus) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet && r.URL.Path == "/events" {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(b.Events())
		return
	}
	if r.Method != http.MethodPost || r.Header.Get("X-Amz-Target") != Target {
		fail(w, http.StatusBadRequest, "UnknownOperationException", "unknown operation "+r.Header.Get("X-Amz-Target"))
		return
	}
	var in struct{ Entries []entry }
	body := http.MaxBytesReader(w, r.Body, 2*MaxCallSize) // room for the JSON around the entries
	if err := json.NewDecoder(body).Decode(&in); err != nil {
		fail(w, http.StatusBadRequest, "SerializationException", "the request is not valid JSON: "+err.Error())
		return
	}
	if n := len(in.Entries); n < 1 || n > MaxEntries {
		fail(w, http.StatusBadRequest, "ValidationException", fmt.Sprintf("1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must have length between 1 and %d, got %d", MaxEntries, n))
		return
	}
	if size := callSize(in.Entries); size > MaxCallSize {
		fail(w, http.StatusBadRequest, "ValidationException", fmt.Sprintf("Total size of the entries in the request is over the limit: %d bytes", size))
		return
	}
	results, failed := b.put(in.Entries)
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	_ = json.NewEncoder(w).Encode(struct {
		FailedEntryCount int
		Entries          []result
	}{failed, results})
}

// put accepts each valid entry and fails each other one, as EventBridge does: one result
// per entry, in the order of the request.
func (b *Bus) put(entries []entry) ([]result, int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	results := make([]result, len(entries))
	failed := 0
	for i, e := range entries {
		code, msg := check(e)
		if code != "" {
			results[i] = result{ErrorCode: code, ErrorMessage: msg}
			failed++
			continue
		}
		ev := Event{
			ID: newID(), Source: *e.Source, DetailType: *e.DetailType, Time: time.Now().UTC().Truncate(time.Second),
			Resources: e.Resources, Detail: json.RawMessage(*e.Detail), Bus: "default",
		}
		if e.Time != nil {
			ev.Time = time.Unix(int64(*e.Time), 0).UTC()
		}
		if e.EventBusName != nil {
			ev.Bus = *e.EventBusName
		}
		if ev.Resources == nil {
			ev.Resources = []string{}
		}
		b.events = append(b.events, ev)
		results[i] = result{EventId: ev.ID}
		b.log.Info("event put", "bus", ev.Bus, "source", ev.Source, "detail_type", ev.DetailType, "event_id", ev.ID)
	}
	return results, failed
}

// check returns the error code and message EventBridge gives an entry it refuses.
func check(e entry) (code, msg string) {
	switch {
	case e.Source == nil || *e.Source == "":
		return "InvalidArgument", "Parameter Source is not valid. Reason: Source is a required argument."
	case e.DetailType == nil || *e.DetailType == "":
		return "InvalidArgument", "Parameter DetailType is not valid. Reason: DetailType is a required argument."
	case e.Detail == nil || *e.Detail == "":
		return "InvalidArgument", "Parameter Detail is not valid. Reason: Detail is a required argument."
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal([]byte(*e.Detail), &obj); err != nil {
		return "MalformedDetail", "Detail is malformed."
	}
	return "", ""
}

// callSize is the size PutEvents' quota counts: the UTF-8 bytes of Source, DetailType,
// Detail and each resource, and 14 for a Time.
func callSize(entries []entry) int {
	n := 0
	for _, e := range entries {
		for _, s := range []*string{e.Source, e.DetailType, e.Detail} {
			if s != nil {
				n += len(*s)
			}
		}
		for _, r := range e.Resources {
			n += len(r)
		}
		if e.Time != nil {
			n += 14
		}
	}
	return n
}

func fail(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": code, "message": msg})
}

// newID returns an event id in EventBridge's shape, a UUID.
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
