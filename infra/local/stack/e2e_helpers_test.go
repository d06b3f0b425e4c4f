package stack_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/servicecontacts/servicecontacts/infra/local/stack"
	"github.com/servicecontacts/servicecontacts/infra/local/stack/stacktest"
	"github.com/servicecontacts/servicecontacts/shared/store"
)

// The accounts of the end-to-end seed.
const (
	admin    = "xx11111-ovh" // admin of example.com and of everything on ns1
	tech     = "yy22222-ovh" // tech of example.com
	billing  = "zz33333-ovh" // billing of example.com
	newbie   = "ww44444-ovh" // holds nothing
	debtor   = "vv55555-ovh" // not in good standing
	noEmail  = "uu66666-ovh" // has no email address
	stranger = "tt77777-ovh" // holds nothing, never involved
)

var secret = []byte("e2e-secret")

func seed() store.Seed {
	return store.Seed{
		Accounts: []store.SeedAccount{
			{NIC: admin, Email: "admin@example.com", Language: "en", GoodStanding: true},
			{NIC: tech, Email: "tech@example.com", Language: "it", GoodStanding: true},
			{NIC: billing, Email: "billing@example.com", Language: "fr", GoodStanding: true},
			{NIC: newbie, Email: "newbie@example.com", Language: "en", GoodStanding: true},
			{NIC: debtor, Email: "debtor@example.com", Language: "en", GoodStanding: false},
			{NIC: noEmail, Email: "", Language: "en", GoodStanding: true},
			{NIC: stranger, Email: "stranger@example.com", Language: "en", GoodStanding: true},
		},
		Services: []store.SeedService{
			{ID: "example.com", Type: "domain", Admin: admin, Tech: tech, Billing: billing},
			{ID: "ns1.example.net", Type: "dedicated-server", Admin: admin, Tech: admin, Billing: admin},
			{ID: "shop.example.org", Type: "web-hosting", Admin: admin, Tech: admin, Billing: debtor},
		},
	}
}

// env is a running local stack on a loopback port.
type env struct {
	*stacktest.Site
	t     *testing.T
	base  string
	stack *stack.Stack
}

func start(t *testing.T, opts stack.Options) *env {
	t.Helper()
	if opts.Seed.Accounts == nil {
		opts.Seed = seed()
	}
	opts.JWTSecret = secret
	site := stacktest.Start(t, opts)
	return &env{Site: site, t: t, base: site.URL, stack: site.Stack}
}

// response is an HTTP answer with its JSON body decoded loosely.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body is not a JSON object: %v: %s", err, r.body)
	}
	return m
}

func (r response) errorCode(t *testing.T) string {
	t.Helper()
	e, _ := r.json(t)["error"].(map[string]any)
	code, _ := e["code"].(string)
	return code
}

// call sends a request as nic ("" for none) with a JSON body (nil for none).
func (e *env) call(method, path, nic string, body any) response {
	e.t.Helper()
	return e.send(e.Request(method, path, nic, body))
}

func (e *env) send(req *http.Request) response {
	e.t.Helper()
	r := e.Do(req)
	return response{status: r.Status, header: r.Header, body: r.Body}
}

// must checks the status of a call and returns its JSON body.
func (e *env) must(want int, r response) map[string]any {
	e.t.Helper()
	if r.status != want {
		e.t.Fatalf("status %d, want %d: %s", r.status, want, r.body)
	}
	return r.json(e.t)
}

// change is the part of a contact change the tests read.
type change struct {
	ID          string   `json:"id"`
	ServiceID   string   `json:"serviceId"`
	Role        string   `json:"role"`
	From        string   `json:"from"`
	To          string   `json:"to"`
	RequestedBy string   `json:"requestedBy"`
	State       string   `json:"state"`
	WaitingFor  []string `json:"waitingFor"`
	Parties     []struct {
		NIC    string `json:"nic"`
		Status string `json:"status"`
	} `json:"parties"`
	History []struct {
		At     string `json:"at"`
		By     string `json:"by"`
		Event  string `json:"event"`
		Detail string `json:"detail"`
	} `json:"history"`
}

func decode[T any](t *testing.T, b []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("decode %T: %v: %s", v, err, b)
	}
	return v
}

// request asks for changes on a service and returns the created requests.
func (e *env) request(caller, serviceID string, body map[string]string) []change {
	e.t.Helper()
	r := e.call("POST", "/services/"+serviceID+"/contact-changes", caller, body)
	if r.status != http.StatusCreated {
		e.t.Fatalf("request changes: status %d: %s", r.status, r.body)
	}
	return decode[struct{ Items []change }](e.t, r.body).Items
}

