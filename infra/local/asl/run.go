package asl

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/lambda/messages"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
)

// Error names of the States Language that the executor reports or matches.
const (
	errAll                    = "States.ALL"
	errTaskFailed             = "States.TaskFailed"
	errTimeout                = "States.Timeout"
	errRuntime                = "States.Runtime"
	errParameterPathFailure   = "States.ParameterPathFailure"
	errResultPathMatchFailure = "States.ResultPathMatchFailure"
)

// failure is an error a state reports, by name, as Retry and Catch see it.
type failure struct {
	Error, Cause string
	// aborted marks the end of work whose execution, or Map state, stopped it: it is
	// neither retried nor caught.
	aborted bool
}

var errAborted = &failure{Error: "States.Aborted", Cause: "the execution or its Map state stopped", aborted: true}

// matches reports whether the failure is one of the names, with the wildcards' meaning:
// States.ALL matches all but States.Runtime; States.TaskFailed all but that and
// States.Timeout.
func (f *failure) matches(names []string) bool {
	for _, n := range names {
		switch {
		case n == f.Error,
			n == errAll && f.Error != errRuntime,
			n == errTaskFailed && f.Error != errRuntime && f.Error != errTimeout:
			return true
		}
	}
	return false
}

// run interprets the states of one execution.
type run struct {
	executor  *Executor
	execution *Execution
	input     any // the execution's input, for $$.Execution.Input
}

// machine runs m from its StartAt state to its end, and returns the last state's output.
func (r *run) machine(ctx context.Context, m *Machine, input any) (any, *failure) {
	st := m.states[m.startAt]
	for {
		output, next, fail := r.state(ctx, st, input)
		if fail != nil {
			return nil, fail
		}
		if next == "" {
			return output, nil
		}
		st, input = m.states[next], output
	}
}

// state runs one state and returns its output and the next state's name ("" at the end).
func (r *run) state(ctx context.Context, st *state, input any) (any, string, *failure) {
	if ctx.Err() != nil {
		return nil, "", errAborted
	}
	r.execution.record(Event{Type: types.HistoryEventType(st.typ + "StateEntered"), State: st.name, Input: encodeJSON(input)})
	output, next, fail := r.enter(ctx, st, input)
	if fail != nil {
		return nil, "", fail
	}
	r.execution.record(Event{Type: types.HistoryEventType(st.typ + "StateExited"), State: st.name, Output: encodeJSON(output)})
	return output, next, nil
}

func (r *run) enter(ctx context.Context, st *state, input any) (any, string, *failure) {
	if st.typ == "Fail" {
		return nil, "", &failure{Error: st.errorName, Cause: st.cause}
	}
	output, fail := r.process(ctx, st, input)
	if fail == nil {
		return output, st.next, nil
	}
	if fail.aborted {
		return nil, "", fail
	}
	for _, c := range st.catchers {
		if fail.matches(c.errorEquals) {
			output, caughtFail := c.resultPath.merge(input, map[string]any{"Error": fail.Error, "Cause": fail.Cause})
			if caughtFail != nil {
				return nil, "", caughtFail
			}
			return output, c.next, nil
		}
	}
	return nil, "", fail
}

// process is a state's input and output processing around its work: InputPath, Parameters
// (Pass), the work with its retries, ResultSelector, ResultPath, OutputPath.
func (r *run) process(ctx context.Context, st *state, input any) (any, *failure) {
	effective, fail := st.inputPath.selectFrom(input)
	if fail != nil {
		return nil, fail
	}
	if st.typ == "Succeed" {
		return st.outputPath.selectFrom(effective)
	}
	entered := time.Now()
	var result any
	switch st.typ {
	case "Pass":
		result, fail = r.pass(st, effective, entered)
	default:
		result, fail = r.retrying(ctx, st, effective, entered)
	}
	if fail != nil {
		return nil, fail
	}
	if st.resultSelector != nil {
		if result, fail = st.resultSelector.resolve(result, r.contextObject(st, entered, 0)); fail != nil {
			return nil, fail
		}
	}
	output, fail := st.resultPath.merge(input, result)
	if fail != nil {
		return nil, fail
	}
	return st.outputPath.selectFrom(output)
}

func (r *run) pass(st *state, effective any, entered time.Time) (any, *failure) {
	if st.parameters != nil {
		v, fail := st.parameters.resolve(effective, r.contextObject(st, entered, 0))
		if fail != nil {
			return nil, fail
		}
		effective = v
	}
	if st.hasResult {
		return st.result, nil
	}
	return effective, nil
}

