package contact_test

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/servicecontacts/servicecontacts/shared/contact"
)

// registrations are the two ways nwc's task is registered as "task": by the party's index in
// the request's parties, as the workflow does (nwc is the second), and by NIC alone, what
// that falls back on.
var registrations = []struct {
	name     string
	register func(e *env, id string) error
}{
	{"by NIC", func(e *env, id string) error { return e.m.RegisterTask(e.ctx, id, nwc, "task") }},
	{"by index", func(e *env, id string) error { return e.m.RegisterPartyTask(e.ctx, id, 1, nwc, "task") }},
}

func TestRegisterTask(t *testing.T) {
	t.Parallel()
	cancel := func(e *env, c contact.Change) {
		if _, err := e.m.Cancel(e.ctx, adm, c.ID); err != nil {
			e.t.Fatal(err)
		}
	}
	finish := func(outcome contact.State) func(e *env, c contact.Change) {
		return func(e *env, c contact.Change) {
			if _, err := e.m.Finish(e.ctx, c.ID, outcome); err != nil {
				e.t.Fatal(err)
			}
		}
	}
	tests := []struct {
		name    string
		prepare func(e *env, c contact.Change)
		want    []wfCall // the answers to nwc's task
		stored  bool     // whether the task token is kept on the request
	}{
		{"before the party decided", nil, nil, true},
		{"after the other party accepted", func(e *env, c contact.Change) { e.decide(c.ID, adm, true) }, nil, true},
		{"after the party accepted", func(e *env, c contact.Change) { e.decide(c.ID, nwc, true) },
			[]wfCall{{Op: "continue", TaskToken: "task"}}, true},
		{"after every party accepted", func(e *env, c contact.Change) { e.acceptAll(c) },
			[]wfCall{{Op: "continue", TaskToken: "task"}}, true},
		{"after the party refused", func(e *env, c contact.Change) { e.decide(c.ID, nwc, false) },
			[]wfCall{{Op: "stop", TaskToken: "task", Reason: contact.Refused}}, false},
		{"after the other party refused", func(e *env, c contact.Change) { e.decide(c.ID, adm, false) },
			[]wfCall{{Op: "stop", TaskToken: "task", Reason: contact.Refused}}, false},
		{"after a cancellation", cancel, []wfCall{{Op: "stop", TaskToken: "task", Reason: contact.Cancelled}}, false},
		{"after expiry", finish(contact.Expired), []wfCall{{Op: "stop", TaskToken: "task", Reason: contact.Cancelled}}, false},
		{"after a failure", finish(contact.Failed), []wfCall{{Op: "stop", TaskToken: "task", Reason: contact.Cancelled}}, false},
		{"after the change applied", func(e *env, c contact.Change) {
			e.acceptAll(c)
			if _, err := e.m.Apply(e.ctx, c.ID); err != nil {
				e.t.Fatal(err)
			}
		}, []wfCall{{Op: "continue", TaskToken: "task"}}, false},
	}
	for _, tt := range tests {
		for _, r := range registrations {
			t.Run(tt.name+", "+r.name, func(t *testing.T) {
				t.Parallel()
				onBackends(t, func(t *testing.T, e *env) {
					c := e.newTech()
					if tt.prepare != nil {
						tt.prepare(e, c)
					}
					before := e.change(c.ID)
					if err := r.register(e, c.ID); err != nil {
						t.Fatal(err)
					}
					if diff := cmp.Diff(tt.want, e.wf.Answers()); diff != "" {
						t.Errorf("workflow answers (-want +got):\n%s", diff)
					}
					after := e.change(c.ID)
					p, _ := after.Party(nwc)
					if stored := p.TaskToken == "task"; stored != tt.stored {
						t.Errorf("task token stored: %v, want %v", stored, tt.stored)
					}
					if after.State != before.State {
						t.Errorf("registering a task moved the request from %s to %s", before.State, after.State)
					}
					// Its workflow seen, an open request owing nothing is due at its expiry.
					if after.State == contact.Pending && len(after.Outbox) == 0 && len(after.Events) == 0 && !after.DueAt.Equal(after.ExpiresAt) {
						t.Errorf("due at %v after the registration, want its expiry %v", after.DueAt, after.ExpiresAt)
					}
					// Registering again (a retried step) answers again and changes nothing else.
					if err := r.register(e, c.ID); err != nil {
						t.Fatal(err)
					}
					if n := len(e.wf.Answers()); n != 2*len(tt.want) {
						t.Errorf("%d answers after registering twice, want %d", n, 2*len(tt.want))
					}
					if got := e.change(c.ID).State; got != before.State {
						t.Errorf("state %s after registering twice, want %s", got, before.State)
					}
				})
			})
		}
	}
}

