package api

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"

	"github.com/servicecontacts/servicecontacts/shared/contact"
)

func sampleAccount() contact.Account {
	return contact.Account{NIC: newTechNIC, Email: "dana@example.com", Language: contact.French, GoodStanding: true}
}

func sampleAccountJSON() map[string]any {
	return map[string]any{"nic": newTechNIC, "email": "dana@example.com", "language": "fr", "goodStanding": true, "bouncing": false}
}

func sampleServiceJSON() map[string]any {
	return map[string]any{
		"id":       "example.com",
		"type":     "domain",
		"contacts": map[string]any{"admin": adminNIC, "tech": adminNIC, "billing": billingNIC},
	}
}

// operatorEvent is an operator's signed request to routeKey.
func operatorEvent(routeKey string, path map[string]string, query map[string]string, body string) events.APIGatewayV2HTTPRequest {
	e := newOperatorEvent(routeKey, operatorARN)
	e.PathParameters, e.QueryStringParameters, e.Body = path, query, body
	return e
}

func ptr[T any](v T) *T { return &v }

func TestOperatorRoutes(t *testing.T) {
	type want struct {
		By   string // the principal the domain must be given; "" for the reads that take none
		Args any    // what else the domain must be given
	}
	tests := []struct {
		name       string
		event      events.APIGatewayV2HTTPRequest
		fake       func(got *want) *fakeContacts
		want       want
		wantStatus int
		wantBody   any // nil for no body
	}{
		{
			name:  "put account",
			event: operatorEvent("PUT /operator/accounts/{nic}", map[string]string{"nic": "NN22222-OVH"}, nil, `{"email": "dana@example.com", "language": "fr", "goodStanding": true}`),
			fake: func(got *want) *fakeContacts {
				return &fakeContacts{putAccount: func(_ context.Context, by string, a contact.Account) (contact.Account, bool, error) {
					*got = want{by, a}
					return sampleAccount(), true, nil
				}}
			},
			want:       want{operatorARN, sampleAccount()},
			wantStatus: http.StatusOK,
			wantBody:   sampleAccountJSON(),
		},
		{
			name:  "put account, repeated: nothing changes, same answer",
			event: operatorEvent("PUT /operator/accounts/{nic}", map[string]string{"nic": newTechNIC}, nil, `{"email": "dana@example.com", "language": "fr", "goodStanding": true}`),
			fake: func(got *want) *fakeContacts {
				return &fakeContacts{putAccount: func(_ context.Context, by string, a contact.Account) (contact.Account, bool, error) {
					*got = want{by, a}
					return sampleAccount(), false, nil
				}}
			},
			want:       want{operatorARN, sampleAccount()},
			wantStatus: http.StatusOK,
			wantBody:   sampleAccountJSON(),
		},
		{
			name:  "patch account: the standing after an invoice",
			event: operatorEvent("PATCH /operator/accounts/{nic}", map[string]string{"nic": newTechNIC}, nil, `{"goodStanding": false}`),
			fake: func(got *want) *fakeContacts {
				return &fakeContacts{patchAccount: func(_ context.Context, by, nic string, p contact.AccountPatch) (contact.Account, bool, error) {
					*got = want{by, []any{nic, p}}
					a := sampleAccount()
					a.GoodStanding = false
					a.BouncedAt = time.Date(2025, 3, 2, 8, 0, 0, 0, time.UTC)
					return a, true, nil
				}}
			},
			want:       want{operatorARN, []any{newTechNIC, contact.AccountPatch{GoodStanding: ptr(false)}}},
			wantStatus: http.StatusOK,
			wantBody:   map[string]any{"nic": newTechNIC, "email": "dana@example.com", "language": "fr", "goodStanding": false, "bouncing": true},
		},
		{
			name:  "patch account: every field",
			event: operatorEvent("PATCH /operator/accounts/{nic}", map[string]string{"nic": newTechNIC}, nil, `{"email": "dana@example.org", "language": "it", "goodStanding": true}`),
			fake: func(got *want) *fakeContacts {
				return &fakeContacts{patchAccount: func(_ context.Context, by, nic string, p contact.AccountPatch) (contact.Account, bool, error) {
					*got = want{by, []any{nic, p}}
					return sampleAccount(), true, nil
				}}
			},
			want:       want{operatorARN, []any{newTechNIC, contact.AccountPatch{Email: ptr("dana@example.org"), Language: ptr(contact.Italian), GoodStanding: ptr(true)}}},
			wantStatus: http.StatusOK,
			wantBody:   sampleAccountJSON(),
		},
		{
			name: "put service",
			event: operatorEvent("PUT /operator/services/{serviceId}", map[string]string{"serviceId": "example.com"}, nil,
				`{"type": "domain", "admin": "AA11111-ovh", "tech": "aa11111-ovh", "billing": "bb33333-OVH"}`),
			fake: func(got *want) *fakeContacts {
				return &fakeContacts{putService: func(_ context.Context, by string, s contact.Service) (contact.Service, bool, error) {
					*got = want{by, s}
					return sampleService(), true, nil
				}}
			},
			want: want{operatorARN, contact.Service{ID: "example.com", Type: "domain", Contacts: map[contact.Role]string{
				contact.Admin: adminNIC, contact.Tech: adminNIC, contact.Billing: billingNIC,
			}}},
			wantStatus: http.StatusOK,
			wantBody:   sampleServiceJSON(),
		},
		{
			name:  "delete service",
			event: operatorEvent("DELETE /operator/services/{serviceId}", map[string]string{"serviceId": "example.com"}, nil, ""),
			fake: func(got *want) *fakeContacts {
				return &fakeContacts{deleteService: func(_ context.Context, by, id string) (bool, error) {
					*got = want{by, id}
					return true, nil
				}}
			},
			want:       want{operatorARN, "example.com"},
			wantStatus: http.StatusNoContent,
		},
		{
			name:  "delete service already gone",
			event: operatorEvent("DELETE /operator/services/{serviceId}", map[string]string{"serviceId": "gone.example"}, nil, ""),
			fake: func(got *want) *fakeContacts {
				return &fakeContacts{deleteService: func(_ context.Context, by, id string) (bool, error) {
					*got = want{by, id}
					return false, nil
				}}
			},
			want:       want{operatorARN, "gone.example"},
			wantStatus: http.StatusNoContent,
		},
		{
			name:  "delete service the domain does not know",
			event: operatorEvent("DELETE /operator/services/{serviceId}", map[string]string{"serviceId": "gone.example"}, nil, ""),
			fake: func(got *want) *fakeContacts {
				return &fakeContacts{deleteService: func(_ context.Context, by, id string) (bool, error) {
					*got = want{by, id}
					return false, fmt.Errorf("load service %s: %w", id, contact.Errorf(contact.ErrNotFound, "service_not_found", "no such service"))
				}}
			},
			want:       want{operatorARN, "gone.example"},
			wantStatus: http.StatusNoContent,
		},
		{
			name: "find contact changes by service and account",
			event: operatorEvent("GET /operator/contact-changes", nil, map[string]string{
				"serviceId": "example.com", "nic": "NN22222-ovh", "state": "pending", "limit": "5", "cursor": "c1",
			}, ""),
			fake: func(got *want) *fakeContacts {
				return &fakeContacts{findChanges: func(_ context.Context, q contact.ChangeSearch) (contact.ChangePage, error) {
					*got = want{"", q}
					return contact.ChangePage{Changes: []contact.Change{sampleChange()}, NextCursor: "c2"}, nil
				}}
			},
			want:       want{"", contact.ChangeSearch{ServiceID: "example.com", NIC: newTechNIC, State: contact.Pending, Limit: 5, Cursor: "c1"}},
			wantStatus: http.StatusOK,
			wantBody:   map[string]any{"items": []any{sampleChangeJSON()}, "nextCursor": "c2"},
		},
		{
			name:  "find contact changes by service only, last page",
			event: operatorEvent("GET /operator/contact-changes", nil, map[string]string{"serviceId": "example.com"}, ""),
			fake: func(got *want) *fakeContacts {
				return &fakeContacts{findChanges: func(_ context.Context, q contact.ChangeSearch) (contact.ChangePage, error) {
					*got = want{"", q}
					return contact.ChangePage{}, nil
				}}
			},
			want:       want{"", contact.ChangeSearch{ServiceID: "example.com"}},
			wantStatus: http.StatusOK,
			wantBody:   map[string]any{"items": []any{}, "nextCursor": nil},
		},
		{
			name:  "find contact changes by account only",
			event: operatorEvent("GET /operator/contact-changes", nil, map[string]string{"nic": adminNIC}, ""),
			fake: func(got *want) *fakeContacts {
				return &fakeContacts{findChanges: func(_ context.Context, q contact.ChangeSearch) (contact.ChangePage, error) {
					*got = want{"", q}
					return contact.ChangePage{}, nil
				}}
			},
			want:       want{"", contact.ChangeSearch{NIC: adminNIC}},
			wantStatus: http.StatusOK,
			wantBody:   map[string]any{"items": []any{}, "nextCursor": nil},
		},
		{
			name:  "get any contact change",
			event: operatorEvent("GET /operator/contact-changes/{id}", map[string]string{"id": sampleChangeID}, nil, ""),
			fake: func(got *want) *fakeContacts {
				return &fakeContacts{changeByID: func(_ context.Context, id string) (contact.Change, error) {
					*got = want{"", id}
					c := sampleChange()
					c.History = append(c.History, contact.Event{At: c.CreatedAt.Add(time.Hour), By: operatorARN, Event: "resent"})
					return c, nil
				}}
			},
			want:       want{"", sampleChangeID},
			wantStatus: http.StatusOK,
			wantBody: func() map[string]any {
				c := sampleChangeJSON()
				c["history"] = append(c["history"].([]any), map[string]any{"at": "2025-03-01T10:00:00Z", "by": operatorARN, "event": "resent"})
				return c
			}(),
		},
		{
			name:  "cancel for support, reason trimmed",
			event: operatorEvent("POST /operator/contact-changes/{id}/cancel", map[string]string{"id": sampleChangeID}, nil, `{"reason": "  asked by phone, ticket 4521 "}`),
			fake: func(got *want) *fakeContacts {
				return &fakeContacts{cancelFor: func(_ context.Context, by, id, reason string) (contact.Change, error) {
					*got = want{by, []string{id, reason}}
					return sampleChange(), nil
				}}
			},
			want:       want{operatorARN, []string{sampleChangeID, "asked by phone, ticket 4521"}},
			wantStatus: http.StatusOK,
			wantBody:   sampleChangeJSON(),
		},
		{
			name:  "resend for a party",
			event: operatorEvent("POST /operator/contact-changes/{id}/resend", map[string]string{"id": sampleChangeID}, nil, ""),
			fake: func(got *want) *fakeContacts {
				return &fakeContacts{resendFor: func(_ context.Context, by, id string) (contact.Change, error) {
					*got = want{by, id}
					return sampleChange(), nil
				}}
			},
			want:       want{operatorARN, sampleChangeID},
			wantStatus: http.StatusAccepted,
			wantBody:   sampleChangeJSON(),
		},
	}
	doc := mustOpenAPI(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got want
			resp, logs := serve(t, tt.fake(&got), tt.event)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status = %d, want %d; body %s", resp.StatusCode, tt.wantStatus, resp.Body)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("the domain was given (-want +got):\n%s", diff)
			}
			if tt.wantBody == nil {
				if resp.Body != "" {
					t.Errorf("body %q, want none", resp.Body)
				}
			} else if diff := cmp.Diff(tt.wantBody, any(decodeJSON(t, resp))); diff != "" {
				t.Errorf("body mismatch (-want +got):\n%s", diff)
			}
			if got := resp.Headers["Cache-Control"]; got != "no-store" {
				t.Errorf("Cache-Control = %q, want no-store", got)
			}
			for _, secret := range []string{secretTokenHash, secretOldHash, secretTaskToken} {
				if strings.Contains(resp.Body, secret) {
					t.Errorf("body shows %q: %s", secret, resp.Body)
				}
			}
			if strings.Contains(logs, "@example.") {
				t.Errorf("the logs show an email address: %s", logs)
			}
			checkAgainstOpenAPI(t, tt.event.RouteKey, resp)
			if problems := doc.checkRequest(tt.event.RouteKey, tt.event); len(problems) != 0 {
				t.Errorf("the handler took a request the document refuses: %q", problems)
			}
		})
	}
}

