package api

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"

	"github.com/servicecontacts/servicecontacts/shared/contact"
)

func TestJSONRoutes(t *testing.T) {
	tests := []struct {
		name       string
		event      events.APIGatewayV2HTTPRequest
		fake       func(t *testing.T) *fakeContacts
		wantStatus int
		wantBody   map[string]any
	}{
		{
			name: "list services",
			event: func() events.APIGatewayV2HTTPRequest {
				e := newEvent("GET /me/services", "AA11111-OVH")
				e.QueryStringParameters = map[string]string{"role": "tech", "type": "domain", "limit": "2", "cursor": "abc"}
				return e
			}(),
			fake: func(t *testing.T) *fakeContacts {
				return &fakeContacts{listServices: func(_ context.Context, caller string, q contact.ServiceQuery) (contact.ServicePage, error) {
					want := contact.ServiceQuery{Role: contact.Tech, Type: "domain", Limit: 2, Cursor: "abc"}
					if caller != adminNIC || q != want {
						t.Errorf("ListServices(%q, %+v), want (%q, %+v)", caller, q, adminNIC, want)
					}
					return contact.ServicePage{Services: []contact.Service{sampleService()}, NextCursor: "next-page"}, nil
				}}
			},
			wantStatus: http.StatusOK,
			wantBody: map[string]any{
				"items": []any{map[string]any{
					"id":       "example.com",
					"type":     "domain",
					"contacts": map[string]any{"admin": adminNIC, "tech": adminNIC, "billing": billingNIC},
					"myRoles":  []any{"admin", "tech"},
				}},
				"nextCursor": "next-page",
			},
		},
		{
			name:  "list services, last and empty page",
			event: newEvent("GET /me/services", adminNIC),
			fake: func(t *testing.T) *fakeContacts {
				return &fakeContacts{listServices: func(_ context.Context, _ string, q contact.ServiceQuery) (contact.ServicePage, error) {
					if q != (contact.ServiceQuery{}) {
						t.Errorf("query = %+v, want the zero query", q)
					}
					return contact.ServicePage{}, nil
				}}
			},
			wantStatus: http.StatusOK,
			wantBody:   map[string]any{"items": []any{}, "nextCursor": nil},
		},
		{
			name: "list contact changes",
			event: func() events.APIGatewayV2HTTPRequest {
				e := newEvent("GET /me/contact-changes", adminNIC)
				e.QueryStringParameters = map[string]string{"state": "pending", "limit": "10", "cursor": "c1"}
				return e
			}(),
			fake: func(t *testing.T) *fakeContacts {
				return &fakeContacts{listChanges: func(_ context.Context, caller string, q contact.ChangeQuery) (contact.ChangePage, error) {
					want := contact.ChangeQuery{State: contact.Pending, Limit: 10, Cursor: "c1"}
					if caller != adminNIC || q != want {
						t.Errorf("ListChanges(%q, %+v), want (%q, %+v)", caller, q, adminNIC, want)
					}
					return contact.ChangePage{Changes: []contact.Change{sampleChange()}}, nil
				}}
			},
			wantStatus: http.StatusOK,
			wantBody:   map[string]any{"items": []any{sampleChangeJSON()}, "nextCursor": nil},
		},
		{
			name: "get contact change",
			event: func() events.APIGatewayV2HTTPRequest {
				e := newEvent("GET /me/contact-changes/{id}", newTechNIC)
				e.PathParameters = map[string]string{"id": sampleChangeID}
				return e
			}(),
			fake: func(t *testing.T) *fakeContacts {
				return &fakeContacts{getChange: func(_ context.Context, caller, id string) (contact.Change, error) {
					if caller != newTechNIC || id != sampleChangeID {
						t.Errorf("GetChange(%q, %q), want (%q, %s)", caller, id, newTechNIC, sampleChangeID)
					}
					return sampleChange(), nil
				}}
			},
			wantStatus: http.StatusOK,
			wantBody:   sampleChangeJSON(),
		},
		{
			name: "request contact changes",
			event: func() events.APIGatewayV2HTTPRequest {
				e := newEvent("POST /services/{serviceId}/contact-changes", adminNIC)
				e.PathParameters = map[string]string{"serviceId": "example.com"}
				e.Body = `{"tech": "NN22222-ovh", "billing": "bb44444-ovh"}`
				return e
			}(),
			fake: func(t *testing.T) *fakeContacts {
				return &fakeContacts{requestChanges: func(_ context.Context, caller, serviceID string, wanted map[contact.Role]string) ([]contact.Change, error) {
					// NIC handles of the published form pass through as sent: the domain normalizes them.
					want := map[contact.Role]string{contact.Tech: "NN22222-ovh", contact.Billing: "bb44444-ovh"}
					if caller != adminNIC || serviceID != "example.com" || !cmp.Equal(wanted, want) {
						t.Errorf("RequestChanges(%q, %q, %v), want (%q, example.com, %v)", caller, serviceID, wanted, adminNIC, want)
					}
					return []contact.Change{sampleChange()}, nil
				}}
			},
			wantStatus: http.StatusCreated,
			wantBody:   map[string]any{"items": []any{sampleChangeJSON()}},
		},
		{
			name: "accept",
			event: func() events.APIGatewayV2HTTPRequest {
				e := newEvent("POST /me/contact-changes/{id}/accept", newTechNIC)
				e.PathParameters = map[string]string{"id": sampleChangeID}
				e.Body = `{"token": "tok-new-tech"}`
				return e
			}(),
			fake: func(t *testing.T) *fakeContacts {
				return &fakeContacts{decide: func(_ context.Context, d contact.Decision) (contact.Change, error) {
					want := contact.Decision{ChangeID: sampleChangeID, Token: "tok-new-tech", Caller: newTechNIC, Accept: true}
					if d != want {
						t.Errorf("Decide(%+v), want %+v", d, want)
					}
					return sampleChange(), nil
				}}
			},
			wantStatus: http.StatusOK,
			wantBody:   sampleChangeJSON(),
		},
		{
			name: "refuse",
			event: func() events.APIGatewayV2HTTPRequest {
				e := newEvent("POST /me/contact-changes/{id}/refuse", newTechNIC)
				e.PathParameters = map[string]string{"id": sampleChangeID}
				e.Body = `{"token": "tok-new-tech"}`
				return e
			}(),
			fake: func(t *testing.T) *fakeContacts {
				return &fakeContacts{decide: func(_ context.Context, d contact.Decision) (contact.Change, error) {
					want := contact.Decision{ChangeID: sampleChangeID, Token: "tok-new-tech", Caller: newTechNIC, Accept: false}
					if d != want {
						t.Errorf("Decide(%+v), want %+v", d, want)
					}
					return sampleChange(), nil
				}}
			},
			wantStatus: http.StatusOK,
			wantBody:   sampleChangeJSON(),
		},
		{
			name: "cancel",
			event: func() events.APIGatewayV2HTTPRequest {
				e := newEvent("POST /me/contact-changes/{id}/cancel", adminNIC)
				e.PathParameters = map[string]string{"id": sampleChangeID}
				return e
			}(),
			fake: func(t *testing.T) *fakeContacts {
				return &fakeContacts{cancel: func(_ context.Context, caller, id string) (contact.Change, error) {
					if caller != adminNIC || id != sampleChangeID {
						t.Errorf("Cancel(%q, %q), want (%q, %s)", caller, id, adminNIC, sampleChangeID)
					}
					return sampleChange(), nil
				}}
			},
			wantStatus: http.StatusOK,
			wantBody:   sampleChangeJSON(),
		},
		{
			name: "resend",
			event: func() events.APIGatewayV2HTTPRequest {
				e := newEvent("POST /me/contact-changes/{id}/resend", adminNIC)
				e.PathParameters = map[string]string{"id": sampleChangeID}
				return e
			}(),
			fake: func(t *testing.T) *fakeContacts {
				return &fakeContacts{resend: func(_ context.Context, caller, id string) (contact.Change, error) {
					if caller != adminNIC || id != sampleChangeID {
						t.Errorf("Resend(%q, %q), want (%q, %s)", caller, id, adminNIC, sampleChangeID)
					}
					return sampleChange(), nil
				}}
			},
			wantStatus: http.StatusAccepted,
			wantBody:   sampleChangeJSON(),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, _ := serve(t, tt.fake(t), tt.event)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status = %d, want %d; body %s", resp.StatusCode, tt.wantStatus, resp.Body)
			}
			if diff := cmp.Diff(tt.wantBody, decodeJSON(t, resp)); diff != "" {
				t.Errorf("body mismatch (-want +got):\n%s", diff)
			}
			if got := resp.Headers["Cache-Control"]; got != "no-store" {
				t.Errorf("Cache-Control = %q, want no-store", got)
			}
			for _, secret := range []string{secretTokenHash, secretOldHash, secretTaskToken, "tok-new-tech", "okenHash", "askToken", `"token"`} {
				if strings.Contains(resp.Body, secret) {
					t.Errorf("body shows %q: %s", secret, resp.Body)
				}
			}
			checkAgainstOpenAPI(t, tt.event.RouteKey, resp)
		})
	}
}

