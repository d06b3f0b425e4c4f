package contact_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/servicecontacts/servicecontacts/shared/contact"
)

var (
	allStates = []contact.State{contact.Pending, contact.Applying, contact.Done, contact.Refused, contact.Expired, contact.Cancelled, contact.Failed}
	allSteps  = []contact.Step{
		contact.StepCreated, contact.StepAccepted, contact.StepApplying, contact.StepRefused,
		contact.StepCancelled, contact.StepExpired, contact.StepDone, contact.StepFailed,
	}
)

// TestCanTakeEveryStateAndStep holds the lifecycle to the spec: pending moves on by every
// decision, applying ends done or failed, and a terminal state never changes again.
func TestCanTakeEveryStateAndStep(t *testing.T) {
	t.Parallel()
	allowed := map[contact.State][]contact.Step{
		contact.Pending: {contact.StepAccepted, contact.StepApplying, contact.StepRefused, contact.StepCancelled,
			contact.StepExpired, contact.StepFailed},
		contact.Applying: {contact.StepDone, contact.StepFailed},
	}
	for _, s := range allStates {
		for _, step := range allSteps {
			want := false
			for _, a := range allowed[s] {
				want = want || a == step
			}
			if got := (contact.Change{State: s}).CanTake(step); got != want {
				t.Errorf("%s.CanTake(%s) = %v, want %v", s, step, got, want)
			}
		}
		if s.Terminal() != (len(allowed[s]) == 0) {
			t.Errorf("%s: terminal %v, but it allows %v", s, s.Terminal(), allowed[s])
		}
	}
	for _, s := range []contact.State{"", "bogus"} {
		for _, step := range allSteps {
			if (contact.Change{State: s}).CanTake(step) {
				t.Errorf("state %q allows %s", s, step)
			}
		}
	}
	for _, s := range allStates {
		if (contact.Change{State: s}).CanTake("teleported") {
			t.Errorf("%s allows an unknown step", s)
		}
	}
}

// TestEveryStepIsRecorded walks each path of the lifecycle through the Manager and checks
// the history it leaves: the steps' names are the events parties see.
func TestEveryStepIsRecorded(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		walk func(e *env, c contact.Change)
		want []contact.Step
	}{
		{"done", func(e *env, c contact.Change) {
			e.acceptAll(c)
			if _, err := e.m.Apply(e.ctx, c.ID); err != nil {
				e.t.Fatal(err)
			}
		}, []contact.Step{contact.StepCreated, contact.StepAccepted, contact.StepAccepted, contact.StepApplying, contact.StepDone}},
		{"refused", func(e *env, c contact.Change) { e.decide(c.ID, adm, false) },
			[]contact.Step{contact.StepCreated, contact.StepRefused}},
		{"cancelled", func(e *env, c contact.Change) {
			if _, err := e.m.Cancel(e.ctx, adm, c.ID); err != nil {
				e.t.Fatal(err)
			}
		}, []contact.Step{contact.StepCreated, contact.StepCancelled}},
		{"expired", func(e *env, c contact.Change) {
			e.decide(c.ID, nwc, true)
			if _, err := e.m.Finish(e.ctx, c.ID, contact.Expired); err != nil {
				e.t.Fatal(err)
			}
		}, []contact.Step{contact.StepCreated, contact.StepAccepted, contact.StepExpired}},
		{"failed applying", func(e *env, c contact.Change) {
			e.acceptAll(c)
			e.setHolder(svcID, contact.Tech, zed)
			if _, err := e.m.Apply(e.ctx, c.ID); err != nil {
				e.t.Fatal(err)
			}
		}, []contact.Step{contact.StepCreated, contact.StepAccepted, contact.StepAccepted, contact.StepApplying, contact.StepFailed}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			onBackends(t, func(t *testing.T, e *env) {
				c := e.newTech()
				tt.walk(e, c)
				var got []contact.Step
				for _, ev := range e.change(c.ID).History {
					got = append(got, contact.Step(ev.Event))
				}
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("history (-want +got):\n%s", diff)
				}
			})
		})
	}
}

func TestFailureWording(t *testing.T) {
	t.Parallel()
	seen := map[string]contact.FailureCode{}
	for _, code := range contact.FailureCodes {
		s := contact.Failure{Code: code, Role: contact.Billing, Account: nwc}.String()
		if s == "" || s == string(code) {
			t.Errorf("%s has no wording", code)
		}
		if other, dup := seen[s]; dup {
			t.Errorf("%s and %s are worded alike: %q", code, other, s)
		}
		seen[s] = code
	}
	if got := (contact.Failure{Code: "new_reason"}).String(); got != "new_reason" {
		t.Errorf("an unknown code is worded %q, want the code itself", got)
	}
}

func TestModelHelpers(t *testing.T) {
	t.Parallel()
	c := contact.Change{
		RequestedBy: adm,
		Parties:     []contact.Party{{NIC: adm, Status: contact.Accepted}, {NIC: nwc, Status: contact.Waiting}},
		Notify:      []string{tec, adm},
	}
	if diff := cmp.Diff([]string{adm, nwc, tec}, c.Involved()); diff != "" {
		t.Errorf("Involved (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{nwc}, c.WaitingFor()); diff != "" {
		t.Errorf("WaitingFor (-want +got):\n%s", diff)
	}
	if p, ok := c.Party(nwc); !ok || p.NIC != nwc {
		t.Errorf("Party(%s) = %v, %v", nwc, p, ok)
	}
	if _, ok := c.Party(tec); ok {
		t.Errorf("%s, only told, is a party", tec)
	}
	svc := contact.Service{Contacts: map[contact.Role]string{contact.Admin: adm, contact.Tech: tec, contact.Billing: adm}}
	if diff := cmp.Diff([]contact.Role{contact.Admin, contact.Billing}, svc.RolesOf(adm)); diff != "" {
		t.Errorf("RolesOf (-want +got):\n%s", diff)
	}
	for in, want := range map[string]contact.Language{"it": contact.Italian, " FR ": contact.French, "en": contact.English, "": contact.English, "de": contact.English} {
		if got := contact.ParseLanguage(in); got != want {
			t.Errorf("ParseLanguage(%q) = %q, want %q", in, got, want)
		}
	}
	for _, r := range []contact.Role{contact.Admin, contact.Tech, contact.Billing} {
		if !r.Valid() {
			t.Errorf("%s is not valid", r)
		}
	}
	if contact.Role("owner").Valid() {
		t.Error("owner is a valid role")
	}
	err := contact.Errorf(contact.ErrRule, "same_holder", "%s already holds it", adm)
	if err.Error() != "same_holder: "+adm+" already holds it" || err.Unwrap() != contact.ErrRule {
		t.Errorf("Errorf = %q unwrapping %v", err.Error(), err.Unwrap())
	}
}
