package api

import (
	htmltemplate "html/template"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/servicecontacts/servicecontacts/shared/contact"
)

// The pages come out byte for byte as html/template rendered them from the same templates,
// in every language and for every kind of page, hostile values included.
func TestPagesRenderAsHTMLTemplateDid(t *testing.T) {
	ref := htmltemplate.Must(htmltemplate.New("pages").Funcs(htmltemplate.FuncMap{
		"style": func() htmltemplate.CSS { return htmltemplate.CSS(pageStyle) },
	}).ParseFS(templateFiles, "templates/pages.html"))

	const hostile = `x"'><script>alert(1)</script>&amp;+<b>`
	plain := sampleChange()
	evil := sampleChange()
	evil.ServiceID, evil.ServiceType, evil.From, evil.To = "svc-"+hostile, "type-"+hostile, "from-"+hostile, "to-"+hostile
	evil.RequestedBy = "req-" + hostile
	for i := range evil.Parties {
		evil.Parties[i].NIC = "party-" + hostile
	}
	batch := contact.Batch{ID: "b-" + hostile, RequestedBy: "req-" + hostile, ExpiresAt: plain.ExpiresAt}

	for lang := range languages {
		pages := map[string]pageData{}
		for name, c := range map[string]contact.Change{"plain": plain, "hostile": evil} {
			d := changePage(lang, c)
			d.Page, d.Title = "confirm", d.T.ConfirmTitle
			d.CanAnswer, d.Question, d.Token = true, "question "+hostile, "token-"+hostile
			pages["confirm with a form/"+name] = d

			d = changePage(lang, c)
			d.Page, d.Title, d.Notice = "confirm", d.T.ConfirmTitle, "notice "+hostile
			pages["confirm without a form/"+name] = d

			d = changePage(lang, c)
			d.Page, d.Title, d.Lines = "result", d.T.ResultTitle, []string{"line " + hostile, d.T.Applying}
			pages["result/"+name] = d

			d = batchPage(lang, batch, []contact.Change{c, plain})
			d.CanAnswer, d.Question, d.Token = true, "question "+hostile, "token-"+hostile
			pages["batch with a form/"+name] = d

			d = batchPage(lang, batch, []contact.Change{c})
			d.Title, d.Lines = d.T.ResultTitle, []string{"done " + hostile}
			pages["batch answered/"+name] = d
		}
		words := languages[lang]
		pages["error"] = pageData{Page: "error", Lang: lang, Title: words.ErrorTitle, T: words, Sentence: "sentence " + hostile, Code: "code-" + hostile}
		pages["empty batch"] = batchPage(lang, batch, nil)

		for name, d := range pages {
			t.Run(string(lang)+"/"+name, func(t *testing.T) {
				var want strings.Builder
				if err := ref.ExecuteTemplate(&want, "layout", d); err != nil {
					t.Fatal(err)
				}
				resp := htmlResponse(200, d)
				if resp.StatusCode != 200 {
					t.Fatalf("status %d: %s", resp.StatusCode, resp.Body)
				}
				if diff := cmp.Diff(want.String(), resp.Body); diff != "" {
					t.Errorf("page differs from html/template's (-html/template +stencil):\n%s", diff)
				}
			})
		}
	}
}
