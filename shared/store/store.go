// Package store is the DynamoDB adapter of the contact domain. The same code runs on AWS, on
// DynamoDB Local and on the embedded backend of the local stack.
package store

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/servicecontacts/servicecontacts/shared/contact"
)

// API is the part of DynamoDB the store calls, with the SDK's signatures.
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

// New returns a store on the given tables.
func New(api API, tables Tables) *Store {
	return &Store{api: api, tables: tables, retention: DefaultRetention}
}

// Account reads an account.
func (s *Store) Account(ctx context.Context, nic string) (contact.Account, error) {
	out, err := s.api.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.tables.Contacts),
		Key:       key(accountPrefix+nic, profileSK),
	})
	if err != nil {
		return contact.Account{}, wrap(err, "get account %s", nic)
	}
	if out.Item == nil {
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
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(servicePrefix + id)},
		ConsistentRead:            aws.Bool(true),
	})
	if err != nil {
		return contact.Service{}, wrap(err, "query service %s", id)
	}
	svc := contact.Service{ID: id, Contacts: map[contact.Role]string{}, Open: map[contact.Role]string{}}
	found := false
	for _, item := range out.Items {
		if sk := stringAttr(item, "sk"); sk == serviceSK {
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
		addRole(&svc, it)
	}
	if !found {
		return contact.Service{}, contact.Errorf(contact.ErrNotFound, "service_not_found", "service %s not found", id)
	}
	return svc, nil
}

func addRole(svc *contact.Service, it roleItem) {
	r := contact.Role(it.Role)
	svc.Contacts[r] = it.Holder
	if it.OpenRequest != "" {
		svc.Open[r] = it.OpenRequest
	}
}

// ServicesOf pages through the services on which nic holds a role, by service id. The
// cursor is the last service id of the previous page.
func (s *Store) ServicesOf(ctx context.Context, nic string, q contact.ServiceQuery) (contact.ServicePage, error) {
	after, err := decodeCursor[string](q.Cursor)
	if err != nil {
		return contact.ServicePage{}, err
	}
	cond := "holder = :nic"
	values := map[string]types.AttributeValue{":nic": str(nic)}
	if after != "" {
		// '~' sorts after every role name, so the last page's service is skipped whole.
		cond += " AND holderKey > :after"
		values[":after"] = str(after + "#~")
	}
	var ids []string
	seen := map[string]bool{}
	more := false
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(s.tables.Contacts),
		IndexName:                 aws.String(ByHolder),
		KeyConditionExpression:    aws.String(cond),
		ExpressionAttributeValues: values,
	}
scan:
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
			if seen[it.ServiceID] || (q.Role != "" && it.Role != string(q.Role)) || (q.Type != "" && it.ServiceType != q.Type) {
				continue
			}
			if len(ids) == q.Limit {
				more = true
				break scan
			}
			seen[it.ServiceID] = true
			ids = append(ids, it.ServiceID)
		}
		if out.LastEvaluatedKey == nil {
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

// services reads the role items of the given services, in batches, and returns the
// services in the order of ids.
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
			svc = &contact.Service{ID: it.ServiceID, Type: it.ServiceType, Contacts: map[contact.Role]string{}, Open: map[contact.Role]string{}}
			byID[it.ServiceID] = svc
		}
		addRole(svc, it)
	}
	out := make([]contact.Service, 0, len(ids))
	for _, id := range ids {
		if svc := byID[id]; svc != nil {
			out = append(out, *svc)
		}
	}
	return out, nil
}

