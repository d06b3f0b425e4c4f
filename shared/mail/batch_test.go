package mail

import (
	"html"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/servicecontacts/servicecontacts/shared/contact"
)

var (
	anyLink = regexp.MustCompile(`https?://[^\s"<>]+`)
	anyHref = regexp.MustCompile(`href="([^"]*)"`)
)

// A batch token email carries one link, to the batch's page, and the token once more for
// pasting: one token answers every request of the batch that needs its recipient.
func TestBatchTokenEmailHasOneLinkAndTheToken(t *testing.T) {
	n := NewNotifier(nil, baseURL)
	for _, lang := range allLanguages {
		t.Run(string(lang), func(t *testing.T) {
			notice := notices(lang)[contact.NoticeBatchToken]
			m, err := n.Render(notice)
			if err != nil {
				t.Fatal(err)
			}
			link := n.BatchConfirmLink(notice.Batch.ID, notice.Token)
			if got := anyLink.FindAllString(m.Text, -1); !slices.Equal(got, []string{link}) {
				t.Errorf("text links = %q, want only %s", got, link)
			}
			if !strings.Contains(m.Text, "\n"+link+"\n") {
				t.Errorf("text lacks the link on a line of its own:\n%s", m.Text)
			}
			if got := strings.Count(strings.ReplaceAll(m.Text, link, ""), notice.Token); got != 1 {
				t.Errorf("text shows the token %d times besides the link, want once:\n%s", got, m.Text)
			}
			if !strings.Contains(m.Text, "\n"+notice.Token+"\n") {
				t.Errorf("text lacks the token on a line of its own:\n%s", m.Text)
			}

			body := html.UnescapeString(m.HTML)
			var hrefs []string
			for _, h := range anyHref.FindAllStringSubmatch(body, -1) {
				if !slices.Contains(hrefs, h[1]) {
					hrefs = append(hrefs, h[1])
				}
			}
			if !slices.Equal(hrefs, []string{link}) {
				t.Errorf("HTML links to %q, want only %s", hrefs, link)
			}
			if got := strings.Count(strings.ReplaceAll(body, link, ""), notice.Token); got != 1 {
				t.Errorf("HTML shows the token %d times besides the link, want once:\n%s", got, m.HTML)
			}
			if strings.Contains(m.Text+m.HTML, "/contact-changes/") {
				t.Error("the email links to a request's page rather than the batch's")
			}
			if m.RequestID != notice.Batch.ID {
				t.Errorf("RequestID = %q, want the batch id %q", m.RequestID, notice.Batch.ID)
			}
		})
	}
}

func TestBatchConfirmLink(t *testing.T) {
	tests := []struct {
		name, base, id, token, want string
	}{
		{"plain", "https://contacts.example.com", "b7e1", "q5Yb0t_Kx-3Z", "https://contacts.example.com/contact-change-batches/b7e1/confirm?token=q5Yb0t_Kx-3Z"},
		{"trailing slash", "http://127.0.0.1:3000/", "b7e1", "tok", "http://127.0.0.1:3000/contact-change-batches/b7e1/confirm?token=tok"},
		{"token escaped", "https://example.com", "b7e1", "a+b/c=d&e f", "https://example.com/contact-change-batches/b7e1/confirm?token=a%2Bb%2Fc%3Dd%26e+f"},
		{"id escaped", "https://example.com", "a/b?c", "tok", "https://example.com/contact-change-batches/a%2Fb%3Fc/confirm?token=tok"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := NewNotifier(nil, tt.base)
			if got := n.BatchConfirmLink(tt.id, tt.token); got != tt.want {
				t.Errorf("BatchConfirmLink = %q, want %q", got, tt.want)
			}
			notice := notices(contact.English)[contact.NoticeBatchToken]
			notice.Batch.ID, notice.Token = tt.id, tt.token
			m, err := n.Render(notice)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(m.Text, "\n"+tt.want+"\n") {
				t.Errorf("text lacks the link on a line of its own:\n%s", m.Text)
			}
			if !strings.Contains(html.UnescapeString(m.HTML), `href="`+tt.want+`"`) {
				t.Errorf("HTML lacks a link to %s:\n%s", tt.want, m.HTML)
			}
		})
	}
}

