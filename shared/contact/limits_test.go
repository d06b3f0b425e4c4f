package contact_test

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/servicecontacts/servicecontacts/shared/contact"
)

const guesser = "192.0.2.1" // the address a stranger guesses tokens from

func TestAbuseLimits(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		opt    option
		window time.Duration // the limit's window
		// exhaust uses the limit up and returns the attempt that it then refuses, and that
		// succeeds once the window has passed.
		exhaust func(t *testing.T, e *env) (attempt func() error)
		code    string
		// meanwhile checks, once the limit is reached, what it does not hold back.
		meanwhile func(t *testing.T, e *env)
	}{{
		name:   "requests per caller",
		opt:    func(c *contact.Config) { c.CreationLimit = contact.Limit{Max: 2, Window: time.Minute} },
		window: time.Minute,
		exhaust: func(t *testing.T, e *env) func() error {
			for range 2 {
				e.cancel(adm, e.newTech().ID)
			}
			return func() error {
				_, err := e.m.RequestChanges(e.ctx, adm, svcID, map[contact.Role]string{contact.Tech: nwc})
				return err
			}
		},
		code: "too_many_requests",
		meanwhile: func(t *testing.T, e *env) {
			// Another caller may still ask.
			e.cancel(tec, e.request1(tec, svcID, contact.Tech, zed).ID)
			if open := e.service(svcID).Open[contact.Tech]; open != "" {
				t.Errorf("a refused request locked the tech role: %s", open)
			}
		},
	}, {
		name:   "emails per recipient, when a request is cancelled and asked again",
		opt:    func(c *contact.Config) { c.EmailLimit = contact.Limit{Max: 4, Window: time.Hour} },
		window: time.Hour,
		exhaust: func(t *testing.T, e *env) func() error {
			for range 2 {
				e.cancel(adm, e.newTech().ID) // a token and a cancellation for nwc each time
			}
			return func() error {
				_, err := e.m.RequestChanges(e.ctx, adm, svcID, map[contact.Role]string{contact.Tech: nwc})
				return err
			}
		},
		code: "too_many_emails",
		meanwhile: func(t *testing.T, e *env) {
			if n := e.sentTo(nwc); n != 4 {
				t.Errorf("%s was sent %d emails, want the limit, 4", nwc, n)
			}
			// Naming another account is still allowed.
			e.cancel(adm, e.request1(adm, svcID, contact.Tech, zed).ID)
		},
	}, {
		name:   "emails per recipient, to the previous holder of requests naming others",
		opt:    func(c *contact.Config) { c.EmailLimit = contact.Limit{Max: 3, Window: time.Hour} },
		window: time.Hour,
		exhaust: func(t *testing.T, e *env) func() error {
			for _, to := range []string{nwc, zed, stranger} {
				e.cancel(adm, e.request1(adm, svcID, contact.Tech, to).ID) // tec is told each time
			}
			return func() error {
				_, err := e.m.RequestChanges(e.ctx, adm, svcID, map[contact.Role]string{contact.Tech: late})
				return err
			}
		},
		code: "too_many_emails",
		meanwhile: func(t *testing.T, e *env) {
			if n := e.sentTo(tec); n != 3 {
				t.Errorf("%s was sent %d emails, want the limit, 3", tec, n)
			}
		},
	}, {
		name:   "emails per recipient, when resent",
		opt:    func(c *contact.Config) { c.EmailLimit = contact.Limit{Max: 4, Window: time.Hour} },
		window: time.Hour,
		exhaust: func(t *testing.T, e *env) func() error {
			c := e.newTech() // nwc: a token, and the outcome to come
			for range 2 {
				e.clock.Advance(contact.DefaultResendInterval)
				if _, err := e.m.Resend(e.ctx, adm, c.ID); err != nil {
					t.Fatal(err)
				}
			}
			e.clock.Advance(contact.DefaultResendInterval)
			return func() error {
				_, err := e.m.Resend(e.ctx, adm, c.ID)
				return err
			}
		},
		code: "too_many_emails",
		meanwhile: func(t *testing.T, e *env) {
			if n := e.sentTo(nwc); n != 3 {
				t.Errorf("%s was sent %d emails, want 3 tokens", nwc, n)
			}
		},
	}, {
		name:   "wrong tokens per request and source",
		opt:    func(c *contact.Config) { c.WrongTokenLimit = contact.Limit{Max: 3, Window: 15 * time.Minute} },
		window: 15 * time.Minute,
		exhaust: func(t *testing.T, e *env) func() error {
			c := e.newTech()
			for _, guess := range []string{"guess-1", "guess-2", e.mail.Token(c.ID, adm) + "x"} {
				_, err := e.m.Decide(e.ctx, contact.Decision{ChangeID: c.ID, Token: guess, Source: guesser, Accept: true})
				wantError(t, err, contact.ErrForbidden, "invalid_token")
			}
			// From then on, even the right token is refused from that address.
			return func() error {
				_, err := e.m.Decide(e.ctx, contact.Decision{ChangeID: c.ID, Token: e.mail.Token(c.ID, nwc), Source: guesser, Accept: true})
				return err
			}
		},
		code: "too_many_wrong_tokens",
		meanwhile: func(t *testing.T, e *env) {
			c := e.onlyChange()
			_, _, err := e.m.Lookup(e.ctx, c.ID, e.mail.Token(c.ID, nwc), guesser)
			wantError(t, err, contact.ErrRateLimited, "too_many_wrong_tokens")
			// Another address is not slowed down, nor the party signed in from the same one.
			_, err = e.m.Decide(e.ctx, contact.Decision{ChangeID: c.ID, Token: "guess-4", Source: "198.51.100.9", Accept: true})
			wantError(t, err, contact.ErrForbidden, "invalid_token")
			if _, _, err := e.m.Lookup(e.ctx, c.ID, e.mail.Token(c.ID, nwc), "198.51.100.9"); err != nil {
				t.Errorf("the link from another address: %v", err)
			}
			if _, err := e.m.Decide(e.ctx, contact.Decision{ChangeID: c.ID, Token: e.mail.Token(c.ID, adm), Caller: adm, Source: guesser, Accept: true}); err != nil {
				t.Errorf("the party signed in from the same address: %v", err)
			}
			// The parties see the attempts, counted in one entry, never the tokens.
			var rejected []contact.Event
			for _, ev := range e.change(c.ID).History {
				if ev.Event == contact.EventTokenRejected {
					rejected = append(rejected, ev)
				}
			}
			want := []contact.Event{{At: e.clock.Now(), By: contact.Anonymous, Event: contact.EventTokenRejected, Detail: "4 wrong tokens"}}
			if diff := cmp.Diff(want, rejected); diff != "" {
				t.Errorf("wrong tokens in the history (-want +got):\n%s", diff)
			}
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			onBackends(t, func(t *testing.T, e *env) {
				attempt := tt.exhaust(t, e)
				sent := len(e.mail.Attempts())
				changes := e.changesOf(adm)

				err := attempt()
				refused := wantError(t, err, contact.ErrRateLimited, tt.code)
				// Told to come back when the window ends; windows start at multiples of
				// their length.
				end := e.clock.Now().Truncate(tt.window).Add(tt.window)
				if want := int((end.Sub(e.clock.Now()) + time.Second - 1) / time.Second); refused.RetryAfter != want {
					t.Errorf("RetryAfter = %d, want %d (the end of the window)", refused.RetryAfter, want)
				}
				if n := len(e.mail.Attempts()); n != sent {
					t.Errorf("a refused attempt sent %d emails", n-sent)
				}
				if diff := cmp.Diff(changes, e.changesOf(adm)); diff != "" {
					t.Errorf("a refused attempt changed requests (-before +after):\n%s", diff)
				}
				wantError(t, attempt(), contact.ErrRateLimited, tt.code) // and again

				tt.meanwhile(t, e)

				e.clock.Advance(end.Sub(e.clock.Now()))
				if err := attempt(); err != nil {
					t.Errorf("once the window has passed: %v", err)
				}
			}, tt.opt)
		})
	}
}

