package step_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/servicecontacts/servicecontacts/infra/statemachine"
	"github.com/servicecontacts/servicecontacts/shared/contact"
	"github.com/servicecontacts/servicecontacts/shared/step"
)

// The part of an Amazon States Language definition the error checks read: the top level,
// or a Map state's ItemProcessor.
type definition struct {
	StartAt string            `json:"StartAt"`
	States  map[string]*state `json:"States"`
}

type state struct {
	Type          string      `json:"Type"`
	Resource      string      `json:"Resource"`
	Parameters    *parameters `json:"Parameters"`
	Retry         []retrier   `json:"Retry"`
	Catch         []catcher   `json:"Catch"`
	ItemProcessor *definition `json:"ItemProcessor"`
	Next          string      `json:"Next"`
}

type parameters struct {
	FunctionName string         `json:"FunctionName"`
	Payload      map[string]any `json:"Payload"`
}

type retrier struct {
	ErrorEquals []string `json:"ErrorEquals"`
	MaxAttempts *int     `json:"MaxAttempts"`
	BackoffRate *float64 `json:"BackoffRate"`
}

type catcher struct {
	ErrorEquals []string `json:"ErrorEquals"`
	Next        string   `json:"Next"`
}

const (
	errAll         = "States.ALL"
	errTaskFailed  = "States.TaskFailed"
	errTimeout     = "States.Timeout"
	applyFunction  = "${ApplyFunctionArn}"
	statesPrefix   = "States."
	defaultRetries = 3   // MaxAttempts when a retrier omits it, per the States Language
	defaultBackoff = 2.0 // BackoffRate when a retrier omits it
)

func parseDefinition(t *testing.T) *definition {
	t.Helper()
	var d definition
	if err := json.Unmarshal(statemachine.Definition, &d); err != nil {
		t.Fatalf("parse contact-change.asl.json: %v", err)
	}
	return &d
}

// visit is one state of a definition, with the states its Next and Catch can name.
type visit struct {
	path  string // e.g. AwaitConfirmations/AwaitParty
	state *state
	scope *definition
}

// walk returns every state of d, those of Map ItemProcessors included, in a stable order.
func walk(d *definition) []visit {
	var out []visit
	var rec func(d *definition, prefix string)
	rec = func(d *definition, prefix string) {
		names := make([]string, 0, len(d.States))
		for name := range d.States {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			s := d.States[name]
			out = append(out, visit{path: prefix + name, state: s, scope: d})
			if s.ItemProcessor != nil {
				rec(s.ItemProcessor, prefix+name+"/")
			}
		}
	}
	rec(d, "")
	return out
}

func handling(name string) (step.Handling, bool) {
	for _, n := range step.ErrorNames {
		if n.Name == name {
			return n.Handling, true
		}
	}
	return "", false
}

// checkRetries holds every Task to retrying exactly the names ErrorNames marks retried,
// with backoff and at least three attempts.
func checkRetries(d *definition) []string {
	var problems []string
	want := step.Names(step.Retried)
	for _, v := range walk(d) {
		if v.state.Type != "Task" {
			continue
		}
		if len(v.state.Retry) == 0 {
			problems = append(problems, fmt.Sprintf("%s: Task has no Retry; it must retry %v", v.path, want))
			continue
		}
		var got []string
		for i, r := range v.state.Retry {
			got = append(got, r.ErrorEquals...)
			attempts, backoff := defaultRetries, defaultBackoff
			if r.MaxAttempts != nil {
				attempts = *r.MaxAttempts
			}
			if r.BackoffRate != nil {
				backoff = *r.BackoffRate
			}
			if backoff <= 1 {
				problems = append(problems, fmt.Sprintf("%s: Retry[%d] has BackoffRate %v, want more than 1", v.path, i, backoff))
			}
			if attempts < 3 {
				problems = append(problems, fmt.Sprintf("%s: Retry[%d] has MaxAttempts %d, want at least 3", v.path, i, attempts))
			}
		}
		for _, n := range want {
			if !slices.Contains(got, n) {
				problems = append(problems, fmt.Sprintf("%s: Retry misses %s, which ErrorNames marks retried", v.path, n))
			}
		}
		for _, n := range got {
			if !slices.Contains(want, n) {
				problems = append(problems, fmt.Sprintf("%s: Retry retries %s, which ErrorNames does not mark retried", v.path, n))
			}
		}
	}
	return problems
}

