package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/google/go-cmp/cmp"
)

// waitLimit bounds every wait, so that a broken program fails the test instead of hanging it.
const waitLimit = 10 * time.Second

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr string // "" for none
	}{
		{name: "defaults"},
		{name: "IPv6 loopback", args: []string{"-addr", "[::1]:0"}},
		{name: "localhost", args: []string{"-addr", "localhost:8083"}},
		{name: "all interfaces", args: []string{"-addr", "0.0.0.0:8083"}, wantErr: "-addr"},
		{name: "no host", args: []string{"-addr", ":8083"}, wantErr: "-addr"},
		{name: "IPv6 all interfaces", args: []string{"-addr", "[::]:8083"}, wantErr: "-addr"},
		{name: "a LAN address", args: []string{"-addr", "192.168.1.2:8083"}, wantErr: "-addr"},
		{name: "a host name", args: []string{"-addr", "example.com:8083"}, wantErr: "-addr"},
		{name: "no port", args: []string{"-addr", "127.0.0.1"}, wantErr: "-addr"},
		{name: "lambda without a scheme", args: []string{"-lambda", "127.0.0.1:3001"}, wantErr: "-lambda"},
		{name: "lambda, another scheme", args: []string{"-lambda", "ftp://127.0.0.1:3001"}, wantErr: "-lambda"},
		{name: "no function name", args: []string{"-apply", ""}, wantErr: "-apply"},
		{name: "arguments", args: []string{"extra"}, wantErr: "unexpected"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parse(tt.args, io.Discard)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("parse(%q) = %v, want no error", tt.args, err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("parse(%q) = %v, want an error about %s", tt.args, err, tt.wantErr)
			}
		})
	}
	c, _ := parse(nil, io.Discard)
	want := config{
		addr: "127.0.0.1:8083", lambda: "http://127.0.0.1:3001",
		stateMachineARN: "arn:aws:states:us-east-1:123456789012:stateMachine:servicecontacts-local-contact-change",
		await:           "AwaitFunction", apply: "ApplyFunction", finish: "FinishFunction", reconcile: "ReconcileFunction",
	}
	if c != want {
		t.Errorf("defaults = %+v, want %+v", c, want)
	}
}

// lambdas plays `sam local start-lambda` for the state machine's functions and the
// reconciler, and hands each invocation's function name and payload to calls.
type lambdas struct {
	calls chan invocation
}

type invocation struct {
	function string
	payload  map[string]any
}

func (l *lambdas) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	function := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/2015-03-31/functions/"), "/invocations")
	var payload map[string]any
	_ = json.NewDecoder(r.Body).Decode(&payload)
	l.calls <- invocation{function, payload}
	switch {
	case function == "AwaitFunction" && payload["requestId"] == "refused":
		w.Header().Set("X-Amz-Function-Error", "Unhandled")
		_, _ = io.WriteString(w, `{"errorMessage":"the party refused","errorType":"Refused"}`)
	case function == "AwaitFunction":
		_, _ = io.WriteString(w, `{}`)
	case function == "ReconcileFunction":
		_, _ = io.WriteString(w, `{"reconciled":1}`)
	default:
		_, _ = io.WriteString(w, `{"state":"done"}`)
	}
}

// syncBuffer is a buffer the program's goroutines write its logs to.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func call(t *testing.T, calls <-chan invocation) invocation {
	t.Helper()
	select {
	case c := <-calls:
		return c
	case <-time.After(waitLimit):
		t.Fatal("no invocation")
		return invocation{}
	}
}