// retrying does a Task or Map state's work, and does it again as its first matching
// retrier says, until it succeeds or no retrier applies.
func (r *run) retrying(ctx context.Context, st *state, effective any, entered time.Time) (any, *failure) {
	attempts := make([]int, len(st.retriers))
	for retries := 0; ; retries++ {
		var result any
		var fail *failure
		if st.typ == "Map" {
			result, fail = r.mapItems(ctx, st, effective, entered, retries)
		} else {
			result, fail = r.task(ctx, st, effective, entered, retries)
		}
		if fail == nil || fail.aborted {
			return result, fail
		}
		i := -1
		for j, rt := range st.retriers {
			if fail.matches(rt.errorEquals) {
				i = j
				break
			}
		}
		if i < 0 || attempts[i] >= st.retriers[i].maxAttempts {
			return nil, fail
		}
		delay := st.retriers[i].delay(attempts[i])
		attempts[i]++
		r.executor.log.Debug("retrying state", "execution", r.execution.name, "state", st.name, "error", fail.Error, "delay", delay)
		if !sleep(ctx, delay) {
			return nil, errAborted
		}
	}
}

// task runs a Lambda task: it invokes the function with the Payload parameter and, for a
// waitForTaskToken task, then waits for the token's answer.
func (r *run) task(ctx context.Context, st *state, effective any, entered time.Time, retries int) (any, *failure) {
	co := r.contextObject(st, entered, retries)
	var token string
	var cb *callback
	if st.waitForToken {
		// Registered before the function runs, which may answer before returning.
		token, cb = r.executor.openTask()
		co["Task"] = map[string]any{"Token": token}
	}
	timeout, fail := r.timeout(st, effective)
	if fail == nil {
		var params map[string]any
		if params, fail = st.parameters.resolve(effective, co); fail == nil {
			return r.invoke(ctx, st, params, timeout, token, cb)
		}
	}
	if st.waitForToken {
		r.executor.closeTask(token)
	}
	return nil, fail
}

func (r *run) invoke(ctx context.Context, st *state, params map[string]any, timeout time.Duration, token string, cb *callback) (any, *failure) {
	r.execution.record(Event{Type: types.HistoryEventTypeTaskScheduled, State: st.name, Input: encodeJSON(params)})
	r.execution.record(Event{Type: types.HistoryEventTypeTaskStarted, State: st.name})
	attemptCtx, cancel := context.WithCancel(ctx)
	if timeout > 0 {
		attemptCtx, cancel = context.WithTimeout(ctx, timeout)
	}
	defer cancel()

	out, err := call(attemptCtx, r.executor.functions[st.function], encodeJSON(params["Payload"]))
	var result any
	if err == nil {
		var fail *failure
		if result, fail = lambdaResult(out); fail != nil {
			if st.waitForToken {
				r.executor.closeTask(token)
			}
			return nil, r.taskFailed(st, fail)
		}
	}
	if !st.waitForToken {
		if err != nil {
			return nil, r.taskError(ctx, attemptCtx, st, err)
		}
		r.execution.record(Event{Type: types.HistoryEventTypeTaskSucceeded, State: st.name, Output: encodeJSON(result)})
		return result, nil
	}
	if err == nil {
		r.execution.record(Event{Type: types.HistoryEventTypeTaskSubmitted, State: st.name, Output: encodeJSON(result)})
		select {
		case a := <-cb.answer:
			return r.answered(st, a)
		case <-attemptCtx.Done():
			err = attemptCtx.Err()
		}
	}
	if !r.executor.closeTask(token) {
		return r.answered(st, <-cb.answer) // the answer came first
	}
	return nil, r.taskError(ctx, attemptCtx, st, err)
}

// taskError turns what ended an attempt without an answer into the task's failure.
func (r *run) taskError(ctx, attemptCtx context.Context, st *state, err error) *failure {
	switch {
	case ctx.Err() != nil:
		return errAborted
	case errors.Is(attemptCtx.Err(), context.DeadlineExceeded):
		fail := &failure{Error: errTimeout, Cause: "The task did not finish within its timeout"}
		r.execution.record(Event{Type: types.HistoryEventTypeTaskTimedOut, State: st.name, Error: fail.Error, Cause: fail.Cause})
		return fail
	default:
		return r.taskFailed(st, lambdaFailure(err))
	}
}

func (r *run) taskFailed(st *state, fail *failure) *failure {
	r.execution.record(Event{Type: types.HistoryEventTypeTaskFailed, State: st.name, Error: fail.Error, Cause: fail.Cause})
	return fail
}

func (r *run) answered(st *state, a answer) (any, *failure) {
	if a.fail != nil {
		return nil, r.taskFailed(st, a.fail)
	}
	r.execution.record(Event{Type: types.HistoryEventTypeTaskSucceeded, State: st.name, Output: encodeJSON(a.output)})
	return a.output, nil
}

// timeout is the task's TimeoutSeconds, or the positive integer its TimeoutSecondsPath
// selects; zero for none.
func (r *run) timeout(st *state, effective any) (time.Duration, *failure) {
	seconds := st.timeoutSeconds
	if st.timeoutSecondsPath != nil {
		v, _ := st.timeoutSecondsPath.lookup(effective, nil)
		n, ok := v.(json.Number)
		var err error
		if ok {
			seconds, err = n.Int64()
		}
		if !ok || err != nil || seconds < 1 {
			return 0, &failure{Error: errRuntime, Cause: fmt.Sprintf("TimeoutSecondsPath %q does not select a positive integer", st.timeoutSecondsPath.text)}
		}
	}
	return time.Duration(seconds) * time.Second, nil
}