// Every token that is not the caller's gets the same answer, whatever it is: a stranger
// learns nothing from it.
func TestWrongTokensLookAlike(t *testing.T) {
	t.Parallel()
	onBackends(t, func(t *testing.T, e *env) {
		c := e.newTech()
		replaced := e.mail.Token(c.ID, adm)
		e.clock.Advance(time.Second)
		if _, err := e.m.Resend(e.ctx, adm, c.ID); err != nil {
			t.Fatal(err)
		}
		e.decide(c.ID, adm, true) // adm's current token is used
		other := e.request1(adm, svcID, contact.Billing, zed)

		tests := []struct {
			name string
			d    contact.Decision
		}{
			{"made up, signed in", contact.Decision{Token: "made-up", Caller: nwc}},
			{"another party's used token", contact.Decision{Token: e.mail.Token(c.ID, adm), Caller: nwc}},
			{"another party's replaced token", contact.Decision{Token: replaced, Caller: nwc}},
			{"of another request", contact.Decision{Token: e.mail.Token(other.ID, adm), Caller: nwc}},
			{"the previous holder with a party's token", contact.Decision{Token: e.mail.Token(c.ID, nwc), Caller: tec}},
			{"made up, through the link", contact.Decision{Token: "made-up", Source: "198.51.100.1"}},
			{"of another request, through the link", contact.Decision{Token: e.mail.Token(other.ID, zed), Source: "198.51.100.2"}},
		}
		var first *contact.Error
		for _, tt := range tests {
			tt.d.ChangeID, tt.d.Accept = c.ID, true
			_, err := e.m.Decide(e.ctx, tt.d)
			var got *contact.Error
			if !errors.As(err, &got) {
				t.Fatalf("%s: error = %v, want a *contact.Error", tt.name, err)
			}
			if first == nil {
				first = got
				wantError(t, err, contact.ErrForbidden, "invalid_token")
				continue
			}
			if *got != *first {
				t.Errorf("%s: answered %+v, a made-up token %+v", tt.name, *got, *first)
			}
		}
		// The owner of a used token, signed in or through the link, is told what it is.
		_, err := e.m.Decide(e.ctx, contact.Decision{ChangeID: c.ID, Token: e.mail.Token(c.ID, adm), Caller: adm, Accept: true})
		wantError(t, err, contact.ErrGone, "token_used")
		_, _, err = e.m.Lookup(e.ctx, c.ID, replaced, "198.51.100.3")
		wantError(t, err, contact.ErrGone, "token_replaced")
		_, _, err = e.m.Lookup(e.ctx, c.ID, "made-up", "198.51.100.3")
		if got := asError(err); got == nil || *got != *first {
			t.Errorf("Lookup of a made-up token answered %v, Decide %+v", err, *first)
		}
	})
}

