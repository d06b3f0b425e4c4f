package stack_test

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/servicecontacts/servicecontacts/infra/local/asl"
	"github.com/servicecontacts/servicecontacts/infra/local/stack"
)

func TestAdminSetsNewTechBothConfirm(t *testing.T) {
	t.Parallel()
	e := start(t, stack.Options{})
	items := e.request(admin, "example.com", map[string]string{"tech": newbie})
	if len(items) != 1 {
		t.Fatalf("got %d requests, want 1", len(items))
	}
	c := items[0]
	if c.Role != "tech" || c.From != tech || c.To != newbie || c.RequestedBy != admin || c.State != "pending" {
		t.Fatalf("created request %+v", c)
	}
	if got := fmtParties(c); got != admin+"=waiting "+newbie+"=waiting " {
		t.Fatalf("parties %s", got)
	}

	// The previous holder sees the request in his list, a stranger does not.
	mine := decode[struct{ Items []change }](t, e.call("GET", "/me/contact-changes", tech, nil).body).Items
	if len(mine) != 1 || mine[0].ID != c.ID {
		t.Fatalf("previous holder's list %+v", mine)
	}
	if r := e.call("GET", "/me/contact-changes/"+c.ID, stranger, nil); r.status != http.StatusNotFound {
		t.Fatalf("stranger reads the request: status %d", r.status)
	}

	// The admin accepts through the emailed link, the new contact through the API.
	link, adminToken := e.link("admin@example.com", c.ID)
	if r := e.confirmByLink(link, adminToken, "accept"); r.status != http.StatusOK {
		t.Fatalf("accept by link: %d: %s", r.status, r.body)
	}
	waiting := e.get(admin, c.ID)
	if waiting.State != "pending" || !cmp.Equal(waiting.WaitingFor, []string{newbie}) {
		t.Fatalf("after the first acceptance: state %s, waiting for %v", waiting.State, waiting.WaitingFor)
	}
	_, newToken := e.link("newbie@example.com", c.ID)
	if adminToken == newToken {
		t.Fatal("both parties got the same token")
	}
	e.must(http.StatusOK, e.accept(newbie, c.ID, newToken))

	done := e.waitState(admin, c.ID, "done")
	if got := e.services(admin)["example.com"]["tech"]; got != newbie {
		t.Fatalf("tech contact is %s, want %s", got, newbie)
	}
	if n := count(events(done), "done"); n != 1 {
		t.Fatalf("history has %d done events: %v", n, events(done))
	}
	// Everyone is told: both parties that it is done, the previous holder that he was replaced.
	e.waitMail("admin@example.com", c.ID, regexp.MustCompile(`^Done`))
	e.waitMail("newbie@example.com", c.ID, regexp.MustCompile(`^Done`))
	if len(e.mailsTo("tech@example.com", c.ID)) == 0 {
		t.Fatal("the previous tech contact was not told")
	}
	// The token cannot be used twice.
	if r := e.accept(newbie, c.ID, newToken); r.status != http.StatusGone {
		t.Fatalf("reused token: status %d: %s", r.status, r.body)
	}
}

func TestOneRequestPerRoleAndSingleConfirmation(t *testing.T) {
	t.Parallel()
	e := start(t, stack.Options{})
	// The admin takes billing for himself and names a new tech at once: two requests.
	items := e.request(admin, "example.com", map[string]string{"billing": admin, "tech": newbie})
	if len(items) != 2 {
		t.Fatalf("got %d requests, want 2", len(items))
	}
	byRole := map[string]change{}
	for _, c := range items {
		byRole[c.Role] = c
	}
	bill := byRole["billing"]
	if got := fmtParties(bill); got != admin+"=waiting " {
		t.Fatalf("taking billing himself needs only the admin: %s", got)
	}
	_, token := e.link("admin@example.com", bill.ID)
	e.must(http.StatusOK, e.accept(admin, bill.ID, token))
	e.waitState(admin, bill.ID, "done")
	if got := e.services(admin)["example.com"]["billing"]; got != admin {
		t.Fatalf("billing is %s, want %s", got, admin)
	}
	e.waitMail("billing@example.com", bill.ID, regexp.MustCompile(`.`))
	// The tech request is untouched by the billing one.
	if got := e.get(admin, byRole["tech"].ID).State; got != "pending" {
		t.Fatalf("tech request is %s", got)
	}
}

