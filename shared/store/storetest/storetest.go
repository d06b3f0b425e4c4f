// Package storetest is the store's test suite. It runs the same cases on any backend that
// speaks DynamoDB's API: the embedded one and DynamoDB Local.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/servicecontacts/servicecontacts/shared/contact"
	"github.com/servicecontacts/servicecontacts/shared/store"
)

// Run runs every case in parallel, each on fresh tables of the backend newAPI returns.
func Run(t *testing.T, newAPI func(t *testing.T) store.API) {
	cases := []struct {
		name string
		run  func(t *testing.T, e *env)
	}{
		{"SeedReadsBack", seedReadsBack},
		{"MissingItems", missingItems},
		{"ServicesOf", servicesOf},
		{"MalformedCursors", malformedCursors},
		{"RequestRoundTrip", requestRoundTrip},
		{"CreateChangesLocksEveryRole", createChangesLocksEveryRole},
		{"CreateChangesAllOrNothing", createChangesAllOrNothing},
		{"ConcurrentCreatesLeaveOneOpen", concurrentCreatesLeaveOneOpen},
		{"SaveChangeVersionConflict", saveChangeVersionConflict},
		{"TerminalSaveReleasesTheRole", terminalSaveReleasesTheRole},
		{"ApplyChange", applyChange},
		{"ApplyAfterTheHolderMoved", applyAfterTheHolderMoved},
		{"ApplyToAMissingAccount", applyToAMissingAccount},
		{"ApplyBillingOutOfStanding", applyBillingOutOfStanding},
		{"ChangesOf", changesOf},
		{"TerminalSaveNeverBlocked", terminalSaveNeverBlocked},
		{"SaveBookkeepingInAnyState", saveBookkeepingInAnyState},
		{"BookkeepingFieldsRoundTrip", bookkeepingFieldsRoundTrip},
		{"DueChanges", dueChanges},
		{"AccountEdits", accountEdits},
		{"ServiceEdits", serviceEdits},
		{"RecordsRoundTrip", recordsRoundTrip},
		{"EventsAndBouncesRoundTrip", eventsAndBouncesRoundTrip},
		{"ChangesOfService", changesOfService},
		{"CountWithinLimits", countWithinLimits},
		{"CountConcurrently", countConcurrently},
		{"FetchReadsAtOnce", fetchReadsAtOnce},
		{"CountedWrites", countedWrites},
		{"CountedWritesAfterARace", countedWritesAfterARace},
		{"SetTaskToken", setTaskToken},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.run(t, setup(t, newAPI(t)))
		})
	}
}

// env is what a case runs against: a store on fresh tables, loaded with seed().
type env struct {
	api    store.API
	tables store.Tables
	store  *store.Store
}

func setup(t *testing.T, api store.API) *env {
	t.Helper()
	id := suffix()
	tables := store.Tables{Contacts: "contacts-" + id, Requests: "requests-" + id}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := store.CreateTables(ctx, api, tables); err != nil {
		t.Fatal(err)
	}
	s := store.New(api, tables)
	if err := s.Load(ctx, seed()); err != nil {
		t.Fatal(err)
	}
	return &env{api: api, tables: tables, store: s}
}

func suffix() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b) // never fails
	return hex.EncodeToString(b)
}

const (
	alice  = "aa11111-ovh"
	bruno  = "bb22222-ovh"
	carla  = "cc33333-ovh"
	dario  = "dd44444-ovh" // not in good standing
	nobody = "ee55555-ovh" // holds no account
)

func seed() store.Seed {
	return store.Seed{
		Accounts: []store.SeedAccount{
			{NIC: alice, Email: "alice@example.com", Language: "it", GoodStanding: true},
			{NIC: bruno, Email: "bruno@example.com", Language: "fr", GoodStanding: true},
			{NIC: carla, Email: "carla@example.com", GoodStanding: true},
			{NIC: dario, Email: "dario@example.com", Language: "en", GoodStanding: false},
		},
		Services: []store.SeedService{
			{ID: "example.com", Type: "domain", Admin: alice, Tech: bruno, Billing: carla},
			{ID: "example.org", Type: "domain", Admin: alice, Tech: alice, Billing: alice},
			{ID: "ns1.example.net", Type: "dedicated-server", Admin: bruno, Tech: alice, Billing: dario},
		},
	}
}