func TestErrorMapping(t *testing.T) {
	const internalDetail = "dynamodb: ProvisionedThroughputExceeded on table secret-table"
	tests := []struct {
		name           string
		err            error
		wantStatus     int
		wantBody       map[string]any
		wantRetryAfter string
	}{
		{"invalid", contact.Errorf(contact.ErrInvalid, "invalid_state", "unknown state %q", "x"),
			400, errorJSON("invalid_state", `unknown state "x"`), ""},
		{"unauthenticated", contact.Errorf(contact.ErrUnauthenticated, "unauthenticated", "log in"),
			401, errorJSON("unauthenticated", "log in"), ""},
		{"forbidden", contact.Errorf(contact.ErrForbidden, "not_allowed", "as tech you may not"),
			403, errorJSON("not_allowed", "as tech you may not"), ""},
		{"not found", contact.Errorf(contact.ErrNotFound, "request_not_found", "request c0ffee not found"),
			404, errorJSON("request_not_found", "request c0ffee not found"), ""},
		{"conflict", contact.Errorf(contact.ErrConflict, "request_open", "still open"),
			409, errorJSON("request_open", "still open"), ""},
		{"gone", contact.Errorf(contact.ErrGone, "token_used", "this token was already used"),
			410, errorJSON("token_used", "this token was already used"), ""},
		{"rule", contact.Errorf(contact.ErrRule, "same_holder", "already holds it"),
			422, errorJSON("same_holder", "already holds it"), ""},
		{"rate limited", &contact.Error{Kind: contact.ErrRateLimited, Code: "resend_too_soon", Message: "wait", RetryAfter: 42},
			429, errorJSON("resend_too_soon", "wait"), "42"},
		{"unavailable without retry after", &contact.Error{Kind: contact.ErrUnavailable, Code: "throttled", Message: "busy"},
			503, errorJSON("throttled", "busy"), "1"},
		{"unavailable with retry after", &contact.Error{Kind: contact.ErrUnavailable, Code: "throttled", Message: "busy", RetryAfter: 5},
			503, errorJSON("throttled", "busy"), "5"},
		{"retry after only where it means something", &contact.Error{Kind: contact.ErrConflict, Code: "request_open", Message: "open", RetryAfter: 9},
			409, errorJSON("request_open", "open"), ""},
		{"domain error wrapped with context", fmt.Errorf("load request c0ffee: %w", contact.Errorf(contact.ErrNotFound, "request_not_found", "gone fishing")),
			404, errorJSON("request_not_found", "gone fishing"), ""},
		{"bare kind: generic code and message, details hidden", fmt.Errorf("save %s: %w", internalDetail, contact.ErrVersionConflict),
			409, errorJSON("conflict", "the request conflicts with the current state; reload and try again"), ""},
		{"unknown error", errors.New(internalDetail),
			500, errorJSON("internal", "an internal error occurred; try again later"), ""},
		{"domain error of no kind", &contact.Error{Code: "oops", Message: internalDetail},
			500, errorJSON("internal", "an internal error occurred; try again later"), ""},
		{"context deadline", fmt.Errorf("query: %w", context.DeadlineExceeded),
			500, errorJSON("internal", "an internal error occurred; try again later"), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Accepting is the route that can meet every kind of failure.
			fake := &fakeContacts{decide: func(context.Context, contact.Decision) (contact.Change, error) {
				return contact.Change{}, tt.err
			}}
			e := newEvent("POST /me/contact-changes/{id}/accept", adminNIC)
			e.PathParameters = map[string]string{"id": sampleChangeID}
			e.Body = `{"token": "t"}`
			resp, logs := serve(t, fake, e)
			if resp.StatusCode != tt.wantStatus {
				t.Errorf("status = %d, want %d", resp.StatusCode, tt.wantStatus)
			}
			if diff := cmp.Diff(tt.wantBody, decodeJSON(t, resp)); diff != "" {
				t.Errorf("body mismatch (-want +got):\n%s", diff)
			}
			if got := resp.Headers["Retry-After"]; got != tt.wantRetryAfter {
				t.Errorf("Retry-After = %q, want %q", got, tt.wantRetryAfter)
			}
			if tt.wantStatus == 500 && !strings.Contains(logs, internalDetail) && !strings.Contains(logs, "deadline") {
				t.Errorf("the internal error is not logged: %s", logs)
			}
			if !strings.Contains(logs, `"apigwRequestId":"req-1"`) {
				t.Errorf("logs lack the request id: %s", logs)
			}
			checkAgainstOpenAPI(t, e.RouteKey, resp)
		})
	}
}

