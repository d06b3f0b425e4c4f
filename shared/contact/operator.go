package contact

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"
	"time"
)

// The operator's use cases: the provider's own systems keep accounts and services current,
// and support staff act on any request. By is the operator's principal (an IAM ARN on AWS);
// it is recorded in every history entry and record the call writes.

// AccountPatch changes some fields of an account; nil fields stay as they are.
type AccountPatch struct {
	Email        *string
	Language     *Language
	GoodStanding *bool
}

// ChangeSearch filters and pages the support's view of requests: by service, by account
// (any involvement), or both; State optionally narrows either.
type ChangeSearch struct {
	ServiceID string
	NIC       string
	State     State
	Limit     int
	Cursor    string
}

// Record is an operator's change of an account or a service: the trail of the provider's
// own edits, and the outbox of what the edit owes (the events it publishes, the open
// requests it ends).
type Record struct {
	ID      string
	At      time.Time
	By      string
	Subject RecordSubject
	Key     string // the NIC handle or the service id
	Action  RecordAction
	// Changes says, in words and without any email address, what the edit changed.
	Changes []string
	// Ends lists the open requests the edit ends, with Reason; cleared once they ended.
	Ends   []string
	Reason Failure
	Events []Announcement
	// DueAt is when the reconciler must look at the record again; zero once it owes nothing.
	DueAt   time.Time
	Version int
}

// RecordSubject says what a record is about.
type RecordSubject string

const (
	SubjectAccount RecordSubject = "account"
	SubjectService RecordSubject = "service"
)

// RecordAction says what an operator did.
type RecordAction string

const (
	ActionCreated RecordAction = "created"
	ActionUpdated RecordAction = "updated"
	ActionDeleted RecordAction = "deleted"
)

// PutAccount creates or replaces an account. It reports whether anything changed: a
// repeated call changes nothing and records nothing.
func (m *Manager) PutAccount(ctx context.Context, by string, a Account) (Account, bool, error) {
	nic, err := NormalizeNIC(a.NIC)
	if err != nil {
		return Account{}, false, err
	}
	a.NIC = nic
	prev, err := m.store.Account(ctx, nic)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return Account{}, false, fmt.Errorf("load account %s: %w", nic, err)
	}
	exists := err == nil
	return m.writeAccount(ctx, by, a, prev, exists)
}

// PatchAccount changes some fields of an existing account.
func (m *Manager) PatchAccount(ctx context.Context, by, nic string, p AccountPatch) (Account, bool, error) {
	nic, err := NormalizeNIC(nic)
	if err != nil {
		return Account{}, false, err
	}
	if p.Email == nil && p.Language == nil && p.GoodStanding == nil {
		return Account{}, false, Errorf(ErrInvalid, "empty_patch", "name at least one of email, language, goodStanding")
	}
	prev, err := m.store.Account(ctx, nic)
	if errors.Is(err, ErrNotFound) {
		return Account{}, false, Errorf(ErrNotFound, "account_not_found", "no account %s", nic)
	}
	if err != nil {
		return Account{}, false, fmt.Errorf("load account %s: %w", nic, err)
	}
	a := prev
	if p.Email != nil {
		a.Email = *p.Email
	}
	if p.Language != nil {
		a.Language = *p.Language
	}
	if p.GoodStanding != nil {
		a.GoodStanding = *p.GoodStanding
	}
	return m.writeAccount(ctx, by, a, prev, true)
}

// writeAccount checks a and writes it over prev with the record of the edit, unless it
// changes nothing. A new address is no longer known to bounce.
func (m *Manager) writeAccount(ctx context.Context, by string, a, prev Account, exists bool) (Account, bool, error) {
	if err := checkAccount(a); err != nil {
		return Account{}, false, err
	}
	a.BouncedAt = time.Time{}
	if exists && a.Email == prev.Email {
		a.BouncedAt = prev.BouncedAt
	}
	changes := accountChanges(prev, a, exists)
	if len(changes) == 0 {
		return prev, false, nil
	}
	rec, err := m.newRecord(by, SubjectAccount, a.NIC, exists, changes)
	if err != nil {
		return Account{}, false, err
	}
	if err := m.store.PutAccount(ctx, a, rec); err != nil {
		return Account{}, false, fmt.Errorf("write account %s: %w", a.NIC, err)
	}
	m.log.InfoContext(ctx, "account written", "nic", a.NIC, "record", rec.ID, "by", by)
	return a, true, nil
}

