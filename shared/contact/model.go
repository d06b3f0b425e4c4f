// Package contact holds the rules for the contacts of cloud services: who holds which role,
// who may ask to change it, and how a contact-change request moves from pending to a final
// state. It knows nothing of AWS: persistence, email and the workflow engine sit behind the
// small interfaces in ports.go.
package contact

import (
	"slices"
	"strings"
	"time"
)

// Role is one of the three contact roles every service has.
type Role string

const (
	Admin   Role = "admin"
	Tech    Role = "tech"
	Billing Role = "billing"
)

// Roles lists the roles in the order they are shown and processed.
var Roles = []Role{Admin, Tech, Billing}

// Valid reports whether r is one of the three roles.
func (r Role) Valid() bool { return r == Admin || r == Tech || r == Billing }

// Language is an account's preferred language for emails and pages.
type Language string

const (
	English Language = "en"
	Italian Language = "it"
	French  Language = "fr"
)

// Languages lists the languages accounts may choose, emails and pages are written in.
var Languages = []Language{English, French, Italian}

// Valid reports whether l is one of Languages.
func (l Language) Valid() bool { return slices.Contains(Languages, l) }

// ParseLanguage returns the language for s, English when s is empty or unknown.
func ParseLanguage(s string) Language {
	if l := Language(strings.ToLower(strings.TrimSpace(s))); l.Valid() {
		return l
	}
	return English
}

var nicPattern = compiled(`^[a-z]{2}[0-9]+-ovh$`)

// NormalizeNIC lowercases a NIC handle and checks its form (two letters, digits, "-ovh").
func NormalizeNIC(s string) (string, error) {
	nic := strings.ToLower(strings.TrimSpace(s))
	if !nicPattern().MatchString(nic) || len(nic) > 64 {
		return "", Errorf(ErrInvalid, "invalid_nic", "%s is not a NIC handle (two letters, digits, -ovh, like xx11111-ovh)", quoted(s))
	}
	return nic, nil
}

// Account is a customer account, identified by its NIC handle.
type Account struct {
	NIC          string
	Email        string
	Language     Language
	GoodStanding bool
	// BouncedAt is when mail to Email last bounced; zero while it has not. A new address
	// clears it.
	BouncedAt time.Time
}

// Service is a cloud service and the accounts holding its three roles.
type Service struct {
	ID       string
	Type     string
	Contacts map[Role]string
	// Open holds, per role, the id of the open change request that has locked it.
	Open map[Role]string
}

// RolesOf returns the roles nic holds on s, in the order of Roles.
func (s Service) RolesOf(nic string) []Role {
	var roles []Role
	for _, r := range Roles {
		if s.Contacts[r] == nic {
			roles = append(roles, r)
		}
	}
	return roles
}

// State is where a contact-change request is in its lifecycle.
type State string

const (
	Pending   State = "pending"
	Applying  State = "applying"
	Done      State = "done"
	Refused   State = "refused"
	Expired   State = "expired"
	Cancelled State = "cancelled"
	Failed    State = "failed"
)

// Terminal reports whether s is final: a request in a terminal state never changes again.
func (s State) Terminal() bool {
	switch s {
	case Done, Refused, Expired, Cancelled, Failed:
		return true
	}
	return false
}

// Valid reports whether s is a known state.
func (s State) Valid() bool { return s == Pending || s == Applying || s.Terminal() }

// PartyStatus is where one required party stands.
type PartyStatus string

const (
	Waiting  PartyStatus = "waiting"
	Accepted PartyStatus = "accepted"
	Declined PartyStatus = "refused"
)

// Party is an account whose confirmation a request needs.
type Party struct {
	NIC    string
	Status PartyStatus
	// TokenHash is the SHA-256 of the party's current confirmation token, hex encoded.
	TokenHash string
	// ReplacedHashes are the hashes of tokens that a resend replaced, so that an old
	// link can say it was replaced instead of "unknown".
	ReplacedHashes []string
	// TaskToken is the workflow's callback token for this party, empty until registered.
	TaskToken string
	// Bounced is set when the party's latest token email bounced; a resend clears it.
	Bounced bool
}

