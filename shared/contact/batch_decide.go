package contact

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// GetBatch returns a batch and its requests as they stand, for its requester or one of its
// parties; to anyone else it does not exist.
func (m *Manager) GetBatch(ctx context.Context, caller, id string) (Batch, []Change, error) {
	b, err := m.visibleBatch(ctx, caller, id)
	if err != nil {
		return Batch{}, nil, err
	}
	changes, err := m.store.Changes(ctx, b.ChangeIDs())
	if err != nil {
		return Batch{}, nil, fmt.Errorf("load the requests of batch %s: %w", id, err)
	}
	return b, changes, nil
}

func (m *Manager) loadBatch(ctx context.Context, id string) (Batch, error) {
	b, err := m.store.Batch(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return Batch{}, Errorf(ErrNotFound, "batch_not_found", "batch %s not found", id)
	}
	if err != nil {
		return Batch{}, fmt.Errorf("load batch %s: %w", id, err)
	}
	return b, nil
}

func (m *Manager) visibleBatch(ctx context.Context, caller, id string) (Batch, error) {
	b, err := m.loadBatch(ctx, id)
	if err != nil {
		return Batch{}, err
	}
	if !b.Involves(caller) {
		return Batch{}, Errorf(ErrNotFound, "batch_not_found", "batch %s not found", id)
	}
	return b, nil
}

// BatchDecision is a party's answer to every request of a batch that needs them, with the
// party's batch token. Caller and Source are as for Decision.
type BatchDecision struct {
	BatchID string
	Token   string
	Caller  string
	Source  string
	Accept  bool
}

// BatchAnswer is what a batch decision did to one request: Change as it stands after it,
// and Err when the request was not answered (already answered, ended, its token replaced
// by a resend of that request alone).
type BatchAnswer struct {
	Change Change
	Err    *Error
}

// batchWorkers bounds the requests of a batch answered at once.
const batchWorkers = 8

// DecideBatch answers, with the party's one batch token, every request of the batch that
// needs the party. Each request is answered as Decide answers it, on its own: one that can
// no longer be answered says why, and the others go on. A token that answered is used up
// for every request it answered; answering again finds nothing left (token_used).
func (m *Manager) DecideBatch(ctx context.Context, d BatchDecision) (Batch, []BatchAnswer, error) {
	if d.Token == "" {
		return Batch{}, nil, Errorf(ErrInvalid, "missing_token", "the confirmation token is missing")
	}
	b, p, from, err := m.batchParty(ctx, d.BatchID, d.Token, d.Caller, d.Source)
	if err != nil {
		return Batch{}, nil, err
	}
	answers := make([]BatchAnswer, len(p.Changes))
	var wg sync.WaitGroup
	next := make(chan int)
	for range min(batchWorkers, len(p.Changes)) {
		wg.Go(func() {
			for i := range next {
				answers[i] = m.answerOne(ctx, Decision{ChangeID: p.Changes[i], Token: d.Token, Caller: p.NIC, Source: d.Source, Accept: d.Accept}, from)
			}
		})
	}
	for i := range p.Changes {
		next <- i
	}
	close(next)
	wg.Wait()

	var kept []BatchAnswer
	answered, used := 0, 0
	for _, a := range answers {
		if a.Change.ID == "" {
			continue // a request whose creation failed, or purged
		}
		kept = append(kept, a)
		switch {
		case a.Err == nil:
			answered++
		case a.Err.Code == "token_used":
			used++
		}
	}
	if answered == 0 && used == len(kept) {
		return Batch{}, nil, Errorf(ErrGone, "token_used", "this token was already used")
	}
	return b, kept, nil
}

