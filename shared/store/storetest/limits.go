package storetest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/servicecontacts/servicecontacts/shared/contact"
	"github.com/servicecontacts/servicecontacts/shared/store"
)

// window is a counting window of the limit cases.
func window(key string, start time.Time) contact.Counter {
	return contact.Counter{Key: key, Start: start, End: start.Add(time.Minute)}
}

// wantCounted checks a counter's count.
func (e *env) wantCounted(t *testing.T, c contact.Counter, want int) {
	t.Helper()
	got, err := e.store.Counted(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("%s from %s counted %d, want %d", c.Key, c.Start.Format(time.RFC3339), got, want)
	}
}

// wantReached checks that err is the LimitReached of the use of key.
func wantReached(t *testing.T, err error, key string) {
	t.Helper()
	var reached *contact.LimitReached
	if !errors.As(err, &reached) || !errors.Is(err, contact.ErrRateLimited) || reached.Use.Key != key {
		t.Fatalf("error = %v, want the limit of %s reached", err, key)
	}
}

// countWithinLimits: a counter counts up to its Max and no further; another key, another
// window, and an unbounded use are counters of their own; several uses count all or none.
func countWithinLimits(t *testing.T, e *env) {
	start := base.Truncate(time.Minute)
	a, b := window("test#a", start), window("test#b", start)
	later := window("test#a", start.Add(time.Minute))
	e.wantCounted(t, a, 0)

	tests := []struct {
		name        string
		uses        []contact.Use
		wantReached string // the key whose limit is reached; "" for none
	}{
		{"first use", []contact.Use{{Counter: a, N: 1, Max: 3}}, ""},
		{"up to the limit", []contact.Use{{Counter: a, N: 2, Max: 3}}, ""},
		{"past the limit", []contact.Use{{Counter: a, N: 1, Max: 3}}, "test#a"},
		{"more than the limit at once", []contact.Use{{Counter: b, N: 4, Max: 3}}, "test#b"},
		{"another window", []contact.Use{{Counter: later, N: 3, Max: 3}}, ""},
		{"unbounded", []contact.Use{{Counter: a, N: 5}}, ""},
		{"all or none", []contact.Use{{Counter: b, N: 2, Max: 3}, {Counter: later, N: 1, Max: 3}}, "test#a"},
		{"the same counter twice adds up", []contact.Use{{Counter: b, N: 2, Max: 3}, {Counter: b, N: 2, Max: 3}}, "test#b"},
		{"several within their limits", []contact.Use{{Counter: b, N: 2, Max: 3}, {Counter: window("test#c", start), N: 1, Max: 1}}, ""},
	}
	for _, tt := range tests {
		err := e.store.Count(ctx, tt.uses)
		if tt.wantReached == "" {
			if err != nil {
				t.Fatalf("%s: %v", tt.name, err)
			}
			continue
		}
		wantReached(t, err, tt.wantReached)
	}
	e.wantCounted(t, a, 8)
	e.wantCounted(t, b, 2) // "all or none" and "twice" counted nothing
	e.wantCounted(t, later, 3)
}

// countConcurrently: of many callers counting one use each at once, exactly Max succeed,
// alone and in transactions with another counter.
func countConcurrently(t *testing.T, e *env) {
	const callers, limit = 20, 7
	start := base.Truncate(time.Minute)
	tests := []struct {
		name  string
		uses  func(i int) []contact.Use
		count contact.Counter
	}{
		{"one counter", func(int) []contact.Use {
			return []contact.Use{{Counter: window("race#one", start), N: 1, Max: limit}}
		}, window("race#one", start)},
		{"with another counter", func(i int) []contact.Use {
			return []contact.Use{
				{Counter: window("race#shared", start), N: 1, Max: limit},
				{Counter: window("race#own", start.Add(time.Duration(i)*time.Minute)), N: 1, Max: 1},
			}
		}, window("race#shared", start)},
	}
	for _, tt := range tests {
		var wg sync.WaitGroup
		errs := make([]error, callers)
		for i := range callers {
			wg.Go(func() { errs[i] = e.store.Count(ctx, tt.uses(i)) })
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			var reached *contact.LimitReached
			switch {
			case err == nil:
				ok++
			case !errors.As(err, &reached):
				t.Errorf("%s: %v", tt.name, err)
			}
		}
		if ok != limit {
			t.Errorf("%s: %d of %d concurrent counts succeeded, want %d", tt.name, ok, callers, limit)
		}
		e.wantCounted(t, tt.count, limit)
	}
}

