package asl

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/google/go-cmp/cmp"

	"github.com/servicecontacts/servicecontacts/shared/contact"
	"github.com/servicecontacts/servicecontacts/shared/workflow"
)

const (
	awaitARN  = "arn:aws:lambda:eu-west-1:123456789012:function:await"
	applyARN  = "arn:aws:lambda:eu-west-1:123456789012:function:apply"
	finishARN = "arn:aws:lambda:eu-west-1:123456789012:function:finish"
)

// contactChange plays the three workflow Lambdas of the contact-change state machine.
type contactChange struct {
	client *workflow.Client
	tokens chan issued // by NIC handle
	// answerInside makes Await accept with its own token before returning.
	answerInside bool
	// applyFailures is how many Apply calls fail with Unavailable before one succeeds.
	applyFailures int

	mu       sync.Mutex
	applied  int
	outcomes []string
}

func (c *contactChange) functions() map[string]Function {
	return map[string]Function{
		awaitARN: func(ctx context.Context, payload json.RawMessage) (json.RawMessage, error) {
			var in struct{ RequestID, NIC, TaskToken string }
			if err := json.Unmarshal(payload, &in); err != nil {
				return nil, err
			}
			if c.answerInside {
				if err := c.client.Continue(ctx, in.TaskToken); err != nil {
					return nil, err
				}
			}
			c.tokens <- issued{Key: in.NIC, Token: in.TaskToken}
			return json.RawMessage(`{}`), nil
		},
		applyARN: func(context.Context, json.RawMessage) (json.RawMessage, error) {
			c.mu.Lock()
			defer c.mu.Unlock()
			c.applied++
			if c.applied <= c.applyFailures {
				return nil, &Unavailable{}
			}
			return json.RawMessage(`{"state": "done"}`), nil
		},
		finishARN: func(_ context.Context, payload json.RawMessage) (json.RawMessage, error) {
			var in struct{ Outcome string }
			if err := json.Unmarshal(payload, &in); err != nil {
				return nil, err
			}
			c.mu.Lock()
			defer c.mu.Unlock()
			c.outcomes = append(c.outcomes, in.Outcome)
			return json.RawMessage(`{"state": "` + in.Outcome + `"}`), nil
		},
	}
}

func loadContactChange(t *testing.T) *Machine {
	t.Helper()
	definition, err := os.ReadFile("../../statemachine/contact-change.asl.json")
	if err != nil {
		t.Fatal(err)
	}
	m, err := Load(definition, map[string]string{
		"Partition":         "aws",
		"AwaitFunctionArn":  awaitARN,
		"ApplyFunctionArn":  applyARN,
		"FinishFunctionArn": finishARN,
	})
	if err != nil {
		t.Fatalf("Load the contact-change definition: %v", err)
	}
	return m
}

