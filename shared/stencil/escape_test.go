package stencil

import (
	htmltemplate "html/template"
	"strings"
	"testing"
)

const hostile = `x"'><script>alert(1)</script>&amp;<img src=x onerror=alert(2)> +1 ` + "\x00 é 日本 \uFDD0 `="

// values are what the HTML cases are run with.
var values = []any{
	"plain",
	hostile,
	"javascript:alert(1)",
	"JavaScript:alert(1)",
	"data:text/html,<b>",
	"mailto:a+b@example.com",
	"https://example.com/a b/é?c=d&e=f+g#h'i",
	"/p/a:b/c?d",
	"%41%zz%",
	"  padded ",
	"",
	42,
	true,
	state3("named <string>"),
	stringer{"<stringer>"},
	CSS(`a{color:"red"}`),
}

// Every context the project's templates put values in is escaped byte for byte as
// html/template escapes it: each case is run by both, with each value.
func TestHTMLMatchesHTMLTemplate(t *testing.T) {
	cases := []struct {
		name string
		src  string // the body of {{define "t"}}
	}{
		{"text", `<p>{{.}}</p>`},
		{"text at the top", `{{.}}`},
		{"after a doctype", "<!DOCTYPE html>\n<html lang=\"en\">{{.}}"},
		{"a lone <", `<{{.}}`},
		{"after an end tag", `<b>x</b>{{.}}`},
		{"title", `<title>{{.}}</title>`},
		{"after a title", `<title>t</title>{{.}}`},
		{"textarea", `<TEXTAREA rows="2">{{.}}</textarea >`},
		{"double-quoted attribute", `<p class="{{.}}">`},
		{"single-quoted attribute", `<p title='a {{.}} b'>`},
		{"attribute after others", "<input type=\"hidden\"\n name=token value=\"{{.}}\">"},
		{"unsafe attribute", `<a rel="{{.}}" type="{{.}}">`},
		{"srcdoc is not a URL", `<iframe srcdoc="{{.}}">`},
		{"href", `<a href="{{.}}">x</a>`},
		{"href, single quotes", `<a href='{{.}}'>x</a>`},
		{"href, two values", `<a href="{{.}}{{.}}">`},
		{"href path", `<a href="/p/{{.}}">`},
		{"href query", `<a href="/p?q={{.}}">`},
		{"href fragment", `<a href="/p#{{.}}">`},
		{"href entity question mark", `<a href="/p&#63;q={{.}}">`},
		{"href after blanks", `<a href="  {{.}}">`},
		{"other URL attributes", `<img src="{{.}}"><form action="{{.}}"><q cite="{{.}}"><a data-url="{{.}}" data-action="{{.}}" xmlns:x="{{.}}" imgsrc="{{.}}">`},
		{"upper-case attribute", `<a HREF="{{.}}">`},
		{"literal style attribute", `<p style="color:red">{{.}}</p>`},
		{"style element", `<style>{{.}}</style>`},
		{"style element with blanks", "<style>\n{{.}}\n</style>"},
		{"comment left out", "a<!-- a {comment} -->b{{.}}<!---->c"},
		{"literal < in text", "a < b <3 <!doctype x> <!-- c --> <\n"},
		{"literal < in a title", `<title>a<b {{.}} c<d</title>`},
		{"branches", `{{if .}}<b>{{.}}</b>{{else}}<i class="{{.}}">-</i>{{end}}`},
		{"attribute in a branch", `<a{{if .}} class="{{.}}"{{end}} href="{{.}}">`},
		{"range", `<ul>{{range .}}<li title="{{.}}">{{.}}</li>{{end}}</ul>`},
		{"call", `<p>{{template "u" .}}</p><a href="{{.}}">{{template "u" .}}</a>`},
		{"with", `{{with .}}<em>{{.}}</em>{{end}}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			src := `{{define "t"}}` + tc.src + `{{end}}{{define "u"}}[{{.}}]{{end}}`
			ref, err := htmltemplate.New("ref").Parse(src)
			if err != nil {
				t.Fatalf("html/template refuses the case: %v", err)
			}
			set := NewHTML(nil)
			if err := set.Parse("case.html", src); err != nil {
				t.Fatal(err)
			}
			for _, v := range values {
				data := v
				if strings.Contains(tc.name, "range") {
					data = []any{v, v}
				}
				var want strings.Builder
				if err := ref.ExecuteTemplate(&want, "t", reference(data)); err != nil {
					t.Fatalf("html/template with %#v: %v", v, err)
				}
				got, err := set.ExecuteString("t", data)
				if err != nil {
					t.Fatalf("with %#v: %v", v, err)
				}
				if got != want.String() {
					t.Errorf("with %#v:\n got %q\nwant %q (html/template)", v, got, want.String())
				}
			}
		})
	}
}

// Trusted values pass where html/template lets its own typed values pass, and only there.
func TestTrustedValues(t *testing.T) {
	cases := []struct {
		name, src string
		value     any
	}{
		{"markup in text", `<div>{{.}}</div>`, HTML(`<b class="x">bold &amp; "q"</b>`)},
		{"markup in a title", `<title>{{.}}</title>`, HTML(`<b>a &amp; b</b>`)},
		{"style sheet in a style element", `<style>{{.}}</style>`, CSS(`body{font-family:"A B",sans-serif}a>b{c:d}`)},
		{"style sheet in text", `<p>{{.}}</p>`, CSS(`<b>`)},
		{"style sheet in an attribute", `<p title="{{.}}">`, CSS(`"a"`)},
		{"markup in a URL", `<a href="{{.}}">`, HTML(`javascript:<b>`)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			src := `{{define "t"}}` + tc.src + `{{end}}`
			ref := htmltemplate.Must(htmltemplate.New("ref").Parse(src))
			var want strings.Builder
			if err := ref.ExecuteTemplate(&want, "t", reference(tc.value)); err != nil {
				t.Fatal(err)
			}
			set := NewHTML(nil)
			if err := set.Parse("case.html", src); err != nil {
				t.Fatal(err)
			}
			got, err := set.ExecuteString("t", tc.value)
			if err != nil {
				t.Fatal(err)
			}
			if got != want.String() {
				t.Errorf("got %q, html/template writes %q", got, want.String())
			}
		})
	}
}

// Where stencil and html/template part, stencil is the stricter.
func TestStricterThanHTMLTemplate(t *testing.T) {
	cases := []struct {
		name, src string
		value     any
		want      string
	}{
		// html/template strips the tags of trusted markup in an attribute; stencil escapes it
		// like any text.
		{"markup in an attribute", `<p title="{{.}}">`, HTML(`<b>a</b>`), `<p title="&lt;b&gt;a&lt;/b&gt;">`},
		// html/template decodes CSS escapes before filtering a value; stencil refuses them.
		{"CSS escape", `<style>{{.}}</style>`, `\72 ed`, `<style>ZgotmplZ</style>`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			set := NewHTML(nil)
			if err := set.Parse("case.html", `{{define "t"}}`+tc.src+`{{end}}`); err != nil {
				t.Fatal(err)
			}
			got, err := set.ExecuteString("t", tc.value)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// Values a style element filters are written as html/template's cssValueFilter writes them.
func TestStyleValuesMatchHTMLTemplate(t *testing.T) {
	src := `{{define "t"}}<style>{{.}}</style>{{end}}`
	ref := htmltemplate.Must(htmltemplate.New("ref").Parse(src))
	set := NewHTML(nil)
	if err := set.Parse("case.html", src); err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"10px", "#888", "bold", "red blue", "a-b_c", "a--b", "-moz-binding", "x:expression", "EXPRESSION", "url(x)", "a;b", "@import", "a/b", "é", "<", "{", "'"} {
		var want strings.Builder
		if err := ref.ExecuteTemplate(&want, "t", v); err != nil {
			t.Fatal(err)
		}
		got, err := set.ExecuteString("t", v)
		if err != nil {
			t.Fatal(err)
		}
		if got != want.String() {
			t.Errorf("%q: got %q, html/template writes %q", v, got, want.String())
		}
	}
}

// reference gives html/template the values with its own trusted types for stencil's.
func reference(v any) any {
	switch v := v.(type) {
	case HTML:
		return htmltemplate.HTML(v)
	case CSS:
		return htmltemplate.CSS(v)
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = reference(e)
		}
		return out
	}
	return v
}

// Contexts stencil does not escape for are refused when parsing, with the file and line.
func TestRefusedContexts(t *testing.T) {
	cases := []struct{ name, src, want string }{
		{"script element", "<p>\n  <script>{{.}}</script>", "case.html:2: script elements are not supported"},
		{"script element after a trim", "<p> {{- .}} \n\n {{- 1 -}} \n\n<script>", "case.html:5: script elements are not supported"},
		{"script element without actions", "<script>alert(1)</script>", "script elements are not supported"},
		{"event handler", `<a onclick="{{.}}">`, "case.html:1: {{.}}: no value may be written in an event handler attribute"},
		{"style attribute", "\n<a style=\"color:{{.}}\">", "case.html:2: {{.}}: no value may be written in a style attribute"},
		{"srcset", `<img srcset="{{.}}">`, "no value may be written in a srcset attribute"},
		{"unquoted value", `<a title={{.}}>`, "no value may be written in a tag, before an attribute value"},
		{"unquoted value after text", `<a title=x{{.}}>`, "no value may be written in an unquoted attribute value"},
		{"attribute name", `<a {{.}}>`, "no value may be written in a tag"},
		{"comment", `<!-- {{.}} -->`, "no value may be written in an HTML comment"},
		{"comment over a branch", `<!-- x {{if true}} y -->{{end}}`, "the branches of {{if}} end in different contexts: text and an HTML comment"},
		{"literal CSS", `<style>p{}{{.}}</style>`, "literal CSS in a style element"},
		{"call in an attribute", `<a title="{{template "t" .}}">`, `{{template "t"}} in an attribute value: templates may only be called in element content`},
		{"branches part", `{{if .}}<a href="{{end}}">`, "the branches of {{if}} end in different contexts: a URL attribute value and text"},
		{"range body moves", `{{range .}}<b title="{{end}}">`, "the body of {{range}} starts in text and ends in an attribute value"},
		{"ends in a tag", `<a href="x"`, `template "t" ends in a tag, not in element content`},
		{"quote in an attribute name", "\n<a b\"c=\"d\">", `case.html:2: '"' in an attribute name`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := NewHTML(nil).Parse("case.html", `{{define "t"}}`+tc.src+`{{end}}`)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one with %q", err, tc.want)
			}
		})
	}
}