func checkAccount(a Account) error {
	switch {
	case !ValidEmail(a.Email):
		return Errorf(ErrInvalid, "invalid_email", "email must be an address like name@example.com, at most %d characters", MaxEmailLength)
	case !a.Language.Valid():
		return Errorf(ErrInvalid, "invalid_language", "language must be en, fr or it, not %s", quoted(string(a.Language)))
	}
	return nil
}

// accountChanges words what an edit changes, never naming an address.
func accountChanges(prev, a Account, exists bool) []string {
	if !exists {
		return []string{fmt.Sprintf("created: language %s, good standing %t", a.Language, a.GoodStanding)}
	}
	var out []string
	if a.Email != prev.Email {
		out = append(out, "email changed")
	}
	if a.Language != prev.Language {
		out = append(out, fmt.Sprintf("language: %s → %s", prev.Language, a.Language))
	}
	if a.GoodStanding != prev.GoodStanding {
		out = append(out, fmt.Sprintf("good standing: %t → %t", prev.GoodStanding, a.GoodStanding))
	}
	return out
}

// PutService creates a service or corrects its type and holders (s.ID, s.Type, s.Contacts);
// open requests on a role whose holder this changes end failed.
func (m *Manager) PutService(ctx context.Context, by string, s Service) (Service, bool, error) {
	s, err := m.checkService(ctx, s)
	if err != nil {
		return Service{}, false, err
	}
	for attempt := 0; ; attempt++ {
		prev, err := m.store.Service(ctx, s.ID)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return Service{}, false, fmt.Errorf("load service %s: %w", s.ID, err)
		}
		exists := err == nil
		changes := serviceChanges(prev, s, exists)
		if len(changes) == 0 {
			return prev, false, nil
		}
		rec, err := m.newRecord(by, SubjectService, s.ID, exists, changes)
		if err != nil {
			return Service{}, false, err
		}
		if rec.Ends, err = m.endedByEdit(ctx, prev, s); err != nil {
			return Service{}, false, err
		}
		rec.Reason = Failure{Code: FailureContactChanged}
		if !exists || !maps.Equal(prev.Contacts, s.Contacts) {
			before := prev.Contacts
			if !exists {
				before = nil
			}
			rec.announceHolders(s.ID, s.Type, before, s.Contacts, m.timing.ownerWindow)
		}
		if !exists {
			prev = Service{}
		}
		err = m.store.PutService(ctx, s, prev, rec)
		if errors.Is(err, ErrConflict) && attempt < maxAttempts {
			m.pause(attempt) // a request locked a role, or a role changed hands: read again
			continue
		}
		if err != nil {
			return Service{}, false, fmt.Errorf("write service %s: %w", s.ID, err)
		}
		m.log.InfoContext(ctx, "service written", "service", s.ID, "record", rec.ID, "by", by, "ends", len(rec.Ends))
		m.settle(ctx, rec, true)
		saved, err := m.store.Service(ctx, s.ID)
		if err != nil {
			return Service{}, false, fmt.Errorf("load service %s: %w", s.ID, err)
		}
		return saved, true, nil
	}
}

// endedByEdit lists the open requests that the edit of prev into s ends: those on a role
// whose holder changes, and, when the admin changes, those the previous admin's authority
// allowed (as an admin hand-over ends them).
func (m *Manager) endedByEdit(ctx context.Context, prev, s Service) ([]string, error) {
	var ends []string
	for _, role := range Roles {
		open := prev.Open[role]
		switch {
		case open == "":
		case prev.Contacts[role] != s.Contacts[role]:
			ends = append(ends, open)
		case prev.Contacts[Admin] != s.Contacts[Admin]:
			c, err := m.store.Change(ctx, open)
			if errors.Is(err, ErrNotFound) {
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("load request %s: %w", open, err)
			}
			if c.RequestedBy == prev.Contacts[Admin] && c.Authority == Admin {
				ends = append(ends, open)
			}
		}
	}
	return ends, nil
}

