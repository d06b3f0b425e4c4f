package stack_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go/middleware"

	"github.com/servicecontacts/servicecontacts/infra/local/asl"
	"github.com/servicecontacts/servicecontacts/infra/local/stack"
	"github.com/servicecontacts/servicecontacts/shared/contact"
)

// Fifty callers accept and refuse the same request at once, with both parties' tokens: the
// request ends in exactly one terminal state, each token counts once, and the change is
// applied at most once, only if both accepted.
func TestFiftyDecisionsOnOneRequest(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			e := b.start(t, stack.Options{})
			c := e.request(admin, "example.com", map[string]string{"tech": newbie})[0]
			_, adminToken := e.link("admin@example.com", c.ID)
			_, newbieToken := e.link("newbie@example.com", c.ID)

			type try struct{ nic, token, decision string }
			tries := []try{
				{admin, adminToken, "accept"}, {newbie, newbieToken, "accept"},
				{admin, adminToken, "refuse"}, {newbie, newbieToken, "refuse"},
			}
			const callers = 50
			statuses := make([]int, callers)
			wins := make([]bool, callers)
			ready := make(chan struct{})
			var wg sync.WaitGroup
			for i := range callers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					tr := tries[i%len(tries)]
					req := e.Request("POST", "/me/contact-changes/"+c.ID+"/"+tr.decision, tr.nic, map[string]string{"token": tr.token})
					<-ready
					r := e.send(req)
					statuses[i] = r.status
					wins[i] = r.status == http.StatusOK
				}()
			}
			close(ready)
			wg.Wait()

			won := map[string]string{} // party → the decision that counted
			for i, status := range statuses {
				tr := tries[i%len(tries)]
				switch {
				case wins[i]:
					if prev, ok := won[tr.nic]; ok {
						t.Fatalf("%s's token counted twice: %s and %s (statuses %v)", tr.nic, prev, tr.decision, statuses)
					}
					won[tr.nic] = tr.decision
				case status != http.StatusConflict && status != http.StatusGone:
					t.Fatalf("caller %d (%s %s) got %d, want 200, 409 or 410; all: %v", i, tr.nic, tr.decision, status, statuses)
				}
			}
			if len(won) == 0 {
				t.Fatalf("no decision counted: %v", statuses)
			}

			end := e.waitEnded(admin, c.ID)
			history := events(end)
			refusedBy := slices.Contains([]string{won[admin], won[newbie]}, "refuse")
			want := "done"
			if refusedBy {
				want = "refused"
			}
			if end.State != want {
				t.Fatalf("decisions %v ended %s, want %s; history %v", won, end.State, want, history)
			}
			if n := count(history, "applying"); n > 1 || (n == 1) != (want == "done") {
				t.Fatalf("applying recorded %d times for a request that ended %s: %v", n, end.State, history)
			}
			if n := count(history, "done") + count(history, "refused"); n != 1 {
				t.Fatalf("%d terminal events: %v", n, history)
			}
			if got := e.services(admin)["example.com"]["tech"]; (got == newbie) != (want == "done") {
				t.Fatalf("request %s, tech is %s", end.State, got)
			}
			t.Logf("decisions that counted %v; ended %s; history %v", won, end.State, history)
		})
	}
}

// Requests for the same service and role created at once: exactly one is created, the others
// are told the role is busy.
func TestRequestsForOneRoleCreatedAtOnce(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			e := b.start(t, stack.Options{})
			candidates := []string{newbie, stranger, debtor, billing, newbie, stranger, debtor, billing}
			statuses := make([]int, len(candidates))
			ready := make(chan struct{})
			var wg sync.WaitGroup
			for i, to := range candidates {
				wg.Add(1)
				go func() {
					defer wg.Done()
					req := e.Request("POST", "/services/example.com/contact-changes", admin, map[string]string{"tech": to})
					<-ready
					statuses[i] = e.send(req).status
				}()
			}
			close(ready)
			wg.Wait()
			created := 0
			for _, s := range statuses {
				switch s {
				case http.StatusCreated:
					created++
				case http.StatusConflict:
				default:
					t.Fatalf("statuses %v: want one 201 and 409s", statuses)
				}
			}
			if created != 1 {
				t.Fatalf("%d requests created at once for one role: %v", created, statuses)
			}
			r := e.call("GET", "/me/contact-changes?state=pending", admin, nil)
			if r.status != http.StatusOK {
				t.Fatalf("list requests: status %d: %s", r.status, r.body)
			}
			list := decode[struct{ Items []change }](t, r.body)
			open := 0
			for _, c := range list.Items {
				if c.ServiceID == "example.com" && c.Role == "tech" {
					open++
				}
			}
			if open != 1 {
				t.Fatalf("%d open requests for the tech role: %+v", open, list.Items)
			}
		})
	}
}

