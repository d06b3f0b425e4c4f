package store

import (
	"fmt"
	"hash/fnv"
	"strings"
	"time"

	"github.com/servicecontacts/servicecontacts/shared/contact"
)

// The items of the two tables. Key prefixes keep the kinds apart in one key space.
const (
	accountPrefix  = "ACCOUNT#"
	servicePrefix  = "SERVICE#"
	requestPrefix  = "REQUEST#"
	profileSK      = "PROFILE"
	serviceSK      = "SERVICE"
	requestSK      = "REQUEST"
	rolePrefix     = "ROLE#"
	involvedPrefix = "INVOLVED#"
	recordPrefix   = "RECORD#"
	recordSK       = "RECORD"
	batchPrefix    = "BATCH#"
	batchSK        = "BATCH"
)

type accountItem struct {
	PK           string `dynamodbav:"pk"`
	SK           string `dynamodbav:"sk"`
	NIC          string `dynamodbav:"nic"`
	Email        string `dynamodbav:"email"`
	Language     string `dynamodbav:"language"`
	GoodStanding bool   `dynamodbav:"goodStanding"`
	BouncedAt    string `dynamodbav:"bouncedAt,omitempty"`
}

type serviceItem struct {
	PK   string `dynamodbav:"pk"`
	SK   string `dynamodbav:"sk"`
	ID   string `dynamodbav:"id"`
	Type string `dynamodbav:"type"`
}

// roleItem says who holds one role of one service, and which open request, if any, has
// locked the role. "No lock" is the empty string, never a removed attribute.
type roleItem struct {
	PK          string `dynamodbav:"pk"`
	SK          string `dynamodbav:"sk"`
	ServiceID   string `dynamodbav:"serviceId"`
	ServiceType string `dynamodbav:"serviceType"`
	Role        string `dynamodbav:"role"`
	Holder      string `dynamodbav:"holder"`
	HolderKey   string `dynamodbav:"holderKey"` // <serviceId>#<role>: orders ByHolder by service
	OpenRequest string `dynamodbav:"openRequest"`
}

type requestItem struct {
	PK           string        `dynamodbav:"pk"`
	SK           string        `dynamodbav:"sk"`
	ID           string        `dynamodbav:"id"`
	ServiceID    string        `dynamodbav:"serviceId"`
	ServiceType  string        `dynamodbav:"serviceType"`
	Role         string        `dynamodbav:"role"`
	From         string        `dynamodbav:"from"`
	To           string        `dynamodbav:"to"`
	RequestedBy  string        `dynamodbav:"requestedBy"`
	State        string        `dynamodbav:"state"`
	Parties      []partyItem   `dynamodbav:"parties"`
	Notify       []string      `dynamodbav:"notify,omitempty"`
	CreatedAt    string        `dynamodbav:"createdAt"`
	ExpiresAt    string        `dynamodbav:"expiresAt"`
	History      []eventItem   `dynamodbav:"history"`
	Authority    string        `dynamodbav:"authority,omitempty"`
	Resends      int           `dynamodbav:"resends"`
	LastResendAt string        `dynamodbav:"lastResendAt,omitempty"`
	Outbox       []messageItem `dynamodbav:"outbox,omitempty"`
	Events       []eventOwed   `dynamodbav:"events,omitempty"`
	AnswerAgain  string        `dynamodbav:"answerAgainAt,omitempty"`
	Supersedes   []string      `dynamodbav:"supersedes,omitempty"`
	BatchID      string        `dynamodbav:"batchId,omitempty"`
	// FailureCode, FailureRole and FailureAccount say why a failed request failed.
	FailureCode    string `dynamodbav:"failureCode,omitempty"`
	FailureRole    string `dynamodbav:"failureRole,omitempty"`
	FailureAccount string `dynamodbav:"failureAccount,omitempty"`
	// DueShard and DueAt index the request in ByDue while the reconciler must look at it;
	// both are absent otherwise, which keeps the index sparse.
	DueShard string `dynamodbav:"dueShard,omitempty"`
	DueAt    string `dynamodbav:"dueAt,omitempty"`
	Version  int    `dynamodbav:"version"`
	PurgeAt  int64  `dynamodbav:"purgeAt"` // TTL: DynamoDB deletes the item after this time
}

