package asl

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"strconv"
	"strings"
)

// JSON values are handled as decoded by encoding/json with UseNumber: map[string]any,
// []any, string, json.Number, bool and nil. They are never modified in place: several
// states (and Map iterations) may share one value, so writes copy along their path.

// decodeJSON decodes exactly one JSON value.
func decodeJSON(data []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, errors.New("unexpected data after the JSON value")
	}
	return v, nil
}

// encodeJSON encodes a value that came from decodeJSON, which cannot fail.
func encodeJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("asl: encode decoded JSON: %v", err))
	}
	return b
}

// path is a JSONPath reference path: $ (the state's data) or $$ (the context object),
// then field names (.name or ['name']) and array indexes ([0]). Wildcards, filters, slices
// and recursive descent are not supported.
type path struct {
	text    string
	context bool
	steps   []pathStep
}

type pathStep struct {
	field   string
	index   int
	isIndex bool
}

func parsePath(text string) (path, error) {
	p := path{text: text}
	rest, ok := strings.CutPrefix(text, "$")
	if !ok {
		return p, fmt.Errorf("path %q does not start with $", text)
	}
	if r, ok := strings.CutPrefix(rest, "$"); ok {
		p.context, rest = true, r
	}
	for rest != "" {
		switch rest[0] {
		case '.':
			rest = rest[1:]
			end := strings.IndexAny(rest, ".[")
			if end < 0 {
				end = len(rest)
			}
			name := rest[:end]
			if name == "" || strings.ContainsAny(name, "*@?()'\"") {
				return p, fmt.Errorf("path %q: only plain field names, indexes and ['name'] are supported", text)
			}
			p.steps = append(p.steps, pathStep{field: name})
			rest = rest[end:]
		case '[':
			end := strings.IndexByte(rest, ']')
			if end < 0 {
				return p, fmt.Errorf("path %q: unclosed [", text)
			}
			inner := rest[1:end]
			rest = rest[end+1:]
			if name, ok := strings.CutPrefix(inner, "'"); ok && strings.HasSuffix(name, "'") && len(name) > 1 {
				p.steps = append(p.steps, pathStep{field: name[:len(name)-1]})
				continue
			}
			i, err := strconv.Atoi(inner)
			if err != nil || i < 0 {
				return p, fmt.Errorf("path %q: only plain field names, indexes and ['name'] are supported", text)
			}
			p.steps = append(p.steps, pathStep{index: i, isIndex: true})
		default:
			return p, fmt.Errorf("path %q: unexpected %q", text, rest[0])
		}
	}
	return p, nil
}

// lookup returns the value the path selects in data (or in the context object for $$
// paths), and whether it exists.
func (p path) lookup(data, contextObject any) (any, bool) {
	v := data
	if p.context {
		v = contextObject
	}
	for _, s := range p.steps {
		if s.isIndex {
			a, ok := v.([]any)
			if !ok || s.index >= len(a) {
				return nil, false
			}
			v = a[s.index]
			continue
		}
		m, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = m[s.field]; !ok {
			return nil, false
		}
	}
	return v, true
}

// set returns a copy of doc with value placed where the path points, creating missing
// objects on the way. It fails when the way crosses a value that is not an object.
func (p path) set(doc, value any) (any, error) {
	return setAt(p.text, doc, p.steps, value)
}

func setAt(text string, doc any, steps []pathStep, value any) (any, error) {
	if len(steps) == 0 {
		return value, nil
	}
	var obj map[string]any
	switch d := doc.(type) {
	case map[string]any:
		obj = maps.Clone(d)
	case nil:
		obj = map[string]any{}
	default:
		return nil, fmt.Errorf("path %q crosses a value that is not an object", text)
	}
	child, err := setAt(text, obj[steps[0].field], steps[1:], value)
	if err != nil {
		return nil, err
	}
	obj[steps[0].field] = child
	return obj, nil
}

// optionalPath is an InputPath, OutputPath or ResultPath: absent means $, null means
// discard (InputPath and OutputPath then give {}, ResultPath keeps the state's input).
type optionalPath struct {
	path
	discard bool
}

var rootPath = path{text: "$"}

// selectFrom applies an InputPath or OutputPath.
func (p optionalPath) selectFrom(data any) (any, *failure) {
	if p.discard {
		return map[string]any{}, nil
	}
	v, ok := p.lookup(data, nil)
	if !ok {
		return nil, &failure{Error: errRuntime, Cause: fmt.Sprintf("Invalid path %q: the path does not match the state's data", p.text)}
	}
	return v, nil
}

// merge applies a ResultPath: it places result into the state's input.
func (p optionalPath) merge(input, result any) (any, *failure) {
	if p.discard {
		return input, nil
	}
	out, err := p.set(input, result)
	if err != nil {
		return nil, &failure{Error: errResultPathMatchFailure, Cause: fmt.Sprintf("Unable to apply ResultPath %q: %v", p.text, err)}
	}
	return out, nil
}

// template is a compiled Parameters, ItemSelector or ResultSelector object: a field whose
// name ends in ".$" takes the value its path selects; other values are copied as they are,
// nested objects are templates too.
type template struct {
	fields []templateField
}

type templateField struct {
	name   string
	path   *path
	nested *template
	value  any
}

func compileTemplate(raw json.RawMessage) (*template, error) {
	v, err := decodeJSON(raw)
	if err != nil {
		return nil, err
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("must be a JSON object")
	}
	return compileObject(obj)
}

func compileObject(obj map[string]any) (*template, error) {
	t := &template{}
	for name, v := range obj {
		if base, ok := strings.CutSuffix(name, ".$"); ok {
			s, ok := v.(string)
			if !ok {
				return nil, fmt.Errorf("field %q: a .$ field needs a path string", name)
			}
			if strings.HasPrefix(s, "States.") {
				return nil, fmt.Errorf("field %q: intrinsic functions are not supported", name)
			}
			p, err := parsePath(s)
			if err != nil {
				return nil, fmt.Errorf("field %q: %w", name, err)
			}
			t.fields = append(t.fields, templateField{name: base, path: &p})
			continue
		}
		if nested, ok := v.(map[string]any); ok {
			child, err := compileObject(nested)
			if err != nil {
				return nil, fmt.Errorf("field %q: %w", name, err)
			}
			t.fields = append(t.fields, templateField{name: name, nested: child})
			continue
		}
		t.fields = append(t.fields, templateField{name: name, value: v})
	}
	return t, nil
}

// field returns the template's field with the given name (without .$), if any.
func (t *template) field(name string) (templateField, bool) {
	for _, f := range t.fields {
		if f.name == name {
			return f, true
		}
	}
	return templateField{}, false
}

// resolve builds the object the template describes from the data and the context object.
func (t *template) resolve(data, contextObject any) (map[string]any, *failure) {
	out := make(map[string]any, len(t.fields))
	for _, f := range t.fields {
		switch {
		case f.path != nil:
			v, ok := f.path.lookup(data, contextObject)
			if !ok {
				return nil, &failure{Error: errParameterPathFailure, Cause: fmt.Sprintf("The JSONPath %q specified for the field %q could not be found in the input", f.path.text, f.name+".$")}
			}
			out[f.name] = v
		case f.nested != nil:
			v, fail := f.nested.resolve(data, contextObject)
			if fail != nil {
				return nil, fail
			}
			out[f.name] = v
		default:
			out[f.name] = f.value
		}
	}
	return out, nil
}
