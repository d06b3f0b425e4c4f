package stack_test

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/servicecontacts/servicecontacts/infra/local/stack"
	"github.com/servicecontacts/servicecontacts/shared/store"
)

// batchLinkPattern finds a batch's emailed link and its token.
var batchLinkPattern = regexp.MustCompile(`(https?://[^\s"<>]+/contact-change-batches/([0-9a-f]{32})/confirm\?token=([A-Za-z0-9_%-]+))`)

// batchLink returns the latest batch link emailed to address for batch id, its token, and
// how many emails with a link to that batch the address got.
func (e *env) batchLink(address, id string) (link, token string, emails int) {
	e.t.Helper()
	var found []string
	for _, m := range e.mails() {
		if m.To != address {
			continue
		}
		for _, match := range batchLinkPattern.FindAllStringSubmatch(m.Text, -1) {
			if match[2] == id {
				found = match
				emails++
			}
		}
	}
	if found == nil {
		e.t.Fatalf("no link to batch %s in the mail to %s", id, address)
	}
	token, err := url.QueryUnescape(found[3])
	if err != nil {
		e.t.Fatal(err)
	}
	return found[1], token, emails
}

type batchAnswers struct {
	ID    string `json:"id"`
	Items []struct {
		ChangeID string `json:"changeId"`
		State    string `json:"state"`
		Error    *struct {
			Code string `json:"code"`
		} `json:"error"`
	} `json:"items"`
}

func batchSeed(n int) (store.Seed, []string) {
	s := seed()
	var ids []string
	for i := range n {
		id := fmt.Sprintf("site%02d.example", i)
		ids = append(ids, id)
		s.Services = append(s.Services, store.SeedService{ID: id, Type: "domain", Admin: admin, Tech: tech, Billing: billing})
	}
	return s, ids
}

// TestBatchEndToEnd hands the tech contact of 20 services to newbie in one batch: each party
// gets one email, one accept by each (one through the API, one through the emailed link)
// applies every change, and one email each tells the outcomes.
func TestBatchEndToEnd(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			s, ids := batchSeed(20)
			e := b.start(t, stack.Options{Seed: s})
			all := append([]string{"nowhere.example"}, ids...)
			created := decode[struct {
				ID    string `json:"id"`
				Items []struct {
					ServiceID string   `json:"serviceId"`
					Created   []change `json:"created"`
					Error     *struct {
						Code string `json:"code"`
					} `json:"error"`
				} `json:"items"`
			}](t, e.mustStatus(http.StatusCreated, e.call("POST", "/me/contact-change-batches", admin, map[string]any{"services": all, "tech": newbie})))
			if len(created.Items) != 21 || created.Items[0].Error == nil || created.Items[0].Error.Code != "service_not_found" {
				t.Fatalf("items: %+v", created.Items)
			}
			var changeIDs []string
			for _, it := range created.Items[1:] {
				if it.Error != nil || len(it.Created) != 1 {
					t.Fatalf("item %s: %+v", it.ServiceID, it)
				}
				changeIDs = append(changeIDs, it.Created[0].ID)
			}

			_, adminToken, adminEmails := e.batchLink("admin@example.com", created.ID)
			link, newbieToken, newbieEmails := e.batchLink("newbie@example.com", created.ID)
			if adminEmails != 1 || newbieEmails != 1 {
				t.Errorf("batch emails: admin %d, newbie %d, want one each", adminEmails, newbieEmails)
			}
			if n := len(e.mails()); n != 2 {
				t.Errorf("%d emails after the batch, want 2", n)
			}

			// The admin accepts through the API.
			answers := decode[batchAnswers](t, e.mustStatus(http.StatusOK, e.call("POST", "/me/contact-change-batches/"+created.ID+"/accept", admin, map[string]string{"token": adminToken})))
			if len(answers.Items) != 20 {
				t.Fatalf("admin's accept answered %d requests, want 20", len(answers.Items))
			}
			// Another party's token is not the caller's.
			if r := e.call("POST", "/me/contact-change-batches/"+created.ID+"/accept", admin, map[string]string{"token": newbieToken}); r.status != http.StatusForbidden {
				t.Errorf("another party's token: status %d: %s", r.status, r.body)
			}
			// A stranger does not see the batch.
			if r := e.call("GET", "/me/contact-change-batches/"+created.ID, stranger, nil); r.status != http.StatusNotFound {
				t.Errorf("stranger reads the batch: status %d", r.status)
			}

			// The new tech accepts from the emailed link: the page lists all twenty, opening
			// it changes nothing, and Accept all answers them.
			page := e.send(mustRequest(t, "GET", link, nil))
			if page.status != http.StatusOK || strings.Count(string(page.body), "site") < 20 || !strings.Contains(string(page.body), "Accept all") {
				t.Fatalf("batch page: status %d: %s", page.status, page.body)
			}
			if c := e.get(newbie, changeIDs[0]); c.State != "pending" {
				t.Fatalf("opening the page moved the request to %s", c.State)
			}
			if r := e.confirmByLink(link, newbieToken, "accept"); r.status != http.StatusOK || !strings.Contains(string(r.body), "20") {
				t.Fatalf("Accept all: status %d: %s", r.status, r.body)
			}
			for _, id := range changeIDs {
				e.waitState(admin, id, "done")
			}
			got := e.services(newbie)
			for _, id := range ids {
				if got[id]["tech"] != newbie {
					t.Errorf("tech of %s = %q, want %s", id, got[id]["tech"], newbie)
				}
			}

			// Everyone involved gets one email telling the outcomes, and nothing else.
			waitFor(t, func() bool { return len(e.mails()) == 5 }, "the three outcome emails")
			perAddress := map[string]int{}
			for _, m := range e.mails() {
				perAddress[m.To]++
			}
			for address, want := range map[string]int{"admin@example.com": 2, "newbie@example.com": 2, "tech@example.com": 1} {
				if perAddress[address] != want {
					t.Errorf("emails to %s: %d, want %d (all: %v)", address, perAddress[address], want, perAddress)
				}
			}

			// GET shows every request done; the used token answers nothing more.
			batch := decode[struct {
				Items []struct {
					Created []change `json:"created"`
				} `json:"items"`
			}](t, e.mustStatus(http.StatusOK, e.call("GET", "/me/contact-change-batches/"+created.ID, newbie, nil)))
			for _, it := range batch.Items[1:] {
				if it.Created[0].State != "done" {
					t.Errorf("request %s is %s", it.Created[0].ID, it.Created[0].State)
				}
			}
			if r := e.call("POST", "/me/contact-change-batches/"+created.ID+"/accept", newbie, map[string]string{"token": newbieToken}); r.status != http.StatusGone || r.errorCode(t) != "token_used" {
				t.Errorf("used token again: status %d: %s", r.status, r.body)
			}
		})
	}
}

