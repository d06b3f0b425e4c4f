package contact

import (
	"context"
	"errors"
	"time"
)

// The operator's use cases: the provider's own systems keep accounts and services current,
// and support staff act on any request. By is the operator's principal (an IAM ARN on AWS);
// it is recorded in every history entry and record the call writes.

// AccountPatch changes some fields of an account; nil fields stay as they are.
type AccountPatch struct {
	Email        *string
	Language     *Language
	GoodStanding *bool
}

// ChangeSearch filters and pages the support's view of requests: by service, by account
// (any involvement), or both; State optionally narrows either.
type ChangeSearch struct {
	ServiceID string
	NIC       string
	State     State
	Limit     int
	Cursor    string
}

// Record is an operator's change of an account or a service: the trail of the provider's
// own edits, and the outbox of what the edit owes (the events it publishes, the open
// requests it ends).
type Record struct {
	ID      string
	At      time.Time
	By      string
	Subject RecordSubject
	Key     string // the NIC handle or the service id
	Action  RecordAction
	// Changes says, in words and without any email address, what the edit changed.
	Changes []string
	// Ends lists the open requests the edit ends, with Reason; cleared once they ended.
	Ends   []string
	Reason Failure
	Events []Announcement
	// DueAt is when the reconciler must look at the record again; zero once it owes nothing.
	DueAt   time.Time
	Version int
}

// RecordSubject says what a record is about.
type RecordSubject string

const (
	SubjectAccount RecordSubject = "account"
	SubjectService RecordSubject = "service"
)

// RecordAction says what an operator did.
type RecordAction string

const (
	ActionCreated RecordAction = "created"
	ActionUpdated RecordAction = "updated"
	ActionDeleted RecordAction = "deleted"
)

var errTodo = errors.New("not yet")

// PutAccount creates or replaces an account. It reports whether anything changed: a
// repeated call changes nothing and records nothing.
func (m *Manager) PutAccount(ctx context.Context, by string, a Account) (Account, bool, error) {
	return Account{}, false, errTodo
}

// PatchAccount changes some fields of an existing account.
func (m *Manager) PatchAccount(ctx context.Context, by, nic string, p AccountPatch) (Account, bool, error) {
	return Account{}, false, errTodo
}

// PutService creates a service or corrects its type and holders (s.ID, s.Type, s.Contacts);
// open requests on a role whose holder this changes end failed.
func (m *Manager) PutService(ctx context.Context, by string, s Service) (Service, bool, error) {
	return Service{}, false, errTodo
}

// DeleteService removes a service; its open requests end failed (service gone) and their
// parties are told. Deleting a service that is gone changes nothing.
func (m *Manager) DeleteService(ctx context.Context, by, id string) (bool, error) {
	return false, errTodo
}

// FindChanges is support's view of the requests, by service or by account.
func (m *Manager) FindChanges(ctx context.Context, q ChangeSearch) (ChangePage, error) {
	return ChangePage{}, errTodo
}

// ChangeByID returns any request, whoever is involved.
func (m *Manager) ChangeByID(ctx context.Context, id string) (Change, error) {
	return Change{}, errTodo
}

// CancelFor cancels an open request on support's decision, giving reason.
func (m *Manager) CancelFor(ctx context.Context, by, id, reason string) (Change, error) {
	return Change{}, errTodo
}

// ResendFor resends a request's tokens on a party's behalf, with the limits of Resend.
func (m *Manager) ResendFor(ctx context.Context, by, id string) (Change, error) {
	return Change{}, errTodo
}

// RecordBounce marks address, the email of nic, as bouncing, and says so in the history of
// each open request where nic is a party who has not answered.
func (m *Manager) RecordBounce(ctx context.Context, nic, address string, at time.Time) error {
	return errTodo
}