// An operator hands the role to someone else while the accepted change is being applied:
// the request ends failed, saying why, and the operator's choice stands.
func TestApplyRacingAnotherChangeOfTheRole(t *testing.T) {
	t.Run("embedded/operator change before the apply step", func(t *testing.T) {
		t.Parallel()
		held := make(chan struct{})
		release := make(chan struct{})
		e := start(t, stack.Options{WrapStep: holdStep("apply", held, release)})
		c := acceptBoth(e)
		<-held
		if err := e.stack.Store.SetHolder(context.Background(), "example.com", contact.Tech, stranger); err != nil {
			t.Fatal(err)
		}
		close(release)
		checkFailedUntouched(t, e, c.ID)
	})

	// On DynamoDB Local the operator's change lands inside the apply step, between its last
	// read and its transaction, where only the transaction's conditions can catch it.
	t.Run("DynamoDBLocal/operator change between check and write", func(t *testing.T) {
		t.Parallel()
		var e *env
		var fired atomic.Bool
		e = startOnDynamoDBLocal(t, stack.Options{
			WrapStep: func(name string, f asl.Function) asl.Function {
				if name != "apply" {
					return f
				}
				return func(ctx context.Context, payload json.RawMessage) (json.RawMessage, error) {
					return f(context.WithValue(ctx, applyStep{}, true), payload)
				}
			},
		}, func(o *dynamodb.Options) {
			o.APIOptions = append(o.APIOptions, func(s *middleware.Stack) error {
				return s.Initialize.Add(middleware.InitializeMiddlewareFunc("OperatorCutsIn",
					func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
						if ctx.Value(applyStep{}) != nil && awsmiddleware.GetOperationName(ctx) == "TransactWriteItems" && fired.CompareAndSwap(false, true) {
							if err := e.stack.Store.SetHolder(context.Background(), "example.com", contact.Tech, stranger); err != nil {
								t.Errorf("operator change: %v", err)
							}
						}
						return next.HandleInitialize(ctx, in)
					}), middleware.Before)
			})
		})
		c := acceptBoth(e)
		checkFailedUntouched(t, e, c.ID)
		if !fired.Load() {
			t.Fatal("the apply step never wrote: the operator's change did not race it")
		}
	})
}

type applyStep struct{}

// holdStep holds the named step until release, after telling held it is there.
func holdStep(name string, held, release chan struct{}) func(string, asl.Function) asl.Function {
	return func(step string, f asl.Function) asl.Function {
		if step != name {
			return f
		}
		return func(ctx context.Context, payload json.RawMessage) (json.RawMessage, error) {
			close(held)
			<-release
			return f(ctx, payload)
		}
	}
}

// acceptBoth asks for example.com's tech role to go to newbie, and both parties accept.
func acceptBoth(e *env) change {
	e.t.Helper()
	c := e.request(admin, "example.com", map[string]string{"tech": newbie})[0]
	_, t1 := e.link("admin@example.com", c.ID)
	_, t2 := e.link("newbie@example.com", c.ID)
	e.must(http.StatusOK, e.accept(admin, c.ID, t1))
	e.must(http.StatusOK, e.accept(newbie, c.ID, t2))
	return c
}

func checkFailedUntouched(t *testing.T, e *env, id string) {
	t.Helper()
	end := e.waitEnded(admin, id)
	if end.State != "failed" {
		t.Fatalf("request ended %s, want failed; history %v", end.State, events(end))
	}
	if n := count(events(end), "done"); n != 0 {
		t.Fatalf("done recorded: %v", events(end))
	}
	want := map[string]string{"admin": admin, "tech": stranger, "billing": billing}
	got := e.services(admin)["example.com"]
	for role, nic := range want {
		if got[role] != nic {
			t.Fatalf("contacts %v, want %v", got, want)
		}
	}
	last := end.History[len(end.History)-1]
	if last.Event != "failed" || !strings.Contains(last.Detail, "tech contact changed") {
		t.Fatalf("last event %+v, want failed because the tech contact changed", last)
	}
}
