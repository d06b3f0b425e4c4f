package contact

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
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

// Config wires a Manager. Store is required. A function given no Workflow or Notifier (it
// calls neither) fails any call of one as a failed call of the adapter would: what the call
// was for stays owed, for a function that has it.
type Config struct {
	Store    Store
	Workflow Workflow
	Notifier Notifier
	// Publisher publishes the events transitions owe; without one they stay owed, for a
	// function that has one (the reconciler) to publish.
	Publisher Publisher
	Logger    *slog.Logger
	Now       Clock
	// Expiry is how long a request waits for its confirmations (DefaultExpiry when zero).
	Expiry         time.Duration
	ResendInterval time.Duration
	MaxResends     int
	// StartGrace and ApplyGrace are how long the reconciler waits for the workflow
	// (DefaultStartGrace and DefaultApplyGrace when zero).
	StartGrace time.Duration
	ApplyGrace time.Duration
	// OwnerWindow is how long the writer that owes an email has to send it before the
	// reconciler does (DefaultOwnerWindow when zero).
	OwnerWindow time.Duration
	// The abuse limits (DefaultCreationLimit, DefaultEmailLimit and DefaultWrongTokenLimit
	// for the fields left zero), counted in the store so that every function instance
	// shares them: the requests one caller creates, the emails sent to one account on
	// others' behalf, and the wrong tokens one source presents for one request.
	CreationLimit   Limit
	EmailLimit      Limit
	WrongTokenLimit Limit
}

// Manager carries out the use cases: listing, requesting, confirming, cancelling and resending
// contact changes, the workflow's steps (registering a callback, applying, finishing), and
// the reconciliation that ends what the workflow failed to end. Each use case has a file.
type Manager struct {
	store          Store
	workflow       Workflow
	notifier       Notifier
	publisher      Publisher
	log            *slog.Logger
	now            Clock
	expiry         time.Duration
	resendInterval time.Duration
	maxResends     int
	timing         timing
	limits         limits
}

