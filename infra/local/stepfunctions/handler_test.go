package stepfunctions

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/aws/smithy-go"
	smithytime "github.com/aws/smithy-go/time"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/servicecontacts/servicecontacts/infra/local/asl"
)

// waitLimit bounds every wait, so that a broken handler fails the test instead of hanging it.
const waitLimit = 10 * time.Second

// machine waits for one callback: its function hands the task token to the test.
const machine = `{"StartAt": "Wait", "States": {"Wait": {"Type": "Task",
	"Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
	"Parameters": {"FunctionName": "await", "Payload": {"token.$": "$$.Task.Token"}}, "End": true}}}`

// serve runs the handler for a new executor on an httptest server (127.0.0.1) and returns
// the SDK's client for it and the tokens the executor's task hands out.
func serve(t *testing.T) (*asl.Executor, *sfn.Client, <-chan string) {
	t.Helper()
	m, err := asl.Load([]byte(machine), nil)
	if err != nil {
		t.Fatal(err)
	}
	tokens := make(chan string, 10)
	e, err := asl.New(m, map[string]asl.Function{"await": func(_ context.Context, payload json.RawMessage) (json.RawMessage, error) {
		var p struct{ Token string }
		if err := json.Unmarshal(payload, &p); err != nil {
			return nil, err
		}
		tokens <- p.Token
		return json.RawMessage(`{}`), nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Close() })
	srv := httptest.NewServer(New(e, nil))
	t.Cleanup(srv.Close)
	return e, client(srv.URL), tokens
}

func client(url string) *sfn.Client {
	return sfn.New(sfn.Options{
		BaseEndpoint: aws.String(url),
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
		Retryer:      aws.NopRetryer{}, // a 500 is asserted, not retried
	})
}

func receive(t *testing.T, ch <-chan string) string {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(waitLimit):
		t.Fatal("nothing received")
		return ""
	}
}

// wire is a time as it comes back from the JSON protocol: to the millisecond.
func wire(t time.Time) time.Time {
	return smithytime.ParseEpochSeconds(smithytime.FormatEpochSeconds(t))
}

func finished(t *testing.T, e *asl.Executor, name string) {
	t.Helper()
	x, ok := e.Execution(name)
	if !ok {
		t.Fatalf("no execution %q", name)
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	if _, err := x.Wait(ctx); err != nil {
		t.Fatalf("execution %s did not finish: %v", name, err)
	}
}

func TestOperations(t *testing.T) {
	e, c, tokens := serve(t)
	ctx := context.Background()
	arn := func(name string) string {
		return strings.Replace(e.StateMachineARN(), ":stateMachine:", ":execution:", 1) + ":" + name
	}

	// Start, describe running, succeed, describe succeeded.
	started, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(e.StateMachineARN()), Name: aws.String("ok"), Input: aws.String(`{"key":"ok"}`)})
	if err != nil {
		t.Fatalf("StartExecution: %v", err)
	}
	if got := aws.ToString(started.ExecutionArn); got != arn("ok") {
		t.Errorf("ExecutionArn = %q, want %q", got, arn("ok"))
	}
	okToken := receive(t, tokens)
	running, err := c.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: started.ExecutionArn})
	if err != nil {
		t.Fatalf("DescribeExecution: %v", err)
	}
	if running.Status != types.ExecutionStatusRunning || running.StopDate != nil || aws.ToString(running.Input) != `{"key":"ok"}` {
		t.Errorf("running: Status, StopDate, Input = %s, %v, %q; want RUNNING, none, the input", running.Status, running.StopDate, aws.ToString(running.Input))
	}
	if _, err := c.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String(okToken), Output: aws.String(`{"done":true}`)}); err != nil {
		t.Fatalf("SendTaskSuccess: %v", err)
	}
	finished(t, e, "ok")

	// Fail one, stop another.
	if _, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(e.StateMachineARN()), Name: aws.String("bad")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.SendTaskFailure(ctx, &sfn.SendTaskFailureInput{TaskToken: aws.String(receive(t, tokens)), Error: aws.String("Refused"), Cause: aws.String("said no")}); err != nil {
		t.Fatalf("SendTaskFailure: %v", err)
	}
	finished(t, e, "bad")
	if _, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(e.StateMachineARN()), Name: aws.String("stop")}); err != nil {
		t.Fatal(err)
	}
	receive(t, tokens)
	stopped, err := c.StopExecution(ctx, &sfn.StopExecutionInput{ExecutionArn: aws.String(arn("stop")), Error: aws.String("Withdrawn"), Cause: aws.String("by the test")})
	if err != nil {
		t.Fatalf("StopExecution: %v", err)
	}

	tests := []struct {
		name         string
		want         sfn.DescribeExecutionOutput
		wantStopDate *time.Time
		wantStopped  bool
	}{
		{name: "ok", want: sfn.DescribeExecutionOutput{Status: types.ExecutionStatusSucceeded, Input: aws.String(`{"key":"ok"}`), Output: aws.String(`{"done":true}`)}},
		{name: "bad", want: sfn.DescribeExecutionOutput{Status: types.ExecutionStatusFailed, Input: aws.String(`{}`), Error: aws.String("Refused"), Cause: aws.String("said no")}},
		{name: "stop", want: sfn.DescribeExecutionOutput{Status: types.ExecutionStatusAborted, Input: aws.String(`{}`)}, wantStopDate: stopped.StopDate},
	}
	for _, tt := range tests {
		t.Run("describe "+tt.name, func(t *testing.T) {
			got, err := c.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(arn(tt.name))})
			if err != nil {
				t.Fatalf("DescribeExecution: %v", err)
			}
			local, err := e.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(arn(tt.name))})
			if err != nil {
				t.Fatal(err)
			}
			if got.Status != tt.want.Status || aws.ToString(got.Name) != tt.name || aws.ToString(got.ExecutionArn) != arn(tt.name) || aws.ToString(got.StateMachineArn) != e.StateMachineARN() {
				t.Errorf("Status, Name, ExecutionArn, StateMachineArn = %s, %q, %q, %q", got.Status, aws.ToString(got.Name), aws.ToString(got.ExecutionArn), aws.ToString(got.StateMachineArn))
			}
			for member, pair := range map[string][2]*string{
				"input": {got.Input, tt.want.Input}, "output": {got.Output, tt.want.Output},
				"error": {got.Error, tt.want.Error}, "cause": {got.Cause, tt.want.Cause},
			} {
				if (pair[0] == nil) != (pair[1] == nil) || aws.ToString(pair[0]) != aws.ToString(pair[1]) {
					t.Errorf("%s = %v, want %v", member, aws.ToString(pair[0]), aws.ToString(pair[1]))
				}
			}
			if !aws.ToTime(got.StartDate).Equal(wire(aws.ToTime(local.StartDate))) {
				t.Errorf("startDate = %v, want %v", got.StartDate, local.StartDate)
			}
			if got.StopDate == nil || !got.StopDate.Equal(wire(aws.ToTime(local.StopDate))) {
				t.Errorf("stopDate = %v, want %v", got.StopDate, local.StopDate)
			}
			if tt.wantStopDate != nil && !got.StopDate.Equal(*tt.wantStopDate) {
				t.Errorf("stopDate = %v, want StopExecution's %v", got.StopDate, tt.wantStopDate)
			}
		})
	}
	if started.StartDate == nil || running.StartDate == nil || !started.StartDate.Equal(*running.StartDate) {
		t.Errorf("StartExecution startDate = %v, want DescribeExecution's %v", started.StartDate, running.StartDate)
	}
}

