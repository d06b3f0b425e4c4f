package embedded

import (
	"fmt"
	"slices"
	"sort"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// A table holds its items by primary key, and keeps its primary index and each global
// secondary index ordered: a map from partition key to the partition's entries, sorted by
// sort key. A query reads one partition; a write moves one item's entries.
type table struct {
	desc    types.TableDescription
	types   map[string]types.ScalarAttributeType // of the key attributes
	items   map[string]item                      // by encoded primary key
	primary *index
	indexes map[string]*index // global secondary indexes, by name
}

// An index orders items by its keys: hash names the partition key attribute, rng the sort
// key attribute ("" for none).
type index struct {
	name       string // "" for the table's primary index
	hash, rng  string
	projection types.Projection
	parts      map[string][]entry // by encoded partition key value
}

// An entry places an item in an index: by its sort key value, then (items of a secondary
// index may share their keys) by its primary key.
type entry struct {
	sort types.AttributeValue // nil without a sort key
	id   string               // the item's encoded primary key
}

func newTable(in *dynamodb.CreateTableInput) (*table, error) {
	t := &table{
		types:   map[string]types.ScalarAttributeType{},
		items:   map[string]item{},
		indexes: map[string]*index{},
	}
	for _, d := range in.AttributeDefinitions {
		t.types[aws.ToString(d.AttributeName)] = d.AttributeType
	}
	var err error
	if t.primary, err = t.newIndex("", in.KeySchema, types.Projection{ProjectionType: types.ProjectionTypeAll}); err != nil {
		return nil, err
	}
	desc := types.TableDescription{
		TableName:            in.TableName,
		TableArn:             aws.String("arn:aws:dynamodb:us-east-1:000000000000:table/" + aws.ToString(in.TableName)),
		TableStatus:          types.TableStatusActive,
		KeySchema:            in.KeySchema,
		AttributeDefinitions: in.AttributeDefinitions,
	}
	if in.BillingMode != "" {
		desc.BillingModeSummary = &types.BillingModeSummary{BillingMode: in.BillingMode}
	}
	for _, g := range in.GlobalSecondaryIndexes {
		name := aws.ToString(g.IndexName)
		if _, dup := t.indexes[name]; dup {
			return nil, validation("One or more parameter values were invalid: Duplicate index name: %s", name)
		}
		var p types.Projection
		if g.Projection != nil {
			p = *g.Projection
		}
		if t.indexes[name], err = t.newIndex(name, g.KeySchema, p); err != nil {
			return nil, err
		}
		desc.GlobalSecondaryIndexes = append(desc.GlobalSecondaryIndexes, types.GlobalSecondaryIndexDescription{
			IndexName: g.IndexName, KeySchema: g.KeySchema, Projection: g.Projection, IndexStatus: types.IndexStatusActive,
		})
	}
	t.desc = desc
	return t, nil
}

func (t *table) newIndex(name string, schema []types.KeySchemaElement, p types.Projection) (*index, error) {
	ix := &index{name: name, projection: p, parts: map[string][]entry{}}
	for _, k := range schema {
		attr := aws.ToString(k.AttributeName)
		if t.types[attr] == "" {
			return nil, validation("One or more parameter values were invalid: Some index key attributes are not defined in AttributeDefinitions. Keys: [%s]", attr)
		}
		switch k.KeyType {
		case types.KeyTypeHash:
			ix.hash = attr
		case types.KeyTypeRange:
			ix.rng = attr
		}
	}
	if ix.hash == "" {
		return nil, validation("One or more parameter values were invalid: no hash key in the key schema of %q", name)
	}
	return ix, nil
}

// keyNames are the attributes of the index's key.
func (ix *index) keyNames() []string {
	if ix.rng == "" {
		return []string{ix.hash}
	}
	return []string{ix.hash, ix.rng}
}

// keyOf returns the primary key of a Key parameter, which must name the key attributes and
// nothing else.
func (t *table) keyOf(key item) (string, error) {
	names := t.primary.keyNames()
	if len(key) != len(names) {
		return "", validation("The provided key element does not match the schema")
	}
	vs := make([]types.AttributeValue, len(names))
	for i, n := range names {
		v, ok := key[n]
		if !ok || scalarType(v) != t.types[n] {
			return "", validation("The provided key element does not match the schema")
		}
		if empty(v) {
			return "", validation("One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty %s value. Key: %s", kind(v), n)
		}
		if err := fits(v, n == t.primary.hash); err != nil {
			return "", err
		}
		vs[i] = v
	}
	return encodeKey(vs...), nil
}

// check validates an item about to be written: the table's key attributes present and of
// their type, the indexes' key attributes of their type where present.
func (t *table) check(it item) (string, error) {
	for _, n := range t.primary.keyNames() {
		v, ok := it[n]
		if !ok {
			return "", validation("One or more parameter values were invalid: Missing the key %s in the item", n)
		}
		if typ := scalarType(v); typ != t.types[n] {
			return "", validation("One or more parameter values were invalid: Type mismatch for key %s expected: %s actual: %s", n, t.types[n], typ)
		}
	}
	id, err := t.keyOf(subset(it, t.primary.keyNames()...))
	if err != nil {
		return "", err
	}
	for _, ix := range t.indexes {
		for _, n := range ix.keyNames() {
			v, ok := it[n]
			if !ok {
				continue
			}
			if typ := scalarType(v); typ != t.types[n] {
				return "", validation("One or more parameter values were invalid: Type mismatch for Index Key %s Expected: %s Actual: %s IndexName: %s", n, t.types[n], typ, ix.name)
			}
			if empty(v) {
				return "", validation("One or more parameter values are not valid. A value specified for a secondary index key is not supported. The AttributeValue for a key attribute cannot contain an empty %s value. IndexName: %s, IndexKey: %s", kind(v), ix.name, n)
			}
			if err := fits(v, n == ix.hash); err != nil {
				return "", err
			}
		}
	}
	return id, nil
}

// DynamoDB's bounds on a key attribute's value, in bytes.
const (
	maxPartitionKey = 2048
	maxSortKey      = 1024
)

// fits refuses a key value over DynamoDB's bounds, as DynamoDB does.
func fits(v types.AttributeValue, partition bool) error {
	n := 0
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		n = len(v.Value)
	case *types.AttributeValueMemberB:
		n = len(v.Value)
	}
	switch {
	case partition && n > maxPartitionKey:
		return validation("One or more parameter values were invalid: Size of hashkey has exceeded the maximum size limit of %d bytes", maxPartitionKey)
	case !partition && n > maxSortKey:
		return validation("One or more parameter values were invalid: Aggregated size of all range keys has exceeded the size limit of %d bytes", maxSortKey)
	}
	return nil
}