// New returns a Manager; zero values in cfg take the product defaults.
func New(cfg Config) *Manager {
	m := &Manager{
		store: cfg.Store, workflow: cfg.Workflow, notifier: cfg.Notifier, publisher: cfg.Publisher, log: cfg.Logger, now: cfg.Now,
		expiry: cfg.Expiry, resendInterval: cfg.ResendInterval, maxResends: cfg.MaxResends,
		timing: timing{startGrace: cfg.StartGrace, applyGrace: cfg.ApplyGrace, ownerWindow: cfg.OwnerWindow},
		limits: limits{
			creation:   cfg.CreationLimit.orDefault(DefaultCreationLimit),
			email:      cfg.EmailLimit.orDefault(DefaultEmailLimit),
			wrongToken: cfg.WrongTokenLimit.orDefault(DefaultWrongTokenLimit),
		},
	}
	if m.log == nil {
		m.log = slog.Default()
	}
	if m.workflow == nil {
		m.workflow = absent("workflow")
	}
	if m.notifier == nil {
		m.notifier = absent("notifier")
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
	if m.timing.startGrace <= 0 {
		m.timing.startGrace = DefaultStartGrace
	}
	if m.timing.applyGrace <= 0 {
		m.timing.applyGrace = DefaultApplyGrace
	}
	if m.timing.ownerWindow <= 0 {
		m.timing.ownerWindow = DefaultOwnerWindow
	}
	return m
}

// ownerDeadline is when others may send the emails a write made at now owes.
func (m *Manager) ownerDeadline(now time.Time) time.Time { return now.Add(m.timing.ownerWindow) }

// errNoChange lets an update function say that there is nothing to write.
var errNoChange = errors.New("nothing to change")

// maxAttempts bounds the rounds of a read-change-write that keeps losing races.
const maxAttempts = 20

// update reads a request, lets fn change it and saves it with optimistic locking, trying
// again from a fresh read when another writer got there first. Terminal requests are never
// written: fn sees them and must refuse.
func (m *Manager) update(ctx context.Context, id string, fn func(c *Change) error) (Change, error) {
	return m.updateFrom(ctx, id, nil, fn)
}

// updateFrom is update starting from read, the request as the caller has just read it (nil
// to read it here): the save's version check makes that copy as good as a fresh read, and a
// lost race reads again.
func (m *Manager) updateFrom(ctx context.Context, id string, read *Change, fn func(c *Change) error) (Change, error) {
	return m.updateCounted(ctx, id, read, func(c *Change) ([]Use, error) { return nil, fn(c) })
}

// updateCounted is updateFrom whose fn also names uses of the abuse limits, counted with
// the save, all or none: a reached limit saves nothing (the error wraps a *LimitReached),
// and a lost race counts nothing. A transition that names uses keeps the request open: its
// save never touches the role's lock.
func (m *Manager) updateCounted(ctx context.Context, id string, read *Change, fn func(c *Change) ([]Use, error)) (Change, error) {
	for attempt := 0; ; attempt++ {
		var c Change
		if attempt == 0 && read != nil {
			c = read.clone() // fn changes c; the caller's copy stays as it was
		} else {
			var err error
			if c, err = m.store.Change(ctx, id); err != nil {
				return Change{}, fmt.Errorf("load request %s: %w", id, err)
			}
		}
		before := c.State
		uses, err := fn(&c)
		if err != nil {
			return c, err
		}
		if before.Terminal() {
			return c, errNoChange
		}
		c.schedule(m.timing)
		var saved Change
		if len(uses) > 0 {
			saved, err = m.store.SaveCounted(ctx, c, uses)
		} else {
			saved, err = m.store.SaveChange(ctx, c)
		}
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

// bookkeep is update for what is not a transition (the outbox, the schedule): it writes in
// any state, and never touches the role's lock. It starts from latest, the caller's copy,
// and reads again only when another write came first. The request is due no earlier than
// notBefore (ignored when zero).
func (m *Manager) bookkeep(ctx context.Context, latest Change, fn func(c *Change), notBefore time.Time) (Change, error) {
	id := latest.ID
	for attempt := 0; ; attempt++ {
		c := latest
		if attempt > 0 {
			var err error
			if c, err = m.store.Change(ctx, id); err != nil {
				return Change{}, fmt.Errorf("load request %s: %w", id, err)
			}
		}
		c.Outbox = slices.Clone(c.Outbox) // fn may change it; latest stays as it was
		c.Events = slices.Clone(c.Events)
		c.History = slices.Clone(c.History)
		fn(&c)
		c.schedule(m.timing)
		if !c.DueAt.IsZero() && c.DueAt.Before(notBefore) {
			c.DueAt = notBefore.UTC()
		}
		saved, err := m.store.SaveBookkeeping(ctx, c)
		if errors.Is(err, ErrConflict) && attempt < maxAttempts {
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

// accountReader reads accounts for one call, each once: checking a new request and emailing
// its parties need the same accounts.
type accountReader struct {
	store Store
	read  map[string]Account
	gone  map[string]bool // read, and not there
}

func (m *Manager) accountReader() *accountReader {
	return &accountReader{store: m.store, read: map[string]Account{}, gone: map[string]bool{}}
}

// add records what a Fetch of nics found: those of nics it did not find are not there.
func (r *accountReader) add(found map[string]Account, nics []string) {
	for _, nic := range nics {
		if a, ok := found[nic]; ok {
			r.read[nic] = a
		} else if nic != "" {
			r.gone[nic] = true
		}
	}
}

// fetch reads, in one call, those of nics not read yet.
func (r *accountReader) fetch(ctx context.Context, nics []string) error {
	var unread []string
	for _, nic := range nics {
		if _, ok := r.read[nic]; !ok && !r.gone[nic] && nic != "" && !slices.Contains(unread, nic) {
			unread = append(unread, nic)
		}
	}
	if len(unread) == 0 {
		return nil
	}
	got, err := r.store.Fetch(ctx, Fetch{Accounts: unread})
	if err != nil {
		return fmt.Errorf("load accounts %v: %w", unread, err)
	}
	r.add(got.Accounts, unread)
	return nil
}

func (r *accountReader) get(ctx context.Context, nic string) (Account, error) {
	if a, ok := r.read[nic]; ok {
		return a, nil
	}
	if r.gone[nic] {
		return Account{}, Errorf(ErrNotFound, "account_not_found", "no account %s", nic)
	}
	a, err := r.store.Account(ctx, nic)
	if err == nil {
		r.read[nic] = a
	}
	return a, err
}
