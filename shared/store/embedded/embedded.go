// Package embedded is the in-process, DynamoDB-compatible backend of the local stack and of
// the store tests that need no emulator. It implements the SDK client's methods that the
// store calls (store.API) in memory, indexed so that no call grows with the table:
//   - each table, and each global secondary index, keeps its items by partition key, each
//     partition sorted by sort key: a Query reads only its partition, from the first item
//     its key condition admits; a GetItem, a batch's key or a transaction's item is one map
//     lookup;
//   - a write moves one item's entries in each index, keeping the sparse indexes sparse and
//     the projections of DynamoDB's definitions (ALL, KEYS_ONLY, INCLUDE);
//   - a transaction checks every item's condition first and applies its writes only when
//     all pass, under the backend's one lock; otherwise it is cancelled with a reason for
//     every item, in order ("None" for those that passed), as DynamoDB does.
//
// Condition, filter, update and projection expressions are evaluated by minidyn's
// interpreter (github.com/truora/minidyn); key conditions, which select the items a query
// reads, are resolved here.
//
// It answers as DynamoDB documents: ConditionalCheckFailedException and
// TransactionCanceledException (with the old item when ReturnValuesOnConditionCheckFailure
// asks), ReturnValues, Limit, ExclusiveStartKey and LastEvaluatedKey (given whenever the
// limit stopped a query, even at the partition's end), ScanIndexForward, Select COUNT, and
// a ValidationException for keys that do not match the schema or are over DynamoDB's
// bounds (empty, or past 2048 bytes for a partition key, 1024 for a sort key), duplicate
// keys in a batch or a transaction, batches or transactions over DynamoDB's sizes, and
// expression attribute names or values that no expression uses.
//
// It does not: throttle, leave batch items unprocessed, page at 1 MB, lag behind on its
// indexes (they are strongly consistent), purge by TTL, conflict between concurrent
// transactions (they run one at a time), shuffle a BatchGetItem's answer (it keeps the
// keys' order, which DynamoDB does not promise), or implement the calls the store does not
// make (Scan, DeleteItem, TransactGetItems, streams). The store's retries and purge
// handling are therefore not exercised on it.
package embedded

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
	"github.com/truora/minidyn/interpreter"

	"github.com/servicecontacts/servicecontacts/shared/store"
)

// Backend is an in-memory DynamoDB. Its methods are safe for concurrent use.
type Backend struct {
	mu     sync.RWMutex
	tables map[string]*table
}

var _ store.API = (*Backend)(nil)

// New returns an empty in-memory backend. store.CreateTables creates the tables and their
// indexes on it as on DynamoDB.
func New() *Backend {
	return &Backend{tables: map[string]*table{}}
}

// DynamoDB's limits on a call's size.
const (
	maxBatchGet      = 100
	maxBatchWrite    = 25
	maxTransactItems = 100
)

// call runs an operation as the SDK would: not at all once ctx is done, and with its error
// wrapped in the operation's name.
func call[T any](ctx context.Context, op string, f func() (*T, error)) (*T, error) {
	if err := ctx.Err(); err != nil {
		return nil, &smithy.OperationError{ServiceID: "DynamoDB", OperationName: op, Err: err}
	}
	out, err := f()
	if err != nil {
		return nil, &smithy.OperationError{ServiceID: "DynamoDB", OperationName: op, Err: err}
	}
	return out, nil
}

func (b *Backend) table(name *string) (*table, error) {
	t, ok := b.tables[aws.ToString(name)]
	if !ok {
		return nil, &types.ResourceNotFoundException{Message: aws.String("Requested resource not found")}
	}
	return t, nil
}

// CreateTable creates a table and its global secondary indexes, active at once.
func (b *Backend) CreateTable(ctx context.Context, in *dynamodb.CreateTableInput, _ ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error) {
	return call(ctx, "CreateTable", func() (*dynamodb.CreateTableOutput, error) {
		b.mu.Lock()
		defer b.mu.Unlock()
		name := aws.ToString(in.TableName)
		if _, exists := b.tables[name]; exists {
			return nil, &types.ResourceInUseException{Message: aws.String("Cannot create preexisting table")}
		}
		t, err := newTable(in)
		if err != nil {
			return nil, err
		}
		b.tables[name] = t
		desc := t.desc
		return &dynamodb.CreateTableOutput{TableDescription: &desc}, nil
	})
}

