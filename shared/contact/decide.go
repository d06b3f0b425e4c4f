package contact

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Decision is a party's answer to a request, with the token that proves it is theirs.
type Decision struct {
	ChangeID string
	Token    string
	// Caller is the authenticated account answering through the API, or "" when the token
	// alone authenticates (the emailed link).
	Caller string
	// Source is the client's network address (API Gateway's source IP). Wrong tokens are
	// limited per source: the caller's account when there is one, otherwise this address.
	Source string
	Accept bool
}

// Decide records a party's acceptance or refusal and moves the workflow on.
func (m *Manager) Decide(ctx context.Context, d Decision) (Change, error) {
	if d.Token == "" {
		return Change{}, Errorf(ErrInvalid, "missing_token", "the confirmation token is missing")
	}
	from := source(d.Caller, d.Source)
	counter := m.wrongTokenCounter(d.ChangeID, from)
	// The request, the source's wrong tokens and the caller's account, whose email the
	// decision may owe, in one read.
	var nics []string
	if d.Caller != "" {
		nics = []string{d.Caller}
	}
	got, err := m.store.Fetch(ctx, Fetch{Change: d.ChangeID, Counter: counter, Accounts: nics})
	if err != nil {
		return Change{}, fmt.Errorf("load request %s: %w", d.ChangeID, err)
	}
	if d.Caller != "" && !visible(got.Change, d.Caller) {
		return Change{}, errRequestNotFound(d.ChangeID)
	}
	if got.Count >= m.limits.wrongToken.Max {
		return Change{}, m.errTooManyWrongTokens(counter)
	}
	if got.Change.ID == "" {
		return Change{}, fmt.Errorf("load request %s: %w", d.ChangeID, errRequestNotFound(d.ChangeID))
	}
	accounts := m.accountReader()
	accounts.add(got.Accounts, nics)
	return m.decide(ctx, d, from, &got.Change, accounts)
}

// decide records d once the caller may see the request and from has tokens left to try,
// starting from read, the request as just read (nil to read it), and reading the accounts
// to email through accounts.
func (m *Manager) decide(ctx context.Context, d Decision, from string, read *Change, accounts *accountReader) (Change, error) {
	var nic string
	c, err := m.updateFrom(ctx, d.ChangeID, read, func(c *Change) error {
		p, err := m.usableParty(c, d.Token, d.Caller)
		if err != nil {
			return err
		}
		nic = p.NIC
		now := m.now()
		if !d.Accept {
			p.Status = Declined
			if err := c.take(StepRefused, now, p.NIC, ""); err != nil {
				return err
			}
			c.oweOutcome(Failure{}, m.ownerDeadline(now))
			return nil
		}
		p.Status = Accepted
		if err := c.take(StepAccepted, now, p.NIC, ""); err != nil {
			return err
		}
		if len(c.WaitingFor()) > 0 {
			c.owe(NoticeWaiting, []string{p.NIC}, Failure{}, m.ownerDeadline(now))
			return nil
		}
		return c.take(StepApplying, now, System, "")
	})
	if isWrongToken(err) {
		return Change{}, m.wrongToken(ctx, c, from, d.Caller, err)
	}
	if err != nil {
		return Change{}, err
	}

	// Delivered before the workflow moves on: after the last acceptance, the workflow's
	// apply step writes the request next, and would otherwise race this write.
	if accounts == nil {
		accounts = m.accountReader()
	}
	c = m.deliverWith(ctx, accounts, c, c.Version)
	if c.State.Terminal() {
		return m.answerTasks(ctx, c, ""), nil // a refusal ends every party's wait
	}
	return m.answerTasks(ctx, c, nic), nil
}

// wrongTokenCode is the code of the one answer to every token that is not the caller's:
// unknown, made up, of another request or of another party alike, so that a stranger learns
// nothing from it.
const wrongTokenCode = "invalid_token"

func errWrongToken() error {
	return &Error{Kind: ErrForbidden, Code: wrongTokenCode, Message: "this token is not valid for this request"}
}

func isWrongToken(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == wrongTokenCode
}

// usableParty checks that a token may still be used on c and returns its party. When caller
// is set (the API, where the caller is signed in), only the caller's own tokens are looked
// at: any other, another party's included, is a wrong token, and whether it was used or
// replaced is not told. Through the emailed link (caller ""), the token alone authenticates:
// whoever holds it is the party it was emailed to, who may learn that it was used or
// replaced; a token that no party was ever sent is a wrong token there too. Nothing about
// the request's state is told before the token is known.
func (m *Manager) usableParty(c *Change, token, caller string) (*Party, error) {
	p, match := c.partyForToken(token)
	if caller != "" && (p == nil || p.NIC != caller) {
		match = tokenUnknown
	}
	switch {
	case match == tokenUnknown:
		return nil, errWrongToken()
	case match == tokenReplaced:
		return nil, Errorf(ErrGone, "token_replaced", "this token was replaced by a newer one; use the latest email")
	case p.Status != Waiting:
		return nil, Errorf(ErrGone, "token_used", "this token was already used")
	case c.State == Expired || (c.State == Pending && !m.now().Before(c.ExpiresAt)):
		return nil, Errorf(ErrGone, "request_expired", "request %s expired on %s", c.ID, c.ExpiresAt.UTC().Format(time.RFC3339))
	case c.State != Pending:
		return nil, Errorf(ErrGone, "request_closed", "request %s is %s and can no longer be answered", c.ID, c.State)
	}
	return p, nil
}

