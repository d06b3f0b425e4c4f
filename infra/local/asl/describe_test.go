package asl

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
)

func describe(t *testing.T, e *Executor, arn string) *sfn.DescribeExecutionOutput {
	t.Helper()
	out, err := e.DescribeExecution(context.Background(), &sfn.DescribeExecutionInput{ExecutionArn: aws.String(arn)})
	if err != nil {
		t.Fatalf("DescribeExecution(%s): %v", arn, err)
	}
	return out
}

func TestDescribeExecution(t *testing.T) {
	before := time.Now()
	tokens := make(chan issued, 1)
	e := newExecutor(t, `{"StartAt": "Route", "States": {
		"Route": {"Type": "Pass", "Next": "Wait"},
		"Wait": `+callbackTask(`, "Next": "Done"`)+`,
		"Done": {"Type": "Pass", "Parameters": {"key.$": "$.key", "done": true}, "End": true}}}`,
		map[string]Function{"await": tokenFunction(tokens)})
	failing := newExecutor(t, single(`{"Type": "Fail", "Error": "Broken", "Cause": "on purpose"}`), nil)
	unavailable := newExecutor(t, single(lambdaTask("fn", `, "End": true`)), map[string]Function{"fn": failWith(&Unavailable{})})

	running := startExecution(t, e, "running", `{"key": "r"}`)
	receive(t, tokens)
	succeeded := startExecution(t, e, "succeeded", `{"key": "s"}`)
	token := receive(t, tokens).Token
	if _, err := e.SendTaskSuccess(context.Background(), &sfn.SendTaskSuccessInput{TaskToken: aws.String(token), Output: aws.String(`{"key": "s"}`)}); err != nil {
		t.Fatal(err)
	}
	finished(t, succeeded)
	failed := startExecution(t, failing, "failed", `{"key": "f"}`)
	finished(t, failed)
	functionFailed := startExecution(t, unavailable, "function-failed", ``)
	finished(t, functionFailed)

	tests := []struct {
		name        string
		e           *Executor
		x           *Execution
		wantStatus  types.ExecutionStatus
		wantInput   string
		wantOutput  string // "" for none
		wantError   string // "" for none
		wantCause   string
		anyCause    bool // the cause is only required to be there
		wantMachine string
	}{
		{name: "running", e: e, x: running, wantStatus: types.ExecutionStatusRunning, wantInput: `{"key": "r"}`},
		{name: "succeeded", e: e, x: succeeded, wantStatus: types.ExecutionStatusSucceeded, wantInput: `{"key": "s"}`, wantOutput: `{"key": "s", "done": true}`},
		{name: "failed", e: failing, x: failed, wantStatus: types.ExecutionStatusFailed, wantInput: `{"key": "f"}`, wantError: "Broken", wantCause: "on purpose"},
		{name: "a function failed", e: unavailable, x: functionFailed, wantStatus: types.ExecutionStatusFailed, wantInput: `{}`, wantError: "Unavailable", anyCause: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := describe(t, tt.e, tt.x.ARN())
			if out.Status != tt.wantStatus {
				t.Errorf("Status = %s, want %s", out.Status, tt.wantStatus)
			}
			if got := aws.ToString(out.Name); got != tt.x.Name() {
				t.Errorf("Name = %q, want %q", got, tt.x.Name())
			}
			if got := aws.ToString(out.ExecutionArn); got != tt.x.ARN() {
				t.Errorf("ExecutionArn = %q, want %q", got, tt.x.ARN())
			}
			if got := aws.ToString(out.StateMachineArn); got != tt.e.StateMachineARN() {
				t.Errorf("StateMachineArn = %q, want %q", got, tt.e.StateMachineARN())
			}
			if out.StartDate == nil || out.StartDate.Before(before) || out.StartDate.After(time.Now()) {
				t.Errorf("StartDate = %v, want the time the execution started", out.StartDate)
			}
			if out.Input == nil {
				t.Fatal("Input = nil, want the execution's input")
			}
			assertJSON(t, tt.wantInput, []byte(*out.Input))
			if tt.wantOutput == "" && out.Output != nil {
				t.Errorf("Output = %q, want none", *out.Output)
			}
			if tt.wantOutput != "" {
				if out.Output == nil {
					t.Fatal("Output = nil, want the execution's output")
				}
				assertJSON(t, tt.wantOutput, []byte(*out.Output))
			}
			if got := aws.ToString(out.Error); got != tt.wantError {
				t.Errorf("Error = %q, want %q", got, tt.wantError)
			}
			switch got := aws.ToString(out.Cause); {
			case tt.anyCause && got == "":
				t.Error("Cause is empty, want Lambda's error payload")
			case !tt.anyCause && got != tt.wantCause:
				t.Errorf("Cause = %q, want %q", got, tt.wantCause)
			}
			if tt.wantError == "" && (out.Error != nil || out.Cause != nil) {
				t.Errorf("Error, Cause = %v, %v; want none outside FAILED", out.Error, out.Cause)
			}
		})
	}

	t.Run("aborted", func(t *testing.T) {
		if err := e.Close(); err != nil {
			t.Fatal(err)
		}
		out := describe(t, e, running.ARN())
		if out.Status != types.ExecutionStatusAborted {
			t.Errorf("Status = %s, want ABORTED", out.Status)
		}
		if out.Output != nil || out.Error != nil {
			t.Errorf("Output, Error = %v, %v; want none", out.Output, out.Error)
		}
		if got := aws.ToString(out.Input); got != `{"key": "r"}` {
			t.Errorf("Input = %q, want the execution's", got)
		}
	})
}