// answerOne answers one request of a batch. Errors of the store are the caller's: they are
// reported on the request as unavailable, the others left to answer.
func (m *Manager) answerOne(ctx context.Context, d Decision, from string) BatchAnswer {
	c, err := m.decide(ctx, d, from, nil, nil)
	if err == nil {
		return BatchAnswer{Change: c}
	}
	if errors.Is(err, ErrNotFound) {
		return BatchAnswer{}
	}
	var refused *Error
	if !errors.As(err, &refused) {
		m.log.ErrorContext(ctx, "answer a request of a batch", "changeId", d.ChangeID, "err", err)
		refused = &Error{Kind: ErrUnavailable, Code: "unavailable", Message: "this request could not be answered now; please try again", RetryAfter: 5}
	}
	if c.ID == "" {
		if c, err = m.store.Change(ctx, d.ChangeID); err != nil {
			c = Change{ID: d.ChangeID}
		}
	}
	return BatchAnswer{Change: c, Err: refused}
}

// batchParty checks a batch token as usableParty checks a request's: through the API only the
// caller's own token is known; wrong tokens are counted per batch and source.
func (m *Manager) batchParty(ctx context.Context, id, token, caller, address string) (Batch, *BatchParty, string, error) {
	b, err := m.loadBatch(ctx, id)
	if err != nil {
		return Batch{}, nil, "", err
	}
	if caller != "" && !b.Involves(caller) {
		return Batch{}, nil, "", Errorf(ErrNotFound, "batch_not_found", "batch %s not found", id)
	}
	from := source(caller, address)
	if err := m.checkWrongTokens(ctx, id, from); err != nil {
		return Batch{}, nil, "", err
	}
	p, match := b.partyForToken(token)
	if caller != "" && (p == nil || p.NIC != caller) {
		match = tokenUnknown
	}
	switch match {
	case tokenUnknown:
		counter := m.wrongTokenCounter(id, from)
		err := m.store.Count(ctx, []Use{{Counter: counter, N: 1, Max: m.limits.wrongToken.Max}})
		var reached *LimitReached
		if errors.As(err, &reached) {
			return Batch{}, nil, "", m.errTooManyWrongTokens(counter)
		}
		if err != nil {
			return Batch{}, nil, "", fmt.Errorf("count a wrong token for batch %s: %w", id, err)
		}
		return Batch{}, nil, "", &Error{Kind: ErrForbidden, Code: wrongTokenCode, Message: "this token is not valid for this batch"}
	case tokenReplaced:
		return Batch{}, nil, "", Errorf(ErrGone, "token_replaced", "this token was replaced by a newer one; use the latest email")
	}
	return b, p, from, nil
}

// LookupBatch returns the batch a token belongs to, the requests that need its party and
// the party's account, for the page behind the emailed link opened from address. Like
// Lookup, it changes nothing but the count of wrong tokens.
func (m *Manager) LookupBatch(ctx context.Context, id, token, address string) (Batch, []Change, Account, error) {
	if token == "" {
		return Batch{}, nil, Account{}, Errorf(ErrInvalid, "missing_token", "the confirmation token is missing")
	}
	b, p, _, err := m.batchParty(ctx, id, token, "", address)
	if err != nil {
		return Batch{}, nil, Account{}, err
	}
	changes, err := m.store.Changes(ctx, p.Changes)
	if err != nil {
		return Batch{}, nil, Account{}, fmt.Errorf("load the requests of batch %s: %w", id, err)
	}
	acct, err := m.store.Account(ctx, p.NIC)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return Batch{}, nil, Account{}, fmt.Errorf("load account %s: %w", p.NIC, err)
	}
	acct.NIC = p.NIC
	return b, changes, acct, nil
}

