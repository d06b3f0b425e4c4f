// Package stencil executes the subset of Go's template language that the project's pages
// and emails use, in two modes: text, where values are written as they are, and HTML, where
// each value is escaped for the place it lands, as html/template escapes it.
//
// It exists to keep text/template out of the Lambda binaries: executing text/template calls
// reflect.Value.MethodByName with names known only at run time, which makes the linker keep
// every exported method of every type that reaches an interface, hence every AWS SDK
// operation. stencil reads struct fields (reflect.Type.FieldByName) and never calls a method
// by name; templates call functions only from an explicit table.
//
// The language: {{.}} and {{.A.B}}, string, integer and boolean constants, function calls
// ({{eq .State "done"}}), {{if}} with {{else if}} and {{else}}, {{with}}, {{range}} over
// slices and arrays, {{define "name"}}, {{template "name" .X}}, comments and the trim markers
// {{- and -}}. Pipelines (|), variables ($x) and parentheses are refused when parsing.
//
// In HTML mode the context of every action is worked out when parsing, and an action in a
// context stencil does not escape for (a script, an event handler or style attribute, an
// unquoted attribute value, a tag or attribute name, a comment) is a parse error rather
// than a guess. A value is escaped unless it is typed HTML (trusted markup) or CSS (a
// trusted style sheet) by the program.
package stencil

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"
)

// HTML is markup the program vouches for: written as is in element content.
type HTML string

// CSS is a style sheet the program vouches for: written as is in a style element.
type CSS string

// Func is a function templates may call. It gets the evaluated arguments.
type Func func(args ...any) (any, error)

// Set is a set of named templates, each from a {{define}}. Once parsed, a set may be
// executed from several goroutines at once.
type Set struct {
	html  bool
	funcs map[string]Func
	defs  map[string]*definition
}

// definition is one {{define}}: its body and where it was written, for errors.
type definition struct {
	file string
	line int
	body []node
}

// NewText returns an empty set whose templates write values as they are. funcs are the
// functions templates may call beside the built-in ones (eq, ne, lt, le, gt, ge, and, or,
// not).
func NewText(funcs map[string]Func) *Set { return newSet(false, funcs) }

// NewHTML returns an empty set whose templates escape values for their HTML context.
func NewHTML(funcs map[string]Func) *Set { return newSet(true, funcs) }

func newSet(html bool, funcs map[string]Func) *Set {
	return &Set{html: html, funcs: funcs, defs: map[string]*definition{}}
}

// Parse adds the templates defined in src; file names src in errors. Outside {{define}}
// only blanks and comments may appear.
func (s *Set) Parse(file, src string) error {
	defs, err := parse(file, src, s.lookupFunc)
	if err != nil {
		return err
	}
	for name, d := range defs {
		if prev, ok := s.defs[name]; ok {
			return fmt.Errorf("%s:%d: template %q is already defined at %s:%d", d.file, d.line, name, prev.file, prev.line)
		}
		if s.html {
			if err := escapeDefinition(name, d); err != nil {
				return err
			}
		}
	}
	for name, d := range defs {
		s.defs[name] = d
	}
	return nil
}

// ParseFS parses the named files of fsys, in order.
func (s *Set) ParseFS(fsys fs.FS, files ...string) error {
	for _, f := range files {
		b, err := fs.ReadFile(fsys, f)
		if err != nil {
			return fmt.Errorf("read template file: %w", err)
		}
		if err := s.Parse(f, string(b)); err != nil {
			return err
		}
	}
	return nil
}

// Has reports whether the set defines name.
func (s *Set) Has(name string) bool {
	_, ok := s.defs[name]
	return ok
}

// ErrNoTemplate is returned when executing a name the set does not define.
var ErrNoTemplate = errors.New("no such template")

// Execute runs the template name with data as dot and writes its output to w. Nothing is
// written when execution fails.
func (s *Set) Execute(w io.Writer, name string, data any) error {
	var b strings.Builder
	if err := s.run(&b, name, data); err != nil {
		return err
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// ExecuteString runs the template name with data as dot and returns its output.
func (s *Set) ExecuteString(name string, data any) (string, error) {
	var b strings.Builder
	if err := s.run(&b, name, data); err != nil {
		return "", err
	}
	return b.String(), nil
}

func (s *Set) run(b *strings.Builder, name string, data any) error {
	d, ok := s.defs[name]
	if !ok {
		return fmt.Errorf("%w: %q", ErrNoTemplate, name)
	}
	e := &exec{set: s, out: b}
	return e.walk(d, d.body, data)
}

// lookupFunc finds a function by name: the set's own first, then the built-in ones.
func (s *Set) lookupFunc(name string) (Func, bool) {
	if f, ok := s.funcs[name]; ok {
		return f, true
	}
	f, ok := builtins[name]
	return f, ok
}
