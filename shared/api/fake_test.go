package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/servicecontacts/servicecontacts/shared/contact"
)

// fakeContacts implements Contacts with one function field per method. A method whose
// field is nil fails with errUnexpectedCall, which Handle answers with a 500.
type fakeContacts struct {
	profile        func(ctx context.Context, caller string) (contact.Account, error)
	listServices   func(ctx context.Context, caller string, q contact.ServiceQuery) (contact.ServicePage, error)
	listChanges    func(ctx context.Context, caller string, q contact.ChangeQuery) (contact.ChangePage, error)
	getChange      func(ctx context.Context, caller, id string) (contact.Change, error)
	requestChanges func(ctx context.Context, caller, serviceID string, wanted map[contact.Role]string) ([]contact.Change, error)
	decide         func(ctx context.Context, d contact.Decision) (contact.Change, error)
	cancel         func(ctx context.Context, caller, id string) (contact.Change, error)
	resend         func(ctx context.Context, caller, id string) (contact.Change, error)
	lookup         func(ctx context.Context, id, token string) (contact.Change, contact.Account, error)
	requestBatch   func(ctx context.Context, caller string, services []string, wanted map[contact.Role]string) (contact.Batch, []contact.Change, error)
	getBatch       func(ctx context.Context, caller, id string) (contact.Batch, []contact.Change, error)
	decideBatch    func(ctx context.Context, d contact.BatchDecision) (contact.Batch, []contact.BatchAnswer, error)
	resendBatch    func(ctx context.Context, caller, id string) (contact.Batch, []contact.Change, error)
	lookupBatch    func(ctx context.Context, id, token string) (contact.Batch, []contact.Change, contact.Account, error)

	putAccount    func(ctx context.Context, by string, a contact.Account) (contact.Account, bool, error)
	patchAccount  func(ctx context.Context, by, nic string, p contact.AccountPatch) (contact.Account, bool, error)
	putService    func(ctx context.Context, by string, s contact.Service) (contact.Service, bool, error)
	deleteService func(ctx context.Context, by, id string) (bool, error)
	findChanges   func(ctx context.Context, q contact.ChangeSearch) (contact.ChangePage, error)
	changeByID    func(ctx context.Context, id string) (contact.Change, error)
	cancelFor     func(ctx context.Context, by, id, reason string) (contact.Change, error)
	resendFor     func(ctx context.Context, by, id string) (contact.Change, error)
}

var _ Contacts = (*fakeContacts)(nil)

var errUnexpectedCall = errors.New("unexpected call")

func (f *fakeContacts) RequestBatch(ctx context.Context, caller string, services []string, wanted map[contact.Role]string) (contact.Batch, []contact.Change, error) {
	if f.requestBatch == nil {
		return contact.Batch{}, nil, fmt.Errorf("RequestBatch: %w", errUnexpectedCall)
	}
	return f.requestBatch(ctx, caller, services, wanted)
}

func (f *fakeContacts) GetBatch(ctx context.Context, caller, id string) (contact.Batch, []contact.Change, error) {
	if f.getBatch == nil {
		return contact.Batch{}, nil, fmt.Errorf("GetBatch: %w", errUnexpectedCall)
	}
	return f.getBatch(ctx, caller, id)
}

func (f *fakeContacts) DecideBatch(ctx context.Context, d contact.BatchDecision) (contact.Batch, []contact.BatchAnswer, error) {
	if f.decideBatch == nil {
		return contact.Batch{}, nil, fmt.Errorf("DecideBatch: %w", errUnexpectedCall)
	}
	return f.decideBatch(ctx, d)
}

func (f *fakeContacts) ResendBatch(ctx context.Context, caller, id string) (contact.Batch, []contact.Change, error) {
	if f.resendBatch == nil {
		return contact.Batch{}, nil, fmt.Errorf("ResendBatch: %w", errUnexpectedCall)
	}
	return f.resendBatch(ctx, caller, id)
}

func (f *fakeContacts) LookupBatch(ctx context.Context, id, token, _ string) (contact.Batch, []contact.Change, contact.Account, error) {
	if f.lookupBatch == nil {
		return contact.Batch{}, nil, contact.Account{}, fmt.Errorf("LookupBatch: %w", errUnexpectedCall)
	}
	return f.lookupBatch(ctx, id, token)
}

