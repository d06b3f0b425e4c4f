// Package step holds the handlers of the small functions the contact-change state machine
// calls: registering a party's callback task, applying a change, finishing a request on its
// refused, cancelled or expired path.
package step

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"

	"github.com/servicecontacts/servicecontacts/shared/contact"
)

// Steps are the use cases the state machine and the reconciler drive; *contact.Manager
// implements them.
type Steps interface {
	RegisterTask(ctx context.Context, id, nic, taskToken string) error
	RegisterPartyTask(ctx context.Context, id string, party int, nic, taskToken string) error
	ApplyKnowing(ctx context.Context, id string, ahead contact.Ahead) (contact.Change, error)
	Finish(ctx context.Context, id string, outcome contact.State) (contact.Change, error)
	Reconcile(ctx context.Context, id string) (contact.Change, error)
	Sweep(ctx context.Context) (int, error)
}

var _ Steps = (*contact.Manager)(nil)

// AwaitInput is the payload of the callback task that waits for one party.
type AwaitInput struct {
	RequestID string `json:"requestId"`
	NIC       string `json:"nic"`
	// Party is the index of NIC in the execution input's parties, which lists them in the
	// request's order; absent from the payloads of executions started before it was added.
	Party     *int   `json:"party,omitempty"`
	TaskToken string `json:"taskToken"`
}

// ApplyInput is the payload of the apply step.
type ApplyInput struct {
	RequestID string `json:"requestId"`
	// Execution is the execution's input (workflow.Input), which names the service and
	// the accounts to read with the request; an execution started before it did has none.
	Execution struct {
		ServiceID string   `json:"serviceId"`
		Accounts  []string `json:"accounts"`
	} `json:"execution"`
}

// FinishInput is the payload of the finish steps.
type FinishInput struct {
	RequestID string `json:"requestId"`
	Outcome   string `json:"outcome"`
}

// Result is what the apply and finish steps return to the state machine: the request's
// state, never a token or an address.
type Result struct {
	State string `json:"state"`
}

// Handler serves the steps and the reconciler.
type Handler struct {
	steps Steps
	log   *slog.Logger
}

// New returns the steps' handler.
func New(steps Steps, log *slog.Logger) *Handler {
	if log == nil {
		log = slog.Default()
	}
	return &Handler{steps: steps, log: log}
}

// Await registers the party's callback token. The state machine then waits until the
// party's decision answers it.
func (h *Handler) Await(ctx context.Context, in AwaitInput) (Result, error) {
	if in.RequestID == "" || in.NIC == "" || in.TaskToken == "" {
		return Result{}, &Invalid{Err: errors.New("await: requestId, nic and taskToken are required")}
	}
	register := func() error { return h.steps.RegisterTask(ctx, in.RequestID, in.NIC, in.TaskToken) }
	if in.Party != nil && *in.Party >= 0 {
		register = func() error { return h.steps.RegisterPartyTask(ctx, in.RequestID, *in.Party, in.NIC, in.TaskToken) }
	}
	if err := register(); err != nil {
		return Result{}, h.named(ctx, "await", in.RequestID, err)
	}
	h.log.InfoContext(ctx, "awaiting party", "changeId", in.RequestID, "party", in.NIC)
	return Result{}, nil
}

// Apply applies a change every party accepted.
func (h *Handler) Apply(ctx context.Context, in ApplyInput) (Result, error) {
	if in.RequestID == "" {
		return Result{}, &Invalid{Err: errors.New("apply: requestId is required")}
	}
	c, err := h.steps.ApplyKnowing(ctx, in.RequestID, contact.Ahead{ServiceID: in.Execution.ServiceID, Accounts: in.Execution.Accounts})
	if err != nil {
		return Result{}, h.named(ctx, "apply", in.RequestID, err)
	}
	h.log.InfoContext(ctx, "request applied", "changeId", c.ID, "state", c.State)
	return Result{State: string(c.State)}, nil
}

// Finish ends a request that was refused, cancelled, not confirmed in time, or whose
// workflow could not go on.
func (h *Handler) Finish(ctx context.Context, in FinishInput) (Result, error) {
	outcome := contact.State(in.Outcome)
	if in.RequestID == "" || (outcome != contact.Refused && outcome != contact.Cancelled && outcome != contact.Expired && outcome != contact.Failed) {
		return Result{}, &Invalid{Err: fmt.Errorf("finish: need a requestId and an outcome of refused, cancelled, expired or failed, got %q", in.Outcome)}
	}
	c, err := h.steps.Finish(ctx, in.RequestID, outcome)
	if err != nil {
		return Result{}, h.named(ctx, "finish", in.RequestID, err)
	}
	h.log.InfoContext(ctx, "request finished", "changeId", c.ID, "state", c.State)
	return Result{State: string(c.State)}, nil
}

// named logs a step's error and gives it the type whose name the state machine matches.
func (h *Handler) named(ctx context.Context, step, id string, err error) error {
	h.log.ErrorContext(ctx, step+" failed", "changeId", id, "err", err)
	return named(err)
}

// ExecutionEvent is the part of EventBridge's "Step Functions Execution Status Change" event
// the reconciler reads. The execution's name is the request's id.
type ExecutionEvent struct {
	DetailType string `json:"detail-type"`
	Detail     struct {
		Name   string `json:"name"`
		Status string `json:"status"`
	} `json:"detail"`
}

// Reconcile serves the reconciler's two triggers: an execution that ended otherwise than
// by succeeding (an EventBridge rule on the state machine's status changes) reconciles
// that request; anything else (the EventBridge Scheduler's schedule) sweeps every request
// that is due.
func (h *Handler) Reconcile(ctx context.Context, raw json.RawMessage) (SweepResult, error) {
	var ev ExecutionEvent
	if err := json.Unmarshal(raw, &ev); err == nil && ev.DetailType == executionStatusChange {
		if ev.Detail.Name == "" {
			return SweepResult{}, &Invalid{Err: errors.New("reconcile: the execution event names no execution")}
		}
		c, err := h.steps.Reconcile(ctx, ev.Detail.Name)
		if err != nil {
			return SweepResult{}, h.named(ctx, "reconcile", ev.Detail.Name, err)
		}
		h.log.InfoContext(ctx, "request reconciled", "changeId", ev.Detail.Name, "execution", ev.Detail.Status, "state", c.State)
		return SweepResult{Reconciled: 1}, nil
	}
	n, err := h.steps.Sweep(ctx)
	if err != nil {
		h.log.ErrorContext(ctx, "sweep failed", "reconciled", n, "err", err)
		return SweepResult{Reconciled: n}, named(err)
	}
	if n > 0 { // a sweep that found nothing due is not news
		h.log.InfoContext(ctx, "swept", "reconciled", n)
	}
	return SweepResult{Reconciled: n}, nil
}

// executionStatusChange is the detail-type of Step Functions' execution events.
const executionStatusChange = "Step Functions Execution Status Change"

// SweepResult says how many requests the reconciler looked at.
type SweepResult struct {
	Reconciled int `json:"reconciled"`
}
