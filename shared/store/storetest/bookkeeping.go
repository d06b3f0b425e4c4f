package storetest

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/servicecontacts/servicecontacts/shared/contact"
	"github.com/servicecontacts/servicecontacts/shared/store"
)

// The cases of this file check what the store keeps for the reconciler: terminal saves that
// no role item blocks, bookkeeping writes, the outbox and schedule fields, and the ByDue
// index. They reach past the store with the raw API to delete a service or re-lock a role,
// as an operator or another request would, and to look at the items as DynamoDB holds them.

func attrS(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }

// roleItemKey is the key the store gives the item of one role of one service.
func roleItemKey(serviceID string, role contact.Role) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"pk": attrS("SERVICE#" + serviceID), "sk": attrS("ROLE#" + string(role))}
}

// requestItemKey is the key of a request's own item (not its involvement items).
func requestItemKey(id string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"pk": attrS("REQUEST#" + id), "sk": attrS("REQUEST")}
}

// rawItem reads an item as DynamoDB holds it, decoded into plain Go values; nil when there
// is none.
func (e *env) rawItem(t *testing.T, table string, key map[string]types.AttributeValue) map[string]any {
	t.Helper()
	out, err := e.api.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: key, ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Item) == 0 {
		return nil
	}
	var item map[string]any
	if err := attributevalue.UnmarshalMap(out.Item, &item); err != nil {
		t.Fatal(err)
	}
	return item
}

func (e *env) roleItem(t *testing.T, serviceID string, role contact.Role) map[string]any {
	t.Helper()
	return e.rawItem(t, e.tables.Contacts, roleItemKey(serviceID, role))
}

// deleteService removes a service's item and its three role items, as deleting the service
// in the system of record does.
func (e *env) deleteService(t *testing.T, id string) {
	t.Helper()
	out, err := e.api.Query(ctx, &dynamodb.QueryInput{
		TableName:                 aws.String(e.tables.Contacts),
		KeyConditionExpression:    aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": attrS("SERVICE#" + id)},
		ConsistentRead:            aws.Bool(true),
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Items) != 1+len(contact.Roles) {
		t.Fatalf("service %s has %d items, want %d", id, len(out.Items), 1+len(contact.Roles))
	}
	var deletes []types.WriteRequest
	for _, item := range out.Items {
		deletes = append(deletes, types.WriteRequest{DeleteRequest: &types.DeleteRequest{
			Key: map[string]types.AttributeValue{"pk": item["pk"], "sk": item["sk"]},
		}})
	}
	res, err := e.api.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{e.tables.Contacts: deletes}})
	if err != nil {
		t.Fatal(err)
	}
	if left := res.UnprocessedItems[e.tables.Contacts]; len(left) > 0 {
		t.Fatalf("%d deletes left unprocessed", len(left))
	}
	if _, err := e.store.Service(ctx, id); !errors.Is(err, contact.ErrNotFound) {
		t.Fatalf("service %s after its deletion: %v, want not found", id, err)
	}
}

// lockRole sets the lock of a role item as another request (or an operator, with "") would.
func (e *env) lockRole(t *testing.T, serviceID string, role contact.Role, requestID string) {
	t.Helper()
	_, err := e.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(e.tables.Contacts),
		Key:                       roleItemKey(serviceID, role),
		UpdateExpression:          aws.String("SET openRequest = :id"),
		ConditionExpression:       aws.String("attribute_exists(pk)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":id": attrS(requestID)},
	})
	if err != nil {
		t.Fatal(err)
	}
}

// checkKind is wantKind that lets the case go on.
func checkKind(t *testing.T, what string, err, kind error) {
	t.Helper()
	if !errors.Is(err, kind) {
		t.Errorf("%s: error %v, want one of kind %q", what, err, kind)
	}
}

func withState(c contact.Change, s contact.State) contact.Change {
	c.State = s
	return c
}