// operatorFake answers every operator call as a healthy domain would, and counts the calls.
func operatorFake(calls *int) *fakeContacts {
	return &fakeContacts{
		putAccount: func(context.Context, string, contact.Account) (contact.Account, bool, error) {
			*calls++
			return sampleAccount(), true, nil
		},
		patchAccount: func(context.Context, string, string, contact.AccountPatch) (contact.Account, bool, error) {
			*calls++
			return sampleAccount(), true, nil
		},
		putService: func(context.Context, string, contact.Service) (contact.Service, bool, error) {
			*calls++
			return sampleService(), true, nil
		},
		deleteService: func(context.Context, string, string) (bool, error) {
			*calls++
			return true, nil
		},
		findChanges: func(context.Context, contact.ChangeSearch) (contact.ChangePage, error) {
			*calls++
			return contact.ChangePage{}, nil
		},
		changeByID: func(context.Context, string) (contact.Change, error) {
			*calls++
			return sampleChange(), nil
		},
		cancelFor: func(context.Context, string, string, string) (contact.Change, error) {
			*calls++
			return sampleChange(), nil
		},
		resendFor: func(context.Context, string, string) (contact.Change, error) {
			*calls++
			return sampleChange(), nil
		},
	}
}

// Each malformed input is a 400 (or 415) before the domain is called, and the document
// refuses exactly what the handler refuses.
func TestOperatorInputs(t *testing.T) {
	const (
		putAccount   = "PUT /operator/accounts/{nic}"
		patchAccount = "PATCH /operator/accounts/{nic}"
		putService   = "PUT /operator/services/{serviceId}"
		find         = "GET /operator/contact-changes"
		cancel       = "POST /operator/contact-changes/{id}/cancel"
	)
	account := func(email, language string) string {
		return fmt.Sprintf(`{"email": %q, "language": %q, "goodStanding": true}`, email, language)
	}
	service := func(typ, admin string) string {
		return fmt.Sprintf(`{"type": %q, "admin": %q, "tech": "aa11111-ovh", "billing": "bb33333-ovh"}`, typ, admin)
	}
	reason := func(r string) string { return fmt.Sprintf(`{"reason": %q}`, r) }
	email254 := strings.Repeat("a", 64) + "@" + strings.Repeat("b", 184) + ".test" // 254 characters
	tests := []struct {
		name        string
		route       string
		path        map[string]string // nil: valid path parameters
		query       map[string]string
		body        string
		base64      bool
		contentType string // "" keeps application/json; "-" removes the header
		wantStatus  int
		wantCode    string // "" when the request is well formed and reaches the domain
		// silent marks refusals that the document states in words but no schema can
		// express (a duplicate key, a filter of two alternatives).
		silent bool
	}{
		{name: "account", route: putAccount, body: account("dana@example.com", "en"), wantStatus: 200},
		{name: "account, NIC in capitals", route: putAccount, path: map[string]string{"nic": "NN22222-OVH"}, body: account("dana@example.com", "en"), wantStatus: 200},
		{name: "account, NIC not a handle", route: putAccount, path: map[string]string{"nic": "dana"}, body: account("dana@example.com", "en"), wantStatus: 400, wantCode: "invalid_nic"},
		{name: "account, NIC with spaces", route: putAccount, path: map[string]string{"nic": " nn22222-ovh"}, body: account("dana@example.com", "en"), wantStatus: 400, wantCode: "invalid_nic"},
		{name: "account, NIC too long", route: putAccount, path: map[string]string{"nic": "nn" + strings.Repeat("2", 59) + "-ovh"}, body: account("dana@example.com", "en"), wantStatus: 400, wantCode: "invalid_nic"},
		{name: "account, longest NIC", route: putAccount, path: map[string]string{"nic": "nn" + strings.Repeat("2", 58) + "-ovh"}, body: account("dana@example.com", "en"), wantStatus: 200},
		{name: "account, Kelvin sign in the NIC", route: putAccount, path: map[string]string{"nic": "\u212Aa11111-ovh"}, body: account("dana@example.com", "en"), wantStatus: 400, wantCode: "invalid_nic"},
		{name: "account, email missing", route: putAccount, body: `{"language": "en", "goodStanding": true}`, wantStatus: 400, wantCode: "missing_field"},
		{name: "account, language missing", route: putAccount, body: `{"email": "d@example.com", "goodStanding": true}`, wantStatus: 400, wantCode: "missing_field"},
		{name: "account, standing missing", route: putAccount, body: `{"email": "d@example.com", "language": "en"}`, wantStatus: 400, wantCode: "missing_field"},
		{name: "account, empty object", route: putAccount, body: `{}`, wantStatus: 400, wantCode: "missing_field"},
		{name: "account, email of 254 characters", route: putAccount, body: account(email254, "en"), wantStatus: 200},
		{name: "account, email of 255 characters", route: putAccount, body: account("a"+email254, "en"), wantStatus: 400, wantCode: "invalid_email"},
		{name: "account, email without @", route: putAccount, body: account("dana.example.com", "en"), wantStatus: 400, wantCode: "invalid_email"},
		{name: "account, email with two @", route: putAccount, body: account("dana@x@example.com", "en"), wantStatus: 400, wantCode: "invalid_email"},
		{name: "account, email with a space", route: putAccount, body: account("dana @example.com", "en"), wantStatus: 400, wantCode: "invalid_email"},
		{name: "account, email with a tab", route: putAccount, body: account("dana@example.com\t", "en"), wantStatus: 400, wantCode: "invalid_email"},
		{name: "account, email with a line break", route: putAccount, body: account("dana@example.com\r\nBcc: x@y.z", "en"), wantStatus: 400, wantCode: "invalid_email"},
		{name: "account, email with nothing before @", route: putAccount, body: account("@example.com", "en"), wantStatus: 400, wantCode: "invalid_email"},
		{name: "account, email with nothing after @", route: putAccount, body: account("dana@", "en"), wantStatus: 400, wantCode: "invalid_email"},
		{name: "account, empty email", route: putAccount, body: account("", "en"), wantStatus: 400, wantCode: "invalid_email"},
		{name: "account, unknown language", route: putAccount, body: account("d@example.com", "de"), wantStatus: 400, wantCode: "invalid_language"},
		{name: "account, language in capitals", route: putAccount, body: account("d@example.com", "FR"), wantStatus: 400, wantCode: "invalid_language"},
		{name: "account, empty language", route: putAccount, body: account("d@example.com", ""), wantStatus: 400, wantCode: "invalid_language"},
		{name: "account, standing as a string", route: putAccount, body: `{"email": "d@example.com", "language": "en", "goodStanding": "true"}`, wantStatus: 400, wantCode: "invalid_body"},
		{name: "account, email as a boolean", route: putAccount, body: `{"email": true, "language": "en", "goodStanding": true}`, wantStatus: 400, wantCode: "invalid_body"},
		{name: "account, standing null", route: putAccount, body: `{"email": "d@example.com", "language": "en", "goodStanding": null}`, wantStatus: 400, wantCode: "invalid_body"},
		{name: "account, nic in the body", route: putAccount, body: `{"nic": "bb33333-ovh", "email": "d@example.com", "language": "en", "goodStanding": true}`, wantStatus: 400, wantCode: "invalid_body"},
		{name: "account, duplicate field", route: putAccount, body: `{"email": "d@example.com", "email": "e@example.com", "language": "en", "goodStanding": true}`, wantStatus: 400, wantCode: "invalid_body", silent: true},
		{name: "account, not JSON", route: putAccount, body: `email=d@example.com`, wantStatus: 400, wantCode: "invalid_body"},
		{name: "account, body over 64 KiB", route: putAccount, body: account(strings.Repeat("a", maxBodyBytes)+"@example.com", "en"), wantStatus: 400, wantCode: "invalid_body"},
		{name: "account, base64 body", route: putAccount, body: base64.StdEncoding.EncodeToString([]byte(account("d@example.com", "it"))), base64: true, wantStatus: 200},
		{name: "account, no Content-Type", route: putAccount, body: account("d@example.com", "it"), contentType: "-", wantStatus: 200},
		{name: "account, form Content-Type", route: putAccount, body: account("d@example.com", "it"), contentType: "application/x-www-form-urlencoded", wantStatus: 415, wantCode: "unsupported_media_type"},

		{name: "patch, one field", route: patchAccount, body: `{"language": "it"}`, wantStatus: 200},
		{name: "patch, empty object", route: patchAccount, body: `{}`, wantStatus: 400, wantCode: "empty_patch"},
		{name: "patch, null field", route: patchAccount, body: `{"email": null}`, wantStatus: 400, wantCode: "invalid_body"},
		{name: "patch, null beside a good field", route: patchAccount, body: `{"language": "it", "goodStanding": null}`, wantStatus: 400, wantCode: "invalid_body"},
		{name: "patch, bad email", route: patchAccount, body: `{"email": "no-at-sign"}`, wantStatus: 400, wantCode: "invalid_email"},
		{name: "patch, bad language", route: patchAccount, body: `{"language": "es"}`, wantStatus: 400, wantCode: "invalid_language"},
		{name: "patch, unknown field", route: patchAccount, body: `{"bouncing": false}`, wantStatus: 400, wantCode: "invalid_body"},
		{name: "patch, NIC not a handle", route: patchAccount, path: map[string]string{"nic": "x"}, body: `{"language": "it"}`, wantStatus: 400, wantCode: "invalid_nic"},
		{name: "patch, text Content-Type", route: patchAccount, body: `{"language": "it"}`, contentType: "text/plain", wantStatus: 415, wantCode: "unsupported_media_type"},

		{name: "service", route: putService, body: service("dedicated-server", "aa11111-ovh"), wantStatus: 200},
		{name: "service, host-name id", route: putService, path: map[string]string{"serviceId": "ns123.ip-1-2-3.eu"}, body: service("dedicated-server", "aa11111-ovh"), wantStatus: 200},
		{name: "service, longest id", route: putService, path: map[string]string{"serviceId": strings.Repeat("s", 255)}, body: service("domain", "aa11111-ovh"), wantStatus: 200},
		{name: "service, id too long", route: putService, path: map[string]string{"serviceId": strings.Repeat("s", 256)}, body: service("domain", "aa11111-ovh"), wantStatus: 400, wantCode: "invalid_service_id"},
		{name: "service, id with '#'", route: putService, path: map[string]string{"serviceId": "example.com#admin"}, body: service("domain", "aa11111-ovh"), wantStatus: 400, wantCode: "invalid_service_id"},
		{name: "service, id with a space", route: putService, path: map[string]string{"serviceId": "example com"}, body: service("domain", "aa11111-ovh"), wantStatus: 400, wantCode: "invalid_service_id"},
		{name: "service, id starting with a dot", route: putService, path: map[string]string{"serviceId": ".example.com"}, body: service("domain", "aa11111-ovh"), wantStatus: 400, wantCode: "invalid_service_id"},
		{name: "service, type missing", route: putService, body: `{"admin": "aa11111-ovh", "tech": "aa11111-ovh", "billing": "bb33333-ovh"}`, wantStatus: 400, wantCode: "missing_field"},
		{name: "service, billing missing", route: putService, body: `{"type": "domain", "admin": "aa11111-ovh", "tech": "aa11111-ovh"}`, wantStatus: 400, wantCode: "missing_field"},
		{name: "service, empty type", route: putService, body: service("", "aa11111-ovh"), wantStatus: 400, wantCode: "invalid_service_type"},
		{name: "service, type in capitals", route: putService, body: service("Domain", "aa11111-ovh"), wantStatus: 400, wantCode: "invalid_service_type"},
		{name: "service, longest type", route: putService, body: service(strings.Repeat("t", 64), "aa11111-ovh"), wantStatus: 200},
		{name: "service, type too long", route: putService, body: service(strings.Repeat("t", 65), "aa11111-ovh"), wantStatus: 400, wantCode: "invalid_service_type"},
		{name: "service, holder not a handle", route: putService, body: service("domain", "alice"), wantStatus: 400, wantCode: "invalid_nic"},
		{name: "service, empty holder", route: putService, body: service("domain", ""), wantStatus: 400, wantCode: "invalid_nic"},
		{name: "service, holder null", route: putService, body: `{"type": "domain", "admin": null, "tech": "aa11111-ovh", "billing": "bb33333-ovh"}`, wantStatus: 400, wantCode: "invalid_body"},
		{name: "service, contacts nested", route: putService, body: `{"type": "domain", "contacts": {"admin": "aa11111-ovh"}}`, wantStatus: 400, wantCode: "invalid_body"},

		{name: "find, no filter", route: find, query: map[string]string{"state": "pending"}, wantStatus: 400, wantCode: "missing_filter", silent: true},
		{name: "find, empty filters", route: find, query: map[string]string{"serviceId": "", "nic": ""}, wantStatus: 400, wantCode: "invalid_service_id"},
		{name: "find, empty NIC", route: find, query: map[string]string{"serviceId": "example.com", "nic": ""}, wantStatus: 400, wantCode: "invalid_nic"},
		{name: "find, NIC not a handle", route: find, query: map[string]string{"nic": "dana"}, wantStatus: 400, wantCode: "invalid_nic"},
		{name: "find, limit not a number", route: find, query: map[string]string{"nic": adminNIC, "limit": "ten"}, wantStatus: 400, wantCode: "invalid_limit"},
		{name: "find, unknown state", route: find, query: map[string]string{"nic": adminNIC, "state": "lost"}, wantStatus: 400, wantCode: "invalid_state"},
		{name: "find, limit 0", route: find, query: map[string]string{"nic": adminNIC, "limit": "0"}, wantStatus: 400, wantCode: "invalid_limit"},
		{name: "find, service id of another form", route: find, query: map[string]string{"serviceId": "a#b"}, wantStatus: 400, wantCode: "invalid_service_id"},
		{name: "find, service id of 256 characters", route: find, query: map[string]string{"serviceId": strings.Repeat("s", 256)}, wantStatus: 400, wantCode: "invalid_service_id"},
		{name: "find, cursor of 5,000 characters", route: find, query: map[string]string{"nic": adminNIC, "cursor": strings.Repeat("A", 5000)}, wantStatus: 400, wantCode: "invalid_cursor"},

		{name: "cancel", route: cancel, body: reason("duplicate of c0ffee2"), wantStatus: 200},
		{name: "cancel, reason of 500 characters", route: cancel, body: reason(strings.Repeat("é", 500)), wantStatus: 200},
		{name: "cancel, reason of 501 characters", route: cancel, body: reason(strings.Repeat("é", 501)), wantStatus: 400, wantCode: "invalid_reason"},
		{name: "cancel, one character", route: cancel, body: reason("x"), wantStatus: 200},
		{name: "cancel, no reason", route: cancel, body: `{}`, wantStatus: 400, wantCode: "missing_reason"},
		{name: "cancel, empty reason", route: cancel, body: reason(""), wantStatus: 400, wantCode: "missing_reason"},
		{name: "cancel, blank reason", route: cancel, body: reason(" \t\n "), wantStatus: 400, wantCode: "missing_reason"},
		{name: "cancel, reason not a string", route: cancel, body: `{"reason": 42}`, wantStatus: 400, wantCode: "invalid_body"},
		{name: "cancel, no body", route: cancel, body: ``, wantStatus: 400, wantCode: "invalid_body"},
		{name: "cancel, extra field", route: cancel, body: `{"reason": "x", "by": "someone-else"}`, wantStatus: 400, wantCode: "invalid_body"},
	}
	doc := mustOpenAPI(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := tt.path
			if path == nil {
				path = map[string]string{"nic": newTechNIC, "serviceId": "example.com", "id": sampleChangeID}
			}
			e := operatorEvent(tt.route, path, tt.query, tt.body)
			e.IsBase64Encoded = tt.base64
			switch tt.contentType {
			case "":
			case "-":
				delete(e.Headers, "content-type")
			default:
				e.Headers["content-type"] = tt.contentType
			}
			var calls int
			resp, _ := serve(t, operatorFake(&calls), e)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status = %d, want %d; body %s", resp.StatusCode, tt.wantStatus, resp.Body)
			}
			checkAgainstOpenAPI(t, tt.route, resp)
			problems := doc.checkRequest(tt.route, e)
			if tt.wantCode == "" {
				if calls != 1 {
					t.Errorf("the domain was called %d times, want once", calls)
				}
				if len(problems) != 0 && !tt.silent {
					t.Errorf("the handler took a request the document refuses: %q", problems)
				}
				return
			}
			if got := errorCode(t, resp); got != tt.wantCode {
				t.Errorf("code = %q, want %q", got, tt.wantCode)
			}
			if calls != 0 {
				t.Error("the domain was called with malformed input")
			}
			if len(problems) == 0 && !tt.silent {
				t.Error("the handler refused a request the document allows")
			}
		})
	}
}

