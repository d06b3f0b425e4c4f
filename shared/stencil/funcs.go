package stencil

import (
	"errors"
	"fmt"
	"reflect"
)

// builtins are the functions every template may call, with text/template's meaning.
var builtins = map[string]Func{
	"eq":  eq,
	"ne":  func(args ...any) (any, error) { return negate(eq(args...)) },
	"lt":  ordered(func(c int) bool { return c < 0 }),
	"le":  ordered(func(c int) bool { return c <= 0 }),
	"gt":  ordered(func(c int) bool { return c > 0 }),
	"ge":  ordered(func(c int) bool { return c >= 0 }),
	"not": not,
	"and": and,
	"or":  or,
}

// eq reports whether its first argument equals any of the others.
func eq(args ...any) (any, error) {
	if len(args) < 2 {
		return nil, errors.New("needs at least two arguments")
	}
	for _, b := range args[1:] {
		c, err := compare(args[0], b)
		if errors.Is(err, errUnordered) {
			if args[0] == nil || b == nil {
				if args[0] == b {
					return true, nil
				}
				continue
			}
			if reflect.TypeOf(args[0]) != reflect.TypeOf(b) || !reflect.TypeOf(b).Comparable() {
				return nil, fmt.Errorf("cannot compare %T with %T", args[0], b)
			}
			if args[0] == b {
				return true, nil
			}
			continue
		}
		if err != nil {
			return nil, err
		}
		if c == 0 {
			return true, nil
		}
	}
	return false, nil
}

func negate(v any, err error) (any, error) {
	if err != nil {
		return nil, err
	}
	return !v.(bool), nil
}

// ordered makes lt, le, gt or ge from what the comparison's sign must satisfy.
func ordered(holds func(int) bool) Func {
	return func(args ...any) (any, error) {
		if len(args) != 2 {
			return nil, errors.New("needs two arguments")
		}
		if basicKind(reflect.ValueOf(args[0])) == kindBool {
			return nil, errors.New("booleans have no order")
		}
		c, err := compare(args[0], args[1])
		if err != nil {
			return nil, err
		}
		return holds(c), nil
	}
}

func not(args ...any) (any, error) {
	if len(args) != 1 {
		return nil, errors.New("needs one argument")
	}
	return !truth(args[0]), nil
}

// and returns its first false argument, or its last.
func and(args ...any) (any, error) {
	if len(args) == 0 {
		return nil, errors.New("needs arguments")
	}
	for _, a := range args {
		if !truth(a) {
			return a, nil
		}
	}
	return args[len(args)-1], nil
}

// or returns its first true argument, or its last.
func or(args ...any) (any, error) {
	if len(args) == 0 {
		return nil, errors.New("needs arguments")
	}
	for _, a := range args {
		if truth(a) {
			return a, nil
		}
	}
	return args[len(args)-1], nil
}

// errUnordered: the values are not both numbers, both strings or both booleans.
var errUnordered = errors.New("not comparable in order")

// compare orders two basic values: numbers (signed and unsigned integers mix), strings,
// or, for equality only, booleans (reported as 0 or 1).
func compare(a, b any) (int, error) {
	x, y := reflect.ValueOf(a), reflect.ValueOf(b)
	kx, ky := basicKind(x), basicKind(y)
	switch {
	case kx == kindNone || ky == kindNone:
		return 0, errUnordered
	case kx == kindInt && ky == kindUint:
		if x.Int() < 0 {
			return -1, nil
		}
		return sign(uint64(x.Int()), y.Uint()), nil
	case kx == kindUint && ky == kindInt:
		if y.Int() < 0 {
			return 1, nil
		}
		return sign(x.Uint(), uint64(y.Int())), nil
	case kx != ky:
		return 0, fmt.Errorf("cannot compare %T with %T", a, b)
	}
	switch kx {
	case kindBool:
		if x.Bool() == y.Bool() {
			return 0, nil
		}
		return 1, nil
	case kindInt:
		return sign(x.Int(), y.Int()), nil
	case kindUint:
		return sign(x.Uint(), y.Uint()), nil
	case kindFloat:
		return sign(x.Float(), y.Float()), nil
	}
	return sign(x.String(), y.String()), nil
}

type kind uint8

const (
	kindNone kind = iota
	kindBool
	kindInt
	kindUint
	kindFloat
	kindString
)

func basicKind(v reflect.Value) kind {
	switch v.Kind() {
	case reflect.Bool:
		return kindBool
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return kindInt
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return kindUint
	case reflect.Float32, reflect.Float64:
		return kindFloat
	case reflect.String:
		return kindString
	}
	return kindNone
}

func sign[T int64 | uint64 | float64 | string](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
