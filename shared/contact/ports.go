package contact

import (
	"context"
	"fmt"
	"time"
)

// Store persists accounts, services and change requests. The DynamoDB adapter in package
// store implements it, on AWS and on the embedded backend of the local stack alike.
//
// Errors: a missing item is an error wrapping ErrNotFound; a lost optimistic-locking race
// wraps ErrVersionConflict; throttling wraps ErrUnavailable.
type Store interface {
	Account(ctx context.Context, nic string) (Account, error)
	Service(ctx context.Context, id string) (Service, error)
	// Fetch reads what f names in one round trip, each item strongly consistent: what a
	// use case needs before it decides, which reads of their own would fetch one by one.
	Fetch(ctx context.Context, f Fetch) (Fetched, error)
	// ServicesOf pages through the services on which nic holds a role, ordered by id.
	ServicesOf(ctx context.Context, nic string, q ServiceQuery) (ServicePage, error)

	// CreateChanges writes the new requests at once, all or none, and counts uses as Count
	// does, with them: when a use would take its counter past its Max, nothing is written
	// and the error is a *LimitReached naming that use. Each request locks its (service,
	// role): the write fails with an error wrapping ErrConflict when the role is no longer
	// held by the request's From or already has an open request.
	CreateChanges(ctx context.Context, changes []Change, uses []Use) error
	Change(ctx context.Context, id string) (Change, error)
	// ChangesOf pages through the requests involving nic (see Change.Involved), newest first.
	ChangesOf(ctx context.Context, nic string, q ChangeQuery) (ChangePage, error)
	// SaveChange writes c if the stored version is still c.Version, and stores it with
	// Version+1. When c.State is terminal it also releases the role's lock, in the same
	// transaction, if c still holds it: a terminal save is never blocked by a role item that
	// is gone or locked by another request.
	SaveChange(ctx context.Context, c Change) (Change, error)
	// SaveBookkeeping writes c over the version it was read at, as SaveChange does, but
	// never touches the role's lock: it keeps a request's outbox and schedule, in any
	// state, an ended one included.
	SaveBookkeeping(ctx context.Context, c Change) (Change, error)
	// SetTaskToken stores the workflow's callback token of the party at index party of
	// request id, in one conditional write that also moves its version on, if that party
	// is nic and the request is pending with nothing owed (no message, event or answer to
	// send again): such a request is due at its expiry once a task shows its workflow runs
	// (see Change.schedule), and the write makes it so. It returns the request as stored;
	// in any other case it changes nothing and fails with an error wrapping ErrConflict.
	SetTaskToken(ctx context.Context, id string, party int, nic, taskToken string) (Change, error)
	// SaveCounted writes c as SaveBookkeeping does and counts uses as Count does, all or
	// none: a use past its Max writes nothing and fails with a *LimitReached.
	SaveCounted(ctx context.Context, c Change, uses []Use) (Change, error)
	// DueChanges returns the ids of up to limit requests whose DueAt is not after t, the
	// most overdue first, through an index of the requests that need looking at.
	DueChanges(ctx context.Context, t time.Time, limit int) ([]string, error)
	// ApplyChange, in one transaction: hands c.Role of c.ServiceID from c.From to c.To and
	// releases the lock, and saves c (whose State is Done) as SaveChange would. It fails,
	// changing nothing, with an error wrapping ErrConflict when the role is no longer held
	// by c.From, the request no longer holds the lock, the stored version moved, the
	// requester no longer holds c.Authority, the new holder's account is gone, or (for
	// billing) either billing account is no longer in good standing.
	ApplyChange(ctx context.Context, c Change) (Change, error)

	// ChangesOfService pages through the requests on a service, newest first.
	ChangesOfService(ctx context.Context, serviceID string, q ChangeQuery) (ChangePage, error)

	// The operator's edits. Each writes, in one transaction, the account or service and the
	// record of the edit (at version 1). PutService and DeleteService fail with an error
	// wrapping ErrConflict when a role's holder or lock is no longer what prev says
	// (prev.ID is empty when the service is new); the locks of open requests stay as they
	// were, for those requests to release when they end.
	PutAccount(ctx context.Context, a Account, rec Record) error
	PutService(ctx context.Context, s Service, prev Service, rec Record) error
	DeleteService(ctx context.Context, prev Service, rec Record) error
	// MarkBounced sets the account's BouncedAt if its email is still address; otherwise it
	// fails with an error wrapping ErrConflict.
	MarkBounced(ctx context.Context, nic, address string, at time.Time) error

	Record(ctx context.Context, id string) (Record, error)
	// SaveRecord writes rec over the version it was read at, and stores it with Version+1.
	SaveRecord(ctx context.Context, rec Record) (Record, error)
	// DueRecords returns the ids of up to limit records whose DueAt is not after t, the
	// most overdue first.
	DueRecords(ctx context.Context, t time.Time, limit int) ([]string, error)

	// CreateBatch writes a new batch at version 1; it fails with an error wrapping
	// ErrConflict when the id is taken.
	CreateBatch(ctx context.Context, b Batch) error
	Batch(ctx context.Context, id string) (Batch, error)
	// SaveBatch writes b over the version it was read at, and stores it with Version+1.
	SaveBatch(ctx context.Context, b Batch) (Batch, error)
	// DueBatches returns the ids of up to limit batches whose DueAt is not after t, the
	// most overdue first.
	DueBatches(ctx context.Context, t time.Time, limit int) ([]string, error)
	// Changes reads the requests with the given ids (at most MaxBatchServices×3), in that
	// order; those not found are left out.
	Changes(ctx context.Context, ids []string) ([]Change, error)

	// Count adds each use to its counter, atomically and all or none: when a use would
	// take its counter past its Max, nothing is counted and the error is a *LimitReached
	// naming that use. Counters with the same key in different windows are different
	// counters; a counter is forgotten after its window's End.
	Count(ctx context.Context, uses []Use) error
	// Counted returns the count of c (0 for a counter never used).
	Counted(ctx context.Context, c Counter) (int, error)
}