// batchGet reads items by key, 100 keys a call, until nothing is left unprocessed.
func (s *Store) batchGet(ctx context.Context, table string, keys []map[string]types.AttributeValue) ([]map[string]types.AttributeValue, error) {
	var items []map[string]types.AttributeValue
	for start := 0; start < len(keys); start += 100 {
		pending := keys[start:min(start+100, len(keys))]
		for attempt := 0; len(pending) > 0; attempt++ {
			out, err := s.api.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{
				RequestItems: map[string]types.KeysAndAttributes{table: {Keys: pending, ConsistentRead: aws.Bool(true)}},
			})
			if err != nil {
				return nil, wrap(err, "batch get from %s", table)
			}
			items = append(items, out.Responses[table]...)
			pending = out.UnprocessedKeys[table].Keys
			if len(pending) > 0 {
				if attempt >= 8 {
					return nil, &contact.Error{Kind: contact.ErrUnavailable, Code: "throttled", Message: "the database is busy; try again", RetryAfter: 1}
				}
				time.Sleep(time.Duration(10<<attempt) * time.Millisecond)
			}
		}
	}
	return items, nil
}

// CreateChanges writes the requests, their index items and their role locks in one
// transaction.
func (s *Store) CreateChanges(ctx context.Context, changes []contact.Change) error {
	var writes []types.TransactWriteItem
	for _, c := range changes {
		c.Version = 1
		purgeAt := c.CreatedAt.Add(s.retention)
		put, err := s.putRequest(toRequestItem(c, purgeAt), "attribute_not_exists(pk)", nil)
		if err != nil {
			return err
		}
		writes = append(writes, put)
		for _, nic := range c.Involved() {
			item, err := attributevalue.MarshalMap(involvedItem{
				PK: requestPrefix + c.ID, SK: involvedPrefix + nic, Involved: nic,
				InvolvedKey: formatTime(c.CreatedAt) + "#" + c.ID, RequestID: c.ID, PurgeAt: purgeAt.Unix(),
			})
			if err != nil {
				return fmt.Errorf("encode index item of %s: %w", c.ID, err)
			}
			writes = append(writes, types.TransactWriteItem{Put: &types.Put{TableName: aws.String(s.tables.Requests), Item: item}})
		}
		writes = append(writes, types.TransactWriteItem{Update: &types.Update{
			TableName:           aws.String(s.tables.Contacts),
			Key:                 key(roleKey(c.ServiceID, c.Role)),
			UpdateExpression:    aws.String("SET openRequest = :id"),
			ConditionExpression: aws.String("holder = :from AND (attribute_not_exists(openRequest) OR openRequest = :none)"),
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":id": str(c.ID), ":from": str(c.From), ":none": str(""),
			},
		}})
	}
	_, err := s.api.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: writes})
	if err != nil {
		if cancelled(err) {
			return fmt.Errorf("create requests: %w", contact.ErrConflict)
		}
		return wrap(err, "create requests")
	}
	return nil
}

// Change reads a request.
func (s *Store) Change(ctx context.Context, id string) (contact.Change, error) {
	out, err := s.api.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.tables.Requests),
		Key:            key(requestPrefix+id, requestSK),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return contact.Change{}, wrap(err, "get request %s", id)
	}
	if out.Item == nil {
		return contact.Change{}, contact.Errorf(contact.ErrNotFound, "request_not_found", "request %s not found", id)
	}
	var it requestItem
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return contact.Change{}, fmt.Errorf("decode request %s: %w", id, err)
	}
	return it.change(), nil
}

// changesCursor is where a page of ChangesOf stopped: the index key of its last item.
type changesCursor struct {
	Involved    string `json:"i"`
	InvolvedKey string `json:"k"`
	RequestID   string `json:"r"`
}