func TestOperationErrors(t *testing.T) {
	e, c, tokens := serve(t)
	ctx := context.Background()
	machine := aws.String(e.StateMachineARN())
	if _, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: machine, Name: aws.String("closed")}); err != nil {
		t.Fatal(err)
	}
	used := receive(t, tokens)
	if _, err := c.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String(used), Output: aws.String(`{}`)}); err != nil {
		t.Fatal(err)
	}
	finished(t, e, "closed")
	closedExecutor, closedClient, _ := serve(t)
	if err := closedExecutor.Close(); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name       string
		call       func() error
		wantCode   string
		wantStatus int
		wantType   any // the SDK's error type, when it has one
	}{
		{
			name: "StartExecution, other state machine", wantCode: "StateMachineDoesNotExist", wantStatus: 400, wantType: new(*types.StateMachineDoesNotExist),
			call: func() error {
				_, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String("arn:aws:states:us-east-1:123456789012:stateMachine:other")})
				return err
			},
		},
		{
			name: "StartExecution, invalid name", wantCode: "InvalidName", wantStatus: 400, wantType: new(*types.InvalidName),
			call: func() error {
				_, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: machine, Name: aws.String("a/b")})
				return err
			},
		},
		{
			name: "StartExecution, closed execution", wantCode: "ExecutionAlreadyExists", wantStatus: 400, wantType: new(*types.ExecutionAlreadyExists),
			call: func() error {
				_, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: machine, Name: aws.String("closed")})
				return err
			},
		},
		{
			name: "StartExecution, invalid input", wantCode: "InvalidExecutionInput", wantStatus: 400, wantType: new(*types.InvalidExecutionInput),
			call: func() error {
				_, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: machine, Input: aws.String(`{"open":`)})
				return err
			},
		},
		{
			name: "StartExecution, executor closed", wantCode: "InternalFailure", wantStatus: 500,
			call: func() error {
				_, err := closedClient.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(closedExecutor.StateMachineARN())})
				return err
			},
		},
		{
			name: "DescribeExecution, unknown", wantCode: "ExecutionDoesNotExist", wantStatus: 400, wantType: new(*types.ExecutionDoesNotExist),
			call: func() error {
				_, err := c.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String("arn:aws:states:us-east-1:123456789012:execution:other:x")})
				return err
			},
		},
		{
			name: "StopExecution, unknown", wantCode: "ExecutionDoesNotExist", wantStatus: 400, wantType: new(*types.ExecutionDoesNotExist),
			call: func() error {
				_, err := c.StopExecution(ctx, &sfn.StopExecutionInput{ExecutionArn: aws.String("arn:aws:states:us-east-1:123456789012:execution:other:x")})
				return err
			},
		},
		{
			name: "SendTaskSuccess, forged token", wantCode: "InvalidToken", wantStatus: 400, wantType: new(*types.InvalidToken),
			call: func() error {
				_, err := c.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String("forged"), Output: aws.String(`{}`)})
				return err
			},
		},
		{
			name: "SendTaskSuccess, closed task", wantCode: "TaskTimedOut", wantStatus: 400, wantType: new(*types.TaskTimedOut),
			call: func() error {
				_, err := c.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String(used), Output: aws.String(`{}`)})
				return err
			},
		},
		{
			name: "SendTaskSuccess, invalid output", wantCode: "InvalidOutput", wantStatus: 400, wantType: new(*types.InvalidOutput),
			call: func() error {
				_, err := c.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String(used), Output: aws.String(`{not json`)})
				return err
			},
		},
		{
			name: "SendTaskFailure, forged token", wantCode: "InvalidToken", wantStatus: 400, wantType: new(*types.InvalidToken),
			call: func() error {
				_, err := c.SendTaskFailure(ctx, &sfn.SendTaskFailureInput{TaskToken: aws.String("forged")})
				return err
			},
		},
		{
			name: "SendTaskFailure, closed task", wantCode: "TaskTimedOut", wantStatus: 400, wantType: new(*types.TaskTimedOut),
			call: func() error {
				_, err := c.SendTaskFailure(ctx, &sfn.SendTaskFailureInput{TaskToken: aws.String(used), Error: aws.String("E")})
				return err
			},
		},
		{
			name: "an operation not served", wantCode: "UnknownOperationException", wantStatus: 400,
			call: func() error {
				_, err := c.ListExecutions(ctx, &sfn.ListExecutionsInput{StateMachineArn: machine})
				return err
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			var api smithy.APIError
			if !errors.As(err, &api) || api.ErrorCode() != tt.wantCode {
				t.Fatalf("error = %v, want the API error %s", err, tt.wantCode)
			}
			if tt.wantType != nil && !errors.As(err, tt.wantType) {
				t.Errorf("error = %T, want %T", err, tt.wantType)
			}
			var resp *smithyhttp.ResponseError
			if !errors.As(err, &resp) || resp.HTTPStatusCode() != tt.wantStatus {
				t.Errorf("error = %v, want HTTP status %d", err, tt.wantStatus)
			}
		})
	}
}

