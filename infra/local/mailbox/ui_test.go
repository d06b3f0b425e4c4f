package mailbox

import (
	"context"
	"html"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/servicecontacts/servicecontacts/shared/contact"
	"github.com/servicecontacts/servicecontacts/shared/mail"
)

// A real token email, rendered by the notifier, shows on the page with working links to the
// local confirmation page, both from its text and inside its HTML.
func TestUIShowsTokenEmailLinks(t *testing.T) {
	const base = "http://127.0.0.1:3000"
	b := newBox()
	n := mail.NewNotifier(b, base)
	now := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	c := contact.Change{
		ID: "c0ffee", ServiceID: "example.com", ServiceType: "domain", Role: contact.Tech,
		From: "yy22222-ovh", To: "ww44444-ovh", RequestedBy: "xx11111-ovh", State: contact.Pending,
		Parties:   []contact.Party{{NIC: "xx11111-ovh", Status: contact.Waiting}, {NIC: "ww44444-ovh", Status: contact.Waiting}},
		CreatedAt: now, ExpiresAt: now.Add(14 * 24 * time.Hour),
	}
	to := contact.Account{NIC: "ww44444-ovh", Email: "newbie@example.com", Language: contact.French}
	if err := n.Notify(context.Background(), contact.Notice{Kind: contact.NoticeToken, To: to, Change: c, Token: "tok_en-1"}); err != nil {
		t.Fatal(err)
	}
	link := n.ConfirmLink(c.ID, "tok_en-1")

	w := serve(b, http.MethodGet, "/_local/mail/ui")
	if w.Code != http.StatusOK {
		t.Fatalf("status %d", w.Code)
	}
	if csp := w.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("Content-Security-Policy = %q, want default-src 'none'", csp)
	}
	if cc := w.Header().Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store", cc)
	}
	page := w.Body.String()
	for _, want := range []string{
		"<dd>newbie@example.com</dd>",
		`<dd class="subject">` + html.EscapeString(b.Messages()[0].Subject) + "</dd>",
		`<li><a href="` + html.EscapeString(link) + `">`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q:\n%s", want, page)
		}
	}
	_, rest, ok := strings.Cut(page, ` srcdoc="`)
	if !ok {
		t.Fatalf("page shows no email HTML:\n%s", page)
	}
	srcdoc, _, _ := strings.Cut(rest, `"`)
	frame := html.UnescapeString(srcdoc)
	if !strings.Contains(frame, `<base target="_top">`) || !strings.Contains(frame, `href="`+html.EscapeString(link)+`"`) {
		t.Errorf("the framed email lacks its link to %s opening at the top level", link)
	}
}