// countedWrites: CreateChanges and SaveCounted count their uses with their writes, all or
// none: a reached limit writes nothing, and a write that fails counts nothing.
func countedWrites(t *testing.T, e *env) {
	start := base.Truncate(time.Minute)
	// Each counter starts at 1: one more fits its limit of 2, two more do not.
	counter := func(key string) contact.Counter {
		c := window(key, start)
		if err := e.store.Count(ctx, []contact.Use{{Counter: c, N: 1}}); err != nil {
			t.Fatal(err)
		}
		return c
	}
	created, saved := counter("test#created"), counter("test#saved")
	within := func(c contact.Counter) []contact.Use { return []contact.Use{{Counter: c, N: 1, Max: 2}} }
	past := func(c contact.Counter) []contact.Use { return []contact.Use{{Counter: c, N: 2, Max: 2}} }

	c := newChange(t, "example.com", contact.Tech, bruno, dario, alice, base)
	wantReached(t, e.store.CreateChanges(ctx, []contact.Change{c}, past(created)), "test#created")
	if open := mustService(t, e.store, "example.com").Open[contact.Tech]; open != "" {
		t.Fatalf("a creation past its limit locked the role for %s", open)
	}
	e.wantCounted(t, created, 1)
	if err := e.store.CreateChanges(ctx, []contact.Change{c}, within(created)); err != nil {
		t.Fatal(err)
	}
	e.wantCounted(t, created, 2)
	// The role is locked now: another request fails, and counts nothing.
	other := newChange(t, "example.com", contact.Tech, bruno, carla, alice, base)
	wantKind(t, e.store.CreateChanges(ctx, []contact.Change{other}, []contact.Use{{Counter: created, N: 1}}), contact.ErrConflict)
	e.wantCounted(t, created, 2)

	stored := mustChange(t, e.store, c.ID)
	stored.Resends = 1
	_, err := e.store.SaveCounted(ctx, stored, past(saved))
	wantReached(t, err, "test#saved")
	if got := mustChange(t, e.store, c.ID); got.Version != 1 || got.Resends != 0 {
		t.Fatalf("a save past its limit wrote version %d with %d resends", got.Version, got.Resends)
	}
	e.wantCounted(t, saved, 1)
	written, err := e.store.SaveCounted(ctx, stored, within(saved))
	if err != nil {
		t.Fatal(err)
	}
	if got := mustChange(t, e.store, c.ID); got.Version != 2 || got.Resends != 1 || written.Version != 2 {
		t.Fatalf("saved version %d (returned %d) with %d resends, want version 2 with 1", got.Version, written.Version, got.Resends)
	}
	e.wantCounted(t, saved, 2)
	// A stale copy loses the race, and counts nothing.
	_, err = e.store.SaveCounted(ctx, stored, []contact.Use{{Counter: saved, N: 1}})
	wantKind(t, err, contact.ErrVersionConflict)
	e.wantCounted(t, saved, 2)
}

// countedWritesAfterARace: a counted write that another transaction on a counter got in
// the way of is tried again, rather than failed as a conflict.
func countedWritesAfterARace(t *testing.T, e *env) {
	raced := &racedAPI{API: e.api}
	s := store.New(raced, e.tables)
	counter := window("race#written", base.Truncate(time.Minute))
	uses := []contact.Use{{Counter: counter, N: 1, Max: 2}}

	c := newChange(t, "example.com", contact.Tech, bruno, dario, alice, base)
	raced.raceNext()
	if err := s.CreateChanges(ctx, []contact.Change{c}, uses); err != nil {
		t.Fatalf("create after a race on the counter: %v", err)
	}
	stored := mustChange(t, e.store, c.ID)
	raced.raceNext()
	if _, err := s.SaveCounted(ctx, stored, uses); err != nil {
		t.Fatalf("save after a race on the counter: %v", err)
	}
	if raced.pending() {
		t.Fatal("no transaction was raced")
	}
	e.wantCounted(t, counter, 2)
}

// racedAPI cancels the next transaction, once raceNext asks, as DynamoDB does when another
// transaction holds its last item.
type racedAPI struct {
	store.API
	mu   sync.Mutex
	race bool
}

func (a *racedAPI) raceNext() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.race = true
}

func (a *racedAPI) pending() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.race
}

func (a *racedAPI) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	a.mu.Lock()
	race := a.race
	a.race = false
	a.mu.Unlock()
	if !race {
		return a.API.TransactWriteItems(ctx, in, opts...)
	}
	reasons := make([]types.CancellationReason, len(in.TransactItems))
	for i := range reasons {
		reasons[i].Code = aws.String("None")
	}
	reasons[len(reasons)-1].Code = aws.String("TransactionConflict")
	return nil, &types.TransactionCanceledException{Message: aws.String("Transaction cancelled"), CancellationReasons: reasons}
}