func TestHandOvers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, caller, service, role, to string
		partyEmails                     []string
	}{
		{"admin hands over admin", admin, "example.com", "admin", newbie, []string{"admin@example.com", "newbie@example.com"}},
		{"tech hands over tech", tech, "example.com", "tech", newbie, []string{"tech@example.com", "newbie@example.com"}},
		{"billing hands over billing", billing, "example.com", "billing", newbie, []string{"billing@example.com", "newbie@example.com"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := start(t, stack.Options{})
			c := e.request(tt.caller, tt.service, map[string]string{tt.role: tt.to})[0]
			nics := []string{tt.caller, tt.to}
			for i, address := range tt.partyEmails {
				_, token := e.link(address, c.ID)
				e.must(http.StatusOK, e.accept(nics[i], c.ID, token))
			}
			e.waitState(tt.caller, c.ID, "done")
			if got := e.services(tt.to)[tt.service][tt.role]; got != tt.to {
				t.Fatalf("%s is %s, want %s", tt.role, got, tt.to)
			}
		})
	}
}

func TestRefusedRequests(t *testing.T) {
	t.Parallel()
	e := start(t, stack.Options{})
	tests := []struct {
		name, caller, service string
		body                  map[string]string
		status                int
		code                  string
	}{
		{"no role on the service", stranger, "example.com", map[string]string{"tech": newbie}, 404, "service_not_found"},
		{"no such service", admin, "nowhere.example", map[string]string{"tech": newbie}, 404, "service_not_found"},
		{"tech names an admin", tech, "example.com", map[string]string{"admin": newbie}, 403, "not_allowed"},
		{"billing names a tech", billing, "example.com", map[string]string{"tech": newbie}, 403, "not_allowed"},
		{"current holder", admin, "example.com", map[string]string{"tech": tech}, 422, "same_holder"},
		{"unknown account", admin, "example.com", map[string]string{"tech": "qq99999-ovh"}, 422, "contact_not_found"},
		{"account without email", admin, "example.com", map[string]string{"tech": noEmail}, 422, "contact_without_email"},
		{"new billing not in good standing", billing, "example.com", map[string]string{"billing": debtor}, 422, "new_billing_not_in_good_standing"},
		{"old billing not in good standing", admin, "shop.example.org", map[string]string{"billing": newbie}, 422, "current_billing_not_in_good_standing"},
		{"malformed NIC", admin, "example.com", map[string]string{"tech": "not a nic"}, 400, "invalid_nic"},
		{"nothing asked", admin, "example.com", map[string]string{}, 400, "empty_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.call("POST", "/services/"+tt.service+"/contact-changes", tt.caller, tt.body)
			if r.status != tt.status || r.errorCode(t) != tt.code {
				t.Fatalf("status %d code %q, want %d %q: %s", r.status, r.errorCode(t), tt.status, tt.code, r.body)
			}
		})
	}
	t.Run("unknown field", func(t *testing.T) {
		r := e.call("POST", "/services/example.com/contact-changes", admin, map[string]string{"owner": newbie})
		if r.status != http.StatusBadRequest {
			t.Fatalf("status %d: %s", r.status, r.body)
		}
	})
	t.Run("no token", func(t *testing.T) {
		if r := e.call("GET", "/me/services", "", nil); r.status != http.StatusUnauthorized {
			t.Fatalf("status %d", r.status)
		}
	})
	t.Run("second open request for the same role", func(t *testing.T) {
		e.request(admin, "ns1.example.net", map[string]string{"tech": newbie})
		r := e.call("POST", "/services/ns1.example.net/contact-changes", admin, map[string]string{"tech": tech})
		if r.status != http.StatusConflict || r.errorCode(t) != "request_open" {
			t.Fatalf("status %d: %s", r.status, r.body)
		}
	})
	// Nothing was created by the refused requests.
	if got := decode[struct{ Items []change }](t, e.call("GET", "/me/contact-changes", newbie, nil).body).Items; len(got) != 1 {
		t.Fatalf("newbie is involved in %d requests, want 1", len(got))
	}
}

