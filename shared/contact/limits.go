package contact

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Limit bounds how many times something may happen in a fixed window of time.
type Limit struct {
	Max    int
	Window time.Duration
}

// The abuse limits' defaults.
var (
	// DefaultCreationLimit bounds the requests one caller creates.
	DefaultCreationLimit = Limit{Max: 10, Window: time.Minute}
	// DefaultEmailLimit bounds the emails a caller's requests and resends send to one
	// recipient: a token email and the email that tells the outcome per request naming them.
	DefaultEmailLimit = Limit{Max: 20, Window: time.Hour}
	// DefaultWrongTokenLimit bounds the wrong tokens one source presents for one request.
	DefaultWrongTokenLimit = Limit{Max: 5, Window: 15 * time.Minute}
)

// orDefault fills the zero fields of l from def.
func (l Limit) orDefault(def Limit) Limit {
	if l.Max <= 0 {
		l.Max = def.Max
	}
	if l.Window <= 0 {
		l.Window = def.Window
	}
	return l
}

// Counter counts the uses of one limited thing (Key names the limit and whom it is for) in
// one fixed window of time. Windows start at multiples of their length since Go's zero time
// (time.Truncate): every function instance counts in the same ones.
type Counter struct {
	Key   string
	Start time.Time
	End   time.Time // the count is forgotten from then on
}

// counter is the counter of key for the window of l that holds at.
func (l Limit) counter(key string, at time.Time) Counter {
	start := at.UTC().Truncate(l.Window)
	return Counter{Key: key, Start: start, End: start.Add(l.Window)}
}

// Use is N uses to add to a counter. Max bounds the count: a use that would take it past
// Max is refused; 0 counts without bound (what a limit must know of, but not refuse).
type Use struct {
	Counter
	N   int
	Max int
}

// LimitReached is the error Store.Count returns when a use would take its counter past its
// Max: nothing was counted.
type LimitReached struct {
	Use Use
}

func (e *LimitReached) Error() string {
	return fmt.Sprintf("limit of %d reached for %s until %s", e.Use.Max, e.Use.Key, e.Use.End.Format(time.RFC3339))
}

func (e *LimitReached) Unwrap() error { return ErrRateLimited }

// Counter keys: what is limited, then for whom.
const (
	creationKey   = "create#"     // + the caller's NIC
	emailKey      = "email#"      // + the recipient's NIC
	wrongTokenKey = "wrongtoken#" // + the request id, "#" and the source
)

// retryAfter is how many whole seconds from now until the end of c's window, at least 1.
func retryAfter(c Counter, now time.Time) int {
	return max(int((c.End.Sub(now)+time.Second-1)/time.Second), 1)
}

// limited turns a reached limit into the caller's 429, worded by describe; other errors
// are returned with context.
func (m *Manager) limited(err error, describe func(u Use) (code, message string)) error {
	var reached *LimitReached
	if !errors.As(err, &reached) {
		return fmt.Errorf("count uses: %w", err)
	}
	code, message := describe(reached.Use)
	return &Error{Kind: ErrRateLimited, Code: code, Message: message, RetryAfter: retryAfter(reached.Use.Counter, m.now())}
}

// emailUses counts the emails to send to each recipient; those bounded holds for are held to
// the email limit, the others are counted without bound.
func (m *Manager) emailUses(at time.Time, emails map[string]int, bounded func(nic string) bool) []Use {
	var uses []Use
	for nic, n := range emails {
		u := Use{Counter: m.limits.email.counter(emailKey+nic, at), N: n}
		if bounded(nic) {
			u.Max = m.limits.email.Max
		}
		uses = append(uses, u)
	}
	return uses
}

// creationUses are the uses that creating changes on caller's behalf counts: the requests
// and the emails they will send, each party's token email and each involved account's
// email telling the outcome (counted now, in the window the request is made in, so that
// cancelling and asking again cannot send more). They are counted with the requests, all
// or none: a reached limit refuses the whole call, and a call that fails counts nothing.
//
// Every recipient but the caller is held to the email limit, those only told of the outcome
// (the previous holder) included: they could otherwise be sent one email per request, by
// requests that each name someone else. The caller's own emails are counted without bound:
// the creation limit bounds them.
func (m *Manager) creationUses(caller string, changes []Change, at time.Time) []Use {
	emails := map[string]int{}
	for _, c := range changes {
		for _, p := range c.Parties {
			emails[p.NIC]++ // the token
		}
		for _, nic := range c.Involved() {
			emails[nic]++ // the outcome
		}
	}
	creation := m.limits.creation.counter(creationKey+caller, at)
	return append([]Use{{Counter: creation, N: len(changes), Max: m.limits.creation.Max}},
		m.emailUses(at, emails, func(nic string) bool { return nic != caller })...)
}

