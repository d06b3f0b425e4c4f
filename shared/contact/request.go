package contact

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// RequestChanges creates one request per wanted role, all or none, starts their workflows
// and emails each party its token.
func (m *Manager) RequestChanges(ctx context.Context, caller, serviceID string, wanted map[Role]string) ([]Change, error) {
	if len(wanted) == 0 {
		return nil, Errorf(ErrInvalid, "empty_request", "name a new admin, tech or billing contact")
	}
	// The service and the accounts the requests are likely to need, the caller's and the
	// new holders', in one read; the checks read any other.
	nics := []string{caller}
	for _, raw := range wanted {
		if nic, err := NormalizeNIC(raw); err == nil {
			nics = append(nics, nic)
		}
	}
	got, err := m.store.Fetch(ctx, Fetch{Service: serviceID, Accounts: nics})
	if err != nil {
		return nil, fmt.Errorf("load service %s: %w", serviceID, err)
	}
	svc := got.Service
	if svc.ID == "" {
		return nil, Errorf(ErrNotFound, "service_not_found", "service %s not found", serviceID)
	}

	now := m.now().UTC()
	accounts := m.accountReader()
	accounts.add(got.Accounts, nics)
	tokens := map[string]map[string]string{} // request id → party → token, only in memory
	changes, err := m.planChanges(ctx, accounts, caller, svc, wanted, now, func(c *Change, nic string) (string, error) {
		token, hash, err := NewToken()
		if err != nil {
			return "", err
		}
		if tokens[c.ID] == nil {
			tokens[c.ID] = map[string]string{}
		}
		tokens[c.ID][nic] = token
		return hash, nil
	})
	if err != nil {
		return nil, err
	}

	// The requests and the abuse limits' counts in one transaction: a refused creation
	// counts nothing.
	if err := m.store.CreateChanges(ctx, changes, m.creationUses(caller, changes, now)); err != nil {
		if errors.As(err, new(*LimitReached)) {
			return nil, m.creationLimited(caller, err)
		}
		if errors.Is(err, ErrConflict) {
			return nil, Errorf(ErrConflict, "request_open", "another request for %s changed its contacts first; reload and try again", svc.ID)
		}
		return nil, fmt.Errorf("create requests for %s: %w", svc.ID, err)
	}
	for i := range changes {
		changes[i].Version = 1 // as CreateChanges stored them
		// Published before the workflow starts, whose steps write the request next.
		changes[i] = m.deliver(ctx, changes[i], 1)
	}

	// Should this function die from here on, the reconciler ends the requests whose
	// workflow never started, once their start grace has passed.
	for _, c := range changes {
		if err := m.workflow.Start(ctx, c); err != nil {
			m.log.ErrorContext(ctx, "start workflow", "changeId", c.ID, "err", err)
			m.abandon(ctx, changes)
			return nil, &Error{Kind: ErrUnavailable, Code: "unavailable", Message: "the request could not be started; nothing was changed, please try again", RetryAfter: 5}
		}
	}

	for i, c := range changes {
		changes[i] = m.sendTokens(ctx, accounts, c, tokens[c.ID], c.WaitingFor())
	}
	return changes, nil
}

// tokenHasher gives party nic of the new request c its token, and returns the token's hash.
type tokenHasher func(c *Change, nic string) (hash string, err error)

// planChanges checks the wanted changes of svc, in the order of Roles, and builds their
// requests without storing them.
func (m *Manager) planChanges(ctx context.Context, accounts *accountReader, caller string, svc Service, wanted map[Role]string, now time.Time, token tokenHasher) ([]Change, error) {
	var changes []Change
	for _, role := range Roles {
		raw, ok := wanted[role]
		if !ok {
			continue
		}
		to, err := NormalizeNIC(raw)
		if err != nil {
			return nil, err
		}
		perm, err := Permit(svc, caller, role, to)
		if err != nil {
			return nil, err
		}
		if open := svc.Open[role]; open != "" {
			return nil, Errorf(ErrConflict, "request_open", "request %s for the %s role of %s is still open", open, role, svc.ID)
		}
		if err := checkPrerequisites(ctx, accounts, svc, role, to, perm); err != nil {
			return nil, err
		}
		c, err := m.newChange(svc, role, caller, to, perm, now, token)
		if err != nil {
			return nil, err
		}
		changes = append(changes, c)
	}
	return changes, nil
}