func errorJSON(code, message string) map[string]any {
	return map[string]any{"error": map[string]any{"code": code, "message": message}}
}

func TestIdentityComesFromTheAuthorizerOnly(t *testing.T) {
	withAuthorizer := func(a *events.APIGatewayV2HTTPRequestContextAuthorizerDescription) events.APIGatewayV2HTTPRequest {
		e := newEvent("GET /me/services", "")
		e.RequestContext.Authorizer = a
		return e
	}
	jwt := func(claims map[string]string) *events.APIGatewayV2HTTPRequestContextAuthorizerDescription {
		return &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
			JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: claims},
		}
	}
	// A Cognito ID token: sub is a UUID, the NIC handle is in a custom attribute.
	cognito := map[string]string{"sub": "8f2c5e0a-3b1d-4c7e-9a6f-2d4b8e1c7a90", "custom:nic": "AA11111-OVH", "cognito:username": "alice"}
	tests := []struct {
		name       string
		claim      string // Options.IdentityClaim; "" is the default, sub
		event      events.APIGatewayV2HTTPRequest
		wantCaller string // "" when the request must be refused with 401
	}{
		{"sub claim, normalized", "", withAuthorizer(jwt(map[string]string{"sub": " AA11111-OVH "})), adminNIC},
		{"sub named explicitly", "sub", withAuthorizer(jwt(map[string]string{"sub": adminNIC})), adminNIC},
		{"sub in headers is ignored", "", func() events.APIGatewayV2HTTPRequest {
			e := withAuthorizer(jwt(map[string]string{"sub": adminNIC}))
			e.Headers["sub"] = billingNIC
			e.Headers["x-nic"] = billingNIC
			e.Headers["x-amzn-oidc-identity"] = billingNIC
			return e
		}(), adminNIC},
		{"no authorizer, sub header", "", func() events.APIGatewayV2HTTPRequest {
			e := withAuthorizer(nil)
			e.Headers["sub"] = billingNIC
			e.QueryStringParameters = map[string]string{"sub": billingNIC}
			return e
		}(), ""},
		{"no claims", "", withAuthorizer(jwt(nil)), ""},
		{"other claims only", "", withAuthorizer(jwt(map[string]string{"username": adminNIC, "email": "a@example.com"})), ""},
		{"sub not a NIC handle", "", withAuthorizer(jwt(map[string]string{"sub": "root"})), ""},
		{"empty authorizer", "", withAuthorizer(&events.APIGatewayV2HTTPRequestContextAuthorizerDescription{}), ""},
		{"lambda authorizer context is not a JWT", "", withAuthorizer(&events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
			Lambda: map[string]any{"sub": adminNIC},
		}), ""},
		{"an operator's IAM identity is not a customer", "", newOperatorEvent("GET /me/services", "arn:aws:iam::123456789012:user/"+adminNIC), ""},

		{"custom:nic claim of a Cognito token", "custom:nic", withAuthorizer(jwt(cognito)), adminNIC},
		{"custom:nic claim wins over a NIC-shaped sub", "custom:nic", withAuthorizer(jwt(map[string]string{"sub": billingNIC, "custom:nic": adminNIC})), adminNIC},
		{"custom:nic configured, sub alone is not enough", "custom:nic", withAuthorizer(jwt(map[string]string{"sub": adminNIC})), ""},
		{"custom:nic configured, empty claim", "custom:nic", withAuthorizer(jwt(map[string]string{"sub": adminNIC, "custom:nic": ""})), ""},
		{"custom:nic not a NIC handle", "custom:nic", withAuthorizer(jwt(map[string]string{"custom:nic": "alice"})), ""},
		{"sub configured, custom:nic is ignored", "", withAuthorizer(jwt(cognito)), ""},
		{"claim names are case sensitive", "custom:nic", withAuthorizer(jwt(map[string]string{"custom:NIC": adminNIC})), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var gotCaller string
			fake := &fakeContacts{listServices: func(_ context.Context, caller string, _ contact.ServiceQuery) (contact.ServicePage, error) {
				gotCaller = caller
				return contact.ServicePage{}, nil
			}}
			resp, _ := serveWith(t, fake, tt.event, Options{IdentityClaim: tt.claim})
			if tt.wantCaller == "" {
				if resp.StatusCode != http.StatusUnauthorized || errorCode(t, resp) != "unauthenticated" {
					t.Errorf("got %d %s, want 401 unauthenticated", resp.StatusCode, resp.Body)
				}
				if gotCaller != "" {
					t.Errorf("the domain was called as %q", gotCaller)
				}
				checkAgainstOpenAPI(t, tt.event.RouteKey, resp)
				return
			}
			if resp.StatusCode != http.StatusOK || gotCaller != tt.wantCaller {
				t.Errorf("got %d as %q, want 200 as %q", resp.StatusCode, gotCaller, tt.wantCaller)
			}
		})
	}
}

