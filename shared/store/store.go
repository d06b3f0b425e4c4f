// Package store is the DynamoDB adapter of the contact domain. The same code runs on AWS, on
// DynamoDB Local and on the embedded backend of the local stack.
package store

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/servicecontacts/servicecontacts/shared/contact"
)

// API is the part of DynamoDB the store calls, with the SDK's signatures: *dynamodb.Client
// and the embedded backend both implement it.
type API interface {
	TableAPI
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
	BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error)
	TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
}

// DefaultRetention is how long a request is kept after it was created before DynamoDB's TTL
// purges it; requests end within their expiry, weeks before that.
const DefaultRetention = 400 * 24 * time.Hour

// Store implements contact.Store on DynamoDB.
type Store struct {
	api       API
	tables    Tables
	retention time.Duration
}

var _ contact.Store = (*Store)(nil)

// New returns a store on the given tables, keeping requests for DefaultRetention.
func New(api API, tables Tables) *Store {
	return &Store{api: api, tables: tables, retention: DefaultRetention}
}

// WithRetention returns a copy of s that keeps the requests it creates or saves for d after
// their creation.
func (s *Store) WithRetention(d time.Duration) *Store {
	c := *s
	c.retention = d
	return &c
}

// Account reads an account.
func (s *Store) Account(ctx context.Context, nic string) (contact.Account, error) {
	out, err := s.api.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.tables.Contacts),
		Key:            key(accountPK(nic), profileSK),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return contact.Account{}, wrap(err, "get account %s", nic)
	}
	if len(out.Item) == 0 {
		return contact.Account{}, contact.Errorf(contact.ErrNotFound, "account_not_found", "no account %s", nic)
	}
	var it accountItem
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return contact.Account{}, fmt.Errorf("decode account %s: %w", nic, err)
	}
	return it.account(), nil
}

// Service reads a service and its three role items with one query.
func (s *Store) Service(ctx context.Context, id string) (contact.Service, error) {
	out, err := s.api.Query(ctx, &dynamodb.QueryInput{
		TableName:                 aws.String(s.tables.Contacts),
		KeyConditionExpression:    aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(servicePK(id))},
		ConsistentRead:            aws.Bool(true),
	})
	if err != nil {
		return contact.Service{}, wrap(err, "query service %s", id)
	}
	svc := newService(id, "")
	found := false
	for _, item := range out.Items {
		if stringAttr(item, "sk") == serviceSK {
			var it serviceItem
			if err := attributevalue.UnmarshalMap(item, &it); err != nil {
				return contact.Service{}, fmt.Errorf("decode service %s: %w", id, err)
			}
			svc.Type, found = it.Type, true
			continue
		}
		var it roleItem
		if err := attributevalue.UnmarshalMap(item, &it); err != nil {
			return contact.Service{}, fmt.Errorf("decode role of service %s: %w", id, err)
		}
		it.addTo(&svc)
	}
	if !found {
		return contact.Service{}, contact.Errorf(contact.ErrNotFound, "service_not_found", "service %s not found", id)
	}
	return svc, nil
}

// ServicesOf pages through the services on which nic holds a role, in the order of the
// ByHolder index (by service id). The cursor is the last service id of the previous page.
func (s *Store) ServicesOf(ctx context.Context, nic string, q contact.ServiceQuery) (contact.ServicePage, error) {
	limit := pageLimit(q.Limit)
	after, err := decodeCursor[string](q.Cursor)
	if err != nil {
		return contact.ServicePage{}, err
	}
	if q.Cursor != "" && after == "" {
		return contact.ServicePage{}, errBadCursor()
	}
	cond := "holder = :nic"
	values := map[string]types.AttributeValue{":nic": str(nic)}
	if after != "" {
		// '~' sorts after every role name, so the role items of the previous page's last
		// service are skipped, all of them.
		cond += " AND holderKey > :after"
		values[":after"] = str(after + "#~")
	}
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(s.tables.Contacts),
		IndexName:                 aws.String(ByHolder),
		KeyConditionExpression:    aws.String(cond),
		ExpressionAttributeValues: values,
		// A page, and the item that tells whether another follows, when nic holds every
		// role; filters may need more rounds.
		Limit: aws.Int32(int32((limit + 1) * len(contact.Roles))),
	}
	var ids []string
	seen := map[string]bool{}
	more := false
