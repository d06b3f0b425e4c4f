package contact

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"
)

// RegisterTask stores the workflow's callback token for a party, then answers it at once if
// the party already decided or the request is already closed.
func (m *Manager) RegisterTask(ctx context.Context, id, nic, taskToken string) error {
	c, err := m.update(ctx, id, func(c *Change) error {
		p, ok := c.Party(nic)
		if !ok {
			return fmt.Errorf("request %s has no party %s", id, nic)
		}
		if c.State.Terminal() {
			return errNoChange // answered below, not stored: the request is over
		}
		p.TaskToken = taskToken
		return nil
	})
	if err != nil && !errors.Is(err, errNoChange) {
		return err
	}
	p, _ := c.Party(nic)
	p.TaskToken = taskToken
	return m.answerRegistered(ctx, c, *p)
}

// RegisterPartyTask is RegisterTask for the party at index party of the request's parties,
// as the workflow's input lists them. Where nothing else is owed, which is the common case,
// one conditional write stores the token and schedules the request; otherwise RegisterTask
// reads and saves it.
func (m *Manager) RegisterPartyTask(ctx context.Context, id string, party int, nic, taskToken string) error {
	c, err := m.store.SetTaskToken(ctx, id, party, nic, taskToken)
	if errors.Is(err, ErrConflict) {
		return m.RegisterTask(ctx, id, nic, taskToken)
	}
	if err != nil {
		return fmt.Errorf("register the task of %s on request %s: %w", nic, id, err)
	}
	// The write scheduled the request as schedule does when nothing is owed; should the two
	// ever differ, schedule's is stored.
	if stored := c.DueAt; !c.scheduled(m.timing).Equal(stored) {
		if c, err = m.bookkeep(ctx, c, func(*Change) {}, time.Time{}); err != nil {
			return err
		}
	}
	p, ok := c.Party(nic)
	if !ok {
		return fmt.Errorf("request %s has no party %s", id, nic)
	}
	return m.answerRegistered(ctx, c, *p)
}

// answerRegistered answers the task just registered for party p of c at once if p already
// decided or c is already closed. Should that fail, the reconciler answers again from the
// store; an ended request, which keeps no token of a task registered after its end, keeps
// this one for it. Otherwise the execution would wait for its timeout, the request's
// expiry, days after the request ended.
func (m *Manager) answerRegistered(ctx context.Context, c Change, p Party) error {
	if err := m.answerTask(ctx, c, p); err != nil {
		m.log.ErrorContext(ctx, "answer workflow", "changeId", c.ID, "err", err)
		_, err = m.bookkeep(ctx, c, func(c *Change) {
			if q, ok := c.Party(p.NIC); ok {
				q.TaskToken = p.TaskToken
			}
			c.AnswerAgainAt = m.now().Add(m.timing.applyGrace).UTC()
		}, time.Time{})
		return err
	}
	return nil
}

// maxApplyRounds bounds the rounds of Apply whose transaction lost to a concurrent write:
// each round reads everything again and ends the request, done or failed with a reason.
const maxApplyRounds = 5

// Apply hands the role to its new holder once every party accepted, or ends the request
// failed when the service, its contacts, the requester's authority or a prerequisite no
// longer hold. A retried Apply changes nothing and sends only what is still owed.
func (m *Manager) Apply(ctx context.Context, id string) (Change, error) {
	return m.ApplyKnowing(ctx, id, Ahead{})
}

// Ahead is what a workflow knows of its request before reading it: the service and the
// accounts that applying the change reads (Change.ApplyAccounts, when it started), so that
// they are read with the request in one call. A zero Ahead, or one the request belies, costs
// a second read.
type Ahead struct {
	ServiceID string
	Accounts  []string
}

