package store_test

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/servicecontacts/servicecontacts/shared/contact"
	"github.com/servicecontacts/servicecontacts/shared/store"
	"github.com/servicecontacts/servicecontacts/shared/store/storetest"
)

// BenchmarkServicesOfOneAccount lists one account's ten services on DynamoDB Local while
// the table holds 1,000 and then 100,000 services. The lookup is a query on the ByHolder
// index, so the two figures should be about the same. `make bench` runs it.
func BenchmarkServicesOfOneAccount(b *testing.B) {
	client := storetest.DynamoDBLocal(b)
	ctx := context.Background()
	id := strconv.FormatInt(time.Now().UnixNano(), 36)
	tables := store.Tables{Contacts: "bench-contacts-" + id, Requests: "bench-requests-" + id}
	if err := store.CreateTables(ctx, client, tables); err != nil {
		b.Fatal(err)
	}
	st := store.New(client, tables)

	const owner = "me00001-ovh" // holds every role of the first ten services, and nothing else
	loaded := 0
	for _, size := range []int{1_000, 100_000} {
		b.Run(fmt.Sprintf("services=%d", size), func(b *testing.B) {
			if loaded < size {
				start := time.Now()
				if err := load(ctx, st, owner, loaded, size); err != nil {
					b.Fatal(err)
				}
				b.Logf("loaded services %d to %d in %s", loaded, size, time.Since(start).Round(time.Millisecond))
				loaded = size
			}
			// DynamoDB Local runs on the JVM: warm it up so both sizes are timed hot.
			for range 100 {
				if _, err := st.ServicesOf(ctx, owner, contact.ServiceQuery{}); err != nil {
					b.Fatal(err)
				}
			}
			b.ResetTimer()
			for b.Loop() {
				page, err := st.ServicesOf(ctx, owner, contact.ServiceQuery{})
				if err != nil {
					b.Fatal(err)
				}
				if len(page.Services) != 10 {
					b.Fatalf("%d services listed, want 10", len(page.Services))
				}
			}
		})
	}
}

// load writes services from..to-1 in parallel chunks. The first ten are owner's; each of the
// others has its own admin and shares tech and billing contacts with 99 more.
func load(ctx context.Context, st *store.Store, owner string, from, to int) error {
	const chunk, writers = 500, 8
	var wg sync.WaitGroup
	slots := make(chan struct{}, writers)
	errs := make(chan error, (to-from)/chunk+1)
	for lo := from; lo < to; lo += chunk {
		seed := store.Seed{Accounts: []store.SeedAccount{{NIC: owner, Email: "owner@example.com", GoodStanding: true}}}
		known := map[string]bool{owner: true}
		account := func(nic string) string {
			if !known[nic] {
				known[nic] = true
				seed.Accounts = append(seed.Accounts, store.SeedAccount{NIC: nic, Email: nic + "@example.com", GoodStanding: true})
			}
			return nic
		}
		for i := lo; i < min(lo+chunk, to); i++ {
			svc := store.SeedService{ID: fmt.Sprintf("svc-%06d.example.com", i), Type: "domain", Admin: owner, Tech: owner, Billing: owner}
			if i >= 10 {
				svc.Admin = account(fmt.Sprintf("ad%06d-ovh", i))
				svc.Tech = account(fmt.Sprintf("te%06d-ovh", i/100))
				svc.Billing = account(fmt.Sprintf("bi%06d-ovh", i/100))
			}
			seed.Services = append(seed.Services, svc)
		}
		wg.Add(1)
		slots <- struct{}{}
		go func() {
			defer func() { <-slots; wg.Done() }()
			errs <- st.Load(ctx, seed)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
