package stack_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	eventschema "github.com/servicecontacts/servicecontacts/api/events"
	"github.com/servicecontacts/servicecontacts/infra/local/gateway"
	"github.com/servicecontacts/servicecontacts/infra/local/stack"
)

const support = "support-alice"

// operatorCall sends a call to the operator API signed, locally, with an operator token.
func (e *env) operatorCall(method, path string, body any) response {
	e.t.Helper()
	req := e.Request(method, path, "", body)
	tok, err := gateway.Sign(secret, map[string]any{gateway.OperatorClaim: support, "exp": time.Now().Add(time.Hour).Unix()})
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	return e.send(req)
}

// envelope is an event as GET /_local/events lists it.
type envelope struct {
	ID         string          `json:"id"`
	Source     string          `json:"source"`
	DetailType string          `json:"detail-type"`
	Time       string          `json:"time"`
	Detail     json.RawMessage `json:"detail"`
	raw        []byte
}

// published returns the events published so far, each checked against its JSON Schema and
// for email addresses.
func (e *env) published() []envelope {
	e.t.Helper()
	r := e.call("GET", "/_local/events", "", nil)
	if r.status != http.StatusOK {
		e.t.Fatalf("GET /_local/events: status %d: %s", r.status, r.body)
	}
	var raws []json.RawMessage
	if err := json.Unmarshal(r.body, &raws); err != nil {
		e.t.Fatalf("events are not a JSON array: %v", err)
	}
	var out []envelope
	for _, raw := range raws {
		if err := eventschema.Validate(raw); err != nil {
			e.t.Errorf("event does not match its schema: %v: %s", err, raw)
		}
		if bytes.Contains(raw, []byte("@")) {
			e.t.Errorf("event names an email address: %s", raw)
		}
		var env envelope
		if err := json.Unmarshal(raw, &env); err != nil {
			e.t.Fatal(err)
		}
		env.raw = raw
		out = append(out, env)
	}
	return out
}

