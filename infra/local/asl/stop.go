package asl

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
)

// StopExecution stops a running execution, as Step Functions does for a standard workflow:
// it ends ABORTED, its ExecutionAborted event carrying the optional error and cause, its
// callback tasks closed (their tokens answer TaskTimedOut), and StopExecution returns once it
// has ended, with the date it ended. Stopping an execution already closed changes nothing and
// is no error (the API reference lists none for it): StopDate is then the date it closed. An
// ARN this executor never started is ExecutionDoesNotExist.
func (e *Executor) StopExecution(ctx context.Context, in *sfn.StopExecutionInput, _ ...func(*sfn.Options)) (*sfn.StopExecutionOutput, error) {
	x, err := e.lookup(aws.ToString(in.ExecutionArn))
	if err != nil {
		return nil, err
	}
	x.stop(&stopRequest{errorName: aws.ToString(in.Error), cause: aws.ToString(in.Cause)})
	// The run ends promptly: every wait in it also waits for its context.
	if _, err := x.Wait(ctx); err != nil {
		return nil, fmt.Errorf("stop execution %s: %w", x.name, err)
	}
	return &sfn.StopExecutionOutput{StopDate: aws.Time(x.stopDate())}, nil
}

// stopRequest is the cause of the context of an execution that StopExecution stopped.
type stopRequest struct {
	errorName, cause string
}

func (s *stopRequest) Error() string { return "execution stopped: " + s.errorName }

// stopped is the StopExecution request that ended the run of ctx, a zero one when Close
// ended it.
func stopped(ctx context.Context) stopRequest {
	var s *stopRequest
	if errors.As(context.Cause(ctx), &s) {
		return *s
	}
	return stopRequest{}
}
