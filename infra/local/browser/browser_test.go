package browser

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/servicecontacts/servicecontacts/infra/local/stack"
	"github.com/servicecontacts/servicecontacts/infra/local/stack/stacktest"
	"github.com/servicecontacts/servicecontacts/shared/store"
)

const (
	admin  = "xx11111-ovh"
	tech   = "yy22222-ovh"
	bill   = "zz33333-ovh"
	newbie = "ww44444-ovh"
)

var secret = []byte("browser-secret")

// chromium finds the browser. Under make test CHROMIUM names it, and a missing browser is a
// failure; elsewhere the test skips when none is installed.
func chromium(t *testing.T) string {
	t.Helper()
	if path := os.Getenv("CHROMIUM"); path != "" {
		if _, err := exec.LookPath(path); err != nil {
			t.Fatalf("CHROMIUM=%s: %v (make chromium installs it)", path, err)
		}
		return path
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	t.Skip("no Chromium found: set CHROMIUM or run make test, which installs Debian's chromium")
	return ""
}

// browse starts a headless browser for the test and returns its context.
func browse(t *testing.T) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(t)),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("lang", "en-US"),
		chromedp.WindowSize(1024, 900),
	)
	// Generous: a 2-core machine under go test -race starts Chromium slowly.
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	t.Cleanup(cancel)
	ctx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancelBrowser := chromedp.NewContext(ctx)
	t.Cleanup(cancelBrowser)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	return ctx
}

