package stack_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/servicecontacts/servicecontacts/infra/local/stack"
	"github.com/servicecontacts/servicecontacts/shared/contact"
)

// longWindow is the window of the limits these tests set: windows start at multiples of
// their length, so a year-long one does not end while a test runs.
const longWindow = 365 * 24 * time.Hour

// wantLimited checks a 429 with code and a Retry-After within the window.
func wantLimited(t *testing.T, r response, code string) {
	t.Helper()
	if r.status != http.StatusTooManyRequests || r.errorCode(t) != code {
		t.Fatalf("status %d, want 429 %s: %s", r.status, code, r.body)
	}
	wantRetryAfter(t, r)
}

func wantRetryAfter(t *testing.T, r response) {
	t.Helper()
	after, err := strconv.Atoi(r.header.Get("Retry-After"))
	if err != nil || after < 1 || after > int(longWindow/time.Second) {
		t.Errorf("Retry-After %q, want seconds until the window ends", r.header.Get("Retry-After"))
	}
}

// createAndCancel has the admin name newbie the tech of example.com, and withdraw it.
func (e *env) createAndCancel() {
	e.t.Helper()
	c := e.request(admin, "example.com", map[string]string{"tech": newbie})[0]
	e.must(http.StatusOK, e.call("POST", "/me/contact-changes/"+c.ID+"/cancel", admin, nil))
	e.waitState(admin, c.ID, "cancelled")
}

func TestLimitRequestsPerCaller(t *testing.T) {
	t.Parallel()
	e := start(t, stack.Options{CreationLimit: contact.Limit{Max: 2, Window: longWindow}})
	for range 2 {
		e.createAndCancel()
	}
	r := e.call("POST", "/services/example.com/contact-changes", admin, map[string]string{"tech": newbie})
	wantLimited(t, r, "too_many_requests")
	// Nothing was created: the role is free for another caller, whose limit is its own.
	e.request(tech, "example.com", map[string]string{"tech": newbie})
}

func TestLimitEmailsPerRecipient(t *testing.T) {
	t.Parallel()
	t.Run("cancelled and asked again", func(t *testing.T) {
		t.Parallel()
		e := start(t, stack.Options{EmailLimit: contact.Limit{Max: 4, Window: longWindow}})
		for range 2 {
			e.createAndCancel() // a token and a cancellation for newbie each time
		}
		r := e.call("POST", "/services/example.com/contact-changes", admin, map[string]string{"tech": newbie})
		wantLimited(t, r, "too_many_emails")
		sent := 0
		for _, m := range e.mails() {
			if m.To == "newbie@example.com" {
				sent++
			}
		}
		if sent != 4 {
			t.Errorf("newbie was sent %d emails, want the limit, 4", sent)
		}
		// Another account may still be named.
		e.request(admin, "example.com", map[string]string{"tech": stranger})
	})
	t.Run("resent", func(t *testing.T) {
		t.Parallel()
		e := start(t, stack.Options{EmailLimit: contact.Limit{Max: 2, Window: longWindow}})
		c := e.request(admin, "example.com", map[string]string{"tech": newbie})[0] // newbie: a token and the outcome
		_, token := e.link("newbie@example.com", c.ID)
		r := e.call("POST", "/me/contact-changes/"+c.ID+"/resend", admin, nil)
		wantLimited(t, r, "too_many_emails")
		// The refused resend replaced no token.
		if _, now := e.link("newbie@example.com", c.ID); now != token {
			t.Error("newbie was sent a new token")
		}
		e.must(http.StatusOK, e.accept(newbie, c.ID, token))
	})
}

func TestLimitWrongTokensPerSource(t *testing.T) {
	t.Parallel()
	e := start(t, stack.Options{WrongTokenLimit: contact.Limit{Max: 3, Window: longWindow}})
	c := e.request(admin, "example.com", map[string]string{"tech": newbie})[0]
	link, token := e.link("newbie@example.com", c.ID)
	u, _ := url.Parse(link)
	post := func(token string) response {
		form := url.Values{"token": {token}, "decision": {"accept"}}
		req := mustRequest(t, "POST", e.base+u.Path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return e.send(req)
	}

	// A stranger guesses through the link's form, and is answered as for any wrong token...
	for _, guess := range []string{"guess-1", "guess-2", token + "x"} {
		if r := post(guess); r.status != http.StatusForbidden || !strings.Contains(string(r.body), "invalid_token") {
			t.Fatalf("wrong token %q: status %d, want 403 invalid_token: %s", guess, r.status, r.body)
		}
	}
	// ...until the limit: then even the right token is refused from that address.
	r := post(token)
	if r.status != http.StatusTooManyRequests {
		t.Fatalf("after 3 wrong tokens: status %d, want 429: %s", r.status, r.body)
	}
	wantRetryAfter(t, r)

	// The party, signed in, still answers.
	e.must(http.StatusOK, e.accept(newbie, c.ID, token))
	// And the parties see the attempts, counted, never the tokens.
	var rejected []string
	for _, h := range e.get(admin, c.ID).History {
		if h.Event == contact.EventTokenRejected {
			rejected = append(rejected, h.By+": "+h.Detail)
		}
		if strings.Contains(h.Detail, "guess") || strings.Contains(h.Detail, token) {
			t.Errorf("the history shows a token: %+v", h)
		}
	}
	if want := contact.Anonymous + ": 3 wrong tokens"; len(rejected) != 1 || rejected[0] != want {
		t.Errorf("wrong tokens in the history %q, want [%q]", rejected, want)
	}
}
