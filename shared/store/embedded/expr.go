package embedded

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/smithy-go"
	"github.com/truora/minidyn/interpreter"
)

// Condition, filter, update and projection expressions are minidyn's interpreter's to
// evaluate; this package only finds the items they apply to.
var lang interpreter.Language

// expression is what every expression is evaluated with.
type expression struct {
	names  map[string]string
	values item
}

// matches reports whether it satisfies the condition or filter expr (true when expr is
// empty); it is nil for a missing item, which satisfies attribute_not_exists.
func (x expression) matches(expr *string, typ interpreter.ExpressionType, it item) (bool, error) {
	if aws.ToString(expr) == "" {
		return true, nil
	}
	ok, err := lang.Match(interpreter.MatchInput{
		Expression: *expr, ExpressionType: typ, Item: toMini(it), Attributes: toMini(x.values), Aliases: x.names,
	})
	if err != nil {
		label := "ConditionExpression"
		if typ == interpreter.ExpressionTypeFilter {
			label = "FilterExpression"
		}
		return false, validation("Invalid %s: %v", label, err)
	}
	return ok, nil
}

// update returns a copy of it changed by the update expression expr.
func (x expression) update(expr string, it item) (item, error) {
	m := toMini(it)
	before := maps.Clone(m)
	err := lang.Update(interpreter.UpdateInput{Expression: expr, Item: m, Attributes: toMini(x.values), Aliases: x.names})
	if err != nil {
		return nil, validation("Invalid UpdateExpression: %v", err)
	}
	// The interpreter writes back every attribute it still holds, each as a new value, and
	// leaves the removed ones as they were: those are the ones to drop.
	for k, v := range m {
		if before[k] == v {
			delete(m, k)
		}
	}
	return fromMini(m), nil
}

// project returns the attributes of it that the projection expression expr names (all of
// them when expr is empty).
func (x expression) project(expr *string, it item) (item, error) {
	if aws.ToString(expr) == "" {
		return it, nil
	}
	out, err := lang.Project(interpreter.ProjectInput{Expression: *expr, Item: toMini(it), Aliases: x.names})
	if err != nil {
		return nil, validation("Invalid ProjectionExpression: %v", err)
	}
	return fromMini(out), nil
}

// used refuses the expression attribute names and values that none of exprs uses, as
// DynamoDB does.
func (x expression) used(exprs ...*string) error {
	var all strings.Builder
	for _, e := range exprs {
		all.WriteString(aws.ToString(e) + " ")
	}
	refs := map[string]bool{}
	for _, p := range placeholder.FindAllString(all.String(), -1) {
		refs[p] = true
	}
	if keys := unused(x.names, refs); keys != "" {
		return validation("Value provided in ExpressionAttributeNames unused in expressions: keys: {%s}", keys)
	}
	if keys := unused(x.values, refs); keys != "" {
		return validation("Value provided in ExpressionAttributeValues unused in expressions: keys: {%s}", keys)
	}
	return nil
}

var placeholder = regexp.MustCompile(`[#:][A-Za-z0-9_]+`)

func unused[V any](m map[string]V, refs map[string]bool) string {
	var keys []string
	for k := range m {
		if !refs[k] {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return strings.Join(keys, ", ")
}

// validation is DynamoDB's answer to a request it refuses, as the SDK decodes it.
func validation(format string, args ...any) error {
	return &smithy.GenericAPIError{Code: "ValidationException", Message: fmt.Sprintf(format, args...), Fault: smithy.FaultClient}
}