func TestRegisterTaskRefused(t *testing.T) {
	t.Parallel()
	onBackends(t, func(t *testing.T, e *env) {
		c := e.newTech()
		if err := e.m.RegisterTask(e.ctx, c.ID, tec, "task"); err == nil {
			t.Error("a task for someone who is not a party was registered")
		}
		if err := e.m.RegisterTask(e.ctx, "no-such-request", nwc, "task"); !errors.Is(err, contact.ErrNotFound) {
			t.Errorf("RegisterTask on an unknown request: %v, want not found", err)
		}
		if err := e.m.RegisterPartyTask(e.ctx, c.ID, 1, tec, "task"); err == nil {
			t.Error("a task for someone who is not a party was registered at a party's index")
		}
		if err := e.m.RegisterPartyTask(e.ctx, c.ID, 0, nwc, "task"); err != nil {
			t.Errorf("a party registered at another's index: %v, want its own registered", err)
		}
		if err := e.m.RegisterPartyTask(e.ctx, "no-such-request", 0, nwc, "task"); !errors.Is(err, contact.ErrNotFound) {
			t.Errorf("RegisterPartyTask on an unknown request: %v, want not found", err)
		}
		for _, p := range e.change(c.ID).Parties {
			if want := map[string]string{nwc: "task"}[p.NIC]; p.TaskToken != want {
				t.Errorf("party %s has task %q, want %q", p.NIC, p.TaskToken, want)
			}
		}
	})
}

func TestApplyDone(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		caller   string
		role     contact.Role
		to       string
		done     []string // told it is done
		replaced []string // told the role passed on
	}{
		{"admin sets new tech", adm, contact.Tech, nwc, []string{adm, nwc}, []string{tec}},
		{"admin sets new billing", adm, contact.Billing, nwc, []string{adm, nwc}, []string{bil}},
		{"admin takes billing himself", adm, contact.Billing, adm, []string{adm}, []string{bil}},
		{"admin hands admin over", adm, contact.Admin, nwc, []string{adm, nwc}, nil},
		{"tech hands tech over", tec, contact.Tech, nwc, []string{tec, nwc}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			onBackends(t, func(t *testing.T, e *env) {
				c := e.request1(tt.caller, svcID, tt.role, tt.to)
				e.acceptAll(c)
				at := e.clock.Advance(time.Second)
				got, err := e.m.Apply(e.ctx, c.ID)
				if err != nil {
					t.Fatal(err)
				}
				if got.State != contact.Done {
					t.Fatalf("Apply returned %s, want done", got.State)
				}
				stored := e.wantState(c.ID, contact.Done)
				if ev := lastEvent(t, stored); ev.Event != string(contact.StepDone) || ev.By != contact.System || !ev.At.Equal(at) {
					t.Errorf("last event %+v, want done by the system at %v", ev, at)
				}
				want := exampleContacts()
				want[tt.role] = tt.to
				e.wantContacts(svcID, want)
				e.wantReleased(stored)
				e.wantTold(c.ID, contact.NoticeDone, tt.done...)
				e.wantTold(c.ID, contact.NoticeReplaced, tt.replaced...)
				if !stored.DueAt.IsZero() || len(stored.Outbox) != 0 {
					t.Errorf("due %v with outbox %+v, want nothing left to do", stored.DueAt, stored.Outbox)
				}

				// A retried Apply (the workflow's step ran twice) changes and sends nothing.
				notices := len(e.mail.Attempts())
				e.clock.Advance(time.Hour)
				again, err := e.m.Apply(e.ctx, c.ID)
				if err != nil {
					t.Fatal(err)
				}
				if again.State != contact.Done || again.Version != stored.Version {
					t.Errorf("retried Apply: %s at version %d, want done at %d", again.State, again.Version, stored.Version)
				}
				if n := len(e.mail.Attempts()); n != notices {
					t.Errorf("a retried Apply sent %d notices", n-notices)
				}
				e.wantContacts(svcID, want)
			})
		})
	}
}