func (e *env) get(nic, id string) change {
	e.t.Helper()
	r := e.call("GET", "/me/contact-changes/"+id, nic, nil)
	if r.status != http.StatusOK {
		e.t.Fatalf("get %s: status %d: %s", id, r.status, r.body)
	}
	return decode[change](e.t, r.body)
}

// waitState polls a request until it reaches state: the workflow runs asynchronously.
func (e *env) waitState(nic, id, state string) change {
	e.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c := e.get(nic, id)
		if c.State == state {
			return c
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("request %s is %s, still not %s after 10s; history %+v", id, c.State, state, c.History)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

type mailMessage struct {
	To      string `json:"to"`
	Subject string `json:"subject"`
	Text    string `json:"text"`
	HTML    string `json:"html"`
	SentAt  string `json:"sentAt"`
}

func (e *env) mails() []mailMessage {
	e.t.Helper()
	r := e.call("GET", "/_local/mail", "", nil)
	if r.status != http.StatusOK {
		e.t.Fatalf("mail catcher: status %d: %s", r.status, r.body)
	}
	return decode[[]mailMessage](e.t, r.body)
}

// mailsTo returns the messages sent to an address about a request, oldest first.
func (e *env) mailsTo(address, id string) []mailMessage {
	var out []mailMessage
	for _, m := range e.mails() {
		if m.To == address && strings.Contains(m.Text, id) {
			out = append(out, m)
		}
	}
	return out
}

// waitMail waits for a message to address about request id whose subject matches pattern.
func (e *env) waitMail(address, id string, pattern *regexp.Regexp) mailMessage {
	e.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		for _, m := range e.mailsTo(address, id) {
			if pattern.MatchString(m.Subject) {
				return m
			}
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("no mail to %s about %s matching %s; got %+v", address, id, pattern, e.mailsTo(address, id))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

var linkPattern = regexp.MustCompile(`(https?://[^\s"<>]+/contact-changes/([0-9a-f]+)/confirm\?token=([A-Za-z0-9_%-]+))`)

// link returns the latest confirmation link emailed to address for request id, and its token.
func (e *env) link(address, id string) (link, token string) {
	e.t.Helper()
	var found []string
	for _, m := range e.mailsTo(address, id) {
		for _, match := range linkPattern.FindAllStringSubmatch(m.Text, -1) {
			if match[2] == id {
				found = match
			}
		}
	}
	if found == nil {
		e.t.Fatalf("no confirmation link for %s in the mail to %s: %+v", id, address, e.mailsTo(address, id))
	}
	token, err := url.QueryUnescape(found[3])
	if err != nil {
		e.t.Fatal(err)
	}
	if !strings.HasPrefix(found[1], e.base) {
		e.t.Fatalf("link %s does not point at the local server %s", found[1], e.base)
	}
	return found[1], token
}

func (e *env) accept(nic, id, token string) response {
	return e.call("POST", "/me/contact-changes/"+id+"/accept", nic, map[string]string{"token": token})
}

func (e *env) refuse(nic, id, token string) response {
	return e.call("POST", "/me/contact-changes/"+id+"/refuse", nic, map[string]string{"token": token})
}

// confirmByLink opens the emailed link (GET) and posts the page's form with a decision,
// as a person's browser would.
func (e *env) confirmByLink(link, token, decision string) response {
	e.t.Helper()
	page := e.send(mustRequest(e.t, "GET", link, nil))
	if page.status != http.StatusOK {
		e.t.Fatalf("GET %s: status %d: %s", link, page.status, page.body)
	}
	u, _ := url.Parse(link)
	form := url.Values{"token": {token}, "decision": {decision}}
	req := mustRequest(e.t, "POST", e.base+u.Path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return e.send(req)
}

func mustRequest(t *testing.T, method, u string, body io.Reader) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// services returns the caller's services keyed by id, with their contacts.
func (e *env) services(nic string) map[string]map[string]string {
	e.t.Helper()
	r := e.call("GET", "/me/services", nic, nil)
	if r.status != http.StatusOK {
		e.t.Fatalf("list services: status %d: %s", r.status, r.body)
	}
	page := decode[struct {
		Items []struct {
			ID       string            `json:"id"`
			Contacts map[string]string `json:"contacts"`
		} `json:"items"`
	}](e.t, r.body)
	out := map[string]map[string]string{}
	for _, s := range page.Items {
		out[s.ID] = s.Contacts
	}
	return out
}

func events(c change) []string {
	var out []string
	for _, h := range c.History {
		out = append(out, h.Event)
	}
	return out
}

func count(list []string, s string) int {
	n := 0
	for _, x := range list {
		if x == s {
			n++
		}
	}
	return n
}

func fmtParties(c change) string {
	var b strings.Builder
	for _, p := range c.Parties {
		fmt.Fprintf(&b, "%s=%s ", p.NIC, p.Status)
	}
	return b.String()
}
