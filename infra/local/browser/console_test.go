package browser

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/servicecontacts/servicecontacts/infra/local/asl"
	"github.com/servicecontacts/servicecontacts/infra/local/stack"
	"github.com/servicecontacts/servicecontacts/infra/local/stack/stacktest"
	"github.com/servicecontacts/servicecontacts/shared/store"
	"github.com/servicecontacts/servicecontacts/web"
)

// step bounds one wait of a console test: the stack under -race answers slowly, but never
// this slowly.
const step = 45 * time.Second

// waitFor waits until the JavaScript expression cond is true on the page, or fails the test
// with what the page shows.
func waitFor(t *testing.T, ctx context.Context, what, cond string) {
	t.Helper()
	deadline := time.Now().Add(step)
	for {
		_, err := chromedp.Run(ctx, chromedp.Poll[bool](cond, chromedp.WithPollingTimeout(time.Until(deadline))))
		if err == nil {
			return
		}
		// A page that goes to another page (signing in does) ends the poll: poll the next.
		if time.Now().Before(deadline) && ctx.Err() == nil && (strings.Contains(err.Error(), "navigated or closed") || strings.Contains(err.Error(), "Cannot find context")) {
			time.Sleep(50 * time.Millisecond)
			continue
		}
		body, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
		t.Fatalf("waiting for %s: %v; the page shows:\n%s", what, err, body)
	}
}

// waitText waits until the page shows want.
func waitText(t *testing.T, ctx context.Context, want string) {
	t.Helper()
	waitFor(t, ctx, strconv.Quote(want), `document.body && document.body.innerText.includes(`+strconv.Quote(want)+`)`)
}

func waitSel(t *testing.T, ctx context.Context, sel string) {
	t.Helper()
	waitFor(t, ctx, sel, `!!document.querySelector(`+strconv.Quote(sel)+`)`)
}

// press clicks what sel selects, once it is there.
func press(t *testing.T, ctx context.Context, sel string) {
	t.Helper()
	waitSel(t, ctx, sel)
	run(t, ctx, "click "+sel, chromedp.Click(chromedp.CSS(sel)))
}

func fill(t *testing.T, ctx context.Context, sel, value string) {
	t.Helper()
	waitSel(t, ctx, sel)
	// As typing does: the value, then the input and change events.
	run(t, ctx, "fill "+sel, chromedp.Evaluate[bool](`(() => {
		const el = document.querySelector(`+strconv.Quote(sel)+`);
		el.value = `+strconv.Quote(value)+`;
		el.dispatchEvent(new Event("input", {bubbles: true}));
		el.dispatchEvent(new Event("change", {bubbles: true}));
		return true;
	})()`))
}

func value(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	return run(t, ctx, "value of "+sel, chromedp.Evaluate[string](`document.querySelector(`+strconv.Quote(sel)+`).value`))
}

func disabled(t *testing.T, ctx context.Context, sel string) bool {
	t.Helper()
	return run(t, ctx, "disabled "+sel, chromedp.Evaluate[bool](`document.querySelector(`+strconv.Quote(sel)+`).disabled`))
}

// unnamed lists the page's controls that have no accessible name: no label, no
// aria-label(ledby), no text.
func unnamed(t *testing.T, ctx context.Context, page string) {
	t.Helper()
	missing := run(t, ctx, "controls without a name", chromedp.Evaluate[[]string](`[...document.querySelectorAll("button, input, select, textarea, a[href]")]
		.filter(el => !(el.labels && el.labels.length) && !el.getAttribute("aria-label") && !el.getAttribute("aria-labelledby") && !el.textContent.trim())
		.map(el => el.outerHTML)`))
	if len(missing) > 0 {
		t.Errorf("the %s screen has controls without an accessible name: %v", page, missing)
	}
}

