package ses_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/servicecontacts/servicecontacts/infra/local/stack"
	"github.com/servicecontacts/servicecontacts/infra/local/stack/stacktest"
	"github.com/servicecontacts/servicecontacts/shared/ses"
	"github.com/servicecontacts/servicecontacts/shared/ses/sestest"
	"github.com/servicecontacts/servicecontacts/shared/store"
)

// The whole system sending through the SES adapter to aws-ses-v2-local.

const (
	adminNIC  = "xx11111-ovh"
	techNIC   = "yy22222-ovh"
	billNIC   = "zz33333-ovh"
	newbieNIC = "ww44444-ovh"
)

var jwtSecret = []byte("ses-stack-secret")

type sesStack struct {
	*stacktest.Site
	t      *testing.T
	faults *sestest.Faults
	email  map[string]string // NIC handle to address, unique to this test
}

func startSESStack(t *testing.T) *sesStack {
	t.Helper()
	faults := sestest.NewFaults()
	s := &sesStack{t: t, faults: faults, email: map[string]string{}}
	var accounts []store.SeedAccount
	for _, nic := range []string{adminNIC, techNIC, billNIC, newbieNIC} {
		s.email[nic] = sestest.UniqueAddress(nic)
		accounts = append(accounts, store.SeedAccount{NIC: nic, Email: s.email[nic], Language: "en", GoodStanding: true})
	}
	sender := ses.New(sestest.EmulatorClient(t, faults), "no-reply@contacts.example.com", "contacts-events")

	s.Site = stacktest.Start(t, stack.Options{
		Seed: store.Seed{
			Accounts: accounts,
			Services: []store.SeedService{{ID: "example.com", Type: "domain", Admin: adminNIC, Tech: techNIC, Billing: billNIC}},
		},
		JWTSecret: jwtSecret,
		Sender:    sender,
	})
	return s
}

type change struct {
	ID      string
	State   string
	Parties []struct{ NIC, Status string }
	History []struct{ By, Event, Detail string }
}

func (s *sesStack) call(method, path, nic string, body any, want int) []byte {
	s.t.Helper()
	return s.Must(want, method, path, nic, body)
}

func (s *sesStack) do(req *http.Request, want int) []byte {
	s.t.Helper()
	r := s.Do(req)
	if r.Status != want {
		s.t.Fatalf("%s %s: status %d, want %d", req.Method, req.URL.Path, r.Status, want)
	}
	return r.Body
}

func (s *sesStack) requestNewTech() change {
	s.t.Helper()
	var out struct{ Items []change }
	if err := json.Unmarshal(s.call("POST", "/services/example.com/contact-changes", adminNIC, map[string]string{"tech": newbieNIC}, http.StatusCreated), &out); err != nil || len(out.Items) != 1 {
		s.t.Fatalf("created requests: %v, %d items", err, len(out.Items))
	}
	return out.Items[0]
}

func (s *sesStack) get(id string) change {
	s.t.Helper()
	var c change
	if err := json.Unmarshal(s.call("GET", "/me/contact-changes/"+id, adminNIC, nil, http.StatusOK), &c); err != nil {
		s.t.Fatal(err)
	}
	return c
}

var confirmLink = regexp.MustCompile(`https?://[^\s"<>]+/contact-changes/([0-9a-f]+)/confirm\?token=([A-Za-z0-9_%-]+)`)

