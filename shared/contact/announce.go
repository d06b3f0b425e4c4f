package contact

import (
	"context"
	"fmt"
	"maps"
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

// announced says which event each step of the lifecycle publishes. The last acceptance
// (StepApplying, taken with the party's StepAccepted) publishes nothing of its own: the
// party's ContactChangeConfirmed says it, and ContactChangeApplied follows.
var announced = map[Step]AnnouncementType{
	StepCreated:   ContactChangeRequested,
	StepAccepted:  ContactChangeConfirmed,
	StepRefused:   ContactChangeRefused,
	StepCancelled: ContactChangeCancelled,
	StepExpired:   ContactChangeExpired,
	StepDone:      ContactChangeApplied,
	StepFailed:    ContactChangeFailed,
}

// announce adds to c the event step publishes, owed by the write about to store c (at
// version c.Version+1), as owe does for emails; reason says why a failed request failed.
// Others may publish it once the owner's window has passed (see schedule).
func (c *Change) announce(step Step, at time.Time, by string, reason FailureCode) {
	typ, ok := announced[step]
	if !ok {
		return
	}
	a := c.announcement(typ, at, by)
	switch typ {
	case ContactChangeRequested:
		for _, p := range c.Parties {
			a.Parties = append(a.Parties, p.NIC)
		}
	case ContactChangeConfirmed:
		a.Party = by
	case ContactChangeFailed:
		a.Reason = reason
	}
	c.Events = append(c.Events, a)
}

// announceHolders adds the ServiceContactsChanged event of an applied change: the service's
// holders before it and after it.
func (c *Change) announceHolders(before map[Role]string, at time.Time) {
	a := c.announcement(ServiceContactsChanged, at, System)
	a.Before, a.After = maps.Clone(before), maps.Clone(before)
	a.After[c.Role] = c.To
	c.Events = append(c.Events, a)
}

func (c *Change) announcement(typ AnnouncementType, at time.Time, by string) Announcement {
	owed := c.Version + 1
	return Announcement{
		ID: fmt.Sprintf("%s:%d:%s", c.ID, owed, typ), Type: typ, At: at.UTC(), By: by,
		RequestID: c.ID, ServiceID: c.ServiceID, ServiceType: c.ServiceType, Role: c.Role,
		From: c.From, To: c.To, RequestedBy: c.RequestedBy, State: c.State,
		Owed: owed,
	}
}