// The domain's refusals reach the operator with their status, each documented for its route.
func TestOperatorDomainErrors(t *testing.T) {
	routes := map[string]events.APIGatewayV2HTTPRequest{
		"PUT /operator/accounts/{nic}":               operatorEvent("PUT /operator/accounts/{nic}", map[string]string{"nic": newTechNIC}, nil, `{"email": "d@example.com", "language": "en", "goodStanding": true}`),
		"PATCH /operator/accounts/{nic}":             operatorEvent("PATCH /operator/accounts/{nic}", map[string]string{"nic": newTechNIC}, nil, `{"goodStanding": true}`),
		"PUT /operator/services/{serviceId}":         operatorEvent("PUT /operator/services/{serviceId}", map[string]string{"serviceId": "example.com"}, nil, `{"type": "domain", "admin": "aa11111-ovh", "tech": "aa11111-ovh", "billing": "bb33333-ovh"}`),
		"DELETE /operator/services/{serviceId}":      operatorEvent("DELETE /operator/services/{serviceId}", map[string]string{"serviceId": "example.com"}, nil, ""),
		"GET /operator/contact-changes":              operatorEvent("GET /operator/contact-changes", nil, map[string]string{"serviceId": "example.com"}, ""),
		"GET /operator/contact-changes/{id}":         operatorEvent("GET /operator/contact-changes/{id}", map[string]string{"id": sampleChangeID}, nil, ""),
		"POST /operator/contact-changes/{id}/cancel": operatorEvent("POST /operator/contact-changes/{id}/cancel", map[string]string{"id": sampleChangeID}, nil, `{"reason": "duplicate"}`),
		"POST /operator/contact-changes/{id}/resend": operatorEvent("POST /operator/contact-changes/{id}/resend", map[string]string{"id": sampleChangeID}, nil, ""),
	}
	failing := func(err error) *fakeContacts {
		return &fakeContacts{
			putAccount: func(context.Context, string, contact.Account) (contact.Account, bool, error) {
				return contact.Account{}, false, err
			},
			patchAccount: func(context.Context, string, string, contact.AccountPatch) (contact.Account, bool, error) {
				return contact.Account{}, false, err
			},
			putService: func(context.Context, string, contact.Service) (contact.Service, bool, error) {
				return contact.Service{}, false, err
			},
			deleteService: func(context.Context, string, string) (bool, error) { return false, err },
			findChanges: func(context.Context, contact.ChangeSearch) (contact.ChangePage, error) {
				return contact.ChangePage{}, err
			},
			changeByID: func(context.Context, string) (contact.Change, error) { return contact.Change{}, err },
			cancelFor:  func(context.Context, string, string, string) (contact.Change, error) { return contact.Change{}, err },
			resendFor:  func(context.Context, string, string) (contact.Change, error) { return contact.Change{}, err },
		}
	}
	tests := []struct {
		route      string
		err        error
		wantStatus int
		wantCode   string
	}{
		{"PUT /operator/accounts/{nic}", contact.ErrVersionConflict, 409, "conflict"},
		{"PUT /operator/accounts/{nic}", contact.Errorf(contact.ErrRule, "email_taken", "no"), 422, "email_taken"},
		{"PATCH /operator/accounts/{nic}", contact.Errorf(contact.ErrNotFound, "account_not_found", "no account nn22222-ovh"), 404, "account_not_found"},
		{"PATCH /operator/accounts/{nic}", contact.ErrVersionConflict, 409, "conflict"},
		{"PUT /operator/services/{serviceId}", contact.Errorf(contact.ErrRule, "unknown_account", "no account bb33333-ovh"), 422, "unknown_account"},
		{"PUT /operator/services/{serviceId}", contact.ErrVersionConflict, 409, "conflict"},
		{"DELETE /operator/services/{serviceId}", contact.ErrVersionConflict, 409, "conflict"},
		{"DELETE /operator/services/{serviceId}", &contact.Error{Kind: contact.ErrUnavailable, Code: "throttled", Message: "busy"}, 503, "throttled"},
		{"GET /operator/contact-changes", contact.Errorf(contact.ErrInvalid, "invalid_state", "unknown state"), 400, "invalid_state"},
		{"GET /operator/contact-changes", contact.Errorf(contact.ErrInvalid, "invalid_cursor", "bad cursor"), 400, "invalid_cursor"},
		{"GET /operator/contact-changes/{id}", contact.Errorf(contact.ErrNotFound, "request_not_found", "no request c0ffee"), 404, "request_not_found"},
		{"POST /operator/contact-changes/{id}/cancel", contact.Errorf(contact.ErrNotFound, "request_not_found", "no request c0ffee"), 404, "request_not_found"},
		{"POST /operator/contact-changes/{id}/cancel", contact.Errorf(contact.ErrConflict, "not_pending", "already done"), 409, "not_pending"},
		{"POST /operator/contact-changes/{id}/resend", &contact.Error{Kind: contact.ErrRateLimited, Code: "resend_too_soon", Message: "wait", RetryAfter: 30}, 429, "resend_too_soon"},
		{"POST /operator/contact-changes/{id}/resend", contact.Errorf(contact.ErrGone, "request_closed", "closed"), 410, "request_closed"},
		{"POST /operator/contact-changes/{id}/resend", contact.Errorf(contact.ErrNotFound, "request_not_found", "no request c0ffee"), 404, "request_not_found"},
	}
	for _, tt := range tests {
		t.Run(tt.route+" "+tt.wantCode, func(t *testing.T) {
			resp, _ := serve(t, failing(tt.err), routes[tt.route])
			if resp.StatusCode != tt.wantStatus || errorCode(t, resp) != tt.wantCode {
				t.Errorf("got %d %s, want %d %s", resp.StatusCode, resp.Body, tt.wantStatus, tt.wantCode)
			}
			// Every status is documented for its route, not left to the default.
			op := mustOpenAPI(t).operations()[tt.route]
			if _, ok := op["responses"].(map[string]any)[fmt.Sprint(tt.wantStatus)]; !ok {
				t.Errorf("OpenAPI: %s does not document %d", tt.route, tt.wantStatus)
			}
			checkAgainstOpenAPI(t, tt.route, resp)
		})
	}
}

