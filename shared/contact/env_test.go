package contact_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/go-cmp/cmp"

	"github.com/servicecontacts/servicecontacts/shared/contact"
	"github.com/servicecontacts/servicecontacts/shared/store"
	"github.com/servicecontacts/servicecontacts/shared/store/embedded"
	"github.com/servicecontacts/servicecontacts/shared/store/storetest"
)

// The accounts of the seed.
const (
	adm      = "ad10001-ovh" // admin of example.com
	tec      = "te10002-ovh" // tech of example.com
	bil      = "bi10003-ovh" // billing of example.com
	nwc      = "nw10004-ovh" // a newcomer, holds nothing, in good standing
	zed      = "zz10005-ovh" // a third account, holds nothing, in good standing
	mute     = "ne10006-ovh" // has no email address; admin of mute.example
	late     = "lt10007-ovh" // not in good standing; billing of late.example
	stranger = "st10008-ovh" // holds nothing on any service
	ghost    = "gh10009-ovh" // well formed, but no such account
)

// The services of the seed.
const (
	svcID    = "example.com"     // adm, tec, bil
	lateSvc  = "late.example"    // adm, tec, late
	muteSvc  = "mute.example"    // mute, tec, bil
	ownSvc   = "own.example"     // adm holds every role
	serverID = "ns1.example.net" // a dedicated server: adm, tec, bil
)

func seed() store.Seed {
	return store.Seed{
		Accounts: []store.SeedAccount{
			{NIC: adm, Email: "adm@example.com", Language: "it", GoodStanding: true},
			{NIC: tec, Email: "tec@example.com", Language: "fr", GoodStanding: true},
			{NIC: bil, Email: "bil@example.com", GoodStanding: true},
			{NIC: nwc, Email: "nwc@example.com", GoodStanding: true},
			{NIC: zed, Email: "zed@example.com", GoodStanding: true},
			{NIC: mute, Email: "", GoodStanding: true},
			{NIC: late, Email: "late@example.com", GoodStanding: false},
			{NIC: stranger, Email: "stranger@example.com", GoodStanding: true},
		},
		Services: []store.SeedService{
			{ID: svcID, Type: "domain", Admin: adm, Tech: tec, Billing: bil},
			{ID: lateSvc, Type: "domain", Admin: adm, Tech: tec, Billing: late},
			{ID: muteSvc, Type: "domain", Admin: mute, Tech: tec, Billing: bil},
			{ID: ownSvc, Type: "hosting", Admin: adm, Tech: adm, Billing: adm},
			{ID: serverID, Type: "dedicated-server", Admin: adm, Tech: tec, Billing: bil},
		},
	}
}

// t0 is when every test starts; it has a fraction of a second, as real clocks give.
var t0 = time.Date(2025, 3, 1, 9, 30, 0, 123456789, time.UTC)

// backend makes the DynamoDB API a test runs on.
type backend struct {
	name   string
	newAPI func(t *testing.T) store.API
}

// backends are the two the store runs on in tests: the embedded one, always, and DynamoDB
// Local when DYNAMODB_ENDPOINT names one (its cases skip, saying why, otherwise).
var backends = []backend{
	{"embedded", func(*testing.T) store.API { return embedded.New() }},
	{"DynamoDBLocal", func(t *testing.T) store.API { return storetest.DynamoDBLocal(t) }},
}

// env is what a test runs against: a Manager on a real store, loaded with seed(), with a
// fake workflow, a fake notifier and a clock that moves only when told.
type env struct {
	t      *testing.T
	ctx    context.Context
	api    store.API
	tables store.Tables
	st     *store.Store
	hooks  *hookStore // the Manager's store: st, with hooks the tests may set
	wf     *fakeWorkflow
	mail   *fakeNotifier
	events *fakePublisher
	clock  *fakeClock
	m      *contact.Manager
}

// option adjusts the Manager's configuration.
type option func(*contact.Config)

// onBackends runs body, as parallel subtests, on a fresh env on each backend.
func onBackends(t *testing.T, body func(t *testing.T, e *env), opts ...option) {
	t.Helper()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			body(t, newEnv(t, b, opts...))
		})
	}
}

