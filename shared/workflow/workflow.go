// Package workflow is the Step Functions adapter: it starts one execution of the
// contact-change state machine per request and answers its callback tasks. The local stack
// runs this same code against an in-process executor of the same definition.
package workflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/servicecontacts/servicecontacts/shared/contact"
)

// API is the part of the Step Functions service this adapter calls, with the SDK's
// signatures, so that *sfn.Client and the local executor both fit.
type API interface {
	StartExecution(ctx context.Context, in *sfn.StartExecutionInput, opts ...func(*sfn.Options)) (*sfn.StartExecutionOutput, error)
	SendTaskSuccess(ctx context.Context, in *sfn.SendTaskSuccessInput, opts ...func(*sfn.Options)) (*sfn.SendTaskSuccessOutput, error)
	SendTaskFailure(ctx context.Context, in *sfn.SendTaskFailureInput, opts ...func(*sfn.Options)) (*sfn.SendTaskFailureOutput, error)
	DescribeExecution(ctx context.Context, in *sfn.DescribeExecutionInput, opts ...func(*sfn.Options)) (*sfn.DescribeExecutionOutput, error)
}

// Error names the state machine's Catch clauses match (see infra/statemachine).
const (
	ErrorRefused   = "Refused"
	ErrorCancelled = "Cancelled"
)

// Input is the execution input. It carries no confirmation token and no email address:
// execution input and history are readable by anyone who can read the state machine.
type Input struct {
	RequestID      string   `json:"requestId"`
	Parties        []string `json:"parties"`
	TimeoutSeconds int64    `json:"timeoutSeconds"`
	// The service and the accounts the apply step reads (contact.Ahead): the state machine
	// hands it the execution's input, and it reads them with the request in one call.
	ServiceID string   `json:"serviceId"`
	Accounts  []string `json:"accounts"`
}

// Client implements contact.Workflow on Step Functions.
type Client struct {
	api             API
	stateMachineARN string
	now             contact.Clock
}

var _ contact.Workflow = (*Client)(nil)

// New returns a client for the state machine with the given ARN.
func New(api API, stateMachineARN string, now contact.Clock) *Client {
	if now == nil {
		now = time.Now
	}
	return &Client{api: api, stateMachineARN: stateMachineARN, now: now}
}

// Start starts the execution named after the request, so that a retried start cannot run
// the workflow twice.
func (c *Client) Start(ctx context.Context, ch contact.Change) error {
	in := Input{RequestID: ch.ID, TimeoutSeconds: secondsUntil(c.now(), ch.ExpiresAt), ServiceID: ch.ServiceID, Accounts: ch.ApplyAccounts()}
	for _, p := range ch.Parties {
		in.Parties = append(in.Parties, p.NIC)
	}
	body, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("encode execution input for %s: %w", ch.ID, err)
	}
	_, err = c.api.StartExecution(ctx, &sfn.StartExecutionInput{
		StateMachineArn: aws.String(c.stateMachineARN),
		Name:            aws.String(ch.ID),
		Input:           aws.String(string(body)),
	})
	var exists *types.ExecutionAlreadyExists
	if errors.As(err, &exists) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("start workflow for %s: %w", ch.ID, err)
	}
	return nil
}

// Continue completes the party's callback task.
func (c *Client) Continue(ctx context.Context, taskToken string) error {
	_, err := c.api.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{
		TaskToken: aws.String(taskToken),
		Output:    aws.String(`{"decision":"accepted"}`),
	})
	return closedIsDone("continue workflow task", err)
}

// Stop fails the party's callback task with the error the state machine catches.
func (c *Client) Stop(ctx context.Context, taskToken string, reason contact.State) error {
	name := ErrorCancelled
	if reason == contact.Refused {
		name = ErrorRefused
	}
	_, err := c.api.SendTaskFailure(ctx, &sfn.SendTaskFailureInput{
		TaskToken: aws.String(taskToken),
		Error:     aws.String(name),
		Cause:     aws.String("the contact-change request was " + string(reason)),
	})
	return closedIsDone("stop workflow task", err)
}

// Status describes the execution named after the request. Its ARN follows from the state
// machine's: arn:...:execution:<state machine name>:<execution name>.
func (c *Client) Status(ctx context.Context, ch contact.Change) (contact.WorkflowStatus, error) {
	out, err := c.api.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(ExecutionARN(c.stateMachineARN, ch.ID))})
	var missing *types.ExecutionDoesNotExist
	if errors.As(err, &missing) {
		return contact.WorkflowMissing, nil
	}
	if err != nil {
		return "", fmt.Errorf("describe workflow of %s: %w", ch.ID, err)
	}
	switch out.Status {
	case types.ExecutionStatusRunning, types.ExecutionStatusPendingRedrive:
		return contact.WorkflowRunning, nil
	case types.ExecutionStatusSucceeded:
		return contact.WorkflowSucceeded, nil
	}
	return contact.WorkflowStopped, nil // FAILED, TIMED_OUT, ABORTED
}

// ExecutionARN is the ARN of the execution called name of the state machine stateMachineARN.
func ExecutionARN(stateMachineARN, name string) string {
	return strings.Replace(stateMachineARN, ":stateMachine:", ":execution:", 1) + ":" + name
}

// closedIsDone treats a task that is already closed as answered: both the confirmation and
// the task registration may answer the same task when they race, and the second answer
// finds it closed (TaskTimedOut) or gone with its execution (TaskDoesNotExist).
func closedIsDone(what string, err error) error {
	var timedOut *types.TaskTimedOut
	var missing *types.TaskDoesNotExist
	if err == nil || errors.As(err, &timedOut) || errors.As(err, &missing) {
		return nil
	}
	return fmt.Errorf("%s: %w", what, err)
}

// secondsUntil is the callback tasks' timeout: the time left before the request expires,
// at least one second.
func secondsUntil(now, t time.Time) int64 {
	s := math.Ceil(t.Sub(now).Seconds())
	if s < 1 {
		return 1
	}
	return int64(s)
}
