package contact

import (
	"fmt"
	"time"
)

// Step is an event of a request's lifecycle, as its history records it.
type Step string

// The lifecycle's steps. Their names are the "event" of the request's history entries.
const (
	StepCreated   Step = "created"
	StepAccepted  Step = "accepted"  // one party accepted; others still wait
	StepApplying  Step = "applying"  // the last party accepted
	StepRefused   Step = "refused"   // a party refused
	StepCancelled Step = "cancelled" // the requester (or an operator) withdrew it
	StepExpired   Step = "expired"   // not confirmed in time
	StepDone      Step = "done"      // the role changed hands
	StepFailed    Step = "failed"    // it could not go on; the detail says why
)

// transition is one row of the lifecycle: in state from, step on leads to state to.
type transition struct {
	from State
	on   Step
	to   State
}

// lifecycle is every move a request can make; any other is refused. Terminal states have
// no row: they never change again.
var lifecycle = []transition{
	{Pending, StepAccepted, Pending},
	{Pending, StepApplying, Applying},
	{Pending, StepRefused, Refused},
	{Pending, StepCancelled, Cancelled},
	{Pending, StepExpired, Expired},
	{Pending, StepFailed, Failed},
	{Applying, StepDone, Done},
	{Applying, StepFailed, Failed},
}

// next returns the state step leads to from state, and whether the lifecycle allows it.
func next(from State, on Step) (State, bool) {
	for _, t := range lifecycle {
		if t.from == from && t.on == on {
			return t.to, true
		}
	}
	return "", false
}

// errTransition reports a move the lifecycle does not allow. Use cases check CanTake first;
// reaching it is a bug, never a caller's mistake.
type errTransition struct {
	id   string
	from State
	on   Step
}

func (e errTransition) Error() string {
	return fmt.Sprintf("request %s: %s is not allowed when %s", e.id, e.on, e.from)
}

// CanTake reports whether the lifecycle allows step from c's current state.
func (c Change) CanTake(step Step) bool {
	_, ok := next(c.State, step)
	return ok
}

// take moves c by step, as the lifecycle table allows, records it in the history and owes
// the event it publishes.
func (c *Change) take(step Step, at time.Time, by, detail string) error {
	return c.move(step, at, by, detail, "")
}

// fail moves c to failed, saying why.
func (c *Change) fail(at time.Time, by string, f Failure) error {
	if err := c.move(StepFailed, at, by, f.String(), f.Code); err != nil {
		return err
	}
	c.Failure = f
	return nil
}

func (c *Change) move(step Step, at time.Time, by, detail string, reason FailureCode) error {
	to, ok := next(c.State, step)
	if !ok {
		return errTransition{id: c.ID, from: c.State, on: step}
	}
	c.State = to
	c.record(at, by, string(step), detail)
	c.announce(step, at, by, reason)
	return nil
}