rounds:
	for {
		out, err := s.api.Query(ctx, in)
		if err != nil {
			return contact.ServicePage{}, wrap(err, "query services of %s", nic)
		}
		for _, item := range out.Items {
			var it roleItem
			if err := attributevalue.UnmarshalMap(item, &it); err != nil {
				return contact.ServicePage{}, fmt.Errorf("decode role of %s: %w", nic, err)
			}
			if seen[it.ServiceID] || !it.matches(q) {
				continue
			}
			if len(ids) == limit {
				more = true
				break rounds
			}
			seen[it.ServiceID] = true
			ids = append(ids, it.ServiceID)
		}
		if len(out.LastEvaluatedKey) == 0 {
			break
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}

	services, err := s.services(ctx, ids)
	if err != nil {
		return contact.ServicePage{}, err
	}
	page := contact.ServicePage{Services: services}
	if more {
		page.NextCursor = encodeCursor(ids[len(ids)-1])
	}
	return page, nil
}

// services reads the role items of the given services in batches and returns the services
// in the order of ids. A service deleted meanwhile is left out.
func (s *Store) services(ctx context.Context, ids []string) ([]contact.Service, error) {
	var keys []map[string]types.AttributeValue
	for _, id := range ids {
		for _, r := range contact.Roles {
			keys = append(keys, key(roleKey(id, r)))
		}
	}
	items, err := s.batchGet(ctx, s.tables.Contacts, keys)
	if err != nil {
		return nil, err
	}
	byID := map[string]*contact.Service{}
	for _, item := range items {
		var it roleItem
		if err := attributevalue.UnmarshalMap(item, &it); err != nil {
			return nil, fmt.Errorf("decode role item: %w", err)
		}
		svc := byID[it.ServiceID]
		if svc == nil {
			fresh := newService(it.ServiceID, it.ServiceType)
			svc = &fresh
			byID[it.ServiceID] = svc
		}
		it.addTo(svc)
	}
	out := make([]contact.Service, 0, len(ids))
	for _, id := range ids {
		if svc := byID[id]; svc != nil {
			out = append(out, *svc)
		}
	}
	return out, nil
}

func newService(id, typ string) contact.Service {
	return contact.Service{ID: id, Type: typ, Contacts: map[contact.Role]string{}, Open: map[contact.Role]string{}}
}

// maxBatchGet is the most keys one BatchGetItem call accepts.
const maxBatchGet = 100

// batchGet reads items of one table by key, as batchGetAll does.
func (s *Store) batchGet(ctx context.Context, table string, keys []map[string]types.AttributeValue) ([]map[string]types.AttributeValue, error) {
	named := make([]tableKey, len(keys))
	for i, k := range keys {
		named[i] = tableKey{table: table, key: k}
	}
	found, err := s.batchGetAll(ctx, named)
	if err != nil {
		return nil, fmt.Errorf("batch get from %s: %w", table, err)
	}
	return found[table], nil
}

// tableKey is the key of an item and the table it is in.
type tableKey struct {
	table string
	key   map[string]types.AttributeValue
}

// batchGetAll reads items by key, from any tables, strongly consistent, in calls of at most
// maxBatchGet keys, until DynamoDB has processed every key. It returns the items found by
// table. A key must not be given twice.
func (s *Store) batchGetAll(ctx context.Context, keys []tableKey) (map[string][]map[string]types.AttributeValue, error) {
	found := map[string][]map[string]types.AttributeValue{}
	for start := 0; start < len(keys); start += maxBatchGet {
		pending := map[string]types.KeysAndAttributes{}
		for _, k := range keys[start:min(start+maxBatchGet, len(keys))] {
			ka := pending[k.table]
			ka.Keys, ka.ConsistentRead = append(ka.Keys, k.key), aws.Bool(true)
			pending[k.table] = ka
		}
		for attempt := 0; len(pending) > 0; attempt++ {
			if err := backoff(ctx, attempt); err != nil {
				return nil, err
			}
			out, err := s.api.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: pending})
			if err != nil {
				return nil, wrap(err, "BatchGetItem")
			}
			for table, items := range out.Responses {
				found[table] = append(found[table], items...)
			}
			pending = map[string]types.KeysAndAttributes{}
			for table, ka := range out.UnprocessedKeys {
				if len(ka.Keys) > 0 {
					pending[table] = ka
				}
			}
		}
	}
	return found, nil
}

// maxAttempts bounds the calls made for one batch whose items DynamoDB keeps leaving
// unprocessed, which it does when the table is throttled.
const maxAttempts = 8

// backoff waits before the given attempt of a batch call: not at all before the first,
// then exponentially longer. After maxAttempts it reports throttling.
func backoff(ctx context.Context, attempt int) error {
	if attempt == 0 {
		return nil
	}
	if attempt >= maxAttempts {
		return errThrottled()
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(time.Duration(10<<attempt) * time.Millisecond):
		return nil
	}
}

func key(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"pk": str(pk), "sk": str(sk)}
}

func str(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }

func num(n int) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: fmt.Sprint(n)}
}

func boolean(b bool) types.AttributeValue { return &types.AttributeValueMemberBOOL{Value: b} }

func stringAttr(item map[string]types.AttributeValue, name string) string {
	if v, ok := item[name].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}
