package stepfunctions

import (
	"encoding/json"
	"strconv"
	"time"

	smithytime "github.com/aws/smithy-go/time"
)

// The operations' members, in the API reference's wire names. A response is built field by
// field from the SDK's output, so that only what the API returns goes out.

type startExecutionRequest struct {
	StateMachineArn *string `json:"stateMachineArn"`
	Name            *string `json:"name"`
	Input           *string `json:"input"`
}

type startExecutionResponse struct {
	ExecutionArn string       `json:"executionArn"`
	StartDate    epochSeconds `json:"startDate"`
}

type sendTaskSuccessRequest struct {
	TaskToken *string `json:"taskToken"`
	Output    *string `json:"output"`
}

type sendTaskFailureRequest struct {
	TaskToken *string `json:"taskToken"`
	Error     *string `json:"error"`
	Cause     *string `json:"cause"`
}

type stopExecutionRequest struct {
	ExecutionArn *string `json:"executionArn"`
	Error        *string `json:"error"`
	Cause        *string `json:"cause"`
}

type stopExecutionResponse struct {
	StopDate epochSeconds `json:"stopDate"`
}

type describeExecutionRequest struct {
	ExecutionArn *string `json:"executionArn"`
}

type describeExecutionResponse struct {
	ExecutionArn    string        `json:"executionArn"`
	StateMachineArn string        `json:"stateMachineArn"`
	Name            string        `json:"name,omitempty"`
	Status          string        `json:"status"`
	StartDate       epochSeconds  `json:"startDate"`
	StopDate        *epochSeconds `json:"stopDate,omitempty"`
	Input           *string       `json:"input,omitempty"`
	InputDetails    *dataDetails  `json:"inputDetails,omitempty"`
	Output          *string       `json:"output,omitempty"`
	OutputDetails   *dataDetails  `json:"outputDetails,omitempty"`
	Error           *string       `json:"error,omitempty"`
	Cause           *string       `json:"cause,omitempty"`
}

// dataDetails tells whether the input or output is in the response; here it always is.
type dataDetails struct {
	Included bool `json:"included"`
}

// epochSeconds is a timestamp as the JSON protocol sends it: seconds since the epoch, a
// number with milliseconds.
type epochSeconds time.Time

func (t epochSeconds) MarshalJSON() ([]byte, error) {
	return json.Marshal(json.Number(strconv.FormatFloat(smithytime.FormatEpochSeconds(time.Time(t)), 'f', -1, 64)))
}

func epochOf(t *time.Time) *epochSeconds {
	if t == nil {
		return nil
	}
	e := epochSeconds(*t)
	return &e
}