// artifacts is where the screenshots go: $ARTIFACTS_DIR/browser, or artifacts/browser at
// the root of the repository.
func artifacts(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("ARTIFACTS_DIR")
	if dir == "" {
		root, err := filepath.Abs("../../..")
		if err != nil {
			t.Fatal(err)
		}
		dir = filepath.Join(root, "artifacts")
	}
	dir = filepath.Join(dir, "browser")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	// Chromium paints a sandboxed frame (its own process) only while it is in the
	// viewport: for the picture, make the viewport as tall as the page and let them paint.
	frames := run(t, ctx, "count frames", chromedp.Evaluate[int](`document.querySelectorAll("iframe").length`))
	if frames > 0 {
		height := run(t, ctx, "page height", chromedp.Evaluate[int64](`document.documentElement.scrollHeight`))
		run(t, ctx, "tall viewport", chromedp.EmulateViewport(1024, height))
		run(t, ctx, "let frames paint", chromedp.Sleep(2*time.Second))
		defer run(t, ctx, "reset viewport", chromedp.ResetViewport())
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if !bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")) {
		t.Fatalf("screenshot %s is not a PNG", name)
	}
	path := filepath.Join(artifacts(t), name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
}

// site is the local stack on a loopback port.
type site struct {
	*stacktest.Site
	t *testing.T
}

func start(t *testing.T) *site {
	t.Helper()
	return startWith(t, stack.Options{})
}

// startWith starts the stack of opts with the browser tests' seed and secret.
func startWith(t *testing.T, opts stack.Options) *site {
	t.Helper()
	opts.Seed = store.Seed{
		Accounts: []store.SeedAccount{
			{NIC: admin, Email: "admin@example.com", Language: "en", GoodStanding: true},
			{NIC: tech, Email: "tech@example.com", Language: "it", GoodStanding: true},
			{NIC: bill, Email: "billing@example.com", Language: "fr", GoodStanding: true},
			{NIC: newbie, Email: "newbie@example.com", Language: "en", GoodStanding: true},
		},
		Services: []store.SeedService{{ID: "example.com", Type: "domain", Admin: admin, Tech: tech, Billing: bill}},
	}
	opts.JWTSecret = secret
	return &site{t: t, Site: stacktest.Start(t, opts)}
}

type change struct {
	ID      string
	State   string
	Parties []struct{ NIC, Status string }
}

func (s *site) call(method, path, nic string, body any, want int) []byte {
	s.t.Helper()
	return s.Must(want, method, path, nic, body)
}

// requestNewTech has the admin ask for newbie as example.com's tech contact, and returns the
// request's id.
func (s *site) requestNewTech() string {
	s.t.Helper()
	var created struct{ Items []change }
	if err := json.Unmarshal(s.call("POST", "/services/example.com/contact-changes", admin, map[string]string{"tech": newbie}, http.StatusCreated), &created); err != nil || len(created.Items) != 1 {
		s.t.Fatalf("created requests: %v", err)
	}
	return created.Items[0].ID
}

func (s *site) get(nic, id string) change {
	s.t.Helper()
	var c change
	if err := json.Unmarshal(s.call("GET", "/me/contact-changes/"+id, nic, nil, http.StatusOK), &c); err != nil {
		s.t.Fatal(err)
	}
	return c
}

func (s *site) status(c change, nic string) string {
	for _, p := range c.Parties {
		if p.NIC == nic {
			return p.Status
		}
	}
	return ""
}

func (s *site) waitState(nic, id, state string) change {
	s.t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		c := s.get(nic, id)
		if c.State == state {
			return c
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("request %s is %s, still not %s", id, c.State, state)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

var confirmLink = regexp.MustCompile(`https?://[^\s"<>]+/contact-changes/([0-9a-f]+)/confirm\?token=[A-Za-z0-9_%-]+`)

func (s *site) mails() []struct{ To, Subject, Text, HTML string } {
	s.t.Helper()
	var messages []struct{ To, Subject, Text, HTML string }
	if err := json.Unmarshal(s.call("GET", "/_local/mail", "", nil, http.StatusOK), &messages); err != nil {
		s.t.Fatal(err)
	}
	return messages
}

// link returns the confirmation link the mail catcher holds for address about request id,
// read through its JSON API.
func (s *site) link(address, id string) string {
	s.t.Helper()
	for _, m := range s.mails() {
		if m.To != address {
			continue
		}
		if l := confirmLink.FindStringSubmatch(m.Text); l != nil && l[1] == id {
			if !strings.HasPrefix(l[0], s.URL+"/") {
				s.t.Fatalf("the link to %s points elsewhere than the local server %s", address, s.URL)
			}
			return l[0]
		}
	}
	s.t.Fatalf("no confirmation link for %s in the mail to %s", id, address)
	return ""
}

func run[T any](t *testing.T, ctx context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

func text(t *testing.T, ctx context.Context) string {
	t.Helper()
	return run(t, ctx, "read the page", chromedp.Text(chromedp.CSS("body")))
}

func mustShow(t *testing.T, page, body string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(body, w) {
			t.Errorf("the %s page does not show %q; it shows:\n%s", page, w, body)
		}
	}
}

// open navigates to u and returns the HTTP status of the page.
func open(t *testing.T, ctx context.Context, u string) int64 {
	t.Helper()
	resp := run(t, ctx, "open "+u, chromedp.NavigateResponse(u))
	return resp.Status
}

// click presses what sel selects and waits for the page it leads to.
func click(t *testing.T, ctx context.Context, sel string) int64 {
	t.Helper()
	resp, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("click %s: %v", sel, err)
	}
	return resp.Status
}

func TestConfirmInTheBrowser(t *testing.T) {
	ctx := browse(t)
	s := start(t)

	id := s.requestNewTech()
	link := s.link("newbie@example.com", id)

	// The new contact opens his link: the page says what is asked and by whom.
	if status := open(t, ctx, link); status != http.StatusOK {
		t.Fatalf("confirmation page: status %d", status)
	}
	screenshot(t, ctx, "1-confirm")
	mustShow(t, "confirmation", text(t, ctx),
		"Confirm a contact change",
		"xx11111-ovh asks that the technical contact of domain example.com pass from yy22222-ovh to ww44444-ovh.",
		"xx11111-ovh: waiting", "ww44444-ovh: waiting",
		"Do you, ww44444-ovh, accept this change?")
	if title := run(t, ctx, "title", chromedp.Title()); title != "Confirm a contact change" {
		t.Errorf("title = %q", title)
	}
	// The inline style sheet applies: the policy allows it by its hash.
	if bg := run(t, ctx, "style", chromedp.Evaluate[string](`getComputedStyle(document.querySelector("button.accept")).backgroundColor`)); bg != "rgb(10, 110, 49)" {
		t.Errorf("the Accept button's background is %q: the page's style is blocked or missing", bg)
	}
	if s.get(admin, id).State != "pending" || s.status(s.get(admin, id), newbie) != "waiting" {
		t.Fatal("opening the link changed the request")
	}

	// He presses Accept.
	if status := click(t, ctx, "button.accept"); status != http.StatusOK {
		t.Fatalf("result page: status %d", status)
	}
	screenshot(t, ctx, "2-accepted")
	mustShow(t, "result", text(t, ctx), "Contact change", "Thank you: your acceptance is recorded.", "Still waiting for: xx11111-ovh.", "ww44444-ovh: accepted")
	if c := s.get(admin, id); c.State != "pending" || s.status(c, newbie) != "accepted" || s.status(c, admin) != "waiting" {
		t.Fatalf("after accepting: %+v", c)
	}

	// The used link now says so.
	if status := open(t, ctx, link); status != http.StatusGone {
		t.Errorf("used link: status %d, want 410", status)
	}
	screenshot(t, ctx, "3-used-link")
	mustShow(t, "used link", text(t, ctx), "This link cannot be used", "This link was already used", "token_used")

	// An unknown token.
	u, _ := url.Parse(link)
	if status := open(t, ctx, s.URL+u.Path+"?token=not-a-real-token"); status != http.StatusForbidden {
		t.Errorf("unknown token: status %d, want 403", status)
	}
	screenshot(t, ctx, "4-unknown-token")
	mustShow(t, "unknown token", text(t, ctx), "This link cannot be used", "invalid_token")

	// The admin reads his mail in the mail catcher and follows the link from it.
	adminLink := s.link("admin@example.com", id)
	if status := open(t, ctx, s.URL+"/_local/mail/ui"); status != http.StatusOK {
		t.Fatalf("mail catcher: status %d", status)
	}
	screenshot(t, ctx, "5-mail-catcher")
	mustShow(t, "mail catcher", text(t, ctx), "Local mail", "admin@example.com", "newbie@example.com", "Please confirm: new tech contact for example.com")
	type frame struct {
		Sandbox string `json:"sandbox"`
		Srcdoc  string `json:"srcdoc"`
		Title   string `json:"title"`
	}
	frames := run(t, ctx, "frames", chromedp.Evaluate[[]frame](`[...document.querySelectorAll("iframe")].map(f => ({sandbox: f.getAttribute("sandbox"), srcdoc: f.srcdoc, title: f.title}))`))
	if want := len(s.mails()); len(frames) != want {
		t.Fatalf("the mail catcher shows %d messages as HTML, want %d", len(frames), want)
	}
	tokenMails := 0
	for _, f := range frames {
		if f.Sandbox == "" || strings.Contains(f.Sandbox, "allow-scripts") || strings.Contains(f.Sandbox, "allow-same-origin") {
			t.Errorf("the message %q is shown in a frame sandboxed with %q", f.Title, f.Sandbox)
		}
		if strings.Contains(f.Srcdoc, s.URL+"/contact-changes/"+id+"/confirm?token=") {
			tokenMails++
		}
	}
	if tokenMails != 2 {
		t.Errorf("the mail catcher shows %d token emails with their link, want 2", tokenMails)
	}
	if status := click(t, ctx, `a[href="`+adminLink+`"]`); status != http.StatusOK {
		t.Fatalf("confirmation page from the mail catcher: status %d", status)
	}
	if loc := run(t, ctx, "location", chromedp.Location()); loc != adminLink {
		t.Errorf("the mail catcher's link led to %s", loc)
	}
	screenshot(t, ctx, "6-confirm-from-mail-catcher")
	mustShow(t, "confirmation", text(t, ctx), "Do you, xx11111-ovh, accept this change?", "ww44444-ovh: accepted")
	if status := click(t, ctx, "button.accept"); status != http.StatusOK {
		t.Fatalf("result page: status %d", status)
	}
	screenshot(t, ctx, "7-all-accepted")
	mustShow(t, "result", text(t, ctx), "Everyone has accepted: the change is being applied.")

	s.waitState(admin, id, "done")
	var services struct {
		Items []struct {
			ID       string
			Contacts map[string]string
		}
	}
	if err := json.Unmarshal(s.call("GET", "/me/services", admin, nil, http.StatusOK), &services); err != nil {
		t.Fatal(err)
	}
	for _, svc := range services.Items {
		if svc.ID == "example.com" && svc.Contacts["tech"] != newbie {
			t.Errorf("example.com's tech contact is %s, want %s", svc.Contacts["tech"], newbie)
		}
	}
}

// Refusing from the page closes the request, and the other party's link then says so.
func TestRefuseInTheBrowser(t *testing.T) {
	ctx := browse(t)
	s := start(t)
	id := s.requestNewTech()

	open(t, ctx, s.link("newbie@example.com", id))
	if status := click(t, ctx, "button.refuse"); status != http.StatusOK {
		t.Fatalf("result page: status %d", status)
	}
	screenshot(t, ctx, "8-refused")
	mustShow(t, "result", text(t, ctx), "You refused the change")
	s.waitState(admin, id, "refused")

	status := open(t, ctx, s.link("admin@example.com", id))
	screenshot(t, ctx, "9-refused-request")
	body := text(t, ctx)
	if status != http.StatusGone && status != http.StatusOK {
		t.Errorf("link of a refused request: status %d", status)
	}
	if strings.Contains(body, "Accept\n") || run(t, ctx, "buttons", chromedp.Evaluate[int](`document.querySelectorAll("button").length`)) != 0 {
		t.Errorf("the link of a refused request still offers buttons:\n%s", body)
	}
	mustShow(t, "refused request", body, "refused")
}