var ctx = context.Background()

// base is a creation time with a fraction of a second, as real clocks give.
var base = time.Date(2025, 3, 1, 9, 30, 0, 123456789, time.UTC)

// newChange returns a pending request for the role: by asks, by and to must confirm, from
// is told.
func newChange(t *testing.T, serviceID string, role contact.Role, from, to, by string, at time.Time) contact.Change {
	t.Helper()
	_, byHash, err := contact.NewToken()
	if err != nil {
		t.Fatal(err)
	}
	_, toHash, err := contact.NewToken()
	if err != nil {
		t.Fatal(err)
	}
	return contact.Change{
		ID: "req-" + suffix(), ServiceID: serviceID, ServiceType: "domain", Role: role,
		From: from, To: to, RequestedBy: by, State: contact.Pending,
		Parties:   []contact.Party{{NIC: by, Status: contact.Waiting, TokenHash: byHash}, {NIC: to, Status: contact.Waiting, TokenHash: toHash}},
		Notify:    []string{from},
		CreatedAt: at, ExpiresAt: at.Add(14 * 24 * time.Hour),
		History: []contact.Event{{At: at, By: by, Event: "created"}},
	}
}

func wantKind(t *testing.T, err, kind error) {
	t.Helper()
	if !errors.Is(err, kind) {
		t.Fatalf("error %v, want one of kind %q", err, kind)
	}
}

func mustCreate(t *testing.T, s *store.Store, changes ...contact.Change) {
	t.Helper()
	if err := s.CreateChanges(ctx, changes, nil); err != nil {
		t.Fatalf("create requests: %v", err)
	}
}

