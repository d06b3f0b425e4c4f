package asl

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
)

func TestNewNeedsEveryFunction(t *testing.T) {
	m, err := Load([]byte(single(lambdaTask("missing", `, "End": true`))), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := New(m, map[string]Function{"other": echo}); err == nil || !strings.Contains(err.Error(), `"missing"`) {
		t.Errorf("New error = %v, want one naming the missing function", err)
	}
}

func TestStartExecution(t *testing.T) {
	// The callback task keeps the first execution running.
	tokens := make(chan issued, 10)
	e := newExecutor(t, single(callbackTask(`, "End": true`)), map[string]Function{"await": tokenFunction(tokens)})
	running := startExecution(t, e, "running", `{"key": "a"}`)
	receive(t, tokens)
	closed := startExecution(t, e, "closed", `{"key": "b"}`)
	token := receive(t, tokens).Token
	if _, err := e.SendTaskSuccess(context.Background(), &sfn.SendTaskSuccessInput{TaskToken: aws.String(token), Output: aws.String(`{}`)}); err != nil {
		t.Fatal(err)
	}
	finished(t, closed)

	tests := []struct {
		name, machine, execution, input string
		wantARN                         string
		wantErr                         any
	}{
		{name: "running, same input: idempotent", execution: "running", input: `{"key": "a"}`, wantARN: running.ARN()},
		{name: "running, other input", execution: "running", input: `{"key": "other"}`, wantErr: new(*types.ExecutionAlreadyExists)},
		{name: "closed, same input", execution: "closed", input: `{"key": "b"}`, wantErr: new(*types.ExecutionAlreadyExists)},
		{name: "other state machine", machine: "arn:aws:states:local:000000000000:stateMachine:other", execution: "x", input: `{}`, wantErr: new(*types.StateMachineDoesNotExist)},
		{name: "invalid name", execution: "a/b", input: `{}`, wantErr: new(*types.InvalidName)},
		{name: "invalid input", execution: "x", input: `{"open": `, wantErr: new(*types.InvalidExecutionInput)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			machine := tt.machine
			if machine == "" {
				machine = e.StateMachineARN()
			}
			out, err := e.StartExecution(context.Background(), &sfn.StartExecutionInput{
				StateMachineArn: aws.String(machine), Name: aws.String(tt.execution), Input: aws.String(tt.input),
			})
			if tt.wantErr != nil {
				if !errors.As(err, tt.wantErr) {
					t.Fatalf("error = %v, want %T", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := aws.ToString(out.ExecutionArn); got != tt.wantARN {
				t.Errorf("ExecutionArn = %q, want %q", got, tt.wantARN)
			}
		})
	}
	if !strings.HasSuffix(running.ARN(), ":execution:local:running") {
		t.Errorf("execution ARN = %q, want it derived from the state machine ARN", running.ARN())
	}
}

func TestSendTaskErrors(t *testing.T) {
	tokens := make(chan issued, 1)
	e := newExecutor(t, single(callbackTask(`, "End": true`)), map[string]Function{"await": tokenFunction(tokens)})
	x := startExecution(t, e, "run", `{"key": "k"}`)
	token := receive(t, tokens).Token

	tests := []struct {
		name    string
		send    func() error
		wantErr any
	}{
		{
			name: "unknown token",
			send: func() error {
				_, err := e.SendTaskSuccess(context.Background(), &sfn.SendTaskSuccessInput{TaskToken: aws.String("forged"), Output: aws.String(`{}`)})
				return err
			},
			wantErr: new(*types.InvalidToken),
		},
		{
			name: "unknown token, failure",
			send: func() error {
				_, err := e.SendTaskFailure(context.Background(), &sfn.SendTaskFailureInput{TaskToken: aws.String("forged"), Error: aws.String("E")})
				return err
			},
			wantErr: new(*types.InvalidToken),
		},
		{
			name: "invalid output",
			send: func() error {
				_, err := e.SendTaskSuccess(context.Background(), &sfn.SendTaskSuccessInput{TaskToken: aws.String(token), Output: aws.String(`{not json`)})
				return err
			},
			wantErr: new(*types.InvalidOutput),
		},
		{
			name: "first answer",
			send: func() error {
				_, err := e.SendTaskSuccess(context.Background(), &sfn.SendTaskSuccessInput{TaskToken: aws.String(token), Output: aws.String(`{}`)})
				return err
			},
		},
		{
			name: "second answer",
			send: func() error {
				_, err := e.SendTaskFailure(context.Background(), &sfn.SendTaskFailureInput{TaskToken: aws.String(token), Error: aws.String("E")})
				return err
			},
			wantErr: new(*types.TaskTimedOut),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.send()
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("error = %v, want none", err)
				}
				return
			}
			if !errors.As(err, tt.wantErr) {
				t.Fatalf("error = %v, want %T", err, tt.wantErr)
			}
		})
	}
	if r := finished(t, x); r.Status != types.ExecutionStatusSucceeded {
		t.Errorf("status = %s, want SUCCEEDED from the first answer", r.Status)
	}
}

func TestCloseAbortsRunningExecutions(t *testing.T) {
	tokens := make(chan issued, 1)
	m, err := Load([]byte(single(callbackTask(`, "End": true`))), nil)
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(m, map[string]Function{"await": tokenFunction(tokens)})
	if err != nil {
		t.Fatal(err)
	}
	x := startExecution(t, e, "run", `{"key": "k"}`)
	token := receive(t, tokens).Token
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if r := finished(t, x); r.Status != types.ExecutionStatusAborted {
		t.Errorf("status = %s, want ABORTED", r.Status)
	}
	_, err = e.SendTaskSuccess(context.Background(), &sfn.SendTaskSuccessInput{TaskToken: aws.String(token), Output: aws.String(`{}`)})
	var timedOut *types.TaskTimedOut
	if !errors.As(err, &timedOut) {
		t.Errorf("SendTaskSuccess after Close: error = %v, want TaskTimedOut", err)
	}
	if _, err := e.StartExecution(context.Background(), &sfn.StartExecutionInput{StateMachineArn: aws.String(e.StateMachineARN())}); err == nil {
		t.Error("StartExecution after Close succeeded, want an error")
	}
}
