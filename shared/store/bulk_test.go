package store_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
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

func TestBulkLoadOnEmbeddedBackend(t *testing.T) {
	t.Log("backend: embedded (in-process)")
	runBulk(t, func(*testing.T) store.API { return embedded.New() })
}

func TestBulkLoadOnDynamoDBLocal(t *testing.T) {
	client := storetest.DynamoDBLocal(t)
	t.Logf("backend: DynamoDB Local at %s", *client.Options().BaseEndpoint)
	runBulk(t, func(*testing.T) store.API { return client })
}

// runBulk runs every bulk-load case in parallel, each on fresh tables of newAPI's backend.
func runBulk(t *testing.T, newAPI func(t *testing.T) store.API) {
	cases := []struct {
		name string
		run  func(t *testing.T, api store.API, tables store.Tables)
	}{
		{"LoadsThenUnchanged", bulkLoadsThenUnchanged},
		{"RejectsLines", bulkRejectsLines},
		{"ChangesHolders", bulkChangesHolders},
		{"NeverChangesALockedRole", bulkNeverChangesALockedRole},
		{"RoleLockedWhileLoading", bulkRoleLockedWhileLoading},
		{"RepeatedLines", bulkRepeatedLines},
		{"KeepsWhatItDoesNotSet", bulkKeepsWhatItDoesNotSet},
		{"RetriesUnprocessed", bulkRetriesUnprocessed},
		{"ManyChunks", bulkManyChunks},
		{"StopsWithTheContext", bulkStopsWithTheContext},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			api := newAPI(t)
			c.run(t, api, freshTables(t, api))
		})
	}
}

const (
	alice = "aa11111-ovh"
	bruno = "bb22222-ovh"
	carla = "cc33333-ovh"
)

func freshTables(t *testing.T, api store.API) store.Tables {
	t.Helper()
	b := make([]byte, 6)
	_, _ = rand.Read(b) // never fails
	id := hex.EncodeToString(b)
	tables := store.Tables{Contacts: "bulk-contacts-" + id, Requests: "bulk-requests-" + id}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := store.CreateTables(ctx, api, tables); err != nil {
		t.Fatal(err)
	}
	return tables
}

func accountLine(nic, email, lang string, good bool) string {
	return fmt.Sprintf(`{"account": {"nic": %q, "email": %q, "language": %q, "goodStanding": %t}}`, nic, email, lang, good)
}

func serviceLine(id, typ, admin, tech, billing string) string {
	return fmt.Sprintf(`{"service": {"id": %q, "type": %q, "admin": %q, "tech": %q, "billing": %q}}`, id, typ, admin, tech, billing)
}

// baseLines are three accounts and a service they hold.
var baseLines = []string{
	accountLine(alice, "alice@example.com", "it", true),
	accountLine(bruno, "bruno@example.com", "fr", true),
	accountLine(carla, "carla@example.com", "en", true),
	serviceLine("example.com", "domain", alice, bruno, carla),
}

func mustBulk(t *testing.T, s *store.Store, lines ...string) store.BulkSummary {
	t.Helper()
	sum, err := s.BulkLoad(context.Background(), strings.NewReader(strings.Join(lines, "\n")+"\n"), nil)
	if err != nil {
		t.Fatalf("bulk load: %v (summary %+v)", err, sum)
	}
	return sum
}

func wantSummary(t *testing.T, got, want store.BulkSummary) {
	t.Helper()
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("summary (-want +got):\n%s", diff)
	}
}

