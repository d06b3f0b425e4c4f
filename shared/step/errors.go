package step

import (
	"context"
	"errors"

	"github.com/servicecontacts/servicecontacts/shared/contact"
	"github.com/servicecontacts/servicecontacts/shared/workflow"
)

// What the state machine does with an error, by its name.
type Handling string

const (
	// Retried: a passing fault; every Task retries it with backoff.
	Retried Handling = "retried"
	// Ended: nothing a retry would mend; the Map's and Apply's States.ALL catch ends the
	// request failed, releasing its role.
	Ended Handling = "ended"
	// Refusal and Cancellation: the waits' answers that lead to their own closing paths.
	Refusal      Handling = "refused"
	Cancellation Handling = "cancelled"
)

// ErrorName is an error name that crosses into the state machine, and what its Retry and
// Catch clauses do with it. aws-lambda-go reports a step's error by its Go type name, so
// each of our names is the name of a type below.
type ErrorName struct {
	Name     string
	Handling Handling
	Source   string // who raises it
}

// ErrorNames is every error name the definition's Retry and Catch clauses must know: a
// test reads infra/statemachine/contact-change.asl.json and holds it to this table.
var ErrorNames = []ErrorName{
	{"Unavailable", Retried, "a step: throttling, or a service it needs cannot be reached"},
	{"Invalid", Ended, "a step: a payload it cannot act on"},
	{"Failed", Ended, "a step: any other error"},
	{workflow.ErrorRefused, Refusal, "the workflow adapter: a party refused"},
	{workflow.ErrorCancelled, Cancellation, "the workflow adapter: the request ended otherwise"},
	// Lambda's own, as Step Functions reports them.
	{"Lambda.ServiceException", Retried, "Lambda"},
	{"Lambda.AWSLambdaException", Retried, "Lambda"},
	{"Lambda.SdkClientException", Retried, "Lambda"},
	{"Lambda.ClientExecutionTimeoutException", Retried, "Lambda"},
	{"Lambda.TooManyRequestsException", Retried, "Lambda"},
	{"Lambda.Unknown", Retried, "Lambda: the function timed out, ran out of memory or crashed"},
}

// Names returns the names handled h, in the table's order.
func Names(h Handling) []string {
	var out []string
	for _, n := range ErrorNames {
		if n.Handling == h {
			out = append(out, n.Name)
		}
	}
	return out
}

// Unavailable reports a passing fault (throttling, an unreachable service).
type Unavailable struct{ Err error }

func (e *Unavailable) Error() string { return e.Err.Error() }
func (e *Unavailable) Unwrap() error { return e.Err }

// Invalid reports a payload the step cannot act on; retrying would not help.
type Invalid struct{ Err error }

func (e *Invalid) Error() string { return e.Err.Error() }
func (e *Invalid) Unwrap() error { return e.Err }

// Failed reports any other error of a step: retrying would not help either.
type Failed struct{ Err error }

func (e *Failed) Error() string { return e.Err.Error() }
func (e *Failed) Unwrap() error { return e.Err }

// named gives err the type whose name the state machine's clauses match.
func named(err error) error {
	var invalid *Invalid
	switch {
	case errors.As(err, &invalid):
		return err
	case errors.Is(err, contact.ErrUnavailable), errors.Is(err, context.DeadlineExceeded):
		return &Unavailable{Err: err}
	}
	return &Failed{Err: err}
}