type messageItem struct {
	ID             string `dynamodbav:"id"`
	Kind           string `dynamodbav:"kind"`
	To             string `dynamodbav:"to"`
	FailureCode    string `dynamodbav:"failureCode,omitempty"`
	FailureRole    string `dynamodbav:"failureRole,omitempty"`
	FailureAccount string `dynamodbav:"failureAccount,omitempty"`
	Owed           int    `dynamodbav:"owed"`
	Attempts       int    `dynamodbav:"attempts,omitempty"`
	NextAt         string `dynamodbav:"nextAt"`
}

// eventOwed is an announcement not published yet.
type eventOwed struct {
	ID          string            `dynamodbav:"id"`
	Type        string            `dynamodbav:"type"`
	At          string            `dynamodbav:"at"`
	By          string            `dynamodbav:"by"`
	RequestID   string            `dynamodbav:"requestId,omitempty"`
	ServiceID   string            `dynamodbav:"serviceId"`
	ServiceType string            `dynamodbav:"serviceType,omitempty"`
	Role        string            `dynamodbav:"role,omitempty"`
	From        string            `dynamodbav:"from,omitempty"`
	To          string            `dynamodbav:"to,omitempty"`
	RequestedBy string            `dynamodbav:"requestedBy,omitempty"`
	State       string            `dynamodbav:"state,omitempty"`
	Parties     []string          `dynamodbav:"parties,omitempty"`
	Party       string            `dynamodbav:"party,omitempty"`
	Reason      string            `dynamodbav:"reason,omitempty"`
	Before      map[string]string `dynamodbav:"before,omitempty"`
	After       map[string]string `dynamodbav:"after,omitempty"`
	Owed        int               `dynamodbav:"owed"`
	Attempts    int               `dynamodbav:"attempts,omitempty"`
	NextAt      string            `dynamodbav:"nextAt"`
}

func toEventsOwed(events []contact.Announcement) []eventOwed {
	var out []eventOwed
	for _, a := range events {
		out = append(out, eventOwed{
			ID: a.ID, Type: string(a.Type), At: formatTime(a.At), By: a.By, RequestID: a.RequestID,
			ServiceID: a.ServiceID, ServiceType: a.ServiceType, Role: string(a.Role), From: a.From, To: a.To,
			RequestedBy: a.RequestedBy, State: string(a.State), Parties: a.Parties, Party: a.Party,
			Reason: string(a.Reason), Before: holdersItem(a.Before), After: holdersItem(a.After),
			Owed: a.Owed, Attempts: a.Attempts, NextAt: formatTime(a.NextAt),
		})
	}
	return out
}

func fromEventsOwed(items []eventOwed) []contact.Announcement {
	var out []contact.Announcement
	for _, e := range items {
		out = append(out, contact.Announcement{
			ID: e.ID, Type: contact.AnnouncementType(e.Type), At: parseTime(e.At), By: e.By, RequestID: e.RequestID,
			ServiceID: e.ServiceID, ServiceType: e.ServiceType, Role: contact.Role(e.Role), From: e.From, To: e.To,
			RequestedBy: e.RequestedBy, State: contact.State(e.State), Parties: e.Parties, Party: e.Party,
			Reason: contact.FailureCode(e.Reason), Before: holders(e.Before), After: holders(e.After),
			Owed: e.Owed, Attempts: e.Attempts, NextAt: parseTime(e.NextAt),
		})
	}
	return out
}

func holdersItem(h map[contact.Role]string) map[string]string {
	if h == nil {
		return nil
	}
	out := make(map[string]string, len(h))
	for r, nic := range h {
		out[string(r)] = nic
	}
	return out
}

func holders(h map[string]string) map[contact.Role]string {
	if h == nil {
		return nil
	}
	out := make(map[contact.Role]string, len(h))
	for r, nic := range h {
		out[contact.Role(r)] = nic
	}
	return out
}

