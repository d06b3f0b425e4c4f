package stepfunctions

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/google/go-cmp/cmp"

	"github.com/servicecontacts/servicecontacts/infra/local/asl"
)

// invocation is what the Lambda endpoint received.
type invocation struct {
	method, path, invocationType, payload string
}

// lambdaEndpoint answers every Invoke with the given status, headers and body, as the
// Lambda Invoke API does, and hands each request to requests.
func lambdaEndpoint(t *testing.T, status int, header map[string]string, body string, requests chan<- invocation) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		payload, _ := io.ReadAll(r.Body)
		if requests != nil {
			requests <- invocation{r.Method, r.URL.Path, r.Header.Get("X-Amz-Invocation-Type"), string(payload)}
		}
		for k, v := range header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestInvokerSucceeds(t *testing.T) {
	requests := make(chan invocation, 1)
	srv := lambdaEndpoint(t, http.StatusOK, map[string]string{"X-Amz-Executed-Version": "$LATEST", "Content-Type": "application/json"}, `{"state":"done"}`, requests)
	out, err := Invoker(srv.Client(), srv.URL+"/", "ApplyFunction")(context.Background(), json.RawMessage(`{"requestId":"r1"}`))
	if err != nil {
		t.Fatalf("invoke: %v", err)
	}
	if string(out) != `{"state":"done"}` {
		t.Errorf("output = %s, want the function's result", out)
	}
	want := invocation{http.MethodPost, "/2015-03-31/functions/ApplyFunction/invocations", "RequestResponse", `{"requestId":"r1"}`}
	if got := <-requests; got != want {
		t.Errorf("request = %+v, want %+v", got, want)
	}
}

// TestInvokerErrorNames runs a Task through the executor, as the state machine does, and
// reads the error name its Catch saw.
func TestInvokerErrorNames(t *testing.T) {
	gone := httptest.NewServer(http.NotFoundHandler())
	gone.Close()
	tests := []struct {
		name      string
		endpoint  func(t *testing.T) string
		wantError string
		wantCause string // "" when any cause goes
	}{
		{
			name: "function error, unhandled",
			endpoint: func(t *testing.T) string {
				return lambdaEndpoint(t, http.StatusOK, map[string]string{"X-Amz-Function-Error": "Unhandled"},
					`{"errorMessage":"ww44444-ovh refused","errorType":"Refused"}`, nil).URL
			},
			wantError: "Refused", wantCause: `{"errorMessage":"ww44444-ovh refused","errorType":"Refused"}`,
		},
		{
			name: "function error, handled",
			endpoint: func(t *testing.T) string {
				return lambdaEndpoint(t, http.StatusOK, map[string]string{"X-Amz-Function-Error": "Handled"},
					`{"errorMessage":"the request ended","errorType":"Cancelled","stackTrace":[]}`, nil).URL
			},
			wantError: "Cancelled", wantCause: `{"errorMessage":"the request ended","errorType":"Cancelled"}`,
		},
		{
			name: "function error without a type: timed out",
			endpoint: func(t *testing.T) string {
				return lambdaEndpoint(t, http.StatusOK, map[string]string{"X-Amz-Function-Error": "Unhandled"},
					`{"errorMessage":"Task timed out after 3.00 seconds"}`, nil).URL
			},
			wantError: "Lambda.Unknown",
		},
		{
			name: "sam local: function not found",
			endpoint: func(t *testing.T) string {
				return lambdaEndpoint(t, http.StatusNotFound, map[string]string{"X-Amzn-ErrorType": "ResourceNotFound"},
					`{"Type":"User","Message":"Function not found: arn:aws:lambda:us-west-2:012345678901:function:ApplyFunction"}`, nil).URL
			},
			wantError: "Lambda.ResourceNotFoundException",
		},
		{
			name: "Lambda: throttled",
			endpoint: func(t *testing.T) string {
				return lambdaEndpoint(t, http.StatusTooManyRequests, map[string]string{"X-Amzn-ErrorType": "TooManyRequestsException"},
					`{"Type":"User","message":"Rate Exceeded."}`, nil).URL
			},
			wantError: "Lambda.TooManyRequestsException",
		},
		{
			name:      "a 500 without a code",
			endpoint:  func(t *testing.T) string { return lambdaEndpoint(t, http.StatusInternalServerError, nil, ``, nil).URL },
			wantError: "Lambda.ServiceException",
		},
		{
			name:      "no Lambda endpoint",
			endpoint:  func(*testing.T) string { return gone.URL },
			wantError: "Lambda.SdkClientException",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := asl.Load([]byte(`{"StartAt": "Apply", "States": {
				"Apply": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
					"Parameters": {"FunctionName": "ApplyFunction", "Payload": {}}, "End": true,
					"Catch": [{"ErrorEquals": ["States.TaskFailed"], "ResultPath": "$.error", "Next": "Caught"}]},
				"Caught": {"Type": "Succeed", "OutputPath": "$.error"}}}`), nil)
			if err != nil {
				t.Fatal(err)
			}
			e, err := asl.New(m, map[string]asl.Function{"ApplyFunction": Invoker(http.DefaultClient, tt.endpoint(t), "ApplyFunction")})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = e.Close() })
			if _, err := e.StartExecution(context.Background(), &sfn.StartExecutionInput{StateMachineArn: aws.String(e.StateMachineARN()), Name: aws.String("run")}); err != nil {
				t.Fatal(err)
			}
			finished(t, e, "run")
			x, _ := e.Execution("run")
			r := x.Result()
			if r.Status != types.ExecutionStatusSucceeded {
				t.Fatalf("status = %s (%s: %s), want SUCCEEDED through the Catch", r.Status, r.Error, r.Cause)
			}
			var caught struct{ Error, Cause string }
			if err := json.Unmarshal(r.Output, &caught); err != nil {
				t.Fatal(err)
			}
			if caught.Error != tt.wantError {
				t.Errorf("Error = %q (cause %s), want %q", caught.Error, caught.Cause, tt.wantError)
			}
			if tt.wantCause != "" {
				var got, want any
				if err := json.Unmarshal([]byte(caught.Cause), &got); err != nil {
					t.Fatalf("Cause %q: %v", caught.Cause, err)
				}
				_ = json.Unmarshal([]byte(tt.wantCause), &want)
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("Cause (-want +got):\n%s", diff)
				}
			}
		})
	}
}
