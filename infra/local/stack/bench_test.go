package stack_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/servicecontacts/servicecontacts/infra/local/stack"
	"github.com/servicecontacts/servicecontacts/infra/local/stack/stacktest"
	"github.com/servicecontacts/servicecontacts/shared/contact"
	"github.com/servicecontacts/servicecontacts/shared/store"
)

// BenchmarkTableSize lists an account's services and creates a request through the API of
// the local stack, on its embedded backend, while the contacts table holds 30 and then 2,000
// services. Both read and write only the items of one account and one service, so the two
// sizes should take about the same time.
func BenchmarkTableSize(b *testing.B) {
	const owner, newcomer = "me00001-ovh", "nu00001-ovh"
	unlimited := contact.Limit{Max: 1 << 30, Window: time.Hour}
	for _, size := range []int{30, 2_000} {
		site := stacktest.Start(b, stack.Options{
			Seed:          benchSeed(owner, newcomer, size),
			CreationLimit: unlimited, EmailLimit: unlimited,
			SweepEvery: time.Hour, // no sweep during a measure
		})
		serve := func(b *testing.B, want int, method, path, nic string, body any) []byte {
			req := site.Request(method, path, nic, body)
			if req.Body == nil {
				req.Body = http.NoBody
			}
			rec := httptest.NewRecorder()
			site.Stack.Handler.ServeHTTP(rec, req)
			if rec.Code != want {
				b.Fatalf("%s %s: status %d, want %d: %s", method, path, rec.Code, want, rec.Body)
			}
			return rec.Body.Bytes()
		}

		b.Run(fmt.Sprintf("list services/services=%d", size), func(b *testing.B) {
			for b.Loop() {
				var page struct{ Items []json.RawMessage }
				if err := json.Unmarshal(serve(b, 200, "GET", "/me/services", owner, nil), &page); err != nil {
					b.Fatal(err)
				}
				if len(page.Items) != ownedServices {
					b.Fatalf("%d services listed, want %d", len(page.Items), ownedServices)
				}
			}
		})

		// Each request is cancelled, untimed, so that its service can take the next one.
		b.Run(fmt.Sprintf("create request/services=%d", size), func(b *testing.B) {
			i := 0
			for b.Loop() {
				svc := benchServiceID(i % ownedServices)
				i++
				var created struct{ Items []struct{ ID string } }
				body := serve(b, 201, "POST", "/services/"+svc+"/contact-changes", owner, map[string]string{"tech": newcomer})
				b.StopTimer()
				if err := json.Unmarshal(body, &created); err != nil || len(created.Items) != 1 {
					b.Fatalf("created %s (%v), want one request", body, err)
				}
				serve(b, 200, "POST", "/me/contact-changes/"+created.Items[0].ID+"/cancel", owner, nil)
				b.StartTimer()
			}
		})
	}
}

// ownedServices is how many of the benchmark's services the owner holds every role of.
const ownedServices = 10

// benchSeed has size services: the first ownedServices are owner's; each of the others has
// its own admin and shares tech and billing contacts with 99 more. newcomer holds nothing.
func benchSeed(owner, newcomer string, size int) store.Seed {
	seed := store.Seed{Accounts: []store.SeedAccount{
		{NIC: owner, Email: "owner@example.com", GoodStanding: true},
		{NIC: newcomer, Email: "newcomer@example.com", GoodStanding: true},
	}}
	known := map[string]bool{owner: true, newcomer: true}
	account := func(nic string) string {
		if !known[nic] {
			known[nic] = true
			seed.Accounts = append(seed.Accounts, store.SeedAccount{NIC: nic, Email: nic + "@example.com", GoodStanding: true})
		}
		return nic
	}
	for i := range size {
		svc := store.SeedService{ID: benchServiceID(i), Type: "domain", Admin: owner, Tech: owner, Billing: owner}
		if i >= ownedServices {
			svc.Admin = account(fmt.Sprintf("ad%06d-ovh", i))
			svc.Tech = account(fmt.Sprintf("te%06d-ovh", i/100))
			svc.Billing = account(fmt.Sprintf("bi%06d-ovh", i/100))
		}
		seed.Services = append(seed.Services, svc)
	}
	return seed
}

func benchServiceID(i int) string { return fmt.Sprintf("svc-%06d.example.com", i) }