// eventTypes waits until the events about subject (a request id, or a service id for
// ServiceContactsChanged) are want, and fails the test if they are not within 10s.
func (e *env) eventTypes(subject string, want ...string) {
	e.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var got []string
		for _, ev := range e.published() {
			var d struct {
				RequestID string `json:"requestId"`
				ServiceID string `json:"serviceId"`
			}
			_ = json.Unmarshal(ev.Detail, &d)
			if d.RequestID == subject || (ev.DetailType == "ServiceContactsChanged" && d.ServiceID == subject) {
				got = append(got, ev.DetailType)
			}
		}
		if slices.Equal(got, want) {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("events about %s: %v, want %v", subject, got, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Every flow publishes exactly its events, once each, in the order things happened.
func TestEventsOfEachFlowEndToEnd(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		flow func(e *env, c change)
		want []string
	}{
		{"applied", func(e *env, c change) {
			_, adminToken := e.link("admin@example.com", c.ID)
			_, newbieToken := e.link("newbie@example.com", c.ID)
			e.must(http.StatusOK, e.accept(admin, c.ID, adminToken))
			e.must(http.StatusOK, e.accept(newbie, c.ID, newbieToken))
			e.waitState(admin, c.ID, "done")
		}, []string{"ContactChangeRequested", "ContactChangeConfirmed", "ContactChangeConfirmed", "ContactChangeApplied"}},
		{"refused", func(e *env, c change) {
			_, token := e.link("newbie@example.com", c.ID)
			e.must(http.StatusOK, e.refuse(newbie, c.ID, token))
		}, []string{"ContactChangeRequested", "ContactChangeRefused"}},
		{"cancelled", func(e *env, c change) {
			e.must(http.StatusOK, e.call("POST", "/me/contact-changes/"+c.ID+"/cancel", admin, nil))
		}, []string{"ContactChangeRequested", "ContactChangeCancelled"}},
		{"cancelled by support", func(e *env, c change) {
			e.must(http.StatusOK, e.operatorCall("POST", "/operator/contact-changes/"+c.ID+"/cancel", map[string]string{"reason": "asked by phone"}))
		}, []string{"ContactChangeRequested", "ContactChangeCancelled"}},
		{"failed, the service deleted", func(e *env, c change) {
			r := e.operatorCall("DELETE", "/operator/services/example.com", nil)
			if r.status != http.StatusNoContent {
				t.Fatalf("DELETE: status %d: %s", r.status, r.body)
			}
		}, []string{"ContactChangeRequested", "ContactChangeFailed"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := start(t, stack.Options{})
			c := e.request(admin, "example.com", map[string]string{"tech": newbie})[0]
			tt.flow(e, c)
			e.eventTypes(c.ID, tt.want...)
		})
	}
	t.Run("expired", func(t *testing.T) {
		t.Parallel()
		e := start(t, stack.Options{Expiry: time.Second, SweepEvery: 50 * time.Millisecond})
		c := e.request(admin, "example.com", map[string]string{"tech": newbie})[0]
		e.waitState(admin, c.ID, "expired")
		e.eventTypes(c.ID, "ContactChangeRequested", "ContactChangeExpired")
	})
}

// The applied change also tells who holds the service's roles now.
func TestServiceContactsChangedEndToEnd(t *testing.T) {
	t.Parallel()
	e := start(t, stack.Options{})
	c := e.request(admin, "example.com", map[string]string{"tech": newbie})[0]
	for nic, address := range map[string]string{admin: "admin@example.com", newbie: "newbie@example.com"} {
		_, token := e.link(address, c.ID)
		e.must(http.StatusOK, e.accept(nic, c.ID, token))
	}
	e.waitState(admin, c.ID, "done")
	e.eventTypes("example.com", "ServiceContactsChanged")
	for _, ev := range e.published() {
		if ev.DetailType != "ServiceContactsChanged" {
			continue
		}
		var d struct {
			Before, After map[string]string
		}
		if err := json.Unmarshal(ev.Detail, &d); err != nil {
			t.Fatal(err)
		}
		if d.Before["tech"] != tech || d.After["tech"] != newbie || d.After["admin"] != admin {
			t.Errorf("holders before %v, after %v", d.Before, d.After)
		}
	}
}

// A provider's systems create an account and a service; its customer changes the tech contact;
// support corrects the holder, which ends the request on the operator's authority.
func TestOperatorAPIEndToEnd(t *testing.T) {
	t.Parallel()
	e := start(t, stack.Options{})
	const customer = "ab12345-ovh"
	account := map[string]any{"email": "ab@example.com", "language": "fr", "goodStanding": true}
	got := e.must(http.StatusOK, e.operatorCall("PUT", "/operator/accounts/"+customer, account))
	if got["nic"] != customer || got["bouncing"] != false {
		t.Errorf("PUT account answered %v", got)
	}
	e.must(http.StatusOK, e.operatorCall("PUT", "/operator/accounts/"+customer, account)) // idempotent
	service := map[string]any{"type": "domain", "admin": customer, "tech": tech, "billing": customer}
	e.must(http.StatusOK, e.operatorCall("PUT", "/operator/services/new.example", service))
	e.must(http.StatusOK, e.operatorCall("PUT", "/operator/services/new.example", service))
	e.eventTypes("new.example", "ServiceContactsChanged") // once: the repeat changed nothing

	if contacts := e.services(customer)["new.example"]; contacts["tech"] != tech {
		t.Fatalf("the customer's services: %v", e.services(customer))
	}
	c := e.request(customer, "new.example", map[string]string{"tech": newbie})[0]

	list := e.must(http.StatusOK, e.operatorCall("GET", "/operator/contact-changes?serviceId=new.example", nil))
	if items, _ := list["items"].([]any); len(items) != 1 {
		t.Errorf("support's view of new.example: %v", list)
	}
	e.must(http.StatusOK, e.operatorCall("GET", "/operator/contact-changes/"+c.ID, nil))

	service["tech"] = stranger
	e.must(http.StatusOK, e.operatorCall("PUT", "/operator/services/new.example", service))
	ended := e.waitState(customer, c.ID, "failed")
	last := ended.History[len(ended.History)-1]
	if last.By != gateway.OperatorARN(support) || last.Event != "failed" {
		t.Errorf("last history entry %+v, want failed by %s", last, gateway.OperatorARN(support))
	}
	e.waitMail("newbie@example.com", c.ID, regexp.MustCompile(`^Failed:`))
	e.eventTypes(c.ID, "ContactChangeRequested", "ContactChangeFailed")
	e.eventTypes("new.example", "ServiceContactsChanged", "ServiceContactsChanged")

	for _, path := range []string{"/operator/services/new.example", "/operator/services/new.example"} {
		if r := e.operatorCall("DELETE", path, nil); r.status != http.StatusNoContent {
			t.Fatalf("DELETE %s: status %d: %s", path, r.status, r.body)
		}
	}
	if _, ok := e.services(customer)["new.example"]; ok {
		t.Error("a deleted service is still listed")
	}
}

// A customer's token never reaches the operator API, and an operator's never the customers'.
func TestOperatorRoutesRefuseCustomers(t *testing.T) {
	t.Parallel()
	e := start(t, stack.Options{})
	for _, nic := range []string{admin, ""} {
		r := e.call("PUT", "/operator/accounts/"+newbie, nic, map[string]any{"email": "x@example.com", "language": "en", "goodStanding": true})
		if r.status != http.StatusForbidden {
			t.Errorf("PUT /operator/accounts as %q: status %d, want 403: %s", nic, r.status, r.body)
		}
	}
	if r := e.operatorCall("GET", "/me/services", nil); r.status != http.StatusUnauthorized {
		t.Errorf("GET /me/services with an operator token: status %d, want 401", r.status)
	}
}

// A token email that bounces is seen in the request waiting for it; support fixes the
// address, a resend reaches the party.
func TestBounceEndToEnd(t *testing.T) {
	t.Parallel()
	e := start(t, stack.Options{})
	e.must(http.StatusOK, e.operatorCall("PATCH", "/operator/accounts/"+newbie, map[string]any{"email": "newbie@bounce.test"}))
	c := e.request(admin, "example.com", map[string]string{"tech": newbie})[0]

	want := "the email to " + newbie + " bounced"
	deadline := time.Now().Add(10 * time.Second)
	for {
		r := e.call("GET", "/me/contact-changes/"+c.ID, admin, nil)
		var got struct {
			Parties []struct {
				NIC     string `json:"nic"`
				Bounced bool   `json:"bounced"`
			} `json:"parties"`
			History []struct{ Event, Detail string } `json:"history"`
		}
		if err := json.Unmarshal(r.body, &got); err != nil {
			t.Fatal(err)
		}
		bounced := slices.ContainsFunc(got.Parties, func(p struct {
			NIC     string `json:"nic"`
			Bounced bool   `json:"bounced"`
		}) bool {
			return p.NIC == newbie && p.Bounced
		})
		recorded := slices.ContainsFunc(got.History, func(h struct{ Event, Detail string }) bool { return h.Detail == want })
		if bounced && recorded {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no bounce recorded after 10s: %s", r.body)
		}
		time.Sleep(20 * time.Millisecond)
	}

	fixed := e.must(http.StatusOK, e.operatorCall("PATCH", "/operator/accounts/"+newbie, map[string]any{"email": "newbie@example.net"}))
	if fixed["bouncing"] != false {
		t.Errorf("the fixed account still bounces: %v", fixed)
	}
	if r := e.call("POST", "/me/contact-changes/"+c.ID+"/resend", admin, nil); r.status != http.StatusAccepted {
		t.Fatalf("resend: status %d: %s", r.status, r.body)
	}
	_, token := e.link("newbie@example.net", c.ID)
	e.must(http.StatusOK, e.accept(newbie, c.ID, token))
}

// With IDENTITY_CLAIM=custom:nic (Amazon Cognito), the caller is that claim, not sub.
func TestIdentityClaimEndToEnd(t *testing.T) {
	t.Parallel()
	e := start(t, stack.Options{IdentityClaim: "custom:nic"})
	sign := func(claims map[string]any) string {
		claims["exp"] = time.Now().Add(time.Hour).Unix()
		tok, err := gateway.Sign(secret, claims)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	for _, tt := range []struct {
		name   string
		claims map[string]any
		want   int
	}{
		{"custom:nic", map[string]any{"sub": "4f1c-uuid", "custom:nic": admin}, http.StatusOK},
		{"sub only", map[string]any{"sub": admin}, http.StatusUnauthorized},
	} {
		req := e.Request("GET", "/me/services", "", nil)
		req.Header.Set("Authorization", "Bearer "+sign(tt.claims))
		r := e.send(req)
		if r.status != tt.want {
			t.Errorf("%s: status %d, want %d: %s", tt.name, r.status, tt.want, r.body)
			continue
		}
		if tt.want == http.StatusOK {
			var page struct{ Items []struct{ ID string } }
			_ = json.Unmarshal(r.body, &page)
			var ids []string
			for _, s := range page.Items {
				ids = append(ids, s.ID)
			}
			if diff := cmp.Diff([]string{"example.com", "ns1.example.net", "shop.example.org"}, ids); diff != "" {
				t.Errorf("services of %s through custom:nic (-want +got):\n%s", admin, diff)
			}
		}
	}
}