// What the execution's input says ahead of the request is read with it; where the request
// belies it (another service, an account it did not name), what is missing is read after,
// and the change is applied and told as without it.
func TestApplyKnowing(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		ahead func(c contact.Change) contact.Ahead
	}{
		{"the execution's input", func(c contact.Change) contact.Ahead {
			return contact.Ahead{ServiceID: c.ServiceID, Accounts: c.ApplyAccounts()}
		}},
		{"nothing ahead", func(contact.Change) contact.Ahead { return contact.Ahead{} }},
		{"another service", func(c contact.Change) contact.Ahead {
			return contact.Ahead{ServiceID: lateSvc, Accounts: c.ApplyAccounts()}
		}},
		{"an account short", func(c contact.Change) contact.Ahead {
			return contact.Ahead{ServiceID: c.ServiceID, Accounts: []string{adm}}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			onBackends(t, func(t *testing.T, e *env) {
				c := e.request1(adm, svcID, contact.Tech, nwc)
				e.acceptAll(c)
				got, err := e.m.ApplyKnowing(e.ctx, c.ID, tt.ahead(c))
				if err != nil {
					t.Fatal(err)
				}
				if got.State != contact.Done {
					t.Fatalf("ApplyKnowing returned %s, want done", got.State)
				}
				want := exampleContacts()
				want[contact.Tech] = nwc
				e.wantContacts(svcID, want)
				e.wantTold(c.ID, contact.NoticeDone, adm, nwc)
				e.wantTold(c.ID, contact.NoticeReplaced, tec)
			})
		})
	}
}

func TestApplyKnowingARequestNotThere(t *testing.T) {
	t.Parallel()
	onBackends(t, func(t *testing.T, e *env) {
		_, err := e.m.ApplyKnowing(e.ctx, "0123456789abcdef0123456789abcdef", contact.Ahead{ServiceID: svcID, Accounts: []string{adm}})
		if !errors.Is(err, contact.ErrNotFound) {
			t.Fatalf("error %v, want ErrNotFound", err)
		}
	})
}

func TestApplyFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		role   contact.Role
		to     string
		meddle func(e *env, c contact.Change) // what happens between the acceptances and the apply
		want   contact.Failure
	}{
		{"service gone", contact.Tech, nwc, func(e *env, c contact.Change) { e.deleteService(svcID) },
			contact.Failure{Code: contact.FailureServiceGone, Role: contact.Tech}},
		{"service record gone, roles left", contact.Tech, nwc, func(e *env, c contact.Change) { e.deleteItems([2]string{"SERVICE#" + svcID, "SERVICE"}) },
			contact.Failure{Code: contact.FailureServiceGone, Role: contact.Tech}},
		{"contact changed", contact.Tech, nwc, func(e *env, c contact.Change) { e.setHolder(svcID, contact.Tech, zed) },
			contact.Failure{Code: contact.FailureContactChanged, Role: contact.Tech}},
		{"role locked by another request", contact.Tech, nwc, func(e *env, c contact.Change) { e.lockRole(svcID, contact.Tech, "another-request") },
			contact.Failure{Code: contact.FailureRoleLocked, Role: contact.Tech}},
		{"role unlocked", contact.Tech, nwc, func(e *env, c contact.Change) { e.lockRole(svcID, contact.Tech, "") },
			contact.Failure{Code: contact.FailureRoleLocked, Role: contact.Tech}},
		{"new holder's account gone", contact.Tech, nwc, func(e *env, c contact.Change) { e.deleteAccount(nwc) },
			contact.Failure{Code: contact.FailureAccountGone, Role: contact.Tech, Account: nwc}},
		{"new admin's account gone", contact.Admin, nwc, func(e *env, c contact.Change) { e.deleteAccount(nwc) },
			contact.Failure{Code: contact.FailureAccountGone, Role: contact.Admin, Account: nwc}},
		{"new billing lost good standing", contact.Billing, nwc, func(e *env, c contact.Change) { e.setStanding(nwc, false) },
			contact.Failure{Code: contact.FailureNotInGoodStanding, Role: contact.Billing, Account: nwc}},
		{"old billing lost good standing", contact.Billing, nwc, func(e *env, c contact.Change) { e.setStanding(bil, false) },
			contact.Failure{Code: contact.FailureNotInGoodStanding, Role: contact.Billing, Account: bil}},
		{"old billing's account gone", contact.Billing, nwc, func(e *env, c contact.Change) { e.deleteAccount(bil) },
			contact.Failure{Code: contact.FailureAccountGone, Role: contact.Billing, Account: bil}},
		{"admin changed", contact.Tech, nwc, func(e *env, c contact.Change) { e.setHolder(svcID, contact.Admin, zed) },
			contact.Failure{Code: contact.FailureAdminChanged, Role: contact.Tech}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			onBackends(t, func(t *testing.T, e *env) {
				c := e.request1(adm, svcID, tt.role, tt.to)
				for _, p := range c.Parties {
					if err := e.m.RegisterTask(e.ctx, c.ID, p.NIC, "task-"+p.NIC); err != nil {
						t.Fatal(err)
					}
				}
				e.acceptAll(c)
				tt.meddle(e, c)
				var contactsBefore map[contact.Role]string
				if svc, err := e.st.Service(e.ctx, svcID); err == nil {
					contactsBefore = svc.Contacts
				}
				answers := len(e.wf.Answers())

				got, err := e.m.Apply(e.ctx, c.ID)
				if err != nil {
					t.Fatal(err)
				}
				if got.State != contact.Failed {
					t.Fatalf("Apply returned %s, want failed", got.State)
				}
				stored := e.wantState(c.ID, contact.Failed)
				if ev := lastEvent(t, stored); ev.Event != string(contact.StepFailed) || ev.Detail != tt.want.String() {
					t.Errorf("last event %+v, want failed: %s", ev, tt.want)
				}
				// Nothing changed, and the role is no longer locked by the request.
				if contactsBefore != nil {
					e.wantContacts(svcID, contactsBefore)
				}
				e.wantReleased(stored)
				if tt.want.Code == contact.FailureRoleLocked {
					// The other request's lock is left alone.
					if lock := e.service(svcID).Open[tt.role]; lock != e.lockOf(tt.name) {
						t.Errorf("lock %q, want it untouched", lock)
					}
				}
				// Everyone involved is told why, once.
				told := stored.Involved()
				e.wantTold(c.ID, contact.NoticeFailed, e.reachable(told)...)
				for _, n := range e.mail.Of(c.ID, contact.NoticeFailed) {
					if n.Failure != tt.want {
						t.Errorf("failure told to %s: %+v, want %+v", n.To, n.Failure, tt.want)
					}
				}
				if n := len(e.mail.Of(c.ID, contact.NoticeDone)); n != 0 {
					t.Errorf("%d done notices for a failed change", n)
				}
				// The workflow's tasks are answered: the request is over.
				for _, a := range e.wf.Answers()[answers:] {
					if a.Op != "stop" || a.Reason != contact.Cancelled {
						t.Errorf("answer %+v after the failure, want stop (cancelled)", a)
					}
				}
				// Retrying sends nothing more.
				notices := len(e.mail.Attempts())
				if again, err := e.m.Apply(e.ctx, c.ID); err != nil || again.State != contact.Failed {
					t.Errorf("retried Apply = %s, %v; want failed", again.State, err)
				}
				if n := len(e.mail.Attempts()); n != notices {
					t.Errorf("a retried Apply sent %d notices", n-notices)
				}
			})
		})
	}
}

// lockOf is the lock the role-lock cases of TestApplyFailures leave.
func (e *env) lockOf(name string) string {
	if name == "role unlocked" {
		return ""
	}
	return "another-request"
}

// reachable keeps the accounts that still exist with an email address: the others cannot
// be told.
func (e *env) reachable(nics []string) []string {
	e.t.Helper()
	var out []string
	for _, nic := range nics {
		if a, err := e.st.Account(e.ctx, nic); err == nil && a.Email != "" {
			out = append(out, nic)
		}
	}
	return out
}

