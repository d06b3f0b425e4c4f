package store_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/servicecontacts/servicecontacts/shared/store"
)

func TestReadSeed(t *testing.T) {
	tests := []struct {
		name    string
		json    string
		want    store.Seed
		wantErr string // a part of the error's text; empty when the seed is valid
	}{
		{
			name: "handles stored lowercase",
			json: `{"accounts": [{"nic": " AA11111-OVH ", "email": "a@example.com", "language": "it", "goodStanding": true}],
				"services": [{"id": "example.com", "type": "domain", "admin": "aa11111-ovh", "tech": "Aa11111-ovh", "billing": "aa11111-OVH"}]}`,
			want: store.Seed{
				Accounts: []store.SeedAccount{{NIC: "aa11111-ovh", Email: "a@example.com", Language: "it", GoodStanding: true}},
				Services: []store.SeedService{{ID: "example.com", Type: "domain", Admin: "aa11111-ovh", Tech: "aa11111-ovh", Billing: "aa11111-ovh"}},
			},
		},
		{name: "malformed handle", json: `{"accounts": [{"nic": "alice"}]}`, wantErr: "invalid_nic"},
		{name: "contact without an account", json: `{"accounts": [{"nic": "aa11111-ovh"}], "services": [{"id": "x.com", "type": "domain", "admin": "aa11111-ovh", "tech": "bb22222-ovh", "billing": "aa11111-ovh"}]}`, wantErr: "bb22222-ovh is not an account"},
		{name: "missing contact", json: `{"accounts": [{"nic": "aa11111-ovh"}], "services": [{"id": "x.com", "type": "domain", "admin": "aa11111-ovh", "tech": "aa11111-ovh"}]}`, wantErr: "invalid_nic"},
		{name: "service without a type", json: `{"services": [{"id": "x.com"}]}`, wantErr: "id and type are required"},
		{name: "service id with the key separator", json: `{"accounts": [{"nic": "aa11111-ovh"}], "services": [{"id": "x#1", "type": "domain", "admin": "aa11111-ovh", "tech": "aa11111-ovh", "billing": "aa11111-ovh"}]}`, wantErr: "contains '#'"},
		{name: "unknown field", json: `{"acounts": []}`, wantErr: "unknown field"},
		{name: "not JSON", json: `accounts:`, wantErr: "decode seed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := store.ReadSeed(strings.NewReader(tt.json))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("seed (-want +got):\n%s", diff)
			}
		})
	}
}
