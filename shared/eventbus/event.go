// Package eventbus publishes the system's announcements on an Amazon EventBridge bus, and
// gives them the shape other systems see: EventBridge's envelope around a detail that names
// requests, services and accounts by id and NIC handle only.
package eventbus

import (
	"strings"
	"time"

	"github.com/servicecontacts/servicecontacts/shared/contact"
)

// Source is the source of every event the system publishes.
const Source = "servicecontacts"

// Event is an announcement in EventBridge's envelope, as a rule's target receives it.
type Event struct {
	Version    string      `json:"version"`
	ID         string      `json:"id"`
	Source     string      `json:"source"`
	Account    string      `json:"account"`
	Region     string      `json:"region"`
	DetailType string      `json:"detail-type"`
	Time       time.Time   `json:"time"`
	Resources  []string    `json:"resources"`
	Detail     EventDetail `json:"detail"`
}

// EventDetail is the detail of an event. Each field is set from the announcement one by
// one, so that nothing else (a token, an email address) can find its way out.
type EventDetail struct {
	// EventID is the announcement's stable id, the same on every delivery. EventBridge
	// gives each event an envelope id of its own, so subscribers deduplicate on this one.
	EventID     string   `json:"eventId"`
	RequestID   string   `json:"requestId,omitempty"`
	ServiceID   string   `json:"serviceId,omitempty"`
	ServiceType string   `json:"serviceType,omitempty"`
	Role        string   `json:"role,omitempty"`
	From        string   `json:"from,omitempty"`
	To          string   `json:"to,omitempty"`
	RequestedBy string   `json:"requestedBy,omitempty"`
	State       string   `json:"state,omitempty"`
	Parties     []string `json:"parties,omitempty"`
	Party       string   `json:"party,omitempty"`
	Reason      string   `json:"reason,omitempty"`
	Before      *Holders `json:"before,omitempty"`
	After       *Holders `json:"after,omitempty"`
	By          string   `json:"by,omitempty"`
	// At is when it happened, in UTC.
	At time.Time `json:"at"`
}

// Holders are a service's three contacts.
type Holders struct {
	Admin   string `json:"admin,omitempty"`
	Tech    string `json:"tech,omitempty"`
	Billing string `json:"billing,omitempty"`
}

// Detail returns the detail of a, with the fields of a's type (as api/events describes
// them): a service's change names the service and its holders only, even when an applied
// request caused it (its ContactChangeApplied names the request); Party belongs to
// ContactChangeConfirmed and Reason to ContactChangeFailed.
func Detail(a contact.Announcement) EventDetail {
	d := EventDetail{EventID: a.ID, ServiceID: a.ServiceID, ServiceType: a.ServiceType, By: principal(a.By), At: a.At.UTC()}
	if a.Type == contact.ServiceContactsChanged {
		d.Before, d.After = holders(a.Before), holders(a.After)
		return d
	}
	d.RequestID = a.RequestID
	d.Role = string(a.Role)
	d.From, d.To, d.RequestedBy = a.From, a.To, a.RequestedBy
	d.State = string(a.State)
	d.Parties = append([]string(nil), a.Parties...)
	switch a.Type {
	case contact.ContactChangeConfirmed:
		d.Party = a.Party
	case contact.ContactChangeFailed:
		d.Reason = string(a.Reason)
	}
	return d
}

// Envelope returns a in the envelope EventBridge delivers, with a's stable id as the
// envelope's id (as the local event log publishes it; on AWS, EventBridge sets its own).
func Envelope(a contact.Announcement, account, region string) Event {
	return Event{
		Version:    "0",
		ID:         a.ID,
		Source:     Source,
		Account:    account,
		Region:     region,
		DetailType: string(a.Type),
		// EventBridge keeps whole seconds in the envelope.
		Time:      a.At.UTC().Truncate(time.Second),
		Resources: []string{},
		Detail:    Detail(a),
	}
}

func holders(h map[contact.Role]string) *Holders {
	if h == nil {
		return nil
	}
	return &Holders{Admin: h[contact.Admin], Tech: h[contact.Tech], Billing: h[contact.Billing]}
}

// principal returns who caused an event as it may be published. An IAM principal may end
// in a name holding an email address (an assumed role's session name often is one): that
// last part is withheld, since events never carry an email address.
func principal(by string) string {
	if !strings.Contains(by, "@") {
		return by
	}
	if i := strings.LastIndex(by, "/"); i >= 0 && !strings.Contains(by[:i], "@") {
		return by[:i+1] + "redacted"
	}
	return "redacted"
}