// waitEmail waits for the emulator to hold an email to nic about request id whose subject
// matches subject, and returns the newest.
func (s *sesStack) waitEmail(nic, id string, subject *regexp.Regexp) sestest.StoredEmail {
	s.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		var found []sestest.StoredEmail
		for _, e := range sestest.EmulatorEmails(s.t, s.email[nic]) {
			if strings.Contains(e.Body.Text, id) && subject.MatchString(e.Subject) {
				found = append(found, e)
			}
		}
		if len(found) > 0 {
			return found[len(found)-1]
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("no email to %s about %s with a subject matching %s in the emulator", nic, id, subject)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// tokenLink returns the confirmation link of the newest token email to nic about id.
func (s *sesStack) tokenLink(nic, id string) (link, token string) {
	s.t.Helper()
	e := s.waitEmail(nic, id, regexp.MustCompile(`(?i)confirm`))
	m := confirmLink.FindStringSubmatch(e.Body.Text)
	if m == nil || m[1] != id || !strings.HasPrefix(m[0], s.URL+"/") {
		s.t.Fatalf("the token email to %s has no link to this server's confirmation page for %s", nic, id)
	}
	if !strings.Contains(e.Body.HTML, `href="`+strings.ReplaceAll(m[0], "&", "&amp;")+`"`) {
		s.t.Errorf("the HTML of the token email to %s does not link to the confirmation page", nic)
	}
	token, err := url.QueryUnescape(m[2])
	if err != nil {
		s.t.Fatal(err)
	}
	return m[0], token
}

// acceptByLink does what a person's browser does: opens the link, then posts the form.
func (s *sesStack) acceptByLink(link, token string) {
	s.t.Helper()
	get, _ := http.NewRequest("GET", link, nil)
	s.do(get, http.StatusOK)
	u, _ := url.Parse(link)
	post, _ := http.NewRequest("POST", s.URL+u.Path, strings.NewReader(url.Values{"token": {token}, "decision": {"accept"}}.Encode()))
	post.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	s.do(post, http.StatusOK)
}

func (s *sesStack) waitState(id, state string) change {
	s.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		c := s.get(id)
		if c.State == state {
			return c
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("request %s is %s, still not %s", id, c.State, state)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestStackOverSES(t *testing.T) {
	s := startSESStack(t)
	c := s.requestNewTech()
	adminLink, adminToken := s.tokenLink(adminNIC, c.ID)
	newbieLink, newbieToken := s.tokenLink(newbieNIC, c.ID)
	if adminToken == newbieToken {
		t.Fatal("both parties got the same token")
	}
	s.acceptByLink(adminLink, adminToken)
	s.acceptByLink(newbieLink, newbieToken)
	s.waitState(c.ID, "done")
	done := regexp.MustCompile(`^Done: `)
	s.waitEmail(adminNIC, c.ID, done)
	s.waitEmail(newbieNIC, c.ID, done)
	s.waitEmail(techNIC, c.ID, regexp.MustCompile(`no longer the tech contact`))
	s.checkTags(c.ID)
}

// checkTags checks that every email sent so far carried the configuration set and the tags
// naming its recipient's account and the request id.
func (s *sesStack) checkTags(id string) {
	s.t.Helper()
	nicOf := map[string]string{}
	for nic, address := range s.email {
		nicOf[address] = nic
	}
	calls := s.faults.Calls()
	if len(calls) == 0 {
		s.t.Fatal("no SendEmail call")
	}
	for _, body := range calls {
		var in struct {
			ConfigurationSetName string
			Destination          struct{ ToAddresses []string }
			EmailTags            []struct{ Name, Value string }
		}
		if err := json.Unmarshal(body, &in); err != nil {
			s.t.Fatalf("SendEmail body is not JSON: %v", err)
		}
		if len(in.Destination.ToAddresses) != 1 {
			s.t.Fatalf("SendEmail to %d addresses, want 1", len(in.Destination.ToAddresses))
		}
		nic := nicOf[in.Destination.ToAddresses[0]]
		tags := map[string]string{}
		for _, tag := range in.EmailTags {
			tags[tag.Name] = tag.Value
		}
		if in.ConfigurationSetName != "contacts-events" || len(tags) != 2 || tags["nic"] != nic || tags["request"] != id {
			s.t.Errorf("the email to %s went with configuration set %q and tags %v; want contacts-events, nic=%s, request=%s",
				nic, in.ConfigurationSetName, tags, nic, id)
		}
	}
}

// A token email SES will not send leaves the request open with the failure in its history,
// and a resend afterwards delivers a fresh, working token.
func TestStackOverSESFailures(t *testing.T) {
	tests := []struct {
		name   string
		status int
		code   string
	}{
		{"throttled", http.StatusTooManyRequests, "TooManyRequestsException"},
		{"address rejected", http.StatusBadRequest, "MessageRejected"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startSESStack(t)
			newbieAddress := []byte(s.email[newbieNIC])
			s.faults.Fail(-1, tt.status, tt.code, func(body []byte) bool { return bytes.Contains(body, newbieAddress) })
			c := s.requestNewTech()
			if c.State != "pending" {
				t.Fatalf("request is %s, want pending", c.State)
			}

			got := s.get(c.ID)
			failed := slices.ContainsFunc(got.History, func(e struct{ By, Event, Detail string }) bool {
				return e.Event == "email_failed" && e.Detail == newbieNIC
			})
			if got.State != "pending" || !failed {
				t.Fatalf("request is %s with history %+v; want pending with the failed email to %s", got.State, got.History, newbieNIC)
			}
			s.tokenLink(adminNIC, c.ID) // the other party's email went out
			if n := len(sestest.EmulatorEmails(t, s.email[newbieNIC])); n != 0 {
				t.Fatalf("the emulator holds %d emails to %s, want none", n, newbieNIC)
			}

			s.faults.Fail(0, 0, "", nil)
			s.call("POST", "/me/contact-changes/"+c.ID+"/resend", adminNIC, nil, http.StatusAccepted)
			link, token := s.tokenLink(newbieNIC, c.ID)
			s.acceptByLink(link, token)
			after := s.get(c.ID)
			for _, p := range after.Parties {
				if p.NIC == newbieNIC && p.Status != "accepted" {
					t.Errorf("%s is %s after accepting the resent link, want accepted", newbieNIC, p.Status)
				}
			}
			s.checkTags(c.ID)
		})
	}
}