func mustService(t *testing.T, s *store.Store, id string) contact.Service {
	t.Helper()
	svc, err := s.Service(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

func mustChange(t *testing.T, s *store.Store, id string) contact.Change {
	t.Helper()
	c, err := s.Change(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func seedReadsBack(t *testing.T, e *env) {
	accounts := []contact.Account{
		{NIC: alice, Email: "alice@example.com", Language: contact.Italian, GoodStanding: true},
		{NIC: bruno, Email: "bruno@example.com", Language: contact.French, GoodStanding: true},
		{NIC: carla, Email: "carla@example.com", Language: contact.English, GoodStanding: true},
		{NIC: dario, Email: "dario@example.com", Language: contact.English, GoodStanding: false},
	}
	for _, want := range accounts {
		t.Run("account "+want.NIC, func(t *testing.T) {
			got, err := e.store.Account(ctx, want.NIC)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("account (-want +got):\n%s", diff)
			}
		})
	}
	services := []contact.Service{
		{ID: "example.com", Type: "domain", Contacts: map[contact.Role]string{contact.Admin: alice, contact.Tech: bruno, contact.Billing: carla}},
		{ID: "example.org", Type: "domain", Contacts: map[contact.Role]string{contact.Admin: alice, contact.Tech: alice, contact.Billing: alice}},
		{ID: "ns1.example.net", Type: "dedicated-server", Contacts: map[contact.Role]string{contact.Admin: bruno, contact.Tech: alice, contact.Billing: dario}},
	}
	for _, want := range services {
		t.Run("service "+want.ID, func(t *testing.T) {
			want.Open = map[contact.Role]string{}
			if diff := cmp.Diff(want, mustService(t, e.store, want.ID)); diff != "" {
				t.Errorf("service (-want +got):\n%s", diff)
			}
		})
	}
}

func missingItems(t *testing.T, e *env) {
	tests := []struct {
		name string
		call func() error
		code string
	}{
		{"account", func() error { _, err := e.store.Account(ctx, "zz99999-ovh"); return err }, "account_not_found"},
		{"service", func() error { _, err := e.store.Service(ctx, "nowhere.example"); return err }, "service_not_found"},
		{"request", func() error { _, err := e.store.Change(ctx, "missing"); return err }, "request_not_found"},
		{"role of SetHolder", func() error { return e.store.SetHolder(ctx, "nowhere.example", contact.Tech, alice) }, "service_not_found"},
		{"account of SetStanding", func() error { return e.store.SetStanding(ctx, "zz99999-ovh", true) }, "account_not_found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			var ce *contact.Error
			if !errors.As(err, &ce) || ce.Code != tt.code || !errors.Is(err, contact.ErrNotFound) {
				t.Errorf("error %v, want %s of kind not found", err, tt.code)
			}
		})
	}
}

// servicePages lists the service ids of every page of nic's services, following cursors.
func servicePages(t *testing.T, s *store.Store, nic string, q contact.ServiceQuery) [][]string {
	return walkPages(t, func(cursor string) ([]string, string, error) {
		q.Cursor = cursor
		page, err := s.ServicesOf(ctx, nic, q)
		var ids []string
		for _, svc := range page.Services {
			ids = append(ids, svc.ID)
		}
		return ids, page.NextCursor, err
	})
}

// walkPages follows cursors from the first page to the last (at most 51 pages, so that a
// cursor that never ends fails the test instead of hanging it).
func walkPages(t *testing.T, page func(cursor string) (ids []string, next string, err error)) [][]string {
	t.Helper()
	var pages [][]string
	cursor := ""
	for {
		ids, next, err := page(cursor)
		if err != nil {
			t.Fatal(err)
		}
		pages = append(pages, ids)
		if next == "" || len(pages) > 50 {
			return pages
		}
		cursor = next
	}
}

func servicesOf(t *testing.T, e *env) {
	const owner = "pp55555-ovh"
	hosts := store.Seed{Accounts: []store.SeedAccount{
		{NIC: owner, Email: "p@example.com", GoodStanding: true},
		{NIC: alice, Email: "alice@example.com", Language: "it", GoodStanding: true},
	}}
	var all []string
	for i := range 25 {
		id := fmt.Sprintf("host%02d.example.com", i)
		all = append(all, id)
		hosts.Services = append(hosts.Services, store.SeedService{ID: id, Type: "vps", Admin: owner, Tech: owner, Billing: alice})
	}
	if err := e.store.Load(ctx, hosts); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name string
		nic  string
		q    contact.ServiceQuery
		want [][]string
	}{
		{"pages of 10", owner, contact.ServiceQuery{Limit: 10}, [][]string{all[:10], all[10:20], all[20:]}},
		{"default page size", owner, contact.ServiceQuery{}, [][]string{all[:20], all[20:]}},
		{"a page that fits exactly", owner, contact.ServiceQuery{Limit: 25}, [][]string{all}},
		{"a last page of one", owner, contact.ServiceQuery{Limit: 24}, [][]string{all[:24], all[24:]}},
		{"every role, each service once", bruno, contact.ServiceQuery{}, [][]string{{"example.com", "ns1.example.net"}}},
		{"three roles on one service, listed once, paged", alice, contact.ServiceQuery{Limit: 1, Type: "domain"}, [][]string{{"example.com"}, {"example.org"}}},
		{"by role", alice, contact.ServiceQuery{Role: contact.Tech}, [][]string{{"example.org", "ns1.example.net"}}},
		{"by role, paged", alice, contact.ServiceQuery{Role: contact.Billing, Limit: 10}, [][]string{append([]string{"example.org"}, all[:9]...), all[9:19], all[19:]}},
		{"by type", alice, contact.ServiceQuery{Type: "dedicated-server"}, [][]string{{"ns1.example.net"}}},
		{"by role and type", bruno, contact.ServiceQuery{Role: contact.Admin, Type: "dedicated-server"}, [][]string{{"ns1.example.net"}}},
		{"no match", dario, contact.ServiceQuery{Role: contact.Tech}, [][]string{nil}},
		{"no roles at all", nobody, contact.ServiceQuery{}, [][]string{nil}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := servicePages(t, e.store, tt.nic, tt.q)
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("pages (-want +got):\n%s", diff)
			}
		})
	}

	t.Run("contacts and locks of a listed service", func(t *testing.T) {
		c := newChange(t, "host03.example.com", contact.Billing, alice, carla, owner, base)
		mustCreate(t, e.store, c)
		page, err := e.store.ServicesOf(ctx, owner, contact.ServiceQuery{Limit: 4})
		if err != nil {
			t.Fatal(err)
		}
		want := contact.Service{
			ID: "host03.example.com", Type: "vps",
			Contacts: map[contact.Role]string{contact.Admin: owner, contact.Tech: owner, contact.Billing: alice},
			Open:     map[contact.Role]string{contact.Billing: c.ID},
		}
		if len(page.Services) != 4 {
			t.Fatalf("%d services, want 4", len(page.Services))
		}
		if diff := cmp.Diff(want, page.Services[3]); diff != "" {
			t.Errorf("service (-want +got):\n%s", diff)
		}
	})
}

