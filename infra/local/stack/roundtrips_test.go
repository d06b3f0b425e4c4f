package stack_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"

	"github.com/servicecontacts/servicecontacts/infra/local/asl"
	"github.com/servicecontacts/servicecontacts/infra/local/stack"
	"github.com/servicecontacts/servicecontacts/shared/store/storetest"
)

// The DynamoDB calls each operation makes, counted by an SDK middleware on DynamoDB Local.
// These are the figures in the README's design notes: a change here is a change in cost and
// latency, and must be deliberate.
func TestDynamoDBCallsPerOperation(t *testing.T) {
	var calls storetest.Calls
	awaited := make(chan struct{}, 8)
	var oneAwaitAtATime sync.Mutex // two parties' registrations racing would retry
	e := startOnDynamoDBLocal(t, stack.Options{
		WrapStep: func(name string, f asl.Function) asl.Function {
			return func(ctx context.Context, payload json.RawMessage) (json.RawMessage, error) {
				if name != "await" {
					return f(calls.Track(ctx, "step "+name), payload)
				}
				oneAwaitAtATime.Lock()
				defer oneAwaitAtATime.Unlock()
				out, err := f(calls.Track(ctx, "step await, both parties of each request"), payload)
				awaited <- struct{}{}
				return out, err
			}
		},
	}, calls.Install)

	do := func(label string, status int, method, path, nic string, body any) response {
		t.Helper()
		r := e.serve(calls.Track(context.Background(), label), e.Request(method, path, nic, body))
		if r.status != status {
			t.Fatalf("%s: status %d, want %d: %s", label, r.status, status, r.body)
		}
		return r
	}
	// Each party's await step registers its task before anyone answers, so that no answer
	// races a registration and retries.
	awaitBoth := func() {
		for range 2 {
			<-awaited
		}
	}

	do("list services", 200, "GET", "/me/services", admin, nil)
	created := decode[struct{ Items []change }](t, do("create", 201, "POST", "/services/example.com/contact-changes", admin, map[string]string{"tech": newbie}).body).Items[0]
	awaitBoth()
	do("list requests", 200, "GET", "/me/contact-changes", admin, nil)
	do("get request", 200, "GET", "/me/contact-changes/"+created.ID, admin, nil)
	do("resend", 202, "POST", "/me/contact-changes/"+created.ID+"/resend", newbie, nil)
	_, adminToken := e.link("admin@example.com", created.ID)
	_, newbieToken := e.link("newbie@example.com", created.ID)
	do("accept, first party", 200, "POST", "/me/contact-changes/"+created.ID+"/accept", admin, map[string]string{"token": adminToken})
	do("accept, last party", 200, "POST", "/me/contact-changes/"+created.ID+"/accept", newbie, map[string]string{"token": newbieToken})
	e.waitState(admin, created.ID, "done")

	refused := e.request(admin, "ns1.example.net", map[string]string{"tech": newbie})[0]
	awaitBoth()
	_, token := e.link("newbie@example.com", refused.ID)
	do("refuse", 200, "POST", "/me/contact-changes/"+refused.ID+"/refuse", newbie, map[string]string{"token": token})
	e.waitState(admin, refused.ID, "refused")

	cancelled := e.request(admin, "ns1.example.net", map[string]string{"tech": newbie})[0]
	awaitBoth()
	do("cancel", 200, "POST", "/me/contact-changes/"+cancelled.ID+"/cancel", admin, nil)
	e.waitState(admin, cancelled.ID, "cancelled")
	for _, id := range []string{created.ID, refused.ID, cancelled.ID} {
		e.waitExecution(id) // the finish step runs after the request has ended
	}

	want := []struct{ label, calls string }{
		{"list services", "BatchGetItem×1 Query×1"},
		{"list requests", "BatchGetItem×1 Query×1"},
		{"get request", "GetItem×1"},
		// A transition's events are published, then cleared from its outbox: one PutItem.
		// Abuse limits: a creation's requests and emails are counted in its transaction, a
		// resend's emails in the transaction that saves it; a decision reads its source's
		// count of wrong tokens with the request, in one BatchGetItem.
		{"create", "BatchGetItem×1 PutItem×1 TransactWriteItems×1"},
		{"resend", "BatchGetItem×1 GetItem×1 TransactWriteItems×1"},
		{"accept, first party", "BatchGetItem×1 PutItem×2"},
		{"accept, last party", "BatchGetItem×1 PutItem×2"},
		{"refuse", "BatchGetItem×2 PutItem×1 TransactWriteItems×1"},
		{"cancel", "BatchGetItem×1 GetItem×1 PutItem×1 TransactWriteItems×1"},
		{"step await, both parties of each request", "UpdateItem×6"},    // one conditional write per party
		{"step apply", "BatchGetItem×1 PutItem×1 TransactWriteItems×1"}, // the request with its service and accounts
		{"step finish", "GetItem×2"},                                    // refused and cancelled: one read each
	}
	var table strings.Builder
	for _, w := range want {
		got := calls.Of(w.label)
		table.WriteString("| " + w.label + " | " + got + " |\n")
		if got != w.calls {
			t.Errorf("%s: DynamoDB calls %q, want %q", w.label, got, w.calls)
		}
	}
	t.Logf("DynamoDB calls per operation:\n%s", table.String())
}