type partyItem struct {
	NIC            string   `dynamodbav:"nic"`
	Status         string   `dynamodbav:"status"`
	TokenHash      string   `dynamodbav:"tokenHash"`
	ReplacedHashes []string `dynamodbav:"replacedHashes,omitempty"`
	TaskToken      string   `dynamodbav:"taskToken,omitempty"`
	Bounced        bool     `dynamodbav:"bounced,omitempty"`
}

type eventItem struct {
	At     string `dynamodbav:"at"`
	By     string `dynamodbav:"by"`
	Event  string `dynamodbav:"event"`
	Detail string `dynamodbav:"detail,omitempty"`
}

// involvedItem indexes a request under one account that may see it.
type involvedItem struct {
	PK          string `dynamodbav:"pk"`
	SK          string `dynamodbav:"sk"`
	Involved    string `dynamodbav:"involved"`
	InvolvedKey string `dynamodbav:"involvedKey"` // <createdAt>#<id>: orders ByInvolved by age
	RequestID   string `dynamodbav:"requestId"`
	PurgeAt     int64  `dynamodbav:"purgeAt"`
}

// dueShards spreads the ByDue index over a few partition keys, so that no single key takes
// every open request's writes.
const dueShards = 4

// dueShard is the ByDue partition of request id.
func dueShard(id string) string {
	h := fnv.New32a()
	_, _ = h.Write([]byte(id)) // never fails
	return fmt.Sprintf("due#%d", h.Sum32()%dueShards)
}

func accountPK(nic string) string { return accountPrefix + nic }
func servicePK(id string) string  { return servicePrefix + id }
func requestPK(id string) string  { return requestPrefix + id }

// requestID is the id in a request item's partition key.
func requestID(pk string) string { return strings.TrimPrefix(pk, requestPrefix) }

func roleKey(serviceID string, role contact.Role) (pk, sk string) {
	return servicePK(serviceID), rolePrefix + string(role)
}

func (a accountItem) account() contact.Account {
	return contact.Account{
		NIC: a.NIC, Email: a.Email, Language: contact.ParseLanguage(a.Language), GoodStanding: a.GoodStanding,
		BouncedAt: parseTime(a.BouncedAt),
	}
}

func toAccountItem(a contact.Account) accountItem {
	return accountItem{
		PK: accountPK(a.NIC), SK: profileSK, NIC: a.NIC, Email: a.Email, Language: string(a.Language),
		GoodStanding: a.GoodStanding, BouncedAt: formatTime(a.BouncedAt),
	}
}

func newRoleItem(serviceID, serviceType string, role contact.Role, holder string) roleItem {
	pk, sk := roleKey(serviceID, role)
	return roleItem{
		PK: pk, SK: sk, ServiceID: serviceID, ServiceType: serviceType, Role: string(role),
		Holder: holder, HolderKey: serviceID + "#" + string(role),
	}
}

// addTo records the role's holder and lock in svc.
func (it roleItem) addTo(svc *contact.Service) {
	r := contact.Role(it.Role)
	svc.Contacts[r] = it.Holder
	if it.OpenRequest != "" {
		svc.Open[r] = it.OpenRequest
	}
}

// matches reports whether the role passes q's filters.
func (it roleItem) matches(q contact.ServiceQuery) bool {
	return (q.Role == "" || it.Role == string(q.Role)) && (q.Type == "" || it.ServiceType == q.Type)
}

func newInvolvedItem(c contact.Change, nic string, purgeAt time.Time) involvedItem {
	return involvedItem{
		PK: requestPK(c.ID), SK: involvedPrefix + nic, Involved: nic,
		InvolvedKey: formatTime(c.CreatedAt) + "#" + c.ID, RequestID: c.ID, PurgeAt: purgeAt.Unix(),
	}
}

// timeFormat is RFC 3339 in UTC with all nine fraction digits: fixed width, so that stored
// times sort as strings in time order (RFC3339Nano trims trailing zeros and would not).
const timeFormat = "2006-01-02T15:04:05.000000000Z07:00"

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(timeFormat)
}

