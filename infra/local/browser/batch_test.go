package browser

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/servicecontacts/servicecontacts/infra/local/stack"
	"github.com/servicecontacts/servicecontacts/infra/local/stack/stacktest"
	"github.com/servicecontacts/servicecontacts/shared/store"
)

// The domains of the batch tests: the admin, tech and billing contacts of the browser tests
// hold them; box.example is a server where the admin is only the billing contact, so that
// a batch over it fails there alone.
var batchDomains = []string{"example.com", "example.net", "example.org"}

// batchSite is the local stack with the browser tests' accounts and the batch tests'
// services.
func batchSite(t *testing.T, opts stack.Options) *site {
	t.Helper()
	opts.Seed = store.Seed{
		Accounts: []store.SeedAccount{
			{NIC: admin, Email: "admin@example.com", Language: "en", GoodStanding: true},
			{NIC: tech, Email: "tech@example.com", Language: "it", GoodStanding: true},
			{NIC: bill, Email: "billing@example.com", Language: "fr", GoodStanding: true},
			{NIC: newbie, Email: "newbie@example.com", Language: "en", GoodStanding: true},
		},
	}
	for _, id := range batchDomains {
		opts.Seed.Services = append(opts.Seed.Services, store.SeedService{ID: id, Type: "domain", Admin: admin, Tech: tech, Billing: bill})
	}
	opts.Seed.Services = append(opts.Seed.Services, store.SeedService{ID: "box.example", Type: "dedicated-server", Admin: bill, Tech: bill, Billing: admin})
	opts.JWTSecret = secret
	return &site{t: t, Site: stacktest.Start(t, opts)}
}

// batchJSON is a batch as the API answers it.
type batchJSON struct {
	ID    string
	Items []struct {
		ServiceID string
		Created   []change
		Error     *struct{ Code, Message string }
	}
}

// changes lists the batch's requests.
func (b batchJSON) changes() []change {
	var all []change
	for _, it := range b.Items {
		all = append(all, it.Created...)
	}
	return all
}

func (s *site) makeBatch(nic string, services []string, role, to string) batchJSON {
	s.t.Helper()
	var b batchJSON
	body := map[string]any{"services": services, role: to}
	if err := json.Unmarshal(s.call("POST", "/me/contact-change-batches", nic, body, http.StatusCreated), &b); err != nil {
		s.t.Fatal(err)
	}
	return b
}

func (s *site) getBatch(nic, id string) batchJSON {
	s.t.Helper()
	var b batchJSON
	if err := json.Unmarshal(s.call("GET", "/me/contact-change-batches/"+id, nic, nil, http.StatusOK), &b); err != nil {
		s.t.Fatal(err)
	}
	return b
}