// Every route but the emailed link's needs an identity: a JWT's on the customers' routes
// (401 without), an IAM principal's on the operator routes (403 without, as API Gateway).
func TestEveryPrivateRouteNeedsAuthentication(t *testing.T) {
	for _, r := range Routes {
		if r.Public {
			continue
		}
		t.Run(r.Key(), func(t *testing.T) {
			e := newEvent(r.Key(), "")
			e.PathParameters = map[string]string{"id": sampleChangeID, "serviceId": "example.com", "nic": adminNIC}
			e.QueryStringParameters = map[string]string{"nic": adminNIC}
			e.Body = `{"token":"t","tech":"nn22222-ovh"}`
			resp, _ := serve(t, &fakeContacts{}, e)
			want, code := http.StatusUnauthorized, "unauthenticated"
			if r.Operator {
				want, code = http.StatusForbidden, "forbidden"
			}
			if resp.StatusCode != want || errorCode(t, resp) != code {
				t.Errorf("got %d %s, want %d %s", resp.StatusCode, resp.Body, want, code)
			}
			checkAgainstOpenAPI(t, r.Key(), resp)
		})
	}
}

func TestHandlerServesOnlyItsFunctionsRoutes(t *testing.T) {
	functions := []string{FunctionList, FunctionRequest, FunctionConfirm, FunctionResend, FunctionOperator}
	for _, function := range functions {
		for _, r := range Routes {
			t.Run(function+" "+r.Key(), func(t *testing.T) {
				h := New(function, &fakeContacts{}, Options{Logger: discardLogger})
				e := newEvent(r.Key(), adminNIC)
				if r.Operator {
					e = newOperatorEvent(r.Key(), operatorARN)
				}
				resp, err := h.Handle(context.Background(), e)
				if err != nil {
					t.Fatal(err)
				}
				notFound := resp.StatusCode == http.StatusNotFound && strings.Contains(resp.Body, `"route_not_found"`)
				if notFound != (r.Function != function) {
					t.Errorf("got %d %s; served by %s, want route_not_found exactly when not %s", resp.StatusCode, resp.Body, r.Function, function)
				}
			})
		}
	}
	for _, key := range []string{"", "$default", "GET /", "DELETE /me/services", "get /me/services"} {
		t.Run("unknown "+key, func(t *testing.T) {
			resp, err := New(FunctionList, &fakeContacts{}, Options{Logger: discardLogger}).Handle(context.Background(), newEvent(key, adminNIC))
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != http.StatusNotFound || errorCode(t, resp) != "route_not_found" {
				t.Errorf("got %d %s, want 404 route_not_found", resp.StatusCode, resp.Body)
			}
		})
	}
}

