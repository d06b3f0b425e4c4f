// Package api turns API Gateway HTTP API events (payload format 2.0) into calls of the
// contact use cases and their results into JSON responses, or HTML pages for the emailed
// confirmation link. Handlers only decode, call the domain and encode: every rule lives in
// package contact.
package api

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/servicecontacts/servicecontacts/shared/contact"
)

// Contacts is what the handlers need of the domain; *contact.Manager implements it.
type Contacts interface {
	Customers
	Operators
}

// Customers is what the customers' routes and the emailed link need of the domain. Caller
// is the NIC handle the JWT authorizer vouched for.
type Customers interface {
	Profile(ctx context.Context, caller string) (contact.Account, error)
	ListServices(ctx context.Context, caller string, q contact.ServiceQuery) (contact.ServicePage, error)
	ListChanges(ctx context.Context, caller string, q contact.ChangeQuery) (contact.ChangePage, error)
	GetChange(ctx context.Context, caller, id string) (contact.Change, error)
	RequestChanges(ctx context.Context, caller, serviceID string, wanted map[contact.Role]string) ([]contact.Change, error)
	Decide(ctx context.Context, d contact.Decision) (contact.Change, error)
	Cancel(ctx context.Context, caller, id string) (contact.Change, error)
	Resend(ctx context.Context, caller, id string) (contact.Change, error)
	Lookup(ctx context.Context, id, token, address string) (contact.Change, contact.Account, error)

	RequestBatch(ctx context.Context, caller string, services []string, wanted map[contact.Role]string) (contact.Batch, []contact.Change, error)
	GetBatch(ctx context.Context, caller, id string) (contact.Batch, []contact.Change, error)
	DecideBatch(ctx context.Context, d contact.BatchDecision) (contact.Batch, []contact.BatchAnswer, error)
	ResendBatch(ctx context.Context, caller, id string) (contact.Batch, []contact.Change, error)
	LookupBatch(ctx context.Context, id, token, address string) (contact.Batch, []contact.Change, contact.Account, error)
}

// Operators is what the operator routes need of the domain. By is the operator's IAM
// principal, recorded in every history entry and record the call writes.
type Operators interface {
	PutAccount(ctx context.Context, by string, a contact.Account) (contact.Account, bool, error)
	PatchAccount(ctx context.Context, by, nic string, p contact.AccountPatch) (contact.Account, bool, error)
	PutService(ctx context.Context, by string, s contact.Service) (contact.Service, bool, error)
	DeleteService(ctx context.Context, by, id string) (bool, error)
	FindChanges(ctx context.Context, q contact.ChangeSearch) (contact.ChangePage, error)
	ChangeByID(ctx context.Context, id string) (contact.Change, error)
	CancelFor(ctx context.Context, by, id, reason string) (contact.Change, error)
	ResendFor(ctx context.Context, by, id string) (contact.Change, error)
}

var (
	_ Contacts  = (*contact.Manager)(nil)
	_ Customers = (*contact.Manager)(nil)
	_ Operators = (*contact.Manager)(nil)
)

// DefaultIdentityClaim is the JWT claim that holds the caller's NIC handle unless
// Options.IdentityClaim names another.
const DefaultIdentityClaim = "sub"

// Options tunes a Handler.
type Options struct {
	// Logger receives one line per request and the details of internal errors;
	// slog.Default() when nil.
	Logger *slog.Logger
	// IdentityClaim is the JWT claim holding the caller's NIC handle: "sub" when empty;
	// with Amazon Cognito, e.g. "custom:nic" added by a pre token generation trigger.
	IdentityClaim string
}

// Handler serves the routes of one Lambda function.
type Handler struct {
	contacts  Contacts
	log       *slog.Logger
	claim     string              // the JWT claim holding the caller's NIC handle
	endpoints map[string]endpoint // by route key
}

// endpoint is one route and the code behind it. An endpoint returns either a response or
// an error, which Handle turns into a JSON error or an HTML error page.
type endpoint struct {
	route Route
	// page renders the endpoint's failures as HTML pages, for the people who followed an
	// emailed link; nil for the JSON endpoints.
	page  func(r *request, p problem) response
	serve func(ctx context.Context, r *request) (events.APIGatewayV2HTTPResponse, error)
}

// request is an event on its way through an endpoint.
type request struct {
	events.APIGatewayV2HTTPRequest
	caller string           // the authenticated NIC handle; empty on public and operator routes
	by     string           // the operator's IAM principal; set on operator routes only
	lang   contact.Language // the language of the pages, once a page endpoint knows it
}