// ApplyKnowing is Apply, reading the request with what ahead says it involves.
func (m *Manager) ApplyKnowing(ctx context.Context, id string, ahead Ahead) (Change, error) {
	for round := 0; ; round++ {
		c, got, nics, err := m.readToApply(ctx, id, ahead)
		if err != nil {
			return Change{}, err
		}
		if c.State != Applying {
			return m.deliver(ctx, c, 0), nil // already applied or ended: only what is overdue
		}
		svc, failure := stillApplicable(c, got)
		if failure.Code != "" {
			return m.failRequest(ctx, id, failure)
		}
		done := c
		now := m.now()
		if err := done.take(StepDone, now, System, ""); err != nil {
			return Change{}, err
		}
		done.announceHolders(svc.Contacts, now)
		done.oweOutcome(Failure{}, m.ownerDeadline(now))
		if done.Role == Admin {
			done.Supersedes = otherOpenRequests(svc, done.ID)
		}
		done.schedule(m.timing)
		saved, err := m.store.ApplyChange(ctx, done)
		switch {
		case err == nil:
			accounts := m.accountReader()
			accounts.add(got.Accounts, nics)
			saved = m.deliverWith(ctx, accounts, saved, saved.Version)
			return m.endSuperseded(ctx, saved), nil
		case errors.Is(err, ErrConflict) && round < maxApplyRounds:
			// Something moved between the checks and the write: the next round finds what,
			// and ends the request with that reason, or finds it already done.
			m.pause(round)
		default:
			return Change{}, fmt.Errorf("apply request %s: %w", id, err)
		}
	}
}

// ApplyAccounts are the accounts applying c reads: everyone involved, told of the outcome,
// the new holder and the one replaced.
func (c Change) ApplyAccounts() []string {
	return append(c.Involved(), c.To, c.From)
}

// readToApply reads request id and, while it is applying, its service and the accounts the
// checks and the outcome emails need; nics are the accounts asked for. Ahead of time, the
// request comes in the same consistent read as the rest; without, or when the request names
// another service or more accounts than ahead said, a second read brings what is missing.
func (m *Manager) readToApply(ctx context.Context, id string, ahead Ahead) (c Change, got Fetched, nics []string, err error) {
	if ahead.ServiceID != "" {
		got, err = m.store.Fetch(ctx, Fetch{Change: id, Service: ahead.ServiceID, Accounts: ahead.Accounts})
		if err != nil {
			return Change{}, Fetched{}, nil, fmt.Errorf("load request %s with service %s: %w", id, ahead.ServiceID, err)
		}
		c = got.Change
		if c.ID == "" {
			return Change{}, Fetched{}, nil, Errorf(ErrNotFound, "request_not_found", "request %s not found", id)
		}
	} else if c, err = m.store.Change(ctx, id); err != nil {
		return Change{}, Fetched{}, nil, fmt.Errorf("load request %s: %w", id, err)
	}
	if c.State != Applying {
		return c, Fetched{}, nil, nil
	}
	nics = c.ApplyAccounts()
	read := map[string]bool{}
	if c.ServiceID == ahead.ServiceID {
		for _, nic := range ahead.Accounts {
			read[nic] = true
		}
	}
	var missing []string
	for _, nic := range nics {
		if !read[nic] {
			missing = append(missing, nic)
		}
	}
	if c.ServiceID == ahead.ServiceID && len(missing) == 0 {
		return c, got, ahead.Accounts, nil
	}
	f := Fetch{Accounts: missing}
	if c.ServiceID != ahead.ServiceID {
		f.Service = c.ServiceID
	}
	more, err := m.store.Fetch(ctx, f)
	if err != nil {
		return Change{}, Fetched{}, nil, fmt.Errorf("load service %s: %w", c.ServiceID, err)
	}
	if f.Service != "" {
		got.Service = more.Service
	}
	if got.Accounts == nil {
		got.Accounts = map[string]Account{}
	}
	maps.Copy(got.Accounts, more.Accounts)
	return c, got, append(slices.Clone(ahead.Accounts), missing...), nil
}

// stillApplicable checks again, when the change is about to be applied, what held when it
// was requested: the service, its holder, the role's lock, the requester's authority by the
// rules table, and the accounts, as got holds them. It returns the service and why the
// change can no longer be applied (a zero Failure if it can).
func stillApplicable(c Change, got Fetched) (Service, Failure) {
	svc := got.Service
	if svc.ID == "" {
		return Service{}, Failure{Code: FailureServiceGone, Role: c.Role}
	}
	if svc.Contacts[c.Role] != c.From {
		return svc, Failure{Code: FailureContactChanged, Role: c.Role}
	}
	if svc.Open[c.Role] != c.ID {
		return svc, Failure{Code: FailureRoleLocked, Role: c.Role}
	}
	if f := StillPermitted(svc, c); f.Code != "" {
		return svc, f
	}
	accounts := []string{c.To}
	if c.Role == Billing {
		accounts = append(accounts, c.From)
	}
	for _, nic := range accounts {
		a, ok := got.Accounts[nic]
		if !ok {
			return svc, Failure{Code: FailureAccountGone, Role: c.Role, Account: nic}
		}
		if c.Role == Billing && !a.GoodStanding {
			return svc, Failure{Code: FailureNotInGoodStanding, Role: c.Role, Account: nic}
		}
	}
	return svc, Failure{}
}

