package contact_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/servicecontacts/servicecontacts/shared/contact"
)

// statusOf makes the fake workflow answer status for every request.
func statusOf(status contact.WorkflowStatus) func(context.Context, contact.Change) (contact.WorkflowStatus, error) {
	return func(context.Context, contact.Change) (contact.WorkflowStatus, error) { return status, nil }
}

func TestReconcilePending(t *testing.T) {
	t.Parallel()
	registered := func(e *env, c contact.Change) {
		for _, p := range c.Parties {
			if err := e.m.RegisterTask(e.ctx, c.ID, p.NIC, "task-"+p.NIC); err != nil {
				e.t.Fatal(err)
			}
		}
	}
	tests := []struct {
		name     string
		prepare  func(e *env, c contact.Change)
		status   contact.WorkflowStatus
		after    time.Duration // since the request was made
		state    contact.State
		told     contact.NoticeKind // "" when nobody is told anything
		toldWho  []string
		failure  contact.Failure
		stopped  bool // whether the registered tasks are stopped
		unmoved  bool // whether the request is left exactly as it was
		postpone bool // whether it is due again a start grace from now
	}{
		{name: "past its expiry", prepare: registered, status: contact.WorkflowRunning, after: contact.DefaultExpiry,
			state: contact.Expired, told: contact.NoticeExpired, toldWho: []string{adm, nwc, tec}, stopped: true},
		{name: "past its expiry, workflow gone", status: contact.WorkflowMissing, after: contact.DefaultExpiry + time.Hour,
			state: contact.Expired, told: contact.NoticeExpired, toldWho: []string{adm, nwc, tec}},
		{name: "workflow stopped", prepare: registered, status: contact.WorkflowStopped, after: time.Hour,
			state: contact.Failed, told: contact.NoticeFailed, toldWho: []string{adm, nwc, tec},
			failure: contact.Failure{Code: contact.FailureWorkflowLost}, stopped: true},
		{name: "workflow ended while pending", prepare: registered, status: contact.WorkflowSucceeded, after: time.Hour,
			state: contact.Failed, told: contact.NoticeFailed, toldWho: []string{adm, nwc, tec},
			failure: contact.Failure{Code: contact.FailureWorkflowLost}, stopped: true},
		// The parties never got a token from a workflow that never started: only the
		// requester, who asked, is told.
		{name: "workflow missing after the start grace", status: contact.WorkflowMissing, after: contact.DefaultStartGrace,
			state: contact.Failed, told: contact.NoticeFailed, toldWho: []string{adm},
			failure: contact.Failure{Code: contact.FailureWorkflowLost}},
		{name: "workflow missing within the start grace", status: contact.WorkflowMissing, after: contact.DefaultStartGrace - time.Second,
			state: contact.Pending, unmoved: true},
		{name: "workflow running, no task yet", status: contact.WorkflowRunning, after: contact.DefaultStartGrace,
			state: contact.Pending, postpone: true},
		{name: "workflow running with its tasks", prepare: registered, status: contact.WorkflowRunning, after: time.Hour,
			state: contact.Pending, unmoved: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			onBackends(t, func(t *testing.T, e *env) {
				c := e.newTech()
				if tt.prepare != nil {
					tt.prepare(e, c)
				}
				e.wf.StatusFunc = statusOf(tt.status)
				before := e.change(c.ID)
				e.clock.Advance(tt.after)
				got, err := e.m.Reconcile(e.ctx, c.ID)
				if err != nil {
					t.Fatal(err)
				}
				if got.State != tt.state {
					t.Errorf("Reconcile returned %s, want %s", got.State, tt.state)
				}
				stored := e.wantState(c.ID, tt.state)
				if tt.unmoved {
					if diff := cmp.Diff(before, stored); diff != "" {
						t.Errorf("Reconcile changed the request (-before +after):\n%s", diff)
					}
				}
				if tt.postpone {
					if want := e.clock.Now().Add(contact.DefaultStartGrace); !stored.DueAt.Equal(want) {
						t.Errorf("due at %v, want %v", stored.DueAt, want)
					}
				}
				if tt.state.Terminal() {
					e.wantReleased(stored)
					e.wantTold(c.ID, tt.told, tt.toldWho...)
					for _, n := range e.mail.Of(c.ID, tt.told) {
						if n.Failure != tt.failure {
							t.Errorf("failure told to %s: %+v, want %+v", n.To, n.Failure, tt.failure)
						}
					}
					if ev := lastEvent(t, stored); ev.By != contact.System || ev.Detail != failureDetail(tt.failure) {
						t.Errorf("last event %+v, want by the system with detail %q", ev, failureDetail(tt.failure))
					}
				} else if n := len(e.mail.Attempts()); n != 2 {
					t.Errorf("%d notices, want only the 2 token emails", n)
				}
				var want []wfCall
				if tt.stopped {
					want = []wfCall{{Op: "stop", TaskToken: "task-" + adm, Reason: contact.Cancelled}, {Op: "stop", TaskToken: "task-" + nwc, Reason: contact.Cancelled}}
				}
				if diff := cmp.Diff(want, e.wf.Answers()); diff != "" {
					t.Errorf("workflow answers (-want +got):\n%s", diff)
				}
				// A second pass finds nothing more to do.
				notices := len(e.mail.Attempts())
				if _, err := e.m.Reconcile(e.ctx, c.ID); err != nil {
					t.Fatal(err)
				}
				e.wantState(c.ID, tt.state)
				if n := len(e.mail.Attempts()); n != notices {
					t.Errorf("a second Reconcile sent %d notices", n-notices)
				}
			})
		})
	}
}

