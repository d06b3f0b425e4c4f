package embedded_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"github.com/servicecontacts/servicecontacts/shared/store"
	"github.com/servicecontacts/servicecontacts/shared/store/embedded"
	"github.com/servicecontacts/servicecontacts/shared/store/storetest"
)

// The store suite (shared/store/storetest) runs on this backend as on DynamoDB Local; these
// tests pin what it relies on without showing: order, paging, index upkeep and the shapes
// of failures. They run on DynamoDB Local too, when DYNAMODB_ENDPOINT names one, to hold
// the embedded backend to what DynamoDB does.
var backends = []struct {
	name string
	api  func(t *testing.T) store.API
}{
	{"embedded", func(*testing.T) store.API { return embedded.New() }},
	{"DynamoDB Local", func(t *testing.T) store.API { return storetest.DynamoDBLocal(t) }},
}

// A fixture is a table of its own on a backend.
type fixture struct {
	api   store.API
	table string
}

var tables atomic.Int64

// onEach runs test on each backend with a table keyed by pk and sk, with an index by owner
// then rank (a number), which projects note, and items p#0..p#(n-1) in partition "p": item i
// is owned by "o" with rank i, but for every third, which has no owner.
func onEach(t *testing.T, n int, test func(t *testing.T, f fixture)) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			f := fixture{api: b.api(t), table: fmt.Sprintf("things-%d-%d", time.Now().UnixNano(), tables.Add(1))}
			_, err := f.api.CreateTable(context.Background(), &dynamodb.CreateTableInput{
				TableName:   aws.String(f.table),
				BillingMode: types.BillingModePayPerRequest,
				AttributeDefinitions: []types.AttributeDefinition{
					{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS},
					{AttributeName: aws.String("sk"), AttributeType: types.ScalarAttributeTypeS},
					{AttributeName: aws.String("owner"), AttributeType: types.ScalarAttributeTypeS},
					{AttributeName: aws.String("rank"), AttributeType: types.ScalarAttributeTypeN},
				},
				KeySchema: keySchema("pk", "sk"),
				GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{
					IndexName:  aws.String("byOwner"),
					KeySchema:  keySchema("owner", "rank"),
					Projection: &types.Projection{ProjectionType: types.ProjectionTypeInclude, NonKeyAttributes: []string{"note"}},
				}},
			})
			if err != nil {
				t.Fatal(err)
			}
			for i := range n {
				it := map[string]types.AttributeValue{"pk": s("p"), "sk": s(sk(i)), "note": s("n"), "other": s("x")}
				if i%3 != 2 {
					it["owner"], it["rank"] = s("o"), num(i)
				}
				f.put(t, it)
			}
			f.put(t, map[string]types.AttributeValue{"pk": s("q"), "sk": s(sk(0)), "owner": s("o2"), "rank": num(0)})
			test(t, f)
		})
	}
}

func keySchema(hash, rng string) []types.KeySchemaElement {
	return []types.KeySchemaElement{
		{AttributeName: aws.String(hash), KeyType: types.KeyTypeHash},
		{AttributeName: aws.String(rng), KeyType: types.KeyTypeRange},
	}
}

func sk(i int) string                 { return fmt.Sprintf("s%02d", i) }
func s(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
func num(i int) types.AttributeValue  { return &types.AttributeValueMemberN{Value: strconv.Itoa(i)} }
func key(p, k string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"pk": s(p), "sk": s(k)}
}

func (f fixture) put(t *testing.T, it map[string]types.AttributeValue) {
	t.Helper()
	if _, err := f.api.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String(f.table), Item: it}); err != nil {
		t.Fatal(err)
	}
}

// attr returns the string or number attribute name of each item.
func attr(items []map[string]types.AttributeValue, name string) []string {
	out := []string{}
	for _, it := range items {
		switch v := it[name].(type) {
		case *types.AttributeValueMemberS:
			out = append(out, v.Value)
		case *types.AttributeValueMemberN:
			out = append(out, v.Value)
		default:
			out = append(out, "-")
		}
	}
	return out
}