// DescribeTable describes a table, always active.
func (b *Backend) DescribeTable(ctx context.Context, in *dynamodb.DescribeTableInput, _ ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error) {
	return call(ctx, "DescribeTable", func() (*dynamodb.DescribeTableOutput, error) {
		b.mu.RLock()
		defer b.mu.RUnlock()
		t, ok := b.tables[aws.ToString(in.TableName)]
		if !ok {
			return nil, &types.ResourceNotFoundException{Message: aws.String("Requested resource not found: Table: " + aws.ToString(in.TableName) + " not found")}
		}
		desc := t.desc
		desc.ItemCount = aws.Int64(int64(len(t.items)))
		return &dynamodb.DescribeTableOutput{Table: &desc}, nil
	})
}

// GetItem reads an item; a missing one is an output without Item.
func (b *Backend) GetItem(ctx context.Context, in *dynamodb.GetItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	return call(ctx, "GetItem", func() (*dynamodb.GetItemOutput, error) {
		b.mu.RLock()
		defer b.mu.RUnlock()
		t, err := b.table(in.TableName)
		if err != nil {
			return nil, err
		}
		x := expression{names: in.ExpressionAttributeNames}
		if err := x.used(in.ProjectionExpression); err != nil {
			return nil, err
		}
		id, err := t.keyOf(in.Key)
		if err != nil {
			return nil, err
		}
		it, ok := t.items[id]
		if !ok {
			return &dynamodb.GetItemOutput{}, nil
		}
		out, err := x.project(in.ProjectionExpression, it)
		if err != nil {
			return nil, err
		}
		return &dynamodb.GetItemOutput{Item: cloneItem(out)}, nil
	})
}

// PutItem writes an item if its condition holds.
func (b *Backend) PutItem(ctx context.Context, in *dynamodb.PutItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	return call(ctx, "PutItem", func() (*dynamodb.PutItemOutput, error) {
		if in.ReturnValues != "" && in.ReturnValues != types.ReturnValueNone && in.ReturnValues != types.ReturnValueAllOld {
			return nil, validation("ReturnValues can only be ALL_OLD or NONE")
		}
		b.mu.Lock()
		defer b.mu.Unlock()
		c, err := b.put(in.TableName, in.Item, in.ConditionExpression, expression{in.ExpressionAttributeNames, in.ExpressionAttributeValues})
		if err != nil {
			return nil, single(err, c, in.ReturnValuesOnConditionCheckFailure)
		}
		c.apply()
		out := &dynamodb.PutItemOutput{}
		if in.ReturnValues == types.ReturnValueAllOld {
			out.Attributes = cloneItem(c.old)
		}
		return out, nil
	})
}

// UpdateItem changes an item, or creates it, if its condition holds.
func (b *Backend) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	return call(ctx, "UpdateItem", func() (*dynamodb.UpdateItemOutput, error) {
		switch in.ReturnValues {
		case "", types.ReturnValueNone, types.ReturnValueAllOld, types.ReturnValueAllNew, types.ReturnValueUpdatedOld, types.ReturnValueUpdatedNew:
		default:
			return nil, validation("ReturnValues is not one of NONE, ALL_OLD, UPDATED_OLD, ALL_NEW, UPDATED_NEW: %s", in.ReturnValues)
		}
		b.mu.Lock()
		defer b.mu.Unlock()
		c, err := b.update(in.TableName, in.Key, in.UpdateExpression, in.ConditionExpression, expression{in.ExpressionAttributeNames, in.ExpressionAttributeValues})
		if err != nil {
			return nil, single(err, c, in.ReturnValuesOnConditionCheckFailure)
		}
		c.apply()
		var attrs item
		switch updated := append(changed(c.new, c.old), changed(c.old, c.new)...); in.ReturnValues {
		case types.ReturnValueAllOld:
			attrs = c.old
		case types.ReturnValueAllNew:
			attrs = c.new
		case types.ReturnValueUpdatedOld:
			attrs = subset(c.old, updated...)
		case types.ReturnValueUpdatedNew:
			attrs = subset(c.new, updated...)
		}
		if len(attrs) == 0 {
			attrs = nil
		}
		return &dynamodb.UpdateItemOutput{Attributes: cloneItem(attrs)}, nil
	})
}

