package asl

import (
	"context"
	"encoding/json"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
)

// Execution is one run of the state machine.
type Execution struct {
	arn, name string
	input     json.RawMessage
	started   time.Time
	done      chan struct{}
	// stop cancels the execution's run; StopExecution's cause is a *stopRequest.
	stop context.CancelCauseFunc

	mu      sync.Mutex
	result  Result
	stopped time.Time // when it ended
	history []Event
}

// Result is an execution's outcome so far.
type Result struct {
	Status types.ExecutionStatus
	Output json.RawMessage // when SUCCEEDED
	Error  string          // when FAILED
	Cause  string
}

// Event is one entry of an execution's history, shaped after Step Functions' history
// events: which event, for which state, with the data it carried.
type Event struct {
	ID        int64
	Type      types.HistoryEventType
	Timestamp time.Time
	State     string          // the state the event belongs to, when it belongs to one
	Index     int             // the iteration, for MapIteration* events
	Input     json.RawMessage // ExecutionStarted, *StateEntered; TaskScheduled: the task's parameters
	Output    json.RawMessage // ExecutionSucceeded, *StateExited, TaskSubmitted, TaskSucceeded
	Error     string          // ExecutionFailed, ExecutionAborted (StopExecution's), TaskFailed, TaskTimedOut, MapIterationFailed
	Cause     string
}

func newExecution(arn, name string, input json.RawMessage) *Execution {
	return &Execution{
		arn:     arn,
		name:    name,
		input:   input,
		started: time.Now(),
		done:    make(chan struct{}),
		result:  Result{Status: types.ExecutionStatusRunning},
	}
}

// ARN returns the execution's ARN ($$.Execution.Id).
func (x *Execution) ARN() string { return x.arn }

// Name returns the execution's name.
func (x *Execution) Name() string { return x.name }

// Wait waits until the execution ends, or ctx is done.
func (x *Execution) Wait(ctx context.Context) (Result, error) {
	select {
	case <-x.done:
		return x.Result(), nil
	case <-ctx.Done():
		return Result{}, ctx.Err()
	}
}

// Result returns the execution's outcome, with Status RUNNING while it runs.
func (x *Execution) Result() Result {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.result
}

// History returns a copy of the events recorded so far, oldest first.
func (x *Execution) History() []Event {
	x.mu.Lock()
	defer x.mu.Unlock()
	return slices.Clone(x.history)
}

func (x *Execution) record(e Event) {
	x.mu.Lock()
	defer x.mu.Unlock()
	e.ID = int64(len(x.history) + 1)
	e.Timestamp = time.Now()
	x.history = append(x.history, e)
}

func (x *Execution) finish(r Result, e Event) {
	x.record(e)
	x.mu.Lock()
	x.result = r
	x.stopped = x.history[len(x.history)-1].Timestamp
	x.mu.Unlock()
	close(x.done)
}

// stopDate is when the execution ended; zero while it runs.
func (x *Execution) stopDate() time.Time {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.stopped
}

func (x *Execution) running() bool {
	select {
	case <-x.done:
		return false
	default:
		return true
	}
}