func TestQueryKeyConditions(t *testing.T) {
	onEach(t, 12, func(t *testing.T, f fixture) {
		tests := []struct {
			cond   string
			values map[string]types.AttributeValue
			want   []string
		}{
			{"pk = :p", nil, []string{"s00", "s01", "s02", "s03", "s04", "s05", "s06", "s07", "s08", "s09", "s10", "s11"}},
			{"pk = :p AND sk = :a", map[string]types.AttributeValue{":a": s("s03")}, []string{"s03"}},
			{"pk = :p AND sk < :a", map[string]types.AttributeValue{":a": s("s03")}, []string{"s00", "s01", "s02"}},
			{"pk = :p AND sk <= :a", map[string]types.AttributeValue{":a": s("s03")}, []string{"s00", "s01", "s02", "s03"}},
			{"pk = :p AND sk > :a", map[string]types.AttributeValue{":a": s("s09")}, []string{"s10", "s11"}},
			{"pk = :p AND sk >= :a", map[string]types.AttributeValue{":a": s("s09")}, []string{"s09", "s10", "s11"}},
			{"pk = :p AND sk BETWEEN :a AND :b", map[string]types.AttributeValue{":a": s("s04"), ":b": s("s06")}, []string{"s04", "s05", "s06"}},
			{"pk = :p AND begins_with(sk, :a)", map[string]types.AttributeValue{":a": s("s1")}, []string{"s10", "s11"}},
			{"(sk > :a) AND (#p = :p)", map[string]types.AttributeValue{":a": s("s10")}, []string{"s11"}},
			{"pk = :p AND sk > :a", map[string]types.AttributeValue{":a": s("s99")}, []string{}},
		}
		for _, tt := range tests {
			t.Run(tt.cond, func(t *testing.T) {
				values := map[string]types.AttributeValue{":p": s("p")}
				for k, v := range tt.values {
					values[k] = v
				}
				in := &dynamodb.QueryInput{TableName: aws.String(f.table), KeyConditionExpression: aws.String(tt.cond), ExpressionAttributeValues: values}
				if tt.cond[0] == '(' {
					in.ExpressionAttributeNames = map[string]string{"#p": "pk"}
				}
				out, err := f.api.Query(context.Background(), in)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(tt.want, attr(out.Items, "sk")); diff != "" {
					t.Errorf("items (-want +got):\n%s", diff)
				}
				// Only the items the condition admits are read.
				if int(out.ScannedCount) != len(tt.want) || int(out.Count) != len(tt.want) {
					t.Errorf("scanned %d, counted %d, want %d", out.ScannedCount, out.Count, len(tt.want))
				}
			})
		}
	})
}

