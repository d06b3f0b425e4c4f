package contact

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"
)

// RequestBatch asks for the same change on each of services: each service succeeds or fails
// on its own (its item says which), its requests are created all or none as RequestChanges
// creates them, and each required party is emailed once, with one token for every request
// of the batch that needs them.
//
// The batch is written first, with the requests it is about to create, so that no request
// ever names a batch that does not exist; it is written again with what failed.
func (m *Manager) RequestBatch(ctx context.Context, caller string, services []string, wanted map[Role]string) (Batch, []Change, error) {
	if err := checkBatchServices(services); err != nil {
		return Batch{}, nil, err
	}
	if len(wanted) == 0 {
		return Batch{}, nil, Errorf(ErrInvalid, "empty_request", "name a new admin, tech or billing contact")
	}
	normalized := map[Role]string{}
	for role, raw := range wanted {
		nic, err := NormalizeNIC(raw)
		if err != nil {
			return Batch{}, nil, err
		}
		normalized[role] = nic
	}
	id, err := newID()
	if err != nil {
		return Batch{}, nil, err
	}
	now := m.now().UTC()
	b := Batch{ID: id, RequestedBy: caller, Wanted: normalized, CreatedAt: now, ExpiresAt: now.Add(m.expiry)}

	// One token per party for the whole batch, kept in memory only.
	tokens := map[string]string{}
	token := func(_ *Change, nic string) (string, error) {
		if t, ok := tokens[nic]; ok {
			return HashToken(t), nil
		}
		t, hash, err := NewToken()
		if err != nil {
			return "", err
		}
		tokens[nic] = t
		return hash, nil
	}
	accounts := m.accountReader()
	planned := map[string][]Change{} // by service
	for _, serviceID := range services {
		changes, err := m.planService(ctx, accounts, caller, serviceID, normalized, now, token)
		var refused *Error
		if errors.As(err, &refused) {
			b.Items = append(b.Items, BatchItem{ServiceID: serviceID, Error: refused})
			continue
		}
		if err != nil {
			return Batch{}, nil, err
		}
		item := BatchItem{ServiceID: serviceID}
		for i := range changes {
			changes[i].BatchID = b.ID
			item.Changes = append(item.Changes, changes[i].ID)
		}
		planned[serviceID] = changes
		b.Items = append(b.Items, item)
	}
	b.Parties = batchParties(b, planned, tokens)
	if err := m.countBatch(ctx, caller, b, planned, now); err != nil {
		return Batch{}, nil, err
	}
	b.schedule(m.timing)
	if err := m.store.CreateBatch(ctx, b); err != nil {
		return Batch{}, nil, fmt.Errorf("create batch %s: %w", b.ID, err)
	}
	b.Version = 1

	var created []Change
	failed := map[string]*Error{} // by service
	for _, item := range b.Items {
		changes := planned[item.ServiceID]
		if len(changes) == 0 {
			continue
		}
		if err := m.store.CreateChanges(ctx, changes, nil); err != nil {
			if !errors.Is(err, ErrConflict) {
				m.log.ErrorContext(ctx, "create batch requests", "batchId", b.ID, "serviceId", item.ServiceID, "err", err)
				failed[item.ServiceID] = errUnavailable()
				continue
			}
			failed[item.ServiceID] = Errorf(ErrConflict, "request_open", "another request for %s changed its contacts first; reload and try again", item.ServiceID)
			continue
		}
		for i := range changes {
			changes[i].Version = 1
			changes[i] = m.deliver(ctx, changes[i], 1)
		}
		// Should this function die from here on, the reconciler ends the requests whose
		// workflow never started, as for any request.
		if err := m.startAll(ctx, changes); err != nil {
			m.log.ErrorContext(ctx, "start workflow", "batchId", b.ID, "serviceId", item.ServiceID, "err", err)
			m.abandon(ctx, changes)
			failed[item.ServiceID] = errUnavailable()
			continue
		}
		created = append(created, changes...)
	}
	if len(failed) > 0 {
		b = m.recordBatchFailures(ctx, b, failed)
	}
	created = m.sendBatchTokens(ctx, b, created, tokens)
	return b, created, nil
}

// checkBatchServices checks the list of a batch's services: 1 to MaxBatchServices, each once.
func checkBatchServices(services []string) error {
	switch {
	case len(services) == 0:
		return Errorf(ErrInvalid, "empty_batch", "name at least one service")
	case len(services) > MaxBatchServices:
		return Errorf(ErrInvalid, "too_many_services", "a batch holds at most %d services, not %d", MaxBatchServices, len(services))
	}
	seen := map[string]bool{}
	for _, id := range services {
		if seen[id] {
			return Errorf(ErrInvalid, "duplicate_service", "service %s is named twice", quoted(id))
		}
		seen[id] = true
	}
	return nil
}

// planService checks and builds the requests of one service of a batch.
func (m *Manager) planService(ctx context.Context, accounts *accountReader, caller, serviceID string, wanted map[Role]string, now time.Time, token tokenHasher) ([]Change, error) {
	svc, err := m.store.Service(ctx, serviceID)
	if errors.Is(err, ErrNotFound) {
		return nil, Errorf(ErrNotFound, "service_not_found", "service %s not found", serviceID)
	}
	if err != nil {
		return nil, fmt.Errorf("load service %s: %w", serviceID, err)
	}
	return m.planChanges(ctx, accounts, caller, svc, wanted, now, token)
}