func TestBillingStandingIsCheckedAgainWhenApplied(t *testing.T) {
	t.Parallel()
	e := start(t, stack.Options{})
	c := e.request(billing, "example.com", map[string]string{"billing": newbie})[0]
	_, t1 := e.link("billing@example.com", c.ID)
	e.must(http.StatusOK, e.accept(billing, c.ID, t1))
	// The new contact falls behind on payments before accepting.
	if err := e.stack.Store.SetStanding(context.Background(), newbie, false); err != nil {
		t.Fatal(err)
	}
	_, t2 := e.link("newbie@example.com", c.ID)
	e.must(http.StatusOK, e.accept(newbie, c.ID, t2))
	failed := e.waitState(billing, c.ID, "failed")
	if got := e.services(billing)["example.com"]["billing"]; got != billing {
		t.Fatalf("billing changed to %s although the request failed", got)
	}
	if count(events(failed), "failed") != 1 {
		t.Fatalf("history %v", events(failed))
	}
	// The role is free again.
	e.request(billing, "example.com", map[string]string{"billing": admin})
}

func TestRefusal(t *testing.T) {
	t.Parallel()
	e := start(t, stack.Options{})
	c := e.request(admin, "example.com", map[string]string{"tech": newbie})[0]
	link, token := e.link("newbie@example.com", c.ID)
	if r := e.confirmByLink(link, token, "refuse"); r.status != http.StatusOK {
		t.Fatalf("refuse by link: %d: %s", r.status, r.body)
	}
	refused := e.waitState(admin, c.ID, "refused")
	if got := fmtParties(refused); got != admin+"=waiting "+newbie+"=refused " {
		t.Fatalf("parties %s", got)
	}
	e.waitMail("admin@example.com", c.ID, regexp.MustCompile(`^Refused`))
	_, adminToken := e.link("admin@example.com", c.ID)
	if r := e.accept(admin, c.ID, adminToken); r.status != http.StatusGone {
		t.Fatalf("accept after refusal: %d: %s", r.status, r.body)
	}
	if r := e.refuse(admin, c.ID, adminToken); r.status != http.StatusGone || r.errorCode(t) != "request_closed" {
		t.Fatalf("refuse after refusal: %d: %s", r.status, r.body)
	}
	if got := e.services(admin)["example.com"]["tech"]; got != tech {
		t.Fatalf("tech changed to %s", got)
	}
	// Terminal: the role is free for a new request.
	e.request(admin, "example.com", map[string]string{"tech": newbie})
}

func TestCancellation(t *testing.T) {
	t.Parallel()
	e := start(t, stack.Options{})
	c := e.request(admin, "example.com", map[string]string{"tech": newbie})[0]
	if r := e.call("POST", "/me/contact-changes/"+c.ID+"/cancel", newbie, nil); r.status != http.StatusForbidden {
		t.Fatalf("a party who did not ask cancels: %d: %s", r.status, r.body)
	}
	cancelled := decode[change](t, e.call("POST", "/me/contact-changes/"+c.ID+"/cancel", admin, nil).body)
	if cancelled.State != "cancelled" {
		t.Fatalf("state %s", cancelled.State)
	}
	e.waitMail("newbie@example.com", c.ID, regexp.MustCompile(`^Cancelled`))
	_, token := e.link("newbie@example.com", c.ID)
	if r := e.accept(newbie, c.ID, token); r.status != http.StatusGone {
		t.Fatalf("accept after cancel: %d: %s", r.status, r.body)
	}
	if r := e.call("POST", "/me/contact-changes/"+c.ID+"/cancel", admin, nil); r.status != http.StatusConflict {
		t.Fatalf("cancel twice: %d: %s", r.status, r.body)
	}
}