// newEnv creates uniquely named tables on b's backend and a Manager on them.
func newEnv(t *testing.T, b backend, opts ...option) *env {
	t.Helper()
	api := b.newAPI(t)
	id := suffix()
	tables := store.Tables{Contacts: "contact-test-contacts-" + id, Requests: "contact-test-requests-" + id}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := store.CreateTables(ctx, api, tables); err != nil {
		t.Fatal(err)
	}
	st := store.New(api, tables)
	if err := st.Load(ctx, seed()); err != nil {
		t.Fatal(err)
	}
	e := &env{
		t: t, ctx: context.Background(), api: api, tables: tables, st: st,
		wf: &fakeWorkflow{}, mail: &fakeNotifier{}, events: &fakePublisher{}, clock: &fakeClock{now: t0},
	}
	e.hooks = &hookStore{Store: st}
	cfg := contact.Config{
		Store: e.hooks, Workflow: e.wf, Notifier: e.mail, Publisher: e.events, Now: e.clock.Now,
		Logger: slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	for _, o := range opts {
		o(&cfg)
	}
	e.m = contact.New(cfg)
	return e
}

func suffix() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b) // never fails
	return hex.EncodeToString(b)
}

// testWriter sends the Manager's logs to the test's log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

// request asks for changes and fails the test if it cannot.
func (e *env) request(caller, serviceID string, wanted map[contact.Role]string) []contact.Change {
	e.t.Helper()
	changes, err := e.m.RequestChanges(e.ctx, caller, serviceID, wanted)
	if err != nil {
		e.t.Fatalf("RequestChanges(%s, %s, %v): %v", caller, serviceID, wanted, err)
	}
	if len(changes) != len(wanted) {
		e.t.Fatalf("RequestChanges(%s, %s, %v) made %d requests, want %d", caller, serviceID, wanted, len(changes), len(wanted))
	}
	return changes
}

// request1 asks for one role of serviceID to pass to to.
func (e *env) request1(caller, serviceID string, role contact.Role, to string) contact.Change {
	e.t.Helper()
	return e.request(caller, serviceID, map[contact.Role]string{role: to})[0]
}

// newTech is the commonest request: adm asks that nwc become the tech of example.com
// (adm and nwc confirm, tec is told).
func (e *env) newTech() contact.Change {
	e.t.Helper()
	return e.request1(adm, svcID, contact.Tech, nwc)
}

// decide answers for nic with the token last emailed to it, through the API.
func (e *env) decide(id, nic string, accept bool) contact.Change {
	e.t.Helper()
	token := e.mail.Token(id, nic)
	if token == "" {
		e.t.Fatalf("no token was emailed to %s for request %s", nic, id)
	}
	c, err := e.m.Decide(e.ctx, contact.Decision{ChangeID: id, Token: token, Caller: nic, Accept: accept})
	if err != nil {
		e.t.Fatalf("Decide(%s, %s, accept=%v): %v", id, nic, accept, err)
	}
	return c
}

// acceptAll has every party of c accept, in order, and checks that c is then applying.
func (e *env) acceptAll(c contact.Change) contact.Change {
	e.t.Helper()
	var got contact.Change
	for _, p := range c.Parties {
		got = e.decide(c.ID, p.NIC, true)
	}
	if got.State != contact.Applying {
		e.t.Fatalf("request %s is %s after every party accepted, want applying", c.ID, got.State)
	}
	return got
}

// change reads request id from the store.
func (e *env) change(id string) contact.Change {
	e.t.Helper()
	c, err := e.st.Change(e.ctx, id)
	if err != nil {
		e.t.Fatalf("read request %s: %v", id, err)
	}
	return c
}

// service reads a service from the store.
func (e *env) service(id string) contact.Service {
	e.t.Helper()
	svc, err := e.st.Service(e.ctx, id)
	if err != nil {
		e.t.Fatalf("read service %s: %v", id, err)
	}
	return svc
}

// wantState checks the stored state of request id.
func (e *env) wantState(id string, want contact.State) contact.Change {
	e.t.Helper()
	c := e.change(id)
	if c.State != want {
		e.t.Fatalf("request %s is %s, want %s; history %+v", id, c.State, want, c.History)
	}
	return c
}

// wantReleased checks that request id no longer locks its role.
func (e *env) wantReleased(c contact.Change) {
	e.t.Helper()
	svc, err := e.st.Service(e.ctx, c.ServiceID)
	if errors.Is(err, contact.ErrNotFound) {
		return // the service is gone, and its locks with it
	}
	if err != nil {
		e.t.Fatal(err)
	}
	if svc.Open[c.Role] == c.ID {
		e.t.Errorf("request %s (%s) still locks the %s role of %s", c.ID, c.State, c.Role, c.ServiceID)
	}
}