// newHandler returns a handler of the endpoints that code returns, by route key: those of
// one function, whose binary links only their code (a table chosen at run time would link
// every function's).
func newHandler(function string, contacts Contacts, opts Options, code func(h *Handler) map[string]endpoint) *Handler {
	h := &Handler{contacts: contacts, log: opts.Logger, claim: opts.IdentityClaim, endpoints: map[string]endpoint{}}
	if h.log == nil {
		h.log = slog.Default()
	}
	if h.claim == "" {
		h.claim = DefaultIdentityClaim
	}
	mine := code(h)
	for _, rt := range Routes {
		if rt.Function != function {
			continue
		}
		ep, ok := mine[rt.Key()]
		if !ok {
			// Routes and the tables are in the same package; a test keeps them in step.
			panic(fmt.Sprintf("api: no endpoint for route %s", rt.Key()))
		}
		ep.route = rt
		h.endpoints[rt.Key()] = ep
	}
	if len(h.endpoints) != len(mine) {
		panic(fmt.Sprintf("api: function %s has endpoints for routes it does not serve", function))
	}
	return h
}

// Handle serves one API Gateway event. Every failure becomes a response: the returned
// error is always nil, so that API Gateway never answers with its own opaque 500.
func (h *Handler) Handle(ctx context.Context, event events.APIGatewayV2HTTPRequest) (resp events.APIGatewayV2HTTPResponse, _ error) {
	start := time.Now()
	// The Lambda logger adds the invocation's requestId to every line logged with ctx.
	log := h.log.With("apigwRequestId", event.RequestContext.RequestID, "route", event.RouteKey)

	ep, ok := h.endpoints[event.RouteKey]
	r := &request{APIGatewayV2HTTPRequest: event}
	defer func() {
		if v := recover(); v != nil {
			resp = h.failure(ctx, log, ep, r, fmt.Errorf("panic: %v", v))
		}
		log.InfoContext(ctx, "request served", "status", resp.StatusCode, "duration_ms", time.Since(start).Milliseconds())
	}()

	if !ok {
		return h.failure(ctx, log, ep, r, contact.Errorf(contact.ErrNotFound, "route_not_found", "no route %.100q", event.RouteKey)), nil
	}
	switch {
	case ep.route.Operator:
		by, err := operatorOf(event)
		if err != nil {
			return h.failure(ctx, log, ep, r, err), nil
		}
		r.by = by
		log = log.With("operator", by)
	case !ep.route.Public:
		caller, err := callerOf(event, h.claim)
		if err != nil {
			return h.failure(ctx, log, ep, r, err), nil
		}
		r.caller = caller
		log = log.With("caller", caller)
	}
	resp, err := ep.serve(ctx, r)
	if err != nil {
		return h.failure(ctx, log, ep, r, err), nil
	}
	return resp, nil
}

// failure logs err and renders it as the endpoint's kind of response.
func (h *Handler) failure(ctx context.Context, log *slog.Logger, ep endpoint, r *request, err error) events.APIGatewayV2HTTPResponse {
	p := problemOf(err)
	if p.Status >= http.StatusInternalServerError {
		log.ErrorContext(ctx, "request failed", "status", p.Status, "err", err)
	} else {
		log.InfoContext(ctx, "request refused", "status", p.Status, "code", p.Code)
	}
	var resp events.APIGatewayV2HTTPResponse
	if ep.page != nil {
		resp = ep.page(r, p)
	} else {
		resp = jsonResponse(p.Status, errorBody{Error: errorDetail{Code: p.Code, Message: p.Message}})
	}
	if p.RetryAfter > 0 {
		resp.Headers["Retry-After"] = strconv.Itoa(p.RetryAfter)
	}
	return resp
}

// callerOf returns the NIC handle the JWT authorizer vouched for in claim. Identity comes
// from the authorizer's claims only: never from a header or the body, which the caller
// controls.
func callerOf(event events.APIGatewayV2HTTPRequest, claim string) (string, error) {
	var value string
	if a := event.RequestContext.Authorizer; a != nil && a.JWT != nil {
		value = a.JWT.Claims[claim]
	}
	if value == "" {
		return "", contact.Errorf(contact.ErrUnauthenticated, "unauthenticated", "authentication is required")
	}
	nic, err := contact.NormalizeNIC(value)
	if err != nil {
		return "", contact.Errorf(contact.ErrUnauthenticated, "unauthenticated", "the token's %.40q claim is not a NIC handle", claim)
	}
	return nic, nil
}

// operatorOf returns the IAM principal API Gateway's AWS_IAM authorization verified. A
// customer's JWT never makes an operator: without an IAM identity the answer is 403, as
// API Gateway itself answers an unsigned call.
func operatorOf(event events.APIGatewayV2HTTPRequest) (string, error) {
	var arn string
	if a := event.RequestContext.Authorizer; a != nil && a.IAM != nil {
		arn = strings.TrimSpace(a.IAM.UserARN)
	}
	if arn == "" {
		return "", contact.Errorf(contact.ErrForbidden, "forbidden", "operator routes take requests signed with AWS SigV4 by an IAM principal")
	}
	return arn, nil
}
