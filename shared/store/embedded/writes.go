package embedded

import (
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/truora/minidyn/interpreter"
)

// A change is one write worked out, its condition checked, and not yet made: a
// transaction works out all of its items before it makes any.
type change struct {
	t         *table
	tableName string
	id        string
	old       item // nil when there is none
	new       item // nil deletes
	write     bool // false for a condition check
}

func (c change) apply() {
	if c.write {
		c.t.write(c.id, c.new)
	}
}

// errConditionFailed is a write's condition that does not hold; the change that comes
// with it names the item.
var errConditionFailed = errors.New("the conditional request failed")

const conditionFailedMessage = "The conditional request failed"

// single is the error of a write made alone: a failed condition is a
// ConditionalCheckFailedException, with the item when asked.
func single(err error, c change, rv types.ReturnValuesOnConditionCheckFailure) error {
	if !errors.Is(err, errConditionFailed) {
		return err
	}
	e := &types.ConditionalCheckFailedException{Message: aws.String(conditionFailedMessage)}
	if rv == types.ReturnValuesOnConditionCheckFailureAllOld {
		e.Item = cloneItem(c.old)
	}
	return e
}

// at looks up the item a write names by key, and checks the write's condition on it.
func (b *Backend) at(tableName *string, key item, cond *string, x expression) (change, error) {
	t, err := b.table(tableName)
	if err != nil {
		return change{}, err
	}
	id, err := t.keyOf(key)
	if err != nil {
		return change{}, err
	}
	return t.condition(change{t: t, tableName: aws.ToString(tableName), id: id, old: t.items[id]}, cond, x)
}

func (t *table) condition(c change, cond *string, x expression) (change, error) {
	ok, err := x.matches(cond, interpreter.ExpressionTypeConditional, c.old)
	if err != nil {
		return change{}, err
	}
	if !ok {
		return c, errConditionFailed
	}
	return c, nil
}

func (b *Backend) put(tableName *string, it item, cond *string, x expression) (change, error) {
	if err := x.used(cond); err != nil {
		return change{}, err
	}
	t, err := b.table(tableName)
	if err != nil {
		return change{}, err
	}
	it = cloneItem(it)
	id, err := t.check(it)
	if err != nil {
		return change{}, err
	}
	return t.condition(change{t: t, tableName: aws.ToString(tableName), id: id, old: t.items[id], new: it, write: true}, cond, x)
}

func (b *Backend) update(tableName *string, key item, upd, cond *string, x expression) (change, error) {
	if err := x.used(upd, cond); err != nil {
		return change{}, err
	}
	c, err := b.at(tableName, key, cond, x)
	if err != nil {
		return c, err
	}
	next := c.old
	if next == nil { // UpdateItem creates the item
		next = cloneItem(key)
	}
	if aws.ToString(upd) != "" {
		if next, err = x.update(*upd, next); err != nil {
			return change{}, err
		}
	}
	for _, n := range c.t.primary.keyNames() {
		if !equal(next[n], key[n]) {
			return change{}, validation("One or more parameter values were invalid: Cannot update attribute %s. This attribute is part of the key", n)
		}
	}
	if _, err := c.t.check(next); err != nil {
		return change{}, err
	}
	c.new, c.write = next, true
	return c, nil
}

func (b *Backend) delete(tableName *string, key item, cond *string, x expression) (change, error) {
	if err := x.used(cond); err != nil {
		return change{}, err
	}
	c, err := b.at(tableName, key, cond, x)
	if err != nil {
		return c, err
	}
	c.write = true
	return c, nil
}

func (b *Backend) check(tableName *string, key item, cond *string, x expression) (change, error) {
	if err := x.used(cond); err != nil {
		return change{}, err
	}
	return b.at(tableName, key, cond, x)
}