// Fetch names what Store.Fetch reads; a zero field names nothing.
type Fetch struct {
	Change   string   // a request's id
	Counter  Counter  // a counter, when its Key is set
	Service  string   // a service's id: the service and its roles, as Service reads them
	Accounts []string // NIC handles
}

// Fetched is what a Fetch found. A request or service that is not there is left zero (its
// ID empty), an account that is not there is missing from Accounts, and a counter never
// used counts 0.
type Fetched struct {
	Change   Change
	Count    int
	Service  Service
	Accounts map[string]Account
}

// ServiceQuery filters and pages ServicesOf.
type ServiceQuery struct {
	Role   Role   // only services where the account holds this role; empty for any
	Type   string // only services of this type; empty for any
	Limit  int
	Cursor string // opaque, from a previous page
}

// ServicePage is one page of services.
type ServicePage struct {
	Services   []Service
	NextCursor string // empty on the last page
}

// ChangeQuery filters and pages ChangesOf.
type ChangeQuery struct {
	State State // empty for any
	// Involves keeps only the requests involving this account; empty for any.
	Involves string
	Limit    int
	Cursor   string
}

// ChangePage is one page of change requests.
type ChangePage struct {
	Changes    []Change
	NextCursor string
}

// Workflow drives the per-request state machine. The Step Functions adapter in package
// workflow implements it; the local stack runs the same adapter against an in-process
// executor.
type Workflow interface {
	// Start begins waiting for c's parties. Starting twice for the same request is a no-op.
	Start(ctx context.Context, c Change) error
	// Continue reports that the party behind taskToken accepted.
	Continue(ctx context.Context, taskToken string) error
	// Stop ends the wait for the party behind taskToken because the request was refused
	// or cancelled (reason is Refused or Cancelled).
	Stop(ctx context.Context, taskToken string, reason State) error
	// Status reports where the request's workflow stands.
	Status(ctx context.Context, c Change) (WorkflowStatus, error)
}

// WorkflowStatus is where a request's workflow stands.
type WorkflowStatus string

const (
	WorkflowRunning   WorkflowStatus = "running"
	WorkflowSucceeded WorkflowStatus = "succeeded"
	// WorkflowStopped: the workflow failed, timed out or was aborted; it will do nothing more.
	WorkflowStopped WorkflowStatus = "stopped"
	// WorkflowMissing: no workflow was ever started for the request.
	WorkflowMissing WorkflowStatus = "missing"
)