func kind(v types.AttributeValue) string {
	if _, ok := v.(*types.AttributeValueMemberB); ok {
		return "binary"
	}
	return "string"
}

// write replaces the item with primary key id by it (nil deletes it), and moves its
// entries in every index.
func (t *table) write(id string, it item) {
	old := t.items[id]
	for _, ix := range t.all() {
		ix.remove(id, old)
		ix.insert(id, it)
	}
	if it == nil {
		delete(t.items, id)
		return
	}
	t.items[id] = it
}

func (t *table) all() []*index {
	out := []*index{t.primary}
	for _, ix := range t.indexes {
		out = append(out, ix)
	}
	return out
}

// placed returns where it goes in the index: its partition and entry, and false when it
// lacks the index's keys (a secondary index is sparse).
func (ix *index) placed(id string, it item) (string, entry, bool) {
	h, ok := it[ix.hash]
	if !ok {
		return "", entry{}, false
	}
	e := entry{id: id}
	if ix.rng != "" {
		if e.sort, ok = it[ix.rng]; !ok {
			return "", entry{}, false
		}
	}
	return encodeKey(h), e, true
}

func (ix *index) insert(id string, it item) {
	part, e, ok := ix.placed(id, it)
	if !ok {
		return
	}
	entries := ix.parts[part]
	i, _ := ix.search(entries, e)
	ix.parts[part] = slices.Insert(entries, i, e)
}

func (ix *index) remove(id string, it item) {
	part, e, ok := ix.placed(id, it)
	if !ok {
		return
	}
	entries := ix.parts[part]
	if i, found := ix.search(entries, e); found {
		entries = slices.Delete(entries, i, i+1)
	}
	if len(entries) == 0 {
		delete(ix.parts, part)
		return
	}
	ix.parts[part] = entries
}

// search finds e's position in entries.
func (ix *index) search(entries []entry, e entry) (int, bool) {
	return slices.BinarySearchFunc(entries, e, compareEntries)
}

func compareEntries(a, b entry) int {
	if a.sort != nil {
		if c := compareKeys(a.sort, b.sort); c != 0 {
			return c
		}
	}
	switch {
	case a.id < b.id:
		return -1
	case a.id > b.id:
		return 1
	}
	return 0
}

// span returns the range [lo, hi) of entries whose sort key satisfies c.
func span(entries []entry, c *sortCondition) (lo, hi int) {
	if c == nil {
		return 0, len(entries)
	}
	atLeast := func(v types.AttributeValue) int {
		return sort.Search(len(entries), func(i int) bool { return compareKeys(entries[i].sort, v) >= 0 })
	}
	above := func(v types.AttributeValue) int {
		return sort.Search(len(entries), func(i int) bool { return compareKeys(entries[i].sort, v) > 0 })
	}
	switch c.op {
	case "=":
		return atLeast(c.values[0]), above(c.values[0])
	case "<":
		return 0, atLeast(c.values[0])
	case "<=":
		return 0, above(c.values[0])
	case ">":
		return above(c.values[0]), len(entries)
	case ">=":
		return atLeast(c.values[0]), len(entries)
	case "BETWEEN":
		lo, hi = atLeast(c.values[0]), above(c.values[1])
		return lo, max(lo, hi)
	case "begins_with":
		lo = atLeast(c.values[0])
		hi = lo + sort.Search(len(entries)-lo, func(i int) bool { return !hasPrefix(entries[lo+i].sort, c.values[0]) })
		return lo, hi
	}
	panic(fmt.Sprintf("sort condition %q", c.op)) // parseKeyCondition makes no other
}
