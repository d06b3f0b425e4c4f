package workflow_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/servicecontacts/servicecontacts/infra/local/asl"
	"github.com/servicecontacts/servicecontacts/infra/statemachine"
	"github.com/servicecontacts/servicecontacts/shared/contact"
	"github.com/servicecontacts/servicecontacts/shared/step"
	"github.com/servicecontacts/servicecontacts/shared/workflow"
)

const (
	stateMachineARN = "arn:aws:states:eu-west-1:123456789012:stateMachine:contact-change"
	functionARN     = "arn:aws:lambda:eu-west-1:123456789012:function:contact-change-"
	waitLimit       = 10 * time.Second
)

// lambdas play the state machine's three functions.
type lambdas struct {
	tokens    chan string // the Await calls' task tokens
	awaitErr  error       // Await's error, when set
	finishErr error       // Finish's error, when set
}

func (l *lambdas) functions() map[string]asl.Function {
	return map[string]asl.Function{
		functionARN + "await": func(_ context.Context, payload json.RawMessage) (json.RawMessage, error) {
			if l.awaitErr != nil {
				return nil, l.awaitErr
			}
			var in step.AwaitInput
			if err := json.Unmarshal(payload, &in); err != nil {
				return nil, err
			}
			l.tokens <- in.TaskToken
			return json.RawMessage(`{}`), nil
		},
		functionARN + "apply": func(context.Context, json.RawMessage) (json.RawMessage, error) {
			return json.RawMessage(`{"state":"done"}`), nil
		},
		functionARN + "finish": func(_ context.Context, payload json.RawMessage) (json.RawMessage, error) {
			if l.finishErr != nil {
				return nil, l.finishErr
			}
			var in step.FinishInput
			if err := json.Unmarshal(payload, &in); err != nil {
				return nil, err
			}
			return json.Marshal(step.Result{State: in.Outcome})
		},
	}
}

// newExecutor runs the contact-change definition in-process, with l's functions.
func newExecutor(t *testing.T, l *lambdas) *asl.Executor {
	t.Helper()
	m, err := asl.Load(statemachine.Definition, map[string]string{
		"Partition":         "aws",
		"AwaitFunctionArn":  functionARN + "await",
		"ApplyFunctionArn":  functionARN + "apply",
		"FinishFunctionArn": functionARN + "finish",
	})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	e, err := asl.New(m, l.functions(), asl.WithStateMachineARN(stateMachineARN),
		asl.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = e.Close() })
	return e
}

func change(id string) contact.Change {
	return contact.Change{ID: id, Parties: []contact.Party{{NIC: "aa1-ovh"}}, ExpiresAt: time.Now().Add(time.Hour)}
}

func receive(t *testing.T, ch <-chan string) string {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(waitLimit):
		t.Fatal("no task token received")
		return ""
	}
}