// wantContacts checks who holds the roles of a service.
func (e *env) wantContacts(serviceID string, want map[contact.Role]string) {
	e.t.Helper()
	if diff := cmp.Diff(want, e.service(serviceID).Contacts); diff != "" {
		e.t.Errorf("contacts of %s (-want +got):\n%s", serviceID, diff)
	}
}

// wantTold checks who got notices of kind about request id: each NIC in want exactly once,
// nobody else.
func (e *env) wantTold(id string, kind contact.NoticeKind, want ...string) {
	e.t.Helper()
	wantCounts := map[string]int{}
	for _, nic := range want {
		wantCounts[nic] = 1
	}
	if diff := cmp.Diff(wantCounts, e.mail.Recipients(id, kind)); diff != "" {
		e.t.Errorf("%s notices of request %s, by recipient (-want +got):\n%s", kind, id, diff)
	}
}

// lastEvent returns the latest history entry of c.
func lastEvent(t *testing.T, c contact.Change) contact.Event {
	t.Helper()
	if len(c.History) == 0 {
		t.Fatalf("request %s has no history", c.ID)
	}
	return c.History[len(c.History)-1]
}

// wantError checks that err is a *contact.Error of the given kind and code.
func wantError(t *testing.T, err, kind error, code string) *contact.Error {
	t.Helper()
	var e *contact.Error
	if !errors.Is(err, kind) || !errors.As(err, &e) || e.Code != code {
		t.Fatalf("error = %v, want kind %q with code %q", err, kind, code)
	}
	return e
}

// deleteItems removes items of the contacts table: the store has no way to delete an
// account or a service (the provider's systems do), so the tests reach under it.
func (e *env) deleteItems(keys ...[2]string) {
	e.t.Helper()
	var writes []types.WriteRequest
	for _, k := range keys {
		writes = append(writes, types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: k[0]}, "sk": &types.AttributeValueMemberS{Value: k[1]},
		}}})
	}
	_, err := e.api.BatchWriteItem(e.ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{e.tables.Contacts: writes}})
	if err != nil {
		e.t.Fatal(err)
	}
}

// deleteService deletes a service and its role items, as an operator's DELETE would.
func (e *env) deleteService(id string) {
	e.t.Helper()
	e.deleteItems([2]string{"SERVICE#" + id, "SERVICE"},
		[2]string{"SERVICE#" + id, "ROLE#admin"}, [2]string{"SERVICE#" + id, "ROLE#tech"}, [2]string{"SERVICE#" + id, "ROLE#billing"})
	if _, err := e.st.Service(e.ctx, id); !errors.Is(err, contact.ErrNotFound) {
		e.t.Fatalf("service %s still there after its deletion: %v", id, err)
	}
}

// deleteAccount deletes an account.
func (e *env) deleteAccount(nic string) {
	e.t.Helper()
	e.deleteItems([2]string{"ACCOUNT#" + nic, "PROFILE"})
	if _, err := e.st.Account(e.ctx, nic); !errors.Is(err, contact.ErrNotFound) {
		e.t.Fatalf("account %s still there after its deletion: %v", nic, err)
	}
}

// lockRole makes another request the holder of a role's lock.
func (e *env) lockRole(serviceID string, role contact.Role, requestID string) {
	e.t.Helper()
	_, err := e.api.UpdateItem(e.ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(e.tables.Contacts),
		Key:                       map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "SERVICE#" + serviceID}, "sk": &types.AttributeValueMemberS{Value: "ROLE#" + string(role)}},
		UpdateExpression:          aws.String("SET openRequest = :id"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":id": &types.AttributeValueMemberS{Value: requestID}},
	})
	if err != nil {
		e.t.Fatal(err)
	}
	if got := e.service(serviceID).Open[role]; got != requestID {
		e.t.Fatalf("lock of %s %s = %q, want %q", serviceID, role, got, requestID)
	}
}

// setHolder hands a role over outside any request, as an operator's correction does.
func (e *env) setHolder(serviceID string, role contact.Role, nic string) {
	e.t.Helper()
	if err := e.st.SetHolder(e.ctx, serviceID, role, nic); err != nil {
		e.t.Fatal(err)
	}
}

// setStanding records an account's payment standing.
func (e *env) setStanding(nic string, good bool) {
	e.t.Helper()
	if err := e.st.SetStanding(e.ctx, nic, good); err != nil {
		e.t.Fatal(err)
	}
}

// exampleContacts are the contacts of example.com in the seed.
func exampleContacts() map[contact.Role]string {
	return map[contact.Role]string{contact.Admin: adm, contact.Tech: tec, contact.Billing: bil}
}