// Query reads the items of one partition of the table or of an index, in sort key order,
// from the first its key condition and ExclusiveStartKey admit, until Limit items are read.
func (b *Backend) Query(ctx context.Context, in *dynamodb.QueryInput, _ ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	return call(ctx, "Query", func() (*dynamodb.QueryOutput, error) {
		b.mu.RLock()
		defer b.mu.RUnlock()
		t, err := b.table(in.TableName)
		if err != nil {
			return nil, err
		}
		ix := t.primary
		if in.IndexName != nil {
			if ix = t.indexes[*in.IndexName]; ix == nil {
				return nil, validation("The table does not have the specified index: %s", *in.IndexName)
			}
			if aws.ToBool(in.ConsistentRead) {
				return nil, validation("Consistent reads are not supported on global secondary indexes")
			}
		}
		if in.KeyConditionExpression == nil {
			return nil, validation("Either the KeyConditions or KeyConditionExpression parameter must be specified in the request.")
		}
		if in.Limit != nil && *in.Limit < 1 {
			return nil, validation("1 validation error detected: Value '%d' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1", *in.Limit)
		}
		x := expression{in.ExpressionAttributeNames, in.ExpressionAttributeValues}
		if err := x.used(in.KeyConditionExpression, in.FilterExpression, in.ProjectionExpression); err != nil {
			return nil, err
		}
		kc, err := parseKeyCondition(*in.KeyConditionExpression, x.names, x.values, ix, t.types)
		if err != nil {
			return nil, err
		}
		entries := ix.parts[encodeKey(kc.hash)]
		lo, hi := span(entries, kc.sort)
		forward := in.ScanIndexForward == nil || *in.ScanIndexForward
		if len(in.ExclusiveStartKey) > 0 {
			start, err := t.startEntry(ix, in.ExclusiveStartKey)
			if err != nil {
				return nil, err
			}
			pos, found := ix.search(entries, start)
			if forward {
				if found {
					pos++
				}
				lo = max(lo, pos)
			} else {
				hi = min(hi, pos)
			}
		}

		out := &dynamodb.QueryOutput{}
		limit := int(aws.ToInt32(in.Limit))
		for i := range max(hi-lo, 0) {
			e := entries[lo+i]
			if !forward {
				e = entries[hi-1-i]
			}
			it := t.items[e.id]
			out.ScannedCount++
			ok, err := x.matches(in.FilterExpression, interpreter.ExpressionTypeFilter, it)
			if err != nil {
				return nil, err
			}
			if ok {
				out.Count++
				if in.Select != types.SelectCount {
					projected, err := x.project(in.ProjectionExpression, t.projected(ix, it))
					if err != nil {
						return nil, err
					}
					out.Items = append(out.Items, cloneItem(projected))
				}
			}
			if int(out.ScannedCount) == limit {
				out.LastEvaluatedKey = cloneItem(subset(it, slices.Concat(t.primary.keyNames(), ix.keyNames())...))
				break
			}
		}
		return out, nil
	})
}

// startEntry places an ExclusiveStartKey in ix: it holds the table's key and the index's.
func (t *table) startEntry(ix *index, key item) (entry, error) {
	names := slices.Concat(t.primary.keyNames(), ix.keyNames())
	for _, n := range names {
		if _, ok := key[n]; !ok {
			return entry{}, validation("The provided starting key is invalid: The provided key element does not match the schema")
		}
	}
	id, err := t.keyOf(subset(key, t.primary.keyNames()...))
	if err != nil {
		return entry{}, validation("The provided starting key is invalid: %v", err)
	}
	e := entry{id: id}
	if ix.rng != "" {
		e.sort = key[ix.rng]
		if scalarType(e.sort) != t.types[ix.rng] {
			return entry{}, validation("The provided starting key is invalid: The provided key element does not match the schema")
		}
	}
	return e, nil
}