// checkService normalizes s and checks that its holders are accounts.
func (m *Manager) checkService(ctx context.Context, s Service) (Service, error) {
	if !ValidServiceID(s.ID) {
		return Service{}, Errorf(ErrInvalid, "invalid_service_id", "%s is not a service id", quoted(s.ID))
	}
	if !ValidServiceType(s.Type) {
		return Service{}, Errorf(ErrInvalid, "invalid_type", "type must be lowercase letters, digits and dashes, like domain")
	}
	contacts := map[Role]string{}
	accounts := m.accountReader()
	for _, role := range Roles {
		nic, err := NormalizeNIC(s.Contacts[role])
		if err != nil {
			return Service{}, Errorf(ErrInvalid, "invalid_nic", "%s: %s is not a NIC handle", role, quoted(s.Contacts[role]))
		}
		if _, err := accounts.get(ctx, nic); errors.Is(err, ErrNotFound) {
			return Service{}, Errorf(ErrRule, "contact_not_found", "%s: no account %s", role, nic)
		} else if err != nil {
			return Service{}, fmt.Errorf("load account %s: %w", nic, err)
		}
		contacts[role] = nic
	}
	return Service{ID: s.ID, Type: s.Type, Contacts: contacts}, nil
}

// serviceChanges words what an edit of a service changes.
func serviceChanges(prev, s Service, exists bool) []string {
	if !exists {
		return []string{fmt.Sprintf("created: %s, admin %s, tech %s, billing %s", s.Type, s.Contacts[Admin], s.Contacts[Tech], s.Contacts[Billing])}
	}
	var out []string
	if prev.Type != s.Type {
		out = append(out, fmt.Sprintf("type: %s → %s", prev.Type, s.Type))
	}
	for _, role := range Roles {
		if prev.Contacts[role] != s.Contacts[role] {
			out = append(out, fmt.Sprintf("%s: %s → %s", role, prev.Contacts[role], s.Contacts[role]))
		}
	}
	return out
}

// DeleteService removes a service; its open requests end failed (service gone) and their
// parties are told. Deleting a service that is gone changes nothing.
func (m *Manager) DeleteService(ctx context.Context, by, id string) (bool, error) {
	if !ValidServiceID(id) {
		return false, Errorf(ErrInvalid, "invalid_service_id", "%s is not a service id", quoted(id))
	}
	for attempt := 0; ; attempt++ {
		prev, err := m.store.Service(ctx, id)
		if errors.Is(err, ErrNotFound) {
			return false, nil
		}
		if err != nil {
			return false, fmt.Errorf("load service %s: %w", id, err)
		}
		rec, err := m.newRecord(by, SubjectService, id, true, nil)
		if err != nil {
			return false, err
		}
		rec.Action, rec.Changes = ActionDeleted, []string{"deleted"}
		rec.Ends, rec.Reason = otherOpenRequests(prev, ""), Failure{Code: FailureServiceGone}
		rec.announceHolders(id, prev.Type, prev.Contacts, nil, m.timing.ownerWindow)
		err = m.store.DeleteService(ctx, prev, rec)
		if errors.Is(err, ErrConflict) && attempt < maxAttempts {
			m.pause(attempt)
			continue
		}
		if err != nil {
			return false, fmt.Errorf("delete service %s: %w", id, err)
		}
		m.log.InfoContext(ctx, "service deleted", "service", id, "record", rec.ID, "by", by, "ends", len(rec.Ends))
		m.settle(ctx, rec, true)
		return true, nil
	}
}