// The tests of the local stack read a token out of an email's text the way a person copies
// it: by the link's pattern, or by the token's own. Both find the batch token, and the
// pattern of a request's link does not mistake the batch's for one.
func TestBatchTokenCanBeReadFromTheText(t *testing.T) {
	var (
		tokenInMail = regexp.MustCompile(`token=([A-Za-z0-9_-]{43})`) // infra/events
		requestLink = regexp.MustCompile(`(https?://[^\s"<>]+/contact-changes/([0-9a-f]+)/confirm\?token=([A-Za-z0-9_%-]+))`)
		batchLink   = regexp.MustCompile(`(https?://[^\s"<>]+/contact-change-batches/([0-9a-f]+)/confirm\?token=([A-Za-z0-9_%-]+))`)
	)
	notice := notices(contact.English)[contact.NoticeBatchToken]
	m, err := NewNotifier(nil, baseURL).Render(notice)
	if err != nil {
		t.Fatal(err)
	}
	if got := tokenInMail.FindStringSubmatch(m.Text); got == nil || got[1] != notice.Token {
		t.Errorf("token pattern found %q, want %q", got, notice.Token)
	}
	if got := requestLink.FindAllString(m.Text, -1); got != nil {
		t.Errorf("a request's link pattern matches %q", got)
	}
	match := batchLink.FindAllStringSubmatch(m.Text, -1)
	if len(match) != 1 || match[0][2] != notice.Batch.ID {
		t.Fatalf("batch link pattern found %q, want one link to batch %s", match, notice.Batch.ID)
	}
	if token, err := url.QueryUnescape(match[0][3]); err != nil || token != notice.Token {
		t.Errorf("token in the link = %q (%v), want %q", token, err, notice.Token)
	}
}

// Each request of a batch notice has a line of its own, naming its service, the service's
// type, the role in the recipient's language, and the holders before and after.
func TestBatchEmailsListEveryRequest(t *testing.T) {
	n := NewNotifier(nil, baseURL)
	for _, lang := range allLanguages {
		for _, kind := range []contact.NoticeKind{contact.NoticeBatchToken, contact.NoticeBatchOutcome} {
			t.Run(string(kind)+"/"+string(lang), func(t *testing.T) {
				notice := notices(lang)[kind]
				notice.Changes[0].Role = contact.Billing
				notice.Changes[len(notice.Changes)-1].ServiceType = "vps"
				m, err := n.Render(notice)
				if err != nil {
					t.Fatal(err)
				}
				lines := strings.Split(m.Text, "\n")
				items := strings.Split(html.UnescapeString(m.HTML), "<li")
				for _, c := range notice.Changes {
					want := []string{c.ServiceID + " (" + c.ServiceType + ")", locales[lang].role(c.Role), c.From, c.To}
					i := slices.IndexFunc(lines, func(l string) bool { return strings.HasPrefix(l, "- "+c.ServiceID+" ") })
					if i < 0 {
						t.Errorf("text has no line for %s:\n%s", c.ServiceID, m.Text)
						continue
					}
					j := slices.IndexFunc(items, func(li string) bool { return strings.Contains(li, "<strong>"+c.ServiceID+"</strong>") })
					if j < 0 {
						t.Errorf("HTML has no item for %s:\n%s", c.ServiceID, m.HTML)
						continue
					}
					for _, w := range want {
						if !strings.Contains(lines[i], w) {
							t.Errorf("text line %q lacks %q", lines[i], w)
						}
						if plain := stripTags(items[j]); !strings.Contains(plain, w) {
							t.Errorf("HTML item %q lacks %q", plain, w)
						}
					}
				}
				if got := strings.Count(m.Text, "\n- "); got != len(notice.Changes) {
					t.Errorf("text lists %d lines, want %d:\n%s", got, len(notice.Changes), m.Text)
				}
				if got := len(items) - 1; got != len(notice.Changes) {
					t.Errorf("HTML lists %d items, want %d", got, len(notice.Changes))
				}
			})
		}
	}
}

var tag = regexp.MustCompile(`<[^>]*>`)

func stripTags(s string) string { return tag.ReplaceAllString(s, "") }

// As in the token email of a request, the batch's says who asked: the recipient, or
// someone else by NIC handle.
func TestBatchTokenEmailSaysWhoAsked(t *testing.T) {
	phrases := map[contact.Language]struct{ you, other string }{
		contact.English: {"You asked for", admin.NIC + " asked for"},
		contact.Italian: {"Hai chiesto", admin.NIC + " ha chiesto"},
		contact.French:  {"Vous avez demandé", admin.NIC + " a demandé"},
	}
	n := NewNotifier(nil, baseURL)
	for lang, want := range phrases {
		for _, youAsked := range []bool{false, true} {
			name := string(lang) + "/someone else asked"
			if youAsked {
				name = string(lang) + "/the recipient asked"
			}
			t.Run(name, func(t *testing.T) {
				notice := notices(lang)[contact.NoticeBatchToken]
				phrase, absent := want.other, want.you
				if youAsked {
					notice.To = admin
					notice.To.Language = lang
					phrase, absent = want.you, want.other
				}
				m, err := n.Render(notice)
				if err != nil {
					t.Fatal(err)
				}
				body := stripTags(html.UnescapeString(m.HTML))
				for part, got := range map[string]string{"text": m.Text, "HTML": body} {
					if !strings.Contains(got, phrase) || strings.Contains(got, absent) {
						t.Errorf("%s should say %q, not %q:\n%s", part, phrase, absent, got)
					}
				}
				if named := strings.Contains(m.Subject, admin.NIC); named == youAsked {
					t.Errorf("subject %q names the requester: %v, want %v", m.Subject, named, !youAsked)
				}
			})
		}
	}
}