// TestBatchInputsEndToEnd checks the batch routes' own refusals.
func TestBatchInputsEndToEnd(t *testing.T) {
	e := start(t, stack.Options{})
	for _, tt := range []struct {
		body any
		code string
	}{
		{map[string]any{"tech": newbie}, "missing_services"},
		{map[string]any{"services": "example.com", "tech": newbie}, "invalid_body"},
		{map[string]any{"services": []any{1}, "tech": newbie}, "invalid_body"},
		{map[string]any{"services": []string{}, "tech": newbie}, "empty_batch"},
		{map[string]any{"services": []string{"example.com", "example.com"}, "tech": newbie}, "duplicate_service"},
		{map[string]any{"services": []string{"example.com"}}, "empty_request"},
		{map[string]any{"services": []string{"-bad"}, "tech": newbie}, "invalid_service_id"},
		{map[string]any{"services": []string{"example.com"}, "tech": "nobody"}, "invalid_nic"},
		{map[string]any{"services": make([]string, 101), "tech": newbie}, "invalid_service_id"},
	} {
		r := e.call("POST", "/me/contact-change-batches", admin, tt.body)
		if r.status != http.StatusBadRequest || r.errorCode(t) != tt.code {
			t.Errorf("%v: status %d, %s; want 400 %s", tt.body, r.status, r.body, tt.code)
		}
	}
	many := make([]string, 101)
	for i := range many {
		many[i] = fmt.Sprintf("s%03d.example", i)
	}
	if r := e.call("POST", "/me/contact-change-batches", admin, map[string]any{"services": many, "tech": newbie}); r.errorCode(t) != "too_many_services" {
		t.Errorf("101 services: status %d: %s", r.status, r.body)
	}
	if r := e.call("GET", "/me/contact-change-batches/not-an-id", admin, nil); r.status != http.StatusNotFound || r.errorCode(t) != "batch_not_found" {
		t.Errorf("malformed batch id: status %d: %s", r.status, r.body)
	}
}

// mustStatus checks the status of a call and returns its body.
func (e *env) mustStatus(want int, r response) []byte {
	e.t.Helper()
	if r.status != want {
		e.t.Fatalf("status %d, want %d: %s", r.status, want, r.body)
	}
	return r.body
}

// waitFor polls cond for up to 10 seconds: emails go out after the answers.
func waitFor(t *testing.T, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("still waiting for %s after 10s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