func TestMalformedInputIsA4xx(t *testing.T) {
	const (
		requestRoute = "POST /services/{serviceId}/contact-changes"
		acceptRoute  = "POST /me/contact-changes/{id}/accept"
		listRoute    = "GET /me/services"
		changesRoute = "GET /me/contact-changes"
	)
	b64 := base64.StdEncoding.EncodeToString
	huge := `{"tech":"` + strings.Repeat("a", maxBodyBytes) + `"}`
	tests := []struct {
		name        string
		route       string
		body        string
		base64      bool
		contentType string // "" keeps application/json; "-" removes the header
		query       map[string]string
		path        map[string]string // nil: valid path parameters
		wantStatus  int
		wantCode    string // "" when the request is well formed and reaches the domain
		// lenient marks what the handler takes though the document does not promise it:
		// the domain decides (an empty object), or the handler forgives (spaces around).
		lenient bool
	}{
		{name: "not JSON", route: requestRoute, body: `tech=nn22222-ovh`, wantStatus: 400, wantCode: "invalid_body"},
		{name: "truncated", route: requestRoute, body: `{"tech": "nn22222-ovh"`, wantStatus: 400, wantCode: "invalid_body"},
		{name: "empty body", route: requestRoute, body: ``, wantStatus: 400, wantCode: "invalid_body"},
		{name: "array", route: requestRoute, body: `["tech"]`, wantStatus: 400, wantCode: "invalid_body"},
		{name: "string", route: requestRoute, body: `"tech"`, wantStatus: 400, wantCode: "invalid_body"},
		{name: "null", route: requestRoute, body: `null`, wantStatus: 400, wantCode: "invalid_body"},
		{name: "number value", route: requestRoute, body: `{"tech": 12}`, wantStatus: 400, wantCode: "invalid_body"},
		{name: "null value", route: requestRoute, body: `{"tech": null}`, wantStatus: 400, wantCode: "invalid_body"},
		{name: "object value", route: requestRoute, body: `{"tech": {"nic": "nn22222-ovh"}}`, wantStatus: 400, wantCode: "invalid_body"},
		{name: "unknown field", route: requestRoute, body: `{"tech": "nn22222-ovh", "owner": "x"}`, wantStatus: 400, wantCode: "invalid_body"},
		{name: "identity in the body is an unknown field", route: requestRoute, body: `{"tech": "nn22222-ovh", "sub": "bb33333-ovh"}`, wantStatus: 400, wantCode: "invalid_body"},
		{name: "field names are case sensitive", route: requestRoute, body: `{"Tech": "nn22222-ovh"}`, wantStatus: 400, wantCode: "invalid_body"},
		{name: "duplicate field", route: requestRoute, body: `{"tech": "nn22222-ovh", "tech": "bb33333-ovh"}`, wantStatus: 400, wantCode: "invalid_body"},
		{name: "trailing data", route: requestRoute, body: `{"tech": "nn22222-ovh"} {}`, wantStatus: 400, wantCode: "invalid_body"},
		{name: "missing colon", route: requestRoute, body: `{"tech" "nn22222-ovh"}`, wantStatus: 400, wantCode: "invalid_body"},
		{name: "invalid UTF-8 key", route: requestRoute, body: "{\"\xff\xfe\": \"x\"}", wantStatus: 400, wantCode: "invalid_body"},
		{name: "body over 64 KiB", route: requestRoute, body: huge, wantStatus: 400, wantCode: "invalid_body"},
		{name: "base64 body over 64 KiB", route: requestRoute, body: b64([]byte(huge)), base64: true, wantStatus: 400, wantCode: "invalid_body"},
		{name: "bad base64", route: requestRoute, body: `{"tech": "nn22222-ovh"}`, base64: true, wantStatus: 400, wantCode: "invalid_body"},
		{name: "base64 body", route: requestRoute, body: b64([]byte(`{"tech": "nn22222-ovh"}`)), base64: true, wantStatus: 201},
		{name: "JSON with charset", route: requestRoute, body: `{"tech": "nn22222-ovh"}`, contentType: "application/json; charset=utf-8", wantStatus: 201},
		{name: "no Content-Type", route: requestRoute, body: `{"tech": "nn22222-ovh"}`, contentType: "-", wantStatus: 201},
		{name: "empty object reaches the domain", route: requestRoute, body: `{}`, wantStatus: 201, lenient: true},
		{name: "form Content-Type", route: requestRoute, body: `{"tech": "nn22222-ovh"}`, contentType: "application/x-www-form-urlencoded", wantStatus: 415, wantCode: "unsupported_media_type"},
		{name: "text Content-Type", route: requestRoute, body: `{"tech": "nn22222-ovh"}`, contentType: "text/plain", wantStatus: 415, wantCode: "unsupported_media_type"},
		{name: "garbled Content-Type", route: requestRoute, body: `{"tech": "nn22222-ovh"}`, contentType: "application/json;;=", wantStatus: 415, wantCode: "unsupported_media_type"},
		{name: "no token", route: acceptRoute, body: `{}`, wantStatus: 400, wantCode: "missing_token"},
		{name: "empty token", route: acceptRoute, body: `{"token": ""}`, wantStatus: 400, wantCode: "missing_token"},
		{name: "blank token", route: acceptRoute, body: `{"token": "  "}`, wantStatus: 400, wantCode: "missing_token"},
		{name: "token of the wrong type", route: acceptRoute, body: `{"token": 123}`, wantStatus: 400, wantCode: "invalid_body"},
		{name: "token and extra field", route: acceptRoute, body: `{"token": "t", "accept": true}`, wantStatus: 400, wantCode: "invalid_body"},
		{name: "limit not a number", route: listRoute, query: map[string]string{"limit": "ten"}, wantStatus: 400, wantCode: "invalid_limit"},
		{name: "limit too large for an int", route: listRoute, query: map[string]string{"limit": "99999999999999999999999"}, wantStatus: 400, wantCode: "invalid_limit"},
		{name: "limit with decimals", route: listRoute, query: map[string]string{"limit": "1.5"}, wantStatus: 400, wantCode: "invalid_limit"},
		{name: "repeated limit", route: listRoute, query: map[string]string{"limit": "1,2"}, wantStatus: 400, wantCode: "invalid_limit"},
		{name: "negative limit", route: listRoute, query: map[string]string{"limit": "-1"}, wantStatus: 400, wantCode: "invalid_limit"},
		{name: "limit 0", route: listRoute, query: map[string]string{"limit": "0"}, wantStatus: 400, wantCode: "invalid_limit"},
		{name: "limit 101", route: listRoute, query: map[string]string{"limit": "101"}, wantStatus: 400, wantCode: "invalid_limit"},
		{name: "limit with a sign", route: listRoute, query: map[string]string{"limit": "+5"}, wantStatus: 400, wantCode: "invalid_limit"},
		{name: "limit 1", route: listRoute, query: map[string]string{"limit": "1"}, wantStatus: 200},
		{name: "limit 100", route: listRoute, query: map[string]string{"limit": "100"}, wantStatus: 200},
		{name: "unknown role", route: listRoute, query: map[string]string{"role": "<owner>"}, wantStatus: 400, wantCode: "invalid_role"},
		{name: "unknown state", route: changesRoute, query: map[string]string{"state": "lost"}, wantStatus: 400, wantCode: "invalid_state"},
		{name: "type of another form", route: listRoute, query: map[string]string{"type": "Domain"}, wantStatus: 400, wantCode: "invalid_service_type"},
		{name: "type of 65 characters", route: listRoute, query: map[string]string{"type": strings.Repeat("d", 65)}, wantStatus: 400, wantCode: "invalid_service_type"},
		{name: "cursor of 1,025 characters", route: listRoute, query: map[string]string{"cursor": strings.Repeat("A", 1025)}, wantStatus: 400, wantCode: "invalid_cursor"},
		{name: "cursor with a padding", route: changesRoute, query: map[string]string{"cursor": "YQ=="}, wantStatus: 400, wantCode: "invalid_cursor"},
		{name: "cursor of 1,024 characters reaches the domain", route: listRoute, query: map[string]string{"cursor": strings.Repeat("A", 1024)}, wantStatus: 200},
		{name: "token of 129 characters", route: acceptRoute, body: `{"token": "` + strings.Repeat("t", 129) + `"}`, wantStatus: 400, wantCode: "malformed_token"},
		{name: "token with a space inside", route: acceptRoute, body: `{"token": "to ken"}`, wantStatus: 400, wantCode: "malformed_token"},
		{name: "token of 128 characters reaches the domain", route: acceptRoute, body: `{"token": "` + strings.Repeat("t", 128) + `"}`, wantStatus: 200},
		{name: "NIC of 5,000 characters", route: requestRoute, body: `{"tech": "nn` + strings.Repeat("1", 4996) + `-ovh"}`, wantStatus: 400, wantCode: "invalid_nic"},
		{name: "NIC of another form", route: requestRoute, body: `{"tech": "nn22222"}`, wantStatus: 400, wantCode: "invalid_nic"},
		{name: "NIC with spaces around", route: requestRoute, body: `{"tech": " nn22222-ovh "}`, wantStatus: 400, wantCode: "invalid_nic"},
		{name: "NIC in capitals reaches the domain", route: requestRoute, body: `{"tech": "NN22222-OVH"}`, wantStatus: 201},
		{name: "empty limit", route: listRoute, query: map[string]string{"limit": ""}, wantStatus: 400, wantCode: "invalid_limit"},
		{name: "empty role", route: listRoute, query: map[string]string{"role": ""}, wantStatus: 400, wantCode: "invalid_role"},
		{name: "empty cursor", route: changesRoute, query: map[string]string{"cursor": ""}, wantStatus: 400, wantCode: "invalid_cursor"},
		{name: "service id of another form", route: requestRoute, path: map[string]string{"serviceId": "example.com#admin"}, body: `{"tech": "nn22222-ovh"}`, wantStatus: 400, wantCode: "invalid_service_id"},
		{name: "change id of 5,000 characters", route: acceptRoute, path: map[string]string{"id": strings.Repeat("a", 5000)}, body: `{"token": "t"}`, wantStatus: 404, wantCode: "request_not_found"},
		{name: "change id in capitals", route: acceptRoute, path: map[string]string{"id": strings.ToUpper(sampleChangeID)}, body: `{"token": "t"}`, wantStatus: 404, wantCode: "request_not_found"},
	}
	doc := mustOpenAPI(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEvent(tt.route, adminNIC)
			e.PathParameters = tt.path
			if e.PathParameters == nil {
				e.PathParameters = map[string]string{"id": sampleChangeID, "serviceId": "example.com"}
			}
			e.Body, e.IsBase64Encoded, e.QueryStringParameters = tt.body, tt.base64, tt.query
			switch tt.contentType {
			case "":
			case "-":
				delete(e.Headers, "content-type")
			default:
				e.Headers["content-type"] = tt.contentType
			}
			reached := false
			fake := &fakeContacts{
				requestChanges: func(context.Context, string, string, map[contact.Role]string) ([]contact.Change, error) {
					reached = true
					return []contact.Change{sampleChange()}, nil
				},
				decide: func(context.Context, contact.Decision) (contact.Change, error) {
					reached = true
					return sampleChange(), nil
				},
				listServices: func(context.Context, string, contact.ServiceQuery) (contact.ServicePage, error) {
					reached = true
					return contact.ServicePage{}, nil
				},
				listChanges: func(context.Context, string, contact.ChangeQuery) (contact.ChangePage, error) {
					reached = true
					return contact.ChangePage{}, nil
				},
			}
			resp, _ := serve(t, fake, e)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status = %d, want %d; body %s", resp.StatusCode, tt.wantStatus, resp.Body)
			}
			checkAgainstOpenAPI(t, tt.route, resp)
			// The document's bounds are the handler's: it refuses what the handler refuses.
			problems := doc.checkRequest(tt.route, e)
			if tt.wantCode == "" {
				if !reached {
					t.Error("the domain was not called")
				}
				if len(problems) != 0 && !tt.lenient {
					t.Errorf("the handler took a request the document refuses: %q", problems)
				}
				return
			}
			if len(problems) == 0 && tt.contentType == "" && !strings.Contains(tt.name, "duplicate") {
				t.Errorf("the handler refused a request the document allows")
			}
			if got := errorCode(t, resp); got != tt.wantCode {
				t.Errorf("code = %q, want %q", got, tt.wantCode)
			}
			if reached {
				t.Error("the domain was called with malformed input")
			}
		})
	}
}