// NoticeKind names the emails the system sends.
type NoticeKind string

const (
	// NoticeToken asks a party to confirm, and carries the party's token.
	NoticeToken NoticeKind = "token"
	// NoticeWaiting tells a party who accepted that the others have not yet.
	NoticeWaiting NoticeKind = "waiting"
	NoticeDone    NoticeKind = "done"
	// NoticeReplaced tells the previous holder that the role passed to someone else.
	NoticeReplaced  NoticeKind = "replaced"
	NoticeRefused   NoticeKind = "refused"
	NoticeCancelled NoticeKind = "cancelled"
	NoticeExpired   NoticeKind = "expired"
	NoticeFailed    NoticeKind = "failed"
	// NoticeBatchToken asks a party to confirm every request of a batch that needs them,
	// with one token for all of them.
	NoticeBatchToken NoticeKind = "batch_token"
	// NoticeBatchOutcome tells an account, once every request of a batch has ended, how
	// each of those that involve it ended: a batch's requests send no outcome email of
	// their own.
	NoticeBatchOutcome NoticeKind = "batch_outcome"
)

// Notice is one email to one account about one request.
type Notice struct {
	Kind   NoticeKind
	To     Account
	Change Change
	// Token is the recipient's confirmation token; set only for NoticeToken.
	Token string
	// Failure says why a request failed; set only for NoticeFailed.
	Failure Failure
	// Batch and Changes are set for the batch notices only (Change is then empty): the
	// batch, and those of its requests that concern the recipient, in the batch's order.
	Batch   Batch
	Changes []Change
}

// Failure says why an accepted change could not be applied. Notifiers word it in the
// recipient's language; String words it in English for the request's history.
type Failure struct {
	Code    FailureCode
	Role    Role   // the role the change was for
	Account string // the account concerned, for FailureAccountGone and FailureNotInGoodStanding
}

// FailureCode names a reason a change could not be applied.
type FailureCode string

// The reasons an accepted change may no longer apply when its turn comes.
const (
	FailureServiceGone       FailureCode = "service_gone"         // the service was deleted
	FailureContactChanged    FailureCode = "contact_changed"      // the role changed hands meanwhile
	FailureRoleLocked        FailureCode = "role_locked"          // another request holds the role
	FailureAccountGone       FailureCode = "account_gone"         // the new holder's account was closed
	FailureNotInGoodStanding FailureCode = "not_in_good_standing" // a billing account fell behind
	FailureAdminChanged      FailureCode = "admin_changed"        // the admin whose authority allowed it changed
	FailureAuthorityLost     FailureCode = "authority_lost"       // the requester no longer holds the role that allowed it
	FailureWorkflowLost      FailureCode = "workflow_lost"        // the workflow could not go on
)

// FailureCodes lists every FailureCode, for those who must word each one.
var FailureCodes = []FailureCode{
	FailureServiceGone, FailureContactChanged, FailureRoleLocked, FailureAccountGone, FailureNotInGoodStanding,
	FailureAdminChanged, FailureAuthorityLost, FailureWorkflowLost,
}

func (f Failure) String() string {
	switch f.Code {
	case FailureServiceGone:
		return "the service no longer exists"
	case FailureContactChanged:
		return fmt.Sprintf("the %s contact changed meanwhile", f.Role)
	case FailureRoleLocked:
		return fmt.Sprintf("the %s role is locked by another request", f.Role)
	case FailureAccountGone:
		return fmt.Sprintf("account %s no longer exists", f.Account)
	case FailureNotInGoodStanding:
		return fmt.Sprintf("account %s is no longer in good standing", f.Account)
	case FailureAdminChanged:
		return "the admin changed meanwhile"
	case FailureAuthorityLost:
		return fmt.Sprintf("%s no longer holds the %s role that allowed the request", f.Account, f.Role)
	case FailureWorkflowLost:
		return "the request could not be processed to the end; nothing was changed"
	}
	return string(f.Code)
}

// Notifier sends notices (by SES on AWS, to the mail catcher locally).
type Notifier interface {
	Notify(ctx context.Context, n Notice) error
}

// Clock tells the time; tests and the local stack may replace it.
type Clock func() time.Time
