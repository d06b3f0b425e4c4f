package mail

import (
	htmltemplate "html/template"
	"strings"
	"testing"
	texttemplate "text/template"

	"github.com/google/go-cmp/cmp"

	"github.com/servicecontacts/servicecontacts/shared/contact"
)

// Every email comes out byte for byte as text/template and html/template rendered it from
// the same templates, in every kind and language, with realistic and with hostile values.
func TestRenderAsTheStandardTemplatesDid(t *testing.T) {
	n := NewNotifier(nil, baseURL)
	for _, lang := range allLanguages {
		text := texttemplate.Must(texttemplate.ParseFS(templateFS, "templates/layout.txt", "templates/"+string(lang)+".txt"))
		html := htmltemplate.Must(htmltemplate.ParseFS(templateFS, "templates/layout.html", "templates/"+string(lang)+".html"))
		for _, kind := range allKinds {
			for name, notice := range map[string]contact.Notice{"realistic": notices(lang)[kind], "hostile": hostileNotice(lang, kind)} {
				t.Run(string(kind)+"/"+string(lang)+"/"+name, func(t *testing.T) {
					got, err := n.Render(notice)
					if err != nil {
						t.Fatal(err)
					}
					link := n.ConfirmLink(notice.Change.ID, notice.Token)
					if isBatch(kind) {
						link = n.BatchConfirmLink(notice.Batch.ID, notice.Token)
					}
					v := newView(notice, lang, link)
					run := func(execute func(*strings.Builder) error) string {
						var b strings.Builder
						if err := execute(&b); err != nil {
							t.Fatal(err)
						}
						return b.String()
					}
					v.Subject = strings.Join(strings.Fields(run(func(b *strings.Builder) error {
						return text.ExecuteTemplate(b, string(kind)+".subject", v)
					})), " ")
					body := run(func(b *strings.Builder) error { return text.ExecuteTemplate(b, string(kind), v) })
					want := Message{Subject: v.Subject}
					want.Text = run(func(b *strings.Builder) error {
						return text.ExecuteTemplate(b, "layout", page[string]{view: v, Content: body})
					})
					content := run(func(b *strings.Builder) error { return html.ExecuteTemplate(b, string(kind), v) })
					want.HTML = run(func(b *strings.Builder) error {
						return html.ExecuteTemplate(b, "layout", page[htmltemplate.HTML]{view: v, Content: htmltemplate.HTML(content)})
					})
					got = Message{Subject: got.Subject, Text: got.Text, HTML: got.HTML}
					if diff := cmp.Diff(want, got); diff != "" {
						t.Errorf("email differs from the standard templates' (-standard +stencil):\n%s", diff)
					}
				})
			}
		}
	}
}

// What the first email in a language pays, now that no function parses templates at init:
// the parse of the language's text and HTML sets.
func BenchmarkParseTemplates(b *testing.B) {
	for _, lang := range allLanguages {
		b.Run(string(lang), func(b *testing.B) {
			for b.Loop() {
				if _, err := parseTemplates(lang); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// The same parse by text/template and html/template, which escapes on first execution:
// the first email's rendering is counted in.
func BenchmarkParseStandardTemplates(b *testing.B) {
	n := NewNotifier(nil, baseURL)
	for _, lang := range allLanguages {
		notice := notices(lang)[contact.NoticeToken]
		v := newView(notice, lang, n.ConfirmLink(notice.Change.ID, notice.Token))
		b.Run(string(lang), func(b *testing.B) {
			for b.Loop() {
				texttemplate.Must(texttemplate.ParseFS(templateFS, "templates/layout.txt", "templates/"+string(lang)+".txt"))
				html := htmltemplate.Must(htmltemplate.ParseFS(templateFS, "templates/layout.html", "templates/"+string(lang)+".html"))
				if err := html.ExecuteTemplate(new(strings.Builder), "token", v); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkRender(b *testing.B) {
	n := NewNotifier(nil, baseURL)
	for _, kind := range []contact.NoticeKind{contact.NoticeToken, contact.NoticeBatchOutcome} {
		notice := notices(contact.English)[kind]
		b.Run(string(kind), func(b *testing.B) {
			for b.Loop() {
				if _, err := n.Render(notice); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