func malformedCursors(t *testing.T, e *env) {
	mustCreate(t, e.store,
		newChange(t, "example.com", contact.Tech, bruno, dario, alice, base),
		newChange(t, "example.com", contact.Billing, carla, bruno, alice, base))
	first, err := e.store.ChangesOf(ctx, alice, contact.ChangeQuery{Limit: 1})
	if err != nil || first.NextCursor == "" {
		t.Fatalf("first page of alice's requests: %+v, %v", first, err)
	}

	tests := []struct {
		name   string
		cursor string
	}{
		{"not base64url", "%%%"},
		{"not JSON", "bm90IGpzb24"}, // "not json"
		{"an empty object", "e30"},  // "{}"
		{"an empty string", "IiI"},  // `""`
		{"a number", "NDI"},         // "42"
		{"truncated", first.NextCursor[:len(first.NextCursor)/2]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errS := e.store.ServicesOf(ctx, alice, contact.ServiceQuery{Limit: 5, Cursor: tt.cursor})
			_, errC := e.store.ChangesOf(ctx, alice, contact.ChangeQuery{Limit: 5, Cursor: tt.cursor})
			for list, err := range map[string]error{"services": errS, "requests": errC} {
				var ce *contact.Error
				if !errors.As(err, &ce) || ce.Code != "invalid_cursor" || !errors.Is(err, contact.ErrInvalid) {
					t.Errorf("%s: error %v, want invalid_cursor", list, err)
				}
			}
		})
	}
	t.Run("another account's cursor", func(t *testing.T) {
		_, err := e.store.ChangesOf(ctx, dario, contact.ChangeQuery{Limit: 1, Cursor: first.NextCursor})
		var ce *contact.Error
		if !errors.As(err, &ce) || ce.Code != "invalid_cursor" {
			t.Errorf("error %v, want invalid_cursor", err)
		}
	})
}

// requestRoundTrip writes a request with every field set and reads it back, then checks the
// items that DynamoDB's TTL purges.
func requestRoundTrip(t *testing.T, e *env) {
	const retention = 48 * time.Hour
	s := e.store.WithRetention(retention)
	c := newChange(t, "example.com", contact.Tech, bruno, carla, alice, base)
	c.Parties[0].ReplacedHashes = []string{"old-1", "old-2"}
	c.Parties[0].TaskToken = "task-token-1"
	c.Notify = []string{bruno, dario}
	c.History = append(c.History, contact.Event{At: base.Add(time.Second), By: contact.System, Event: "resent", Detail: "to " + carla})
	c.Resends, c.LastResendAt = 1, base.Add(time.Second)
	mustCreate(t, s, c)

	created := c
	created.Version = 1
	if diff := cmp.Diff(created, mustChange(t, s, c.ID)); diff != "" {
		t.Errorf("request after create (-want +got):\n%s", diff)
	}

	next := created
	next.Parties = append([]contact.Party(nil), created.Parties...)
	next.Parties[1].Status = contact.Accepted
	next.History = append(next.History, contact.Event{At: base.Add(time.Minute), By: carla, Event: "accepted"})
	saved, err := s.SaveChange(ctx, next)
	if err != nil {
		t.Fatal(err)
	}
	next.Version = 2
	if diff := cmp.Diff(next, saved); diff != "" {
		t.Errorf("SaveChange's answer (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(next, mustChange(t, s, c.ID)); diff != "" {
		t.Errorf("request after save (-want +got):\n%s", diff)
	}

	out, err := e.api.Query(ctx, &dynamodb.QueryInput{
		TableName:                 aws.String(e.tables.Requests),
		KeyConditionExpression:    aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: "REQUEST#" + c.ID}},
		ConsistentRead:            aws.Bool(true),
	})
	if err != nil {
		t.Fatal(err)
	}
	purgeAt := map[string]int64{}
	for _, item := range out.Items {
		sk, _ := item["sk"].(*types.AttributeValueMemberS)
		n, _ := item["purgeAt"].(*types.AttributeValueMemberN)
		if sk == nil || n == nil {
			t.Fatalf("item without sk or purgeAt: %v", item)
		}
		v, err := strconv.ParseInt(n.Value, 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		purgeAt[sk.Value] = v
	}
	at := base.Add(retention).Unix()
	want := map[string]int64{
		"REQUEST": at, "INVOLVED#" + alice: at, "INVOLVED#" + carla: at, "INVOLVED#" + bruno: at, "INVOLVED#" + dario: at,
		"INVOLVED#SERVICE#" + c.ServiceID: at, // the service's own listing
	}
	if diff := cmp.Diff(want, purgeAt); diff != "" {
		t.Errorf("purgeAt by item (-want +got):\n%s", diff)
	}
}

