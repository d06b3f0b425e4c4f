package asl

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda/messages"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/google/go-cmp/cmp"
)

// waitLimit bounds every wait for an outcome, so that a broken executor fails the test
// instead of hanging it.
const waitLimit = 10 * time.Second

func newExecutor(t *testing.T, definition string, functions map[string]Function) *Executor {
	t.Helper()
	m, err := Load([]byte(definition), nil)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	e, err := New(m, functions)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = e.Close() })
	return e
}

func startExecution(t *testing.T, e *Executor, name, input string) *Execution {
	t.Helper()
	_, err := e.StartExecution(context.Background(), &sfn.StartExecutionInput{
		StateMachineArn: aws.String(e.StateMachineARN()),
		Name:            aws.String(name),
		Input:           aws.String(input),
	})
	if err != nil {
		t.Fatalf("StartExecution: %v", err)
	}
	x, ok := e.Execution(name)
	if !ok {
		t.Fatalf("execution %q not found after StartExecution", name)
	}
	return x
}

func finished(t *testing.T, x *Execution) Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	r, err := x.Wait(ctx)
	if err != nil {
		t.Fatalf("execution %s did not finish: %v; history: %+v", x.Name(), err, x.History())
	}
	return r
}

func receive[T any](t *testing.T, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(waitLimit):
		t.Fatal("nothing received")
		panic("unreachable")
	}
}

// assertJSON compares JSON documents by value.
func assertJSON(t *testing.T, want string, got json.RawMessage) {
	t.Helper()
	if diff := cmp.Diff(mustDecode(t, want), mustDecode(t, string(got))); diff != "" {
		t.Errorf("JSON (-want +got):\n%s", diff)
	}
}

// single is a definition made of one state named S.
func single(state string) string {
	return `{"StartAt": "S", "States": {"S": ` + state + `}}`
}

// echo returns its payload as its result.
func echo(_ context.Context, payload json.RawMessage) (json.RawMessage, error) {
	return payload, nil
}

func TestPassAndPaths(t *testing.T) {
	tests := []struct {
		name  string
		state string
		input string
		want  string
	}{
		{
			name:  "passes its input",
			state: `{"Type": "Pass", "End": true}`,
			input: `{"a": 1}`,
			want:  `{"a": 1}`,
		},
		{
			name:  "Result at ResultPath",
			state: `{"Type": "Pass", "Result": {"r": [1, 2]}, "ResultPath": "$.out", "End": true}`,
			input: `{"a": 1}`,
			want:  `{"a": 1, "out": {"r": [1, 2]}}`,
		},
		{
			name:  "ResultPath null keeps the input",
			state: `{"Type": "Pass", "Result": "ignored", "ResultPath": null, "End": true}`,
			input: `{"a": 1}`,
			want:  `{"a": 1}`,
		},
		{
			name: "InputPath, Parameters from input and context object",
			state: `{"Type": "Pass", "InputPath": "$.in",
				"Parameters": {"x.$": "$.x", "fixed": "f", "execution.$": "$$.Execution.Name", "state.$": "$$.State.Name", "whole.$": "$$.Execution.Input.in.x"},
				"End": true}`,
			input: `{"in": {"x": "X"}, "other": 2}`,
			want:  `{"x": "X", "fixed": "f", "execution": "run", "state": "S", "whole": "X"}`,
		},
		{
			name:  "OutputPath",
			state: `{"Type": "Pass", "Result": {"keep": {"k": 1}}, "OutputPath": "$.keep", "End": true}`,
			input: `{}`,
			want:  `{"k": 1}`,
		},
		{
			name:  "InputPath null gives an empty object",
			state: `{"Type": "Pass", "InputPath": null, "End": true}`,
			input: `{"a": 1}`,
			want:  `{}`,
		},
		{
			name:  "Succeed with OutputPath",
			state: `{"Type": "Succeed", "OutputPath": "$.a"}`,
			input: `{"a": [true]}`,
			want:  `[true]`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newExecutor(t, single(tt.state), nil)
			r := finished(t, startExecution(t, e, "run", tt.input))
			if r.Status != types.ExecutionStatusSucceeded {
				t.Fatalf("status = %s (%s: %s), want SUCCEEDED", r.Status, r.Error, r.Cause)
			}
			assertJSON(t, tt.want, r.Output)
		})
	}
}