// checkNames holds every name a Retry or Catch matches to the table: a Retry names only
// names of ErrorNames; a Catch names those or the States Language's own.
func checkNames(d *definition) []string {
	var problems []string
	for _, v := range walk(d) {
		for i, r := range v.state.Retry {
			for _, n := range r.ErrorEquals {
				if _, ok := handling(n); !ok {
					problems = append(problems, fmt.Sprintf("%s: Retry[%d] names %s, which is not in ErrorNames", v.path, i, n))
				}
			}
		}
		for i, c := range v.state.Catch {
			for _, n := range c.ErrorEquals {
				if _, ok := handling(n); !ok && !strings.HasPrefix(n, statesPrefix) {
					problems = append(problems, fmt.Sprintf("%s: Catch[%d] names %s, which is neither in ErrorNames nor a States.* name", v.path, i, n))
				}
			}
		}
	}
	return problems
}

// catches reports whether c catches the error called name, with the wildcards' meaning.
func catches(c catcher, name string) bool {
	for _, n := range c.ErrorEquals {
		if n == name || n == errAll || (n == errTaskFailed && name != errTimeout) {
			return true
		}
	}
	return false
}

// outcome returns the outcome of the Task that the state called next, in scope, is.
func outcome(scope *definition, next string) (string, error) {
	s, ok := scope.States[next]
	if !ok {
		return "", fmt.Errorf("leads to %s, which is not a state", next)
	}
	if s.Type != "Task" || s.Parameters == nil {
		return "", fmt.Errorf("leads to %s, a %s state, not a Task", next, s.Type)
	}
	o, _ := s.Parameters.Payload["outcome"].(string)
	if o == "" {
		return "", fmt.Errorf("leads to %s, whose Payload has no outcome", next)
	}
	return o, nil
}

// checkCatches holds the Map state and the Apply state to ending every error on its path:
// the waits' refusal, cancellation and timeout on theirs, anything else failed.
func checkCatches(d *definition) []string {
	var problems []string
	var maps, applies []visit
	for _, v := range walk(d) {
		if v.state.Type == "Map" {
			maps = append(maps, v)
		}
		if v.state.Type == "Task" && v.state.Parameters != nil && v.state.Parameters.FunctionName == applyFunction {
			applies = append(applies, v)
		}
	}
	if len(maps) != 1 {
		problems = append(problems, fmt.Sprintf("%d Map states, want 1", len(maps)))
	}
	if len(applies) != 1 {
		problems = append(problems, fmt.Sprintf("%d Tasks invoke %s, want 1", len(applies), applyFunction))
	}

	failed := append(step.Names(step.Ended), step.Names(step.Retried)...) // retries exhausted
	for _, v := range applies {
		problems = append(problems, checkCatch(v)...)
		problems = append(problems, checkRoutes(v, failed, "failed")...)
	}
	for _, v := range maps {
		problems = append(problems, checkCatch(v)...)
		problems = append(problems, checkRoutes(v, step.Names(step.Refusal), "refused")...)
		problems = append(problems, checkRoutes(v, step.Names(step.Cancellation), "cancelled")...)
		problems = append(problems, checkRoutes(v, []string{errTimeout}, "expired")...)
		problems = append(problems, checkRoutes(v, failed, "failed")...)
	}
	return problems
}