func createChangesLocksEveryRole(t *testing.T, e *env) {
	tech := newChange(t, "example.com", contact.Tech, bruno, dario, alice, base)
	bill := newChange(t, "example.com", contact.Billing, carla, alice, alice, base)
	mustCreate(t, e.store, tech, bill)
	svc := mustService(t, e.store, "example.com")
	if diff := cmp.Diff(map[contact.Role]string{contact.Tech: tech.ID, contact.Billing: bill.ID}, svc.Open); diff != "" {
		t.Errorf("locks (-want +got):\n%s", diff)
	}
	for _, c := range []contact.Change{tech, bill} {
		if got := mustChange(t, e.store, c.ID); got.Version != 1 || got.State != contact.Pending {
			t.Errorf("request %s stored as %s v%d, want pending v1", c.ID, got.State, got.Version)
		}
	}
}

func createChangesAllOrNothing(t *testing.T, e *env) {
	locked := newChange(t, "example.com", contact.Tech, bruno, dario, alice, base)
	mustCreate(t, e.store, locked)

	tests := []struct {
		name  string
		batch []contact.Change
	}{
		{"a role already locked", []contact.Change{
			newChange(t, "example.com", contact.Admin, alice, dario, alice, base),
			newChange(t, "example.com", contact.Tech, bruno, carla, alice, base),
		}},
		{"a role no longer held by From", []contact.Change{
			newChange(t, "example.org", contact.Admin, alice, dario, alice, base),
			newChange(t, "example.org", contact.Tech, bruno, dario, alice, base),
		}},
		{"a request id already taken", []contact.Change{
			newChange(t, "example.org", contact.Billing, alice, dario, alice, base),
			func() contact.Change {
				c := newChange(t, "ns1.example.net", contact.Tech, alice, dario, alice, base)
				c.ID = locked.ID
				return c
			}(),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before, err := e.store.ChangesOf(ctx, dario, contact.ChangeQuery{})
			if err != nil {
				t.Fatal(err)
			}
			wantKind(t, e.store.CreateChanges(ctx, tt.batch, nil), contact.ErrConflict)
			first := tt.batch[0]
			if _, err := e.store.Change(ctx, first.ID); !errors.Is(err, contact.ErrNotFound) {
				t.Errorf("request %s was written although its batch failed (%v)", first.ID, err)
			}
			if open := mustService(t, e.store, first.ServiceID).Open[first.Role]; open != "" {
				t.Errorf("the %s role of %s was locked by %s although the batch failed", first.Role, first.ServiceID, open)
			}
			after, err := e.store.ChangesOf(ctx, dario, contact.ChangeQuery{})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(before, after); diff != "" {
				t.Errorf("the involved account's list changed (-before +after):\n%s", diff)
			}
		})
	}
	if got := mustChange(t, e.store, locked.ID); got.ServiceID != locked.ServiceID || got.Version != 1 {
		t.Errorf("the request whose id was reused changed: %+v", got)
	}
}

