package contact_test

import (
	"context"
	"sync"
	"time"

	"github.com/servicecontacts/servicecontacts/shared/contact"
)

// fakeClock is the Manager's clock: it stands still until a test moves it.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock on by d and returns the new time.
func (c *fakeClock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	return c.now
}

// wfCall is one call the Manager made on the workflow.
type wfCall struct {
	Op        string // "start", "continue", "stop", "status"
	ChangeID  string // for start and status
	TaskToken string // for continue and stop
	Reason    contact.State
}

// fakeWorkflow is a contact.Workflow whose answers the tests choose through its func
// fields; nil fields succeed (and Status answers contact.WorkflowRunning). It records
// every call.
type fakeWorkflow struct {
	StartFunc    func(ctx context.Context, c contact.Change) error
	ContinueFunc func(ctx context.Context, taskToken string) error
	StopFunc     func(ctx context.Context, taskToken string, reason contact.State) error
	StatusFunc   func(ctx context.Context, c contact.Change) (contact.WorkflowStatus, error)

	mu    sync.Mutex
	calls []wfCall
}

var _ contact.Workflow = (*fakeWorkflow)(nil)

func (w *fakeWorkflow) record(c wfCall) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.calls = append(w.calls, c)
}

func (w *fakeWorkflow) Start(ctx context.Context, c contact.Change) error {
	w.record(wfCall{Op: "start", ChangeID: c.ID})
	if w.StartFunc != nil {
		return w.StartFunc(ctx, c)
	}
	return nil
}

func (w *fakeWorkflow) Continue(ctx context.Context, taskToken string) error {
	w.record(wfCall{Op: "continue", TaskToken: taskToken})
	if w.ContinueFunc != nil {
		return w.ContinueFunc(ctx, taskToken)
	}
	return nil
}

func (w *fakeWorkflow) Stop(ctx context.Context, taskToken string, reason contact.State) error {
	w.record(wfCall{Op: "stop", TaskToken: taskToken, Reason: reason})
	if w.StopFunc != nil {
		return w.StopFunc(ctx, taskToken, reason)
	}
	return nil
}

func (w *fakeWorkflow) Status(ctx context.Context, c contact.Change) (contact.WorkflowStatus, error) {
	w.record(wfCall{Op: "status", ChangeID: c.ID})
	if w.StatusFunc != nil {
		return w.StatusFunc(ctx, c)
	}
	return contact.WorkflowRunning, nil
}

// Calls returns the calls so far of the given operations (all of them when none is named).
func (w *fakeWorkflow) Calls(ops ...string) []wfCall {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []wfCall
	for _, c := range w.calls {
		if len(ops) == 0 || contains(ops, c.Op) {
			out = append(out, c)
		}
	}
	return out
}

// Answers returns the task answers so far (continue and stop), in order.
func (w *fakeWorkflow) Answers() []wfCall { return w.Calls("continue", "stop") }

// sentNotice is one Notify call: what was asked, and what the notifier answered.
type sentNotice struct {
	Kind     contact.NoticeKind
	To       string // the recipient's NIC handle
	Email    string
	ChangeID string
	State    contact.State // the request's state as the notice saw it
	Token    string
	Failure  contact.Failure
	// BatchID and Changes are set for the batch notices: the requests they list.
	BatchID string
	Changes []string
	Err     error
}

// fakeNotifier is a contact.Notifier that records every notice. NotifyFunc, when set,
// decides what each call answers.
type fakeNotifier struct {
	NotifyFunc func(ctx context.Context, n contact.Notice) error

	mu       sync.Mutex
	attempts []sentNotice
}

var _ contact.Notifier = (*fakeNotifier)(nil)

func (f *fakeNotifier) Notify(ctx context.Context, n contact.Notice) error {
	var err error
	if f.NotifyFunc != nil {
		err = f.NotifyFunc(ctx, n)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.attempts = append(f.attempts, sentNotice{
		Kind: n.Kind, To: n.To.NIC, Email: n.To.Email, ChangeID: n.Change.ID, State: n.Change.State,
		Token: n.Token, Failure: n.Failure, BatchID: n.Batch.ID, Changes: idsOf(n.Changes), Err: err,
	})
	return err
}

// Attempts returns every Notify call so far, failed ones included.
func (f *fakeNotifier) Attempts() []sentNotice {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]sentNotice(nil), f.attempts...)
}

