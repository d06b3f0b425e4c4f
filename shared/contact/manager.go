package contact

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"
)

// Defaults of the product rules.
const (
	DefaultExpiry         = 14 * 24 * time.Hour
	DefaultResendInterval = 60 * time.Second
	DefaultMaxResends     = 10
	DefaultPageSize       = 20
	MaxPageSize           = 100
)

// Config wires a Manager. Store, Workflow and Notifier are required.
type Config struct {
	Store    Store
	Workflow Workflow
	Notifier Notifier
	Logger   *slog.Logger
	Now      Clock
	// Expiry is how long a request waits for its confirmations (DefaultExpiry when zero).
	Expiry         time.Duration
	ResendInterval time.Duration
	MaxResends     int
}

// Manager carries out the use cases: listing, requesting, confirming, cancelling and resending
// contact changes, and the workflow's steps (registering a callback, applying, finishing).
type Manager struct {
	store          Store
	workflow       Workflow
	notifier       Notifier
	log            *slog.Logger
	now            Clock
	expiry         time.Duration
	resendInterval time.Duration
	maxResends     int
}

// New returns a Manager; zero values in cfg take the product defaults.
func New(cfg Config) *Manager {
	m := &Manager{
		store: cfg.Store, workflow: cfg.Workflow, notifier: cfg.Notifier, log: cfg.Logger, now: cfg.Now,
		expiry: cfg.Expiry, resendInterval: cfg.ResendInterval, maxResends: cfg.MaxResends,
	}
	if m.log == nil {
		m.log = slog.Default()
	}
	if m.now == nil {
		m.now = time.Now
	}
	if m.expiry <= 0 {
		m.expiry = DefaultExpiry
	}
	if m.resendInterval <= 0 {
		m.resendInterval = DefaultResendInterval
	}
	if m.maxResends <= 0 {
		m.maxResends = DefaultMaxResends
	}
	return m
}

// ListServices lists the services on which caller holds a role.
func (m *Manager) ListServices(ctx context.Context, caller string, q ServiceQuery) (ServicePage, error) {
	if q.Role != "" && !q.Role.Valid() {
		return ServicePage{}, Errorf(ErrInvalid, "invalid_role", "role must be admin, tech or billing, not %q", q.Role)
	}
	limit, err := pageSize(q.Limit)
	if err != nil {
		return ServicePage{}, err
	}
	q.Limit = limit
	page, err := m.store.ServicesOf(ctx, caller, q)
	if err != nil {
		return ServicePage{}, fmt.Errorf("list services of %s: %w", caller, err)
	}
	return page, nil
}

// ListChanges lists the requests caller is involved in, newest first.
func (m *Manager) ListChanges(ctx context.Context, caller string, q ChangeQuery) (ChangePage, error) {
	if q.State != "" && !q.State.Valid() {
		return ChangePage{}, Errorf(ErrInvalid, "invalid_state", "unknown state %q", q.State)
	}
	limit, err := pageSize(q.Limit)
	if err != nil {
		return ChangePage{}, err
	}
	q.Limit = limit
	page, err := m.store.ChangesOf(ctx, caller, q)
	if err != nil {
		return ChangePage{}, fmt.Errorf("list requests of %s: %w", caller, err)
	}
	return page, nil
}

func pageSize(limit int) (int, error) {
	switch {
	case limit == 0:
		return DefaultPageSize, nil
	case limit < 0 || limit > MaxPageSize:
		return 0, Errorf(ErrInvalid, "invalid_limit", "limit must be between 1 and %d", MaxPageSize)
	}
	return limit, nil
}

// GetChange returns one request, if caller is involved in it.
func (m *Manager) GetChange(ctx context.Context, caller, id string) (Change, error) {
	c, err := m.visibleChange(ctx, caller, id)
	if err != nil {
		return Change{}, err
	}
	return c, nil
}

