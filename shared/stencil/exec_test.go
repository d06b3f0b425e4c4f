package stencil

import (
	"errors"
	"strings"
	"testing"
	texttemplate "text/template"
)

type (
	state3 string // a named string type, as contact.State is
	inner  struct{ Name string }
	outer  struct {
		inner // promoted fields
		N     int
		U     uint8
		Flag  bool
		State state3
		Items []inner
		Words [2]string
		Attrs map[string]string
		Ptr   *inner
		Any   any
		Str   stringer
	}
	stringer struct{ s string }
)

func (s stringer) String() string { return "<" + s.s + ">" }

var sample = outer{
	inner: inner{Name: "Ada"},
	N:     3, U: 7, Flag: true, State: "done",
	Items: []inner{{"a"}, {"b"}, {"c"}},
	Words: [2]string{"x", "y"},
	Attrs: map[string]string{"k": "v"},
	Ptr:   &inner{Name: "pointed"},
	Any:   inner{Name: "boxed"},
	Str:   stringer{"str"},
}

// Text sets run like text/template on the language stencil accepts: every case is run by
// both and must come out the same.
func TestTextMatchesTextTemplate(t *testing.T) {
	cases := []struct {
		name string
		src  string // the body of {{define "t"}}
		data any
	}{
		{"dot", `{{.}}`, "plain <b> & 'q'"},
		{"int dot", `{{.}}`, 42},
		{"fields", `{{.Name}} {{.N}} {{.U}} {{.Flag}} {{.State}}`, sample},
		{"promoted and nested", `{{.Ptr.Name}} {{.Any.Name}} {{.Items}}`, sample},
		{"pointer data", `{{.Name}}`, &sample},
		{"map entry", `{{.Attrs.k}}`, sample},
		{"stringer", `{{.Str}}`, sample},
		{"constants", `{{"s\t\"q\""}} {{` + "`raw\\n`" + `}} {{7}} {{-2}} {{0x10}} {{true}}`, nil},
		{"if else", `{{if .Flag}}yes{{else}}no{{end}} {{if .Words}}w{{end}} {{if ""}}e{{else}}ne{{end}}`, sample},
		{"else if chain", `{{if eq .State "new"}}1{{else if eq .State "done"}}2{{else}}3{{end}}`, sample},
		{"else if falls to else", `{{if eq .N 1}}1{{else if eq .N 2}}2{{else}}other{{end}}`, sample},
		{"with", `{{with .Name}}[{{.}}]{{end}}{{with ""}}x{{else}}empty{{end}}`, sample},
		{"with changes dot", `{{with .Ptr}}{{.Name}}{{end}}`, sample},
		{"range", `{{range .Items}}<{{.Name}}>{{end}}`, sample},
		{"range array", `{{range .Words}}{{.}},{{end}}`, sample},
		{"range else", `{{range .none}}x{{else}}none{{end}}`, map[string][]int{}},
		{"range empty slice", `{{range .}}x{{else}}none{{end}}`, []string{}},
		{"eq many", `{{eq .N 1 2 3}} {{eq .State "done"}} {{eq .Name "Bob"}} {{eq .Flag true}}`, sample},
		{"ne", `{{ne .N 3}} {{ne .N 1}}`, sample},
		{"order ints", `{{lt .N 4}} {{le .N 3}} {{gt .N 3}} {{ge .N 3}} {{gt .U 3}} {{lt -1 .U}}`, sample},
		{"order strings", `{{lt "a" "b"}} {{gt .Name "Bob"}}`, sample},
		{"and or not", `{{and .Flag .N}} {{and .N "" .Name}} {{or "" .Name}} {{or 0 ""}} {{not .Flag}} {{not ""}}`, sample},
		{"trim", "a  {{- .Name -}}  \n b\n{{- \" c \" }}\n{{.N -}}\n\n", sample},
		{"comments", "x{{/* a comment */}}y {{- /* trimmed */ -}} z", nil},
		{"call with data", `{{template "u" .Ptr}}|{{template "u" .}}`, sample},
		{"call without data", `[{{template "v"}}]`, sample},
		{"nested calls", `{{range .Items}}{{template "u" .}};{{end}}`, sample},
	}
	helpers := `{{define "u"}}{{.Name}}{{end}}{{define "v"}}no data{{end}}`
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			src := `{{define "t"}}` + tc.src + `{{end}}` + helpers
			ref, err := texttemplate.New("ref").Parse(src)
			if err != nil {
				t.Fatalf("text/template refuses the case: %v", err)
			}
			var want strings.Builder
			if err := ref.ExecuteTemplate(&want, "t", tc.data); err != nil {
				t.Fatalf("text/template: %v", err)
			}
			set := NewText(nil)
			if err := set.Parse("case.txt", src); err != nil {
				t.Fatal(err)
			}
			got, err := set.ExecuteString("t", tc.data)
			if err != nil {
				t.Fatal(err)
			}
			if got != want.String() {
				t.Errorf("got %q, text/template writes %q", got, want.String())
			}
		})
	}
}

