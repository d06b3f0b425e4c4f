// Package eventlog is the local stack's stand-in for the EventBridge bus: it keeps every
// event published, in EventBridge's envelope, and lists them at GET /_local/events.
package eventlog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"

	"github.com/servicecontacts/servicecontacts/shared/contact"
	"github.com/servicecontacts/servicecontacts/shared/eventbus"
)

// The account and region the local events name, as EventBridge's envelope would.
const (
	Account = "000000000000"
	Region  = "local"
)

// Log keeps events in memory, oldest first. It is safe for concurrent use.
type Log struct {
	handler http.Handler

	mu     sync.Mutex
	events []eventbus.Event
	seen   map[string]bool
	// arrived is closed, and replaced, whenever an event arrives.
	arrived chan struct{}
}

var _ contact.Publisher = (*Log)(nil)

// New returns an empty log.
func New() *Log {
	l := &Log{seen: map[string]bool{}, arrived: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /_local/events", l.serveJSON)
	l.handler = mux
	return l
}

// Publish appends events to the log in order, each in the envelope with its stable id as
// the envelope's id. An event already in the log is not added again, so a redelivery is
// harmless, and is reported delivered. An event without an id is refused.
func (l *Log) Publish(ctx context.Context, events []contact.Announcement) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	var delivered []string
	var errs []error
	added := false
	for _, a := range events {
		if a.ID == "" {
			errs = append(errs, fmt.Errorf("event %s has no id", a.Type))
			continue
		}
		delivered = append(delivered, a.ID)
		if l.seen[a.ID] {
			continue
		}
		l.seen[a.ID] = true
		l.events = append(l.events, eventbus.Envelope(a, Account, Region))
		added = true
	}
	if added {
		close(l.arrived)
		l.arrived = make(chan struct{})
	}
	return delivered, errors.Join(errs...)
}

// Events returns the events published so far, oldest first.
func (l *Log) Events() []eventbus.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]eventbus.Event(nil), l.events...)
}

// Wait returns the oldest event, already published or still to come, for which match
// returns true. It gives up with ctx's error when ctx ends first.
func (l *Log) Wait(ctx context.Context, match func(eventbus.Event) bool) (eventbus.Event, error) {
	seen := 0
	for {
		l.mu.Lock()
		fresh := l.events[seen:]
		seen = len(l.events)
		arrived := l.arrived
		l.mu.Unlock()
		// The log only grows, so fresh is never written again.
		for _, e := range fresh {
			if match(e) {
				return e, nil
			}
		}
		select {
		case <-arrived:
		case <-ctx.Done():
			return eventbus.Event{}, ctx.Err()
		}
	}
}

// ServeHTTP serves GET /_local/events: the events as a JSON array, oldest first.
func (l *Log) ServeHTTP(w http.ResponseWriter, r *http.Request) { l.handler.ServeHTTP(w, r) }

func (l *Log) serveJSON(w http.ResponseWriter, r *http.Request) {
	events := l.Events()
	if events == nil {
		events = []eventbus.Event{} // [] rather than null
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if err := json.NewEncoder(w).Encode(events); err != nil {
		slog.WarnContext(r.Context(), "write local event list", "err", err)
	}
}
