package asl

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
)

func TestStopExecution(t *testing.T) {
	tokens := make(chan issued, 10)
	ends := make(chan types.ExecutionStatus, 10)
	m, err := Load([]byte(`{"StartAt": "Route", "States": {
		"Route": {"Type": "Pass", "Next": "Wait"},
		"Wait": `+callbackTask(`, "Next": "Done"`)+`,
		"Done": {"Type": "Succeed"}}}`), nil)
	if err != nil {
		t.Fatal(err)
	}
	// A function that keeps failing, retried after a delay the stop interrupts.
	retrying := `{"StartAt": "S", "States": {"S": ` + lambdaTask("fn", `, "End": true,
		"Retry": [{"ErrorEquals": ["Unavailable"], "IntervalSeconds": 3600, "MaxAttempts": 3}]`) + `}}`
	e, err := New(m, map[string]Function{"await": tokenFunction(tokens)},
		OnExecutionEnd(func(_ string, status types.ExecutionStatus) { ends <- status }))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Close() })
	sleeper := newExecutor(t, retrying, map[string]Function{"fn": failWith(&Unavailable{})})

	tests := []struct {
		name         string
		e            *Executor
		start        func(t *testing.T) (x *Execution, token string)
		error, cause *string
		wantStatus   types.ExecutionStatus
		wantEvent    lastEvent
	}{
		{
			name: "waiting for a token, with error and cause",
			e:    e,
			start: func(t *testing.T) (*Execution, string) {
				x := startExecution(t, e, "waiting", `{"key": "w"}`)
				return x, receive(t, tokens).Token
			},
			error: aws.String("Withdrawn"), cause: aws.String("the request was withdrawn"),
			wantStatus: types.ExecutionStatusAborted,
			wantEvent:  lastEvent{Type: types.HistoryEventTypeExecutionAborted, Error: "Withdrawn", Cause: "the request was withdrawn"},
		},
		{
			name: "waiting for a token, no error or cause",
			e:    e,
			start: func(t *testing.T) (*Execution, string) {
				x := startExecution(t, e, "bare", `{"key": "b"}`)
				return x, receive(t, tokens).Token
			},
			wantStatus: types.ExecutionStatusAborted,
			wantEvent:  lastEvent{Type: types.HistoryEventTypeExecutionAborted},
		},
		{
			name: "waiting to retry",
			e:    sleeper,
			start: func(t *testing.T) (*Execution, string) {
				return startExecution(t, sleeper, "sleeping", `{}`), ""
			},
			error:      aws.String("E"),
			wantStatus: types.ExecutionStatusAborted,
			wantEvent:  lastEvent{Type: types.HistoryEventTypeExecutionAborted, Error: "E"},
		},
		{
			name: "already succeeded: unchanged, no error",
			e:    e,
			start: func(t *testing.T) (*Execution, string) {
				x := startExecution(t, e, "done", `{"key": "d"}`)
				token := receive(t, tokens).Token
				if _, err := e.SendTaskSuccess(context.Background(), &sfn.SendTaskSuccessInput{TaskToken: aws.String(token), Output: aws.String(`{}`)}); err != nil {
					t.Fatal(err)
				}
				finished(t, x)
				return x, ""
			},
			error:      aws.String("Late"),
			wantStatus: types.ExecutionStatusSucceeded,
			wantEvent:  lastEvent{Type: types.HistoryEventTypeExecutionSucceeded},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x, token := tt.start(t)
			before := time.Now()
			ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
			defer cancel()
			out, err := tt.e.StopExecution(ctx, &sfn.StopExecutionInput{ExecutionArn: aws.String(x.ARN()), Error: tt.error, Cause: tt.cause})
			if err != nil {
				t.Fatalf("StopExecution: %v", err)
			}
			// Stopped means ended: no wait after StopExecution returns.
			if r := x.Result(); r.Status != tt.wantStatus {
				t.Fatalf("status = %s, want %s", r.Status, tt.wantStatus)
			}
			described := describe(t, tt.e, x.ARN())
			if out.StopDate == nil || described.StopDate == nil || !out.StopDate.Equal(*described.StopDate) {
				t.Errorf("StopDate = %v, DescribeExecution's = %v; want the same date", out.StopDate, described.StopDate)
			}
			if tt.wantStatus == types.ExecutionStatusAborted && out.StopDate != nil && out.StopDate.Before(before) {
				t.Errorf("StopDate = %v, before the stop at %v", out.StopDate, before)
			}
			if described.Error != nil || described.Cause != nil {
				t.Errorf("DescribeExecution Error, Cause = %v, %v; want none outside FAILED", described.Error, described.Cause)
			}
			history := x.History()
			last := history[len(history)-1]
			if got := (lastEvent{Type: last.Type, Error: last.Error, Cause: last.Cause}); got != tt.wantEvent {
				t.Errorf("last event = %+v, want %+v", got, tt.wantEvent)
			}
			if token != "" {
				_, err := tt.e.SendTaskSuccess(context.Background(), &sfn.SendTaskSuccessInput{TaskToken: aws.String(token), Output: aws.String(`{}`)})
				var timedOut *types.TaskTimedOut
				if !errors.As(err, &timedOut) {
					t.Errorf("SendTaskSuccess after the stop: error = %v, want TaskTimedOut", err)
				}
			}
			again, err := tt.e.StopExecution(ctx, &sfn.StopExecutionInput{ExecutionArn: aws.String(x.ARN())})
			if err != nil {
				t.Fatalf("stopping again: %v", err)
			}
			if !again.StopDate.Equal(*out.StopDate) {
				t.Errorf("stopping again: StopDate = %v, want the first %v", again.StopDate, out.StopDate)
			}
		})
	}

	// Each execution of e ended once, with the status it was stopped in.
	want := map[types.ExecutionStatus]int{types.ExecutionStatusAborted: 2, types.ExecutionStatusSucceeded: 1}
	got := map[types.ExecutionStatus]int{}
	for range 3 {
		got[receive(t, ends)]++
	}
	for status, n := range want {
		if got[status] != n {
			t.Errorf("OnExecutionEnd told %d %s, want %d", got[status], status, n)
		}
	}
}

// lastEvent is what an execution's last event tells of its end.
type lastEvent struct {
	Type         types.HistoryEventType
	Error, Cause string
}

func TestStopExecutionDoesNotExist(t *testing.T) {
	e := newExecutor(t, single(`{"Type": "Succeed"}`), nil)
	for name, arn := range map[string]string{
		"unknown execution": "arn:aws:states:local:000000000000:execution:local:other",
		"another machine":   "arn:aws:states:local:000000000000:execution:other:run",
		"the machine's ARN": e.StateMachineARN(),
		"empty":             "",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := e.StopExecution(context.Background(), &sfn.StopExecutionInput{ExecutionArn: aws.String(arn)})
			var missing *types.ExecutionDoesNotExist
			if !errors.As(err, &missing) {
				t.Fatalf("StopExecution(%q): error = %v, want ExecutionDoesNotExist", arn, err)
			}
		})
	}
}
