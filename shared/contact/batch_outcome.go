package contact

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
)

// schedule sets b.DueAt: while the batch has not told its outcomes, by when all its requests
// must have ended (expired, or applied after the last acceptance), or, once a writer took
// on the telling, when its window to do so ends.
func (b *Batch) schedule(t timing) {
	switch {
	case b.Told || len(b.ChangeIDs()) == 0:
		b.DueAt = time.Time{}
	case !b.TellingAt.IsZero():
		b.DueAt = b.TellingAt.Add(t.ownerWindow).UTC()
	default:
		b.DueAt = b.ExpiresAt.Add(t.applyGrace + t.ownerWindow).UTC()
	}
}

// tellBatch emails the outcomes of the batch's requests once every one of them has ended:
// one email per account involved, listing those of its requests that involve it. The writer
// that ends the last request calls it, and the reconciler once the batch is due, so that a
// crash in between loses nothing. The telling is taken on by a versioned write first, so
// that two writers do not both send; a writer that dies after taking it on leaves it to the
// reconciler after the owner's window (at least once, like every email).
func (m *Manager) tellBatch(ctx context.Context, id string) {
	if err := m.tryTellBatch(ctx, id); err != nil {
		m.log.ErrorContext(ctx, "tell the batch's outcomes", "batchId", id, "err", err)
	}
}

func (m *Manager) tryTellBatch(ctx context.Context, id string) error {
	b, err := m.store.Batch(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return nil // purged
	}
	if err != nil {
		return fmt.Errorf("load batch %s: %w", id, err)
	}
	now := m.now()
	if b.Told || (!b.TellingAt.IsZero() && now.Before(b.TellingAt.Add(m.timing.ownerWindow))) {
		return nil // told, or being told
	}
	changes, err := m.store.Changes(ctx, b.ChangeIDs())
	if err != nil {
		return fmt.Errorf("load the requests of batch %s: %w", id, err)
	}
	if slices.ContainsFunc(changes, func(c Change) bool { return !c.State.Terminal() }) {
		if !b.DueAt.After(now) {
			// Due, but a request is still open (applying late): look again later.
			b.DueAt = now.Add(m.timing.applyGrace).UTC()
			if _, err := m.store.SaveBatch(ctx, b); err != nil && !errors.Is(err, ErrConflict) {
				return fmt.Errorf("postpone batch %s: %w", id, err)
			}
		}
		return nil
	}
	b.TellingAt = now.UTC()
	b.schedule(m.timing)
	b, err = m.store.SaveBatch(ctx, b)
	if errors.Is(err, ErrConflict) {
		return nil // another writer took it on
	}
	if err != nil {
		return fmt.Errorf("take on telling batch %s: %w", id, err)
	}
	accounts := m.accountReader()
	var errs []error
	for _, nic := range batchInvolved(changes) {
		var theirs []Change
		for _, c := range changes {
			if slices.Contains(c.Involved(), nic) {
				theirs = append(theirs, c)
			}
		}
		acct, err := accounts.get(ctx, nic)
		if errors.Is(err, ErrNotFound) || (err == nil && acct.Email == "") {
			continue // nobody to tell
		}
		if err == nil {
			err = m.notifier.Notify(ctx, Notice{Kind: NoticeBatchOutcome, To: acct, Batch: b, Changes: theirs})
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("email %s the outcomes of batch %s: %w", nic, id, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err // told again by the reconciler once the window has passed
	}
	b.Told = true
	b.schedule(m.timing)
	if _, err := m.store.SaveBatch(ctx, b); err != nil {
		return fmt.Errorf("record batch %s told: %w", id, err)
	}
	return nil
}

// batchInvolved lists every account involved in changes, in order, each once.
func batchInvolved(changes []Change) []string {
	var out []string
	for _, c := range changes {
		for _, nic := range c.Involved() {
			if !slices.Contains(out, nic) {
				out = append(out, nic)
			}
		}
	}
	return out
}

// sweepBatches tells the outcomes of the batches that are due.
func (m *Manager) sweepBatches(ctx context.Context) (int, error) {
	ids, err := m.store.DueBatches(ctx, m.now(), sweepBatch)
	if err != nil {
		return 0, fmt.Errorf("list due batches: %w", err)
	}
	var errs []error
	for _, id := range ids {
		if err := m.tryTellBatch(ctx, id); err != nil {
			errs = append(errs, err)
		}
	}
	return len(ids), errors.Join(errs...)
}