func TestResend(t *testing.T) {
	t.Parallel()
	e := start(t, stack.Options{})
	c := e.request(admin, "example.com", map[string]string{"tech": newbie})[0]
	oldLink, oldToken := e.link("newbie@example.com", c.ID)
	if r := e.call("POST", "/me/contact-changes/"+c.ID+"/resend", stranger, nil); r.status != http.StatusNotFound {
		t.Fatalf("stranger resends: %d", r.status)
	}
	e.must(http.StatusAccepted, e.call("POST", "/me/contact-changes/"+c.ID+"/resend", newbie, nil))
	r := e.call("POST", "/me/contact-changes/"+c.ID+"/resend", admin, nil)
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" {
		t.Fatalf("second resend at once: %d %v: %s", r.status, r.header, r.body)
	}
	_, newToken := e.link("newbie@example.com", c.ID)
	if newToken == oldToken {
		t.Fatal("resend sent the same token")
	}
	// The old token is dead, by API and by link.
	if r := e.accept(newbie, c.ID, oldToken); r.status != http.StatusGone {
		t.Fatalf("old token: %d: %s", r.status, r.body)
	}
	if page := e.send(mustRequest(t, "GET", oldLink, nil)); page.status != http.StatusGone {
		t.Fatalf("old link page: %d", page.status)
	}
	e.must(http.StatusOK, e.accept(newbie, c.ID, newToken))
	// Only the party still waiting gets a fresh token on the next resend... after the interval;
	// and both tokens of the admin's first email still work, since he had not been resent one
	// before: his current token is the resent one.
	_, adminToken := e.link("admin@example.com", c.ID)
	e.must(http.StatusOK, e.accept(admin, c.ID, adminToken))
	e.waitState(admin, c.ID, "done")
}

func TestWrongTokens(t *testing.T) {
	t.Parallel()
	e := start(t, stack.Options{})
	c := e.request(admin, "example.com", map[string]string{"tech": newbie})[0]
	_, adminToken := e.link("admin@example.com", c.ID)
	tests := []struct {
		name, nic, token string
		status           int
		code             string
	}{
		{"made-up token", newbie, "not-a-token", 403, "invalid_token"},
		{"another party's token", newbie, adminToken, 403, "invalid_token"},
		{"empty token", newbie, "", 400, "missing_token"},
		{"not involved", stranger, adminToken, 404, "request_not_found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.accept(tt.nic, c.ID, tt.token)
			if r.status != tt.status || r.errorCode(t) != tt.code {
				t.Fatalf("status %d code %s, want %d %s: %s", r.status, r.errorCode(t), tt.status, tt.code, r.body)
			}
		})
	}
	t.Run("made-up link", func(t *testing.T) {
		page := e.send(mustRequest(t, "GET", e.base+"/contact-changes/"+c.ID+"/confirm?token=guess", nil))
		if page.status != http.StatusForbidden || !strings.Contains(page.header.Get("Content-Type"), "text/html") {
			t.Fatalf("status %d %s", page.status, page.header.Get("Content-Type"))
		}
	})
	if got := e.get(admin, c.ID); got.State != "pending" || len(got.WaitingFor) != 2 {
		t.Fatalf("wrong tokens changed the request: %+v", got)
	}
}

func TestOpeningTheLinkChangesNothing(t *testing.T) {
	t.Parallel()
	e := start(t, stack.Options{})
	c := e.request(admin, "example.com", map[string]string{"tech": newbie})[0]
	link, _ := e.link("newbie@example.com", c.ID)
	for i := 0; i < 3; i++ { // a mail scanner opens links, maybe more than once
		page := e.send(mustRequest(t, "GET", link, nil))
		if page.status != http.StatusOK || !strings.Contains(string(page.body), "example.com") {
			t.Fatalf("page: %d: %s", page.status, page.body)
		}
	}
	if got := e.get(admin, c.ID); got.State != "pending" || len(got.WaitingFor) != 2 || len(got.History) != 1 {
		t.Fatalf("opening the link changed the request: %+v", got)
	}
}