// answerTask tells the workflow what party p's status means for its callback task. A
// decision, the task's registration and the reconciler all call it: whichever comes last
// finds both the decision and the task token stored, so a decision is never lost, and
// answering a task twice is harmless.
func (m *Manager) answerTask(ctx context.Context, c Change, p Party) error {
	var err error
	switch {
	case c.State == Refused || p.Status == Declined:
		err = m.workflow.Stop(ctx, p.TaskToken, Refused)
	case c.State == Cancelled || c.State == Failed || c.State == Expired:
		err = m.workflow.Stop(ctx, p.TaskToken, Cancelled)
	case p.Status == Accepted:
		err = m.workflow.Continue(ctx, p.TaskToken)
	default:
		return nil // still waiting for this party
	}
	if err != nil {
		return fmt.Errorf("answer the workflow task of %s on request %s: %w", p.NIC, c.ID, err)
	}
	return nil
}

// answerTasks answers the registered tasks of c's parties (all of them when nic is "") from
// what the store holds. An answer that fails is owed: the request becomes due, and the
// reconciler answers again. It returns c as last saved.
func (m *Manager) answerTasks(ctx context.Context, c Change, nic string) Change {
	var errs []error
	for _, p := range c.Parties {
		if p.TaskToken != "" && (nic == "" || p.NIC == nic) {
			errs = append(errs, m.answerTask(ctx, c, p))
		}
	}
	err := errors.Join(errs...)
	if err == nil {
		return c
	}
	m.log.ErrorContext(ctx, "answer workflow", "changeId", c.ID, "err", err)
	saved, err := m.bookkeep(ctx, c, func(c *Change) {
		c.AnswerAgainAt = m.now().Add(m.timing.applyGrace).UTC()
	}, time.Time{})
	if err != nil {
		m.log.ErrorContext(ctx, "record unanswered workflow", "changeId", c.ID, "err", err)
		return c
	}
	return saved
}

// Lookup returns the request a token belongs to and the account of its party, for the
// page behind the emailed link opened from address (the client's IP address). It changes nothing of the request but
// the count of wrong tokens: mail scanners open links, with the right token.
func (m *Manager) Lookup(ctx context.Context, id, token, address string) (Change, Account, error) {
	if token == "" {
		return Change{}, Account{}, Errorf(ErrInvalid, "missing_token", "the confirmation token is missing")
	}
	from := source("", address)
	counter := m.wrongTokenCounter(id, from)
	got, err := m.store.Fetch(ctx, Fetch{Change: id, Counter: counter})
	if err != nil {
		return Change{}, Account{}, fmt.Errorf("load request %s: %w", id, err)
	}
	if got.Count >= m.limits.wrongToken.Max {
		return Change{}, Account{}, m.errTooManyWrongTokens(counter)
	}
	c := got.Change
	if c.ID == "" {
		return Change{}, Account{}, fmt.Errorf("load request %s: %w", id, errRequestNotFound(id))
	}
	p, err := m.usableParty(&c, token, "")
	if isWrongToken(err) {
		return Change{}, Account{}, m.wrongToken(ctx, c, from, "", err)
	}
	if err != nil {
		return c, Account{}, err
	}
	acct, err := m.store.Account(ctx, p.NIC)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return Change{}, Account{}, fmt.Errorf("load account %s: %w", p.NIC, err)
	}
	acct.NIC = p.NIC
	return c, acct, nil
}

// Cancel lets the requester withdraw a pending request.
func (m *Manager) Cancel(ctx context.Context, caller, id string) (Change, error) {
	c, err := m.visibleChange(ctx, caller, id)
	if err != nil {
		return Change{}, err
	}
	return m.cancel(ctx, id, &c, caller, "", func(c *Change) error {
		if c.RequestedBy != caller {
			return Errorf(ErrForbidden, "not_requester", "only %s, who made the request, may cancel it", c.RequestedBy)
		}
		return nil
	})
}

// cancel withdraws a pending request on by's decision, once allow agrees, with detail in the
// history; everyone involved is told. It starts from read, the request as just read (nil to
// read it).
func (m *Manager) cancel(ctx context.Context, id string, read *Change, by, detail string, allow func(c *Change) error) (Change, error) {
	c, err := m.updateFrom(ctx, id, read, func(c *Change) error {
		if err := allow(c); err != nil {
			return err
		}
		if c.State != Pending {
			return Errorf(ErrConflict, "not_pending", "request %s is %s and can no longer be cancelled", c.ID, c.State)
		}
		now := m.now()
		if err := c.take(StepCancelled, now, by, detail); err != nil {
			return err
		}
		c.oweOutcome(Failure{}, m.ownerDeadline(now))
		return nil
	})
	if err != nil {
		return Change{}, err
	}
	mine := c.Version
	c = m.answerTasks(ctx, c, "")
	return m.deliver(ctx, c, mine), nil
}