// ended waits for the execution named id to end and returns its status.
func ended(t *testing.T, e *asl.Executor, id string) types.ExecutionStatus {
	t.Helper()
	x, ok := e.Execution(id)
	if !ok {
		t.Fatalf("no execution %s", id)
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	r, err := x.Wait(ctx)
	if err != nil {
		t.Fatalf("execution %s did not end: %v; history: %+v", id, err, x.History())
	}
	return r.Status
}

func TestStatusOnTheExecutor(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		l    *lambdas
		// drive starts the request's workflow, or not, and takes it where the case needs.
		drive         func(t *testing.T, c *workflow.Client, e *asl.Executor, l *lambdas, ch contact.Change)
		wantExecution types.ExecutionStatus // "" when no execution exists
		want          contact.WorkflowStatus
		clientARN     string // the client's state machine ARN, when not the executor's
	}{
		{
			name: "running",
			l:    &lambdas{},
			drive: func(t *testing.T, c *workflow.Client, _ *asl.Executor, l *lambdas, ch contact.Change) {
				mustNot(t, c.Start(ctx, ch))
				receive(t, l.tokens) // waiting for the party
			},
			wantExecution: types.ExecutionStatusRunning,
			want:          contact.WorkflowRunning,
		},
		{
			name: "succeeded",
			l:    &lambdas{},
			drive: func(t *testing.T, c *workflow.Client, e *asl.Executor, l *lambdas, ch contact.Change) {
				mustNot(t, c.Start(ctx, ch))
				mustNot(t, c.Continue(ctx, receive(t, l.tokens)))
				ended(t, e, ch.ID)
			},
			wantExecution: types.ExecutionStatusSucceeded,
			want:          contact.WorkflowSucceeded,
		},
		{
			name: "refused: the execution still succeeds, on its refused path",
			l:    &lambdas{},
			drive: func(t *testing.T, c *workflow.Client, e *asl.Executor, l *lambdas, ch contact.Change) {
				mustNot(t, c.Start(ctx, ch))
				mustNot(t, c.Stop(ctx, receive(t, l.tokens), contact.Refused))
				ended(t, e, ch.ID)
			},
			wantExecution: types.ExecutionStatusSucceeded,
			want:          contact.WorkflowSucceeded,
		},
		{
			name: "failed",
			// Await fails, the Map's catch runs FinishFailed, which fails too: nothing
			// catches it.
			l: &lambdas{awaitErr: &step.Failed{Err: errors.New("await broke")}, finishErr: &step.Failed{Err: errors.New("finish broke")}},
			drive: func(t *testing.T, c *workflow.Client, e *asl.Executor, _ *lambdas, ch contact.Change) {
				mustNot(t, c.Start(ctx, ch))
				ended(t, e, ch.ID)
			},
			wantExecution: types.ExecutionStatusFailed,
			want:          contact.WorkflowStopped,
		},
		{
			name: "aborted",
			l:    &lambdas{},
			drive: func(t *testing.T, c *workflow.Client, e *asl.Executor, l *lambdas, ch contact.Change) {
				mustNot(t, c.Start(ctx, ch))
				receive(t, l.tokens)
				mustNot(t, e.Close())
			},
			wantExecution: types.ExecutionStatusAborted,
			want:          contact.WorkflowStopped,
		},
		{
			name:  "never started",
			l:     &lambdas{},
			drive: func(*testing.T, *workflow.Client, *asl.Executor, *lambdas, contact.Change) {},
			want:  contact.WorkflowMissing,
		},
		{
			name: "another request's execution",
			l:    &lambdas{},
			drive: func(t *testing.T, c *workflow.Client, _ *asl.Executor, l *lambdas, _ contact.Change) {
				mustNot(t, c.Start(ctx, change("req-other")))
				receive(t, l.tokens)
			},
			want: contact.WorkflowMissing,
		},
		{
			name:      "the same name under another state machine",
			l:         &lambdas{},
			clientARN: "arn:aws:states:eu-west-1:123456789012:stateMachine:contact-change-staging",
			drive: func(t *testing.T, _ *workflow.Client, e *asl.Executor, l *lambdas, ch contact.Change) {
				mustNot(t, workflow.New(e, stateMachineARN, nil).Start(ctx, ch))
				receive(t, l.tokens)
			},
			want: contact.WorkflowMissing,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.l.tokens = make(chan string, 2)
			e := newExecutor(t, tt.l)
			arn := stateMachineARN
			if tt.clientARN != "" {
				arn = tt.clientARN
			}
			c := workflow.New(e, arn, nil)
			ch := change("req-1")
			tt.drive(t, c, e, tt.l, ch)

			x, ok := e.Execution(ch.ID)
			switch {
			case tt.wantExecution == "" && ok && tt.clientARN == "":
				t.Fatalf("an execution %s exists, want none", ch.ID)
			case tt.wantExecution != "" && !ok:
				t.Fatal("no execution named after the request")
			case tt.wantExecution != "" && x.Result().Status != tt.wantExecution:
				t.Fatalf("execution status = %s (%+v), want %s", x.Result().Status, x.Result(), tt.wantExecution)
			}
			got, err := c.Status(ctx, ch)
			if err != nil {
				t.Fatalf("Status error = %v, want none", err)
			}
			if got != tt.want {
				t.Errorf("Status = %q, want %q", got, tt.want)
			}
		})
	}
}

// describer is a Step Functions API that answers DescribeExecution only.
type describer struct {
	workflow.API // nil: the other calls panic
	arns         []string
	out          *sfn.DescribeExecutionOutput
	err          error
}

func (d *describer) DescribeExecution(_ context.Context, in *sfn.DescribeExecutionInput, _ ...func(*sfn.Options)) (*sfn.DescribeExecutionOutput, error) {
	d.arns = append(d.arns, aws.ToString(in.ExecutionArn))
	return d.out, d.err
}