func failureDetail(f contact.Failure) string {
	if f.Code == "" {
		return ""
	}
	return f.String()
}

func TestReconcileApplying(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		status contact.WorkflowStatus
		after  time.Duration // since the last acceptance
		state  contact.State
	}{
		{"within the apply grace", contact.WorkflowRunning, contact.DefaultApplyGrace - time.Second, contact.Applying},
		{"past the apply grace", contact.WorkflowRunning, contact.DefaultApplyGrace, contact.Done},
		{"workflow stopped", contact.WorkflowStopped, 0, contact.Done},
		{"workflow gone", contact.WorkflowMissing, time.Second, contact.Done},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			onBackends(t, func(t *testing.T, e *env) {
				c := e.newTech()
				e.clock.Advance(time.Hour)
				e.acceptAll(c)
				e.wf.StatusFunc = statusOf(tt.status)
				e.clock.Advance(tt.after)
				got, err := e.m.Reconcile(e.ctx, c.ID)
				if err != nil {
					t.Fatal(err)
				}
				if got.State != tt.state {
					t.Errorf("Reconcile returned %s, want %s", got.State, tt.state)
				}
				e.wantState(c.ID, tt.state)
				want := exampleContacts()
				if tt.state == contact.Done {
					want[contact.Tech] = nwc
					e.wantTold(c.ID, contact.NoticeDone, adm, nwc)
					e.wantTold(c.ID, contact.NoticeReplaced, tec)
				} else if n := len(e.mail.Of(c.ID, contact.NoticeDone)); n != 0 {
					t.Errorf("%d done notices before the change applied", n)
				}
				e.wantContacts(svcID, want)
			})
		})
	}
}

func TestReconcileAppliesAndFails(t *testing.T) {
	t.Parallel()
	onBackends(t, func(t *testing.T, e *env) {
		c := e.newTech()
		e.acceptAll(c)
		e.setHolder(svcID, contact.Tech, zed)
		e.clock.Advance(contact.DefaultApplyGrace)
		got, err := e.m.Reconcile(e.ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.State != contact.Failed {
			t.Errorf("Reconcile returned %s, want failed", got.State)
		}
		e.wantReleased(e.wantState(c.ID, contact.Failed))
		e.wantTold(c.ID, contact.NoticeFailed, adm, nwc, tec)
	})
}

func TestReconcileAnswersLostCallbacks(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		decide func(e *env, c contact.Change)
		fail   func(w *fakeWorkflow, fail func() error)
		want   wfCall // the answer that failed, and is given again
		state  contact.State
	}{
		{"an acceptance", func(e *env, c contact.Change) { e.decide(c.ID, nwc, true) },
			func(w *fakeWorkflow, fail func() error) {
				w.ContinueFunc = func(context.Context, string) error { return fail() }
			},
			wfCall{Op: "continue", TaskToken: "task-" + nwc}, contact.Pending},
		{"a refusal", func(e *env, c contact.Change) { e.decide(c.ID, nwc, false) },
			func(w *fakeWorkflow, fail func() error) {
				w.StopFunc = func(context.Context, string, contact.State) error { return fail() }
			},
			wfCall{Op: "stop", TaskToken: "task-" + nwc, Reason: contact.Refused}, contact.Refused},
		{"a cancellation", func(e *env, c contact.Change) {
			if _, err := e.m.Cancel(e.ctx, adm, c.ID); err != nil {
				e.t.Fatal(err)
			}
		}, func(w *fakeWorkflow, fail func() error) {
			w.StopFunc = func(context.Context, string, contact.State) error { return fail() }
		}, wfCall{Op: "stop", TaskToken: "task-" + nwc, Reason: contact.Cancelled}, contact.Cancelled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			onBackends(t, func(t *testing.T, e *env) {
				c := e.newTech()
				if err := e.m.RegisterTask(e.ctx, c.ID, nwc, "task-"+nwc); err != nil {
					t.Fatal(err)
				}
				down := true
				tt.fail(e.wf, func() error {
					if down {
						return errors.New("states: task timed out in transit")
					}
					return nil
				})
				tt.decide(e, c)
				if diff := cmp.Diff([]wfCall{tt.want}, e.wf.Answers()); diff != "" {
					t.Fatalf("answers (-want +got):\n%s", diff)
				}
				e.wantState(c.ID, tt.state)

				// The workflow is back; the reconciler answers again from the store, within
				// minutes.
				down = false
				e.clock.Advance(5 * time.Minute)
				n, err := e.m.Sweep(e.ctx)
				if err != nil {
					t.Fatal(err)
				}
				if n != 1 {
					t.Errorf("Sweep looked at %d requests, want the 1 whose answer was lost", n)
				}
				if diff := cmp.Diff([]wfCall{tt.want, tt.want}, e.wf.Answers()); diff != "" {
					t.Errorf("answers (-want +got):\n%s", diff)
				}
				e.wantState(c.ID, tt.state)
			})
		})
	}
}

