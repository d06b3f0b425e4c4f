package contact

import (
	"context"
	"errors"
	"fmt"
)

// ListServices lists the services on which caller holds a role.
func (m *Manager) ListServices(ctx context.Context, caller string, q ServiceQuery) (ServicePage, error) {
	if q.Role != "" && !q.Role.Valid() {
		return ServicePage{}, Errorf(ErrInvalid, "invalid_role", "role must be admin, tech or billing, not %s", quoted(string(q.Role)))
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
		return ChangePage{}, Errorf(ErrInvalid, "invalid_state", "unknown state %s", quoted(string(q.State)))
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
	return m.visibleChange(ctx, caller, id)
}

// visibleChange loads a request and hides it from anyone not involved in it.
func (m *Manager) visibleChange(ctx context.Context, caller, id string) (Change, error) {
	c, err := m.store.Change(ctx, id)
	if err != nil {
		return Change{}, fmt.Errorf("load request %s: %w", id, err)
	}
	if !visible(c, caller) {
		return Change{}, errRequestNotFound(id)
	}
	return c, nil
}

// visible reports whether caller may see c: whether caller is involved in it.
func visible(c Change, caller string) bool { return contains(c.Involved(), caller) }

// errRequestNotFound is the answer about a request that is not there, or that the caller
// may not see: the same, so that requests cannot be probed.
func errRequestNotFound(id string) error {
	return Errorf(ErrNotFound, "request_not_found", "request %s not found", id)
}

// Profile returns the caller's account as the system knows it: the address and language
// its emails use, so that a person can check them before asking for a resend.
func (m *Manager) Profile(ctx context.Context, caller string) (Account, error) {
	a, err := m.store.Account(ctx, caller)
	if errors.Is(err, ErrNotFound) {
		return Account{}, Errorf(ErrNotFound, "account_not_found", "this system has no account %s", caller)
	}
	if err != nil {
		return Account{}, fmt.Errorf("load account %s: %w", caller, err)
	}
	return a, nil
}