// newRecord starts the record of an operator's edit. It is due once the editor's window has
// passed: should the editor die before settling it, the reconciler does.
func (m *Manager) newRecord(by string, subject RecordSubject, key string, exists bool, changes []string) (Record, error) {
	id, err := newID()
	if err != nil {
		return Record{}, err
	}
	now := m.now().UTC()
	action := ActionCreated
	if exists {
		action = ActionUpdated
	}
	return Record{
		ID: id, At: now, By: by, Subject: subject, Key: key, Action: action, Changes: changes,
		DueAt: now.Add(m.timing.ownerWindow),
	}, nil
}

// announceHolders owes the ServiceContactsChanged event of an edit of a service.
func (r *Record) announceHolders(serviceID, serviceType string, before, after map[Role]string, window time.Duration) {
	r.Events = append(r.Events, Announcement{
		ID: r.ID + ":" + string(ServiceContactsChanged), Type: ServiceContactsChanged, At: r.At, By: r.By,
		ServiceID: serviceID, ServiceType: serviceType, Before: maps.Clone(before), After: maps.Clone(after),
		Owed: 1, NextAt: r.At.Add(window),
	})
}

// settle does what a record owes: it publishes its events and ends the open requests the
// edit affected, on the operator's authority, then records that it owes nothing more. What
// fails stays owed, for the reconciler. mine says that the caller wrote the record.
func (m *Manager) settle(ctx context.Context, rec Record, mine bool) Record {
	owner := 0
	if mine {
		owner = 1
	}
	now := m.now()
	published, unpublished := m.publish(ctx, rec.ID, rec.Events, owner, now)
	var left []string
	var svc Service // as the edit left it, to tell why each request ends
	if rec.Reason.Code == FailureContactChanged && len(rec.Ends) > 0 {
		var err error
		if svc, err = m.store.Service(ctx, rec.Key); err != nil && !errors.Is(err, ErrNotFound) {
			m.log.ErrorContext(ctx, "load the edited service", "record", rec.ID, "service", rec.Key, "err", err)
			return rec
		}
	}
	for _, id := range rec.Ends {
		c, err := m.store.Change(ctx, id)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err == nil {
			reason := Failure{Code: rec.Reason.Code, Role: c.Role}
			if reason.Code == FailureContactChanged && svc.Contacts[c.Role] == c.From {
				reason.Code = FailureAdminChanged // its role kept its holder: the admin changed
			}
			_, err = m.end(ctx, id, ending{step: StepFailed, by: rec.By, reason: reason})
		}
		if err != nil {
			m.log.ErrorContext(ctx, "end a request the edit affected", "record", rec.ID, "changeId", id, "err", err)
			left = append(left, id)
		}
	}
	for attempt := 0; ; attempt++ {
		next := rec
		next.Ends = left
		next.Events = settle(rec.Events, published, unpublished, now)
		next.DueAt = time.Time{}
		if len(left) > 0 {
			next.DueAt = now.Add(m.timing.ownerWindow).UTC()
		}
		next.DueAt = earliest(next.DueAt, eventsDue(next.Events))
		saved, err := m.store.SaveRecord(ctx, next)
		if errors.Is(err, ErrConflict) && attempt < maxAttempts {
			// The reconciler settled it meanwhile: read what is left and settle that.
			if rec, err = m.store.Record(ctx, rec.ID); err != nil {
				break
			}
			left = intersect(left, rec.Ends)
			continue
		}
		if err != nil {
			m.log.ErrorContext(ctx, "record a settled edit", "record", rec.ID, "err", err)
			return rec
		}
		return saved
	}
	return rec
}

func intersect(a, b []string) []string {
	var out []string
	for _, s := range a {
		if contains(b, s) {
			out = append(out, s)
		}
	}
	return out
}

