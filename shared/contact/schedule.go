package contact

import (
	"slices"
	"time"
)

// How long the reconciler lets the workflow take before it steps in.
const (
	// DefaultStartGrace is how long a new request's workflow may take to register its first
	// callback task; past it, the reconciler checks that the workflow runs at all.
	DefaultStartGrace = 2 * time.Minute
	// DefaultApplyGrace is how long a request may stay applying before the reconciler
	// applies it itself.
	DefaultApplyGrace = 2 * time.Minute
)

// timing is what the schedule depends on.
type timing struct {
	startGrace  time.Duration
	applyGrace  time.Duration
	ownerWindow time.Duration
}

// schedule sets c.DueAt: when the reconciler must look at c again if nothing else moves it.
// An open request is due when its workflow should have shown up, when it expires, or when
// it has been applying too long; any request is due while its outbox holds messages or
// events.
func (c *Change) schedule(t timing) {
	for i := range c.Events {
		if c.Events[i].NextAt.IsZero() { // newly owed: the owner publishes it first
			c.Events[i].NextAt = c.Events[i].At.Add(t.ownerWindow).UTC()
		}
	}
	due := c.outboxDue()
	for _, t := range []time.Time{c.openDue(t), c.AnswerAgainAt, c.supersedesDue(t)} {
		if !t.IsZero() && (due.IsZero() || t.Before(due)) {
			due = t
		}
	}
	c.DueAt = due.UTC()
	if due.IsZero() {
		c.DueAt = time.Time{}
	}
}

// scheduled is the DueAt schedule would set on c, c left as it is.
func (c Change) scheduled(t timing) time.Time {
	c.Events = slices.Clone(c.Events)
	c.schedule(t)
	return c.DueAt
}

func (c Change) openDue(t timing) time.Time {
	switch c.State {
	case Pending:
		if !c.workflowSeen() {
			if start := c.CreatedAt.Add(t.startGrace); start.Before(c.ExpiresAt) {
				return start
			}
		}
		return c.ExpiresAt
	case Applying:
		return c.since(StepApplying).Add(t.applyGrace)
	}
	return time.Time{}
}

// supersedesDue is when the reconciler must end the requests an admin hand-over superseded,
// if the hand-over's own call did not.
func (c Change) supersedesDue(t timing) time.Time {
	if len(c.Supersedes) == 0 {
		return time.Time{}
	}
	return c.since(StepDone).Add(t.ownerWindow)
}

// workflowSeen reports whether the workflow has registered a callback task for any party,
// which shows it started.
func (c Change) workflowSeen() bool {
	for _, p := range c.Parties {
		if p.TaskToken != "" {
			return true
		}
	}
	return false
}

// since returns the time of the latest history entry of step; the creation time if none.
func (c Change) since(step Step) time.Time {
	for i := len(c.History) - 1; i >= 0; i-- {
		if c.History[i].Event == string(step) {
			return c.History[i].At
		}
	}
	return c.CreatedAt
}