func wantService(t *testing.T, s *store.Store, id, typ string, holders [3]string, open map[contact.Role]string) {
	t.Helper()
	got, err := s.Service(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	want := contact.Service{ID: id, Type: typ, Contacts: map[contact.Role]string{
		contact.Admin: holders[0], contact.Tech: holders[1], contact.Billing: holders[2],
	}, Open: open}
	if want.Open == nil {
		want.Open = map[contact.Role]string{}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("service %s (-want +got):\n%s", id, diff)
	}
}

// servicesOf lists the ids of nic's services through the ByHolder index.
func servicesOf(t *testing.T, s *store.Store, nic string) []string {
	t.Helper()
	var ids []string
	q := contact.ServiceQuery{Limit: 100}
	for {
		page, err := s.ServicesOf(context.Background(), nic, q)
		if err != nil {
			t.Fatal(err)
		}
		for _, svc := range page.Services {
			ids = append(ids, svc.ID)
		}
		if page.NextCursor == "" {
			return ids
		}
		q.Cursor = page.NextCursor
	}
}

func bulkLoadsThenUnchanged(t *testing.T, api store.API, tables store.Tables) {
	s := store.New(api, tables)
	lines := []string{
		`{"account": {"nic": " AA11111-OVH ", "email": "alice@example.com", "language": "IT", "goodStanding": true}}`,
		"",
		`{"account": {"nic": "bb22222-ovh", "email": "", "language": "", "goodStanding": false}}`,
		`{"service": {"id": "ns1.example.net", "type": "dedicated-server", "admin": "aa11111-ovh", "tech": "BB22222-ovh", "billing": "aa11111-ovh"}}`,
	}
	wantSummary(t, mustBulk(t, s, lines...), store.BulkSummary{Lines: 4, Loaded: 3})

	for _, want := range []contact.Account{
		{NIC: alice, Email: "alice@example.com", Language: contact.Italian, GoodStanding: true},
		{NIC: bruno, Language: contact.English},
	} {
		got, err := s.Account(context.Background(), want.NIC)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("account (-want +got):\n%s", diff)
		}
	}
	wantService(t, s, "ns1.example.net", "dedicated-server", [3]string{alice, bruno, alice}, nil)
	if got := servicesOf(t, s, bruno); !slices.Equal(got, []string{"ns1.example.net"}) {
		t.Errorf("services of %s: %q, want ns1.example.net", bruno, got)
	}

	wantSummary(t, mustBulk(t, s, lines...), store.BulkSummary{Lines: 4, Unchanged: 3})
}