// TestQueryPages pages through a partition both ways, and through the index, whose sort key
// is a number and which leaves out the items without an owner.
func TestQueryPages(t *testing.T) {
	onEach(t, 12, func(t *testing.T, f fixture) {
		tests := []struct {
			name    string
			in      dynamodb.QueryInput
			sortKey string
			want    [][]string // the pages
		}{
			{"table, forward", dynamodb.QueryInput{KeyConditionExpression: aws.String("pk = :v"), Limit: aws.Int32(5)}, "sk",
				[][]string{{"s00", "s01", "s02", "s03", "s04"}, {"s05", "s06", "s07", "s08", "s09"}, {"s10", "s11"}}},
			{"table, backward", dynamodb.QueryInput{KeyConditionExpression: aws.String("pk = :v"), Limit: aws.Int32(4), ScanIndexForward: aws.Bool(false)}, "sk",
				// The limit stops the last page at the partition's end: DynamoDB gives a
				// LastEvaluatedKey then, and the next page is empty.
				[][]string{{"s11", "s10", "s09", "s08"}, {"s07", "s06", "s05", "s04"}, {"s03", "s02", "s01", "s00"}, {}}},
			{"index, numbers in order", dynamodb.QueryInput{IndexName: aws.String("byOwner"), KeyConditionExpression: aws.String("#o = :o"), Limit: aws.Int32(3)}, "rank",
				[][]string{{"0", "1", "3"}, {"4", "6", "7"}, {"9", "10"}}},
			{"index, backward from a rank", dynamodb.QueryInput{IndexName: aws.String("byOwner"), KeyConditionExpression: aws.String("#o = :o AND #r <= :r"), Limit: aws.Int32(3), ScanIndexForward: aws.Bool(false)}, "rank",
				[][]string{{"9", "7", "6"}, {"4", "3", "1"}, {"0"}}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				in := tt.in
				in.TableName = aws.String(f.table)
				in.ExpressionAttributeValues = map[string]types.AttributeValue{":v": s("p")}
				if in.IndexName != nil {
					in.ExpressionAttributeNames = map[string]string{"#o": "owner"}
					in.ExpressionAttributeValues = map[string]types.AttributeValue{":o": s("o")}
					if *in.KeyConditionExpression != "#o = :o" {
						in.ExpressionAttributeNames["#r"] = "rank"
						in.ExpressionAttributeValues[":r"] = num(9)
					}
				}
				var pages [][]string
				for range 10 {
					out, err := f.api.Query(context.Background(), &in)
					if err != nil {
						t.Fatal(err)
					}
					pages = append(pages, attr(out.Items, tt.sortKey))
					if len(out.LastEvaluatedKey) == 0 {
						break
					}
					in.ExclusiveStartKey = out.LastEvaluatedKey
				}
				if diff := cmp.Diff(tt.want, pages); diff != "" {
					t.Errorf("pages (-want +got):\n%s", diff)
				}
			})
		}
	})
}

func TestIndexProjectionAndUpkeep(t *testing.T) {
	onEach(t, 2, func(t *testing.T, f fixture) {
		ctx := context.Background()
		byOwner := func(owner string) []map[string]types.AttributeValue {
			t.Helper()
			out, err := f.api.Query(ctx, &dynamodb.QueryInput{
				TableName: aws.String(f.table), IndexName: aws.String("byOwner"),
				KeyConditionExpression:    aws.String("#o = :o"),
				ExpressionAttributeNames:  map[string]string{"#o": "owner"},
				ExpressionAttributeValues: map[string]types.AttributeValue{":o": s(owner)},
			})
			if err != nil {
				t.Fatal(err)
			}
			return out.Items
		}
		want := []map[string]types.AttributeValue{
			{"pk": s("p"), "sk": s("s00"), "owner": s("o"), "rank": num(0), "note": s("n")}, // no "other"
			{"pk": s("p"), "sk": s("s01"), "owner": s("o"), "rank": num(1), "note": s("n")},
		}
		if diff := cmp.Diff(want, byOwner("o"), cmp.AllowUnexported(types.AttributeValueMemberS{}, types.AttributeValueMemberN{})); diff != "" {
			t.Errorf("projected items (-want +got):\n%s", diff)
		}

		// Handing an item to another owner moves it in the index; dropping its owner takes it
		// out.
		_, err := f.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName: aws.String(f.table), Key: key("p", "s00"),
			UpdateExpression:          aws.String("SET #o = :o"),
			ExpressionAttributeNames:  map[string]string{"#o": "owner"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":o": s("o2")},
		})
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName: aws.String(f.table), Key: key("p", "s01"),
			UpdateExpression: aws.String("REMOVE #o"), ExpressionAttributeNames: map[string]string{"#o": "owner"},
		})
		if err != nil {
			t.Fatal(err)
		}
		if got := attr(byOwner("o"), "sk"); len(got) != 0 {
			t.Errorf("owner o still has %v", got)
		}
		// Items with the same index keys come in no particular order.
		if got, want := slices.Sorted(slices.Values(attr(byOwner("o2"), "pk"))), []string{"p", "q"}; !cmp.Equal(got, want) {
			t.Errorf("owner o2 has the items of partitions %v, want %v", got, want)
		}
		out, err := f.api.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(f.table), Key: key("p", "s01")})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := attr([]map[string]types.AttributeValue{out.Item}, "other"), []string{"x"}; !cmp.Equal(got, want) || out.Item["owner"] != nil {
			t.Errorf("after REMOVE owner: %v", out.Item)
		}
	})
}

