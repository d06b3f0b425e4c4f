package stencil

import (
	"strings"
	"testing"
	"testing/fstest"
)

// A template stencil cannot run is refused when parsing, naming the file and the line.
func TestParseErrors(t *testing.T) {
	cases := []struct{ name, src, want string }{
		{"text outside define", "\n\nhello", `p.txt:1: text outside {{define}}: "hello"`},
		{"action outside define", "\n{{.X}}", "p.txt:2: {{.X}} outside {{define}}"},
		{"unclosed define", "{{define \"a\"}}\n{{if .X}}x{{end}}", `p.txt:1: {{define "a"}} is not closed by {{end}}`},
		{"unclosed if", "{{define \"a\"}}\n\n{{if .X}}x", "p.txt:3: {{if .X}} is not closed by {{end}}"},
		{"unclosed range in a with", "{{define \"a\"}}{{with .X}}\n{{range .Y}}{{end}}", "p.txt:1: {{with .X}} is not closed by {{end}}"},
		{"unclosed else", "{{define \"a\"}}\n{{if .X}}{{else}}\n", "p.txt:2: {{if .X}} is not closed by {{end}}"},
		{"unclosed else if", "{{define \"a\"}}{{if .X}}\n{{else if .Y}}", "p.txt:2: {{else if .Y}} is not closed by {{end}}"},
		{"else in define", "{{define \"a\"}}\n{{else}}{{end}}", "p.txt:2: {{else}} in {{define}}"},
		{"second else", "{{define \"a\"}}{{if .X}}{{else}}\n{{else}}{{end}}{{end}}", "p.txt:2: {{if}} has a second {{else}}"},
		{"else if in range", "{{define \"a\"}}{{range .X}}{{else if .Y}}{{end}}{{end}}", "p.txt:1: {{else if}} in {{range}}"},
		{"else if in with", "{{define \"a\"}}{{with .X}}{{else if .Y}}{{end}}{{end}}", "p.txt:1: {{else if}} in {{with}}"},
		{"unknown function", "{{define \"a\"}}\n{{nope .X}}{{end}}", `p.txt:2: function "nope" is not defined`},
		{"nested call", `{{define "a"}}{{eq .X not}}{{end}}`, `p.txt:1: function "not" as an argument: calls cannot nest`},
		{"two operands", `{{define "a"}}{{.X .Y}}{{end}}`, `p.txt:1: unexpected ".Y" after ".X"`},
		{"pipeline", `{{define "a"}}{{.X | eq 1}}{{end}}`, `p.txt:1: unexpected "|" after ".X"`},
		{"variable", `{{define "a"}}{{$x := .X}}{{end}}`, `p.txt:1: unsupported "$x" (no pipelines, variables or parentheses)`},
		{"parentheses", `{{define "a"}}{{eq (.X) 1}}{{end}}`, `p.txt:1: unsupported "(.X)" (no pipelines, variables or parentheses)`},
		{"float", `{{define "a"}}{{eq .X 1.5}}{{end}}`, "p.txt:1: bad number 1.5 (only integers are supported)"},
		{"bad field", `{{define "a"}}{{.X..Y}}{{end}}`, `p.txt:1: bad field "" in ".X..Y"`},
		{"unterminated string", "{{define \"a\"}}{{eq .X \"abc}}\n{{end}}", "p.txt:1: unterminated quoted string"},
		{"unclosed action", "{{define \"a\"}}\n{{.X", "p.txt:2: unclosed action"},
		{"unclosed comment", "{{/* x }}", "p.txt:1: unclosed comment"},
		{"comment with more", "{{/* x */ .X}}", "p.txt:1: comment does not end with */ right before }}"},
		{"unquoted name", `{{define a}}{{end}}`, "p.txt:1: template name a is not a quoted string"},
		{"template without name", `{{define "a"}}{{template}}{{end}}`, "p.txt:1: {{template}} needs a name"},
		{"if without value", `{{define "a"}}{{if}}{{end}}{{end}}`, "p.txt:1: {{if}} needs a value"},
		{"empty action", `{{define "a"}}{{ }}{{end}}`, "p.txt:1: empty action"},
		{"end with more", `{{define "a"}}{{end .X}}`, `p.txt:1: unexpected ".X" in {{end}}`},
		{"nested define", `{{define "a"}}{{define "b"}}{{end}}{{end}}`, "p.txt:1: {{define}} is not supported here"},
		{"break", `{{define "a"}}{{range .}}{{break}}{{end}}{{end}}`, "p.txt:1: {{break}} is not supported here"},
		{"defined twice", "{{define \"a\"}}{{end}}\n{{define \"a\"}}{{end}}", `p.txt:2: template "a" is already defined at line 1`},
		{"line counts across actions", "{{define \"a\"}}{{if\n.X}}\n{{end}}\n{{nope}}{{end}}", `p.txt:4: function "nope" is not defined`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := NewText(nil).Parse("p.txt", tc.src)
			if err == nil || err.Error() != tc.want {
				t.Errorf("error %v, want %s", err, tc.want)
			}
		})
	}
}

func TestParseAcrossFiles(t *testing.T) {
	fsys := fstest.MapFS{
		"layout.txt": {Data: []byte("{{/* the layout */}}\n{{define \"page\"}}[{{template \"body\" .}}]{{end}}\n")},
		"body.txt":   {Data: []byte("{{define \"body\" -}}\n  {{.}}  \n{{- end}}")},
		"again.txt":  {Data: []byte("\n\n{{define \"body\"}}{{end}}")},
	}
	set := NewText(nil)
	if err := set.ParseFS(fsys, "layout.txt", "body.txt"); err != nil {
		t.Fatal(err)
	}
	if !set.Has("page") || !set.Has("body") || set.Has("layout.txt") {
		t.Error("the set defines the wrong names")
	}
	got, err := set.ExecuteString("page", "x")
	if err != nil || got != "[x]" {
		t.Errorf("got %q, %v; want [x]", got, err)
	}
	err = set.ParseFS(fsys, "again.txt")
	if err == nil || !strings.Contains(err.Error(), `again.txt:3: template "body" is already defined at body.txt:1`) {
		t.Errorf("redefining across files: %v", err)
	}
	if err := set.ParseFS(fsys, "missing.txt"); err == nil {
		t.Error("a missing file parsed")
	}
}
