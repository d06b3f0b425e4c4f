package contact

import (
	"context"
	"time"
)

// AnnouncementType names an event told to other systems (billing, the registry, a CRM): on
// AWS it is the EventBridge detail-type.
type AnnouncementType string

// The events the system publishes, one per transition of a request and one per change of a
// service's holders.
const (
	ContactChangeRequested AnnouncementType = "ContactChangeRequested"
	ContactChangeConfirmed AnnouncementType = "ContactChangeConfirmed" // one party accepted
	ContactChangeApplied   AnnouncementType = "ContactChangeApplied"
	ContactChangeRefused   AnnouncementType = "ContactChangeRefused"
	ContactChangeCancelled AnnouncementType = "ContactChangeCancelled"
	ContactChangeExpired   AnnouncementType = "ContactChangeExpired"
	ContactChangeFailed    AnnouncementType = "ContactChangeFailed"
	ServiceContactsChanged AnnouncementType = "ServiceContactsChanged"
)

// AnnouncementTypes lists every AnnouncementType, for those who must describe each one.
var AnnouncementTypes = []AnnouncementType{
	ContactChangeRequested, ContactChangeConfirmed, ContactChangeApplied, ContactChangeRefused,
	ContactChangeCancelled, ContactChangeExpired, ContactChangeFailed, ServiceContactsChanged,
}

// Announcement is one event for other systems. It names accounts by NIC handle only: never
// a token or an email address. It is kept, like an email, in the outbox of the write that
// owed it until it is published.
type Announcement struct {
	// ID is stable: the same on every delivery of the event.
	ID   string
	Type AnnouncementType
	At   time.Time
	// By caused it: a NIC handle, System, or an operator's principal.
	By string

	// The request it is about; RequestID is empty for an operator's change of a service.
	RequestID   string
	ServiceID   string
	ServiceType string
	Role        Role
	From        string
	To          string
	RequestedBy string
	State       State
	// Parties lists the required parties (ContactChangeRequested).
	Parties []string
	// Party is who accepted (ContactChangeConfirmed).
	Party string
	// Reason says why the request failed (ContactChangeFailed).
	Reason FailureCode
	// Before and After are the service's holders (ServiceContactsChanged): Before is nil
	// for a new service, After nil for a deleted one.
	Before map[Role]string
	After  map[Role]string

	// Delivery bookkeeping, as for Message: the write of version Owed publishes it at once;
	// others may from NextAt.
	Owed     int
	Attempts int
	NextAt   time.Time
}

// Publisher delivers announcements (to EventBridge on AWS, to the local event log locally).
// It returns the IDs of those it delivered; err says why the others were not.
type Publisher interface {
	Publish(ctx context.Context, events []Announcement) (delivered []string, err error)
}
