package stepfunctions

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/servicecontacts/servicecontacts/shared/step"
)

// The reconciler reads the event it is given.
func TestStatusChangeEvent(t *testing.T) {
	raw := StatusChangeEvent("arn:aws:states:us-east-1:123456789012:stateMachine:m", "req-1", types.ExecutionStatusAborted, time.Now())
	var ev step.ExecutionEvent
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	if ev.DetailType != "Step Functions Execution Status Change" || ev.Detail.Name != "req-1" || ev.Detail.Status != "ABORTED" {
		t.Errorf("event = %+v, want req-1's ABORTED status change", ev)
	}
	var detail struct {
		Detail struct{ ExecutionArn string } `json:"detail"`
	}
	if err := json.Unmarshal(raw, &detail); err != nil || detail.Detail.ExecutionArn != "arn:aws:states:us-east-1:123456789012:execution:m:req-1" {
		t.Errorf("executionArn = %q (%v), want the execution's ARN", detail.Detail.ExecutionArn, err)
	}
}