// asError returns the *contact.Error in err, nil if there is none.
func asError(err error) *contact.Error {
	var e *contact.Error
	errors.As(err, &e)
	return e
}

// cancel has nic withdraw request id.
func (e *env) cancel(nic, id string) {
	e.t.Helper()
	if _, err := e.m.Cancel(e.ctx, nic, id); err != nil {
		e.t.Fatalf("Cancel(%s, %s): %v", nic, id, err)
	}
}

// sentTo counts the emails sent to nic.
func (e *env) sentTo(nic string) int {
	n := 0
	for _, s := range e.mail.Sent() {
		if s.To == nic {
			n++
		}
	}
	return n
}

// changesOf returns the requests involving nic, as stored.
func (e *env) changesOf(nic string) []contact.Change {
	e.t.Helper()
	page, err := e.st.ChangesOf(e.ctx, nic, contact.ChangeQuery{Limit: contact.MaxPageSize})
	if err != nil {
		e.t.Fatal(err)
	}
	return page.Changes
}

// onlyChange returns the one request of the test.
func (e *env) onlyChange() contact.Change {
	e.t.Helper()
	changes := e.changesOf(adm)
	if len(changes) != 1 {
		e.t.Fatalf("%d requests, want 1", len(changes))
	}
	return changes[0]
}
