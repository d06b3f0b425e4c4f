package contact_test

import (
	"slices"
	"testing"
	"time"

	"github.com/servicecontacts/servicecontacts/shared/contact"
)

const (
	startGrace = 5 * time.Minute
	applyGrace = 7 * time.Minute
)

// graces sets start and apply graces other than the defaults, so that a test can tell which
// one a due time comes from.
func graces(cfg *contact.Config) { cfg.StartGrace, cfg.ApplyGrace = startGrace, applyGrace }

func TestSchedule(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opts []option
		// prepare brings the new request c where the case needs it and returns when it
		// must be due (the zero time for never).
		prepare func(e *env, c contact.Change) time.Time
	}{
		{"pending without workflow", []option{graces}, func(e *env, c contact.Change) time.Time {
			return c.CreatedAt.Add(startGrace)
		}},
		{"pending without workflow, one party accepted", []option{graces}, func(e *env, c contact.Change) time.Time {
			e.clock.Advance(time.Minute)
			e.decide(c.ID, adm, true)
			return c.CreatedAt.Add(startGrace)
		}},
		{"pending without workflow, expiring before the grace", []option{graces, func(cfg *contact.Config) { cfg.Expiry = time.Minute }},
			func(e *env, c contact.Change) time.Time { return c.ExpiresAt }},
		{"pending with a task", []option{graces}, func(e *env, c contact.Change) time.Time {
			if err := e.m.RegisterTask(e.ctx, c.ID, adm, "task"); err != nil {
				e.t.Fatal(err)
			}
			return c.ExpiresAt
		}},
		{"pending with a task, one party accepted", []option{graces}, func(e *env, c contact.Change) time.Time {
			if err := e.m.RegisterTask(e.ctx, c.ID, adm, "task"); err != nil {
				e.t.Fatal(err)
			}
			e.decide(c.ID, adm, true)
			return c.ExpiresAt
		}},
		{"applying", []option{graces}, func(e *env, c contact.Change) time.Time {
			if err := e.m.RegisterTask(e.ctx, c.ID, adm, "task"); err != nil {
				e.t.Fatal(err)
			}
			e.decide(c.ID, adm, true)
			at := e.clock.Advance(3 * time.Hour)
			e.decide(c.ID, nwc, true)
			return at.Add(applyGrace)
		}},
		{"applying, default grace", nil, func(e *env, c contact.Change) time.Time {
			at := e.clock.Advance(time.Hour)
			e.acceptAll(c)
			return at.Add(contact.DefaultApplyGrace)
		}},
		{"refused", []option{graces}, func(e *env, c contact.Change) time.Time {
			e.decide(c.ID, nwc, false)
			return time.Time{}
		}},
		{"done", []option{graces}, func(e *env, c contact.Change) time.Time {
			e.acceptAll(c)
			if _, err := e.m.Apply(e.ctx, c.ID); err != nil {
				e.t.Fatal(err)
			}
			return time.Time{}
		}},
		{"ended, owing emails", []option{graces}, func(e *env, c contact.Change) time.Time {
			e.mail.NotifyFunc = failingFor(contact.NoticeCancelled, errThrottled)
			if _, err := e.m.Cancel(e.ctx, adm, c.ID); err != nil {
				e.t.Fatal(err)
			}
			return e.change(c.ID).Outbox[0].NextAt
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			onBackends(t, func(t *testing.T, e *env) {
				c := e.newTech()
				want := tt.prepare(e, c)
				got := e.change(c.ID).DueAt
				if !got.Equal(want) {
					t.Fatalf("due at %v, want %v", got, want)
				}
				// The store indexes it for the reconciler from then on, and not before.
				far := t0.Add(365 * 24 * time.Hour)
				if want.IsZero() {
					if ids, err := e.st.DueChanges(e.ctx, far, 100); err != nil || slices.Contains(ids, c.ID) {
						t.Errorf("DueChanges = %v, %v; want %s, never due, left out", ids, err, c.ID)
					}
					return
				}
				if ids, err := e.st.DueChanges(e.ctx, want.Add(-time.Nanosecond), 100); err != nil || slices.Contains(ids, c.ID) {
					t.Errorf("DueChanges just before = %v, %v; want %s left out", ids, err, c.ID)
				}
				if ids, err := e.st.DueChanges(e.ctx, want, 100); err != nil || !slices.Contains(ids, c.ID) {
					t.Errorf("DueChanges at the due time = %v, %v; want %s among them", ids, err, c.ID)
				}
			}, tt.opts...)
		})
	}
}