// otherOpenRequests lists the requests open on svc's roles, but for the one with id except.
func otherOpenRequests(svc Service, except string) []string {
	var ids []string
	for _, role := range Roles {
		if id := svc.Open[role]; id != "" && id != except {
			ids = append(ids, id)
		}
	}
	return ids
}

// endSuperseded ends the requests that the admin hand-over applied superseded: those of its
// Supersedes that the previous admin's authority allowed. Once all have ended it clears
// Supersedes; a failure leaves it for the reconciler, which calls this again. Each such
// request would also fail when its own turn to apply came; this ends it now.
func (m *Manager) endSuperseded(ctx context.Context, applied Change) Change {
	if len(applied.Supersedes) == 0 {
		return applied
	}
	for _, id := range applied.Supersedes {
		c, err := m.store.Change(ctx, id)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err == nil && c.RequestedBy == applied.From && c.Authority == Admin && !c.State.Terminal() {
			_, err = m.failRequest(ctx, id, Failure{Code: FailureAdminChanged, Role: c.Role})
		}
		if err != nil {
			m.log.ErrorContext(ctx, "end a request of the previous admin", "changeId", id, "err", err)
			return applied
		}
	}
	saved, err := m.bookkeep(ctx, applied, func(c *Change) { c.Supersedes = nil }, time.Time{})
	if err != nil {
		m.log.ErrorContext(ctx, "record the superseded requests ended", "changeId", applied.ID, "err", err)
		return applied
	}
	return saved
}

// failRequest ends an open request failed, saying why, tells everyone involved, and ends
// the workflow's waits.
func (m *Manager) failRequest(ctx context.Context, id string, reason Failure) (Change, error) {
	return m.end(ctx, id, ending{step: StepFailed, by: System, reason: reason})
}

// ending says how end ends a request: by step, on whose decision (System, or an operator),
// with what detail in the history (the failure's wording when empty), and whom to tell
// (everyone involved when tell is nil).
type ending struct {
	step   Step
	by     string
	detail string
	reason Failure
	tell   []string
}

// end moves an open request to a terminal state, owes the outcome emails to those the
// outcome concerns, answers the workflow's tasks and sends what is owed. On a request that
// already ended it only sends what is still owed.
func (m *Manager) end(ctx context.Context, id string, e ending) (Change, error) {
	c, err := m.update(ctx, id, func(c *Change) error {
		if !c.CanTake(e.step) {
			return errNoChange
		}
		now := m.now()
		var err error
		switch {
		case e.step == StepFailed && e.detail == "":
			err = c.fail(now, e.by, e.reason)
		default:
			err = c.move(e.step, now, e.by, e.detail, e.reason.Code)
		}
		if err != nil {
			return err
		}
		if e.tell == nil {
			c.oweOutcome(e.reason, m.ownerDeadline(now))
		} else {
			c.owe(NoticeFailed, e.tell, e.reason, m.ownerDeadline(now))
		}
		return nil
	})
	if errors.Is(err, errNoChange) {
		return m.deliver(ctx, c, 0), nil // ended by another: only what is overdue
	}
	if err != nil {
		return Change{}, err
	}
	mine := c.Version
	c = m.answerTasks(ctx, c, "")
	return m.deliver(ctx, c, mine), nil
}

// Finish ends a request on one of the workflow's closing paths: refused, cancelled, expired,
// or failed when the workflow could not go on. A request whose parties all accepted just as
// it expired is applied: the acceptances count.
func (m *Manager) Finish(ctx context.Context, id string, outcome State) (Change, error) {
	step, reason := map[State]Step{Refused: StepRefused, Cancelled: StepCancelled, Expired: StepExpired, Failed: StepFailed}[outcome], Failure{}
	if step == "" {
		return Change{}, fmt.Errorf("finish request %s: %q is not an outcome", id, outcome)
	}
	if outcome == Failed {
		reason = Failure{Code: FailureWorkflowLost}
	}
	c, err := m.end(ctx, id, ending{step: step, by: System, reason: reason})
	if err != nil {
		return Change{}, err
	}
	if c.State == Applying && outcome != Failed {
		return m.Apply(ctx, id)
	}
	return c, nil
}