func bulkRejectsLines(t *testing.T, api store.API, tables store.Tables) {
	s := store.New(api, tables)
	tests := []struct {
		line   string
		reason string // a part of the rejection's reason; empty for a line that loads
	}{
		{line: `not json`, reason: "invalid JSON"},
		{line: `[1]`, reason: "invalid JSON"},
		{line: `{"acount": {}}`, reason: `invalid JSON: unknown field "acount"`},
		{line: `{"account": {"nic": "dd44444-ovh", "emial": "d@example.com", "goodStanding": true}}`, reason: `unknown field "emial"`},
		{line: `{}`, reason: `one object: {"account": {...}} or {"service": {...}}`},
		{line: `{"account": null}`, reason: "one object"},
		{line: accountLine("dd44444-ovh", "", "", true)[:len(accountLine("dd44444-ovh", "", "", true))-1] + `, "service": {}}`, reason: "one object"},
		{line: accountLine("dd44444-ovh", "", "", true) + " {}", reason: "data after the object"},
		{line: accountLine("alice", "", "", true), reason: `account: "alice" is not a NIC handle`},
		{line: accountLine("dd44444-ovh", "d@example.com", "de", true), reason: `account dd44444-ovh: language "de" is not one of en, fr, it`},
		{line: accountLine("dd44444-ovh", "d.example.com", "en", true), reason: "email is not one address"},
		{line: accountLine("dd44444-ovh", "Dana <d@example.com>", "en", true), reason: "email is not one address"},
		{line: `{"account": {"nic": "dd44444-ovh", "email": "d@example.com"}}`, reason: "account dd44444-ovh: goodStanding is required"},
		{line: accountLine("ee55555-ovh", "e@example.com", "fr", false)},
		{line: serviceLine("", "domain", alice, alice, alice), reason: "service: id is required"},
		{line: serviceLine("x#1", "domain", alice, alice, alice), reason: `service "x#1": id must be`},
		{line: serviceLine("a/b", "domain", alice, alice, alice), reason: "id must be"},
		{line: serviceLine(" example.com", "domain", alice, alice, alice), reason: "id must be"},
		{line: serviceLine(strings.Repeat("a", 256), "domain", alice, alice, alice), reason: "id must be at most 255"},
		{line: serviceLine("example.com", "", alice, alice, alice), reason: `service example.com: type "" must be`},
		{line: serviceLine("example.com", "Domain", alice, alice, alice), reason: "type"},
		{line: `{"service": {"id": "example.com", "type": "domain", "admin": "aa11111-ovh", "billing": "aa11111-ovh"}}`, reason: "service example.com: tech is required"},
		{line: serviceLine("example.com", "domain", alice, alice, "alice"), reason: `service example.com: billing: "alice" is not a NIC handle`},
		{line: serviceLine("example.com", "domain", alice, "zz99999-ovh", alice), reason: "service example.com: tech zz99999-ovh is not an account (of the table, or of an earlier line)"},
		// A holder must come before the services it holds, or be in the table.
		{line: serviceLine("example.net", "domain", "ff66666-ovh", alice, alice), reason: "admin ff66666-ovh is not an account"},
		{line: accountLine("ff66666-ovh", "f@example.com", "it", true)},
		{line: serviceLine("example.org", "web-hosting", "ff66666-ovh", "ee55555-ovh", alice)},
		{line: `{"account": ` + strings.Repeat(" ", 70<<10) + `}`, reason: "longer than 65536 bytes"},
		{line: serviceLine("pcc-1-2-3-4_x:y", "private-cloud", alice, alice, alice)},
	}
	lines := []string{accountLine(alice, "alice@example.com", "it", true)}
	want := store.BulkSummary{Loaded: 1}
	for _, tt := range tests {
		lines = append(lines, tt.line)
		if tt.reason == "" {
			want.Loaded++
		}
	}
	want.Lines = len(lines)
	got := mustBulk(t, s, lines...)
	if got.Lines != want.Lines || got.Loaded != want.Loaded || got.Unchanged != 0 {
		t.Errorf("summary %+v, want %d lines, %d loaded", got, want.Lines, want.Loaded)
	}
	rejected := map[int]string{}
	for _, r := range got.Rejected {
		rejected[r.Line] = r.Reason
	}
	for i, tt := range tests {
		reason, ok := rejected[i+2]
		switch {
		case tt.reason == "" && ok:
			t.Errorf("line %d %.80s: rejected (%s), want it loaded", i+2, tt.line, reason)
		case tt.reason != "" && !strings.Contains(reason, tt.reason):
			t.Errorf("line %d %.80s: reason %q, want one containing %q", i+2, tt.line, reason, tt.reason)
		}
	}
	if len(got.Rejected) != len(tests)-(want.Loaded-1) {
		t.Errorf("%d rejections, want %d: %+v", len(got.Rejected), len(tests)-(want.Loaded-1), got.Rejected)
	}
	wantService(t, s, "example.org", "web-hosting", [3]string{"ff66666-ovh", "ee55555-ovh", alice}, nil)
	if _, err := s.Service(context.Background(), "example.net"); !errors.Is(err, contact.ErrNotFound) {
		t.Errorf("rejected service example.net: %v, want not found", err)
	}
}

func bulkChangesHolders(t *testing.T, api store.API, tables store.Tables) {
	s := store.New(api, tables)
	mustBulk(t, s, baseLines...)
	// The tech moves from bruno to carla, and the service changes type.
	sum := mustBulk(t, s, append(baseLines[:3:3], serviceLine("example.com", "web-hosting", alice, carla, carla))...)
	wantSummary(t, sum, store.BulkSummary{Lines: 4, Loaded: 1, Unchanged: 3})
	wantService(t, s, "example.com", "web-hosting", [3]string{alice, carla, carla}, nil)
	if got := servicesOf(t, s, bruno); len(got) != 0 {
		t.Errorf("services of the former tech: %q, want none", got)
	}
	if got := servicesOf(t, s, carla); !slices.Equal(got, []string{"example.com"}) {
		t.Errorf("services of the new tech: %q, want example.com", got)
	}
	// An account that changes is loaded, and the services it holds stay.
	sum = mustBulk(t, s, accountLine(bruno, "bruno@example.org", "it", false))
	wantSummary(t, sum, store.BulkSummary{Lines: 1, Loaded: 1})
	got, err := s.Account(context.Background(), bruno)
	if err != nil {
		t.Fatal(err)
	}
	if want := (contact.Account{NIC: bruno, Email: "bruno@example.org", Language: contact.Italian}); !cmp.Equal(want, got) {
		t.Errorf("account %+v, want %+v", got, want)
	}
}