// ResendBatch emails a fresh batch token to every party still waiting on one of the batch's
// open requests, in place of the one it had; the requester or a party may ask, within the
// resend limits, which hold for the batch as for a request.
func (m *Manager) ResendBatch(ctx context.Context, caller, id string) (Batch, []Change, error) {
	b, err := m.visibleBatch(ctx, caller, id)
	if err != nil {
		return Batch{}, nil, err
	}
	now := m.now()
	switch {
	case b.Resends >= m.maxResends:
		return Batch{}, nil, &Error{Kind: ErrRateLimited, Code: "resend_limit", Message: fmt.Sprintf("batch %s was resent %d times already", b.ID, b.Resends)}
	case !b.LastResendAt.IsZero() && now.Sub(b.LastResendAt) < m.resendInterval:
		wait := int((m.resendInterval - now.Sub(b.LastResendAt) + time.Second - 1) / time.Second)
		return Batch{}, nil, &Error{Kind: ErrRateLimited, Code: "resend_too_soon", Message: fmt.Sprintf("wait %d seconds before resending again", wait), RetryAfter: wait}
	}
	changes, err := m.store.Changes(ctx, b.ChangeIDs())
	if err != nil {
		return Batch{}, nil, fmt.Errorf("load the requests of batch %s: %w", id, err)
	}
	waiting := map[string][]Change{} // party → its open requests still waiting for it
	for _, c := range changes {
		if c.State != Pending || !now.Before(c.ExpiresAt) {
			continue
		}
		for _, nic := range c.WaitingFor() {
			waiting[nic] = append(waiting[nic], c)
		}
	}
	if len(waiting) == 0 {
		return Batch{}, nil, Errorf(ErrConflict, "not_pending", "batch %s has no request waiting for a confirmation", b.ID)
	}
	var nics []string
	for _, p := range b.Parties {
		if len(waiting[p.NIC]) > 0 {
			nics = append(nics, p.NIC)
		}
	}
	if err := m.countResend(ctx, caller, nics, now); err != nil {
		return Batch{}, nil, err
	}

	// The batch first: from then on the old token is told replaced, even on a request
	// that a crash left with it.
	tokens := map[string]string{}
	for i := range b.Parties {
		p := &b.Parties[i]
		if len(waiting[p.NIC]) == 0 {
			continue
		}
		token, hash, err := NewToken()
		if err != nil {
			return Batch{}, nil, err
		}
		tokens[p.NIC] = token
		p.ReplacedHashes = append(p.ReplacedHashes, p.TokenHash)
		p.TokenHash = hash
		p.Bounced = false
	}
	b.Resends++
	b.LastResendAt = now.UTC()
	b, err = m.store.SaveBatch(ctx, b)
	if errors.Is(err, ErrConflict) {
		return Batch{}, nil, Errorf(ErrConflict, "batch_changed", "batch %s changed meanwhile; try again", id)
	}
	if err != nil {
		return Batch{}, nil, fmt.Errorf("save batch %s: %w", id, err)
	}

	updated := map[string]Change{}
	for _, c := range changes {
		if c.State != Pending {
			continue
		}
		saved, err := m.update(ctx, c.ID, func(c *Change) error {
			if c.State != Pending {
				return errNoChange
			}
			for i := range c.Parties {
				p := &c.Parties[i]
				if t, ok := tokens[p.NIC]; ok && p.Status == Waiting {
					p.ReplacedHashes = append(p.ReplacedHashes, p.TokenHash)
					p.TokenHash = HashToken(t)
					p.Bounced = false
				}
			}
			c.record(m.now(), caller, "resent", "batch "+b.ID)
			return nil
		})
		if errors.Is(err, errNoChange) {
			continue
		}
		if err != nil {
			return Batch{}, nil, fmt.Errorf("resend request %s of batch %s: %w", c.ID, id, err)
		}
		updated[c.ID] = saved
	}

	var sent []Change
	accounts := m.accountReader()
	for _, p := range b.Parties {
		var theirs []Change
		for _, c := range waiting[p.NIC] {
			if u, ok := updated[c.ID]; ok {
				theirs = append(theirs, u)
			}
		}
		if len(theirs) == 0 {
			continue
		}
		acct, err := accounts.get(ctx, p.NIC)
		if err == nil {
			err = m.notifier.Notify(ctx, Notice{Kind: NoticeBatchToken, To: acct, Batch: b, Changes: theirs, Token: tokens[p.NIC]})
		}
		if err != nil {
			m.log.WarnContext(ctx, "batch token email not sent", "batchId", b.ID, "party", p.NIC, "err", err)
			for _, c := range theirs {
				if saved, err := m.bookkeep(ctx, c, func(c *Change) { c.record(m.now(), System, "email_failed", p.NIC) }, time.Time{}); err == nil {
					updated[c.ID] = saved
				}
			}
		}
	}
	for _, c := range changes {
		if u, ok := updated[c.ID]; ok {
			c = u
		}
		sent = append(sent, c)
	}
	return b, sent, nil
}