// Sent returns the notices that went out (the notifier answered nil).
func (f *fakeNotifier) Sent() []sentNotice {
	var out []sentNotice
	for _, n := range f.Attempts() {
		if n.Err == nil {
			out = append(out, n)
		}
	}
	return out
}

// Of returns the sent notices about request id, of kind (any kind when empty).
func (f *fakeNotifier) Of(id string, kind contact.NoticeKind) []sentNotice {
	var out []sentNotice
	for _, n := range f.Sent() {
		if n.ChangeID == id && (kind == "" || n.Kind == kind) {
			out = append(out, n)
		}
	}
	return out
}

// Recipients counts, by NIC handle, the sent notices of kind about request id.
func (f *fakeNotifier) Recipients(id string, kind contact.NoticeKind) map[string]int {
	out := map[string]int{}
	for _, n := range f.Of(id, kind) {
		out[n.To]++
	}
	return out
}

// Token returns the latest token emailed to nic for request id, "" if none.
func (f *fakeNotifier) Token(id, nic string) string {
	token := ""
	for _, n := range f.Of(id, contact.NoticeToken) {
		if n.To == nic {
			token = n.Token
		}
	}
	return token
}

func idsOf(changes []contact.Change) []string {
	var ids []string
	for _, c := range changes {
		ids = append(ids, c.ID)
	}
	return ids
}

// OfBatch returns the sent notices about batch id, of kind.
func (f *fakeNotifier) OfBatch(id string, kind contact.NoticeKind) []sentNotice {
	var out []sentNotice
	for _, n := range f.Sent() {
		if n.BatchID == id && n.Kind == kind {
			out = append(out, n)
		}
	}
	return out
}

// BatchToken returns the latest batch token emailed to nic for batch id, "" if none.
func (f *fakeNotifier) BatchToken(id, nic string) string {
	token := ""
	for _, n := range f.OfBatch(id, contact.NoticeBatchToken) {
		if n.To == nic {
			token = n.Token
		}
	}
	return token
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// fakePublisher is a contact.Publisher that keeps what it was given, as EventBridge would
// deliver it: nothing runs EventBridge here. PublishFunc, when set, decides which events of
// each call are delivered and what the call answers.
type fakePublisher struct {
	PublishFunc func(events []contact.Announcement) (delivered []string, err error)

	mu        sync.Mutex
	published []contact.Announcement
	calls     int
}

var _ contact.Publisher = (*fakePublisher)(nil)

func (f *fakePublisher) Publish(ctx context.Context, events []contact.Announcement) ([]string, error) {
	var delivered []string
	var err error
	if f.PublishFunc != nil {
		delivered, err = f.PublishFunc(events)
	} else {
		for _, a := range events {
			delivered = append(delivered, a.ID)
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	for _, a := range events {
		if contains(delivered, a.ID) {
			f.published = append(f.published, a)
		}
	}
	return delivered, err
}

// Published returns the events delivered so far, once each, in the order first delivered:
// what a consumer that drops repeated ids sees.
func (f *fakePublisher) Published() []contact.Announcement {
	f.mu.Lock()
	defer f.mu.Unlock()
	seen := map[string]bool{}
	var out []contact.Announcement
	for _, a := range f.published {
		if !seen[a.ID] {
			seen[a.ID] = true
			out = append(out, a)
		}
	}
	return out
}

// Types lists the types of the events delivered about subject (a request id, or a service
// id for ServiceContactsChanged), in order.
func (f *fakePublisher) Types(subject string) []contact.AnnouncementType {
	var out []contact.AnnouncementType
	for _, a := range f.Published() {
		if a.RequestID == subject || (a.RequestID == "" && a.ServiceID == subject) {
			out = append(out, a.Type)
		}
	}
	return out
}