// openTech opens a request handing example.com's tech role from bruno to carla.
func openTech(t *testing.T, s *store.Store) string {
	t.Helper()
	at := time.Date(2025, 3, 1, 9, 30, 0, 0, time.UTC)
	c := contact.Change{
		ID: "req-bulk-1", ServiceID: "example.com", ServiceType: "domain", Role: contact.Tech,
		From: bruno, To: carla, RequestedBy: alice, State: contact.Pending,
		Parties:   []contact.Party{{NIC: alice, Status: contact.Waiting}, {NIC: carla, Status: contact.Waiting}},
		Notify:    []string{bruno},
		CreatedAt: at, ExpiresAt: at.Add(14 * 24 * time.Hour),
		History: []contact.Event{{At: at, By: alice, Event: "created"}},
	}
	if err := s.CreateChanges(context.Background(), []contact.Change{c}, nil); err != nil {
		t.Fatal(err)
	}
	return c.ID
}

func bulkNeverChangesALockedRole(t *testing.T, api store.API, tables store.Tables) {
	s := store.New(api, tables)
	mustBulk(t, s, baseLines...)
	id := openTech(t, s)
	sum := mustBulk(t, s,
		serviceLine("example.com", "domain", alice, carla, carla), // would hand the locked role over
		serviceLine("example.com", "domain", bruno, bruno, carla), // leaves it to its holder
	)
	wantSummary(t, sum, store.BulkSummary{Lines: 2, Loaded: 1, Rejected: []store.Rejection{
		{Line: 1, Reason: "service example.com: role tech has an open request; correct it through the operator API"},
	}})
	// The admin changed; the tech role kept its holder and its lock.
	wantService(t, s, "example.com", "domain", [3]string{bruno, bruno, carla}, map[contact.Role]string{contact.Tech: id})
}

// lockingAPI opens a request on example.com's tech role just before the first transaction
// reaches the table, as a customer could while the load runs.
type lockingAPI struct {
	store.API
	once sync.Once
	lock func()
}

func (a *lockingAPI) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	a.once.Do(a.lock)
	return a.API.TransactWriteItems(ctx, in, opts...)
}

func bulkRoleLockedWhileLoading(t *testing.T, api store.API, tables store.Tables) {
	direct := store.New(api, tables)
	mustBulk(t, direct, baseLines...)
	var id string
	s := store.New(&lockingAPI{API: api, lock: func() { id = openTech(t, direct) }}, tables)
	sum := mustBulk(t, s, serviceLine("example.com", "domain", alice, carla, carla))
	wantSummary(t, sum, store.BulkSummary{Lines: 1, Rejected: []store.Rejection{
		{Line: 1, Reason: "service example.com: changed while it was being loaded; load its line again"},
	}})
	wantService(t, direct, "example.com", "domain", [3]string{alice, bruno, carla}, map[contact.Role]string{contact.Tech: id})
}

func bulkRepeatedLines(t *testing.T, api store.API, tables store.Tables) {
	s := store.New(api, tables)
	sum := mustBulk(t, s,
		accountLine(alice, "alice@example.com", "it", true),
		serviceLine("example.com", "domain", alice, alice, alice),
		accountLine(alice, "alice@example.org", "it", true),       // a change of the first line
		serviceLine("example.com", "domain", alice, alice, alice), // the same again
	)
	wantSummary(t, sum, store.BulkSummary{Lines: 4, Loaded: 3, Unchanged: 1})
	got, err := s.Account(context.Background(), alice)
	if err != nil {
		t.Fatal(err)
	}
	if got.Email != "alice@example.org" {
		t.Errorf("email %q, want the last line's alice@example.org", got.Email)
	}
}