// visibleChange loads a request and hides it from anyone not involved in it.
func (m *Manager) visibleChange(ctx context.Context, caller, id string) (Change, error) {
	c, err := m.store.Change(ctx, id)
	if err != nil {
		return Change{}, fmt.Errorf("load request %s: %w", id, err)
	}
	if !contains(c.Involved(), caller) {
		return Change{}, Errorf(ErrNotFound, "request_not_found", "request %s not found", id)
	}
	return c, nil
}

// RequestChanges creates one request per wanted role, all or none, starts their workflows
// and emails each party its token.
func (m *Manager) RequestChanges(ctx context.Context, caller, serviceID string, wanted map[Role]string) ([]Change, error) {
	if len(wanted) == 0 {
		return nil, Errorf(ErrInvalid, "empty_request", "name a new admin, tech or billing contact")
	}
	svc, err := m.store.Service(ctx, serviceID)
	if errors.Is(err, ErrNotFound) {
		return nil, Errorf(ErrNotFound, "service_not_found", "service %s not found", serviceID)
	}
	if err != nil {
		return nil, fmt.Errorf("load service %s: %w", serviceID, err)
	}

	now := m.now().UTC()
	var changes []Change
	tokens := map[string]map[string]string{} // request id → party → token, only in memory
	accounts := m.accountReader()
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
		c, partyTokens, err := m.newChange(svc, role, caller, to, perm, now)
		if err != nil {
			return nil, err
		}
		changes = append(changes, c)
		tokens[c.ID] = partyTokens
	}

	if err := m.store.CreateChanges(ctx, changes); err != nil {
		if errors.Is(err, ErrConflict) {
			return nil, Errorf(ErrConflict, "request_open", "another request for %s changed its contacts first; reload and try again", svc.ID)
		}
		return nil, fmt.Errorf("create requests for %s: %w", svc.ID, err)
	}

	for _, c := range changes {
		if err := m.workflow.Start(ctx, c); err != nil {
			m.log.ErrorContext(ctx, "start workflow", "request", c.ID, "err", err)
			m.abandon(ctx, changes, "workflow_start_failed")
			return nil, &Error{Kind: ErrUnavailable, Code: "unavailable", Message: "the request could not be started; nothing was changed, please try again", RetryAfter: 5}
		}
	}

	for i, c := range changes {
		changes[i] = m.sendTokens(ctx, accounts, c, tokens[c.ID], c.WaitingFor())
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

func (m *Manager) newChange(svc Service, role Role, caller, to string, perm Permission, now time.Time) (Change, map[string]string, error) {
	id, err := newID()
	if err != nil {
		return Change{}, nil, err
	}
	c := Change{
		ID: id, ServiceID: svc.ID, ServiceType: svc.Type, Role: role,
		From: svc.Contacts[role], To: to, RequestedBy: caller, State: Pending,
		Notify: perm.Notify, CreatedAt: now, ExpiresAt: now.Add(m.expiry),
	}
	tokens := map[string]string{}
	for _, nic := range perm.Parties {
		token, hash, err := NewToken()
		if err != nil {
			return Change{}, nil, err
		}
		tokens[nic] = token
		c.Parties = append(c.Parties, Party{NIC: nic, Status: Waiting, TokenHash: hash})
	}
	c.record(now, caller, "created", fmt.Sprintf("%s: %s → %s", role, c.From, to))
	return c, tokens, nil
}

// abandon marks requests whose workflow could not start as failed, releasing their roles.
func (m *Manager) abandon(ctx context.Context, changes []Change, why string) {
	for _, c := range changes {
		_, err := m.update(ctx, c.ID, func(c *Change) error {
			if c.State.Terminal() {
				return errNoChange
			}
			c.State = Failed
			c.record(m.now(), System, "failed", why)
			return nil
		})
		if err != nil && !errors.Is(err, errNoChange) {
			m.log.ErrorContext(ctx, "abandon request", "request", c.ID, "err", err)
		}
	}
}

// sendTokens emails each listed party its token. A failed email is recorded in the request's
// history, where the parties see it; the request stays open and a resend can try again.
func (m *Manager) sendTokens(ctx context.Context, accounts *accountReader, c Change, tokens map[string]string, nics []string) Change {
	var failed []string
	for _, nic := range nics {
		acct, err := accounts.get(ctx, nic)
		if err == nil {
			err = m.notifier.Notify(ctx, Notice{Kind: NoticeToken, To: acct, Change: c, Token: tokens[nic]})
		}
		if err != nil {
			m.log.WarnContext(ctx, "token email not sent", "request", c.ID, "party", nic, "err", err)
			failed = append(failed, nic)
		}
	}
	if len(failed) == 0 {
		return c
	}
	saved, err := m.update(ctx, c.ID, func(c *Change) error {
		for _, nic := range failed {
			c.record(m.now(), System, "email_failed", nic)
		}
		return nil
	})
	if err != nil {
		m.log.ErrorContext(ctx, "record email failure", "request", c.ID, "err", err)
		return c
	}
	return saved
}

// accountReader reads accounts for one call, each once: checking a new request and emailing
// its parties need the same accounts.
type accountReader struct {
	store Store
	read  map[string]Account
}

func (m *Manager) accountReader() *accountReader {
	return &accountReader{store: m.store, read: map[string]Account{}}
}

func (r *accountReader) get(ctx context.Context, nic string) (Account, error) {
	if a, ok := r.read[nic]; ok {
		return a, nil
	}
	a, err := r.store.Account(ctx, nic)
	if err == nil {
		r.read[nic] = a
	}
	return a, err
}

// Decision is a party's answer to a request, with the token that proves it is theirs.
type Decision struct {
	ChangeID string
	Token    string
	// Caller is the authenticated account answering through the API, or "" when the token
	// alone authenticates (the emailed link).
	Caller string
	Accept bool
}

// Decide records a party's acceptance or refusal and moves the workflow on.
func (m *Manager) Decide(ctx context.Context, d Decision) (Change, error) {
	if d.Token == "" {
		return Change{}, Errorf(ErrInvalid, "missing_token", "the confirmation token is missing")
	}
	if d.Caller != "" {
		if _, err := m.visibleChange(ctx, d.Caller, d.ChangeID); err != nil {
			return Change{}, err
		}
	}
	var nic string
	c, err := m.update(ctx, d.ChangeID, func(c *Change) error {
		p, err := m.usableParty(c, d.Token)
		if err != nil {
			return err
		}
		if d.Caller != "" && p.NIC != d.Caller {
			return Errorf(ErrForbidden, "invalid_token", "this token is not yours")
		}
		nic = p.NIC
		now := m.now()
		if !d.Accept {
			p.Status = Declined
			c.State = Refused
			c.record(now, p.NIC, "refused", "")
			return nil
		}
		p.Status = Accepted
		c.record(now, p.NIC, "accepted", "")
		if len(c.WaitingFor()) == 0 {
			c.State = Applying
			c.record(now, System, "applying", "")
		}
		return nil
	})
	if err != nil {
		return Change{}, err
	}

	p, _ := c.Party(nic)
	if p.TaskToken != "" {
		m.answerTask(ctx, c, *p)
	}
	if d.Accept && c.State == Pending {
		m.notify(ctx, NoticeWaiting, c, []string{nic}, Failure{})
	}
	return c, nil
}

// usableParty checks that a token may still be used on c and returns its party.
func (m *Manager) usableParty(c *Change, token string) (*Party, error) {
	p, match := c.partyForToken(token)
	switch {
	case match == tokenUnknown:
		return nil, Errorf(ErrForbidden, "invalid_token", "this token is not valid for request %s", c.ID)
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

// answerTask tells the workflow what party p's status means for its callback task. Both a
// decision and the task's registration call it: whichever comes second finds both the
// decision and the task token stored, so a decision is never lost, and answering a task
// twice is harmless.
func (m *Manager) answerTask(ctx context.Context, c Change, p Party) {
	var err error
	switch {
	case c.State == Refused || p.Status == Declined:
		err = m.workflow.Stop(ctx, p.TaskToken, Refused)
	case c.State == Cancelled || c.State == Failed || c.State == Expired:
		err = m.workflow.Stop(ctx, p.TaskToken, Cancelled)
	case p.Status == Accepted:
		err = m.workflow.Continue(ctx, p.TaskToken)
	default:
		return // still waiting for this party
	}
	if err != nil {
		// The decision is stored; the workflow will find it at the latest when it times out.
		m.log.ErrorContext(ctx, "answer workflow task", "request", c.ID, "party", p.NIC, "err", err)
	}
}

// Lookup returns the request a token belongs to and the account of its party, for the page
// behind the emailed link. It changes nothing: mail scanners open links.
func (m *Manager) Lookup(ctx context.Context, id, token string) (Change, Account, error) {
	if token == "" {
		return Change{}, Account{}, Errorf(ErrInvalid, "missing_token", "the confirmation token is missing")
	}
	c, err := m.store.Change(ctx, id)
	if err != nil {
		return Change{}, Account{}, fmt.Errorf("load request %s: %w", id, err)
	}
	p, err := m.usableParty(&c, token)
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
	if _, err := m.visibleChange(ctx, caller, id); err != nil {
		return Change{}, err
	}
	c, err := m.update(ctx, id, func(c *Change) error {
		if c.RequestedBy != caller {
			return Errorf(ErrForbidden, "not_requester", "only %s, who made the request, may cancel it", c.RequestedBy)
		}
		if c.State != Pending {
			return Errorf(ErrConflict, "not_pending", "request %s is %s and can no longer be cancelled", c.ID, c.State)
		}
		c.State = Cancelled
		c.record(m.now(), caller, "cancelled", "")
		return nil
	})
	if err != nil {
		return Change{}, err
	}
	for _, p := range c.Parties {
		if p.TaskToken != "" && p.Status == Waiting {
			m.answerTask(ctx, c, p)
		}
	}
	return c, nil
}

// Resend emails a fresh token to every party that has not answered yet; each party's previous
// token stops working.
func (m *Manager) Resend(ctx context.Context, caller, id string) (Change, error) {
	if _, err := m.visibleChange(ctx, caller, id); err != nil {
		return Change{}, err
	}
	var tokens map[string]string
	c, err := m.update(ctx, id, func(c *Change) error {
		if _, isParty := c.Party(caller); !isParty && c.RequestedBy != caller {
			return Errorf(ErrForbidden, "not_allowed", "only the requester or a party may ask to resend")
		}
		now := m.now()
		switch {
		case c.State == Pending && !now.Before(c.ExpiresAt):
			return Errorf(ErrGone, "request_expired", "request %s has expired", c.ID)
		case c.State != Pending:
			return Errorf(ErrConflict, "not_pending", "request %s is %s; there is nothing to confirm", c.ID, c.State)
		case c.Resends >= m.maxResends:
			return &Error{Kind: ErrRateLimited, Code: "resend_limit", Message: fmt.Sprintf("request %s was resent %d times already", c.ID, c.Resends)}
		case !c.LastResendAt.IsZero() && now.Sub(c.LastResendAt) < m.resendInterval:
			wait := int((m.resendInterval - now.Sub(c.LastResendAt) + time.Second - 1) / time.Second)
			return &Error{Kind: ErrRateLimited, Code: "resend_too_soon", Message: fmt.Sprintf("wait %d seconds before resending again", wait), RetryAfter: wait}
		}
		tokens = map[string]string{}
		for i := range c.Parties {
			p := &c.Parties[i]
			if p.Status != Waiting {
				continue
			}
			token, hash, err := NewToken()
			if err != nil {
				return err
			}
			p.ReplacedHashes = append(p.ReplacedHashes, p.TokenHash)
			p.TokenHash = hash
			tokens[p.NIC] = token
		}
		c.Resends++
		c.LastResendAt = now.UTC()
		c.record(now, caller, "resent", "")
		return nil
	})
	if err != nil {
		return Change{}, err
	}
	return m.sendTokens(ctx, m.accountReader(), c, tokens, c.WaitingFor()), nil
}

// RegisterTask stores the workflow's callback token for a party, then answers it at once if
// the party already decided or the request is already closed.
func (m *Manager) RegisterTask(ctx context.Context, id, nic, taskToken string) error {
	c, err := m.update(ctx, id, func(c *Change) error {
		p, ok := c.Party(nic)
		if !ok {
			return fmt.Errorf("request %s has no party %s", id, nic)
		}
		if c.State.Terminal() {
			p.TaskToken = taskToken // answered below, not stored: terminal requests never change
			return errNoChange
		}
		p.TaskToken = taskToken
		return nil
	})
	if errors.Is(err, errNoChange) {
		err = nil
	}
	if err != nil {
		return err
	}
	p, _ := c.Party(nic)
	p.TaskToken = taskToken
	m.answerTask(ctx, c, *p)
	return nil
}

// Apply hands the role to its new holder once every party accepted, or marks the request
// failed when the service's contacts changed meanwhile or a prerequisite no longer holds.
func (m *Manager) Apply(ctx context.Context, id string) (Change, error) {
	for attempt := 0; ; attempt++ {
		c, err := m.store.Change(ctx, id)
		if err != nil {
			return Change{}, fmt.Errorf("load request %s: %w", id, err)
		}
		if c.State != Applying {
			return c, nil // already applied or failed: a retried step changes nothing
		}
		failure, err := m.stillApplicable(ctx, c)
		if err != nil {
			return Change{}, err
		}
		if failure.Code != "" {
			return m.fail(ctx, c, failure)
		}
		done := c
		done.State = Done
		done.record(m.now(), System, "done", "")
		saved, err := m.store.ApplyChange(ctx, done)
		switch {
		case err == nil:
			m.notifyOutcome(ctx, saved, Failure{})
			return saved, nil
		case errors.Is(err, ErrVersionConflict) && attempt < maxAttempts:
			m.pause(attempt)
		case errors.Is(err, ErrConflict) && attempt < maxAttempts:
			// Re-read everything: the next round finds what changed and fails with a reason,
			// or finds the request already done.
			m.pause(attempt)
		default:
			return Change{}, fmt.Errorf("apply request %s: %w", id, err)
		}
	}
}

// stillApplicable re-checks, when the change is about to be applied, what held when it was
// requested. It returns why the change can no longer be applied; a zero Failure if it can.
func (m *Manager) stillApplicable(ctx context.Context, c Change) (Failure, error) {
	svc, err := m.store.Service(ctx, c.ServiceID)
	if errors.Is(err, ErrNotFound) {
		return Failure{Code: FailureServiceGone, Role: c.Role}, nil
	}
	if err != nil {
		return Failure{}, fmt.Errorf("load service %s: %w", c.ServiceID, err)
	}
	if svc.Contacts[c.Role] != c.From {
		return Failure{Code: FailureContactChanged, Role: c.Role}, nil
	}
	if svc.Open[c.Role] != c.ID {
		return Failure{Code: FailureRoleLocked, Role: c.Role}, nil
	}
	accounts := []string{c.To}
	if c.Role == Billing {
		accounts = append(accounts, c.From)
	}
	for _, nic := range accounts {
		a, err := m.store.Account(ctx, nic)
		if errors.Is(err, ErrNotFound) {
			return Failure{Code: FailureAccountGone, Role: c.Role, Account: nic}, nil
		}
		if err != nil {
			return Failure{}, fmt.Errorf("load account %s: %w", nic, err)
		}
		if c.Role == Billing && !a.GoodStanding {
			return Failure{Code: FailureNotInGoodStanding, Role: c.Role, Account: nic}, nil
		}
	}
	return Failure{}, nil
}

func (m *Manager) fail(ctx context.Context, c Change, reason Failure) (Change, error) {
	saved, err := m.update(ctx, c.ID, func(c *Change) error {
		if c.State != Applying {
			return errNoChange
		}
		c.State = Failed
		c.record(m.now(), System, "failed", reason.String())
		return nil
	})
	if errors.Is(err, errNoChange) {
		return saved, nil
	}
	if err != nil {
		return Change{}, err
	}
	m.notifyOutcome(ctx, saved, reason)
	return saved, nil
}

// Finish ends a request on the workflow's refused, cancelled or expired path and tells
// everyone involved.
func (m *Manager) Finish(ctx context.Context, id string, outcome State) (Change, error) {
	if outcome != Refused && outcome != Cancelled && outcome != Expired {
		return Change{}, fmt.Errorf("finish request %s: %q is not an outcome", id, outcome)
	}
	c, err := m.update(ctx, id, func(c *Change) error {
		if c.State != Pending {
			return errNoChange
		}
		c.State = outcome
		c.record(m.now(), System, string(outcome), "")
		return nil
	})
	if err != nil && !errors.Is(err, errNoChange) {
		return Change{}, err
	}
	if c.State == Applying {
		// Every party accepted just as the request expired: the acceptances count.
		return m.Apply(ctx, id)
	}
	if c.State == outcome {
		m.notifyOutcome(ctx, c, Failure{})
	}
	return c, nil
}

// notifyOutcome tells the requester, the parties and the previous holder how a request ended.
func (m *Manager) notifyOutcome(ctx context.Context, c Change, failure Failure) {
	kind := map[State]NoticeKind{Done: NoticeDone, Refused: NoticeRefused, Cancelled: NoticeCancelled, Expired: NoticeExpired, Failed: NoticeFailed}[c.State]
	if kind == "" {
		return
	}
	var told []string
	for _, nic := range c.Involved() {
		if kind == NoticeDone && contains(c.Notify, nic) {
			continue // told below that the role passed on
		}
		told = append(told, nic)
	}
	m.notify(ctx, kind, c, told, failure)
	if kind == NoticeDone {
		m.notify(ctx, NoticeReplaced, c, c.Notify, Failure{})
	}
}

func (m *Manager) notify(ctx context.Context, kind NoticeKind, c Change, nics []string, failure Failure) {
	for _, nic := range nics {
		acct, err := m.store.Account(ctx, nic)
		if err == nil && acct.Email == "" {
			continue
		}
		if err == nil {
			err = m.notifier.Notify(ctx, Notice{Kind: kind, To: acct, Change: c, Failure: failure})
		}
		if err != nil {
			m.log.WarnContext(ctx, "notice not sent", "kind", kind, "request", c.ID, "to", nic, "err", err)
		}
	}
}

// errNoChange lets an update function say that there is nothing to write.
var errNoChange = errors.New("nothing to change")

const maxAttempts = 50

// update reads a request, lets fn change it and saves it with optimistic locking, trying
// again from a fresh read when another writer got there first. Terminal requests are never
// written: fn sees them and must refuse.
func (m *Manager) update(ctx context.Context, id string, fn func(c *Change) error) (Change, error) {
	for attempt := 0; ; attempt++ {
		c, err := m.store.Change(ctx, id)
		if err != nil {
			return Change{}, fmt.Errorf("load request %s: %w", id, err)
		}
		before := c.State
		if err := fn(&c); err != nil {
			return c, err
		}
		if before.Terminal() {
			return c, errNoChange
		}
		saved, err := m.store.SaveChange(ctx, c)
		if errors.Is(err, ErrConflict) && attempt < maxAttempts {
			// Another writer got there first; its write shows in the next read.
			m.pause(attempt)
			continue
		}
		if err != nil {
			return Change{}, fmt.Errorf("save request %s: %w", id, err)
		}
		return saved, nil
	}
}

// pause backs off a little, with jitter, before a retry after a lost race.
func (m *Manager) pause(attempt int) {
	ceiling := time.Duration(min(attempt+1, 10)) * 5 * time.Millisecond
	time.Sleep(time.Duration(rand.Int64N(int64(ceiling))))
}
