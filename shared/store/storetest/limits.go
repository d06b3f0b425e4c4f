package storetest

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/servicecontacts/servicecontacts/shared/contact"
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