// batchParties lists who must confirm which of the batch's planned requests, in the order
// of its items.
func batchParties(b Batch, planned map[string][]Change, tokens map[string]string) []BatchParty {
	var parties []BatchParty
	index := map[string]int{}
	for _, item := range b.Items {
		for _, c := range planned[item.ServiceID] {
			for _, p := range c.Parties {
				i, ok := index[p.NIC]
				if !ok {
					i = len(parties)
					index[p.NIC] = i
					parties = append(parties, BatchParty{NIC: p.NIC, TokenHash: HashToken(tokens[p.NIC])})
				}
				parties[i].Changes = append(parties[i].Changes, c.ID)
			}
		}
	}
	return parties
}

func errUnavailable() *Error {
	return &Error{Kind: ErrUnavailable, Code: "unavailable", Message: "the request could not be started; nothing was changed, please try again", RetryAfter: 5}
}

// startAll starts the workflows of one service's requests.
func (m *Manager) startAll(ctx context.Context, changes []Change) error {
	for _, c := range changes {
		if err := m.workflow.Start(ctx, c); err != nil {
			return fmt.Errorf("start the workflow of request %s: %w", c.ID, err)
		}
	}
	return nil
}

// recordBatchFailures writes, in the batch, the services whose requests could not be
// created after all, and takes those requests off its parties' lists. Should the write
// fail, the batch keeps naming requests that do not exist, which its readers skip.
func (m *Manager) recordBatchFailures(ctx context.Context, b Batch, failed map[string]*Error) Batch {
	gone := map[string]bool{}
	next := b
	next.Items = slices.Clone(b.Items)
	for i, item := range next.Items {
		if err, ok := failed[item.ServiceID]; ok {
			for _, id := range item.Changes {
				gone[id] = true
			}
			next.Items[i] = BatchItem{ServiceID: item.ServiceID, Error: err}
		}
	}
	next.Parties = nil
	for _, p := range b.Parties {
		p.Changes = slices.DeleteFunc(slices.Clone(p.Changes), func(id string) bool { return gone[id] })
		if len(p.Changes) > 0 {
			next.Parties = append(next.Parties, p)
		}
	}
	next.schedule(m.timing)
	saved, err := m.store.SaveBatch(ctx, next)
	if err != nil {
		m.log.ErrorContext(ctx, "record the batch's failed services", "batchId", b.ID, "err", err)
		return next
	}
	return saved
}

// sendBatchTokens emails each party of b its token, once, with the created requests that
// need it. A failed email is recorded in the history of each of those requests, where the
// parties see it, as for a request of its own; a resend of the batch can try again. It
// returns created as last saved.
func (m *Manager) sendBatchTokens(ctx context.Context, b Batch, created []Change, tokens map[string]string) []Change {
	byID := map[string]int{}
	for i, c := range created {
		byID[c.ID] = i
	}
	accounts := m.accountReader()
	for _, p := range b.Parties {
		var theirs []Change
		for _, id := range p.Changes {
			if i, ok := byID[id]; ok {
				theirs = append(theirs, created[i])
			}
		}
		if len(theirs) == 0 {
			continue
		}
		acct, err := accounts.get(ctx, p.NIC)
		if err == nil {
			err = m.notifier.Notify(ctx, Notice{Kind: NoticeBatchToken, To: acct, Batch: b, Changes: theirs, Token: tokens[p.NIC]})
		}
		if err == nil {
			continue
		}
		m.log.WarnContext(ctx, "batch token email not sent", "batchId", b.ID, "party", p.NIC, "err", err)
		for _, c := range theirs {
			saved, err := m.bookkeep(ctx, c, func(c *Change) { c.record(m.now(), System, "email_failed", p.NIC) }, time.Time{})
			if err != nil {
				m.log.ErrorContext(ctx, "record email failure", "changeId", c.ID, "err", err)
				continue
			}
			created[byID[c.ID]] = saved
		}
	}
	return created
}

// countBatch counts a batch as one creation by caller, and, per recipient, the one token
// email and the one email of the outcomes it will send: a batch's requests send no emails
// of their own. The limits hold as for RequestChanges.
func (m *Manager) countBatch(ctx context.Context, caller string, b Batch, planned map[string][]Change, at time.Time) error {
	emails := map[string]int{}
	for _, p := range b.Parties {
		emails[p.NIC]++ // the token
	}
	told := map[string]bool{}
	for _, changes := range planned {
		for _, c := range changes {
			for _, nic := range c.Involved() {
				told[nic] = true
			}
		}
	}
	for nic := range maps.Keys(told) {
		emails[nic]++ // the outcomes
	}
	creation := m.limits.creation.counter(creationKey+caller, at)
	uses := append([]Use{{Counter: creation, N: 1, Max: m.limits.creation.Max}},
		m.emailUses(at, emails, func(nic string) bool { return nic != caller })...)
	err := m.store.Count(ctx, uses)
	if err == nil {
		return nil
	}
	return m.creationLimited(caller, err)
}