// TestStatusOfEveryExecutionStatus covers the statuses the local executor never reaches.
func TestStatusOfEveryExecutionStatus(t *testing.T) {
	want := map[types.ExecutionStatus]contact.WorkflowStatus{
		types.ExecutionStatusRunning:        contact.WorkflowRunning,
		types.ExecutionStatusPendingRedrive: contact.WorkflowRunning,
		types.ExecutionStatusSucceeded:      contact.WorkflowSucceeded,
		types.ExecutionStatusFailed:         contact.WorkflowStopped,
		types.ExecutionStatusTimedOut:       contact.WorkflowStopped,
		types.ExecutionStatusAborted:        contact.WorkflowStopped,
	}
	for _, s := range types.ExecutionStatus("").Values() {
		if _, ok := want[s]; !ok {
			t.Errorf("execution status %s has no expected workflow status here", s)
		}
	}
	for status, w := range want {
		t.Run(string(status), func(t *testing.T) {
			api := &describer{out: &sfn.DescribeExecutionOutput{Status: status}}
			got, err := workflow.New(api, stateMachineARN, nil).Status(context.Background(), change("req-1"))
			if err != nil {
				t.Fatal(err)
			}
			if got != w {
				t.Errorf("Status = %q, want %q", got, w)
			}
			if len(api.arns) != 1 || api.arns[0] != workflow.ExecutionARN(stateMachineARN, "req-1") {
				t.Errorf("described %q, want the request's execution ARN", api.arns)
			}
		})
	}
}

func TestStatusErrors(t *testing.T) {
	ctx := context.Background()
	t.Run("does not exist", func(t *testing.T) {
		api := &describer{err: &types.ExecutionDoesNotExist{Message: aws.String("Execution Does Not Exist")}}
		got, err := workflow.New(api, stateMachineARN, nil).Status(ctx, change("req-1"))
		if err != nil || got != contact.WorkflowMissing {
			t.Errorf("Status = %q, %v; want missing", got, err)
		}
	})
	t.Run("another error", func(t *testing.T) {
		cause := &types.InvalidArn{Message: aws.String("boom")}
		api := &describer{err: cause}
		got, err := workflow.New(api, stateMachineARN, nil).Status(ctx, change("req-1"))
		if !errors.Is(err, cause) || got != "" {
			t.Errorf("Status = %q, %v; want no status and an error wrapping %v", got, err, cause)
		}
	})
}

func TestExecutionARN(t *testing.T) {
	tests := []struct {
		machine, name, want string
	}{
		{
			machine: "arn:aws:states:eu-west-1:123456789012:stateMachine:contact-change",
			name:    "req-1",
			want:    "arn:aws:states:eu-west-1:123456789012:execution:contact-change:req-1",
		},
		{
			machine: "arn:aws-cn:states:cn-north-1:123456789012:stateMachine:contact-change",
			name:    "01HQ7Z3K2M",
			want:    "arn:aws-cn:states:cn-north-1:123456789012:execution:contact-change:01HQ7Z3K2M",
		},
		{
			// Only the resource type changes, not a name that happens to spell it.
			machine: "arn:aws:states:eu-west-1:123456789012:stateMachine:stateMachine",
			name:    "stateMachine",
			want:    "arn:aws:states:eu-west-1:123456789012:execution:stateMachine:stateMachine",
		},
		{
			machine: asl.DefaultStateMachineARN,
			name:    "x",
			want:    "arn:aws:states:local:000000000000:execution:local:x",
		},
	}
	for _, tt := range tests {
		if got := workflow.ExecutionARN(tt.machine, tt.name); got != tt.want {
			t.Errorf("ExecutionARN(%q, %q) = %q, want %q", tt.machine, tt.name, got, tt.want)
		}
	}

	// The executor derives the same ARN when it starts the execution.
	l := &lambdas{tokens: make(chan string, 1)}
	e := newExecutor(t, l)
	out, err := e.StartExecution(context.Background(), &sfn.StartExecutionInput{
		StateMachineArn: aws.String(stateMachineARN), Name: aws.String("req-1"),
		Input: aws.String(`{"requestId":"req-1","parties":["aa1-ovh"],"timeoutSeconds":3600}`),
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := aws.ToString(out.ExecutionArn), workflow.ExecutionARN(stateMachineARN, "req-1"); got != want {
		t.Errorf("the executor's execution ARN = %q, ExecutionARN = %q", got, want)
	}
}

func mustNot(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