func bulkKeepsWhatItDoesNotSet(t *testing.T, api store.API, tables store.Tables) {
	s := store.New(api, tables)
	mustBulk(t, s, baseLines...)
	// An attribute the store keeps of the account's address, which the load does not set.
	accountKey := map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: "ACCOUNT#" + alice}, "sk": &types.AttributeValueMemberS{Value: "PROFILE"},
	}
	mark := func() {
		t.Helper()
		_, err := api.UpdateItem(context.Background(), &dynamodb.UpdateItemInput{
			TableName: &tables.Contacts, Key: accountKey, UpdateExpression: aws.String("SET bouncedAt = :at"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":at": &types.AttributeValueMemberS{Value: "2025-03-01T09:30:00Z"}},
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	marked := func() bool {
		t.Helper()
		out, err := api.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: &tables.Contacts, Key: accountKey, ConsistentRead: aws.Bool(true)})
		if err != nil {
			t.Fatal(err)
		}
		_, ok := out.Item["bouncedAt"]
		return ok
	}
	mark()
	wantSummary(t, mustBulk(t, s, accountLine(alice, "alice@example.com", "it", true)), store.BulkSummary{Lines: 1, Unchanged: 1})
	wantSummary(t, mustBulk(t, s, accountLine(alice, "alice@example.com", "en", false)), store.BulkSummary{Lines: 1, Loaded: 1})
	if !marked() {
		t.Error("a change of language and standing dropped what the store knew of the address")
	}
	wantSummary(t, mustBulk(t, s, accountLine(alice, "alice@example.org", "en", false)), store.BulkSummary{Lines: 1, Loaded: 1})
	if marked() {
		t.Error("a new address kept what the store knew of the old one")
	}
}

// stingyAPI leaves half of the items of its first calls unprocessed, as DynamoDB does when
// a batch exceeds the table's throughput: the writes are not made, the keys not read.
type stingyAPI struct {
	store.API
	mu             sync.Mutex
	writes, reads  int // calls still to short-change
	heldW, heldKey int // items and keys held back
}

func (a *stingyAPI) BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	a.mu.Lock()
	short := a.writes > 0
	var held map[string][]types.WriteRequest
	if short {
		a.writes--
		forward, kept := map[string][]types.WriteRequest{}, map[string][]types.WriteRequest{}
		for table, reqs := range in.RequestItems {
			half := (len(reqs) + 1) / 2
			forward[table], kept[table] = reqs[:half], reqs[half:]
			a.heldW += len(reqs) - half
		}
		in = &dynamodb.BatchWriteItemInput{RequestItems: forward}
		held = kept
	}
	a.mu.Unlock()
	out, err := a.API.BatchWriteItem(ctx, in, opts...)
	if err != nil || !short {
		return out, err
	}
	for table, reqs := range held {
		if len(reqs) > 0 {
			out.UnprocessedItems = map[string][]types.WriteRequest{table: append(out.UnprocessedItems[table], reqs...)}
		}
	}
	return out, nil
}

func (a *stingyAPI) BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	a.mu.Lock()
	short := a.reads > 0
	var held map[string]types.KeysAndAttributes
	if short {
		a.reads--
		forward, kept := map[string]types.KeysAndAttributes{}, map[string]types.KeysAndAttributes{}
		for table, ka := range in.RequestItems {
			half := (len(ka.Keys) + 1) / 2
			f, k := ka, ka
			f.Keys, k.Keys = ka.Keys[:half], ka.Keys[half:]
			forward[table], kept[table] = f, k
			a.heldKey += len(ka.Keys) - half
		}
		in = &dynamodb.BatchGetItemInput{RequestItems: forward}
		held = kept
	}
	a.mu.Unlock()
	out, err := a.API.BatchGetItem(ctx, in, opts...)
	if err != nil || !short {
		return out, err
	}
	out.UnprocessedKeys = held
	return out, nil
}