func TestFailures(t *testing.T) {
	tests := []struct {
		name       string
		definition string
		wantError  string
		wantCause  string
	}{
		{
			name:       "Fail state",
			definition: single(`{"Type": "Fail", "Error": "Broken", "Cause": "on purpose"}`),
			wantError:  "Broken",
			wantCause:  "on purpose",
		},
		{
			name:       "missing InputPath",
			definition: single(`{"Type": "Pass", "InputPath": "$.nothing", "End": true}`),
			wantError:  errRuntime,
		},
		{
			name:       "missing parameter path",
			definition: single(`{"Type": "Pass", "Parameters": {"a.$": "$.nothing"}, "End": true}`),
			wantError:  errParameterPathFailure,
		},
		{
			name:       "ResultPath through a string",
			definition: single(`{"Type": "Pass", "Result": 1, "ResultPath": "$.s.x", "End": true}`),
			wantError:  errResultPathMatchFailure,
		},
		{
			name: "States.ALL does not catch States.Runtime",
			definition: `{"StartAt": "M", "States": {
				"M": {"Type": "Map", "ItemsPath": "$.s", "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Succeed"}}},
					"Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}], "End": true},
				"Caught": {"Type": "Succeed"}}}`,
			wantError: errRuntime,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newExecutor(t, tt.definition, nil)
			r := finished(t, startExecution(t, e, "run", `{"s": "not an array"}`))
			if r.Status != types.ExecutionStatusFailed || r.Error != tt.wantError {
				t.Fatalf("result = %s %s (%s), want FAILED %s", r.Status, r.Error, r.Cause, tt.wantError)
			}
			if tt.wantCause != "" && r.Cause != tt.wantCause {
				t.Errorf("cause = %q, want %q", r.Cause, tt.wantCause)
			}
		})
	}
}