func TestPanicBecomesA500(t *testing.T) {
	fake := &fakeContacts{listServices: func(context.Context, string, contact.ServiceQuery) (contact.ServicePage, error) {
		panic("index out of range") // a bug in the domain must not take the function down
	}}
	resp, logs := serve(t, fake, newEvent("GET /me/services", adminNIC))
	if resp.StatusCode != http.StatusInternalServerError || errorCode(t, resp) != "internal" {
		t.Errorf("got %d %s, want 500 internal", resp.StatusCode, resp.Body)
	}
	if !strings.Contains(logs, "panic") {
		t.Errorf("the panic is not logged: %s", logs)
	}
}

// FuzzHandle throws arbitrary events at every route: whatever the input, Handle answers
// without panicking, without an error, and never with a 5xx while the domain is healthy.
func FuzzHandle(f *testing.F) {
	for i := range Routes {
		f.Add(i, `{"tech":"nn22222-ovh"}`, false, "application/json", "limit=5&token=t", adminNIC)
	}
	f.Add(3, `{"tech":`, false, "application/json", "", adminNIC)
	f.Add(4, `eyJ0b2tlbiI6InQifQ==`, true, "application/json", "", adminNIC)
	f.Add(9, `token=t&decision=accept`, false, "application/x-www-form-urlencoded", "", "")
	f.Add(9, `token=%zz`, false, "application/x-www-form-urlencoded", "", "")
	f.Add(8, ``, false, "", "token=", "")
	f.Add(0, ``, false, "", "limit=-99999999999999999999", "ZZ")
	f.Add(10, `{"email":"a@b.c","language":"en","goodStanding":true}`, false, "application/json", "", operatorARN)
	f.Add(11, `{"goodStanding":null}`, false, "application/json", "", operatorARN)
	f.Add(12, `{"type":"domain","admin":"aa11111-ovh","tech":"aa11111-ovh","billing":"bb33333-ovh"}`, false, "", "", operatorARN)
	f.Add(14, ``, false, "", "nic=aa11111-ovh&limit=x", operatorARN)
	f.Add(16, `{"reason":"   "}`, false, "application/json", "", operatorARN)
	f.Fuzz(func(t *testing.T, route int, body string, isBase64 bool, contentType, rawQuery, sub string) {
		r := Routes[((route%len(Routes))+len(Routes))%len(Routes)]
		e := newEvent(r.Key(), sub)
		if r.Operator {
			e = newOperatorEvent(r.Key(), sub)
		}
		e.Body, e.IsBase64Encoded = body, isBase64
		e.Headers["content-type"] = contentType
		e.RawQueryString = rawQuery
		e.QueryStringParameters = map[string]string{}
		for _, kv := range strings.Split(rawQuery, "&") {
			k, v, _ := strings.Cut(kv, "=")
			e.QueryStringParameters[k] = v
		}
		e.PathParameters = map[string]string{"id": body, "serviceId": body, "nic": body}
		healthy := &fakeContacts{
			profile: func(context.Context, string) (contact.Account, error) { return sampleAccount(), nil },
			listServices: func(context.Context, string, contact.ServiceQuery) (contact.ServicePage, error) {
				return contact.ServicePage{Services: []contact.Service{sampleService()}}, nil
			},
			listChanges: func(context.Context, string, contact.ChangeQuery) (contact.ChangePage, error) {
				return contact.ChangePage{Changes: []contact.Change{sampleChange()}}, nil
			},
			getChange: func(context.Context, string, string) (contact.Change, error) { return sampleChange(), nil },
			requestChanges: func(context.Context, string, string, map[contact.Role]string) ([]contact.Change, error) {
				return []contact.Change{sampleChange()}, nil
			},
			decide: func(context.Context, contact.Decision) (contact.Change, error) { return sampleChange(), nil },
			cancel: func(context.Context, string, string) (contact.Change, error) { return sampleChange(), nil },
			resend: func(context.Context, string, string) (contact.Change, error) { return sampleChange(), nil },
			lookup: func(context.Context, string, string) (contact.Change, contact.Account, error) {
				return sampleChange(), contact.Account{NIC: newTechNIC}, nil
			},
		}
		var calls int
		operator := operatorFake(&calls)
		healthy.putAccount, healthy.patchAccount = operator.putAccount, operator.patchAccount
		healthy.putService, healthy.deleteService = operator.putService, operator.deleteService
		healthy.findChanges, healthy.changeByID = operator.findChanges, operator.changeByID
		healthy.cancelFor, healthy.resendFor = operator.cancelFor, operator.resendFor
		h := New(r.Function, healthy, Options{Logger: discardLogger})
		resp, err := h.Handle(context.Background(), e)
		if err != nil {
			t.Fatalf("Handle returned error %v", err)
		}
		if resp.StatusCode >= 500 || resp.StatusCode < 200 {
			t.Fatalf("status %d for %+v: %s", resp.StatusCode, e, resp.Body)
		}
	})
}