// projected is what a query on ix sees of it: the attributes the index projects.
func (t *table) projected(ix *index, it item) item {
	switch ix.projection.ProjectionType {
	case types.ProjectionTypeKeysOnly:
		return subset(it, slices.Concat(t.primary.keyNames(), ix.keyNames())...)
	case types.ProjectionTypeInclude:
		return subset(it, slices.Concat(t.primary.keyNames(), ix.keyNames(), ix.projection.NonKeyAttributes)...)
	}
	return it
}

// BatchGetItem reads items by key; those missing are left out, and no key is ever left
// unprocessed.
func (b *Backend) BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	return call(ctx, "BatchGetItem", func() (*dynamodb.BatchGetItemOutput, error) {
		b.mu.RLock()
		defer b.mu.RUnlock()
		n := 0
		for _, ka := range in.RequestItems {
			n += len(ka.Keys)
		}
		if err := batchSize(n, maxBatchGet, "BatchGetItem"); err != nil {
			return nil, err
		}
		out := &dynamodb.BatchGetItemOutput{
			Responses:       map[string][]map[string]types.AttributeValue{},
			UnprocessedKeys: map[string]types.KeysAndAttributes{},
		}
		for name, ka := range in.RequestItems {
			t, err := b.table(&name)
			if err != nil {
				return nil, err
			}
			x := expression{names: ka.ExpressionAttributeNames}
			if err := x.used(ka.ProjectionExpression); err != nil {
				return nil, err
			}
			seen := map[string]bool{}
			items := []map[string]types.AttributeValue{}
			for _, key := range ka.Keys {
				id, err := t.keyOf(key)
				if err != nil {
					return nil, err
				}
				if seen[id] {
					return nil, validation("Provided list of item keys contains duplicates")
				}
				seen[id] = true
				it, ok := t.items[id]
				if !ok {
					continue
				}
				projected, err := x.project(ka.ProjectionExpression, it)
				if err != nil {
					return nil, err
				}
				items = append(items, cloneItem(projected))
			}
			out.Responses[name] = items
		}
		return out, nil
	})
}

// BatchWriteItem puts and deletes items, unconditionally, all of them: none is ever left
// unprocessed.
func (b *Backend) BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	return call(ctx, "BatchWriteItem", func() (*dynamodb.BatchWriteItemOutput, error) {
		b.mu.Lock()
		defer b.mu.Unlock()
		n := 0
		for _, reqs := range in.RequestItems {
			n += len(reqs)
		}
		if err := batchSize(n, maxBatchWrite, "BatchWriteItem"); err != nil {
			return nil, err
		}
		var changes []change
		for name, reqs := range in.RequestItems {
			seen := map[string]bool{}
			for _, r := range reqs {
				var c change
				var err error
				switch {
				case r.PutRequest != nil && r.DeleteRequest == nil:
					c, err = b.put(&name, r.PutRequest.Item, nil, expression{})
				case r.DeleteRequest != nil && r.PutRequest == nil:
					c, err = b.delete(&name, r.DeleteRequest.Key, nil, expression{})
				default:
					err = validation("Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes")
				}
				if err != nil {
					return nil, err
				}
				if seen[c.id] {
					return nil, validation("Provided list of item keys contains duplicates")
				}
				seen[c.id] = true
				changes = append(changes, c)
			}
		}
		for _, c := range changes {
			c.apply()
		}
		return &dynamodb.BatchWriteItemOutput{UnprocessedItems: map[string][]types.WriteRequest{}}, nil
	})
}

