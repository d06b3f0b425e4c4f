package contact

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Resend emails a fresh token to every party that has not answered yet; each party's previous
// token stops working.
func (m *Manager) Resend(ctx context.Context, caller, id string) (Change, error) {
	c, err := m.visibleChange(ctx, caller, id)
	if err != nil {
		return Change{}, err
	}
	return m.resend(ctx, id, &c, caller, func(c *Change) error {
		if _, isParty := c.Party(caller); !isParty && c.RequestedBy != caller {
			return Errorf(ErrForbidden, "not_allowed", "only the requester or a party may ask to resend")
		}
		return nil
	})
}

// resend emails fresh tokens on by's behalf, once allow agrees, within the resend limits,
// starting from read, the request as just read (nil to read it).
func (m *Manager) resend(ctx context.Context, id string, read *Change, by string, allow func(c *Change) error) (Change, error) {
	var tokens map[string]string
	// The emails are counted with the save: a lost race counts nothing and tries again.
	c, err := m.updateCounted(ctx, id, read, func(c *Change) ([]Use, error) {
		if err := allow(c); err != nil {
			return nil, err
		}
		now := m.now()
		switch {
		case c.State == Pending && !now.Before(c.ExpiresAt):
			return nil, Errorf(ErrGone, "request_expired", "request %s has expired", c.ID)
		case c.State != Pending:
			return nil, Errorf(ErrConflict, "not_pending", "request %s is %s; there is nothing to confirm", c.ID, c.State)
		case c.Resends >= m.maxResends:
			return nil, &Error{Kind: ErrRateLimited, Code: "resend_limit", Message: fmt.Sprintf("request %s was resent %d times already", c.ID, c.Resends)}
		case !c.LastResendAt.IsZero() && now.Sub(c.LastResendAt) < m.resendInterval:
			wait := int((m.resendInterval - now.Sub(c.LastResendAt) + time.Second - 1) / time.Second)
			return nil, &Error{Kind: ErrRateLimited, Code: "resend_too_soon", Message: fmt.Sprintf("wait %d seconds before resending again", wait), RetryAfter: wait}
		}
		uses := m.resendUses(by, c.WaitingFor(), now)
		tokens = map[string]string{}
		for i := range c.Parties {
			p := &c.Parties[i]
			if p.Status != Waiting {
				continue
			}
			token, hash, err := NewToken()
			if err != nil {
				return nil, err
			}
			p.ReplacedHashes = append(p.ReplacedHashes, p.TokenHash)
			p.TokenHash = hash
			p.Bounced = false // the new email may arrive
			tokens[p.NIC] = token
		}
		c.Resends++
		c.LastResendAt = now.UTC()
		c.record(now, by, "resent", "")
		return uses, nil
	})
	if errors.As(err, new(*LimitReached)) {
		return Change{}, m.limited(err, tooManyEmails)
	}
	if err != nil {
		return Change{}, err
	}
	return m.sendTokens(ctx, m.accountReader(), c, tokens, c.WaitingFor()), nil
}