func bulkRetriesUnprocessed(t *testing.T, api store.API, tables store.Tables) {
	var lines []string
	for i := range 30 {
		nic := fmt.Sprintf("ab%05d-ovh", i)
		lines = append(lines, accountLine(nic, nic+"@example.com", "en", true),
			serviceLine(fmt.Sprintf("s%02d.example.com", i), "domain", nic, nic, alice))
	}
	lines = append([]string{accountLine(alice, "alice@example.com", "it", true)}, lines...)

	// Writes held back and not retried would be missing from the table.
	stingy := &stingyAPI{API: api, writes: 4}
	wantSummary(t, mustBulk(t, store.New(stingy, tables), lines...), store.BulkSummary{Lines: len(lines), Loaded: len(lines)})
	if stingy.heldW == 0 {
		t.Fatal("no write was left unprocessed")
	}
	direct := store.New(api, tables)
	for i := range 30 {
		nic := fmt.Sprintf("ab%05d-ovh", i)
		wantService(t, direct, fmt.Sprintf("s%02d.example.com", i), "domain", [3]string{nic, nic, alice}, nil)
	}
	if got := servicesOf(t, direct, alice); len(got) != 30 {
		t.Errorf("%d services of %s, want 30", len(got), alice)
	}

	// Keys held back and not retried would read as missing, and their lines as loaded.
	stingy = &stingyAPI{API: api, reads: 2}
	wantSummary(t, mustBulk(t, store.New(stingy, tables), lines...), store.BulkSummary{Lines: len(lines), Unchanged: len(lines)})
	if stingy.heldKey == 0 {
		t.Fatal("no key was left unprocessed")
	}
}

func bulkManyChunks(t *testing.T, api store.API, tables store.Tables) {
	s := store.New(api, tables)
	const services = 600 // 2,400 role and service items: a dozen chunks
	var b strings.Builder
	fmt.Fprintln(&b, accountLine(alice, "alice@example.com", "it", true))
	for i := range services {
		nic := fmt.Sprintf("ad%06d-ovh", i)
		fmt.Fprintln(&b, accountLine(nic, nic+"@example.com", "fr", true))
		fmt.Fprintln(&b, serviceLine(fmt.Sprintf("svc-%06d.example.com", i), "domain", nic, alice, nic))
	}
	var seen []store.BulkProgress
	sum, err := s.BulkLoad(context.Background(), strings.NewReader(b.String()), func(p store.BulkProgress) { seen = append(seen, p) })
	if err != nil {
		t.Fatal(err)
	}
	wantSummary(t, sum, store.BulkSummary{Lines: 2*services + 1, Loaded: 2*services + 1})
	if len(seen) < 2 {
		t.Fatalf("progress reported %d times, want once per chunk", len(seen))
	}
	for i := 1; i < len(seen); i++ {
		if seen[i].Lines < seen[i-1].Lines || seen[i].Loaded < seen[i-1].Loaded {
			t.Errorf("progress went back: %+v after %+v", seen[i], seen[i-1])
		}
	}
	if last := seen[len(seen)-1]; last != (store.BulkProgress{Lines: sum.Lines, Loaded: sum.Loaded}) {
		t.Errorf("last progress %+v, want the summary's counts", last)
	}
	if got := servicesOf(t, s, alice); len(got) != services {
		t.Errorf("%d services of %s, want %d", len(got), alice, services)
	}
}

func bulkStopsWithTheContext(t *testing.T, api store.API, tables store.Tables) {
	s := store.New(api, tables)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	sum, err := s.BulkLoad(ctx, strings.NewReader(strings.Join(baseLines, "\n")), nil)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error %v, want context.Canceled", err)
	}
	if sum.Loaded != 0 {
		t.Errorf("%d loaded after the context ended", sum.Loaded)
	}
	if _, err := s.Account(context.Background(), alice); !errors.Is(err, contact.ErrNotFound) {
		t.Errorf("account read after a cancelled load: %v, want not found", err)
	}
}