// signIn signs in as nic on the sign-in page, wherever the browser is; the page goes on to
// next (a path) once the token is kept.
func signIn(t *testing.T, ctx context.Context, s *site, nic string) {
	t.Helper()
	if status := open(t, ctx, s.URL+"/signin"); status != http.StatusOK {
		t.Fatalf("sign-in page: status %d", status)
	}
	press(t, ctx, `button[data-nic="`+nic+`"]`)
	waitSel(t, ctx, "#signout")
}

// tokenOf returns the token of the latest email to address about request id.
func (s *site) tokenOf(address, id string) string {
	s.t.Helper()
	token := ""
	for _, m := range s.mails() {
		if m.To != address {
			continue
		}
		for _, l := range confirmLink.FindAllStringSubmatch(m.Text, -1) {
			if l[1] != id {
				continue
			}
			u, err := url.Parse(l[0])
			if err != nil {
				s.t.Fatal(err)
			}
			token = u.Query().Get("token")
		}
	}
	if token == "" {
		s.t.Fatalf("no token for %s in the mail to %s", id, address)
	}
	return token
}

func card(id string) string { return `article[data-id="` + id + `"]` }

// slowApply holds the workflow's apply step back a moment, the time a console draws a
// request in the state applying.
func slowApply(name string, f asl.Function) asl.Function {
	if name != "apply" {
		return f
	}
	return func(ctx context.Context, payload json.RawMessage) (json.RawMessage, error) {
		select {
		case <-time.After(1500 * time.Millisecond):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		return f(ctx, payload)
	}
}

// The admin hands example.com's tech contact over to newbie in the console; both accept
// there, the new tech through the emailed deep link, and the table shows the new tech.
func TestConsoleHandOverTech(t *testing.T) {
	axe := loadAxe(t)
	ctx := browse(t)
	s := startWith(t, stack.Options{WrapStep: slowApply})

	if status := open(t, ctx, s.URL+"/signin"); status != http.StatusOK {
		t.Fatalf("sign-in page: status %d", status)
	}
	waitSel(t, ctx, `button[data-nic="`+admin+`"]`)
	// The style sheet applies under the console's strict policy.
	if bg := run(t, ctx, "style", chromedp.Evaluate[string](`getComputedStyle(document.querySelector("button[data-nic]")).backgroundColor`)); bg != "rgb(10, 79, 168)" {
		t.Errorf("a button's background is %q: the style sheet is blocked or missing", bg)
	}
	if r := s.Call("GET", "/signin", "", nil); r.Header.Get("Content-Security-Policy") != web.Policy || r.Header.Get("Cache-Control") != "no-cache" {
		t.Errorf("the sign-in page is served with policy %q and caching %q", r.Header.Get("Content-Security-Policy"), r.Header.Get("Cache-Control"))
	}
	screenshot(t, ctx, "console-1-signin")
	axe.check(t, ctx, "sign-in")
	mustShow(t, "sign-in", text(t, ctx), "Sign in", "Sign in as "+admin, "Sign in as "+newbie)
	unnamed(t, ctx, "sign-in")
	press(t, ctx, `button[data-nic="`+admin+`"]`)

	// The services, with the three contacts and the admin's roles.
	waitSel(t, ctx, `tr[data-id="example.com"]`)
	if loc := run(t, ctx, "location", chromedp.Location()); loc != s.URL+"/services" {
		t.Errorf("signed in, the console is at %s", loc)
	}
	screenshot(t, ctx, "console-2-services")
	axe.check(t, ctx, "services")
	mustShow(t, "services", text(t, ctx), "Services", "Your requests", "Profile", "Signed in as "+admin,
		"example.com", "domain", admin, tech, bill, "Administrator")
	unnamed(t, ctx, "services")

	// Edit contacts, from the row's actions menu: the admin may change all three.
	press(t, ctx, `button[aria-label="Actions for example.com"]`)
	press(t, ctx, `tr[data-id="example.com"] .edit-contacts`)
	waitSel(t, ctx, "#edit-form")
	for role, holder := range map[string]string{"admin": admin, "tech": tech, "billing": bill} {
		if got := value(t, ctx, "#edit-"+role); got != holder {
			t.Errorf("the %s field holds %q, want %q", role, got, holder)
		}
		if disabled(t, ctx, "#edit-"+role) {
			t.Errorf("the admin may not edit the %s field", role)
		}
	}
	fill(t, ctx, "#edit-tech", newbie)
	screenshot(t, ctx, "console-3-edit")
	axe.check(t, ctx, "edit contacts")
	unnamed(t, ctx, "edit contacts")
	press(t, ctx, "#edit-confirm")
	waitSel(t, ctx, "#created li")
	screenshot(t, ctx, "console-4-created")
	axe.check(t, ctx, "requests created")
	mustShow(t, "created", text(t, ctx), "Requests created", "Technical contact: "+tech+" → "+newbie+".", "Must confirm: "+admin+", "+newbie+".")
	id := run(t, ctx, "request id", chromedp.Evaluate[string](`document.querySelector("#created li").dataset.id`))
	if c := s.get(admin, id); c.State != "pending" || len(c.Parties) != 2 {
		t.Fatalf("the request created: %+v", c)
	}

	// Your requests: the admin sees it waiting for him and for newbie, and accepts it with
	// the token of his email.
	press(t, ctx, `nav a[href="/requests"]`)
	waitSel(t, ctx, card(id)+" .accept")
	screenshot(t, ctx, "console-5-requests")
	axe.check(t, ctx, "your requests")
	body := text(t, ctx)
	mustShow(t, "requests", body, "Your requests", "Technical contact of example.com", "waiting for you", "waiting for "+newbie, "pending", "created")
	unnamed(t, ctx, "requests")
	fill(t, ctx, card(id)+" input.token", s.tokenOf("admin@example.com", id))
	press(t, ctx, card(id)+" .accept")
	waitText(t, ctx, "Your acceptance is recorded.")
	screenshot(t, ctx, "console-6-accepted")
	mustShow(t, "accepted", text(t, ctx), admin+": accepted", "waiting for "+newbie)
	if c := s.get(admin, id); s.status(c, admin) != "accepted" {
		t.Fatalf("after the admin's acceptance: %+v", c)
	}

	// The profile.
	press(t, ctx, `nav a[href="/profile"]`)
	waitSel(t, ctx, "#profile-email")
	screenshot(t, ctx, "console-7-profile")
	axe.check(t, ctx, "profile")
	mustShow(t, "profile", text(t, ctx), "Profile", "Email address", "admin@example.com", "Language", "English", "Good standing", "yes")

	// Signed out, the emailed deep link asks who is there, then opens the request with the
	// token filled in.
	newToken := s.tokenOf("newbie@example.com", id)
	deepLink := s.URL + "/requests?" + url.Values{"id": {id}, "token": {newToken}}.Encode()
	// Opened by the admin, who has answered already, the link says whom it waits for.
	open(t, ctx, deepLink)
	waitText(t, ctx, "This link does not wait for an answer from "+admin)
	if n := run(t, ctx, "answer buttons", chromedp.Evaluate[int](`document.querySelectorAll(".accept, .refuse").length`)); n != 0 {
		t.Error("the console offers the admin an answer he gave already")
	}
	press(t, ctx, "#signout")
	waitSel(t, ctx, `button[data-nic="`+newbie+`"]`)
	open(t, ctx, deepLink)
	press(t, ctx, `button[data-nic="`+newbie+`"]`)
	waitSel(t, ctx, card(id)+" .accept")
	if got := value(t, ctx, card(id)+" input.token"); got != newToken {
		t.Errorf("the deep link filled the token field with %q", got)
	}
	if loc := run(t, ctx, "location", chromedp.Location()); strings.Contains(loc, "token=") {
		t.Errorf("the token stays in the address bar: %s", loc)
	}
	screenshot(t, ctx, "console-8-deep-link")
	axe.check(t, ctx, "request opened from its link")
	mustShow(t, "deep link", text(t, ctx), "Signed in as "+newbie, admin+": accepted", "waiting for you")
	press(t, ctx, card(id)+" .accept")
	waitText(t, ctx, "Your acceptance is recorded.")
	// The workflow applies the change after the answer (held back here, so that the card
	// is drawn while it applies): the card follows it to done by itself, without a reload,
	// and keeps the answer's outcome.
	waitSel(t, ctx, card(id)+`[data-state="applying"]`)
	waitSel(t, ctx, card(id)+`[data-state="done"]`)
	s.waitState(admin, id, "done")
	screenshot(t, ctx, "console-8b-done")
	if got := run(t, ctx, "state of the card", chromedp.Evaluate[string](`document.querySelector('`+card(id)+` dd.state').textContent`)); got != "done" {
		t.Errorf("the card shows the state %q, want done", got)
	}
	mustShow(t, "request done", text(t, ctx), "Your acceptance is recorded.", admin+": accepted", newbie+": accepted")

	// The new tech sees the service, with himself as its tech contact.
	press(t, ctx, `nav a[href="/services"]`)
	waitSel(t, ctx, `tr[data-id="example.com"] td[data-role="tech"]`)
	screenshot(t, ctx, "console-9-new-tech")
	if got := run(t, ctx, "tech cell", chromedp.Evaluate[string](`document.querySelector('tr[data-id="example.com"] td[data-role="tech"]').textContent`)); got != newbie {
		t.Errorf("the table shows %q as example.com's tech contact, want %s", got, newbie)
	}
	mustShow(t, "services of the new tech", text(t, ctx), "Technical")
}

// The new contact asks for the emails again, then refuses with the fresh token; the admin
// cancels another request. Each screen offers only the actions that apply.
func TestConsoleRefuseResendCancel(t *testing.T) {
	ctx := browse(t)
	s := start(t)
	id := s.requestNewTech()
	first := s.tokenOf("newbie@example.com", id)

	signIn(t, ctx, s, newbie)
	open(t, ctx, s.URL+"/requests")
	waitSel(t, ctx, card(id)+" .resend")
	if n := run(t, ctx, "cancel buttons", chromedp.Evaluate[int](`document.querySelectorAll('`+card(id)+` .cancel').length`)); n != 0 {
		t.Error("the console offers Cancel to a party who is not the requester")
	}
	press(t, ctx, card(id)+" .resend")
	waitText(t, ctx, "The emails were sent again.")
	screenshot(t, ctx, "console-10-resent")
	mustShow(t, "resent", text(t, ctx), "emails sent again")
	fresh := s.tokenOf("newbie@example.com", id)
	if fresh == first {
		t.Fatal("the resend sent no new token")
	}

	// The replaced token is refused, in words.
	fill(t, ctx, card(id)+" input.token", first)
	press(t, ctx, card(id)+" .refuse")
	waitText(t, ctx, "This token was replaced by a newer one")
	screenshot(t, ctx, "console-11-old-token")
	if c := s.get(admin, id); c.State != "pending" {
		t.Fatalf("a replaced token changed the request: %+v", c)
	}

	fill(t, ctx, card(id)+" input.token", fresh)
	press(t, ctx, card(id)+" .refuse")
	waitText(t, ctx, "You refused the change.")
	s.waitState(admin, id, "refused")
	waitSel(t, ctx, card(id)+`[data-state="refused"]`)
	screenshot(t, ctx, "console-12-refused")
	mustShow(t, "refused", text(t, ctx), newbie+": refused", "refused")
	if n := run(t, ctx, "buttons", chromedp.Evaluate[int](`document.querySelectorAll('`+card(id)+` button').length`)); n != 0 {
		t.Errorf("a refused request still offers %d buttons", n)
	}

	// The admin cancels a request of his; the state filter finds it.
	again := s.requestNewTech()
	signIn(t, ctx, s, admin)
	open(t, ctx, s.URL+"/requests?state=pending")
	waitSel(t, ctx, card(again)+" .cancel")
	if n := run(t, ctx, "refused cards", chromedp.Evaluate[int](`document.querySelectorAll('`+card(id)+`').length`)); n != 0 {
		t.Error("the pending filter shows the refused request")
	}
	press(t, ctx, card(again)+" .cancel")
	waitText(t, ctx, "The request is cancelled.")
	screenshot(t, ctx, "console-13-cancelled")
	if c := s.get(admin, again); c.State != "cancelled" {
		t.Fatalf("after Cancel: %+v", c)
	}
	// Choosing a state applies the filter.
	fill(t, ctx, "#state", "cancelled")
	waitFor(t, ctx, "the cancelled filter", `location.search === "?state=cancelled"`)
	waitSel(t, ctx, card(again)+`[data-state="cancelled"]`)
	if n := run(t, ctx, "cards", chromedp.Evaluate[int](`document.querySelectorAll("article.card").length`)); n != 1 {
		t.Errorf("the cancelled filter shows %d requests, want 1", n)
	}
}

// The tech contact, whose language is Italian, may only hand his own role over: the other
// fields are locked, and every screen speaks Italian.
func TestConsoleTechInItalian(t *testing.T) {
	axe := loadAxe(t)
	ctx := browse(t)
	s := start(t)
	signIn(t, ctx, s, tech)
	waitSel(t, ctx, `tr[data-id="example.com"]`)
	if lang := run(t, ctx, "lang", chromedp.Evaluate[string](`document.documentElement.lang`)); lang != "it" {
		t.Errorf("the page's language is %q, want it", lang)
	}
	screenshot(t, ctx, "console-14-services-it")
	axe.check(t, ctx, "servizi")
	mustShow(t, "servizi", text(t, ctx), "Servizi", "Le tue richieste", "Profilo", "Esci", "Tecnico", "Contatto tecnico")

	// The menu works from the keyboard.
	run(t, ctx, "focus the menu button", chromedp.Focus(chromedp.CSS(`button[aria-label="Azioni per example.com"]`)))
	run(t, ctx, "open the menu", chromedp.KeyEvent(kb.Enter))
	waitFor(t, ctx, "the menu item has the focus", `document.activeElement && document.activeElement.classList.contains("edit-contacts")`)
	run(t, ctx, "choose Edit contacts", chromedp.KeyEvent(kb.Enter))
	waitSel(t, ctx, "#edit-form")
	for role, locked := range map[string]bool{"admin": true, "tech": false, "billing": true} {
		if got := disabled(t, ctx, "#edit-"+role); got != locked {
			t.Errorf("for the tech, the %s field is disabled=%v, want %v", role, got, locked)
		}
	}
	screenshot(t, ctx, "console-15-edit-it")
	axe.check(t, ctx, "modifica")
	mustShow(t, "modifica", text(t, ctx), "Modifica i contatti di example.com", "I tuoi ruoli non permettono di cambiare questo contatto.")
	unnamed(t, ctx, "modifica")

	// Naming the current holder is not a change.
	press(t, ctx, "#edit-confirm")
	waitText(t, ctx, "Cambia almeno un contatto.")

	fill(t, ctx, "#edit-tech", newbie)
	press(t, ctx, "#edit-confirm")
	waitSel(t, ctx, "#created li")
	screenshot(t, ctx, "console-16-created-it")
	mustShow(t, "create", text(t, ctx), "Richieste create", "Contatto tecnico: "+tech+" → "+newbie+".", "Devono confermare: "+tech+", "+newbie+".")
	id := run(t, ctx, "request id", chromedp.Evaluate[string](`document.querySelector("#created li").dataset.id`))

	// A second request for the same role is refused, in Italian.
	press(t, ctx, `button[aria-label="Azioni per example.com"]`)
	press(t, ctx, `tr[data-id="example.com"] .edit-contacts`)
	fill(t, ctx, "#edit-tech", admin)
	press(t, ctx, "#edit-confirm")
	waitText(t, ctx, "Esiste già una richiesta aperta per questo ruolo di questo servizio.")
	screenshot(t, ctx, "console-17-error-it")
	axe.check(t, ctx, "modifica, errore")

	// His requests, and a wrong token, in Italian.
	press(t, ctx, `nav a[href="/requests"]`)
	waitSel(t, ctx, card(id)+" .accept")
	mustShow(t, "richieste", text(t, ctx), "Le tue richieste", "Contatto tecnico di example.com", "in attesa di te", "in attesa di "+newbie, "in attesa", "Annulla", "Invia di nuovo", "Token ricevuto via email")
	fill(t, ctx, card(id)+" input.token", "not-the-token")
	press(t, ctx, card(id)+" .accept")
	waitFor(t, ctx, "an error in Italian", `!!document.querySelector('`+card(id)+` .msg.error')`)
	screenshot(t, ctx, "console-18-requests-it")
	axe.check(t, ctx, "richieste")
	msg := run(t, ctx, "error", chromedp.Text(chromedp.CSS(card(id)+" .msg.error")))
	if want := "Questo token non è valido per questa richiesta."; msg != want {
		t.Errorf("a wrong token reads %q, want %q", msg, want)
	}
	if c := s.get(tech, id); s.status(c, tech) != "waiting" {
		t.Errorf("a wrong token changed the request: %+v", c)
	}

	press(t, ctx, `nav a[href="/profile"]`)
	waitSel(t, ctx, "#profile-email")
	screenshot(t, ctx, "console-19-profile-it")
	axe.check(t, ctx, "profilo")
	mustShow(t, "profilo", text(t, ctx), "Profilo", "Indirizzo email", "tech@example.com", "Lingua", "Italiano", "In regola con i pagamenti", "sì")
}

// The services screen pages through the API's pages, filters by type and role through the
// API, and searches the loaded page by service id. The French billing contact sees it in
// French.
func TestConsoleServicesPagingAndFilters(t *testing.T) {
	ctx := browse(t)
	seed := store.Seed{Accounts: []store.SeedAccount{
		{NIC: admin, Email: "admin@example.com", Language: "en", GoodStanding: true},
		{NIC: bill, Email: "billing@example.com", Language: "fr", GoodStanding: true},
	}}
	// More domains than a page holds, and one server where the admin is only the billing
	// contact.
	for i := range 21 {
		seed.Services = append(seed.Services, store.SeedService{ID: fmt.Sprintf("d%02d.example", i), Type: "domain", Admin: admin, Tech: admin, Billing: bill})
	}
	seed.Services = append(seed.Services, store.SeedService{ID: "box.example", Type: "dedicated-server", Admin: bill, Tech: bill, Billing: admin})
	s := &site{t: t, Site: stacktest.Start(t, stack.Options{Seed: seed, JWTSecret: secret})}
	rows := func() []string {
		t.Helper()
		return run(t, ctx, "rows", chromedp.Evaluate[[]string](`[...document.querySelectorAll("tbody tr")].filter(tr => !tr.hidden).map(tr => tr.dataset.id)`))
	}

	signIn(t, ctx, s, admin)
	waitSel(t, ctx, "tbody tr")
	first := rows()
	if len(first) != 20 {
		t.Fatalf("the first page shows %d services, want 20", len(first))
	}
	press(t, ctx, "#next-page")
	waitFor(t, ctx, "the next page", `location.search.includes("cursor=") && document.querySelectorAll("tbody tr").length > 0`)
	screenshot(t, ctx, "console-20-next-page")
	second := rows()
	seen := map[string]bool{}
	for _, id := range append(first, second...) {
		seen[id] = true
	}
	if len(seen) != 22 || len(second) != 2 {
		t.Errorf("the two pages show %d and %d services, %d different, want 20 and 2 of 22", len(first), len(second), len(seen))
	}
	if n := run(t, ctx, "next links", chromedp.Evaluate[int](`document.querySelectorAll("#next-page").length`)); n != 0 {
		t.Error("the last page offers a next page")
	}

	// Filters ask the API.
	for _, f := range []struct {
		typ, role string
		want      []string
	}{
		{"dedicated-server", "", []string{"box.example"}},
		{"", "billing", []string{"box.example"}},
		{"domain", "billing", nil},
	} {
		open(t, ctx, s.URL+"/services")
		waitSel(t, ctx, "tbody tr")
		fill(t, ctx, "#type", f.typ)
		fill(t, ctx, "#role", f.role)
		press(t, ctx, `form.filters button[type="submit"]`)
		waitFor(t, ctx, "the filtered list", `location.search !== "" && !!document.querySelector("#services-out table, #services-out p")`)
		if got := rows(); strings.Join(got, ",") != strings.Join(f.want, ",") {
			t.Errorf("type %q role %q: the table shows %v, want %v", f.typ, f.role, got, f.want)
		}
	}
	screenshot(t, ctx, "console-21-filtered")

	// The search narrows the loaded page as one types.
	open(t, ctx, s.URL+"/services")
	waitSel(t, ctx, "tbody tr")
	run(t, ctx, "focus the search", chromedp.Focus(chromedp.CSS("#search")))
	run(t, ctx, "type", chromedp.KeyEvent("d07"))
	waitFor(t, ctx, "the search", `[...document.querySelectorAll("tbody tr")].filter(tr => !tr.hidden).length === 1`)
	if got := rows(); len(got) != 1 || got[0] != "d07.example" {
		t.Errorf("searching d07 shows %v", got)
	}
	screenshot(t, ctx, "console-22-search")

	// The billing contact of box.example may only hand billing over; in French.
	signIn(t, ctx, s, bill)
	waitSel(t, ctx, `tr[data-id="box.example"]`)
	mustShow(t, "services fr", text(t, ctx), "Vos demandes", "Profil", "Se déconnecter", "Mes rôles")
	press(t, ctx, `tr[data-id="d00.example"] .menu-button`)
	press(t, ctx, `tr[data-id="d00.example"] .edit-contacts`)
	waitSel(t, ctx, "#edit-form")
	for role, locked := range map[string]bool{"admin": true, "tech": true, "billing": false} {
		if got := disabled(t, ctx, "#edit-"+role); got != locked {
			t.Errorf("for the billing contact, the %s field is disabled=%v, want %v", role, got, locked)
		}
	}
	screenshot(t, ctx, "console-23-edit-fr")
	mustShow(t, "modifier", text(t, ctx), "Modifier les contacts de d00.example", "Vos rôles ne permettent pas de changer ce contact.")
	unnamed(t, ctx, "modifier")

	// Every text the console has in English, it has in Italian and in French.
	missing := run(t, ctx, "compare the languages", chromedp.Evaluate[[]string](`import("/console/i18n.js").then(m => {
		const keys = (o, p = "") => Object.entries(o).flatMap(([k, v]) => typeof v === "object" ? keys(v, p + k + ".") : [p + k]);
		const en = keys(m.textsFor("en"));
		return ["it", "fr"].flatMap(l => { const have = new Set(keys(m.textsFor(l))); return en.filter(k => !have.has(k)).map(k => l + ": " + k); });
	})`, chromedp.EvalAwaitPromise))
	if len(missing) > 0 {
		t.Errorf("texts missing in a language: %v", missing)
	}
}