func concurrentCreatesLeaveOneOpen(t *testing.T, e *env) {
	const n = 8
	changes := make([]contact.Change, n)
	for i := range changes {
		changes[i] = newChange(t, "example.com", contact.Tech, bruno, dario, alice, base.Add(time.Duration(i)*time.Second))
	}
	start := make(chan struct{})
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i, c := range changes {
		wg.Go(func() {
			<-start
			errs[i] = e.store.CreateChanges(ctx, []contact.Change{c}, nil)
		})
	}
	close(start)
	wg.Wait()

	var won []string
	for i, err := range errs {
		switch {
		case err == nil:
			won = append(won, changes[i].ID)
		case !errors.Is(err, contact.ErrConflict):
			t.Errorf("create %d: %v, want a conflict", i, err)
		}
	}
	if len(won) != 1 {
		t.Fatalf("%d of %d concurrent creates succeeded, want 1", len(won), n)
	}
	if open := mustService(t, e.store, "example.com").Open[contact.Tech]; open != won[0] {
		t.Errorf("the tech role is locked by %q, want the winner %s", open, won[0])
	}
	page, err := e.store.ChangesOf(ctx, dario, contact.ChangeQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Changes) != 1 || page.Changes[0].ID != won[0] {
		t.Errorf("the new holder sees %d requests, want only %s", len(page.Changes), won[0])
	}
}

func saveChangeVersionConflict(t *testing.T, e *env) {
	c := newChange(t, "example.com", contact.Tech, bruno, dario, alice, base)
	mustCreate(t, e.store, c)
	read := mustChange(t, e.store, c.ID)

	first := read
	first.Parties = []contact.Party{read.Parties[0], read.Parties[1]}
	first.Parties[0].Status = contact.Accepted
	saved, err := e.store.SaveChange(ctx, first)
	if err != nil {
		t.Fatal(err)
	}
	if saved.Version != read.Version+1 {
		t.Errorf("version %d after saving version %d", saved.Version, read.Version)
	}

	stale := read
	stale.Parties = []contact.Party{read.Parties[0], read.Parties[1]}
	stale.Parties[1].Status = contact.Accepted
	_, err = e.store.SaveChange(ctx, stale)
	wantKind(t, err, contact.ErrVersionConflict)

	stale.State = contact.Refused // a terminal save loses the race the same way
	_, err = e.store.SaveChange(ctx, stale)
	wantKind(t, err, contact.ErrVersionConflict)

	got := mustChange(t, e.store, c.ID)
	if diff := cmp.Diff(saved, got); diff != "" {
		t.Errorf("stored request after the stale writes (-want +got):\n%s", diff)
	}
	if open := mustService(t, e.store, "example.com").Open[contact.Tech]; open != c.ID {
		t.Errorf("the tech role is locked by %q, want %s", open, c.ID)
	}
}

func terminalSaveReleasesTheRole(t *testing.T, e *env) {
	for _, state := range []contact.State{contact.Refused, contact.Expired, contact.Cancelled, contact.Failed} {
		t.Run(string(state), func(t *testing.T) {
			c := newChange(t, "example.com", contact.Tech, bruno, dario, alice, base)
			mustCreate(t, e.store, c)
			read := mustChange(t, e.store, c.ID)
			read.State = state
			if _, err := e.store.SaveChange(ctx, read); err != nil {
				t.Fatal(err)
			}
			if open := mustService(t, e.store, "example.com").Open[contact.Tech]; open != "" {
				t.Fatalf("the role is still locked by %s", open)
			}
			if got := mustChange(t, e.store, c.ID); got.State != state || got.Version != read.Version+1 {
				t.Errorf("stored as %s v%d, want %s v%d", got.State, got.Version, state, read.Version+1)
			}
		})
	}
	mustCreate(t, e.store, newChange(t, "example.com", contact.Tech, bruno, carla, alice, base))
}

