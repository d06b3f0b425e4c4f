package stencil

import (
	"fmt"
	"reflect"
	"strings"
)

// maxDepth bounds nested {{template}} calls, so that a template calling itself fails
// instead of exhausting the stack.
const maxDepth = 1000

// exec is one execution of a template.
type exec struct {
	set   *Set
	out   *strings.Builder
	depth int
}

func (e *exec) walk(d *definition, nodes []node, dot any) error {
	for _, n := range nodes {
		switch n := n.(type) {
		case *textNode:
			e.out.WriteString(n.text)
		case *actionNode:
			v, err := e.eval(d, n.line, n.cmd, dot)
			if err != nil {
				return err
			}
			n.esc.write(e.out, v)
		case *branchNode:
			if err := e.branch(d, n, dot); err != nil {
				return err
			}
		case *callNode:
			if err := e.call(d, n, dot); err != nil {
				return err
			}
		}
	}
	return nil
}

func (e *exec) branch(d *definition, n *branchNode, dot any) error {
	v, err := e.eval(d, n.line, n.cmd, dot)
	if err != nil {
		return err
	}
	switch n.keyword {
	case "if":
		if truth(v) {
			return e.walk(d, n.list, dot)
		}
	case "with":
		if truth(v) {
			return e.walk(d, n.list, v)
		}
	case "range":
		rv := reflect.ValueOf(v)
		switch rv.Kind() {
		case reflect.Slice, reflect.Array:
		case reflect.Invalid:
			return e.walk(d, n.elseList, dot)
		default:
			return e.errorf(d, n.line, "{{range}} over %s: only slices and arrays are supported", rv.Type())
		}
		if rv.Len() == 0 {
			return e.walk(d, n.elseList, dot)
		}
		for i := range rv.Len() {
			if err := e.walk(d, n.list, rv.Index(i).Interface()); err != nil {
				return err
			}
		}
		return nil
	}
	return e.walk(d, n.elseList, dot)
}

func (e *exec) call(d *definition, n *callNode, dot any) error {
	callee, ok := e.set.defs[n.name]
	if !ok {
		return e.errorf(d, n.line, "%v: %q", ErrNoTemplate, n.name)
	}
	var arg any
	if n.arg != nil {
		v, err := e.eval(d, n.line, *n.arg, dot)
		if err != nil {
			return err
		}
		arg = v
	}
	if e.depth >= maxDepth {
		return e.errorf(d, n.line, "{{template %q}}: calls nest deeper than %d", n.name, maxDepth)
	}
	e.depth++
	defer func() { e.depth-- }()
	return e.walk(callee, callee.body, arg)
}

// eval evaluates cmd with dot.
func (e *exec) eval(d *definition, line int, cmd command, dot any) (any, error) {
	args := make([]any, len(cmd.args))
	for i, o := range cmd.args {
		v, err := o.eval(dot)
		if err != nil {
			return nil, e.errorf(d, line, "%s: %v", cmd.token, err)
		}
		args[i] = v
	}
	if cmd.fn == nil {
		return args[0], nil
	}
	v, err := cmd.fn(args...)
	if err != nil {
		return nil, e.errorf(d, line, "%s: %v", cmd.name, err)
	}
	return v, nil
}

func (o operand) eval(dot any) (any, error) {
	if o.isConst {
		return o.value, nil
	}
	v := dot
	for _, name := range o.fields {
		f, err := field(v, name)
		if err != nil {
			return nil, err
		}
		v = f
	}
	return v, nil
}

// field is .name of v: a struct's exported field, or a string-keyed map's entry (the
// element type's zero value when the key is missing).
func field(v any, name string) (any, error) {
	rv := reflect.ValueOf(v)
	for rv.Kind() == reflect.Pointer || rv.Kind() == reflect.Interface {
		if rv.IsNil() {
			return nil, fmt.Errorf("nil pointer evaluating .%s", name)
		}
		rv = rv.Elem()
	}
	switch rv.Kind() {
	case reflect.Struct:
		sf, ok := rv.Type().FieldByName(name)
		if !ok || !sf.IsExported() {
			return nil, fmt.Errorf("no exported field %s in %s", name, rv.Type())
		}
		f, err := rv.FieldByIndexErr(sf.Index)
		if err != nil {
			return nil, fmt.Errorf(".%s: %w", name, err)
		}
		return f.Interface(), nil
	case reflect.Map:
		t := rv.Type()
		if t.Key().Kind() != reflect.String {
			return nil, fmt.Errorf(".%s of %s: map keys are not strings", name, t)
		}
		if f := rv.MapIndex(reflect.ValueOf(name).Convert(t.Key())); f.IsValid() {
			return f.Interface(), nil
		}
		return reflect.Zero(t.Elem()).Interface(), nil
	case reflect.Invalid:
		return nil, fmt.Errorf(".%s of nil", name)
	}
	return nil, fmt.Errorf(".%s of %s, which has no fields", name, rv.Type())
}

// truth is what {{if}} and {{with}} test: false for zero values, empty collections and nil.
func truth(v any) bool {
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Invalid:
		return false
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return rv.Len() > 0
	case reflect.Bool:
		return rv.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return rv.Int() != 0
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return rv.Uint() != 0
	case reflect.Float32, reflect.Float64:
		return rv.Float() != 0
	case reflect.Complex64, reflect.Complex128:
		return rv.Complex() != 0
	case reflect.Struct:
		return true
	}
	return !rv.IsNil()
}

// printable is v as text: fmt's default format, nil as nothing, pointers followed to what
// they point at unless they print themselves.
func printable(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case fmt.Stringer, error:
		return fmt.Sprint(v)
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return ""
		}
		return printable(rv.Elem().Interface())
	}
	return fmt.Sprint(v)
}

func (e *exec) errorf(d *definition, line int, format string, args ...any) error {
	return fmt.Errorf("%s:%d: %s", d.file, line, fmt.Sprintf(format, args...))
}
