package asl

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/servicecontacts/servicecontacts/shared/workflow"
)

// Function is a Lambda function's handler as a Task state invokes it: the payload in, the
// function's JSON result out. A returned error fails the task; its name is the error's
// type name, as aws-lambda-go reports it.
type Function func(ctx context.Context, payload json.RawMessage) (json.RawMessage, error)

// DefaultStateMachineARN is the state machine ARN an Executor answers to unless
// WithStateMachineARN sets another.
const DefaultStateMachineARN = "arn:aws:states:local:000000000000:stateMachine:local"

// Executor runs executions of one state machine in-process. It implements the part of the
// Step Functions API that package workflow calls, and StopExecution.
type Executor struct {
	machine   *Machine
	functions map[string]Function
	arn       string
	log       *slog.Logger
	onEnd     func(name string, status types.ExecutionStatus)

	// root is the parent of every execution's context; Close cancels it.
	root context.Context
	stop context.CancelFunc
	wg   sync.WaitGroup

	mu         sync.Mutex
	closed     bool
	executions map[string]*Execution
	tasks      map[string]*callback // by task token, kept after the task closes
}

var _ workflow.API = (*Executor)(nil)

// callback is a task waiting for SendTaskSuccess or SendTaskFailure.
type callback struct {
	// answer is buffered: the answer may come before the task starts waiting, even
	// before the function that received the token returns.
	answer chan answer
	closed bool // guarded by Executor.mu
}

type answer struct {
	output any
	fail   *failure
}

// Option configures an Executor.
type Option func(*Executor)

// WithStateMachineARN sets the ARN StartExecution accepts and execution ARNs derive from.
func WithStateMachineARN(arn string) Option {
	return func(e *Executor) { e.arn = arn }
}

// OnExecutionEnd has f called, in a goroutine of its own, with each execution's name and
// status when it ends, as EventBridge's "Step Functions Execution Status Change" events
// tell on AWS.
func OnExecutionEnd(f func(name string, status types.ExecutionStatus)) Option {
	return func(e *Executor) { e.onEnd = f }
}

// WithLogger sets the logger; the default is slog.Default().
func WithLogger(l *slog.Logger) Option {
	return func(e *Executor) { e.log = l }
}

// New returns an executor of m that invokes functions by FunctionName. Every function the
// machine names must be there.
func New(m *Machine, functions map[string]Function, opts ...Option) (*Executor, error) {
	for _, name := range m.functions() {
		if functions[name] == nil {
			return nil, fmt.Errorf("new executor: no function for FunctionName %q", name)
		}
	}
	e := &Executor{
		machine:    m,
		functions:  functions,
		arn:        DefaultStateMachineARN,
		log:        slog.Default(),
		executions: map[string]*Execution{},
		tasks:      map[string]*callback{},
	}
	for _, opt := range opts {
		opt(e)
	}
	if !strings.Contains(e.arn, ":stateMachine:") {
		return nil, fmt.Errorf("new executor: %q is not a state machine ARN", e.arn)
	}
	e.root, e.stop = context.WithCancel(context.Background())
	return e, nil
}

// StateMachineARN returns the ARN StartExecution accepts.
func (e *Executor) StateMachineARN() string { return e.arn }

// Execution returns the execution with the given name.
func (e *Executor) Execution(name string) (*Execution, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	x, ok := e.executions[name]
	return x, ok
}

// Close aborts the running executions and waits for them to end. A function that ignores
// its context's cancellation may still be running when Close returns.
func (e *Executor) Close() error {
	e.mu.Lock()
	e.closed = true
	e.mu.Unlock()
	e.stop()
	e.wg.Wait()
	return nil
}