func TestDescribeExecutionDoesNotExist(t *testing.T) {
	e := newExecutor(t, single(`{"Type": "Succeed"}`), nil)
	x := startExecution(t, e, "run", `{}`)
	finished(t, x)
	if x.ARN() != "arn:aws:states:local:000000000000:execution:local:run" {
		t.Fatalf("ARN = %q, want the default state machine's execution ARN", x.ARN())
	}
	for name, arn := range map[string]string{
		"unknown execution":                      "arn:aws:states:local:000000000000:execution:local:other",
		"another state machine, same name":       "arn:aws:states:local:000000000000:execution:other:run",
		"a state machine named with ours prefix": "arn:aws:states:local:000000000000:execution:local-2:run",
		"another account":                        "arn:aws:states:local:111111111111:execution:local:run",
		"another region":                         "arn:aws:states:eu-west-1:000000000000:execution:local:run",
		"the state machine's own ARN":            e.StateMachineARN(),
		"the state machine's ARN and the name":   e.StateMachineARN() + ":run",
		"a bare name":                            "run",
		"a name after the prefix":                "arn:aws:states:local:000000000000:execution:local:run:extra",
		"the prefix alone":                       "arn:aws:states:local:000000000000:execution:local:",
		"empty":                                  "",
	} {
		t.Run(name, func(t *testing.T) {
			out, err := e.DescribeExecution(context.Background(), &sfn.DescribeExecutionInput{ExecutionArn: aws.String(arn)})
			var missing *types.ExecutionDoesNotExist
			if !errors.As(err, &missing) {
				t.Fatalf("DescribeExecution(%q) = %+v, %v; want ExecutionDoesNotExist", arn, out, err)
			}
		})
	}
	t.Run("another executor's execution", func(t *testing.T) {
		m, err := Load([]byte(single(`{"Type": "Succeed"}`)), nil)
		if err != nil {
			t.Fatal(err)
		}
		other, err := New(m, nil, WithStateMachineARN("arn:aws:states:local:000000000000:stateMachine:other"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = other.Close() })
		y := startExecution(t, other, "run", `{}`) // the same name as x
		finished(t, y)
		_, err = e.DescribeExecution(context.Background(), &sfn.DescribeExecutionInput{ExecutionArn: aws.String(y.ARN())})
		var missing *types.ExecutionDoesNotExist
		if !errors.As(err, &missing) {
			t.Errorf("describing %s on the other executor: error = %v, want ExecutionDoesNotExist", y.ARN(), err)
		}
		if got := describe(t, other, y.ARN()); aws.ToString(got.StateMachineArn) != other.StateMachineARN() {
			t.Errorf("StateMachineArn = %q, want %q", aws.ToString(got.StateMachineArn), other.StateMachineARN())
		}
	})
}