// terminalSaveNeverBlocked ends a request whatever became of its role since it was created:
// the lock is released only if the request still holds it, and a stale version loses the
// race in every case, before and after the request ended.
func terminalSaveNeverBlocked(t *testing.T, e *env) {
	const other = "req-another-one"
	tests := []struct {
		name    string
		state   contact.State
		prepare func(t *testing.T, e *env)
		gone    bool   // the role item no longer exists
		lock    string // the role's lock once the request ended
	}{
		{"the request holds the lock", contact.Cancelled, nil, false, ""},
		{"the service was deleted", contact.Failed, func(t *testing.T, e *env) { e.deleteService(t, "example.com") }, true, ""},
		{"another request holds the lock", contact.Expired, func(t *testing.T, e *env) { e.lockRole(t, "example.com", contact.Tech, other) }, false, other},
		{"nobody holds the lock", contact.Refused, func(t *testing.T, e *env) { e.lockRole(t, "example.com", contact.Tech, "") }, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := setup(t, e.api) // each row on fresh tables
			c := newChange(t, "example.com", contact.Tech, bruno, dario, alice, base)
			mustCreate(t, e.store, c)
			read := mustChange(t, e.store, c.ID)
			if tt.prepare != nil {
				tt.prepare(t, e)
			}
			before := e.roleItem(t, "example.com", contact.Tech)
			if tt.gone != (before == nil) {
				t.Fatalf("role item before the save: %v", before)
			}

			// A bookkeeping write moves the version on: read is stale from now on.
			moved := read
			moved.History = append(slices.Clone(read.History), contact.Event{At: base.Add(time.Minute), By: contact.System, Event: "reminded"})
			moved, err := e.store.SaveBookkeeping(ctx, moved)
			if err != nil {
				t.Fatal(err)
			}

			_, err = e.store.SaveChange(ctx, withState(read, tt.state))
			checkKind(t, "stale terminal save of the open request", err, contact.ErrVersionConflict)
			if diff := cmp.Diff(moved, mustChange(t, e.store, c.ID)); diff != "" {
				t.Errorf("the stale save changed the request (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(before, e.roleItem(t, "example.com", contact.Tech)); diff != "" {
				t.Errorf("the stale save changed the role item (-before +after):\n%s", diff)
			}

			ended := withState(moved, tt.state)
			ended.History = append(slices.Clone(moved.History), contact.Event{At: base.Add(2 * time.Minute), By: alice, Event: string(tt.state)})
			saved, err := e.store.SaveChange(ctx, ended)
			if err != nil {
				t.Fatalf("terminal save: %v", err)
			}
			want := ended
			want.Version = moved.Version + 1
			if diff := cmp.Diff(want, saved); diff != "" {
				t.Errorf("SaveChange's answer (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(want, mustChange(t, e.store, c.ID)); diff != "" {
				t.Errorf("stored request (-want +got):\n%s", diff)
			}

			after := e.roleItem(t, "example.com", contact.Tech)
			switch {
			case tt.gone:
				if after != nil {
					t.Errorf("the terminal save wrote a role item for a deleted service: %v", after)
				}
				if _, err := e.store.Service(ctx, "example.com"); !errors.Is(err, contact.ErrNotFound) {
					t.Errorf("the deleted service reads back: %v", err)
				}
			default:
				wantRole := maps.Clone(before)
				wantRole["openRequest"] = tt.lock // nothing else of the role item changes
				if diff := cmp.Diff(wantRole, after); diff != "" {
					t.Errorf("role item after the terminal save (-want +got):\n%s", diff)
				}
			}

			_, err = e.store.SaveChange(ctx, withState(moved, contact.Cancelled))
			checkKind(t, "stale terminal save of the ended request", err, contact.ErrVersionConflict)
			_, err = e.store.SaveChange(ctx, withState(read, contact.Cancelled))
			checkKind(t, "terminal save two versions behind", err, contact.ErrVersionConflict)
			if diff := cmp.Diff(want, mustChange(t, e.store, c.ID)); diff != "" {
				t.Errorf("the stale saves changed the ended request (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(after, e.roleItem(t, "example.com", contact.Tech)); diff != "" {
				t.Errorf("the stale saves changed the role item (-before +after):\n%s", diff)
			}

			if !tt.gone {
				next := newChange(t, "example.com", contact.Tech, bruno, carla, alice, base)
				err := e.store.CreateChanges(ctx, []contact.Change{next}, nil)
				if tt.lock == "" && err != nil {
					t.Errorf("a new request on the released role: %v", err)
				}
				if tt.lock != "" {
					checkKind(t, "a new request on the role another request holds", err, contact.ErrConflict)
				}
			}
		})
	}
}

// saveBookkeepingInAnyState writes requests in every state with SaveBookkeeping: the request
// changes, the role item never does, and a stale version loses.
func saveBookkeepingInAnyState(t *testing.T, e *env) {
	tests := []struct {
		name  string
		state contact.State
		// prepare changes the world after c was created and returns the role's lock then
		// ("" for a role item that is gone); nil leaves c holding the lock.
		prepare func(t *testing.T, e *env, c contact.Change) string
	}{
		{"pending", contact.Pending, nil},
		{"applying", contact.Applying, nil},
		{"ended by this write, the lock left alone", contact.Failed, nil},
		{"ended, the role since locked by another request", contact.Cancelled, func(t *testing.T, e *env, c contact.Change) string {
			if _, err := e.store.SaveChange(ctx, withState(c, contact.Cancelled)); err != nil {
				t.Fatal(err)
			}
			another := newChange(t, c.ServiceID, c.Role, c.From, carla, alice, base.Add(time.Hour))
			mustCreate(t, e.store, another)
			return another.ID
		}},
		{"ended, the service deleted", contact.Done, func(t *testing.T, e *env, c contact.Change) string {
			e.deleteService(t, c.ServiceID)
			return ""
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := setup(t, e.api)
			c := newChange(t, "example.com", contact.Tech, bruno, dario, alice, base)
			c.DueAt = c.ExpiresAt
			mustCreate(t, e.store, c)
			c = mustChange(t, e.store, c.ID)
			lock := c.ID
			if tt.prepare != nil {
				lock = tt.prepare(t, e, c)
			}
			read := mustChange(t, e.store, c.ID)
			before := e.roleItem(t, "example.com", contact.Tech)
			if got, _ := before["openRequest"].(string); got != lock {
				t.Fatalf("the role is locked by %q before the write, want %q", got, lock)
			}

			next := withState(read, tt.state)
			next.Outbox = []contact.Message{{ID: fmt.Sprintf("%d:failed:%s", read.Version+1, alice), Kind: contact.NoticeFailed, To: alice, Owed: read.Version + 1, Attempts: 2, NextAt: base.Add(3 * time.Minute)}}
			next.DueAt = base.Add(3 * time.Minute)
			saved, err := e.store.SaveBookkeeping(ctx, next)
			if err != nil {
				t.Fatal(err)
			}
			want := next
			want.Version = read.Version + 1
			if diff := cmp.Diff(want, saved); diff != "" {
				t.Errorf("SaveBookkeeping's answer (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(want, mustChange(t, e.store, c.ID)); diff != "" {
				t.Errorf("stored request (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(before, e.roleItem(t, "example.com", contact.Tech)); diff != "" {
				t.Errorf("SaveBookkeeping changed the role item (-before +after):\n%s", diff)
			}

			stale := read
			stale.Outbox = nil
			_, err = e.store.SaveBookkeeping(ctx, stale)
			checkKind(t, "stale bookkeeping write", err, contact.ErrVersionConflict)
			if diff := cmp.Diff(want, mustChange(t, e.store, c.ID)); diff != "" {
				t.Errorf("the stale write changed the request (-want +got):\n%s", diff)
			}
		})
	}
}

// bookkeepingFieldsRoundTrip writes the fields that the reconciler relies on through each
// write the store has, and reads them back, alone and in a list.
func bookkeepingFieldsRoundTrip(t *testing.T, e *env) {
	cet := time.FixedZone("CET", 3600)
	c := newChange(t, "example.com", contact.Admin, alice, carla, alice, base)
	c.Authority = contact.Admin
	c.DueAt = base.Add(time.Minute).In(cet)
	c.Outbox = []contact.Message{{ID: "1:waiting:" + alice, Kind: contact.NoticeWaiting, To: alice, Owed: 1, NextAt: base.Add(time.Minute)}}
	mustCreate(t, e.store, c)
	want := c
	want.Version = 1
	check := func(t *testing.T, what string, got contact.Change) {
		t.Helper()
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", what, diff)
		}
	}
	check(t, "after create", mustChange(t, e.store, c.ID))

	steps := []struct {
		name  string
		save  func(context.Context, contact.Change) (contact.Change, error)
		apply func(c *contact.Change)
	}{
		{"every field of a message", e.store.SaveBookkeeping, func(c *contact.Change) {
			c.Outbox = append(slices.Clone(c.Outbox),
				contact.Message{
					ID: "2:failed:" + carla, Kind: contact.NoticeFailed, To: carla,
					Failure: contact.Failure{Code: contact.FailureNotInGoodStanding, Role: contact.Billing, Account: dario},
					Owed:    2, Attempts: 3, NextAt: base.Add(2*time.Minute + 500*time.Millisecond).In(cet),
				},
				contact.Message{ID: "2:done:" + bruno, Kind: contact.NoticeDone, To: bruno, Owed: 2}, // no attempt, no NextAt
			)
			c.DueAt = base.Add(2 * time.Minute)
		}},
		{"through a save of the open request", e.store.SaveChange, func(c *contact.Change) {
			c.State = contact.Applying
			c.Outbox = slices.Delete(slices.Clone(c.Outbox), 0, 1)
			c.Outbox[0].Attempts++
		}},
		{"through a terminal save", e.store.SaveChange, func(c *contact.Change) {
			c.State = contact.Failed
			c.Outbox = append(slices.Clone(c.Outbox), contact.Message{
				ID: "4:failed:" + alice, Kind: contact.NoticeFailed, To: alice, Owed: 4, NextAt: base.Add(time.Hour),
				Failure: contact.Failure{Code: contact.FailureAuthorityLost, Role: contact.Admin, Account: alice},
			})
			c.DueAt = base.Add(time.Hour)
		}},
		{"an empty outbox and no schedule", e.store.SaveBookkeeping, func(c *contact.Change) {
			c.Outbox, c.DueAt = nil, time.Time{}
		}},
	}
	for _, step := range steps {
		t.Run(step.name, func(t *testing.T) {
			next := mustChange(t, e.store, c.ID)
			step.apply(&next)
			saved, err := step.save(ctx, next)
			if err != nil {
				t.Fatal(err)
			}
			want = next
			want.Version++
			check(t, "the save's answer", saved)
			check(t, "the stored request", mustChange(t, e.store, c.ID))
			page, err := e.store.ChangesOf(ctx, carla, contact.ChangeQuery{})
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Changes) != 1 {
				t.Fatalf("carla sees %d requests, want 1", len(page.Changes))
			}
			check(t, "the request in a list", page.Changes[0])
		})
	}
	if want.Authority != contact.Admin {
		t.Errorf("authority %q after every write, want %q", want.Authority, contact.Admin)
	}
}

// shardOf repeats the store's choice of a ByDue partition for a request id: the cases pick
// ids by it, so that their requests spread over every shard as they mean.
func shardOf(id string) string {
	h := fnv.New32a()
	_, _ = h.Write([]byte(id)) // never fails
	return fmt.Sprintf("due#%d", h.Sum32()%4)
}

// idInShard returns a fresh request id that the store puts in the given ByDue shard.
func idInShard(shard string) string {
	for {
		if id := "req-" + suffix(); shardOf(id) == shard {
			return id
		}
	}
}

// dueIDs is DueChanges that fails the test on an error.
func dueIDs(t *testing.T, s *store.Store, at time.Time, limit int) []string {
	t.Helper()
	ids, err := s.DueChanges(ctx, at, limit)
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

// dueChanges lists requests by the time they are due, across the shards of the ByDue index,
// and follows them as their schedule changes and they leave the index.
func dueChanges(t *testing.T, e *env) {
	const n = 12
	extra := store.Seed{Accounts: seed().Accounts}
	for i := range n {
		extra.Services = append(extra.Services, store.SeedService{ID: fmt.Sprintf("due%02d.example.net", i), Type: "vps", Admin: alice, Tech: bruno, Billing: carla})
	}
	if err := e.store.Load(ctx, extra); err != nil {
		t.Fatal(err)
	}
	// In due order. The three most overdue share a shard; the others take turns. Two are due
	// within one second, one of them on the second itself, and half are dated in another
	// time zone: the index must still sort them in time order.
	shards := []int{0, 0, 0, 1, 2, 3, 1, 2, 3, 1, 2, 3}
	whole := base.Truncate(time.Second)
	offsets := []time.Duration{
		0, time.Minute, 2*time.Minute + 877*time.Millisecond, 2*time.Minute + 896543211*time.Nanosecond,
		3 * time.Minute, 3*time.Minute + 100*time.Millisecond, 4 * time.Minute, 5 * time.Minute,
		6 * time.Minute, 7 * time.Minute, 8 * time.Minute, 9 * time.Minute,
	}
	cet := time.FixedZone("CET", 3600)
	ids := make([]string, n)
	due := make([]time.Time, n)
	var changes []contact.Change
	for i := range n {
		c := newChange(t, fmt.Sprintf("due%02d.example.net", i), contact.Tech, bruno, carla, alice, base)
		c.ID = idInShard(fmt.Sprintf("due#%d", shards[i]))
		c.Notify = []string{bruno, dario} // more involvement items, none of them in the index
		due[i] = whole.Add(offsets[i])
		if i%2 == 1 {
			due[i] = due[i].In(cet)
		}
		c.DueAt = due[i]
		ids[i] = c.ID
		changes = append(changes, c)
	}
	// Created out of due order, in two transactions.
	mustCreate(t, e.store, changes[6:]...)
	mustCreate(t, e.store, changes[:6]...)
	// One more request, never due: it is not in the index at all.
	mustCreate(t, e.store, newChange(t, "example.com", contact.Tech, bruno, carla, alice, base))

	for i, id := range ids {
		item := e.rawItem(t, e.tables.Requests, requestItemKey(id))
		if want := fmt.Sprintf("due#%d", shards[i]); item["dueShard"] != want {
			t.Fatalf("request %d is in shard %v, want %s (did the store's sharding change? update shardOf)", i, item["dueShard"], want)
		}
	}

	far := due[n-1].Add(24 * time.Hour)
	tests := []struct {
		name  string
		at    time.Time
		limit int
		want  []string
	}{
		{"the overdue ones, most overdue first", due[8].Add(30 * time.Second), 100, ids[:9]},
		{"due exactly then", due[8], 100, ids[:9]},
		{"then, in another time zone", due[8].In(time.FixedZone("EST", -5*3600)), 100, ids[:9]},
		{"a nanosecond before", due[8].Add(-time.Nanosecond), 100, ids[:8]},
		{"on the second and a fraction after", due[4], 100, ids[:5]},
		{"none due yet", due[0].Add(-time.Nanosecond), 100, nil},
		{"at most limit, all from one shard", far, 3, ids[:3]},
		{"a limit across the shards", far, 7, ids[:7]},
		{"a limit of one", far, 1, ids[:1]},
		{"a limit that cuts the overdue", due[5], 4, ids[:4]},
		{"every due request, each once", far, 100, ids},
		{"a limit that fits exactly", far, n, ids},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, dueIDs(t, e.store, tt.at, tt.limit), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("due requests (-want +got):\n%s", diff)
			}
		})
	}

	// The schedule changes; each step starts from the list the previous one left.
	list := slices.Clone(ids)
	steps := []struct {
		name string
		id   string
		save func(c contact.Change) (contact.Change, error)
		want func(list []string) []string
	}{
		{"a zero DueAt leaves the index", ids[0], func(c contact.Change) (contact.Change, error) {
			c.DueAt = time.Time{}
			return e.store.SaveBookkeeping(ctx, c)
		}, func(l []string) []string { return l[1:] }},
		{"an ended request with nothing owed leaves it", ids[1], func(c contact.Change) (contact.Change, error) {
			c.State, c.DueAt = contact.Cancelled, time.Time{}
			return e.store.SaveChange(ctx, c)
		}, func(l []string) []string { return l[1:] }},
		{"an ended request that still owes emails stays", ids[2], func(c contact.Change) (contact.Change, error) {
			c.State = contact.Refused
			c.Outbox = []contact.Message{{ID: "2:refused:" + alice, Kind: contact.NoticeRefused, To: alice, Owed: 2, NextAt: c.DueAt}}
			return e.store.SaveChange(ctx, c)
		}, func(l []string) []string { return l }},
		{"due again, listed once, at its new place", ids[0], func(c contact.Change) (contact.Change, error) {
			c.DueAt = due[n-1].Add(time.Minute)
			return e.store.SaveBookkeeping(ctx, c)
		}, func(l []string) []string { return append(slices.Clone(l), ids[0]) }},
		{"moved earlier, listed once, first", ids[n-1], func(c contact.Change) (contact.Change, error) {
			c.DueAt = due[0].Add(-time.Minute)
			return e.store.SaveBookkeeping(ctx, c)
		}, func(l []string) []string {
			return append([]string{ids[n-1]}, slices.DeleteFunc(slices.Clone(l), func(id string) bool { return id == ids[n-1] })...)
		}},
	}
	for _, step := range steps {
		t.Run(step.name, func(t *testing.T) {
			if _, err := step.save(mustChange(t, e.store, step.id)); err != nil {
				t.Fatal(err)
			}
			list = step.want(list)
			if diff := cmp.Diff(list, dueIDs(t, e.store, far.Add(time.Hour), 100)); diff != "" {
				t.Errorf("due requests (-want +got):\n%s", diff)
			}
			item := e.rawItem(t, e.tables.Requests, requestItemKey(step.id))
			_, hasShard := item["dueShard"]
			_, hasAt := item["dueAt"]
			if listed := slices.Contains(list, step.id); hasShard != listed || hasAt != listed {
				t.Errorf("listed %v, but the item has dueShard %v and dueAt %v", listed, item["dueShard"], item["dueAt"])
			}
		})
	}

	t.Run("only request items in the index", func(t *testing.T) {
		var indexed []string
		for shard := range 4 {
			out, err := e.api.Query(ctx, &dynamodb.QueryInput{
				TableName:                 aws.String(e.tables.Requests),
				IndexName:                 aws.String(store.ByDue),
				KeyConditionExpression:    aws.String("dueShard = :shard"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":shard": attrS(fmt.Sprintf("due#%d", shard))},
			})
			if err != nil {
				t.Fatal(err)
			}
			for _, item := range out.Items {
				var it struct {
					PK string `dynamodbav:"pk"`
					SK string `dynamodbav:"sk"`
				}
				if err := attributevalue.UnmarshalMap(item, &it); err != nil {
					t.Fatal(err)
				}
				if it.SK != "REQUEST" {
					t.Errorf("item %s %s is in the ByDue index", it.PK, it.SK)
				}
				indexed = append(indexed, it.PK)
			}
		}
		if len(indexed) != len(list) {
			t.Errorf("%d items in the ByDue index, want the %d due requests", len(indexed), len(list))
		}
	})
}