func TestTransactionCancelledNamesEveryItem(t *testing.T) {
	onEach(t, 3, func(t *testing.T, f fixture) {
		ctx := context.Background()
		exists := func(p, k string) types.TransactWriteItem {
			return types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{
				TableName: aws.String(f.table), Key: key(p, k), ConditionExpression: aws.String("attribute_exists(pk)"),
			}}
		}
		mark := func(p, k string) types.TransactWriteItem {
			return types.TransactWriteItem{Update: &types.Update{
				TableName: aws.String(f.table), Key: key(p, k), UpdateExpression: aws.String("SET marked = :t"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":t": &types.AttributeValueMemberBOOL{Value: true}},
			}}
		}
		newItem := func(p, k string) types.TransactWriteItem {
			return types.TransactWriteItem{Put: &types.Put{
				TableName: aws.String(f.table), Item: key(p, k), ConditionExpression: aws.String("attribute_not_exists(pk)"),
				ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
			}}
		}
		_, err := f.api.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
			mark("p", "s00"), exists("p", "missing"), newItem("p", "new"), newItem("p", "s01"),
		}})
		tc, ok := errors.AsType[*types.TransactionCanceledException](err)
		if !ok {
			t.Fatalf("error %v, want a TransactionCanceledException", err)
		}
		var codes []string
		for _, r := range tc.CancellationReasons {
			codes = append(codes, aws.ToString(r.Code))
		}
		if want := []string{"None", "ConditionalCheckFailed", "None", "ConditionalCheckFailed"}; !cmp.Equal(codes, want) {
			t.Errorf("reasons %v, want %v", codes, want)
		}
		if got := attr([]map[string]types.AttributeValue{tc.CancellationReasons[3].Item}, "sk"); !cmp.Equal(got, []string{"s01"}) {
			t.Errorf("the failed put's reason holds %v, want the item there", tc.CancellationReasons[3].Item)
		}
		// Nothing was written.
		for _, k := range []string{"s00", "new"} {
			out, err := f.api.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(f.table), Key: key("p", k)})
			if err != nil {
				t.Fatal(err)
			}
			if out.Item["marked"] != nil || (k == "new" && out.Item != nil) {
				t.Errorf("item %s written by a cancelled transaction: %v", k, out.Item)
			}
		}

		_, err = f.api.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{mark("p", "s00"), exists("p", "s00")}})
		if !isValidation(err) {
			t.Errorf("two operations on one item: error %v, want a ValidationException", err)
		}
		_, err = f.api.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{mark("p", "s00"), exists("p", "s01")}})
		if err != nil {
			t.Fatal(err)
		}
		out, err := f.api.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(f.table), Key: key("p", "s00")})
		if err != nil || out.Item["marked"] == nil {
			t.Errorf("after a transaction that passed: item %v, error %v", out.Item, err)
		}
	})
}

func isValidation(err error) bool {
	api, ok := errors.AsType[smithy.APIError](err)
	return ok && api.ErrorCode() == "ValidationException"
}