// checkCatch checks that v's Catch ends with States.ALL alone, leading to outcome failed,
// and that States.ALL appears nowhere else.
func checkCatch(v visit) []string {
	var problems []string
	n := len(v.state.Catch)
	if n == 0 {
		return []string{fmt.Sprintf("%s: no Catch; its last entry must be [%s]", v.path, errAll)}
	}
	last := v.state.Catch[n-1]
	if !slices.Equal(last.ErrorEquals, []string{errAll}) {
		problems = append(problems, fmt.Sprintf("%s: last Catch matches %v, want exactly [%s]", v.path, last.ErrorEquals, errAll))
	} else if o, err := outcome(v.scope, last.Next); err != nil {
		problems = append(problems, fmt.Sprintf("%s: Catch %s %v", v.path, errAll, err))
	} else if o != "failed" {
		problems = append(problems, fmt.Sprintf("%s: Catch %s leads to %s, with outcome %q, want \"failed\"", v.path, errAll, last.Next, o))
	}
	for i, c := range v.state.Catch[:n-1] {
		if slices.Contains(c.ErrorEquals, errAll) {
			problems = append(problems, fmt.Sprintf("%s: Catch[%d] matches %s before the last entry", v.path, i, errAll))
		}
	}
	return problems
}

// checkRoutes checks that the first of v's catchers to catch each name leads to a Task
// with the given outcome.
func checkRoutes(v visit, names []string, want string) []string {
	var problems []string
	for _, name := range names {
		i := slices.IndexFunc(v.state.Catch, func(c catcher) bool { return catches(c, name) })
		if i < 0 {
			problems = append(problems, fmt.Sprintf("%s: no Catch catches %s; want one leading to outcome %q", v.path, name, want))
			continue
		}
		o, err := outcome(v.scope, v.state.Catch[i].Next)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: Catch[%d], which catches %s, %v", v.path, i, name, err))
			continue
		}
		if o != want {
			problems = append(problems, fmt.Sprintf("%s: %s is caught by Catch[%d] to %s, with outcome %q, want %q", v.path, name, i, v.state.Catch[i].Next, o, want))
		}
	}
	return problems
}

// checkErrorHandling is every check of the definition against ErrorNames.
func checkErrorHandling(d *definition) []string {
	var problems []string
	problems = append(problems, checkRetries(d)...)
	problems = append(problems, checkNames(d)...)
	problems = append(problems, checkCatches(d)...)
	return problems
}

func TestDefinitionHandlesEveryErrorName(t *testing.T) {
	d := parseDefinition(t)
	if len(walk(d)) < 7 {
		t.Fatalf("walked %d states, want the Map's ItemProcessor states too", len(walk(d)))
	}
	for _, p := range checkErrorHandling(d) {
		t.Error(p)
	}
}