// checkPrerequisites checks the accounts a change involves: the new holder exists and has an
// email address, every party can receive its token, and billing moves only between accounts
// in good standing.
func checkPrerequisites(ctx context.Context, accounts *accountReader, svc Service, role Role, to string, perm Permission) error {
	newAcct, err := accounts.get(ctx, to)
	if errors.Is(err, ErrNotFound) {
		return Errorf(ErrRule, "contact_not_found", "no account %s", to)
	}
	if err != nil {
		return fmt.Errorf("load account %s: %w", to, err)
	}
	if newAcct.Email == "" {
		return Errorf(ErrRule, "contact_without_email", "account %s has no email address to confirm with", to)
	}
	for _, nic := range perm.Parties {
		if nic == to {
			continue
		}
		a, err := accounts.get(ctx, nic)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return fmt.Errorf("load account %s: %w", nic, err)
		}
		if err != nil || a.Email == "" {
			return Errorf(ErrRule, "party_without_email", "account %s has no email address to confirm with", nic)
		}
	}
	if role != Billing {
		return nil
	}
	current, err := accounts.get(ctx, svc.Contacts[Billing])
	if err != nil && !errors.Is(err, ErrNotFound) {
		return fmt.Errorf("load account %s: %w", svc.Contacts[Billing], err)
	}
	if err != nil || !current.GoodStanding {
		return Errorf(ErrRule, "current_billing_not_in_good_standing", "the current billing contact %s is not in good standing", svc.Contacts[Billing])
	}
	if !newAcct.GoodStanding {
		return Errorf(ErrRule, "new_billing_not_in_good_standing", "the new billing contact %s is not in good standing", to)
	}
	return nil
}

func (m *Manager) newChange(svc Service, role Role, caller, to string, perm Permission, now time.Time, token tokenHasher) (Change, error) {
	id, err := newID()
	if err != nil {
		return Change{}, err
	}
	c := Change{
		ID: id, ServiceID: svc.ID, ServiceType: svc.Type, Role: role,
		From: svc.Contacts[role], To: to, RequestedBy: caller, Authority: perm.Authority, State: Pending,
		Notify: perm.Notify, CreatedAt: now, ExpiresAt: now.Add(m.expiry),
	}
	for _, nic := range perm.Parties {
		hash, err := token(&c, nic)
		if err != nil {
			return Change{}, err
		}
		c.Parties = append(c.Parties, Party{NIC: nic, Status: Waiting, TokenHash: hash})
	}
	c.record(now, caller, string(StepCreated), fmt.Sprintf("%s: %s → %s", role, c.From, to))
	c.announce(StepCreated, now, caller, "")
	c.schedule(m.timing)
	return c, nil
}

// abandon fails requests whose workflow could not start, releasing their roles. The caller
// is told at once, so nobody is emailed. Should this fail too, the reconciler ends them.
func (m *Manager) abandon(ctx context.Context, changes []Change) {
	failure := Failure{Code: FailureWorkflowLost}
	for _, c := range changes {
		saved, err := m.update(ctx, c.ID, func(c *Change) error {
			if !c.CanTake(StepFailed) {
				return errNoChange
			}
			return c.fail(m.now(), System, failure)
		})
		if err != nil && !errors.Is(err, errNoChange) {
			m.log.ErrorContext(ctx, "abandon request", "changeId", c.ID, "err", err)
			continue
		}
		if err == nil {
			m.deliver(ctx, saved, saved.Version)
		}
	}
}

// sendTokens emails each listed party its token. A failed email is recorded in the request's
// history, where the parties see it; the request stays open and a resend can try again.
func (m *Manager) sendTokens(ctx context.Context, accounts *accountReader, c Change, tokens map[string]string, nics []string) Change {
	// Every address in one read; should it fail, each email reads its own.
	if err := accounts.fetch(ctx, nics); err != nil {
		m.log.WarnContext(ctx, "read the parties' accounts", "changeId", c.ID, "err", err)
	}
	var failed []string
	for _, nic := range nics {
		acct, err := accounts.get(ctx, nic)
		if err == nil {
			err = m.notifier.Notify(ctx, Notice{Kind: NoticeToken, To: acct, Change: c, Token: tokens[nic]})
		}
		if err != nil {
			m.log.WarnContext(ctx, "token email not sent", "changeId", c.ID, "party", nic, "err", err)
			failed = append(failed, nic)
		}
	}
	if len(failed) == 0 {
		return c
	}
	saved, err := m.bookkeep(ctx, c, func(c *Change) {
		for _, nic := range failed {
			c.record(m.now(), System, "email_failed", nic)
		}
	}, time.Time{})
	if err != nil {
		m.log.ErrorContext(ctx, "record email failure", "changeId", c.ID, "err", err)
		return c
	}
	return saved
}