func parseTime(s string) time.Time {
	t, _ := time.Parse(timeFormat, s) // written by formatTime; "" reads as the zero time
	return t
}

func toRequestItem(c contact.Change, purgeAt time.Time) requestItem {
	it := requestItem{
		PK: requestPK(c.ID), SK: requestSK, ID: c.ID, ServiceID: c.ServiceID, ServiceType: c.ServiceType,
		Role: string(c.Role), From: c.From, To: c.To, RequestedBy: c.RequestedBy, State: string(c.State),
		Notify: c.Notify, CreatedAt: formatTime(c.CreatedAt), ExpiresAt: formatTime(c.ExpiresAt),
		Authority: string(c.Authority), Resends: c.Resends, LastResendAt: formatTime(c.LastResendAt),
		AnswerAgain: formatTime(c.AnswerAgainAt), Supersedes: c.Supersedes, BatchID: c.BatchID,
		FailureCode: string(c.Failure.Code), FailureRole: string(c.Failure.Role), FailureAccount: c.Failure.Account,
		Version: c.Version, PurgeAt: purgeAt.Unix(),
	}
	if !c.DueAt.IsZero() {
		it.DueShard, it.DueAt = dueShard(c.ID), formatTime(c.DueAt)
	}
	for _, m := range c.Outbox {
		it.Outbox = append(it.Outbox, messageItem{
			ID: m.ID, Kind: string(m.Kind), To: m.To, FailureCode: string(m.Failure.Code), FailureRole: string(m.Failure.Role),
			FailureAccount: m.Failure.Account, Owed: m.Owed, Attempts: m.Attempts, NextAt: formatTime(m.NextAt),
		})
	}
	for _, p := range c.Parties {
		it.Parties = append(it.Parties, partyItem{NIC: p.NIC, Status: string(p.Status), TokenHash: p.TokenHash, ReplacedHashes: p.ReplacedHashes, TaskToken: p.TaskToken, Bounced: p.Bounced})
	}
	it.Events = toEventsOwed(c.Events)
	for _, e := range c.History {
		it.History = append(it.History, eventItem{At: formatTime(e.At), By: e.By, Event: e.Event, Detail: e.Detail})
	}
	return it
}

func (it requestItem) change() contact.Change {
	c := contact.Change{
		ID: it.ID, ServiceID: it.ServiceID, ServiceType: it.ServiceType, Role: contact.Role(it.Role),
		From: it.From, To: it.To, RequestedBy: it.RequestedBy, State: contact.State(it.State), Notify: it.Notify,
		CreatedAt: parseTime(it.CreatedAt), ExpiresAt: parseTime(it.ExpiresAt), Resends: it.Resends,
		LastResendAt: parseTime(it.LastResendAt), Version: it.Version, Authority: contact.Role(it.Authority),
		DueAt: parseTime(it.DueAt), AnswerAgainAt: parseTime(it.AnswerAgain), Supersedes: it.Supersedes, BatchID: it.BatchID,
		Failure: contact.Failure{Code: contact.FailureCode(it.FailureCode), Role: contact.Role(it.FailureRole), Account: it.FailureAccount},
	}
	for _, m := range it.Outbox {
		c.Outbox = append(c.Outbox, contact.Message{
			ID: m.ID, Kind: contact.NoticeKind(m.Kind), To: m.To, Owed: m.Owed, Attempts: m.Attempts, NextAt: parseTime(m.NextAt),
			Failure: contact.Failure{Code: contact.FailureCode(m.FailureCode), Role: contact.Role(m.FailureRole), Account: m.FailureAccount},
		})
	}
	for _, p := range it.Parties {
		c.Parties = append(c.Parties, contact.Party{NIC: p.NIC, Status: contact.PartyStatus(p.Status), TokenHash: p.TokenHash, ReplacedHashes: p.ReplacedHashes, TaskToken: p.TaskToken, Bounced: p.Bounced})
	}
	c.Events = fromEventsOwed(it.Events)
	for _, e := range it.History {
		c.History = append(c.History, contact.Event{At: parseTime(e.At), By: e.By, Event: e.Event, Detail: e.Detail})
	}
	return c
}
