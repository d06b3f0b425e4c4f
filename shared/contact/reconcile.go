package contact

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// sweepBatch bounds the requests one sweep looks at; a sweep that finds more leaves them to
// the next.
const sweepBatch = 100

// Sweep reconciles every request that is due (see Change.DueAt): past its expiry, applying
// too long, whose workflow never showed up, or whose outbox holds messages or events; and
// settles every operator's edit that still owes something (see Record.DueAt), and tells the
// outcomes of every batch whose requests have all ended (see Batch.DueAt). It returns
// how many it looked at. One request's failure does not stop the others; their errors are
// joined.
func (m *Manager) Sweep(ctx context.Context) (int, error) {
	ids, err := m.store.DueChanges(ctx, m.now(), sweepBatch)
	if err != nil {
		return 0, fmt.Errorf("list due requests: %w", err)
	}
	var errs []error
	for _, id := range ids {
		if _, err := m.Reconcile(ctx, id); err != nil {
			errs = append(errs, err)
		}
	}
	records, err := m.store.DueRecords(ctx, m.now(), sweepBatch)
	if err != nil {
		return len(ids), errors.Join(append(errs, fmt.Errorf("list due records: %w", err))...)
	}
	for _, id := range records {
		rec, err := m.store.Record(ctx, id)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("load record %s: %w", id, err))
			continue
		}
		m.settle(ctx, rec, false)
	}
	batches, err := m.sweepBatches(ctx)
	if err != nil {
		errs = append(errs, err)
	}
	return len(ids) + len(records) + batches, errors.Join(errs...)
}

// Reconcile moves one request on from what the store holds, when what should have moved it
// did not: it sends what the outbox still owes, expires it past its expiry, applies it when
// it has been applying too long or its workflow is gone, fails it when its workflow stopped
// or never started, and answers its workflow's callback tasks again (a lost answer). It is
// safe to call at any time, any number of times.
func (m *Manager) Reconcile(ctx context.Context, id string) (Change, error) {
	c, err := m.store.Change(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return Change{}, nil // purged: nothing left to do
	}
	if err != nil {
		return Change{}, fmt.Errorf("load request %s: %w", id, err)
	}
	c = m.deliver(ctx, c, 0)
	now := m.now()

	switch c.State {
	case Pending:
		if !now.Before(c.ExpiresAt) {
			return m.end(ctx, id, ending{step: StepExpired, by: System})
		}
		status, err := m.workflow.Status(ctx, c)
		if err != nil {
			return c, fmt.Errorf("reconcile request %s: %w", id, err)
		}
		switch status {
		case WorkflowStopped, WorkflowSucceeded:
			return m.failRequest(ctx, id, Failure{Code: FailureWorkflowLost})
		case WorkflowMissing:
			if now.Before(c.CreatedAt.Add(m.timing.startGrace)) {
				return c, nil // still starting
			}
			// The parties never got their tokens: only the requester is told.
			return m.end(ctx, id, ending{step: StepFailed, by: System, reason: Failure{Code: FailureWorkflowLost}, tell: []string{c.RequestedBy}})
		}
		if c = m.answerAgain(ctx, c); c.workflowSeen() {
			return c, nil
		}
		return m.postpone(ctx, c, m.timing.startGrace)

	case Applying:
		status, err := m.workflow.Status(ctx, c)
		if err != nil {
			return c, fmt.Errorf("reconcile request %s: %w", id, err)
		}
		if status == WorkflowRunning && now.Before(c.since(StepApplying).Add(m.timing.applyGrace)) {
			return c, nil
		}
		if c, err = m.Apply(ctx, id); err != nil {
			return c, err
		}
		if c.State == Applying {
			return c, nil
		}
	}
	// Ended: end what an admin hand-over superseded, and let a workflow still waiting on a
	// lost answer end too.
	return m.answerAgain(ctx, m.endSuperseded(ctx, c)), nil
}

// answerAgain answers c's workflow tasks from what the store holds, and clears the debt of
// an earlier failed answer once they all went through.
func (m *Manager) answerAgain(ctx context.Context, c Change) Change {
	owed := !c.AnswerAgainAt.IsZero()
	c = m.answerTasks(ctx, c, "")
	if !owed || c.AnswerAgainAt.After(m.now()) {
		return c // nothing was owed, or answering failed again and is owed later
	}
	saved, err := m.bookkeep(ctx, c, func(c *Change) { c.AnswerAgainAt = time.Time{} }, time.Time{})
	if err != nil {
		m.log.ErrorContext(ctx, "record answered workflow", "changeId", c.ID, "err", err)
		return c
	}
	return saved
}

// postpone makes c due again after d at the earliest, but no later than its expiry: the
// reconciler found nothing to do yet.
func (m *Manager) postpone(ctx context.Context, c Change, d time.Duration) (Change, error) {
	later := m.now().Add(d)
	if c.ExpiresAt.Before(later) {
		later = c.ExpiresAt
	}
	return m.bookkeep(ctx, c, func(*Change) {}, later)
}