// FindChanges is support's view of the requests, by service or by account.
func (m *Manager) FindChanges(ctx context.Context, q ChangeSearch) (ChangePage, error) {
	if q.ServiceID == "" && q.NIC == "" {
		return ChangePage{}, Errorf(ErrInvalid, "missing_filter", "name a serviceId or a nic")
	}
	if q.State != "" && !q.State.Valid() {
		return ChangePage{}, Errorf(ErrInvalid, "invalid_state", "unknown state %s", quoted(string(q.State)))
	}
	limit, err := pageSize(q.Limit)
	if err != nil {
		return ChangePage{}, err
	}
	cq := ChangeQuery{State: q.State, Limit: limit, Cursor: q.Cursor}
	if q.NIC != "" {
		if cq.Involves, err = NormalizeNIC(q.NIC); err != nil {
			return ChangePage{}, err
		}
	}
	if q.ServiceID == "" {
		page, err := m.store.ChangesOf(ctx, cq.Involves, cq)
		if err != nil {
			return ChangePage{}, fmt.Errorf("list requests of %s: %w", cq.Involves, err)
		}
		return page, nil
	}
	if !ValidServiceID(q.ServiceID) {
		return ChangePage{}, Errorf(ErrInvalid, "invalid_service_id", "%s is not a service id", quoted(q.ServiceID))
	}
	page, err := m.store.ChangesOfService(ctx, q.ServiceID, cq)
	if err != nil {
		return ChangePage{}, fmt.Errorf("list requests on %s: %w", q.ServiceID, err)
	}
	return page, nil
}

// ChangeByID returns any request, whoever is involved.
func (m *Manager) ChangeByID(ctx context.Context, id string) (Change, error) {
	c, err := m.store.Change(ctx, id)
	if err != nil {
		return Change{}, fmt.Errorf("load request %s: %w", id, err)
	}
	return c, nil
}

// CancelFor cancels an open request on support's decision, giving reason.
func (m *Manager) CancelFor(ctx context.Context, by, id, reason string) (Change, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" || len([]rune(reason)) > MaxReasonLength {
		return Change{}, Errorf(ErrInvalid, "invalid_reason", "give a reason of 1 to %d characters", MaxReasonLength)
	}
	return m.cancel(ctx, id, nil, by, reason, func(*Change) error { return nil })
}

// ResendFor resends a request's tokens on a party's behalf, with the limits of Resend.
func (m *Manager) ResendFor(ctx context.Context, by, id string) (Change, error) {
	return m.resend(ctx, id, nil, by, func(*Change) error { return nil })
}

// RecordBounce marks address, the email of nic, as bouncing, and says so in the history of
// each open request where nic is a party who has not answered. A bounce of an address the
// account no longer has, or of an email older than the request's latest resend, changes
// nothing; a repeated bounce changes nothing more.
func (m *Manager) RecordBounce(ctx context.Context, nic, address string, at time.Time) error {
	acct, err := m.store.Account(ctx, nic)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("load account %s: %w", nic, err)
	}
	if !strings.EqualFold(acct.Email, address) {
		m.log.InfoContext(ctx, "bounce of an address the account no longer has", "nic", nic)
		return nil
	}
	if err := m.store.MarkBounced(ctx, nic, acct.Email, at); err != nil {
		if errors.Is(err, ErrConflict) {
			return nil // the address changed meanwhile
		}
		return fmt.Errorf("mark %s bouncing: %w", nic, err)
	}
	q := ChangeQuery{State: Pending, Limit: MaxPageSize}
	for {
		page, err := m.store.ChangesOf(ctx, nic, q)
		if err != nil {
			return fmt.Errorf("list open requests of %s: %w", nic, err)
		}
		for _, c := range page.Changes {
			if err := m.markBounced(ctx, c.ID, nic, at); err != nil {
				return err
			}
		}
		if page.NextCursor == "" {
			return nil
		}
		q.Cursor = page.NextCursor
	}
}

// markBounced marks nic's party of request id bounced, if it is still waiting and no resend
// came after the bounce.
func (m *Manager) markBounced(ctx context.Context, id, nic string, at time.Time) error {
	_, err := m.update(ctx, id, func(c *Change) error {
		p, ok := c.Party(nic)
		if !ok || p.Status != Waiting || p.Bounced || c.State != Pending || at.Before(c.LastResendAt) {
			return errNoChange
		}
		p.Bounced = true
		c.record(at, System, "email_bounced", fmt.Sprintf("the email to %s bounced", nic))
		return nil
	})
	if err != nil && !errors.Is(err, errNoChange) {
		return fmt.Errorf("record the bounce in request %s: %w", id, err)
	}
	return nil
}
