package stack_test

import (
	"context"
	"net/http"
	"regexp"
	"strconv"
	"testing"

	"github.com/servicecontacts/servicecontacts/infra/local/stack"
	"github.com/servicecontacts/servicecontacts/shared/store/storetest"
)

// awsText is what must never reach a caller: exception names and DynamoDB's own messages.
var awsText = regexp.MustCompile(`(?i)exception|dynamodb|throughput|amazonaws|cancellation|conditional request`)

// DynamoDB's errors, answered on the wire by DynamoDB Local's stand-in, become the statuses
// the API promises: 503 with a retry hint when DynamoDB throttles, 409 when a race is lost;
// never a 500 or AWS's text. Nothing is half done: once DynamoDB answers again, the same
// call succeeds.
func TestDynamoDBFaultsReachCallersAsStatuses(t *testing.T) {
	type call struct {
		method, path, nic string
		body              map[string]string
	}
	cases := []struct {
		name      string
		operation string // the DynamoDB operation that fails
		fault     storetest.Fault
		status    int
		code      string
		call      func(e *env, id, token string) call
		healed    int // the status of the same call once DynamoDB answers again
	}{
		{"list services, index query throttled", "Query", storetest.Throttled, 503, "throttled",
			func(*env, string, string) call { return call{"GET", "/me/services", admin, nil} }, 200},
		{"list services, batch read over the request limit", "BatchGetItem", storetest.RequestLimit, 503, "throttled",
			func(*env, string, string) call { return call{"GET", "/me/services", admin, nil} }, 200},
		{"list requests, throttled", "Query", storetest.Throttled, 503, "throttled",
			func(*env, string, string) call { return call{"GET", "/me/contact-changes", admin, nil} }, 200},
		{"get request, throttled", "GetItem", storetest.Throttled, 503, "throttled",
			func(_ *env, id, _ string) call { return call{"GET", "/me/contact-changes/" + id, admin, nil} }, 200},
		{"get request, DynamoDB unreachable", "GetItem", storetest.Refused, 503, "unavailable",
			func(_ *env, id, _ string) call { return call{"GET", "/me/contact-changes/" + id, admin, nil} }, 200},
		{"list services, DynamoDB unreachable", "Query", storetest.Refused, 503, "unavailable",
			func(*env, string, string) call { return call{"GET", "/me/services", admin, nil} }, 200},
		{"accept, save unreachable", "PutItem", storetest.Refused, 503, "unavailable",
			func(_ *env, id, token string) call {
				return call{"POST", "/me/contact-changes/" + id + "/accept", admin, map[string]string{"token": token}}
			}, 200},
		{"create, transaction throttled", "TransactWriteItems", storetest.Throttled, 503, "throttled",
			func(*env, string, string) call {
				return call{"POST", "/services/ns1.example.net/contact-changes", admin, map[string]string{"tech": newbie}}
			}, 201},
		{"create, transaction cancelled by throttling", "TransactWriteItems", storetest.Cancelled("None", "None", "None", "ThrottlingError"), 503, "throttled",
			func(*env, string, string) call {
				return call{"POST", "/services/ns1.example.net/contact-changes", admin, map[string]string{"tech": newbie}}
			}, 201},
		{"create, lost to a concurrent transaction", "TransactWriteItems", storetest.Cancelled("None", "None", "None", "TransactionConflict"), 409, "",
			func(*env, string, string) call {
				return call{"POST", "/services/ns1.example.net/contact-changes", admin, map[string]string{"tech": newbie}}
			}, 201},
		{"accept, save throttled", "PutItem", storetest.Throttled, 503, "throttled",
			func(_ *env, id, token string) call {
				return call{"POST", "/me/contact-changes/" + id + "/accept", admin, map[string]string{"token": token}}
			}, 200},
		{"accept, every save loses the race", "PutItem", storetest.ConditionFailed, 409, "",
			func(_ *env, id, token string) call {
				return call{"POST", "/me/contact-changes/" + id + "/accept", admin, map[string]string{"token": token}}
			}, 200},
		{"cancel, closing transaction throttled", "TransactWriteItems", storetest.Throttled, 503, "throttled",
			func(_ *env, id, _ string) call {
				return call{"POST", "/me/contact-changes/" + id + "/cancel", admin, nil}
			}, 200},
		{"cancel, every closing transaction loses the race", "TransactWriteItems", storetest.Cancelled("ConditionalCheckFailed", "None"), 409, "",
			func(_ *env, id, _ string) call {
				return call{"POST", "/me/contact-changes/" + id + "/cancel", admin, nil}
			}, 200},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			faults := storetest.NewFaults()
			e := startOnDynamoDBLocal(t, stack.Options{}, faults.Install)
			c := e.request(admin, "example.com", map[string]string{"tech": newbie})[0]
			_, token := e.link("admin@example.com", c.ID)
			cl := tt.call(e, c.ID, token)

			faults.Fail(tt.operation, tt.fault, -1)
			r := e.serve(faults.Scope(context.Background()), e.Request(cl.method, cl.path, cl.nic, bodyOrNil(cl.body)))

			if r.status != tt.status {
				t.Fatalf("status %d, want %d: %s", r.status, tt.status, r.body)
			}
			if tt.code != "" && r.errorCode(t) != tt.code {
				t.Fatalf("code %q, want %q: %s", r.errorCode(t), tt.code, r.body)
			}
			if awsText.Match(r.body) {
				t.Fatalf("the answer shows DynamoDB's error: %s", r.body)
			}
			if tt.status == http.StatusServiceUnavailable {
				if s, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || s < 1 {
					t.Fatalf("Retry-After %q, want a number of seconds", r.header.Get("Retry-After"))
				}
			}
			if again := e.call(cl.method, cl.path, cl.nic, bodyOrNil(cl.body)); again.status != tt.healed {
				t.Fatalf("once DynamoDB answers again: status %d, want %d: %s", again.status, tt.healed, again.body)
			}
		})
	}
}

// bodyOrNil keeps a nil map a nil body rather than the JSON null.
func bodyOrNil(body map[string]string) any {
	if body == nil {
		return nil
	}
	return body
}