func TestExpiry(t *testing.T) {
	t.Parallel()
	e := start(t, stack.Options{Expiry: 2 * time.Second})
	c := e.request(admin, "example.com", map[string]string{"tech": newbie})[0]
	_, token := e.link("admin@example.com", c.ID)
	e.must(http.StatusOK, e.accept(admin, c.ID, token))
	expired := e.waitState(admin, c.ID, "expired")
	if count(events(expired), "expired") != 1 {
		t.Fatalf("history %v", events(expired))
	}
	e.waitMail("newbie@example.com", c.ID, regexp.MustCompile(`^Expired`))
	link, newToken := e.link("newbie@example.com", c.ID)
	if r := e.accept(newbie, c.ID, newToken); r.status != http.StatusGone || r.errorCode(t) != "request_expired" {
		t.Fatalf("accept after expiry: %d: %s", r.status, r.body)
	}
	// The emailed link now opens a page that says so, with no buttons to press.
	page := e.send(mustRequest(t, "GET", link, nil))
	if page.status != http.StatusGone || !strings.Contains(string(page.body), "This request has expired") || strings.Contains(string(page.body), "<button") {
		t.Fatalf("expired link: status %d: %s", page.status, page.body)
	}
	if got := e.services(admin)["example.com"]["tech"]; got != tech {
		t.Fatalf("tech changed to %s", got)
	}
}

func TestPartiesAcceptAtTheSameMoment(t *testing.T) {
	t.Parallel()
	e := start(t, stack.Options{})
	c := e.request(admin, "example.com", map[string]string{"tech": newbie})[0]
	_, t1 := e.link("admin@example.com", c.ID)
	_, t2 := e.link("newbie@example.com", c.ID)
	var wg sync.WaitGroup
	statuses := make([]int, 2)
	for i, try := range []struct{ nic, token string }{{admin, t1}, {newbie, t2}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i] = e.accept(try.nic, c.ID, try.token).status
		}()
	}
	wg.Wait()
	if statuses[0] != http.StatusOK || statuses[1] != http.StatusOK {
		t.Fatalf("statuses %v", statuses)
	}
	done := e.waitState(admin, c.ID, "done")
	if n := count(events(done), "done"); n != 1 {
		t.Fatalf("applied %d times: %v", n, events(done))
	}
	if n := count(events(done), "applying"); n != 1 {
		t.Fatalf("applying recorded %d times: %v", n, events(done))
	}
}

func TestConfirmationBeforeTheTaskTokenIsRegistered(t *testing.T) {
	t.Parallel()
	// Hold every "await" step back until the parties have answered, so that their
	// confirmations arrive before the workflow registered its callback tokens.
	release := make(chan struct{})
	e := start(t, stack.Options{WrapStep: func(name string, f asl.Function) asl.Function {
		if name != "await" {
			return f
		}
		return func(ctx context.Context, payload json.RawMessage) (json.RawMessage, error) {
			<-release
			return f(ctx, payload)
		}
	}})
	c := e.request(admin, "example.com", map[string]string{"tech": newbie})[0]
	_, t1 := e.link("admin@example.com", c.ID)
	_, t2 := e.link("newbie@example.com", c.ID)
	e.must(http.StatusOK, e.accept(admin, c.ID, t1))
	e.must(http.StatusOK, e.accept(newbie, c.ID, t2))
	if got := e.get(admin, c.ID).State; got != "applying" {
		t.Fatalf("state %s before the workflow registered its tasks", got)
	}
	close(release)
	e.waitState(admin, c.ID, "done")
}

func TestNoSecretInWorkflowHistory(t *testing.T) {
	t.Parallel()
	e := start(t, stack.Options{})
	c := e.request(admin, "example.com", map[string]string{"tech": newbie})[0]
	_, t1 := e.link("admin@example.com", c.ID)
	_, t2 := e.link("newbie@example.com", c.ID)
	e.must(http.StatusOK, e.accept(admin, c.ID, t1))
	e.must(http.StatusOK, e.accept(newbie, c.ID, t2))
	e.waitState(admin, c.ID, "done")

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	exec, ok := e.stack.Executor.Execution(c.ID)
	if !ok {
		t.Fatalf("no execution named %s", c.ID)
	}
	result, err := exec.Wait(ctx)
	if err != nil {
		t.Fatal(err)
	}
	dump, err := json.Marshal(map[string]any{"result": result, "history": exec.History()})
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{t1, t2, "admin@example.com", "newbie@example.com"} {
		if strings.Contains(string(dump), secret) {
			t.Errorf("the execution's input, output or history contains %q", secret)
		}
	}
	if !strings.Contains(string(dump), c.ID) {
		t.Fatalf("the execution dump does not look like the request's: %s", dump)
	}
}