// ChangesOf pages through the requests involving nic, newest first.
func (s *Store) ChangesOf(ctx context.Context, nic string, q contact.ChangeQuery) (contact.ChangePage, error) {
	cur, err := decodeCursor[changesCursor](q.Cursor)
	if err != nil {
		return contact.ChangePage{}, err
	}
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(s.tables.Requests),
		IndexName:                 aws.String(ByInvolved),
		KeyConditionExpression:    aws.String("involved = :nic"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":nic": str(nic)},
		ScanIndexForward:          aws.Bool(false),
		Limit:                     aws.Int32(int32(q.Limit + 1)),
	}
	if cur.RequestID != "" {
		if cur.Involved != nic {
			return contact.ChangePage{}, badCursor()
		}
		in.ExclusiveStartKey = map[string]types.AttributeValue{
			"pk": str(requestPrefix + cur.RequestID), "sk": str(involvedPrefix + nic),
			"involved": str(nic), "involvedKey": str(cur.InvolvedKey),
		}
	}
	var page contact.ChangePage
	for {
		out, err := s.api.Query(ctx, in)
		if err != nil {
			return contact.ChangePage{}, wrap(err, "query requests of %s", nic)
		}
		var index []involvedItem
		if err := attributevalue.UnmarshalListOfMaps(out.Items, &index); err != nil {
			return contact.ChangePage{}, fmt.Errorf("decode request index of %s: %w", nic, err)
		}
		changes, err := s.changes(ctx, index)
		if err != nil {
			return contact.ChangePage{}, err
		}
		for i, c := range changes {
			if q.State != "" && c.State != q.State {
				continue
			}
			if len(page.Changes) == q.Limit {
				last := index[i-1]
				page.NextCursor = encodeCursor(changesCursor{Involved: nic, InvolvedKey: last.InvolvedKey, RequestID: last.RequestID})
				return page, nil
			}
			page.Changes = append(page.Changes, c)
		}
		if out.LastEvaluatedKey == nil {
			return page, nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

// changes reads the requests behind index items, in the index's order.
func (s *Store) changes(ctx context.Context, index []involvedItem) ([]contact.Change, error) {
	var keys []map[string]types.AttributeValue
	for _, it := range index {
		keys = append(keys, key(requestPrefix+it.RequestID, requestSK))
	}
	items, err := s.batchGet(ctx, s.tables.Requests, keys)
	if err != nil {
		return nil, err
	}
	byID := map[string]contact.Change{}
	for _, item := range items {
		var it requestItem
		if err := attributevalue.UnmarshalMap(item, &it); err != nil {
			return nil, fmt.Errorf("decode request: %w", err)
		}
		byID[it.ID] = it.change()
	}
	out := make([]contact.Change, 0, len(index))
	for _, it := range index {
		// An index item written in the request's own transaction always has its request;
		// keep the positions aligned with index all the same.
		out = append(out, byID[it.RequestID])
	}
	return out, nil
}

// SaveChange writes c over the version it was read at.
func (s *Store) SaveChange(ctx context.Context, c contact.Change) (contact.Change, error) {
	expected := c.Version
	c.Version++
	put, err := s.putRequest(toRequestItem(c, c.CreatedAt.Add(s.retention)), "version = :expected",
		map[string]types.AttributeValue{":expected": num(expected)})
	if err != nil {
		return contact.Change{}, err
	}
	if !c.State.Terminal() {
		p := put.Put
		_, err = s.api.PutItem(ctx, &dynamodb.PutItemInput{
			TableName: p.TableName, Item: p.Item, ConditionExpression: p.ConditionExpression,
			ExpressionAttributeValues: p.ExpressionAttributeValues,
		})
		var failed *types.ConditionalCheckFailedException
		if errors.As(err, &failed) {
			return contact.Change{}, fmt.Errorf("save request %s: %w", c.ID, contact.ErrVersionConflict)
		}
		if err != nil {
			return contact.Change{}, wrap(err, "save request %s", c.ID)
		}
		return c, nil
	}
	// A request that ends releases its role in the same write.
	release := types.TransactWriteItem{Update: &types.Update{
		TableName:                 aws.String(s.tables.Contacts),
		Key:                       key(roleKey(c.ServiceID, c.Role)),
		UpdateExpression:          aws.String("SET openRequest = :none"),
		ConditionExpression:       aws.String("openRequest = :id"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":id": str(c.ID), ":none": str("")},
	}}
	if err := s.transact(ctx, c.ID, put, release); err != nil {
		return contact.Change{}, err
	}
	return c, nil
}

// ApplyChange hands the role over, releases the lock and saves the done request, all in one
// transaction that re-checks what the change relies on.
func (s *Store) ApplyChange(ctx context.Context, c contact.Change) (contact.Change, error) {
	expected := c.Version
	c.Version++
	put, err := s.putRequest(toRequestItem(c, c.CreatedAt.Add(s.retention)), "version = :expected",
		map[string]types.AttributeValue{":expected": num(expected)})
	if err != nil {
		return contact.Change{}, err
	}
	handOver := types.TransactWriteItem{Update: &types.Update{
		TableName:           aws.String(s.tables.Contacts),
		Key:                 key(roleKey(c.ServiceID, c.Role)),
		UpdateExpression:    aws.String("SET holder = :to, openRequest = :none"),
		ConditionExpression: aws.String("holder = :from AND openRequest = :id"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":to": str(c.To), ":from": str(c.From), ":id": str(c.ID), ":none": str(""),
		},
	}}
	newHolder := "attribute_exists(pk)"
	checks := []types.TransactWriteItem{put, handOver}
	if c.Role == contact.Billing {
		newHolder += " AND goodStanding = :good"
		checks = append(checks, s.accountCheck(c.From, "goodStanding = :good"))
	}
	checks = append(checks, s.accountCheck(c.To, newHolder))
	if err := s.transact(ctx, c.ID, checks...); err != nil {
		return contact.Change{}, err
	}
	return c, nil
}

func (s *Store) accountCheck(nic, condition string) types.TransactWriteItem {
	values := map[string]types.AttributeValue{}
	if condition != "attribute_exists(pk)" {
		values[":good"] = &types.AttributeValueMemberBOOL{Value: true}
	}
	check := &types.ConditionCheck{
		TableName:           aws.String(s.tables.Contacts),
		Key:                 key(accountPrefix+nic, profileSK),
		ConditionExpression: aws.String(condition),
	}
	if len(values) > 0 {
		check.ExpressionAttributeValues = values
	}
	return types.TransactWriteItem{ConditionCheck: check}
}

// transact runs a transaction whose first item is the request's versioned put. A failure of
// that put alone is a lost optimistic-locking race; any other cancellation is a conflict.
func (s *Store) transact(ctx context.Context, id string, writes ...types.TransactWriteItem) error {
	_, err := s.api.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: writes})
	if err == nil {
		return nil
	}
	var tc *types.TransactionCanceledException
	if errors.As(err, &tc) {
		if throttled(tc) {
			return &contact.Error{Kind: contact.ErrUnavailable, Code: "throttled", Message: "the database is busy; try again", RetryAfter: 1}
		}
		if onlyFirstFailed(tc) {
			return fmt.Errorf("save request %s: %w", id, contact.ErrVersionConflict)
		}
		return fmt.Errorf("save request %s: %w", id, contact.ErrConflict)
	}
	if cancelled(err) {
		return fmt.Errorf("save request %s: %w", id, contact.ErrConflict)
	}
	return wrap(err, "save request %s", id)
}

func (s *Store) putRequest(it requestItem, condition string, values map[string]types.AttributeValue) (types.TransactWriteItem, error) {
	item, err := attributevalue.MarshalMap(it)
	if err != nil {
		return types.TransactWriteItem{}, fmt.Errorf("encode request %s: %w", it.ID, err)
	}
	return types.TransactWriteItem{Put: &types.Put{
		TableName:                 aws.String(s.tables.Requests),
		Item:                      item,
		ConditionExpression:       aws.String(condition),
		ExpressionAttributeValues: values,
	}}, nil
}

func key(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"pk": str(pk), "sk": str(sk)}
}

func str(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }

func num(n int) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: fmt.Sprint(n)}
}

func stringAttr(item map[string]types.AttributeValue, name string) string {
	if v, ok := item[name].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

func encodeCursor(v any) string {
	b, _ := json.Marshal(v) // strings and a struct of strings always encode
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor[T any](cursor string) (T, error) {
	var v T
	if cursor == "" {
		return v, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil || json.Unmarshal(b, &v) != nil {
		return v, badCursor()
	}
	return v, nil
}

func badCursor() error {
	return contact.Errorf(contact.ErrInvalid, "invalid_cursor", "the cursor is not one this API returned")
}