// StartExecution starts an execution and returns at once. As on Step Functions (standard
// workflows), starting again with the name of a running execution and the same input
// returns that execution; a different input, or a closed execution, is
// ExecutionAlreadyExists.
func (e *Executor) StartExecution(_ context.Context, in *sfn.StartExecutionInput, _ ...func(*sfn.Options)) (*sfn.StartExecutionOutput, error) {
	if aws.ToString(in.StateMachineArn) != e.arn {
		return nil, &types.StateMachineDoesNotExist{Message: aws.String("State Machine Does Not Exist: '" + aws.ToString(in.StateMachineArn) + "'")}
	}
	name := aws.ToString(in.Name)
	if name == "" {
		name = newToken()[:32]
	}
	if !validName(name) {
		return nil, &types.InvalidName{Message: aws.String("Invalid Name: '" + name + "'")}
	}
	input := json.RawMessage(aws.ToString(in.Input))
	if len(input) == 0 {
		input = json.RawMessage("{}")
	}
	value, err := decodeJSON(input)
	if err != nil {
		return nil, &types.InvalidExecutionInput{Message: aws.String("Invalid State Machine Execution Input: " + err.Error())}
	}

	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil, errors.New("start execution: executor is closed")
	}
	if x, ok := e.executions[name]; ok {
		if x.running() && string(x.input) == string(input) {
			return &sfn.StartExecutionOutput{ExecutionArn: aws.String(x.arn), StartDate: aws.Time(x.started)}, nil
		}
		return nil, &types.ExecutionAlreadyExists{Message: aws.String("Execution Already Exists: '" + x.arn + "'")}
	}
	arn := strings.Replace(e.arn, ":stateMachine:", ":execution:", 1) + ":" + name
	x := newExecution(arn, name, input)
	// The run's context exists before StartExecution returns, for StopExecution to cancel.
	ctx, stop := context.WithCancelCause(e.root)
	x.stop = stop
	e.executions[name] = x
	e.wg.Add(1)
	go e.run(ctx, x, value)
	return &sfn.StartExecutionOutput{ExecutionArn: aws.String(arn), StartDate: aws.Time(x.started)}, nil
}

// DescribeExecution tells an execution's status, as Step Functions does; an ARN this
// executor never started is ExecutionDoesNotExist.
func (e *Executor) DescribeExecution(_ context.Context, in *sfn.DescribeExecutionInput, _ ...func(*sfn.Options)) (*sfn.DescribeExecutionOutput, error) {
	x, err := e.lookup(aws.ToString(in.ExecutionArn))
	if err != nil {
		return nil, err
	}
	r := x.Result()
	out := &sfn.DescribeExecutionOutput{
		ExecutionArn: aws.String(x.arn), StateMachineArn: aws.String(e.arn), Name: aws.String(x.name),
		Status: r.Status, StartDate: aws.Time(x.started), Input: aws.String(string(x.input)),
	}
	if r.Status != types.ExecutionStatusRunning {
		out.StopDate = aws.Time(x.stopDate())
	}
	if r.Status == types.ExecutionStatusFailed {
		out.Error, out.Cause = aws.String(r.Error), aws.String(r.Cause)
	}
	if r.Output != nil {
		out.Output = aws.String(string(r.Output))
	}
	return out, nil
}

// lookup finds the execution of this executor's state machine with the given ARN; any
// other ARN is ExecutionDoesNotExist.
func (e *Executor) lookup(arn string) (*Execution, error) {
	prefix := strings.Replace(e.arn, ":stateMachine:", ":execution:", 1) + ":"
	x, ok := e.Execution(strings.TrimPrefix(arn, prefix))
	if !strings.HasPrefix(arn, prefix) || !ok {
		return nil, &types.ExecutionDoesNotExist{Message: aws.String("Execution Does Not Exist: '" + arn + "'")}
	}
	return x, nil
}

// SendTaskSuccess completes the callback task with the given output. A token the executor
// never issued is InvalidToken; the token of a task already closed (answered, timed out,
// or stopped with its execution) is TaskTimedOut, as Step Functions answers.
func (e *Executor) SendTaskSuccess(_ context.Context, in *sfn.SendTaskSuccessInput, _ ...func(*sfn.Options)) (*sfn.SendTaskSuccessOutput, error) {
	output, err := decodeJSON([]byte(aws.ToString(in.Output)))
	if err != nil {
		return nil, &types.InvalidOutput{Message: aws.String("Invalid Output: " + err.Error())}
	}
	if err := e.answer(aws.ToString(in.TaskToken), answer{output: output}); err != nil {
		return nil, err
	}
	return &sfn.SendTaskSuccessOutput{}, nil
}

