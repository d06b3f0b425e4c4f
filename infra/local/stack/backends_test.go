package stack_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/servicecontacts/servicecontacts/infra/local/stack"
	"github.com/servicecontacts/servicecontacts/shared/store/storetest"
)

// backend starts a stack on one DynamoDB backend.
type backend struct {
	name  string
	start func(t *testing.T, opts stack.Options) *env
}

// backends are the two backends the store runs on here: the embedded one of `make run`, and
// DynamoDB Local, which `make test` starts (its cases skip, saying so, without it).
var backends = []backend{
	{"embedded", start},
	{"DynamoDBLocal", func(t *testing.T, opts stack.Options) *env { return startOnDynamoDBLocal(t, opts) }},
}

// startOnDynamoDBLocal runs a stack whose store is on DynamoDB Local, on tables of its own.
func startOnDynamoDBLocal(t *testing.T, opts stack.Options, optFns ...func(*dynamodb.Options)) *env {
	t.Helper()
	opts.DynamoDB = storetest.DynamoDBLocal(t, optFns...)
	b := make([]byte, 6)
	_, _ = rand.Read(b) // never fails
	opts.TablePrefix = "e2e-" + hex.EncodeToString(b) + "-"
	return start(t, opts)
}

// serve sends a request straight to the stack's handler with ctx, so that what ctx carries
// (a call counter's label) reaches the functions, as the gateway passes the context on.
func (e *env) serve(ctx context.Context, req *http.Request) response {
	e.t.Helper()
	if req.Body == nil {
		req.Body = http.NoBody // as a server's requests always have
	}
	rec := httptest.NewRecorder()
	e.stack.Handler.ServeHTTP(rec, req.WithContext(ctx))
	return response{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
}

// waitEnded polls a request until it is in a terminal state.
func (e *env) waitEnded(nic, id string) change {
	e.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		c := e.get(nic, id)
		switch c.State {
		case "done", "refused", "cancelled", "expired", "failed":
			return c
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("request %s still %s after 30s; history %+v", id, c.State, c.History)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitExecution waits until the workflow of request id has ended.
func (e *env) waitExecution(id string) {
	e.t.Helper()
	exec, ok := e.stack.Executor.Execution(id)
	if !ok {
		e.t.Fatalf("no execution named %s", id)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := exec.Wait(ctx); err != nil {
		e.t.Fatalf("execution %s: %v", id, err)
	}
}
