package storetest

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/servicecontacts/servicecontacts/shared/contact"
)

// fetchReadsAtOnce: Fetch finds what the reads of their own find, whatever it is asked
// for together, and leaves out what is not there.
func fetchReadsAtOnce(t *testing.T, e *env) {
	c := newChange(t, "example.com", contact.Tech, bruno, dario, alice, base)
	mustCreate(t, e.store, c)
	counter := window("test#fetch", base.Truncate(time.Minute))
	if err := e.store.Count(ctx, []contact.Use{{Counter: counter, N: 2}}); err != nil {
		t.Fatal(err)
	}
	account := func(nic string) contact.Account {
		a, err := e.store.Account(ctx, nic)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	stored := mustChange(t, e.store, c.ID)
	svc := mustService(t, e.store, "example.com")

	tests := []struct {
		name string
		f    contact.Fetch
		want contact.Fetched
	}{
		{"nothing", contact.Fetch{}, contact.Fetched{}},
		{
			"everything",
			contact.Fetch{Change: c.ID, Counter: counter, Service: "example.com", Accounts: []string{alice, dario}},
			contact.Fetched{Change: stored, Count: 2, Service: svc, Accounts: map[string]contact.Account{alice: account(alice), dario: account(dario)}},
		},
		{
			"a request and a counter",
			contact.Fetch{Change: c.ID, Counter: counter},
			contact.Fetched{Change: stored, Count: 2},
		},
		{
			"accounts named twice and an account that is not there",
			contact.Fetch{Accounts: []string{bruno, nobody, bruno}},
			contact.Fetched{Accounts: map[string]contact.Account{bruno: account(bruno)}},
		},
		{
			"what is not there",
			contact.Fetch{Change: "missing", Counter: window("test#never", base), Service: "nowhere.example", Accounts: []string{nobody}},
			contact.Fetched{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := e.store.Fetch(ctx, tt.f)
			if err != nil {
				t.Fatal(err)
			}
			if tt.want.Accounts == nil {
				tt.want.Accounts = map[string]contact.Account{}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Fetch(%+v) (-want +got):\n%s", tt.f, diff)
			}
		})
	}
}
