package stepfunctions

import (
	"encoding/json"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/servicecontacts/servicecontacts/shared/workflow"
)

// StatusChangeEvent is the EventBridge "Step Functions Execution Status Change" event of
// an execution's end, in the shape the local stack hands the reconciler (and with the
// members shared/step.ExecutionEvent reads): what the rule on the state machine's status
// changes delivers on AWS, less the fields nobody reads.
func StatusChangeEvent(stateMachineARN, name string, status types.ExecutionStatus, at time.Time) json.RawMessage {
	executionARN := workflow.ExecutionARN(stateMachineARN, name)
	ev, _ := json.Marshal(map[string]any{ // strings and a time: never fails
		"version":     "0",
		"detail-type": "Step Functions Execution Status Change",
		"source":      "aws.states",
		"time":        at.UTC().Format(time.RFC3339),
		"resources":   []string{executionARN},
		"detail": map[string]string{
			"executionArn":    executionARN,
			"stateMachineArn": stateMachineARN,
			"name":            name,
			"status":          string(status),
		},
	})
	return ev
}