func TestContactChangeStateMachine(t *testing.T) {
	t.Parallel() // its cases wait on timers and retry delays; they wait together
	ctx := context.Background()
	tests := []struct {
		name          string
		expiresIn     time.Duration
		answerInside  bool
		applyFailures int
		// answer answers the parties' tasks, given their tokens by NIC handle.
		answer       func(t *testing.T, c *workflow.Client, e *Executor, tokens map[string]string)
		wantApplied  int
		wantOutcomes []string
		wantState    string
	}{
		{
			name:      "both parties accept",
			expiresIn: time.Hour,
			answer: func(t *testing.T, c *workflow.Client, _ *Executor, tokens map[string]string) {
				mustNot(t, c.Continue(ctx, tokens["aa1-ovh"]))
				mustNot(t, c.Continue(ctx, tokens["bb2-ovh"]))
			},
			wantApplied: 1,
			wantState:   "done",
		},
		{
			name:      "one party refuses",
			expiresIn: time.Hour,
			answer: func(t *testing.T, c *workflow.Client, _ *Executor, tokens map[string]string) {
				mustNot(t, c.Continue(ctx, tokens["aa1-ovh"]))
				mustNot(t, c.Stop(ctx, tokens["bb2-ovh"], contact.Refused))
			},
			wantOutcomes: []string{"refused"},
			wantState:    "refused",
		},
		{
			name:      "requester cancels",
			expiresIn: time.Hour,
			answer: func(t *testing.T, c *workflow.Client, _ *Executor, tokens map[string]string) {
				mustNot(t, c.Stop(ctx, tokens["aa1-ovh"], contact.Cancelled))
				// The other party's task closed with the Map state; the adapter takes
				// the TaskTimedOut answer as done.
				mustNot(t, c.Stop(ctx, tokens["bb2-ovh"], contact.Cancelled))
			},
			wantOutcomes: []string{"cancelled"},
			wantState:    "cancelled",
		},
		{
			name:         "nobody answers in time",
			expiresIn:    0, // the adapter's minimum timeout: one second
			answer:       func(*testing.T, *workflow.Client, *Executor, map[string]string) {},
			wantOutcomes: []string{"expired"},
			wantState:    "expired",
		},
		{
			name:         "parties accept before their Await function returns",
			expiresIn:    time.Hour,
			answerInside: true,
			answer:       func(*testing.T, *workflow.Client, *Executor, map[string]string) {},
			wantApplied:  1,
			wantState:    "done",
		},
		{
			name:      "a second answer on the same token",
			expiresIn: time.Hour,
			answer: func(t *testing.T, c *workflow.Client, e *Executor, tokens map[string]string) {
				mustNot(t, c.Continue(ctx, tokens["aa1-ovh"]))
				_, err := e.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String(tokens["aa1-ovh"]), Output: aws.String(`{}`)})
				var timedOut *types.TaskTimedOut
				if !errors.As(err, &timedOut) {
					t.Errorf("second SendTaskSuccess: error = %v, want TaskTimedOut", err)
				}
				mustNot(t, c.Continue(ctx, tokens["bb2-ovh"]))
			},
			wantApplied: 1,
			wantState:   "done",
		},
		{
			name:          "Apply unavailable once is retried",
			expiresIn:     time.Hour,
			applyFailures: 1,
			answer: func(t *testing.T, c *workflow.Client, _ *Executor, tokens map[string]string) {
				mustNot(t, c.Continue(ctx, tokens["aa1-ovh"]))
				mustNot(t, c.Continue(ctx, tokens["bb2-ovh"]))
			},
			wantApplied: 2,
			wantState:   "done",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			lambdas := &contactChange{tokens: make(chan issued, 2), answerInside: tt.answerInside, applyFailures: tt.applyFailures}
			e, err := New(loadContactChange(t), lambdas.functions())
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = e.Close() })
			lambdas.client = workflow.New(e, e.StateMachineARN(), nil)

			change := contact.Change{
				ID:        "req-1",
				Parties:   []contact.Party{{NIC: "aa1-ovh"}, {NIC: "bb2-ovh"}},
				ExpiresAt: time.Now().Add(tt.expiresIn),
			}
			mustNot(t, lambdas.client.Start(ctx, change))
			mustNot(t, lambdas.client.Start(ctx, change)) // a retried start is a no-op
			x, ok := e.Execution("req-1")
			if !ok {
				t.Fatal("no execution named after the request")
			}
			tokens := map[string]string{}
			for range 2 {
				got := receive(t, lambdas.tokens)
				tokens[got.Key] = got.Token
			}
			tt.answer(t, lambdas.client, e, tokens)

			r := finished(t, x)
			if r.Status != types.ExecutionStatusSucceeded {
				t.Fatalf("status = %s (%s: %s), want SUCCEEDED", r.Status, r.Error, r.Cause)
			}
			var output struct {
				RequestID string `json:"requestId"`
				Result    struct{ State string }
			}
			if err := json.Unmarshal(r.Output, &output); err != nil {
				t.Fatal(err)
			}
			if output.RequestID != "req-1" || output.Result.State != tt.wantState {
				t.Errorf("output = %s, want requestId req-1 and result.state %q", r.Output, tt.wantState)
			}
			lambdas.mu.Lock()
			defer lambdas.mu.Unlock()
			if lambdas.applied != tt.wantApplied {
				t.Errorf("Apply called %d times, want %d", lambdas.applied, tt.wantApplied)
			}
			if diff := cmp.Diff(tt.wantOutcomes, lambdas.outcomes); diff != "" {
				t.Errorf("Finish outcomes (-want +got):\n%s", diff)
			}
			assertNoEmailAddress(t, x)
		})
	}
}

// assertNoEmailAddress checks the execution's input, output and history for the
// addresses the parties' accounts would have; the execution must carry NIC handles only.
func assertNoEmailAddress(t *testing.T, x *Execution) {
	t.Helper()
	history, err := json.Marshal(x.History())
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(history), "@") {
		t.Errorf("execution history holds an email address: %s", history)
	}
}

func mustNot(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