func TestCustomFuncs(t *testing.T) {
	set := NewText(map[string]Func{
		"join": func(args ...any) (any, error) {
			parts := make([]string, len(args))
			for i, a := range args {
				parts[i] = printable(a)
			}
			return strings.Join(parts, "+"), nil
		},
		"fail": func(...any) (any, error) { return nil, errors.New("boom") },
		// A set's function may take the place of a built-in one.
		"eq": func(...any) (any, error) { return "mine", nil },
	})
	if err := set.Parse("f.txt", `{{define "t"}}{{join .Name 1 true}} {{eq 1 1}}{{end}}{{define "bad"}}
{{fail}}{{end}}`); err != nil {
		t.Fatal(err)
	}
	got, err := set.ExecuteString("t", sample)
	if err != nil || got != "Ada+1+true mine" {
		t.Errorf("got %q, %v; want %q", got, err, "Ada+1+true mine")
	}
	if _, err := set.ExecuteString("bad", nil); err == nil || err.Error() != "f.txt:2: fail: boom" {
		t.Errorf("error %v, want f.txt:2: fail: boom", err)
	}
}

func TestExecuteErrors(t *testing.T) {
	type loop struct{ Next *loop }
	cases := []struct {
		name, src string
		data      any
		want      string // the error's text
	}{
		{"missing field", "\n{{.Nope}}", sample, "e.txt:2: .Nope: no exported field Nope in stencil.outer"},
		{"unexported field", "{{.inner}}", sample, "e.txt:1: .inner: no exported field inner in stencil.outer"},
		{"field of a number", "{{.N.X}}", sample, "e.txt:1: .N.X: .X of int, which has no fields"},
		{"field of nil", "{{.X}}", nil, "e.txt:1: .X: .X of nil"},
		{"nil pointer", "{{.Next.Next.Next}}", loop{Next: &loop{}}, "e.txt:1: .Next.Next.Next: nil pointer evaluating .Next"},
		{"map with other keys", "{{.X}}", map[int]int{}, "e.txt:1: .X: .X of map[int]int: map keys are not strings"},
		{"range over a map", "{{range .Attrs}}{{end}}", sample, "e.txt:1: {{range}} over map[string]string: only slices and arrays are supported"},
		{"compare kinds", `{{eq .N "3"}}`, sample, "e.txt:1: eq: cannot compare int with string"},
		{"compare structs of two types", `{{eq .Ptr .Str}}`, sample, "e.txt:1: eq: cannot compare *stencil.inner with stencil.stringer"},
		{"order booleans", `{{lt .Flag true}}`, sample, "e.txt:1: lt: booleans have no order"},
		{"order structs", `{{lt .Str .Str}}`, sample, "e.txt:1: lt: not comparable in order"},
		{"eq alone", `{{eq .N}}`, sample, "e.txt:1: eq: needs at least two arguments"},
		{"missing template", `{{template "none" .}}`, nil, `e.txt:1: no such template: "none"`},
		{"endless recursion", `{{template "t" .}}`, nil, `e.txt:1: {{template "t"}}: calls nest deeper than 1000`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			set := NewText(nil)
			if err := set.Parse("e.txt", `{{define "t"}}`+tc.src+`{{end}}`); err != nil {
				t.Fatal(err)
			}
			var out strings.Builder
			err := set.Execute(&out, "t", tc.data)
			if err == nil || err.Error() != tc.want {
				t.Errorf("error %v, want %s", err, tc.want)
			}
			if out.Len() != 0 {
				t.Errorf("a failed execution wrote %q", out.String())
			}
		})
	}
	if _, err := NewText(nil).ExecuteString("absent", nil); !errors.Is(err, ErrNoTemplate) {
		t.Errorf("executing an undefined template: %v, want ErrNoTemplate", err)
	}
}
