package api

import (
	"context"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/servicecontacts/servicecontacts/shared/contact"
)

func TestProfile(t *testing.T) {
	tests := []struct {
		name       string
		profile    func(context.Context, string) (contact.Account, error)
		wantStatus int
		wantBody   map[string]any
	}{
		{"the caller's account", func(_ context.Context, caller string) (contact.Account, error) {
			if caller != newTechNIC {
				t.Errorf("Profile asked for %q, want the caller %s", caller, newTechNIC)
			}
			return sampleAccount(), nil
		}, http.StatusOK, sampleAccountJSON()},
		{"no such account", func(context.Context, string) (contact.Account, error) {
			return contact.Account{}, contact.Errorf(contact.ErrNotFound, "account_not_found", "this system has no account %s", newTechNIC)
		}, http.StatusNotFound, errorJSON("account_not_found", "this system has no account "+newTechNIC)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, _ := serve(t, &fakeContacts{profile: tt.profile}, newEvent("GET /me", newTechNIC))
			if resp.StatusCode != tt.wantStatus {
				t.Errorf("status = %d, want %d", resp.StatusCode, tt.wantStatus)
			}
			if diff := cmp.Diff(tt.wantBody, decodeJSON(t, resp)); diff != "" {
				t.Errorf("body (-want +got):\n%s", diff)
			}
			checkAgainstOpenAPI(t, "GET /me", resp)
		})
	}
}