// waitBatch waits until every request of batch id is in state.
func (s *site) waitBatch(nic, id, state string) batchJSON {
	s.t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		b := s.getBatch(nic, id)
		var states []string
		for _, c := range b.changes() {
			if c.State != state {
				states = append(states, c.ID+": "+c.State)
			}
		}
		if len(states) == 0 && len(b.changes()) > 0 {
			return b
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("batch %s: requests still not %s: %v", id, state, states)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

var batchLink = regexp.MustCompile(`https?://[^\s"<>]+/contact-change-batches/([0-9a-f]+)/confirm\?token=[A-Za-z0-9_%-]+`)

// batchTokens lists the tokens of the emails to address about batch id, oldest first.
func (s *site) batchTokens(address, id string) []string {
	s.t.Helper()
	var tokens []string
	for _, m := range s.mails() {
		if m.To != address {
			continue
		}
		l := batchLink.FindStringSubmatch(m.Text)
		if l == nil || l[1] != id {
			continue
		}
		if !strings.HasPrefix(l[0], s.URL+"/") {
			s.t.Fatalf("the batch link to %s points elsewhere than the local server %s", address, s.URL)
		}
		u, err := url.Parse(l[0])
		if err != nil {
			s.t.Fatal(err)
		}
		tokens = append(tokens, u.Query().Get("token"))
	}
	return tokens
}

// batchToken is the token of the latest email to address about batch id.
func (s *site) batchToken(address, id string) string {
	s.t.Helper()
	tokens := s.batchTokens(address, id)
	if len(tokens) == 0 {
		s.t.Fatalf("no batch token for %s in the mail to %s", id, address)
	}
	return tokens[len(tokens)-1]
}

// techOf is the tech contact of service as nic's services list it.
func (s *site) techOf(nic, service string) string {
	s.t.Helper()
	var services struct {
		Items []struct {
			ID       string
			Contacts map[string]string
		}
	}
	if err := json.Unmarshal(s.call("GET", "/me/services", nic, nil, http.StatusOK), &services); err != nil {
		s.t.Fatal(err)
	}
	for _, svc := range services.Items {
		if svc.ID == service {
			return svc.Contacts["tech"]
		}
	}
	s.t.Fatalf("%s does not hold a role on %s", nic, service)
	return ""
}

func selectBox(service string) string { return `input.select[aria-label="Select ` + service + `"]` }

func batchRow(id string) string { return `.batch-requests tr[data-id="` + id + `"]` }

func checked(t *testing.T, ctx context.Context, sel string) bool {
	t.Helper()
	return run(t, ctx, "checked "+sel, chromedp.Evaluate[bool](`document.querySelector(`+strconv.Quote(sel)+`).checked`))
}

func count(t *testing.T, ctx context.Context, sel string) int {
	t.Helper()
	return run(t, ctx, "count "+sel, chromedp.Evaluate[int](`document.querySelectorAll(`+strconv.Quote(sel)+`).length`))
}

// secondTab opens another tab of the browser of ctx: a session of its own, as the console
// keeps its token in the tab's sessionStorage.
func secondTab(t *testing.T, ctx context.Context) context.Context {
	t.Helper()
	tab, cancel := chromedp.NewContext(ctx)
	t.Cleanup(cancel)
	if err := chromedp.Do(tab); err != nil {
		t.Fatalf("open a second tab: %v", err)
	}
	return tab
}

// The admin selects three domains and a server he may not change, hands their tech contact
// to newbie in one change, and sees what became of each service. He accepts every request
// at once with the one token of his email; newbie, in a session of his own, opens the
// batch from the emailed token and accepts all too; every request ends done and the
// services table shows the new tech.
func TestBatchHandOverTech(t *testing.T) {
	axe := loadAxe(t)
	ctx := browse(t)
	s := batchSite(t, stack.Options{WrapStep: slowApply})

	signIn(t, ctx, s, admin)
	waitSel(t, ctx, selectBox("box.example"))
	if !disabled(t, ctx, "#batch-edit") {
		t.Error("the batch button is enabled with nothing selected")
	}
	mustShow(t, "services", text(t, ctx), "Edit contacts of the selected services", "No service selected.")
	unnamed(t, ctx, "services with selection")

	// Select all on this page, then none.
	press(t, ctx, "#select-all")
	waitText(t, ctx, "4 services selected.")
	for _, id := range append(batchDomains, "box.example") {
		if !checked(t, ctx, selectBox(id)) {
			t.Errorf("Select all left %s out", id)
		}
	}
	if disabled(t, ctx, "#batch-edit") {
		t.Error("the batch button is disabled with 4 services selected")
	}
	press(t, ctx, "#select-all")
	waitText(t, ctx, "No service selected.")

	// More than a batch holds (chosen on other pages): the button says no.
	run(t, ctx, "select 101 services", chromedp.Evaluate[bool](`(() => {
		sessionStorage.setItem("customerspace.selection.`+admin+`", JSON.stringify(Array.from({length: 101}, (_, i) => "s" + i + ".example")));
		return true;
	})()`))
	open(t, ctx, s.URL+"/services")
	waitText(t, ctx, "101 services selected. One change may name at most 100 services: deselect some.")
	if !disabled(t, ctx, "#batch-edit") {
		t.Error("the batch button is enabled with 101 services selected")
	}
	screenshot(t, ctx, "batch-0-too-many")
	press(t, ctx, "#clear-selection")
	waitText(t, ctx, "No service selected.")

	// One by one; the selection stays over a reload.
	for _, id := range append(batchDomains, "box.example") {
		press(t, ctx, selectBox(id))
	}
	waitText(t, ctx, "4 services selected.")
	open(t, ctx, s.URL+"/services")
	waitSel(t, ctx, selectBox("box.example"))
	waitText(t, ctx, "4 services selected.")
	if !checked(t, ctx, selectBox("example.net")) || !checked(t, ctx, "#select-all") {
		t.Error("a reload lost the selection")
	}
	screenshot(t, ctx, "batch-1-selected")
	axe.check(t, ctx, "services, selected")

	// The form: three empty fields, the selected services listed.
	press(t, ctx, "#batch-edit")
	waitSel(t, ctx, "#batch-form")
	for _, role := range []string{"admin", "tech", "billing"} {
		if got := value(t, ctx, "#batch-"+role); got != "" {
			t.Errorf("the batch's %s field holds %q, want it empty", role, got)
		}
	}
	body := text(t, ctx)
	mustShow(t, "batch form", body, "Edit the contacts of 4 services", "Admin contact", "Tech contact", "Billing contact",
		"An empty field leaves that contact as it is on every service.", "example.com", "box.example")
	press(t, ctx, "#batch-confirm")
	waitText(t, ctx, "Name at least one new contact.")
	fill(t, ctx, "#batch-tech", newbie)
	screenshot(t, ctx, "batch-2-form")
	axe.check(t, ctx, "batch form")
	unnamed(t, ctx, "batch form")

	press(t, ctx, "#batch-confirm")
	waitSel(t, ctx, "#batch-result")
	screenshot(t, ctx, "batch-3-result")
	axe.check(t, ctx, "batch result")
	mustShow(t, "batch result", text(t, ctx), "Result per service", "Requests created for 3 of 4 services.",
		"Technical contact: "+tech+" → "+newbie+".", "Must confirm: "+admin+", "+newbie+".",
		"Your roles on this service do not allow this change.", "No service selected.")
	for _, id := range batchDomains {
		if n := count(t, ctx, `#batch-result tr[data-id="`+id+`"][data-outcome="created"] li`); n != 1 {
			t.Errorf("the result shows %d requests for %s, want 1", n, id)
		}
	}
	if got := run(t, ctx, "box.example's result", chromedp.Text(chromedp.CSS(`#batch-result tr[data-id="box.example"][data-outcome="error"] td`))); got != "Your roles on this service do not allow this change." {
		t.Errorf("box.example's result reads %q", got)
	}
	if n := count(t, ctx, "tbody input.select:checked"); n != 0 {
		t.Errorf("%d services stay selected after the batch", n)
	}
	href := run(t, ctx, "batch link", chromedp.Evaluate[string](`document.querySelector("#batch-link").getAttribute("href")`))
	id := strings.TrimPrefix(href, "/requests?batch=")
	b := s.getBatch(admin, id)
	if len(b.changes()) != 3 {
		t.Fatalf("the batch %s holds %d requests, want 3: %+v", id, len(b.changes()), b)
	}
	first := b.changes()[0].ID
	for _, c := range b.changes() {
		if c.State != "pending" {
			t.Errorf("request %s is %s, want pending", c.ID, c.State)
		}
	}

	// Confirmed once: one email each, with one token, and no email of a request alone.
	for _, address := range []string{"admin@example.com", "newbie@example.com"} {
		if n := len(s.batchTokens(address, id)); n != 1 {
			t.Errorf("%s got %d emails about the batch, want 1", address, n)
		}
		for _, m := range s.mails() {
			if m.To == address && confirmLink.MatchString(m.Text) {
				t.Errorf("%s got an email about a request of the batch alone: %s", address, m.Subject)
			}
		}
	}

	// Your requests: each request of the batch leads to it.
	press(t, ctx, `nav a[href="/requests"]`)
	waitSel(t, ctx, card(first)+" dd.batch a")
	mustShow(t, "requests", text(t, ctx), "Part of a batch: see the batch")
	if n := count(t, ctx, `dd.batch a[href="/requests?batch=`+id+`"]`); n != 3 {
		t.Errorf("%d requests link to their batch, want 3", n)
	}
	press(t, ctx, card(first)+" dd.batch a")
	waitSel(t, ctx, "#batch-token")
	screenshot(t, ctx, "batch-4-view")
	axe.check(t, ctx, "batch view")
	unnamed(t, ctx, "batch view")
	mustShow(t, "batch view", text(t, ctx), "Batch of changes", "Services and requests", "This batch waits for your answer on 3 requests.",
		"example.com", "example.net", "example.org", "box.example", "no request: Your roles on this service do not allow this change.",
		tech+" → "+newbie, "waiting for you", "waiting for "+newbie, "Emailed token", "Accept all", "Refuse all", "Resend")

	// The admin accepts all with the token of his email.
	press(t, ctx, "#batch-accept")
	waitText(t, ctx, "Enter the token from your email.")
	fill(t, ctx, "#batch-token", s.batchToken("admin@example.com", id))
	press(t, ctx, "#batch-accept")
	waitText(t, ctx, "Your acceptance is recorded.")
	screenshot(t, ctx, "batch-5-accepted")
	axe.check(t, ctx, "batch view, answered")
	mustShow(t, "answered", text(t, ctx), "Outcome of your answer", "3 of 3 requests answered.",
		"Technical contact of example.com: accepted", "This batch waits for no answer from you.", admin+": accepted", "waiting for "+newbie)
	if n := count(t, ctx, "#batch-outcome li[data-outcome=answered]"); n != 3 {
		t.Errorf("the outcome shows %d requests answered, want 3", n)
	}
	if n := count(t, ctx, "#batch-accept, #batch-refuse"); n != 0 {
		t.Error("the batch still offers the admin an answer he gave")
	}
	for _, c := range s.getBatch(admin, id).changes() {
		if c.State != "pending" || s.status(c, admin) != "accepted" || s.status(c, newbie) != "waiting" {
			t.Errorf("after the admin's answer: %+v", c)
		}
	}

	// Newbie, in a session of his own, opens the batch with the token of his email.
	tab := secondTab(t, ctx)
	token := s.batchToken("newbie@example.com", id)
	open(t, tab, s.URL+"/requests?"+url.Values{"batch": {id}, "token": {token}}.Encode())
	press(t, tab, `button[data-nic="`+newbie+`"]`)
	waitSel(t, tab, "#batch-token")
	if got := value(t, tab, "#batch-token"); got != token {
		t.Errorf("the batch's link filled the token field with %q", got)
	}
	if loc := run(t, tab, "location", chromedp.Location()); strings.Contains(loc, "token=") {
		t.Errorf("the token stays in the address bar: %s", loc)
	}
	screenshot(t, tab, "batch-6-new-contact")
	axe.check(t, tab, "batch view of the new contact")
	mustShow(t, "batch of the new contact", text(t, tab), "Signed in as "+newbie, "This batch waits for your answer on 3 requests.", admin+": accepted", "waiting for you")
	press(t, tab, "#batch-accept")
	waitText(t, tab, "Your acceptance is recorded.")
	mustShow(t, "answered by the new contact", text(t, tab), "3 of 3 requests answered.")
	// The changes apply after the answer (held back a moment): the view follows them to
	// done by itself.
	waitSel(t, tab, batchRow(first)+`[data-state="applying"]`)
	for _, c := range b.changes() {
		waitSel(t, tab, batchRow(c.ID)+`[data-state="done"]`)
	}
	s.waitBatch(admin, id, "done")
	screenshot(t, tab, "batch-7-done")
	mustShow(t, "done", text(t, tab), "Outcome of your answer", newbie+": accepted")

	// A used token answers nothing more.
	if r := s.Call("POST", "/me/contact-change-batches/"+id+"/accept", newbie, map[string]string{"token": token}); r.Status != http.StatusGone {
		t.Errorf("a used batch token: status %d, want 410", r.Status)
	}

	// The admin sees every request done, and the new tech in the table.
	open(t, ctx, s.URL+"/requests?batch="+id)
	for _, c := range b.changes() {
		waitSel(t, ctx, batchRow(c.ID)+`[data-state="done"]`)
	}
	if n := count(t, ctx, "#batch-resend"); n != 0 {
		t.Error("a batch with nothing left to confirm offers Resend")
	}
	screenshot(t, ctx, "batch-8-all-done")
	press(t, ctx, `nav a[href="/services"]`)
	waitSel(t, ctx, `tr[data-id="example.org"] td[data-role="tech"]`)
	screenshot(t, ctx, "batch-9-new-tech")
	for _, svc := range batchDomains {
		if got := run(t, ctx, "tech cell", chromedp.Evaluate[string](`document.querySelector('tr[data-id="`+svc+`"] td[data-role="tech"]').textContent`)); got != newbie {
			t.Errorf("the table shows %q as %s's tech contact, want %s", got, svc, newbie)
		}
		if got := s.techOf(admin, svc); got != newbie {
			t.Errorf("%s's tech contact is %s, want %s", svc, got, newbie)
		}
	}
	if got := s.techOf(admin, "box.example"); got != bill {
		t.Errorf("box.example's tech contact is %s: the batch changed a service it failed on", got)
	}
}

// Newbie asks for the batch's emails again, is told in words that the old token was
// replaced and that a wrong one is not the batch's, and refuses the whole batch.
func TestBatchRefuseAll(t *testing.T) {
	axe := loadAxe(t)
	ctx := browse(t)
	s := batchSite(t, stack.Options{})
	b := s.makeBatch(admin, batchDomains[:2], "tech", newbie)
	if len(b.changes()) != 2 {
		t.Fatalf("the batch holds %d requests, want 2: %+v", len(b.changes()), b)
	}
	old := s.batchToken("newbie@example.com", b.ID)

	signIn(t, ctx, s, newbie)
	open(t, ctx, s.URL+"/requests?batch="+b.ID)
	waitSel(t, ctx, "#batch-resend")
	press(t, ctx, "#batch-resend")
	waitText(t, ctx, "The emails were sent again, with new tokens.")
	fresh := s.batchToken("newbie@example.com", b.ID)
	if fresh == old {
		t.Fatal("the resend sent no new token")
	}

	fill(t, ctx, "#batch-token", old)
	press(t, ctx, "#batch-refuse")
	waitText(t, ctx, "This token was replaced by a newer one")
	fill(t, ctx, "#batch-token", "not-the-token")
	press(t, ctx, "#batch-refuse")
	waitText(t, ctx, "This token is not valid for this batch.")
	screenshot(t, ctx, "batch-10-wrong-token")
	axe.check(t, ctx, "batch view, wrong token")
	for _, c := range s.getBatch(admin, b.ID).changes() {
		if c.State != "pending" {
			t.Fatalf("a wrong token changed request %s: %s", c.ID, c.State)
		}
	}

	fill(t, ctx, "#batch-token", fresh)
	press(t, ctx, "#batch-refuse")
	waitText(t, ctx, "You refused the changes.")
	for _, c := range b.changes() {
		waitSel(t, ctx, batchRow(c.ID)+`[data-state="refused"]`)
	}
	screenshot(t, ctx, "batch-11-refused")
	axe.check(t, ctx, "batch view, refused")
	mustShow(t, "refused", text(t, ctx), "2 of 2 requests answered.", "Technical contact of example.com: refused", newbie+": refused")
	if n := count(t, ctx, ".batch button"); n != 0 {
		t.Errorf("a refused batch still offers %d buttons", n)
	}
	s.waitBatch(admin, b.ID, "refused")

	// The admin's view of it: nothing waits for him any more.
	signIn(t, ctx, s, admin)
	open(t, ctx, s.URL+"/requests?batch="+b.ID)
	waitSel(t, ctx, batchRow(b.changes()[0].ID))
	mustShow(t, "refused batch", text(t, ctx), "This batch waits for no answer from you.", "refused")
	if n := count(t, ctx, "#batch-token"); n != 0 {
		t.Error("a refused batch asks the admin for his token")
	}
	// A batch of others does not exist for a stranger.
	signIn(t, ctx, s, bill)
	open(t, ctx, s.URL+"/requests?batch="+b.ID)
	waitText(t, ctx, "Ce lot n'existe pas ou n'est pas le vôtre.")
}

// The tech contact, in Italian, hands his own role over on every service of the page at
// once; one of them has a request open already and fails alone, in Italian too.
func TestBatchInItalian(t *testing.T) {
	axe := loadAxe(t)
	ctx := browse(t)
	s := batchSite(t, stack.Options{})
	s.call("POST", "/services/example.org/contact-changes", admin, map[string]string{"tech": bill}, http.StatusCreated)

	signIn(t, ctx, s, tech)
	waitSel(t, ctx, `input.select[aria-label="Seleziona example.org"]`)
	if lang := run(t, ctx, "lang", chromedp.Evaluate[string](`document.documentElement.lang`)); lang != "it" {
		t.Errorf("the page's language is %q, want it", lang)
	}
	mustShow(t, "servizi", text(t, ctx), "Modifica i contatti dei servizi selezionati", "Nessun servizio selezionato.")
	if got := run(t, ctx, "select-all label", chromedp.Text(chromedp.CSS(`label[for="select-all"]`))); got != "Seleziona tutti in questa pagina" {
		t.Errorf("the select-all box is labelled %q", got)
	}
	press(t, ctx, "#select-all")
	waitText(t, ctx, "3 servizi selezionati.")
	press(t, ctx, "#batch-edit")
	waitSel(t, ctx, "#batch-form")
	fill(t, ctx, "#batch-tech", newbie)
	screenshot(t, ctx, "batch-12-form-it")
	axe.check(t, ctx, "modifica di più servizi")
	mustShow(t, "modifica", text(t, ctx), "Modifica i contatti di 3 servizi", "Contatto tecnico", "Servizi selezionati")
	press(t, ctx, "#batch-confirm")
	waitSel(t, ctx, "#batch-result")
	screenshot(t, ctx, "batch-13-result-it")
	axe.check(t, ctx, "esito per servizio")
	mustShow(t, "esito", text(t, ctx), "Esito per servizio", "Richieste create per 2 servizi su 3.",
		"Contatto tecnico: "+tech+" → "+newbie+".", "Devono confermare: "+tech+", "+newbie+".",
		"Esiste già una richiesta aperta per questo ruolo di questo servizio.")

	press(t, ctx, "#batch-link")
	waitSel(t, ctx, "#batch-token")
	id := strings.TrimPrefix(run(t, ctx, "location", chromedp.Location()), s.URL+"/requests?batch=")
	screenshot(t, ctx, "batch-14-view-it")
	axe.check(t, ctx, "gruppo")
	unnamed(t, ctx, "gruppo")
	mustShow(t, "gruppo", text(t, ctx), "Gruppo di modifiche", "Questo gruppo attende la tua risposta su 2 richieste.",
		"nessuna richiesta: Esiste già una richiesta aperta per questo ruolo di questo servizio.",
		"in attesa di te", "in attesa di "+newbie, "Token ricevuto via email", "Accetta tutte", "Rifiuta tutte", "Invia di nuovo")
	fill(t, ctx, "#batch-token", "not-the-token")
	press(t, ctx, "#batch-accept")
	waitText(t, ctx, "Questo token non è valido per questo gruppo.")
	fill(t, ctx, "#batch-token", s.batchToken("tech@example.com", id))
	press(t, ctx, "#batch-accept")
	waitText(t, ctx, "La tua accettazione è registrata.")
	screenshot(t, ctx, "batch-15-accepted-it")
	axe.check(t, ctx, "gruppo, risposta")
	mustShow(t, "risposta", text(t, ctx), "Esito della tua risposta", "2 richieste su 2 con risposta.", "Contatto tecnico di example.com: accettata",
		"Questo gruppo non attende risposte da te.", tech+": accettato")
	for _, c := range s.getBatch(tech, id).changes() {
		if s.status(c, tech) != "accepted" {
			t.Errorf("after the tech's answer: %+v", c)
		}
	}
	if n := len(s.getBatch(tech, id).changes()); n != 2 {
		t.Errorf("the batch holds %d requests, want 2", n)
	}
}