func applyChange(t *testing.T, e *env) {
	tests := []struct {
		name      string
		serviceID string
		role      contact.Role
		from, to  string
	}{
		{"tech", "example.com", contact.Tech, bruno, dario},
		{"admin", "example.com", contact.Admin, alice, carla},
		{"billing", "example.com", contact.Billing, carla, bruno},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newChange(t, tt.serviceID, tt.role, tt.from, tt.to, alice, base)
			mustCreate(t, e.store, c)
			read := mustChange(t, e.store, c.ID)
			read.State = contact.Done
			saved, err := e.store.ApplyChange(ctx, read)
			if err != nil {
				t.Fatal(err)
			}
			if saved.Version != read.Version+1 {
				t.Errorf("version %d after applying version %d", saved.Version, read.Version)
			}
			svc := mustService(t, e.store, tt.serviceID)
			if svc.Contacts[tt.role] != tt.to || svc.Open[tt.role] != "" {
				t.Errorf("after apply: contacts %v, locks %v", svc.Contacts, svc.Open)
			}
			if diff := cmp.Diff(saved, mustChange(t, e.store, c.ID)); diff != "" {
				t.Errorf("stored request (-want +got):\n%s", diff)
			}
			listed := servicePages(t, e.store, tt.to, contact.ServiceQuery{Role: tt.role})
			if diff := cmp.Diff([][]string{{tt.serviceID}}, listed); diff != "" {
				t.Errorf("the new holder's services (-want +got):\n%s", diff)
			}
			_, err = e.store.ApplyChange(ctx, read)
			wantKind(t, err, contact.ErrConflict)
		})
	}
}

func applyAfterTheHolderMoved(t *testing.T, e *env) {
	c := newChange(t, "example.com", contact.Tech, bruno, dario, alice, base)
	mustCreate(t, e.store, c)
	if err := e.store.SetHolder(ctx, "example.com", contact.Tech, carla); err != nil {
		t.Fatal(err)
	}
	read := mustChange(t, e.store, c.ID)
	done := read
	done.State = contact.Done
	_, err := e.store.ApplyChange(ctx, done)
	wantKind(t, err, contact.ErrConflict)

	svc := mustService(t, e.store, "example.com")
	if svc.Contacts[contact.Tech] != carla || svc.Open[contact.Tech] != c.ID {
		t.Errorf("after a failed apply: contacts %v, locks %v", svc.Contacts, svc.Open)
	}
	if diff := cmp.Diff(read, mustChange(t, e.store, c.ID)); diff != "" {
		t.Errorf("the request changed although the apply failed (-want +got):\n%s", diff)
	}
}

func applyToAMissingAccount(t *testing.T, e *env) {
	c := newChange(t, "example.com", contact.Tech, bruno, nobody, alice, base)
	mustCreate(t, e.store, c)
	read := mustChange(t, e.store, c.ID)
	done := read
	done.State = contact.Done
	_, err := e.store.ApplyChange(ctx, done)
	wantKind(t, err, contact.ErrConflict)
	if svc := mustService(t, e.store, "example.com"); svc.Contacts[contact.Tech] != bruno {
		t.Errorf("tech went to %s, who has no account", svc.Contacts[contact.Tech])
	}
}

func applyBillingOutOfStanding(t *testing.T, e *env) {
	tests := []struct {
		name    string
		lapsed  string // the account that falls out of standing before the apply
		from    string
		to      string
		service string
	}{
		{"new holder", bruno, carla, bruno, "example.com"},
		{"previous holder", carla, carla, bruno, "example.com"},
		{"previous holder never in standing", "", dario, carla, "ns1.example.net"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := setup(t, e.api) // each row on fresh tables
			c := newChange(t, tt.service, contact.Billing, tt.from, tt.to, alice, base)
			mustCreate(t, e.store, c)
			if tt.lapsed != "" {
				if err := e.store.SetStanding(ctx, tt.lapsed, false); err != nil {
					t.Fatal(err)
				}
			}
			read := mustChange(t, e.store, c.ID)
			done := read
			done.State = contact.Done
			_, err := e.store.ApplyChange(ctx, done)
			wantKind(t, err, contact.ErrConflict)
			if svc := mustService(t, e.store, tt.service); svc.Contacts[contact.Billing] != tt.from || svc.Open[contact.Billing] != c.ID {
				t.Fatalf("after a failed apply: contacts %v, locks %v", svc.Contacts, svc.Open)
			}
			if got := mustChange(t, e.store, c.ID); got.Version != read.Version || got.State != contact.Pending {
				t.Errorf("request stored as %s v%d after a failed apply", got.State, got.Version)
			}
			for _, nic := range []string{tt.from, tt.to} {
				if err := e.store.SetStanding(ctx, nic, true); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := e.store.ApplyChange(ctx, done); err != nil {
				t.Errorf("apply once both are in good standing: %v", err)
			}
		})
	}
}

