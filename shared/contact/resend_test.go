package contact_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/servicecontacts/servicecontacts/shared/contact"
)

func TestResendRateLimits(t *testing.T) {
	t.Parallel()
	onBackends(t, func(t *testing.T, e *env) {
		c := e.newTech()
		first := map[string]string{adm: e.mail.Token(c.ID, adm), nwc: e.mail.Token(c.ID, nwc)}

		// The first resend after creation is always allowed, however soon.
		e.clock.Advance(time.Second)
		got, err := e.m.Resend(e.ctx, nwc, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Resends != 1 || !got.LastResendAt.Equal(t0.Add(time.Second)) {
			t.Errorf("resends %d, last at %v; want 1 at %v", got.Resends, got.LastResendAt, t0.Add(time.Second))
		}
		if ev := lastEvent(t, e.change(c.ID)); ev.Event != "resent" || ev.By != nwc {
			t.Errorf("last event %+v, want resent by %s", ev, nwc)
		}
		// Both parties got a fresh token; the old ones are replaced.
		if n := len(e.mail.Of(c.ID, contact.NoticeToken)); n != 4 {
			t.Fatalf("%d token emails, want 2 at creation and 2 resent", n)
		}
		for nic, old := range first {
			if fresh := e.mail.Token(c.ID, nic); fresh == old || fresh == "" {
				t.Errorf("%s got no fresh token", nic)
			}
			_, err := e.m.Decide(e.ctx, contact.Decision{ChangeID: c.ID, Token: old, Caller: nic, Accept: true})
			wantError(t, err, contact.ErrGone, "token_replaced")
		}

		// Ten seconds later: too soon, and told when to come back.
		e.clock.Advance(10 * time.Second)
		_, err = e.m.Resend(e.ctx, adm, c.ID)
		if e := wantError(t, err, contact.ErrRateLimited, "resend_too_soon"); e.RetryAfter != 50 {
			t.Errorf("RetryAfter = %d, want 50", e.RetryAfter)
		}
		// Half a second before the minute is up, still one second to wait.
		e.clock.Advance(49*time.Second + 500*time.Millisecond)
		_, err = e.m.Resend(e.ctx, adm, c.ID)
		if e := wantError(t, err, contact.ErrRateLimited, "resend_too_soon"); e.RetryAfter != 1 {
			t.Errorf("RetryAfter = %d, want 1", e.RetryAfter)
		}
		if got := e.change(c.ID).Resends; got != 1 {
			t.Errorf("refused resends counted: %d, want 1", got)
		}

		// A minute after the previous one it goes, up to ten resends in all.
		for i := 2; i <= contact.DefaultMaxResends; i++ {
			e.clock.Advance(contact.DefaultResendInterval)
			if _, err := e.m.Resend(e.ctx, adm, c.ID); err != nil {
				t.Fatalf("resend %d: %v", i, err)
			}
		}
		e.clock.Advance(time.Hour)
		_, err = e.m.Resend(e.ctx, adm, c.ID)
		wantError(t, err, contact.ErrRateLimited, "resend_limit")
		stored := e.change(c.ID)
		if stored.Resends != contact.DefaultMaxResends {
			t.Errorf("resends = %d, want %d", stored.Resends, contact.DefaultMaxResends)
		}
		if n := len(e.mail.Of(c.ID, contact.NoticeToken)); n != 2*(1+contact.DefaultMaxResends) {
			t.Errorf("%d token emails, want %d", n, 2*(1+contact.DefaultMaxResends))
		}
		for _, p := range stored.Parties {
			if len(p.ReplacedHashes) != contact.DefaultMaxResends {
				t.Errorf("%s has %d replaced tokens, want %d", p.NIC, len(p.ReplacedHashes), contact.DefaultMaxResends)
			}
		}
		// Only the latest token works.
		e.decide(c.ID, adm, true)
		e.decide(c.ID, nwc, true)
		e.wantState(c.ID, contact.Applying)
	})
}

func TestResendSettingsAreConfigurable(t *testing.T) {
	t.Parallel()
	onBackends(t, func(t *testing.T, e *env) {
		c := e.newTech()
		if _, err := e.m.Resend(e.ctx, adm, c.ID); err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(5 * time.Second)
		_, err := e.m.Resend(e.ctx, adm, c.ID)
		if e := wantError(t, err, contact.ErrRateLimited, "resend_too_soon"); e.RetryAfter != 5 {
			t.Errorf("RetryAfter = %d, want 5", e.RetryAfter)
		}
		e.clock.Advance(5 * time.Second)
		if _, err := e.m.Resend(e.ctx, adm, c.ID); err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(time.Minute)
		_, err = e.m.Resend(e.ctx, adm, c.ID)
		wantError(t, err, contact.ErrRateLimited, "resend_limit")
	}, func(cfg *contact.Config) { cfg.ResendInterval = 10 * time.Second; cfg.MaxResends = 2 })
}

func TestResendOnlyToThoseWhoHaveNotAnswered(t *testing.T) {
	t.Parallel()
	onBackends(t, func(t *testing.T, e *env) {
		c := e.newTech()
		e.decide(c.ID, adm, true)
		admToken := e.mail.Token(c.ID, adm)
		got, err := e.m.Resend(e.ctx, adm, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(map[string]int{adm: 1, nwc: 2}, e.mail.Recipients(c.ID, contact.NoticeToken)); diff != "" {
			t.Errorf("token emails by recipient (-want +got):\n%s", diff)
		}
		if e.mail.Token(c.ID, adm) != admToken {
			t.Error("the party who accepted got a new token")
		}
		if p, _ := got.Party(adm); len(p.ReplacedHashes) != 0 || p.Status != contact.Accepted {
			t.Errorf("party %+v, want accepted with its token untouched", p)
		}
		e.decide(c.ID, nwc, true)
		e.wantState(c.ID, contact.Applying)
	})
}

func TestResendRefused(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		caller  string
		prepare func(e *env, c contact.Change)
		kind    error
		code    string
	}{
		{"the previous holder", tec, nil, contact.ErrForbidden, "not_allowed"},
		{"a stranger", stranger, nil, contact.ErrNotFound, "request_not_found"},
		{"applying", adm, func(e *env, c contact.Change) { e.acceptAll(c) }, contact.ErrConflict, "not_pending"},
		{"refused", nwc, func(e *env, c contact.Change) { e.decide(c.ID, nwc, false) }, contact.ErrConflict, "not_pending"},
		{"past its expiry", adm, func(e *env, c contact.Change) { e.clock.Advance(contact.DefaultExpiry) }, contact.ErrGone, "request_expired"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			onBackends(t, func(t *testing.T, e *env) {
				c := e.newTech()
				if tt.prepare != nil {
					tt.prepare(e, c)
				}
				before := e.change(c.ID)
				tokens := len(e.mail.Of(c.ID, contact.NoticeToken))
				_, err := e.m.Resend(e.ctx, tt.caller, c.ID)
				wantError(t, err, tt.kind, tt.code)
				if diff := cmp.Diff(before, e.change(c.ID)); diff != "" {
					t.Errorf("a refused resend changed the request (-before +after):\n%s", diff)
				}
				if n := len(e.mail.Of(c.ID, contact.NoticeToken)); n != tokens {
					t.Errorf("%d tokens emailed by a refused resend", n-tokens)
				}
			})
		})
	}
}