// call runs the function, converting a panic into an error as the Lambda runtime would;
// it gives up waiting when ctx ends.
func call(ctx context.Context, fn Function, payload json.RawMessage) (json.RawMessage, error) {
	type reply struct {
		out json.RawMessage
		err error
	}
	done := make(chan reply, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				done <- reply{err: messages.InvokeResponse_Error{Type: typeName(p), Message: fmt.Sprint(p)}}
			}
		}()
		out, err := fn(ctx, payload)
		done <- reply{out, err}
	}()
	select {
	case r := <-done:
		return r.out, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// lambdaResult is the optimized Lambda integration's result around the function's output.
func lambdaResult(out json.RawMessage) (any, *failure) {
	var payload any
	if len(out) > 0 {
		var err error
		if payload, err = decodeJSON(out); err != nil {
			return nil, &failure{Error: errRuntime, Cause: "the function returned invalid JSON: " + err.Error()}
		}
	}
	return map[string]any{"ExecutedVersion": "$LATEST", "Payload": payload, "StatusCode": json.Number("200")}, nil
}

// lambdaFailure names a function's error as aws-lambda-go does (the error's type name,
// pointer stripped, unless it is a messages.InvokeResponse_Error) and gives Lambda's error
// payload as the cause.
func lambdaFailure(err error) *failure {
	name, message := typeName(err), err.Error()
	if ie, ok := err.(messages.InvokeResponse_Error); ok {
		name, message = ie.Type, ie.Message
	}
	cause, _ := json.Marshal(map[string]string{"errorType": name, "errorMessage": message})
	return &failure{Error: name, Cause: string(cause)}
}

func typeName(v any) string {
	t := reflect.TypeOf(v)
	if t.Kind() == reflect.Pointer {
		return t.Elem().Name()
	}
	return t.Name()
}

// mapItems runs the Map state's item processor on every item at once. The first iteration
// to fail fails the state with its error and stops the others.
func (r *run) mapItems(ctx context.Context, st *state, effective any, entered time.Time, retries int) (any, *failure) {
	v, _ := st.itemsPath.lookup(effective, nil)
	items, ok := v.([]any)
	if !ok {
		return nil, &failure{Error: errRuntime, Cause: fmt.Sprintf("ItemsPath %q does not select an array", st.itemsPath.text)}
	}
	r.execution.record(Event{Type: types.HistoryEventTypeMapStateStarted, State: st.name})
	iterCtx, stop := context.WithCancel(ctx)
	defer stop()

	results := make([]any, len(items))
	var mu sync.Mutex
	var first *failure
	var wg sync.WaitGroup
	for i, item := range items {
		wg.Go(func() {
			r.execution.record(Event{Type: types.HistoryEventTypeMapIterationStarted, State: st.name, Index: i})
			output, fail := r.iteration(iterCtx, st, effective, entered, retries, i, item)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case fail == nil:
				results[i] = output
				r.execution.record(Event{Type: types.HistoryEventTypeMapIterationSucceeded, State: st.name, Index: i})
			case first == nil && !fail.aborted:
				first = fail
				stop()
				r.execution.record(Event{Type: types.HistoryEventTypeMapIterationFailed, State: st.name, Index: i, Error: fail.Error, Cause: fail.Cause})
			default:
				r.execution.record(Event{Type: types.HistoryEventTypeMapIterationAborted, State: st.name, Index: i})
			}
		})
	}
	wg.Wait()
	switch {
	case first != nil:
		r.execution.record(Event{Type: types.HistoryEventTypeMapStateFailed, State: st.name, Error: first.Error, Cause: first.Cause})
		return nil, first
	case ctx.Err() != nil:
		return nil, errAborted
	}
	r.execution.record(Event{Type: types.HistoryEventTypeMapStateSucceeded, State: st.name})
	return results, nil
}

func (r *run) iteration(ctx context.Context, st *state, effective any, entered time.Time, retries, index int, item any) (any, *failure) {
	input := item
	if st.itemSelector != nil {
		co := r.contextObject(st, entered, retries)
		co["Map"] = map[string]any{"Item": map[string]any{"Index": json.Number(strconv.Itoa(index)), "Value": item}}
		var fail *failure
		if input, fail = st.itemSelector.resolve(effective, co); fail != nil {
			return nil, fail
		}
	}
	return r.machine(ctx, st.processor, input)
}

// contextObject is the context object ($$) of a state being run.
func (r *run) contextObject(st *state, entered time.Time, retries int) map[string]any {
	x := r.execution
	return map[string]any{
		"Execution": map[string]any{
			"Id":        x.arn,
			"Name":      x.name,
			"Input":     r.input,
			"StartTime": x.started.UTC().Format(time.RFC3339Nano),
		},
		"StateMachine": map[string]any{"Id": r.executor.arn},
		"State": map[string]any{
			"Name":        st.name,
			"EnteredTime": entered.UTC().Format(time.RFC3339Nano),
			"RetryCount":  json.Number(strconv.Itoa(retries)),
		},
	}
}
