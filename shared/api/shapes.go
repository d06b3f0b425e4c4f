package api

import (
	"encoding/json"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/servicecontacts/servicecontacts/shared/contact"
)

// The JSON shapes of the API. Field names are part of the contract (api/openapi.yaml).
// A change is built field by field from contact.Change, so that token hashes and workflow
// task tokens can never leak into a response.

type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

type serviceJSON struct {
	ID       string         `json:"id"`
	Type     string         `json:"type"`
	Contacts contactsJSON   `json:"contacts"`
	MyRoles  []contact.Role `json:"myRoles"`
}

type contactsJSON struct {
	Admin   string `json:"admin"`
	Tech    string `json:"tech"`
	Billing string `json:"billing"`
}

type changeJSON struct {
	ID          string        `json:"id"`
	ServiceID   string        `json:"serviceId"`
	ServiceType string        `json:"serviceType"`
	Role        contact.Role  `json:"role"`
	From        string        `json:"from"`
	To          string        `json:"to"`
	RequestedBy string        `json:"requestedBy"`
	State       contact.State `json:"state"`
	Parties     []partyJSON   `json:"parties"`
	WaitingFor  []string      `json:"waitingFor"`
	CreatedAt   string        `json:"createdAt"`
	ExpiresAt   string        `json:"expiresAt"`
	History     []eventJSON   `json:"history"`
	// BatchID names the batch the request was made in; absent for a request of its own.
	BatchID string `json:"batchId,omitempty"`
}

type partyJSON struct {
	NIC    string              `json:"nic"`
	Status contact.PartyStatus `json:"status"`
	// Bounced says the party's latest token email bounced: the address needs fixing
	// before a resend can reach them.
	Bounced bool `json:"bounced"`
}

// accountJSON is an account as the operator API shows it. Bouncing says mail to Email
// bounced and no new address has been set since.
type accountJSON struct {
	NIC          string           `json:"nic"`
	Email        string           `json:"email"`
	Language     contact.Language `json:"language"`
	GoodStanding bool             `json:"goodStanding"`
	Bouncing     bool             `json:"bouncing"`
}

// storedServiceJSON is a service as the operator API shows it: no caller, so no roles of
// the caller's.
type storedServiceJSON struct {
	ID       string       `json:"id"`
	Type     string       `json:"type"`
	Contacts contactsJSON `json:"contacts"`
}

type eventJSON struct {
	At     string `json:"at"`
	By     string `json:"by"`
	Event  string `json:"event"`
	Detail string `json:"detail,omitempty"`
}

// pageJSON is one page of a list; NextCursor is null on the last page.
type pageJSON[T any] struct {
	Items      []T     `json:"items"`
	NextCursor *string `json:"nextCursor"`
}

type itemsJSON[T any] struct {
	Items []T `json:"items"`
}

func newService(s contact.Service, caller string) serviceJSON {
	return serviceJSON{
		ID:       s.ID,
		Type:     s.Type,
		Contacts: newContacts(s),
		MyRoles:  nonNil(s.RolesOf(caller)),
	}
}

func newAccount(a contact.Account) accountJSON {
	return accountJSON{
		NIC:          a.NIC,
		Email:        a.Email,
		Language:     a.Language,
		GoodStanding: a.GoodStanding,
		Bouncing:     !a.BouncedAt.IsZero(),
	}
}

func newStoredService(s contact.Service) storedServiceJSON {
	return storedServiceJSON{ID: s.ID, Type: s.Type, Contacts: newContacts(s)}
}

func newContacts(s contact.Service) contactsJSON {
	return contactsJSON{
		Admin:   s.Contacts[contact.Admin],
		Tech:    s.Contacts[contact.Tech],
		Billing: s.Contacts[contact.Billing],
	}
}

func newChange(c contact.Change) changeJSON {
	out := changeJSON{
		ID:          c.ID,
		ServiceID:   c.ServiceID,
		ServiceType: c.ServiceType,
		Role:        c.Role,
		From:        c.From,
		To:          c.To,
		RequestedBy: c.RequestedBy,
		State:       c.State,
		Parties:     make([]partyJSON, 0, len(c.Parties)),
		WaitingFor:  nonNil(c.WaitingFor()),
		CreatedAt:   timestamp(c.CreatedAt),
		ExpiresAt:   timestamp(c.ExpiresAt),
		History:     make([]eventJSON, 0, len(c.History)),
		BatchID:     c.BatchID,
	}
	for _, p := range c.Parties {
		out.Parties = append(out.Parties, partyJSON{NIC: p.NIC, Status: p.Status, Bounced: p.Bounced})
	}
	for _, e := range c.History {
		out.History = append(out.History, eventJSON{At: timestamp(e.At), By: e.By, Event: e.Event, Detail: e.Detail})
	}
	return out
}

func newChanges(cs []contact.Change) []changeJSON {
	out := make([]changeJSON, 0, len(cs))
	for _, c := range cs {
		out = append(out, newChange(c))
	}
	return out
}

// timestamp formats t in RFC 3339, UTC, to the second.
func timestamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// cursor is the JSON value of a next-page cursor: null on the last page.
func cursor(next string) *string {
	if next == "" {
		return nil
	}
	return &next
}

// nonNil makes empty lists encode as [] rather than null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// jsonResponse encodes v. Encoding the package's own shapes cannot fail; should it ever,
// the caller still gets a well-formed 500.
func jsonResponse(status int, v any) events.APIGatewayV2HTTPResponse {
	b, err := json.Marshal(v)
	if err != nil {
		status = 500
		b = []byte(`{"error":{"code":"internal","message":"an internal error occurred; try again later"}}`)
	}
	return events.APIGatewayV2HTTPResponse{
		StatusCode: status,
		Headers: map[string]string{
			"Content-Type":           "application/json; charset=utf-8",
			"Cache-Control":          "no-store",
			"X-Content-Type-Options": "nosniff",
		},
		Body: string(b),
	}
}