var discardLogger = slog.New(slog.DiscardHandler)

func (f *fakeContacts) Profile(ctx context.Context, caller string) (contact.Account, error) {
	if f.profile == nil {
		return contact.Account{}, fmt.Errorf("Profile: %w", errUnexpectedCall)
	}
	return f.profile(ctx, caller)
}

func (f *fakeContacts) ListServices(ctx context.Context, caller string, q contact.ServiceQuery) (contact.ServicePage, error) {
	if f.listServices == nil {
		return contact.ServicePage{}, fmt.Errorf("ListServices: %w", errUnexpectedCall)
	}
	return f.listServices(ctx, caller, q)
}

func (f *fakeContacts) ListChanges(ctx context.Context, caller string, q contact.ChangeQuery) (contact.ChangePage, error) {
	if f.listChanges == nil {
		return contact.ChangePage{}, fmt.Errorf("ListChanges: %w", errUnexpectedCall)
	}
	return f.listChanges(ctx, caller, q)
}

func (f *fakeContacts) GetChange(ctx context.Context, caller, id string) (contact.Change, error) {
	if f.getChange == nil {
		return contact.Change{}, fmt.Errorf("GetChange: %w", errUnexpectedCall)
	}
	return f.getChange(ctx, caller, id)
}

func (f *fakeContacts) RequestChanges(ctx context.Context, caller, serviceID string, wanted map[contact.Role]string) ([]contact.Change, error) {
	if f.requestChanges == nil {
		return nil, fmt.Errorf("RequestChanges: %w", errUnexpectedCall)
	}
	return f.requestChanges(ctx, caller, serviceID, wanted)
}

func (f *fakeContacts) Decide(ctx context.Context, d contact.Decision) (contact.Change, error) {
	if f.decide == nil {
		return contact.Change{}, fmt.Errorf("Decide: %w", errUnexpectedCall)
	}
	return f.decide(ctx, d)
}

func (f *fakeContacts) Cancel(ctx context.Context, caller, id string) (contact.Change, error) {
	if f.cancel == nil {
		return contact.Change{}, fmt.Errorf("Cancel: %w", errUnexpectedCall)
	}
	return f.cancel(ctx, caller, id)
}

func (f *fakeContacts) Resend(ctx context.Context, caller, id string) (contact.Change, error) {
	if f.resend == nil {
		return contact.Change{}, fmt.Errorf("Resend: %w", errUnexpectedCall)
	}
	return f.resend(ctx, caller, id)
}

func (f *fakeContacts) Lookup(ctx context.Context, id, token, address string) (contact.Change, contact.Account, error) {
	if f.lookup == nil {
		return contact.Change{}, contact.Account{}, fmt.Errorf("Lookup: %w", errUnexpectedCall)
	}
	return f.lookup(ctx, id, token)
}

func (f *fakeContacts) PutAccount(ctx context.Context, by string, a contact.Account) (contact.Account, bool, error) {
	if f.putAccount == nil {
		return contact.Account{}, false, fmt.Errorf("PutAccount: %w", errUnexpectedCall)
	}
	return f.putAccount(ctx, by, a)
}

func (f *fakeContacts) PatchAccount(ctx context.Context, by, nic string, p contact.AccountPatch) (contact.Account, bool, error) {
	if f.patchAccount == nil {
		return contact.Account{}, false, fmt.Errorf("PatchAccount: %w", errUnexpectedCall)
	}
	return f.patchAccount(ctx, by, nic, p)
}

func (f *fakeContacts) PutService(ctx context.Context, by string, s contact.Service) (contact.Service, bool, error) {
	if f.putService == nil {
		return contact.Service{}, false, fmt.Errorf("PutService: %w", errUnexpectedCall)
	}
	return f.putService(ctx, by, s)
}

func (f *fakeContacts) DeleteService(ctx context.Context, by, id string) (bool, error) {
	if f.deleteService == nil {
		return false, fmt.Errorf("DeleteService: %w", errUnexpectedCall)
	}
	return f.deleteService(ctx, by, id)
}