func TestLambdaInvoke(t *testing.T) {
	tests := []struct {
		name  string
		extra string
		want  string
	}{
		{
			name: "optimized integration result",
			want: `{"ExecutedVersion": "$LATEST", "StatusCode": 200, "Payload": {"got": {"id": "r1", "fixed": 7}}}`,
		},
		{
			name:  "ResultSelector and ResultPath",
			extra: `, "ResultSelector": {"state.$": "$.Payload.got.id"}, "ResultPath": "$.result"`,
			want:  `{"id": "r1", "result": {"state": "r1"}}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got json.RawMessage
			fn := func(_ context.Context, payload json.RawMessage) (json.RawMessage, error) {
				got = payload
				return json.RawMessage(`{"got": ` + string(payload) + `}`), nil
			}
			e := newExecutor(t, single(`{"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
				"Parameters": {"FunctionName": "fn", "Payload": {"id.$": "$.id", "fixed": 7}}, "End": true`+tt.extra+`}`),
				map[string]Function{"fn": fn})
			r := finished(t, startExecution(t, e, "run", `{"id": "r1"}`))
			if r.Status != types.ExecutionStatusSucceeded {
				t.Fatalf("status = %s (%s: %s), want SUCCEEDED", r.Status, r.Error, r.Cause)
			}
			assertJSON(t, tt.want, r.Output)
			assertJSON(t, `{"id": "r1", "fixed": 7}`, got)
		})
	}
}

// Errors of distinct kinds, named as aws-lambda-go names them.
type (
	Unavailable struct{}
	valueError  struct{}
)

func (*Unavailable) Error() string { return "try later" }
func (valueError) Error() string   { return "value" }

func TestFunctionErrorNames(t *testing.T) {
	tests := []struct {
		name string
		fn   Function
		want string
	}{
		{name: "pointer type", fn: failWith(&Unavailable{}), want: "Unavailable"},
		{name: "value type", fn: failWith(valueError{}), want: "valueError"},
		{name: "errors.New", fn: failWith(errors.New("x")), want: "errorString"},
		{name: "wrapped", fn: failWith(fmt.Errorf("context: %w", &Unavailable{})), want: "wrapError"},
		{name: "Lambda error message", fn: failWith(messages.InvokeResponse_Error{Type: "Custom", Message: "m"}), want: "Custom"},
		{name: "panic", fn: func(context.Context, json.RawMessage) (json.RawMessage, error) { panic("boom") }, want: "string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newExecutor(t, `{"StartAt": "S", "States": {
				"S": `+lambdaTask("fn", `, "End": true, "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Caught"}]`)+`,
				"Caught": {"Type": "Succeed", "OutputPath": "$.error.Error"}}}`,
				map[string]Function{"fn": tt.fn})
			r := finished(t, startExecution(t, e, "run", `{}`))
			if r.Status != types.ExecutionStatusSucceeded {
				t.Fatalf("status = %s (%s: %s), want SUCCEEDED", r.Status, r.Error, r.Cause)
			}
			assertJSON(t, `"`+tt.want+`"`, r.Output)
		})
	}
}

func failWith(err error) Function {
	return func(context.Context, json.RawMessage) (json.RawMessage, error) { return nil, err }
}

func TestRetry(t *testing.T) {
	t.Parallel() // its cases wait on timers and retry delays; they wait together
	tests := []struct {
		name        string
		retry       string
		failures    int // calls that fail before one succeeds
		wantStatus  types.ExecutionStatus
		wantRetries []int // $$.State.RetryCount seen by each call
	}{
		{
			name:        "retried until success",
			retry:       `[{"ErrorEquals": ["Other"], "MaxAttempts": 0}, {"ErrorEquals": ["Unavailable"], "MaxAttempts": 2, "BackoffRate": 1}]`,
			failures:    1,
			wantStatus:  types.ExecutionStatusSucceeded,
			wantRetries: []int{0, 1},
		},
		{
			name:        "gives up after MaxAttempts",
			retry:       `[{"ErrorEquals": ["States.TaskFailed"], "MaxAttempts": 1}]`,
			failures:    5,
			wantStatus:  types.ExecutionStatusFailed,
			wantRetries: []int{0, 1},
		},
		{
			name:        "only the first matching retrier applies",
			retry:       `[{"ErrorEquals": ["Unavailable"], "MaxAttempts": 0}, {"ErrorEquals": ["States.ALL"], "MaxAttempts": 3}]`,
			failures:    1,
			wantStatus:  types.ExecutionStatusFailed,
			wantRetries: []int{0},
		},
		{
			name:        "other errors are not retried",
			retry:       `[{"ErrorEquals": ["Lambda.ServiceException"]}]`,
			failures:    1,
			wantStatus:  types.ExecutionStatusFailed,
			wantRetries: []int{0},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var mu sync.Mutex
			var retries []int
			fn := func(_ context.Context, payload json.RawMessage) (json.RawMessage, error) {
				var p struct{ Retry int }
				if err := json.Unmarshal(payload, &p); err != nil {
					return nil, err
				}
				mu.Lock()
				defer mu.Unlock()
				retries = append(retries, p.Retry)
				if len(retries) <= tt.failures {
					return nil, &Unavailable{}
				}
				return json.RawMessage(`"ok"`), nil
			}
			e := newExecutor(t, single(`{"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
				"Parameters": {"FunctionName": "fn", "Payload": {"Retry.$": "$$.State.RetryCount"}},
				"Retry": `+tt.retry+`, "End": true}`), map[string]Function{"fn": fn})
			r := finished(t, startExecution(t, e, "run", `{}`))
			if r.Status != tt.wantStatus {
				t.Fatalf("status = %s (%s), want %s", r.Status, r.Error, tt.wantStatus)
			}
			if r.Status == types.ExecutionStatusFailed && r.Error != "Unavailable" {
				t.Errorf("error = %q, want Unavailable", r.Error)
			}
			mu.Lock()
			defer mu.Unlock()
			if diff := cmp.Diff(tt.wantRetries, retries); diff != "" {
				t.Errorf("retry counts (-want +got):\n%s", diff)
			}
		})
	}
}

// callbackTask is a waitForTaskToken state; its function hands the token to tokens.
func callbackTask(extra string) string {
	return `{"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
		"Parameters": {"FunctionName": "await", "Payload": {"key.$": "$.key", "token.$": "$$.Task.Token"}}` + extra + `}`
}

type issued struct{ Key, Token string }

func tokenFunction(tokens chan<- issued) Function {
	return func(_ context.Context, payload json.RawMessage) (json.RawMessage, error) {
		var p issued
		if err := json.Unmarshal(payload, &p); err != nil {
			return nil, err
		}
		tokens <- p
		return json.RawMessage(`{}`), nil
	}
}

func TestWaitForTaskToken(t *testing.T) {
	t.Parallel() // its cases wait on timers and retry delays; they wait together
	tests := []struct {
		name       string
		extra      string
		input      string
		answer     func(e *Executor, token string) error
		wantStatus types.ExecutionStatus
		wantOutput string
		wantError  string
	}{
		{
			name:  "success output is the result",
			extra: `, "ResultPath": "$.answer", "End": true`,
			input: `{"key": "k"}`,
			answer: func(e *Executor, token string) error {
				_, err := e.SendTaskSuccess(context.Background(), &sfn.SendTaskSuccessInput{TaskToken: aws.String(token), Output: aws.String(`{"decision": "accepted"}`)})
				return err
			},
			wantStatus: types.ExecutionStatusSucceeded,
			wantOutput: `{"key": "k", "answer": {"decision": "accepted"}}`,
		},
		{
			name:  "failure keeps the given error and cause",
			extra: `, "Catch": [{"ErrorEquals": ["Refused"], "ResultPath": "$.error", "Next": "Done"}], "End": true`,
			input: `{"key": "k"}`,
			answer: func(e *Executor, token string) error {
				_, err := e.SendTaskFailure(context.Background(), &sfn.SendTaskFailureInput{TaskToken: aws.String(token), Error: aws.String("Refused"), Cause: aws.String("said no")})
				return err
			},
			wantStatus: types.ExecutionStatusSucceeded,
			wantOutput: `{"key": "k", "error": {"Error": "Refused", "Cause": "said no"}}`,
		},
		{
			name:       "TimeoutSeconds",
			extra:      `, "TimeoutSeconds": 1, "End": true`,
			input:      `{"key": "k"}`,
			wantStatus: types.ExecutionStatusFailed,
			wantError:  errTimeout,
		},
		{
			name:       "TimeoutSecondsPath",
			extra:      `, "TimeoutSecondsPath": "$.timeout", "End": true`,
			input:      `{"key": "k", "timeout": 1}`,
			wantStatus: types.ExecutionStatusFailed,
			wantError:  errTimeout,
		},
		{
			name:       "TimeoutSecondsPath selecting no positive integer",
			extra:      `, "TimeoutSecondsPath": "$.timeout", "End": true`,
			input:      `{"key": "k", "timeout": "soon"}`,
			wantStatus: types.ExecutionStatusFailed,
			wantError:  errRuntime,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tokens := make(chan issued, 1)
			e := newExecutor(t, `{"StartAt": "S", "States": {"S": `+callbackTask(tt.extra)+`, "Done": {"Type": "Succeed"}}}`,
				map[string]Function{"await": tokenFunction(tokens)})
			x := startExecution(t, e, "run", tt.input)
			var token string
			if tt.wantError != errRuntime {
				token = receive(t, tokens).Token
			}
			if tt.answer != nil {
				if err := tt.answer(e, token); err != nil {
					t.Fatalf("answer: %v", err)
				}
			}
			r := finished(t, x)
			if r.Status != tt.wantStatus || r.Error != tt.wantError {
				t.Fatalf("result = %s %q (%s), want %s %q", r.Status, r.Error, r.Cause, tt.wantStatus, tt.wantError)
			}
			if tt.wantOutput != "" {
				assertJSON(t, tt.wantOutput, r.Output)
			}
			if token == "" {
				return
			}
			// The task is closed now, whichever way it ended.
			_, err := e.SendTaskSuccess(context.Background(), &sfn.SendTaskSuccessInput{TaskToken: aws.String(token), Output: aws.String(`{}`)})
			var timedOut *types.TaskTimedOut
			if !errors.As(err, &timedOut) {
				t.Errorf("SendTaskSuccess on a closed task: error = %v, want TaskTimedOut", err)
			}
		})
	}
}

func TestTaskAnsweredBeforeTheFunctionReturns(t *testing.T) {
	var e *Executor
	answered := make(chan error, 1)
	await := func(ctx context.Context, payload json.RawMessage) (json.RawMessage, error) {
		var p issued
		if err := json.Unmarshal(payload, &p); err != nil {
			return nil, err
		}
		_, err := e.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String(p.Token), Output: aws.String(`"early"`)})
		answered <- err
		return json.RawMessage(`{}`), nil
	}
	e = newExecutor(t, single(callbackTask(`, "End": true`)), map[string]Function{"await": await})
	r := finished(t, startExecution(t, e, "run", `{"key": "k"}`))
	if err := receive(t, answered); err != nil {
		t.Fatalf("SendTaskSuccess from inside the function: %v", err)
	}
	if r.Status != types.ExecutionStatusSucceeded {
		t.Fatalf("status = %s (%s: %s), want SUCCEEDED", r.Status, r.Error, r.Cause)
	}
	assertJSON(t, `"early"`, r.Output)
}

func TestCallbackFunctionError(t *testing.T) {
	tokens := make(chan issued, 1)
	await := func(ctx context.Context, payload json.RawMessage) (json.RawMessage, error) {
		if _, err := tokenFunction(tokens)(ctx, payload); err != nil {
			return nil, err
		}
		return nil, &Unavailable{}
	}
	e := newExecutor(t, single(callbackTask(`, "End": true`)), map[string]Function{"await": await})
	r := finished(t, startExecution(t, e, "run", `{"key": "k"}`))
	if r.Status != types.ExecutionStatusFailed || r.Error != "Unavailable" {
		t.Fatalf("result = %s %q, want FAILED Unavailable", r.Status, r.Error)
	}
	_, err := e.SendTaskSuccess(context.Background(), &sfn.SendTaskSuccessInput{TaskToken: aws.String(receive(t, tokens).Token), Output: aws.String(`{}`)})
	var timedOut *types.TaskTimedOut
	if !errors.As(err, &timedOut) {
		t.Errorf("SendTaskSuccess after the function failed: error = %v, want TaskTimedOut", err)
	}
}

func TestMap(t *testing.T) {
	e := newExecutor(t, single(`{"Type": "Map", "ItemsPath": "$.items",
		"ItemSelector": {"value.$": "$$.Map.Item.Value", "index.$": "$$.Map.Item.Index", "shared.$": "$.shared"},
		"ItemProcessor": {"ProcessorConfig": {"Mode": "INLINE"}, "StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}},
		"ResultPath": "$.results", "End": true}`), nil)
	r := finished(t, startExecution(t, e, "run", `{"items": ["a", {"b": 1}], "shared": "s"}`))
	if r.Status != types.ExecutionStatusSucceeded {
		t.Fatalf("status = %s (%s: %s), want SUCCEEDED", r.Status, r.Error, r.Cause)
	}
	assertJSON(t, `{"items": ["a", {"b": 1}], "shared": "s", "results": [
		{"value": "a", "index": 0, "shared": "s"},
		{"value": {"b": 1}, "index": 1, "shared": "s"}]}`, r.Output)
}

func TestMapFailureStopsTheOtherIterations(t *testing.T) {
	tokens := make(chan issued, 2)
	e := newExecutor(t, `{"StartAt": "M", "States": {
		"M": {"Type": "Map", "ItemsPath": "$.keys", "ItemSelector": {"key.$": "$$.Map.Item.Value"},
			"ItemProcessor": {"StartAt": "Wait", "States": {"Wait": `+callbackTask(`, "End": true`)+`}},
			"ResultPath": null,
			"Catch": [{"ErrorEquals": ["Refused"], "ResultPath": "$.error", "Next": "Handled"}], "Next": "Unexpected"},
		"Handled": {"Type": "Succeed"},
		"Unexpected": {"Type": "Fail", "Error": "Unexpected"}}}`,
		map[string]Function{"await": tokenFunction(tokens)})
	x := startExecution(t, e, "run", `{"keys": ["x", "y"]}`)
	byKey := map[string]string{}
	for range 2 {
		got := receive(t, tokens)
		byKey[got.Key] = got.Token
	}
	if _, err := e.SendTaskFailure(context.Background(), &sfn.SendTaskFailureInput{
		TaskToken: aws.String(byKey["x"]), Error: aws.String("Refused"), Cause: aws.String("no"),
	}); err != nil {
		t.Fatalf("SendTaskFailure: %v", err)
	}
	r := finished(t, x)
	if r.Status != types.ExecutionStatusSucceeded {
		t.Fatalf("status = %s (%s: %s), want SUCCEEDED through the catcher", r.Status, r.Error, r.Cause)
	}
	assertJSON(t, `{"keys": ["x", "y"], "error": {"Error": "Refused", "Cause": "no"}}`, r.Output)

	_, err := e.SendTaskSuccess(context.Background(), &sfn.SendTaskSuccessInput{TaskToken: aws.String(byKey["y"]), Output: aws.String(`{}`)})
	var timedOut *types.TaskTimedOut
	if !errors.As(err, &timedOut) {
		t.Errorf("SendTaskSuccess on the stopped iteration's task: error = %v, want TaskTimedOut", err)
	}
	iterations := map[types.HistoryEventType][]int{}
	for _, ev := range x.History() {
		switch ev.Type {
		case types.HistoryEventTypeMapIterationFailed, types.HistoryEventTypeMapIterationAborted, types.HistoryEventTypeMapIterationSucceeded:
			iterations[ev.Type] = append(iterations[ev.Type], ev.Index)
		}
	}
	want := map[types.HistoryEventType][]int{
		types.HistoryEventTypeMapIterationFailed:  {0},
		types.HistoryEventTypeMapIterationAborted: {1},
	}
	if diff := cmp.Diff(want, iterations); diff != "" {
		t.Errorf("iteration events (-want +got):\n%s", diff)
	}
}

func TestHistory(t *testing.T) {
	e := newExecutor(t, `{"StartAt": "M", "States": {
		"M": {"Type": "Map", "ItemsPath": "$.items", "ResultPath": null, "Next": "T",
			"ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}},
		"T": `+lambdaTask("fn", `, "ResultSelector": {"p.$": "$.Payload"}, "End": true`)+`}}`,
		map[string]Function{"fn": echo})
	x := startExecution(t, e, "run", `{"items": [1]}`)
	finished(t, x)
	type entry struct {
		Type          types.HistoryEventType
		State         string
		Input, Output string
	}
	var got []entry
	for _, ev := range x.History() {
		got = append(got, entry{ev.Type, ev.State, string(ev.Input), string(ev.Output)})
	}
	want := []entry{
		{Type: "ExecutionStarted", Input: `{"items": [1]}`},
		{Type: "MapStateEntered", State: "M", Input: `{"items":[1]}`},
		{Type: "MapStateStarted", State: "M"},
		{Type: "MapIterationStarted", State: "M"},
		{Type: "PassStateEntered", State: "P", Input: `1`},
		{Type: "PassStateExited", State: "P", Output: `1`},
		{Type: "MapIterationSucceeded", State: "M"},
		{Type: "MapStateSucceeded", State: "M"},
		{Type: "MapStateExited", State: "M", Output: `{"items":[1]}`},
		{Type: "TaskStateEntered", State: "T", Input: `{"items":[1]}`},
		{Type: "TaskScheduled", State: "T", Input: `{"FunctionName":"fn","Payload":{"items":[1]}}`},
		{Type: "TaskStarted", State: "T"},
		{Type: "TaskSucceeded", State: "T", Output: `{"ExecutedVersion":"$LATEST","Payload":{"items":[1]},"StatusCode":200}`},
		{Type: "TaskStateExited", State: "T", Output: `{"p":{"items":[1]}}`},
		{Type: "ExecutionSucceeded", Output: `{"p":{"items":[1]}}`},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("history (-want +got):\n%s", diff)
	}
	for i, ev := range x.History() {
		if ev.ID != int64(i+1) || ev.Timestamp.IsZero() {
			t.Errorf("event %d: ID = %d, Timestamp = %v; want ID %d and a timestamp", i, ev.ID, ev.Timestamp, i+1)
		}
	}
}