func TestRun(t *testing.T) {
	l := &lambdas{calls: make(chan invocation, 20)}
	endpoint := httptest.NewServer(l)
	t.Cleanup(endpoint.Close)
	const machine = "arn:aws:states:us-east-1:123456789012:stateMachine:servicecontacts-local-contact-change"

	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	stdout, lines := io.Pipe()
	var stderr syncBuffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-lambda", endpoint.URL}, lines, &stderr) }()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("reading stdout: %v", err)
	}
	base, ok := strings.CutPrefix(strings.TrimSpace(line), "awslocal listening on ")
	if !ok || !strings.HasPrefix(base, "http://127.0.0.1:") {
		t.Fatalf("stdout = %q, want awslocal listening on http://127.0.0.1:PORT", line)
	}
	c := sfn.New(sfn.Options{
		BaseEndpoint: aws.String(base), Region: "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", ""),
	})
	start := func(name string) *string {
		t.Helper()
		out, err := c.StartExecution(ctx, &sfn.StartExecutionInput{
			StateMachineArn: aws.String(machine), Name: aws.String(name),
			Input: aws.String(`{"requestId":"` + name + `","parties":["xx11111-ovh"],"timeoutSeconds":60}`),
		})
		if err != nil {
			t.Fatalf("StartExecution(%s): %v", name, err)
		}
		return out.ExecutionArn
	}

	// Confirmed, then applied.
	confirmed := start("confirmed")
	await := call(t, l.calls)
	token, _ := await.payload["taskToken"].(string)
	if await.function != "AwaitFunction" || token == "" || await.payload["nic"] != "xx11111-ovh" {
		t.Fatalf("first invocation = %+v, want AwaitFunction with a task token", await)
	}
	if _, err := c.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String(token), Output: aws.String(`{}`)}); err != nil {
		t.Fatalf("SendTaskSuccess: %v", err)
	}
	if got, want := call(t, l.calls), (invocation{"ApplyFunction", map[string]any{
		"requestId": "confirmed",
		// The execution's input, as the definition hands it to the apply step.
		"execution": map[string]any{"requestId": "confirmed", "parties": []any{"xx11111-ovh"}, "timeoutSeconds": float64(60)},
	}}); !cmp.Equal(got, want, cmp.AllowUnexported(invocation{})) {
		t.Errorf("invocation = %+v, want %+v", got, want)
	}
	succeeded(t, c, confirmed)

	// Refused: the Catch on Refused leads to FinishRefused.
	refused := start("refused")
	call(t, l.calls) // AwaitFunction
	if got, want := call(t, l.calls), (invocation{"FinishFunction", map[string]any{"requestId": "refused", "outcome": "refused"}}); !cmp.Equal(got, want, cmp.AllowUnexported(invocation{})) {
		t.Errorf("invocation = %+v, want %+v", got, want)
	}
	succeeded(t, c, refused)

	// Stopped: the reconciler hears of it.
	stopped := start("stopped")
	call(t, l.calls) // AwaitFunction
	if _, err := c.StopExecution(ctx, &sfn.StopExecutionInput{ExecutionArn: stopped}); err != nil {
		t.Fatalf("StopExecution: %v", err)
	}
	reconcile := call(t, l.calls)
	detail, _ := reconcile.payload["detail"].(map[string]any)
	if reconcile.function != "ReconcileFunction" || reconcile.payload["detail-type"] != "Step Functions Execution Status Change" ||
		detail["name"] != "stopped" || detail["status"] != "ABORTED" || detail["executionArn"] != aws.ToString(stopped) {
		t.Errorf("invocation = %+v, want ReconcileFunction with the stopped execution's status change", reconcile)
	}

	stop()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run: %v", err)
		}
	case <-time.After(waitLimit):
		t.Fatal("run did not return after its context ended")
	}
	if logs := stderr.String(); strings.Contains(logs, token) || !strings.Contains(logs, `"msg":"stopped"`) {
		t.Errorf("logs hold the task token, or do not tell the stop:\n%s", logs)
	}
}

// succeeded waits for the execution to end, and requires that it succeeded.
func succeeded(t *testing.T, c *sfn.Client, arn *string) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for {
		out, err := c.DescribeExecution(context.Background(), &sfn.DescribeExecutionInput{ExecutionArn: arn})
		if err != nil {
			t.Fatalf("DescribeExecution: %v", err)
		}
		switch {
		case out.Status == types.ExecutionStatusSucceeded:
			return
		case out.Status != types.ExecutionStatusRunning:
			t.Fatalf("%s: status %s (%s: %s), want SUCCEEDED", aws.ToString(arn), out.Status, aws.ToString(out.Error), aws.ToString(out.Cause))
		case time.Now().After(deadline):
			t.Fatalf("%s still running", aws.ToString(arn))
		}
		time.Sleep(10 * time.Millisecond)
	}
}