// TestErrorChecksCatchBrokenDefinitions breaks the definition in the ways the checks
// exist to catch, so that they can fail.
func TestErrorChecksCatchBrokenDefinitions(t *testing.T) {
	awaitParty := func(d *definition) *state {
		return d.States["AwaitConfirmations"].ItemProcessor.States["AwaitParty"]
	}
	without := func(names []string, drop string) []string {
		return slices.DeleteFunc(slices.Clone(names), func(n string) bool { return n == drop })
	}
	mapCatch := func(d *definition) *[]catcher { return &d.States["AwaitConfirmations"].Catch }
	tests := []struct {
		name   string
		mutate func(d *definition)
		want   string // in one of the problems reported
	}{
		{
			name: "a Task misses Lambda.Unknown in its Retry",
			mutate: func(d *definition) {
				r := &d.States["Apply"].Retry[0]
				r.ErrorEquals = without(r.ErrorEquals, "Lambda.Unknown")
			},
			want: "Apply: Retry misses Lambda.Unknown",
		},
		{
			name: "the Map's Task misses Unavailable in its Retry",
			mutate: func(d *definition) {
				r := &awaitParty(d).Retry[0]
				r.ErrorEquals = without(r.ErrorEquals, "Unavailable")
			},
			want: "AwaitConfirmations/AwaitParty: Retry misses Unavailable",
		},
		{
			name:   "a Task with no Retry",
			mutate: func(d *definition) { d.States["FinishExpired"].Retry = nil },
			want:   "FinishExpired: Task has no Retry",
		},
		{
			name: "a Task retries an ended name",
			mutate: func(d *definition) {
				r := &d.States["FinishFailed"].Retry[0]
				r.ErrorEquals = append(r.ErrorEquals, "Invalid")
			},
			want: "FinishFailed: Retry retries Invalid",
		},
		{
			name:   "a Task retries States.ALL",
			mutate: func(d *definition) { r := &d.States["Apply"].Retry[0]; r.ErrorEquals = append(r.ErrorEquals, errAll) },
			want:   "Apply: Retry[0] names States.ALL, which is not in ErrorNames",
		},
		{
			name: "a Retry without backoff",
			mutate: func(d *definition) {
				one := 1.0
				awaitParty(d).Retry[0].BackoffRate = &one
			},
			want: "BackoffRate 1",
		},
		{
			name: "a Retry with too few attempts",
			mutate: func(d *definition) {
				two := 2
				d.States["FinishRefused"].Retry[0].MaxAttempts = &two
			},
			want: "FinishRefused: Retry[0] has MaxAttempts 2",
		},
		{
			name:   "the Map without the States.ALL catch",
			mutate: func(d *definition) { c := mapCatch(d); *c = (*c)[:len(*c)-1] },
			want:   "AwaitConfirmations: last Catch matches [States.Timeout], want exactly [States.ALL]",
		},
		{
			name:   "Apply without any Catch",
			mutate: func(d *definition) { d.States["Apply"].Catch = nil },
			want:   "Apply: no Catch",
		},
		{
			name:   "Apply catches States.ALL to a state with the wrong outcome",
			mutate: func(d *definition) { d.States["Apply"].Catch[0].Next = "FinishCancelled" },
			want:   `Apply: Catch States.ALL leads to FinishCancelled, with outcome "cancelled", want "failed"`,
		},
		{
			name: "States.ALL is not alone in the last Catch",
			mutate: func(d *definition) {
				c := *mapCatch(d)
				c[len(c)-1].ErrorEquals = []string{"Failed", errAll}
			},
			want: "want exactly [States.ALL]",
		},
		{
			name:   "the Map catches Refused to the cancelled path",
			mutate: func(d *definition) { (*mapCatch(d))[0].Next = "FinishCancelled" },
			want:   `AwaitConfirmations: Refused is caught by Catch[0] to FinishCancelled, with outcome "cancelled", want "refused"`,
		},
		{
			name:   "the Map leaves States.Timeout to States.ALL",
			mutate: func(d *definition) { c := mapCatch(d); *c = slices.Delete(*c, 2, 3) },
			want:   `States.Timeout is caught by Catch[2] to FinishFailed, with outcome "failed", want "expired"`,
		},
		{
			name: "the Map catches Failed before States.ALL, to the wrong outcome",
			mutate: func(d *definition) {
				c := mapCatch(d)
				*c = slices.Insert(*c, 0, catcher{ErrorEquals: []string{"Failed"}, Next: "FinishExpired"})
			},
			want: `Failed is caught by Catch[0] to FinishExpired, with outcome "expired", want "failed"`,
		},
		{
			name:   "a Catch leads to no state",
			mutate: func(d *definition) { d.States["Apply"].Catch[0].Next = "FinishNowhere" },
			want:   "FinishNowhere, which is not a state",
		},
		{
			name: "an unknown error name in a Catch",
			mutate: func(d *definition) {
				c := mapCatch(d)
				*c = slices.Insert(*c, 0, catcher{ErrorEquals: []string{"Refusal"}, Next: "FinishRefused"})
			},
			want: "AwaitConfirmations: Catch[0] names Refusal, which is neither in ErrorNames nor a States.* name",
		},
		{
			name:   "an unknown error name in a Retry",
			mutate: func(d *definition) { r := &awaitParty(d).Retry[0]; r.ErrorEquals = append(r.ErrorEquals, "Timeout") },
			want:   "AwaitConfirmations/AwaitParty: Retry[0] names Timeout, which is not in ErrorNames",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := parseDefinition(t)
			tt.mutate(d)
			problems := checkErrorHandling(d)
			if len(problems) == 0 {
				t.Fatal("the checks found no problem")
			}
			if !slices.ContainsFunc(problems, func(p string) bool { return strings.Contains(p, tt.want) }) {
				t.Errorf("no problem reported contains %q; got:\n%s", tt.want, strings.Join(problems, "\n"))
			}
		})
	}
}

