package contact

import (
	"slices"
	"time"
)

// MaxBatchServices bounds the services of one batch: what a person checks in one email.
const MaxBatchServices = 100

// Batch is one change asked over many services at once: the same new holders for the same
// roles of each. Each service's requests are ordinary requests (they keep every rule, and
// can be seen, resent and cancelled on their own); what the batch adds is that each
// required party gets one email and one token for every request that needs them, and that
// those who are involved learn the outcomes in one email once all of them have ended.
type Batch struct {
	ID          string
	RequestedBy string
	// Wanted are the new holders asked for, by role, as normalized.
	Wanted    map[Role]string
	CreatedAt time.Time
	ExpiresAt time.Time
	Items     []BatchItem
	Parties   []BatchParty
	// Resends counts the resends of the batch; LastResendAt is the time of the latest.
	Resends      int
	LastResendAt time.Time
	// Told is set once the outcome emails were sent; TellingAt when a writer took it on
	// to send them (others wait for the owner's window before they do).
	Told      bool
	TellingAt time.Time
	// DueAt is when the reconciler must look at the batch: by then its requests have all
	// ended, and whoever ended the last one may have failed to send the outcomes. Zero
	// once they were.
	DueAt   time.Time
	Version int
}

// BatchItem is one service of a batch: the requests made for it, or why none was.
type BatchItem struct {
	ServiceID string
	Changes   []string
	// Error says why the service has no requests (Changes is then empty).
	Error *Error
}

// BatchParty is an account whose confirmation some of a batch's requests need.
type BatchParty struct {
	NIC string
	// TokenHash is the hash of the party's batch token, which is also the party's token on
	// each of Changes; ReplacedHashes those a resend replaced.
	TokenHash      string
	ReplacedHashes []string
	// Changes lists the requests that need the party, in the batch's order.
	Changes []string
	// Bounced is set when the party's latest batch email bounced.
	Bounced bool
}

// ChangeIDs lists every request of the batch, in the order of its items.
func (b Batch) ChangeIDs() []string {
	var ids []string
	for _, it := range b.Items {
		ids = append(ids, it.Changes...)
	}
	return ids
}

// Party returns the batch's party with the given NIC handle.
func (b *Batch) Party(nic string) (*BatchParty, bool) {
	for i := range b.Parties {
		if b.Parties[i].NIC == nic {
			return &b.Parties[i], true
		}
	}
	return nil, false
}

// Involves reports whether nic may see the batch: its requester, or one of its parties.
// (Those only told of an outcome see the requests, not the batch.)
func (b Batch) Involves(nic string) bool {
	_, isParty := b.Party(nic)
	return b.RequestedBy == nic || isParty
}

// partyForToken finds the party a batch token belongs to, comparing every hash as
// Change.partyForToken does.
func (b *Batch) partyForToken(token string) (*BatchParty, tokenMatch) {
	h := HashToken(token)
	var found *BatchParty
	match := tokenUnknown
	for i := range b.Parties {
		p := &b.Parties[i]
		if sameHash(p.TokenHash, h) {
			found, match = p, tokenCurrent
		}
		if slices.ContainsFunc(p.ReplacedHashes, func(old string) bool { return sameHash(old, h) }) && match == tokenUnknown {
			found, match = p, tokenReplaced
		}
	}
	return found, match
}