func (f *fakeContacts) FindChanges(ctx context.Context, q contact.ChangeSearch) (contact.ChangePage, error) {
	if f.findChanges == nil {
		return contact.ChangePage{}, fmt.Errorf("FindChanges: %w", errUnexpectedCall)
	}
	return f.findChanges(ctx, q)
}

func (f *fakeContacts) ChangeByID(ctx context.Context, id string) (contact.Change, error) {
	if f.changeByID == nil {
		return contact.Change{}, fmt.Errorf("ChangeByID: %w", errUnexpectedCall)
	}
	return f.changeByID(ctx, id)
}

func (f *fakeContacts) CancelFor(ctx context.Context, by, id, reason string) (contact.Change, error) {
	if f.cancelFor == nil {
		return contact.Change{}, fmt.Errorf("CancelFor: %w", errUnexpectedCall)
	}
	return f.cancelFor(ctx, by, id, reason)
}

func (f *fakeContacts) ResendFor(ctx context.Context, by, id string) (contact.Change, error) {
	if f.resendFor == nil {
		return contact.Change{}, fmt.Errorf("ResendFor: %w", errUnexpectedCall)
	}
	return f.resendFor(ctx, by, id)
}

// sampleChangeID is the id of sampleChange, in the form the domain gives ids.
const sampleChangeID = "c0ffee00c0ffee00c0ffee00c0ffee00"

// The accounts of the sample data.
const (
	adminNIC   = "aa11111-ovh" // admin and tech of example.com, requester of sampleChange
	newTechNIC = "nn22222-ovh" // the proposed tech contact
	billingNIC = "bb33333-ovh"
)

// Secrets that the sample change carries and no response may show.
const (
	secretTokenHash = "f00dfacef00dfacef00dfacef00dfacef00dfacef00dfacef00dfacef00dface"
	secretOldHash   = "0ldha5h0ldha5h0ldha5h0ldha5h0ldha5h0ldha5h0ldha5h0ldha5h0ldha5h"
	secretTaskToken = "AQCEAAAAKgAAAAMAAAAAAAAAAdummyTaskToken"
)

func sampleService() contact.Service {
	return contact.Service{
		ID:   "example.com",
		Type: "domain",
		Contacts: map[contact.Role]string{
			contact.Admin:   adminNIC,
			contact.Tech:    adminNIC,
			contact.Billing: billingNIC,
		},
		Open: map[contact.Role]string{contact.Tech: sampleChangeID},
	}
}

// sampleChange is a pending request for a new tech contact: the admin has accepted, the
// new contact has not answered yet and his token email bounced. Times are in a non-UTC zone on purpose.
func sampleChange() contact.Change {
	rome := time.FixedZone("CET", 3600)
	created := time.Date(2025, 3, 1, 10, 0, 0, 0, rome)
	return contact.Change{
		ID:          sampleChangeID,
		ServiceID:   "example.com",
		ServiceType: "domain",
		Role:        contact.Tech,
		From:        adminNIC,
		To:          newTechNIC,
		RequestedBy: adminNIC,
		State:       contact.Pending,
		Parties: []contact.Party{
			{NIC: adminNIC, Status: contact.Accepted, TokenHash: secretTokenHash, ReplacedHashes: []string{secretOldHash}, TaskToken: secretTaskToken},
			{NIC: newTechNIC, Status: contact.Waiting, TokenHash: secretTokenHash, TaskToken: secretTaskToken, Bounced: true},
		},
		Notify:    []string{billingNIC},
		CreatedAt: created,
		ExpiresAt: created.Add(14 * 24 * time.Hour),
		History: []contact.Event{
			{At: created, By: adminNIC, Event: "created"},
			{At: created.Add(time.Minute), By: adminNIC, Event: "accepted", Detail: "by email link"},
		},
		Resends:      1,
		LastResendAt: created.Add(2 * time.Minute),
		Version:      3,
	}
}