// SendTaskFailure fails the callback task with the given error and cause, which the
// task's Retry and Catch see as they are. Its errors are those of SendTaskSuccess.
func (e *Executor) SendTaskFailure(_ context.Context, in *sfn.SendTaskFailureInput, _ ...func(*sfn.Options)) (*sfn.SendTaskFailureOutput, error) {
	fail := &failure{Error: aws.ToString(in.Error), Cause: aws.ToString(in.Cause)}
	if err := e.answer(aws.ToString(in.TaskToken), answer{fail: fail}); err != nil {
		return nil, err
	}
	return &sfn.SendTaskFailureOutput{}, nil
}

func (e *Executor) answer(token string, a answer) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	cb, ok := e.tasks[token]
	if !ok {
		return &types.InvalidToken{Message: aws.String("Invalid Token: '" + token + "'")}
	}
	if cb.closed {
		return &types.TaskTimedOut{Message: aws.String("Task Timed Out: 'Provided task does not exist anymore'")}
	}
	cb.closed = true
	cb.answer <- a
	return nil
}

// openTask registers a new callback task and returns its token.
func (e *Executor) openTask() (string, *callback) {
	token := newToken()
	cb := &callback{answer: make(chan answer, 1)}
	e.mu.Lock()
	e.tasks[token] = cb
	e.mu.Unlock()
	return token, cb
}

// closeTask closes the task unless an answer closed it first; it reports whether it did.
func (e *Executor) closeTask(token string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	cb := e.tasks[token]
	if cb.closed {
		return false
	}
	cb.closed = true
	return true
}

func (e *Executor) run(ctx context.Context, x *Execution, input any) {
	defer e.wg.Done()
	defer x.stop(nil)
	log := e.log.With("execution", x.name)
	log.Debug("execution started")
	x.record(Event{Type: types.HistoryEventTypeExecutionStarted, Input: x.input})

	r := &run{executor: e, execution: x, input: input}
	output, fail := r.machine(ctx, e.machine, input)
	switch {
	case fail == nil:
		out := encodeJSON(output)
		x.finish(Result{Status: types.ExecutionStatusSucceeded, Output: out},
			Event{Type: types.HistoryEventTypeExecutionSucceeded, Output: out})
		log.Info("execution succeeded")
	case fail.aborted:
		// Stopped by StopExecution, with its error and cause, or by Close, with none.
		stop := stopped(ctx)
		x.finish(Result{Status: types.ExecutionStatusAborted},
			Event{Type: types.HistoryEventTypeExecutionAborted, Error: stop.errorName, Cause: stop.cause})
		log.Info("execution aborted", "error", stop.errorName)
	default:
		x.finish(Result{Status: types.ExecutionStatusFailed, Error: fail.Error, Cause: fail.Cause},
			Event{Type: types.HistoryEventTypeExecutionFailed, Error: fail.Error, Cause: fail.Cause})
		log.Info("execution failed", "error", fail.Error)
	}
	if e.onEnd != nil {
		status := x.Result().Status
		e.wg.Add(1)
		go func() {
			defer e.wg.Done()
			e.onEnd(x.name, status)
		}()
	}
}

// newToken returns a random, unguessable token.
func newToken() string {
	b := make([]byte, 48)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return base64.RawURLEncoding.EncodeToString(b)
}

// validName applies Step Functions' rules for execution names.
func validName(name string) bool {
	if len(name) > 80 {
		return false
	}
	for _, r := range name {
		if r <= 0x20 || (r >= 0x7f && r <= 0x9f) || strings.ContainsRune("<>{}[]?*\"#%\\^|~`$&,;:/", r) {
			return false
		}
	}
	return true
}

// sleep waits for d, and reports false if ctx ended first.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