func TestWritesAnswerAsDynamoDB(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		call func(f fixture) (map[string]types.AttributeValue, error)
		want []string // the returned item's "v", or the error's code
	}{
		{"put returns the old item", func(f fixture) (map[string]types.AttributeValue, error) {
			out, err := f.api.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(f.table), Item: with(key("p", "s00"), "v", "new"), ReturnValues: types.ReturnValueAllOld})
			return attributes(out, err, func(o *dynamodb.PutItemOutput) map[string]types.AttributeValue { return o.Attributes })
		}, []string{"old"}},
		{"failed put condition", func(f fixture) (map[string]types.AttributeValue, error) {
			_, err := f.api.PutItem(ctx, &dynamodb.PutItemInput{
				TableName: aws.String(f.table), Item: key("p", "s00"), ConditionExpression: aws.String("attribute_not_exists(pk)"),
				ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
			})
			if cf, ok := errors.AsType[*types.ConditionalCheckFailedException](err); ok {
				return cf.Item, nil
			}
			return nil, err
		}, []string{"old"}},
		{"update returns what it changed", func(f fixture) (map[string]types.AttributeValue, error) {
			out, err := f.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
				TableName: aws.String(f.table), Key: key("p", "s00"), UpdateExpression: aws.String("SET v = :v"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":v": s("new")}, ReturnValues: types.ReturnValueUpdatedNew,
			})
			return attributes(out, err, func(o *dynamodb.UpdateItemOutput) map[string]types.AttributeValue { return o.Attributes })
		}, []string{"new"}},
		{"update creates a missing item", func(f fixture) (map[string]types.AttributeValue, error) {
			out, err := f.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
				TableName: aws.String(f.table), Key: key("p", "s99"), UpdateExpression: aws.String("SET v = :v"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":v": s("new")}, ReturnValues: types.ReturnValueAllNew,
			})
			return attributes(out, err, func(o *dynamodb.UpdateItemOutput) map[string]types.AttributeValue { return o.Attributes })
		}, []string{"new"}},
		{"update of a key attribute", func(f fixture) (map[string]types.AttributeValue, error) {
			_, err := f.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
				TableName: aws.String(f.table), Key: key("p", "s00"), UpdateExpression: aws.String("SET sk = :v"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":v": s("s77")},
			})
			return nil, err
		}, []string{"ValidationException"}},
		{"index key of the wrong type", func(f fixture) (map[string]types.AttributeValue, error) {
			_, err := f.api.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(f.table), Item: with(key("p", "s05"), "rank", "high")})
			return nil, err
		}, []string{"ValidationException"}},
		{"sort key over DynamoDB's bound", func(f fixture) (map[string]types.AttributeValue, error) {
			_, err := f.api.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(f.table), Item: key("p", strings.Repeat("k", 1025))})
			return nil, err
		}, []string{"ValidationException"}},
		{"index key over DynamoDB's bound", func(f fixture) (map[string]types.AttributeValue, error) {
			_, err := f.api.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(f.table), Item: with(key("p", "s05"), "owner", strings.Repeat("o", 2049))})
			return nil, err
		}, []string{"ValidationException"}},
		{"keys at DynamoDB's bounds", func(f fixture) (map[string]types.AttributeValue, error) {
			it := with(map[string]types.AttributeValue{"pk": s(strings.Repeat("p", 2048)), "sk": s(strings.Repeat("k", 1024))}, "v", "new")
			if _, err := f.api.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(f.table), Item: it}); err != nil {
				return nil, err
			}
			out, err := f.api.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(f.table), Key: map[string]types.AttributeValue{"pk": it["pk"], "sk": it["sk"]}})
			return attributes(out, err, func(o *dynamodb.GetItemOutput) map[string]types.AttributeValue { return o.Item })
		}, []string{"new"}},
		{"key that does not match the schema", func(f fixture) (map[string]types.AttributeValue, error) {
			_, err := f.api.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(f.table), Key: map[string]types.AttributeValue{"pk": s("p")}})
			return nil, err
		}, []string{"ValidationException"}},
		{"batch with a key twice", func(f fixture) (map[string]types.AttributeValue, error) {
			_, err := f.api.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{
				f.table: {Keys: []map[string]types.AttributeValue{key("p", "s00"), key("p", "s00")}},
			}})
			return nil, err
		}, []string{"ValidationException"}},
		{"batch over DynamoDB's size", func(f fixture) (map[string]types.AttributeValue, error) {
			var writes []types.WriteRequest
			for i := range 26 {
				writes = append(writes, types.WriteRequest{PutRequest: &types.PutRequest{Item: key("p", sk(i))}})
			}
			_, err := f.api.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{f.table: writes}})
			return nil, err
		}, []string{"ValidationException"}},
		{"unused expression attribute value", func(f fixture) (map[string]types.AttributeValue, error) {
			_, err := f.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
				TableName: aws.String(f.table), Key: key("p", "s00"), UpdateExpression: aws.String("SET v = :v"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":v": s("new"), ":w": s("other")},
			})
			return nil, err
		}, []string{"ValidationException"}},
		{"missing table", func(f fixture) (map[string]types.AttributeValue, error) {
			_, err := f.api.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("nope"), Key: key("p", "s00")})
			return nil, err
		}, []string{"ResourceNotFoundException"}},
	}
	onEach(t, 0, func(t *testing.T, f fixture) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				f.put(t, with(key("p", "s00"), "v", "old"))
				it, err := tt.call(f)
				got := attr([]map[string]types.AttributeValue{it}, "v")
				if api, ok := errors.AsType[smithy.APIError](err); ok {
					got = []string{api.ErrorCode()}
				} else if err != nil {
					t.Fatal(err)
				}
				if !cmp.Equal(got, tt.want) {
					t.Errorf("got %v, want %v", got, tt.want)
				}
			})
		}
	})
}