func TestOnExecutionEnd(t *testing.T) {
	type end struct {
		name      string
		status    types.ExecutionStatus
		described types.ExecutionStatus // what DescribeExecution says while the callback runs
	}
	var (
		mu   sync.Mutex
		ends []end
		e    *Executor
	)
	endsSoFar := make(chan struct{}, 10)
	m, err := Load([]byte(single(callbackTask(`, "End": true`))), nil)
	if err != nil {
		t.Fatal(err)
	}
	tokens := make(chan issued, 3)
	e, err = New(m, map[string]Function{"await": tokenFunction(tokens)}, OnExecutionEnd(func(name string, status types.ExecutionStatus) {
		out, err := e.DescribeExecution(context.Background(), &sfn.DescribeExecutionInput{ExecutionArn: aws.String(executionARN(e, name))})
		var described types.ExecutionStatus
		if err == nil {
			described = out.Status
		}
		mu.Lock()
		ends = append(ends, end{name, status, described})
		mu.Unlock()
		endsSoFar <- struct{}{}
	}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Close() })
	ctx := context.Background()

	ok := startExecution(t, e, "ok", `{"key": "ok"}`)
	okToken := receive(t, tokens).Token
	bad := startExecution(t, e, "bad", `{"key": "bad"}`)
	badToken := receive(t, tokens).Token
	open := startExecution(t, e, "open", `{"key": "open"}`)
	receive(t, tokens)
	startExecution(t, e, "open", `{"key": "open"}`) // the same execution: no second end

	if _, err := e.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String(okToken), Output: aws.String(`{}`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.SendTaskFailure(ctx, &sfn.SendTaskFailureInput{TaskToken: aws.String(badToken), Error: aws.String("Broken"), Cause: aws.String("on purpose")}); err != nil {
		t.Fatal(err)
	}
	finished(t, ok)
	finished(t, bad)
	// Both ends are told while the executor runs on, not only when it closes.
	receive(t, endsSoFar)
	receive(t, endsSoFar)
	mu.Lock()
	if len(ends) != 2 {
		t.Errorf("ends before Close = %+v, want ok's and bad's", ends)
	}
	mu.Unlock()
	if r := open.Result(); r.Status != types.ExecutionStatusRunning {
		t.Fatalf("open: status = %s, want RUNNING", r.Status)
	}

	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	// Close waits for the callbacks.
	mu.Lock()
	defer mu.Unlock()
	want := map[string]types.ExecutionStatus{
		"ok":   types.ExecutionStatusSucceeded,
		"bad":  types.ExecutionStatusFailed,
		"open": types.ExecutionStatusAborted,
	}
	calls := map[string]int{}
	for _, got := range ends {
		calls[got.name]++
		if got.status != want[got.name] {
			t.Errorf("%s ended %s, want %s", got.name, got.status, want[got.name])
		}
		if got.described != got.status {
			t.Errorf("%s: DescribeExecution in the callback said %q, want the final status %s", got.name, got.described, got.status)
		}
	}
	for name := range want {
		if calls[name] != 1 {
			t.Errorf("%s: OnExecutionEnd called %d times, want once", name, calls[name])
		}
	}
	if len(ends) != len(want) {
		t.Errorf("ends = %+v, want one per execution", ends)
	}
}

// executionARN is the ARN of e's execution called name.
func executionARN(e *Executor, name string) string {
	x, ok := e.Execution(name)
	if !ok {
		return ""
	}
	return x.ARN()
}
