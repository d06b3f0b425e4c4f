package step_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"testing"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/servicecontacts/servicecontacts/shared/contact"
	"github.com/servicecontacts/servicecontacts/shared/step"
)

// executionEvent is EventBridge's "Step Functions Execution Status Change" event for a
// failed execution, as AWS documents it.
func executionEvent(t *testing.T, edit func(ev map[string]any)) json.RawMessage {
	t.Helper()
	raw, err := os.ReadFile("testdata/execution-status-change.json")
	if err != nil {
		t.Fatal(err)
	}
	if edit == nil {
		return raw
	}
	var ev map[string]any
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	edit(ev)
	raw, err = json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

const eventExecution = "req-01HQ7Z3K2M" // detail.name in testdata/execution-status-change.json

func TestReconcileExecutionEvent(t *testing.T) {
	ctx := context.Background()
	detail := func(edit func(d map[string]any)) func(ev map[string]any) {
		return func(ev map[string]any) { edit(ev["detail"].(map[string]any)) }
	}
	tests := []struct {
		name      string
		event     func(ev map[string]any)
		reconcile error
		want      step.SweepResult
		wantErr   string // the error's type name; "" for none
		wantCall  bool   // whether Reconcile is called
	}{
		{name: "failed execution", want: step.SweepResult{Reconciled: 1}, wantCall: true},
		{name: "timed out execution", event: detail(func(d map[string]any) { d["status"] = "TIMED_OUT" }), want: step.SweepResult{Reconciled: 1}, wantCall: true},
		{name: "aborted execution", event: detail(func(d map[string]any) { d["status"] = "ABORTED"; delete(d, "error"); delete(d, "cause") }), want: step.SweepResult{Reconciled: 1}, wantCall: true},
		{name: "no detail.name", event: detail(func(d map[string]any) { delete(d, "name") }), wantErr: "Invalid"},
		{name: "empty detail.name", event: detail(func(d map[string]any) { d["name"] = "" }), wantErr: "Invalid"},
		{name: "no detail", event: func(ev map[string]any) { delete(ev, "detail") }, wantErr: "Invalid"},
		{name: "reconcile unavailable", reconcile: fmt.Errorf("load request: %w", contact.ErrUnavailable), wantErr: "Unavailable", wantCall: true},
		{name: "reconcile deadline exceeded", reconcile: fmt.Errorf("describe workflow: %w", context.DeadlineExceeded), wantErr: "Unavailable", wantCall: true},
		{name: "reconcile fails", reconcile: errors.New("boom"), wantErr: "Failed", wantCall: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls []string
			h := step.New(&fakeSteps{t: t, reconcile: func(_ context.Context, id string) (contact.Change, error) {
				calls = append(calls, id)
				return contact.Change{ID: id, State: contact.Failed}, tt.reconcile
			}}, quietLogger())
			got, err := h.Reconcile(ctx, executionEvent(t, tt.event))
			if tt.wantErr == "" && err != nil {
				t.Fatalf("error = %v, want none", err)
			}
			if tt.wantErr != "" {
				assertNamed(t, err, tt.reconcile, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("result = %+v, want %+v", got, tt.want)
			}
			switch {
			case tt.wantCall && (len(calls) != 1 || calls[0] != eventExecution):
				t.Errorf("Reconcile calls = %q, want one for %q", calls, eventExecution)
			case !tt.wantCall && len(calls) != 0:
				t.Errorf("Reconcile calls = %q, want none", calls)
			}
		})
	}
}

func TestReconcileSchedule(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name    string
		payload string
		count   int
		sweep   error
		wantErr string
	}{
		{name: "scheduler", payload: `{"source":"scheduler"}`, count: 3},
		{name: "empty object", payload: `{}`, count: 0},
		{name: "local scheduler", payload: `{"source":"local.scheduler"}`, count: 1},
		{name: "another event type", payload: `{"detail-type":"Scheduled Event","source":"aws.events","detail":{"name":"x"}}`, count: 2},
		{name: "sweep unavailable", payload: `{"source":"scheduler"}`, count: 0, sweep: fmt.Errorf("list due requests: %w", contact.ErrUnavailable), wantErr: "Unavailable"},
		{name: "one request unavailable among others", payload: `{}`, count: 4, sweep: errors.Join(errors.New("boom"), fmt.Errorf("reconcile: %w", contact.ErrUnavailable)), wantErr: "Unavailable"},
		{name: "sweep fails", payload: `{}`, count: 2, sweep: errors.New("boom"), wantErr: "Failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sweeps := 0
			h := step.New(&fakeSteps{t: t, sweep: func(context.Context) (int, error) {
				sweeps++
				return tt.count, tt.sweep
			}}, quietLogger())
			got, err := h.Reconcile(ctx, json.RawMessage(tt.payload))
			if tt.wantErr == "" && err != nil {
				t.Fatalf("error = %v, want none", err)
			}
			if tt.wantErr != "" {
				assertNamed(t, err, tt.sweep, tt.wantErr)
			}
			if sweeps != 1 {
				t.Errorf("Sweep called %d times, want once", sweeps)
			}
			if got.Reconciled != tt.count {
				t.Errorf("Reconciled = %d, want Sweep's count %d", got.Reconciled, tt.count)
			}
		})
	}
}

// TestReconcileThroughLambda runs the handler as Lambda does, through aws-lambda-go, which
// hands it the raw event and encodes its result.
func TestReconcileThroughLambda(t *testing.T) {
	ctx := context.Background()
	var reconciled []string
	h := step.New(&fakeSteps{
		t: t,
		reconcile: func(_ context.Context, id string) (contact.Change, error) {
			reconciled = append(reconciled, id)
			return contact.Change{ID: id, State: contact.Failed}, nil
		},
		sweep: func(context.Context) (int, error) { return 5, nil },
	}, quietLogger())
	handler := lambda.NewHandler(h.Reconcile)

	out, err := handler.Invoke(ctx, executionEvent(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != `{"reconciled":1}` || len(reconciled) != 1 || reconciled[0] != eventExecution {
		t.Errorf("execution event: output %s, reconciled %q; want {\"reconciled\":1} and %q", out, reconciled, eventExecution)
	}
	out, err = handler.Invoke(ctx, []byte(`{"source":"scheduler"}`))
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != `{"reconciled":5}` {
		t.Errorf("schedule: output %s, want {\"reconciled\":5}", out)
	}
	_, err = handler.Invoke(ctx, executionEvent(t, func(ev map[string]any) { delete(ev["detail"].(map[string]any), "name") }))
	if errorType(err) != "Invalid" {
		t.Errorf("execution event without a name: error %v (%T), want Invalid", err, err)
	}
}