func TestReconcileStatusError(t *testing.T) {
	t.Parallel()
	onBackends(t, func(t *testing.T, e *env) {
		c := e.newTech()
		e.wf.StatusFunc = func(context.Context, contact.Change) (contact.WorkflowStatus, error) {
			return "", errors.New("states: throttled")
		}
		e.clock.Advance(contact.DefaultStartGrace)
		before := e.change(c.ID)
		if _, err := e.m.Reconcile(e.ctx, c.ID); err == nil {
			t.Error("Reconcile hid the workflow's error")
		}
		if diff := cmp.Diff(before, e.change(c.ID)); diff != "" {
			t.Errorf("a failed Reconcile changed the request (-before +after):\n%s", diff)
		}
		// Sweep reports it too, and still counts the request.
		if n, err := e.m.Sweep(e.ctx); err == nil || n != 1 {
			t.Errorf("Sweep = %d, %v; want 1 and the error", n, err)
		}
		// Applying: the same.
		e.wf.StatusFunc = nil
		e.acceptAll(c)
		e.wf.StatusFunc = func(context.Context, contact.Change) (contact.WorkflowStatus, error) {
			return "", errors.New("states: throttled")
		}
		if _, err := e.m.Reconcile(e.ctx, c.ID); err == nil {
			t.Error("Reconcile hid the workflow's error on an applying request")
		}
		e.wantState(c.ID, contact.Applying)
	})
}

func TestReconcileUnknownRequest(t *testing.T) {
	t.Parallel()
	onBackends(t, func(t *testing.T, e *env) {
		got, err := e.m.Reconcile(e.ctx, "purged-request")
		if err != nil || got.ID != "" {
			t.Errorf("Reconcile of a purged request = %+v, %v; want nothing to do", got, err)
		}
	})
}

