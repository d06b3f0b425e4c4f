package asl

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// lambdaTask returns a Task state invoking fn, with extra fields spliced in.
func lambdaTask(fn, extra string) string {
	return `{"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
		"Parameters": {"FunctionName": "` + fn + `", "Payload.$": "$"}` + extra + `}`
}

func TestLoadRejects(t *testing.T) {
	tests := []struct {
		name       string
		definition string
		wantError  string
	}{
		{
			name:       "unknown state type",
			definition: `{"StartAt": "A", "States": {"A": {"Type": "Choice", "Choices": [], "Default": "A"}}}`,
			wantError:  `state type "Choice" is not supported`,
		},
		{
			name:       "unsupported field",
			definition: `{"StartAt": "A", "States": {"A": ` + lambdaTask("f", `, "End": true, "HeartbeatSeconds": 5`) + `}}`,
			wantError:  `field "HeartbeatSeconds" is not supported`,
		},
		{
			name:       "unsupported top-level field",
			definition: `{"StartAt": "A", "TimeoutSeconds": 5, "States": {"A": {"Type": "Succeed"}}}`,
			wantError:  `field "TimeoutSeconds" is not supported`,
		},
		{
			name: "unsupported resource",
			definition: `{"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage",
				"Parameters": {"FunctionName": "f", "Payload": {}}, "End": true}}}`,
			wantError: `resource "arn:aws:states:::sqs:sendMessage" is not supported`,
		},
		{
			name: "unsupported Lambda parameter",
			definition: `{"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
				"Parameters": {"FunctionName": "f", "Payload": {}, "Qualifier": "1"}, "End": true}}}`,
			wantError: `parameter "Qualifier" is not supported`,
		},
		{
			name: "dynamic function name",
			definition: `{"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
				"Parameters": {"FunctionName.$": "$.fn", "Payload": {}}, "End": true}}}`,
			wantError: "FunctionName must be a fixed",
		},
		{
			name: "intrinsic function",
			definition: `{"StartAt": "A", "States": {"A": {"Type": "Pass",
				"Parameters": {"x.$": "States.Format('{}', $.a)"}, "End": true}}}`,
			wantError: "intrinsic functions are not supported",
		},
		{
			name:       "unsupported path",
			definition: `{"StartAt": "A", "States": {"A": {"Type": "Pass", "InputPath": "$.items[*]", "End": true}}}`,
			wantError:  "only plain field names",
		},
		{
			name:       "unsupported retrier field",
			definition: `{"StartAt": "A", "States": {"A": ` + lambdaTask("f", `, "End": true, "Retry": [{"ErrorEquals": ["X"], "JitterStrategy": "FULL"}]`) + `}}`,
			wantError:  `Retry[0]: field "JitterStrategy" is not supported`,
		},
		{
			name:       "States.ALL not last",
			definition: `{"StartAt": "A", "States": {"A": ` + lambdaTask("f", `, "End": true, "Retry": [{"ErrorEquals": ["States.ALL"]}, {"ErrorEquals": ["X"]}]`) + `}}`,
			wantError:  "States.ALL must be alone in the last",
		},
		{
			name:       "transition to a missing state",
			definition: `{"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}}}`,
			wantError:  `transition to "B"`,
		},
		{
			name:       "catch to a missing state",
			definition: `{"StartAt": "A", "States": {"A": ` + lambdaTask("f", `, "End": true, "Catch": [{"ErrorEquals": ["X"], "Next": "Nope"}]`) + `}}`,
			wantError:  `transition to "Nope"`,
		},
		{
			name:       "neither Next nor End",
			definition: `{"StartAt": "A", "States": {"A": {"Type": "Pass"}}}`,
			wantError:  "needs Next or End",
		},
		{
			name: "distributed map",
			definition: `{"StartAt": "M", "States": {"M": {"Type": "Map", "End": true, "ItemProcessor": {
				"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}, "StartAt": "P", "States": {"P": {"Type": "Succeed"}}}}}}`,
			wantError: "ProcessorConfig",
		},
		{
			name: "map state with the deprecated Iterator",
			definition: `{"StartAt": "M", "States": {"M": {"Type": "Map", "End": true,
				"Iterator": {"StartAt": "P", "States": {"P": {"Type": "Succeed"}}}}}}`,
			wantError: `field "Iterator" is not supported`,
		},
		{
			name: "item processor leaving to an outer state",
			definition: `{"StartAt": "M", "States": {"M": {"Type": "Map", "Next": "Out", "ItemProcessor": {
				"StartAt": "P", "States": {"P": {"Type": "Pass", "Next": "Out"}}}}, "Out": {"Type": "Succeed"}}}`,
			wantError: `transition to "Out"`,
		},
		{
			name:       "missing substitution",
			definition: `{"StartAt": "A", "States": {"A": ` + lambdaTask("${Missing}", `, "End": true`) + `}}`,
			wantError:  "no substitution for ${Missing}",
		},
		{
			name:       "both timeout fields",
			definition: `{"StartAt": "A", "States": {"A": ` + lambdaTask("f", `, "End": true, "TimeoutSeconds": 1, "TimeoutSecondsPath": "$.t"`) + `}}`,
			wantError:  "both TimeoutSeconds and TimeoutSecondsPath",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load([]byte(tt.definition), nil)
			if err == nil || !strings.Contains(err.Error(), tt.wantError) {
				t.Fatalf("Load error = %v, want one containing %q", err, tt.wantError)
			}
		})
	}
}

func TestLoadSubstitutes(t *testing.T) {
	definition := `{"StartAt": "A", "States": {
		"A": ` + lambdaTask("${First}", `, "Next": "B"`) + `,
		"B": {"Type": "Map", "End": true, "ItemProcessor": {"StartAt": "P", "States": {"P": ` + lambdaTask("${Second}", `, "End": true`) + `}}}}}`
	m, err := Load([]byte(definition), map[string]string{
		"First":  "arn:aws:lambda:eu-west-1:1:function:first",
		"Second": `odd"name`,
		"Unused": "x",
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"arn:aws:lambda:eu-west-1:1:function:first", `odd"name`}
	if diff := cmp.Diff(want, m.functions()); diff != "" {
		t.Errorf("functions (-want +got):\n%s", diff)
	}
}

func TestRetrierDelay(t *testing.T) {
	r := retrier{interval: 2 * time.Second, backoffRate: 1.5}
	tests := []struct {
		attempt int
		want    time.Duration
	}{
		{attempt: 0, want: 2 * time.Second},
		{attempt: 1, want: 3 * time.Second},
		{attempt: 2, want: 4500 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.want.String(), func(t *testing.T) {
			if got := r.delay(tt.attempt); got != tt.want {
				t.Errorf("delay(%d) = %v, want %v", tt.attempt, got, tt.want)
			}
		})
	}
}