// errorType is the name aws-lambda-go reports as a function error's errorType, and Step
// Functions matches: the Go type's name, pointer stripped.
func errorType(err error) string {
	t := reflect.TypeOf(err)
	if t == nil {
		return ""
	}
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t.Name()
}

// fakeSteps implements step.Steps with a function per method; a nil function fails the
// test that calls it.
type fakeSteps struct {
	t            *testing.T
	registerTask func(ctx context.Context, id, nic, taskToken string) error
	// registerPartyTask is called for a payload that names the party's index.
	registerPartyTask func(ctx context.Context, id string, party int, nic, taskToken string) error
	apply             func(ctx context.Context, id string) (contact.Change, error)
	finish            func(ctx context.Context, id string, outcome contact.State) (contact.Change, error)
	reconcile         func(ctx context.Context, id string) (contact.Change, error)
	sweep             func(ctx context.Context) (int, error)
}

func (f *fakeSteps) RegisterTask(ctx context.Context, id, nic, taskToken string) error {
	if f.registerTask == nil {
		f.t.Errorf("RegisterTask(%q, %q, %q) called, want no call", id, nic, taskToken)
		return nil
	}
	return f.registerTask(ctx, id, nic, taskToken)
}

func (f *fakeSteps) RegisterPartyTask(ctx context.Context, id string, party int, nic, taskToken string) error {
	if f.registerPartyTask == nil {
		f.t.Errorf("RegisterPartyTask(%q, %d, %q, %q) called, want no call", id, party, nic, taskToken)
		return nil
	}
	return f.registerPartyTask(ctx, id, party, nic, taskToken)
}

func (f *fakeSteps) ApplyKnowing(ctx context.Context, id string, _ contact.Ahead) (contact.Change, error) {
	if f.apply == nil {
		f.t.Errorf("Apply(%q) called, want no call", id)
		return contact.Change{}, nil
	}
	return f.apply(ctx, id)
}

func (f *fakeSteps) Finish(ctx context.Context, id string, outcome contact.State) (contact.Change, error) {
	if f.finish == nil {
		f.t.Errorf("Finish(%q, %q) called, want no call", id, outcome)
		return contact.Change{}, nil
	}
	return f.finish(ctx, id, outcome)
}

func (f *fakeSteps) Reconcile(ctx context.Context, id string) (contact.Change, error) {
	if f.reconcile == nil {
		f.t.Errorf("Reconcile(%q) called, want no call", id)
		return contact.Change{}, nil
	}
	return f.reconcile(ctx, id)
}

func (f *fakeSteps) Sweep(ctx context.Context) (int, error) {
	if f.sweep == nil {
		f.t.Error("Sweep called, want no call")
		return 0, nil
	}
	return f.sweep(ctx)
}

var _ step.Steps = (*fakeSteps)(nil)

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// stepErrors are the errors a use case may return, and the name the handler must give each.
var stepErrors = []struct {
	name string
	err  error
	want string
}{
	{name: "unavailable", err: fmt.Errorf("load request x: %w", contact.ErrUnavailable), want: "Unavailable"},
	{name: "unavailable domain error", err: fmt.Errorf("apply x: %w", &contact.Error{Kind: contact.ErrUnavailable, Code: "throttled"}), want: "Unavailable"},
	{name: "deadline exceeded", err: fmt.Errorf("write request x: %w", context.DeadlineExceeded), want: "Unavailable"},
	{name: "plain error", err: errors.New("boom"), want: "Failed"},
	{name: "conflict", err: fmt.Errorf("apply x: %w", contact.ErrVersionConflict), want: "Failed"},
}