// TestProtocolErrors sends what the SDK never sends.
func TestProtocolErrors(t *testing.T) {
	e, _, _ := serve(t)
	srv := httptest.NewServer(New(e, nil))
	t.Cleanup(srv.Close)
	tests := []struct {
		name, method, path, target, body string
		wantStatus                       int
		wantCode                         string
	}{
		{name: "malformed JSON", target: "AWSStepFunctions.StartExecution", body: `{"name": `, wantStatus: 400, wantCode: "SerializationException"},
		{name: "a member of the wrong type", target: "AWSStepFunctions.DescribeExecution", body: `{"executionArn": 5}`, wantStatus: 400, wantCode: "SerializationException"},
		{name: "not an object", target: "AWSStepFunctions.SendTaskSuccess", body: `[]`, wantStatus: 400, wantCode: "SerializationException"},
		{name: "unknown operation", target: "AWSStepFunctions.DeleteStateMachine", body: `{}`, wantStatus: 400, wantCode: "UnknownOperationException"},
		{name: "another service's target", target: "DynamoDB_20120810.GetItem", body: `{}`, wantStatus: 400, wantCode: "UnknownOperationException"},
		{name: "no target", body: `{}`, wantStatus: 400, wantCode: "UnknownOperationException"},
		{name: "GET", method: http.MethodGet, target: "AWSStepFunctions.DescribeExecution", wantStatus: 400, wantCode: "UnknownOperationException"},
		{name: "another path", path: "/other", target: "AWSStepFunctions.DescribeExecution", body: `{}`, wantStatus: 400, wantCode: "UnknownOperationException"},
		{name: "empty body: no members", target: "AWSStepFunctions.DescribeExecution", wantStatus: 400, wantCode: "ExecutionDoesNotExist"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method := tt.method
			if method == "" {
				method = http.MethodPost
			}
			req, err := http.NewRequest(method, srv.URL+tt.path, strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", contentType)
			if tt.target != "" {
				req.Header.Set("X-Amz-Target", tt.target)
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body map[string]any
			if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
				t.Fatalf("error body: %v", err)
			}
			if resp.StatusCode != tt.wantStatus || body["__type"] != tt.wantCode {
				t.Errorf("status %d, body %v; want %d with __type %s", resp.StatusCode, body, tt.wantStatus, tt.wantCode)
			}
			if _, ok := body["message"].(string); !ok || len(body) != 2 {
				t.Errorf("body = %v, want __type and message only", body)
			}
			if got := resp.Header.Get("Content-Type"); got != contentType {
				t.Errorf("Content-Type = %q, want %q", got, contentType)
			}
		})
	}
}