// Event is one entry of a request's history.
type Event struct {
	At     time.Time
	By     string // a NIC handle, or "system"
	Event  string
	Detail string
}

// System is the author of history events that no person caused.
const System = "system"

// Change is a request to change the holder of one role of one service.
type Change struct {
	ID          string
	ServiceID   string
	ServiceType string
	Role        Role
	From        string
	To          string
	RequestedBy string
	State       State
	Parties     []Party
	// Notify lists accounts told about the outcome without being asked to confirm
	// (the previous holder, where the rules say so).
	Notify    []string
	CreatedAt time.Time
	ExpiresAt time.Time
	History   []Event
	// Authority is the role whose holder's permission allowed the request (the rules
	// table's callerHolds): the requester must still hold it when the change is applied.
	Authority Role
	// Resends counts the resends so far; LastResendAt is the time of the latest one.
	Resends      int
	LastResendAt time.Time
	// Outbox holds the emails a transition owes and that are not sent yet. It is written
	// with the transition, so that a crash after the write loses none of them.
	Outbox []Message
	// Events holds the announcements transitions owed and that are not published yet,
	// written with the transition like Outbox.
	Events []Announcement
	// Supersedes lists, on an admin hand-over, the requests open on the service's other
	// roles when it was applied: those the previous admin's authority allowed must end. It
	// is written with the hand-over and cleared once they have ended.
	Supersedes []string
	// AnswerAgainAt is set when answering the workflow's callback tasks failed: the
	// reconciler answers them again from what the request holds from then on.
	AnswerAgainAt time.Time
	// DueAt is when the reconciler must look at the request again; zero when it never
	// needs to (an ended request whose outbox is empty and whose workflow was answered).
	DueAt time.Time
	// Failure says why the request failed; zero unless State is Failed.
	Failure Failure
	// BatchID names the batch the request was made in; empty for a request of its own.
	BatchID string
	// Version increases with every write; stores use it for optimistic locking.
	Version int
}

// clone returns a copy of c that shares no slice with it.
func (c Change) clone() Change {
	c.Parties = slices.Clone(c.Parties)
	for i := range c.Parties {
		c.Parties[i].ReplacedHashes = slices.Clone(c.Parties[i].ReplacedHashes)
	}
	c.Notify = slices.Clone(c.Notify)
	c.History = slices.Clone(c.History)
	c.Outbox = slices.Clone(c.Outbox)
	c.Events = slices.Clone(c.Events)
	c.Supersedes = slices.Clone(c.Supersedes)
	return c
}

// Involved returns every account that may see the request: the requester, the parties and
// those notified, without duplicates.
func (c Change) Involved() []string {
	seen := map[string]bool{}
	var out []string
	add := func(nic string) {
		if nic != "" && !seen[nic] {
			seen[nic] = true
			out = append(out, nic)
		}
	}
	add(c.RequestedBy)
	for _, p := range c.Parties {
		add(p.NIC)
	}
	for _, n := range c.Notify {
		add(n)
	}
	return out
}

// Party returns the party with the given NIC handle.
func (c *Change) Party(nic string) (*Party, bool) {
	for i := range c.Parties {
		if c.Parties[i].NIC == nic {
			return &c.Parties[i], true
		}
	}
	return nil, false
}

// WaitingFor lists the parties that have not answered yet.
func (c Change) WaitingFor() []string {
	var out []string
	for _, p := range c.Parties {
		if p.Status == Waiting {
			out = append(out, p.NIC)
		}
	}
	return out
}

func (c *Change) record(at time.Time, by, event, detail string) {
	c.History = append(c.History, Event{At: at.UTC(), By: by, Event: event, Detail: detail})
}