// Only an IAM principal is an operator: a customer's JWT, even a valid one, is refused
// before the domain is reached.
func TestOperatorRoutesNeedAnIAMPrincipal(t *testing.T) {
	identities := []struct {
		name  string
		event func(routeKey string) events.APIGatewayV2HTTPRequest
	}{
		{"customer JWT", func(k string) events.APIGatewayV2HTTPRequest { return newEvent(k, adminNIC) }},
		{"customer JWT with an operator claim", func(k string) events.APIGatewayV2HTTPRequest {
			e := newEvent(k, adminNIC)
			e.RequestContext.Authorizer.JWT.Claims["operator"] = "support-alice"
			return e
		}},
		{"IAM without a user ARN", func(k string) events.APIGatewayV2HTTPRequest {
			e := newOperatorEvent(k, operatorARN)
			e.RequestContext.Authorizer.IAM.UserARN = " "
			return e
		}},
		{"ARN in a header", func(k string) events.APIGatewayV2HTTPRequest {
			e := newOperatorEvent(k, "")
			e.Headers["x-amz-user-arn"] = operatorARN
			return e
		}},
		{"lambda authorizer context", func(k string) events.APIGatewayV2HTTPRequest {
			e := newOperatorEvent(k, "")
			e.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{Lambda: map[string]any{"userArn": operatorARN}}
			return e
		}},
	}
	for _, r := range Routes {
		if !r.Operator {
			continue
		}
		for _, id := range identities {
			t.Run(r.Key()+" "+id.name, func(t *testing.T) {
				e := id.event(r.Key())
				e.PathParameters = map[string]string{"nic": newTechNIC, "serviceId": "example.com", "id": sampleChangeID}
				e.QueryStringParameters = map[string]string{"nic": adminNIC}
				e.Body = `{"reason": "x", "goodStanding": true}`
				var calls int
				resp, _ := serve(t, operatorFake(&calls), e)
				if resp.StatusCode != http.StatusForbidden || errorCode(t, resp) != "forbidden" {
					t.Errorf("got %d %s, want 403 forbidden", resp.StatusCode, resp.Body)
				}
				if calls != 0 {
					t.Error("the domain was called")
				}
				checkAgainstOpenAPI(t, r.Key(), resp)
			})
		}
	}
}

// The operator's principal is logged with each request, as the caller is on the customers'
// routes: the audit trail of who did what starts in the logs.
func TestOperatorIsLogged(t *testing.T) {
	var calls int
	_, logs := serve(t, operatorFake(&calls), operatorEvent("GET /operator/contact-changes/{id}", map[string]string{"id": sampleChangeID}, nil, ""))
	if !strings.Contains(logs, `"operator":"`+operatorARN+`"`) {
		t.Errorf("the logs lack the operator: %s", logs)
	}
}