// batchSize refuses a batch of n items, none or more than most, as DynamoDB does.
func batchSize(n, most int, op string) error {
	switch {
	case n == 0:
		return validation("1 validation error detected: Value '{}' at 'requestItems' failed to satisfy constraint: Member must have length greater than or equal to 1")
	case n > most:
		return validation("Too many items requested for the %s call", op)
	}
	return nil
}

// TransactWriteItems checks every item's condition, then makes every write, or none: a
// failed condition cancels the transaction with a reason for each item, in order.
func (b *Backend) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, _ ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	return call(ctx, "TransactWriteItems", func() (*dynamodb.TransactWriteItemsOutput, error) {
		if n := len(in.TransactItems); n == 0 || n > maxTransactItems {
			return nil, validation("1 validation error detected: Value at 'transactItems' failed to satisfy constraint: Member must have length less than or equal to %d and greater than or equal to 1", maxTransactItems)
		}
		b.mu.Lock()
		defer b.mu.Unlock()
		changes := make([]change, len(in.TransactItems))
		reasons := make([]types.CancellationReason, len(in.TransactItems))
		codes := make([]string, len(in.TransactItems))
		cancelled := false
		seen := map[string]bool{}
		for i, ti := range in.TransactItems {
			c, returnOld, err := b.prepare(ti)
			switch {
			case errors.Is(err, errConditionFailed):
				cancelled = true
				reasons[i] = types.CancellationReason{Code: aws.String("ConditionalCheckFailed"), Message: aws.String(conditionFailedMessage)}
				if returnOld {
					reasons[i].Item = cloneItem(c.old)
				}
			case err != nil:
				return nil, err
			default:
				reasons[i] = types.CancellationReason{Code: aws.String("None")}
			}
			codes[i] = *reasons[i].Code
			target := c.tableName + "\x00" + c.id
			if seen[target] {
				return nil, validation("Transaction request cannot include multiple operations on one item")
			}
			seen[target] = true
			changes[i] = c
		}
		if cancelled {
			return nil, &types.TransactionCanceledException{
				Message:             aws.String(fmt.Sprintf("Transaction cancelled, please refer cancellation reasons for specific reasons [%s]", strings.Join(codes, ", "))),
				CancellationReasons: reasons,
			}
		}
		for _, c := range changes {
			c.apply()
		}
		return &dynamodb.TransactWriteItemsOutput{}, nil
	})
}

// prepare works out one item of a transaction, and whether its old item is to be returned
// should its condition fail.
func (b *Backend) prepare(ti types.TransactWriteItem) (change, bool, error) {
	const allOld = types.ReturnValuesOnConditionCheckFailureAllOld
	switch {
	case ti.Put != nil:
		p := ti.Put
		c, err := b.put(p.TableName, p.Item, p.ConditionExpression, expression{p.ExpressionAttributeNames, p.ExpressionAttributeValues})
		return c, p.ReturnValuesOnConditionCheckFailure == allOld, err
	case ti.Update != nil:
		u := ti.Update
		c, err := b.update(u.TableName, u.Key, u.UpdateExpression, u.ConditionExpression, expression{u.ExpressionAttributeNames, u.ExpressionAttributeValues})
		return c, u.ReturnValuesOnConditionCheckFailure == allOld, err
	case ti.Delete != nil:
		d := ti.Delete
		c, err := b.delete(d.TableName, d.Key, d.ConditionExpression, expression{d.ExpressionAttributeNames, d.ExpressionAttributeValues})
		return c, d.ReturnValuesOnConditionCheckFailure == allOld, err
	case ti.ConditionCheck != nil:
		cc := ti.ConditionCheck
		if aws.ToString(cc.ConditionExpression) == "" {
			return change{}, false, validation("The ConditionExpression of a ConditionCheck must be set")
		}
		c, err := b.check(cc.TableName, cc.Key, cc.ConditionExpression, expression{cc.ExpressionAttributeNames, cc.ExpressionAttributeValues})
		return c, cc.ReturnValuesOnConditionCheckFailure == allOld, err
	}
	return change{}, false, validation("TransactItems can only contain one of Check, Put, Update or Delete")
}