// sampleChangeJSON is sampleChange as the API shows it.
func sampleChangeJSON() map[string]any {
	return map[string]any{
		"id":          sampleChangeID,
		"serviceId":   "example.com",
		"serviceType": "domain",
		"role":        "tech",
		"from":        adminNIC,
		"to":          newTechNIC,
		"requestedBy": adminNIC,
		"state":       "pending",
		"parties": []any{
			map[string]any{"nic": adminNIC, "status": "accepted", "bounced": false},
			map[string]any{"nic": newTechNIC, "status": "waiting", "bounced": true},
		},
		"waitingFor": []any{newTechNIC},
		"createdAt":  "2025-03-01T09:00:00Z",
		"expiresAt":  "2025-03-15T09:00:00Z",
		"history": []any{
			map[string]any{"at": "2025-03-01T09:00:00Z", "by": adminNIC, "event": "created"},
			map[string]any{"at": "2025-03-01T09:01:00Z", "by": adminNIC, "event": "accepted", "detail": "by email link"},
		},
	}
}

// newEvent is an API Gateway event for routeKey as the JWT authorizer passes it on, the
// caller being sub; with sub empty there is no authorizer context at all.
func newEvent(routeKey, sub string) events.APIGatewayV2HTTPRequest {
	method, path, _ := strings.Cut(routeKey, " ")
	e := events.APIGatewayV2HTTPRequest{
		Version:  "2.0",
		RouteKey: routeKey,
		RawPath:  path,
		Headers:  map[string]string{"content-type": "application/json", "user-agent": "test"},
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RouteKey:  routeKey,
			RequestID: "req-1",
			HTTP:      events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: method, Path: path},
		},
	}
	if sub != "" {
		e.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
			JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: map[string]string{"sub": sub}},
		}
	}
	return e
}

// operatorARN is the IAM principal of the operator in the tests.
const operatorARN = "arn:aws:iam::123456789012:user/support-alice"

// newOperatorEvent is an API Gateway event for routeKey as AWS_IAM authorization passes it
// on, signed by the principal arn; with arn empty there is no authorizer context at all.
func newOperatorEvent(routeKey, arn string) events.APIGatewayV2HTTPRequest {
	e := newEvent(routeKey, "")
	if arn != "" {
		e.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
			IAM: &events.APIGatewayV2HTTPRequestContextAuthorizerIAMDescription{
				AccessKey: "ASIAEXAMPLEKEY", AccountID: "123456789012", CallerID: "AIDAEXAMPLEID",
				UserARN: arn, UserID: "AIDAEXAMPLEID",
			},
		}
	}
	return e
}

// functionOf returns the function serving routeKey.
func functionOf(t *testing.T, routeKey string) string {
	t.Helper()
	for _, r := range Routes {
		if r.Key() == routeKey {
			return r.Function
		}
	}
	t.Fatalf("no route %q", routeKey)
	return ""
}

// serve runs one event through the handler of the function serving its route, and fails
// the test if Handle returns an error. It returns the response and the log lines.
func serve(t *testing.T, f *fakeContacts, e events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, string) {
	t.Helper()
	return serveWith(t, f, e, Options{})
}

// serveWith is serve with options; their Logger is replaced by one the test reads.
func serveWith(t *testing.T, f *fakeContacts, e events.APIGatewayV2HTTPRequest, opts Options) (events.APIGatewayV2HTTPResponse, string) {
	t.Helper()
	var logs bytes.Buffer
	opts.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
	h := New(functionOf(t, e.RouteKey), f, opts)
	resp, err := h.Handle(context.Background(), e)
	if err != nil {
		t.Fatalf("Handle returned error %v; want every failure as a response", err)
	}
	return resp, logs.String()
}

// decodeJSON decodes a response body, failing the test when it is not JSON.
func decodeJSON(t *testing.T, resp events.APIGatewayV2HTTPResponse) map[string]any {
	t.Helper()
	if got := resp.Headers["Content-Type"]; got != "application/json; charset=utf-8" {
		t.Errorf("Content-Type = %q, want application/json; charset=utf-8", got)
	}
	var v map[string]any
	if err := json.Unmarshal([]byte(resp.Body), &v); err != nil {
		t.Fatalf("body is not a JSON object: %v\n%s", err, resp.Body)
	}
	return v
}

// errorCode returns the code of a JSON error response.
func errorCode(t *testing.T, resp events.APIGatewayV2HTTPResponse) string {
	t.Helper()
	v := decodeJSON(t, resp)
	e, _ := v["error"].(map[string]any)
	code, _ := e["code"].(string)
	if code == "" {
		t.Errorf("body %s has no error code", resp.Body)
	}
	return code
}