// creationLimited is the caller's answer to a creation that reached a limit.
func (m *Manager) creationLimited(caller string, err error) error {
	return m.limited(err, func(u Use) (string, string) {
		if u.Key == creationKey+caller {
			return "too_many_requests", fmt.Sprintf("you may create at most %d requests in %s; try again later", m.limits.creation.Max, m.limits.creation.Window)
		}
		return tooManyEmails(u)
	})
}

func tooManyEmails(u Use) (code, message string) {
	return "too_many_emails", fmt.Sprintf("account %s was sent too many emails lately; try again later", strings.TrimPrefix(u.Key, emailKey))
}

// resendUses are the uses of the token emails a resend on by's behalf sends to nics; by's
// own are counted without bound.
func (m *Manager) resendUses(by string, nics []string, at time.Time) []Use {
	emails := map[string]int{}
	for _, nic := range nics {
		emails[nic]++
	}
	return m.emailUses(at, emails, func(nic string) bool { return nic != by })
}

// countResend counts the uses of a resend that writes no request (a batch's).
func (m *Manager) countResend(ctx context.Context, by string, nics []string, at time.Time) error {
	err := m.store.Count(ctx, m.resendUses(by, nics, at))
	if err == nil {
		return nil
	}
	return m.limited(err, tooManyEmails)
}

// Sources of token attempts, as wrong-token counters name them.
const (
	sourceAccount = "nic:"
	sourceAddress = "ip:"
	// sourceLink is every attempt through the emailed link whose address is unknown.
	sourceLink = "link"
)

// source names who presents a token: the signed-in account, otherwise the client's address.
func source(caller, address string) string {
	s := sourceLink
	switch {
	case caller != "":
		s = sourceAccount + caller
	case address != "":
		s = sourceAddress + address
	}
	if len(s) > 64 { // an address is shorter; a key stays small whatever comes in
		sum := sha256.Sum256([]byte(s))
		s = "h:" + hex.EncodeToString(sum[:16])
	}
	return s
}

func (m *Manager) wrongTokenCounter(id, source string) Counter {
	return m.limits.wrongToken.counter(wrongTokenKey+id+"#"+source, m.now())
}

// errTooManyWrongTokens is the answer to a source that presented too many wrong tokens.
func (m *Manager) errTooManyWrongTokens(c Counter) error {
	return &Error{
		Kind: ErrRateLimited, Code: "too_many_wrong_tokens",
		Message:    "too many wrong confirmation tokens were tried for this request; try again later",
		RetryAfter: retryAfter(c, m.now()),
	}
}

// checkWrongTokens refuses a source that has presented the limit of wrong tokens for request
// id, before its token is looked at.
func (m *Manager) checkWrongTokens(ctx context.Context, id, source string) error {
	c := m.wrongTokenCounter(id, source)
	n, err := m.store.Counted(ctx, c)
	if err != nil {
		return fmt.Errorf("count wrong tokens for request %s: %w", id, err)
	}
	if n >= m.limits.wrongToken.Max {
		return m.errTooManyWrongTokens(c)
	}
	return nil
}

// History of wrong tokens.
const (
	// EventTokenRejected is the history entry of wrong tokens; its detail says how many.
	EventTokenRejected = "token_rejected"
	// Anonymous is the author of what someone unknown did through the emailed link.
	Anonymous = "anonymous"
)

// wrongToken counts a wrong token from source for request c and records it in the request's
// history (never the token). It returns wrong, the caller's answer, unless the source has
// just reached the limit (concurrent attempts may have passed the check of the count together).
// Consecutive wrong tokens by the same author make one entry whose count grows, so that
// the history stays bounded however many are tried.
func (m *Manager) wrongToken(ctx context.Context, c Change, source, by string, wrong error) error {
	counter := m.wrongTokenCounter(c.ID, source)
	err := m.store.Count(ctx, []Use{{Counter: counter, N: 1, Max: m.limits.wrongToken.Max}})
	var reached *LimitReached
	if errors.As(err, &reached) {
		return m.errTooManyWrongTokens(counter)
	}
	if err != nil {
		return fmt.Errorf("count a wrong token for request %s: %w", c.ID, err)
	}
	if by == "" {
		by = Anonymous
	}
	_, err = m.bookkeep(ctx, c, func(c *Change) {
		now := m.now()
		if n := len(c.History); n > 0 && c.History[n-1].Event == EventTokenRejected && c.History[n-1].By == by {
			last := &c.History[n-1]
			var count int
			_, _ = fmt.Sscanf(last.Detail, "%d", &count) // written below
			last.At, last.Detail = now.UTC(), wrongTokens(count+1)
			return
		}
		c.record(now, by, EventTokenRejected, wrongTokens(1))
	}, time.Time{})
	if err != nil {
		m.log.ErrorContext(ctx, "record a wrong token", "changeId", c.ID, "err", err)
	}
	return wrong
}

func wrongTokens(n int) string {
	if n == 1 {
		return "1 wrong token"
	}
	return fmt.Sprintf("%d wrong tokens", n)
}

// limits are a Manager's abuse limits.
type limits struct {
	creation, email, wrongToken Limit
}
