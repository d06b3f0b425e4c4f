// Package step holds the handlers of the small functions the contact-change state machine
// calls: registering a party's callback task, applying a change, finishing a request on its
// refused, cancelled or expired path.
package step

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/servicecontacts/servicecontacts/shared/contact"
)

// Steps are the use cases the state machine drives; *contact.Manager implements them.
type Steps interface {
	RegisterTask(ctx context.Context, id, nic, taskToken string) error
	Apply(ctx context.Context, id string) (contact.Change, error)
	Finish(ctx context.Context, id string, outcome contact.State) (contact.Change, error)
}

// AwaitInput is the payload of the callback task that waits for one party.
type AwaitInput struct {
	RequestID string `json:"requestId"`
	NIC       string `json:"nic"`
	TaskToken string `json:"taskToken"`
}

// ApplyInput is the payload of the apply step.
type ApplyInput struct {
	RequestID string `json:"requestId"`
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

// Unavailable reports a passing fault (throttling, an unreachable service). Its type name is
// the error name the state machine sees, and its Retry clauses retry on it.
type Unavailable struct{ Err error }

func (e *Unavailable) Error() string { return e.Err.Error() }
func (e *Unavailable) Unwrap() error { return e.Err }

// Invalid reports a payload the step cannot act on; retrying would not help.
type Invalid struct{ Err error }

func (e *Invalid) Error() string { return e.Err.Error() }
func (e *Invalid) Unwrap() error { return e.Err }

// Handler serves the three steps.
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
	if err := h.steps.RegisterTask(ctx, in.RequestID, in.NIC, in.TaskToken); err != nil {
		return Result{}, h.named(ctx, "await", in.RequestID, err)
	}
	h.log.InfoContext(ctx, "awaiting party", "request", in.RequestID, "party", in.NIC)
	return Result{}, nil
}

// Apply applies a change every party accepted.
func (h *Handler) Apply(ctx context.Context, in ApplyInput) (Result, error) {
	if in.RequestID == "" {
		return Result{}, &Invalid{Err: errors.New("apply: requestId is required")}
	}
	c, err := h.steps.Apply(ctx, in.RequestID)
	if err != nil {
		return Result{}, h.named(ctx, "apply", in.RequestID, err)
	}
	h.log.InfoContext(ctx, "request applied", "request", c.ID, "state", c.State)
	return Result{State: string(c.State)}, nil
}

// Finish ends a request that was refused, cancelled or not confirmed in time.
func (h *Handler) Finish(ctx context.Context, in FinishInput) (Result, error) {
	outcome := contact.State(in.Outcome)
	if in.RequestID == "" || (outcome != contact.Refused && outcome != contact.Cancelled && outcome != contact.Expired) {
		return Result{}, &Invalid{Err: fmt.Errorf("finish: need a requestId and an outcome of refused, cancelled or expired, got %q", in.Outcome)}
	}
	c, err := h.steps.Finish(ctx, in.RequestID, outcome)
	if err != nil {
		return Result{}, h.named(ctx, "finish", in.RequestID, err)
	}
	h.log.InfoContext(ctx, "request finished", "request", c.ID, "state", c.State)
	return Result{State: string(c.State)}, nil
}

// named gives an error the type whose name the state machine's Retry matches.
func (h *Handler) named(ctx context.Context, step, id string, err error) error {
	h.log.ErrorContext(ctx, step+" failed", "request", id, "err", err)
	if errors.Is(err, contact.ErrUnavailable) {
		return &Unavailable{Err: err}
	}
	return err
}