func TestNamedErrorsAreTheTable(t *testing.T) {
	t.Run("table", func(t *testing.T) {
		seen := map[string]bool{}
		for _, n := range step.ErrorNames {
			if seen[n.Name] {
				t.Errorf("ErrorNames holds %s twice", n.Name)
			}
			seen[n.Name] = true
			switch n.Handling {
			case step.Retried, step.Ended, step.Refusal, step.Cancellation:
			default:
				t.Errorf("ErrorNames: %s has handling %q, not one of the four", n.Name, n.Handling)
			}
			if strings.HasPrefix(n.Name, statesPrefix) {
				t.Errorf("ErrorNames holds %s: States.* names are the language's own", n.Name)
			}
		}
		for _, tt := range []struct {
			err  error
			want step.Handling
		}{
			{&step.Unavailable{Err: errors.New("x")}, step.Retried},
			{&step.Invalid{Err: errors.New("x")}, step.Ended},
			{&step.Failed{Err: errors.New("x")}, step.Ended},
		} {
			name := errorType(tt.err)
			got, ok := handling(name)
			if !ok {
				t.Errorf("%T: ErrorNames has no %s", tt.err, name)
				continue
			}
			if got != tt.want {
				t.Errorf("ErrorNames: %s is %s, want %s", name, got, tt.want)
			}
			if !errors.Is(tt.err, errors.Unwrap(tt.err)) || tt.err.Error() != "x" {
				t.Errorf("%T does not carry its error", tt.err)
			}
		}
	})

	ctx := context.Background()
	t.Run("Apply", func(t *testing.T) {
		for _, tt := range stepErrors {
			t.Run(tt.name, func(t *testing.T) {
				var got string
				h := step.New(&fakeSteps{t: t, apply: func(_ context.Context, id string) (contact.Change, error) {
					got = id
					return contact.Change{}, tt.err
				}}, quietLogger())
				_, err := h.Apply(ctx, step.ApplyInput{RequestID: "x"})
				assertNamed(t, err, tt.err, tt.want)
				if got != "x" {
					t.Errorf("Apply called with %q, want x", got)
				}
			})
		}
		t.Run("applied", func(t *testing.T) {
			h := step.New(&fakeSteps{t: t, apply: func(_ context.Context, id string) (contact.Change, error) {
				return contact.Change{ID: id, State: contact.Done}, nil
			}}, quietLogger())
			res, err := h.Apply(ctx, step.ApplyInput{RequestID: "x"})
			if err != nil || res.State != string(contact.Done) {
				t.Errorf("Apply = %+v, %v; want state done", res, err)
			}
		})
		t.Run("no request id", func(t *testing.T) {
			_, err := step.New(&fakeSteps{t: t}, quietLogger()).Apply(ctx, step.ApplyInput{})
			assertNamed(t, err, nil, "Invalid")
		})
	})

	t.Run("Await", func(t *testing.T) {
		valid := step.AwaitInput{RequestID: "x", NIC: "aa1-ovh", TaskToken: "token"}
		for _, tt := range stepErrors {
			t.Run(tt.name, func(t *testing.T) {
				var got []string
				h := step.New(&fakeSteps{t: t, registerTask: func(_ context.Context, id, nic, token string) error {
					got = []string{id, nic, token}
					return tt.err
				}}, quietLogger())
				_, err := h.Await(ctx, valid)
				assertNamed(t, err, tt.err, tt.want)
				if !slices.Equal(got, []string{"x", "aa1-ovh", "token"}) {
					t.Errorf("RegisterTask called with %q, want x, aa1-ovh, token", got)
				}
			})
		}
		t.Run("registered by the party's index", func(t *testing.T) {
			second := 1
			var got []string
			h := step.New(&fakeSteps{t: t, registerPartyTask: func(_ context.Context, id string, party int, nic, token string) error {
				got = []string{id, fmt.Sprint(party), nic, token}
				return nil
			}}, quietLogger())
			in := valid
			in.Party = &second
			if _, err := h.Await(ctx, in); err != nil {
				t.Errorf("Await error = %v, want none", err)
			}
			if !slices.Equal(got, []string{"x", "1", "aa1-ovh", "token"}) {
				t.Errorf("RegisterPartyTask called with %q, want x, 1, aa1-ovh, token", got)
			}
		})
		t.Run("registered", func(t *testing.T) {
			h := step.New(&fakeSteps{t: t, registerTask: func(context.Context, string, string, string) error { return nil }}, quietLogger())
			if _, err := h.Await(ctx, valid); err != nil {
				t.Errorf("Await error = %v, want none", err)
			}
		})
		for name, in := range map[string]step.AwaitInput{
			"no request id": {NIC: "aa1-ovh", TaskToken: "token"},
			"no NIC":        {RequestID: "x", TaskToken: "token"},
			"no task token": {RequestID: "x", NIC: "aa1-ovh"},
		} {
			t.Run(name, func(t *testing.T) {
				_, err := step.New(&fakeSteps{t: t}, quietLogger()).Await(ctx, in)
				assertNamed(t, err, nil, "Invalid")
			})
		}
	})

	t.Run("Finish", func(t *testing.T) {
		for _, tt := range stepErrors {
			t.Run(tt.name, func(t *testing.T) {
				h := step.New(&fakeSteps{t: t, finish: func(context.Context, string, contact.State) (contact.Change, error) {
					return contact.Change{}, tt.err
				}}, quietLogger())
				_, err := h.Finish(ctx, step.FinishInput{RequestID: "x", Outcome: "failed"})
				assertNamed(t, err, tt.err, tt.want)
			})
		}
		for _, outcome := range []contact.State{contact.Refused, contact.Cancelled, contact.Expired, contact.Failed} {
			t.Run("outcome "+string(outcome), func(t *testing.T) {
				var gotID string
				var gotOutcome contact.State
				h := step.New(&fakeSteps{t: t, finish: func(_ context.Context, id string, o contact.State) (contact.Change, error) {
					gotID, gotOutcome = id, o
					return contact.Change{ID: id, State: o}, nil
				}}, quietLogger())
				res, err := h.Finish(ctx, step.FinishInput{RequestID: "x", Outcome: string(outcome)})
				if err != nil {
					t.Fatalf("Finish error = %v, want none", err)
				}
				if gotID != "x" || gotOutcome != outcome {
					t.Errorf("Finish called with %q, %q; want x, %q", gotID, gotOutcome, outcome)
				}
				if res.State != string(outcome) {
					t.Errorf("Result.State = %q, want %q", res.State, outcome)
				}
			})
		}
		for _, in := range []step.FinishInput{
			{RequestID: "x", Outcome: string(contact.Done)},
			{RequestID: "x", Outcome: string(contact.Pending)},
			{RequestID: "x", Outcome: string(contact.Applying)},
			{RequestID: "x", Outcome: "Refused"},
			{RequestID: "x", Outcome: ""},
			{RequestID: "", Outcome: string(contact.Refused)},
		} {
			t.Run(fmt.Sprintf("invalid %+v", in), func(t *testing.T) {
				_, err := step.New(&fakeSteps{t: t}, quietLogger()).Finish(ctx, in)
				assertNamed(t, err, nil, "Invalid")
			})
		}
	})
}

// assertNamed checks that err has the type called want, and still wraps cause.
func assertNamed(t *testing.T, err, cause error, want string) {
	t.Helper()
	if err == nil {
		t.Fatalf("error = nil, want %s", want)
	}
	if got := errorType(err); got != want {
		t.Errorf("error %q has type %T, named %q; want %q", err, err, got, want)
	}
	if _, ok := handling(errorType(err)); !ok {
		t.Errorf("error type %s is not in ErrorNames", errorType(err))
	}
	if cause != nil && !errors.Is(err, cause) {
		t.Errorf("error %q does not wrap %q", err, cause)
	}
}