func TestSweep(t *testing.T) {
	t.Parallel()
	onBackends(t, func(t *testing.T, e *env) {
		// Three requests: one whose workflow never started, one waiting on its parties, one
		// applying.
		lost := e.request1(adm, svcID, contact.Tech, nwc)
		waiting := e.request1(adm, svcID, contact.Billing, nwc)
		for _, p := range waiting.Parties {
			if err := e.m.RegisterTask(e.ctx, waiting.ID, p.NIC, "task-"+p.NIC); err != nil {
				t.Fatal(err)
			}
		}
		applying := e.request1(adm, serverID, contact.Tech, zed)
		if err := e.m.RegisterTask(e.ctx, applying.ID, adm, "task-"+adm); err != nil {
			t.Fatal(err)
		}
		e.acceptAll(applying)
		e.wf.StatusFunc = func(_ context.Context, c contact.Change) (contact.WorkflowStatus, error) {
			if c.ID == lost.ID {
				return contact.WorkflowMissing, nil
			}
			return contact.WorkflowRunning, nil
		}

		sweep := func(want int) {
			t.Helper()
			n, err := e.m.Sweep(e.ctx)
			if err != nil {
				t.Fatal(err)
			}
			if n != want {
				t.Errorf("Sweep at %v looked at %d requests, want %d", e.clock.Now(), n, want)
			}
		}
		sweep(0) // nothing is due yet
		e.wantState(lost.ID, contact.Pending)

		e.clock.Advance(contact.DefaultStartGrace)
		sweep(2) // the lost one and the applying one
		e.wantState(lost.ID, contact.Failed)
		e.wantState(applying.ID, contact.Done)
		e.wantState(waiting.ID, contact.Pending)
		e.wantTold(lost.ID, contact.NoticeFailed, adm)
		sweep(0)

		e.clock.Advance(contact.DefaultExpiry)
		sweep(1)
		e.wantState(waiting.ID, contact.Expired)
		e.wantTold(waiting.ID, contact.NoticeExpired, adm, nwc, bil)
		sweep(0)

		e.wantContacts(serverID, map[contact.Role]string{contact.Admin: adm, contact.Tech: zed, contact.Billing: bil})
		e.wantContacts(svcID, exampleContacts())
		if open := e.service(svcID).Open; len(open) != 0 {
			t.Errorf("locks %v left on %s", open, svcID)
		}
	})
}

func TestRegisterTaskWhoseAnswerIsLost(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		decide func(e *env, c contact.Change)
		want   wfCall
	}{
		{"after an acceptance", func(e *env, c contact.Change) { e.decide(c.ID, nwc, true) },
			wfCall{Op: "continue", TaskToken: "task"}},
		// The request ended before the party's task was registered: the token is kept all
		// the same, or the execution would wait until its timeout at the request's expiry.
		{"after a refusal", func(e *env, c contact.Change) { e.decide(c.ID, nwc, false) },
			wfCall{Op: "stop", TaskToken: "task", Reason: contact.Refused}},
		{"after a cancellation", func(e *env, c contact.Change) {
			if _, err := e.m.Cancel(e.ctx, adm, c.ID); err != nil {
				e.t.Fatal(err)
			}
		}, wfCall{Op: "stop", TaskToken: "task", Reason: contact.Cancelled}},
	}
	for _, tt := range tests {
		for _, r := range registrations {
			t.Run(tt.name+", "+r.name, func(t *testing.T) {
				t.Parallel()
				onBackends(t, func(t *testing.T, e *env) {
					c := e.newTech()
					tt.decide(e, c)
					decided := e.change(c.ID)
					down := errors.New("states: unreachable")
					e.wf.ContinueFunc = func(context.Context, string) error { return down }
					e.wf.StopFunc = func(context.Context, string, contact.State) error { return down }
					if err := r.register(e, c.ID); err != nil {
						t.Fatalf("register: %v (the registration is stored; the answer is owed)", err)
					}
					if diff := cmp.Diff([]wfCall{tt.want}, e.wf.Answers()); diff != "" {
						t.Fatalf("answers (-want +got):\n%s", diff)
					}
					owed := e.change(c.ID)
					if p, _ := owed.Party(nwc); p.TaskToken != "task" {
						t.Errorf("task token %q kept, want the registered one", p.TaskToken)
					}
					if owed.AnswerAgainAt.IsZero() || owed.State != decided.State {
						t.Errorf("after the lost answer: %s, answer again at %v; want %s with the answer owed", owed.State, owed.AnswerAgainAt, decided.State)
					}
					e.wf.ContinueFunc, e.wf.StopFunc = nil, nil
					e.clock.Advance(5 * time.Minute)
					if _, err := e.m.Sweep(e.ctx); err != nil {
						t.Fatal(err)
					}
					if diff := cmp.Diff([]wfCall{tt.want, tt.want}, e.wf.Answers()); diff != "" {
						t.Errorf("answers after the reconciler's pass (-want +got):\n%s", diff)
					}
					answered := e.change(c.ID)
					if !answered.AnswerAgainAt.IsZero() {
						t.Errorf("the answer is still owed at %v once given", answered.AnswerAgainAt)
					}
					// Owing nothing more, an open request is due at its expiry, an ended one never.
					wantDue := time.Time{}
					if !answered.State.Terminal() {
						wantDue = c.ExpiresAt
					}
					if !answered.DueAt.Equal(wantDue) {
						t.Errorf("due at %v once answered, want %v", answered.DueAt, wantDue)
					}
				})
			})
		}
	}
}