func with(it map[string]types.AttributeValue, name, v string) map[string]types.AttributeValue {
	it[name] = s(v)
	return it
}

func attributes[T any](out *T, err error, get func(*T) map[string]types.AttributeValue) (map[string]types.AttributeValue, error) {
	if err != nil {
		return nil, err
	}
	return get(out), nil
}

func TestReadsAnswerAsDynamoDB(t *testing.T) {
	onEach(t, 6, func(t *testing.T, f fixture) {
		ctx := context.Background()
		out, err := f.api.Query(ctx, &dynamodb.QueryInput{
			TableName: aws.String(f.table), KeyConditionExpression: aws.String("pk = :p"), Select: types.SelectCount,
			FilterExpression:          aws.String("attribute_exists(#o)"),
			ExpressionAttributeNames:  map[string]string{"#o": "owner"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":p": s("p")},
		})
		if err != nil {
			t.Fatal(err)
		}
		if out.Count != 4 || out.ScannedCount != 6 || out.Items != nil {
			t.Errorf("COUNT with a filter: count %d, scanned %d, items %v; want 4, 6, none", out.Count, out.ScannedCount, out.Items)
		}

		got, err := f.api.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{
			f.table: {Keys: []map[string]types.AttributeValue{key("p", "s01"), key("p", "gone"), key("p", "s03")}, ProjectionExpression: aws.String("sk")},
		}})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{"s01", "s03"}, slices.Sorted(slices.Values(attr(got.Responses[f.table], "sk")))); diff != "" || len(got.UnprocessedKeys) != 0 {
			t.Errorf("batch get (-want +got):\n%s\nunprocessed %v", diff, got.UnprocessedKeys)
		}
		if n := len(got.Responses[f.table][0]); n != 1 {
			t.Errorf("projected item has %d attributes, want 1", n)
		}

		// A caller that changes what it read changes nothing stored.
		one, err := f.api.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(f.table), Key: key("p", "s00")})
		if err != nil {
			t.Fatal(err)
		}
		one.Item["note"].(*types.AttributeValueMemberS).Value = "changed"
		again, err := f.api.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(f.table), Key: key("p", "s00")})
		if err != nil {
			t.Fatal(err)
		}
		if got := attr([]map[string]types.AttributeValue{again.Item}, "note"); !cmp.Equal(got, []string{"n"}) {
			t.Errorf("stored note %v after the caller changed its copy", got)
		}
	})
}