func TestBatchEmailsEscapeHTML(t *testing.T) {
	const hostile = `<script>alert(1)</script>`
	n := NewNotifier(nil, baseURL)
	for _, kind := range []contact.NoticeKind{contact.NoticeBatchToken, contact.NoticeBatchOutcome} {
		t.Run(string(kind), func(t *testing.T) {
			notice := notices(contact.English)[kind]
			notice.Changes[1].ServiceID = hostile
			m, err := n.Render(notice)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(m.HTML, "<script") {
				t.Errorf("HTML carries the markup unescaped:\n%s", m.HTML)
			}
			if !strings.Contains(m.HTML, html.EscapeString(hostile)) {
				t.Errorf("HTML lacks the escaped service id:\n%s", m.HTML)
			}
			if !strings.Contains(m.Text, "- "+hostile+" ") {
				t.Errorf("text should show the service id as it is:\n%s", m.Text)
			}
		})
	}
}

// The outcome email says how each request ended, and why a failed one failed, in the
// recipient's language, with the words of the email of a failed request.
func TestBatchOutcomeWordsEachEnd(t *testing.T) {
	want := map[contact.Language][]string{
		contact.English: {"done", "refused by nn44444-ovh", "cancelled", "expired", "failed: account zz99999-ovh no longer exists"},
		contact.Italian: {"completata", "rifiutata da nn44444-ovh", "annullata", "scaduta", "non riuscita: l'account zz99999-ovh non esiste più"},
		contact.French:  {"effectué", "refusé par nn44444-ovh", "annulé", "expiré", "non appliqué : le compte zz99999-ovh n'existe plus"},
	}
	subjects := map[contact.Language]string{
		contact.English: "Your batch of 5 contact changes: 1 done, 4 not",
		contact.Italian: "Il tuo gruppo di 5 modifiche di contatto: 1 completata, 4 no",
		contact.French:  "Votre lot de 5 changements de contact : 1 effectué, 4 non",
	}
	n := NewNotifier(nil, baseURL)
	for lang, ends := range want {
		t.Run(string(lang), func(t *testing.T) {
			notice := notices(lang)[contact.NoticeBatchOutcome]
			failure := contact.Failure{Code: contact.FailureAccountGone, Account: "zz99999-ovh"}
			notice.Changes[4].Failure = failure
			m, err := n.Render(notice)
			if err != nil {
				t.Fatal(err)
			}
			if m.Subject != subjects[lang] {
				t.Errorf("subject = %q, want %q", m.Subject, subjects[lang])
			}
			if !strings.HasSuffix(ends[4], locales[lang].failure(failure)) {
				t.Errorf("the failure is not worded as in a failed request's email: %q", locales[lang].failure(failure))
			}
			lines := strings.Split(m.Text, "\n")
			items := strings.Split(stripTags(html.UnescapeString(m.HTML)), "\n")
			for i, c := range notice.Changes {
				for part, got := range map[string][]string{"text": lines, "HTML": items} {
					k := slices.IndexFunc(got, func(l string) bool { return strings.Contains(l, c.ServiceID+" ") })
					if k < 0 || !strings.HasSuffix(got[k], ends[i]) {
						t.Errorf("%s: the line of %s (%s) should end with %q:\n%s", part, c.ServiceID, c.State, ends[i], strings.Join(got, "\n"))
					}
				}
			}
		})
	}
}

// A batch of a single request says so in the singular.
func TestBatchEmailsOfOneRequest(t *testing.T) {
	want := map[contact.Language]map[contact.NoticeKind]string{
		contact.English: {
			contact.NoticeBatchToken:   "Please confirm: 1 contact change asked by aa11111-ovh",
			contact.NoticeBatchOutcome: "Your batch of 1 contact change: 1 done, 0 not",
		},
		contact.Italian: {
			contact.NoticeBatchToken:   "Conferma richiesta: 1 modifica di contatto chiesta da aa11111-ovh",
			contact.NoticeBatchOutcome: "Il tuo gruppo di 1 modifica di contatto: 1 completata, 0 no",
		},
		contact.French: {
			contact.NoticeBatchToken:   "Confirmez : 1 changement de contact demandé par aa11111-ovh",
			contact.NoticeBatchOutcome: "Votre lot de 1 changement de contact : 1 effectué, 0 non",
		},
	}
	n := NewNotifier(nil, baseURL)
	for lang, subjects := range want {
		for kind, subject := range subjects {
			t.Run(string(kind)+"/"+string(lang), func(t *testing.T) {
				notice := notices(lang)[kind]
				notice.Changes = notice.Changes[:1]
				m, err := n.Render(notice)
				if err != nil {
					t.Fatal(err)
				}
				if m.Subject != subject {
					t.Errorf("subject = %q, want %q", m.Subject, subject)
				}
			})
		}
	}
}