func TestApplyNotApplying(t *testing.T) {
	t.Parallel()
	onBackends(t, func(t *testing.T, e *env) {
		c := e.newTech()
		e.decide(c.ID, adm, true)
		before := e.change(c.ID)
		got, err := e.m.Apply(e.ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.State != contact.Pending {
			t.Errorf("Apply on a pending request returned %s", got.State)
		}
		if diff := cmp.Diff(before, e.change(c.ID)); diff != "" {
			t.Errorf("Apply changed a pending request (-before +after):\n%s", diff)
		}
		e.wantContacts(svcID, exampleContacts())
		if _, err := e.m.Apply(e.ctx, "no-such-request"); !errors.Is(err, contact.ErrNotFound) {
			t.Errorf("Apply on an unknown request: %v, want not found", err)
		}
	})
}

func TestFinish(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		prepare func(e *env, c contact.Change)
		outcome contact.State
		state   contact.State
		told    contact.NoticeKind
		failure contact.Failure
	}{
		{"refused", nil, contact.Refused, contact.Refused, contact.NoticeRefused, contact.Failure{}},
		{"cancelled", nil, contact.Cancelled, contact.Cancelled, contact.NoticeCancelled, contact.Failure{}},
		{"expired", nil, contact.Expired, contact.Expired, contact.NoticeExpired, contact.Failure{}},
		{"expired after one acceptance", func(e *env, c contact.Change) { e.decide(c.ID, adm, true) },
			contact.Expired, contact.Expired, contact.NoticeExpired, contact.Failure{}},
		{"failed while pending", nil, contact.Failed, contact.Failed, contact.NoticeFailed, contact.Failure{Code: contact.FailureWorkflowLost}},
		{"failed while applying", func(e *env, c contact.Change) { e.acceptAll(c) },
			contact.Failed, contact.Failed, contact.NoticeFailed, contact.Failure{Code: contact.FailureWorkflowLost}},
		// Every party accepted just as the request expired: the acceptances count.
		{"expired when every party accepted", func(e *env, c contact.Change) { e.acceptAll(c) },
			contact.Expired, contact.Done, contact.NoticeDone, contact.Failure{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			onBackends(t, func(t *testing.T, e *env) {
				c := e.newTech()
				if err := e.m.RegisterTask(e.ctx, c.ID, nwc, "task"); err != nil {
					t.Fatal(err)
				}
				if tt.prepare != nil {
					tt.prepare(e, c)
				}
				got, err := e.m.Finish(e.ctx, c.ID, tt.outcome)
				if err != nil {
					t.Fatal(err)
				}
				if got.State != tt.state {
					t.Errorf("Finish returned %s, want %s", got.State, tt.state)
				}
				stored := e.wantState(c.ID, tt.state)
				e.wantReleased(stored)
				wantContacts := exampleContacts()
				if tt.state == contact.Done {
					wantContacts[contact.Tech] = nwc
					e.wantTold(c.ID, contact.NoticeDone, adm, nwc)
					e.wantTold(c.ID, contact.NoticeReplaced, tec)
				} else {
					e.wantTold(c.ID, tt.told, adm, nwc, tec)
					if ev := lastEvent(t, stored); ev.Event != string(tt.outcome) || ev.By != contact.System {
						t.Errorf("last event %+v, want %s by the system", ev, tt.outcome)
					}
				}
				e.wantContacts(svcID, wantContacts)
				for _, n := range e.mail.Of(c.ID, tt.told) {
					if n.Failure != tt.failure {
						t.Errorf("failure told to %s: %+v, want %+v", n.To, n.Failure, tt.failure)
					}
				}

				// The step retried: nothing changes, nothing is sent again.
				notices := len(e.mail.Attempts())
				e.clock.Advance(time.Hour)
				again, err := e.m.Finish(e.ctx, c.ID, tt.outcome)
				if err != nil {
					t.Fatal(err)
				}
				if again.State != tt.state {
					t.Errorf("second Finish returned %s, want %s", again.State, tt.state)
				}
				if n := len(e.mail.Attempts()); n != notices {
					t.Errorf("a second Finish sent %d notices", n-notices)
				}
			})
		})
	}
}

func TestFinishRefusesWhatIsNotAnOutcome(t *testing.T) {
	t.Parallel()
	onBackends(t, func(t *testing.T, e *env) {
		c := e.newTech()
		for _, outcome := range []contact.State{contact.Pending, contact.Applying, contact.Done, "bogus"} {
			if _, err := e.m.Finish(e.ctx, c.ID, outcome); err == nil {
				t.Errorf("Finish(%q) succeeded", outcome)
			}
		}
		e.wantState(c.ID, contact.Pending)
		if n := len(e.mail.Attempts()); n != 2 {
			t.Errorf("%d notices, want only the 2 token emails", n)
		}
	})
}
