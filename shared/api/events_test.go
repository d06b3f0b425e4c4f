package api

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"

	"github.com/servicecontacts/servicecontacts/shared/contact"
)

// The files in testdata are events as API Gateway sends them (payload format 2.0, header
// names lowercased, bodies base64-encoded where API Gateway encodes them).
func TestRecordedEvents(t *testing.T) {
	type call struct {
		Method string
		Args   []any
	}
	recorder := func(calls *[]call) *fakeContacts {
		return &fakeContacts{
			listServices: func(_ context.Context, caller string, q contact.ServiceQuery) (contact.ServicePage, error) {
				*calls = append(*calls, call{"ListServices", []any{caller, q}})
				return contact.ServicePage{Services: []contact.Service{sampleService()}}, nil
			},
			requestChanges: func(_ context.Context, caller, serviceID string, wanted map[contact.Role]string) ([]contact.Change, error) {
				*calls = append(*calls, call{"RequestChanges", []any{caller, serviceID, wanted}})
				return []contact.Change{sampleChange()}, nil
			},
			lookup: func(_ context.Context, id, token string) (contact.Change, contact.Account, error) {
				*calls = append(*calls, call{"Lookup", []any{id, token}})
				return sampleChange(), contact.Account{NIC: newTechNIC}, nil
			},
			decide: func(_ context.Context, d contact.Decision) (contact.Change, error) {
				*calls = append(*calls, call{"Decide", []any{d}})
				return sampleChange(), nil
			},
			putService: func(_ context.Context, by string, s contact.Service) (contact.Service, bool, error) {
				*calls = append(*calls, call{"PutService", []any{by, s}})
				return s, true, nil
			},
		}
	}
	tests := []struct {
		file        string
		wantStatus  int
		wantCalls   []call
		wantBodyHas string
	}{
		{
			file:       "list-services.json",
			wantStatus: http.StatusOK,
			// The caller is the JWT's sub, normalized; the x-nic header changes nothing.
			wantCalls: []call{{"ListServices", []any{adminNIC, contact.ServiceQuery{Role: contact.Admin, Limit: 20}}}},
		},
		{
			file:       "request-contact-changes.json",
			wantStatus: http.StatusCreated,
			wantCalls: []call{{"RequestChanges", []any{adminNIC, "example.com",
				map[contact.Role]string{contact.Tech: newTechNIC, contact.Billing: "bb44444-ovh"}}}},
		},
		{
			file:        "confirm-page.json",
			wantStatus:  http.StatusOK,
			wantCalls:   []call{{"Lookup", []any{sampleChangeID, linkToken}}},
			wantBodyHas: "Conferma una modifica dei contatti",
		},
		{
			file:       "confirm-decision.json",
			wantStatus: http.StatusOK,
			wantCalls:  []call{{"Decide", []any{contact.Decision{ChangeID: sampleChangeID, Token: linkToken, Source: "203.0.113.17", Accept: true}}}},
			// The form's language, that of the page it was posted from, wins over the browser's.
			wantBodyHas: "Still waiting for: nn22222-ovh.",
		},
		{
			file:       "operator-put-service.json",
			wantStatus: http.StatusOK,
			// Signed by an assumed role: its session ARN is the principal, whatever the headers say.
			wantCalls: []call{{"PutService", []any{"arn:aws:sts::123456789012:assumed-role/provisioning/provisioning", contact.Service{
				ID: "ns123.ip-1-2-3.eu", Type: "dedicated-server",
				Contacts: map[contact.Role]string{contact.Admin: adminNIC, contact.Tech: adminNIC, contact.Billing: billingNIC},
			}}}},
			wantBodyHas: `"contacts":{"admin":"aa11111-ovh","tech":"aa11111-ovh","billing":"bb33333-ovh"}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			var event events.APIGatewayV2HTTPRequest
			if err := json.Unmarshal(raw, &event); err != nil {
				t.Fatalf("decode event: %v", err)
			}
			var calls []call
			resp, _ := serve(t, recorder(&calls), event)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status = %d, want %d; body %s", resp.StatusCode, tt.wantStatus, resp.Body)
			}
			if diff := cmp.Diff(tt.wantCalls, calls); diff != "" {
				t.Errorf("calls to the domain (-want +got):\n%s", diff)
			}
			if tt.wantBodyHas != "" {
				mustContain(t, resp.Body, tt.wantBodyHas)
			}

			// The response survives the trip back to API Gateway unchanged.
			encoded, err := json.Marshal(resp)
			if err != nil {
				t.Fatalf("encode response: %v", err)
			}
			var decoded events.APIGatewayV2HTTPResponse
			if err := json.Unmarshal(encoded, &decoded); err != nil {
				t.Fatalf("decode response: %v", err)
			}
			if diff := cmp.Diff(resp, decoded); diff != "" {
				t.Errorf("response changed on the way (-sent +received):\n%s", diff)
			}
		})
	}
}
