package embedded

import (
	"fmt"
	"maps"

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

// validation is DynamoDB's answer to a request it refuses, as the SDK decodes it.
func validation(format string, args ...any) error {
	return &smithy.GenericAPIError{Code: "ValidationException", Message: fmt.Sprintf(format, args...), Fault: smithy.FaultClient}
}