// changePages lists the request ids of every page of nic's requests, following cursors.
func changePages(t *testing.T, s *store.Store, nic string, q contact.ChangeQuery) [][]string {
	return walkPages(t, func(cursor string) ([]string, string, error) {
		q.Cursor = cursor
		page, err := s.ChangesOf(ctx, nic, q)
		var ids []string
		for _, c := range page.Changes {
			ids = append(ids, c.ID)
		}
		return ids, page.NextCursor, err
	})
}

func changesOf(t *testing.T, e *env) {
	// Creation times whose fractions have different lengths: newest first must still hold.
	created := []time.Duration{0, 877 * time.Millisecond, 896543211 * time.Nanosecond, 2 * time.Second, 2*time.Second + 100*time.Millisecond}
	roles := []struct {
		service string
		role    contact.Role
		from    string
	}{
		{"example.com", contact.Tech, bruno},
		{"example.com", contact.Billing, carla},
		{"example.org", contact.Tech, alice},
		{"example.org", contact.Billing, alice},
		{"ns1.example.net", contact.Billing, dario},
	}
	ids := make([]string, len(roles)) // newest first
	for i, r := range roles {
		c := newChange(t, r.service, r.role, r.from, nobody, alice, base.Truncate(time.Second).Add(created[i]))
		mustCreate(t, e.store, c)
		ids[len(roles)-1-i] = c.ID
	}
	newest := mustChange(t, e.store, ids[0])
	newest.State = contact.Cancelled
	if _, err := e.store.SaveChange(ctx, newest); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name string
		nic  string
		q    contact.ChangeQuery
		want [][]string
	}{
		{"requester, pages of 2", alice, contact.ChangeQuery{Limit: 2}, [][]string{ids[0:2], ids[2:4], ids[4:]}},
		{"a page that fits exactly", alice, contact.ChangeQuery{Limit: 5}, [][]string{ids}},
		{"default page size", alice, contact.ChangeQuery{}, [][]string{ids}},
		{"party", nobody, contact.ChangeQuery{Limit: 3}, [][]string{ids[0:3], ids[3:]}},
		{"previous holder, notified", bruno, contact.ChangeQuery{}, [][]string{{ids[4]}}},
		{"another previous holder", dario, contact.ChangeQuery{}, [][]string{{ids[0]}}},
		{"pending, pages of 2", alice, contact.ChangeQuery{State: contact.Pending, Limit: 2}, [][]string{ids[1:3], ids[3:]}},
		{"pending, pages of 1", nobody, contact.ChangeQuery{State: contact.Pending, Limit: 1}, [][]string{{ids[1]}, {ids[2]}, {ids[3]}, {ids[4]}}},
		{"cancelled", alice, contact.ChangeQuery{State: contact.Cancelled, Limit: 2}, [][]string{{ids[0]}}},
		{"no request in that state", alice, contact.ChangeQuery{State: contact.Done}, [][]string{nil}},
		{"not involved", "zz99999-ovh", contact.ChangeQuery{}, [][]string{nil}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := changePages(t, e.store, tt.nic, tt.q)
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("pages (-want +got):\n%s", diff)
			}
		})
	}

	t.Run("a request purged before its index items", func(t *testing.T) {
		// TTL deletes the items of a request one by one: the list skips the leftovers.
		_, err := e.api.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{{
			Delete: &types.Delete{TableName: aws.String(e.tables.Requests), Key: map[string]types.AttributeValue{
				"pk": &types.AttributeValueMemberS{Value: "REQUEST#" + ids[2]},
				"sk": &types.AttributeValueMemberS{Value: "REQUEST"},
			}},
		}}})
		if err != nil {
			t.Fatal(err)
		}
		got := changePages(t, e.store, nobody, contact.ChangeQuery{Limit: 2})
		want := [][]string{{ids[0], ids[1]}, {ids[3], ids[4]}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("pages (-want +got):\n%s", diff)
		}
	})

	t.Run("requests read in full", func(t *testing.T) {
		page, err := e.store.ChangesOf(ctx, carla, contact.ChangeQuery{})
		if err != nil {
			t.Fatal(err)
		}
		want := []contact.Change{mustChange(t, e.store, ids[3])}
		if diff := cmp.Diff(want, page.Changes); diff != "" {
			t.Errorf("requests (-want +got):\n%s", diff)
		}
	})
}
