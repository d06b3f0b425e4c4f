package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/servicecontacts/servicecontacts/shared/contact"
)

// CreateChanges writes the requests, at version 1, with their index items and their role
// locks, and counts uses, in one transaction.
func (s *Store) CreateChanges(ctx context.Context, changes []contact.Change, uses []contact.Use) error {
	var writes []types.TransactWriteItem
	for _, c := range changes {
		c.Version = 1
		purgeAt := c.CreatedAt.Add(s.retention)
		put, err := s.putRequest(c, "attribute_not_exists(pk)", nil)
		if err != nil {
			return err
		}
		writes = append(writes, put)
		// Each request is indexed under every account involved, and under its service.
		for _, under := range append(c.Involved(), serviceIndexKey(c.ServiceID)) {
			item, err := attributevalue.MarshalMap(newInvolvedItem(c, under, purgeAt))
			if err != nil {
				return fmt.Errorf("encode index item of request %s: %w", c.ID, err)
			}
			writes = append(writes, types.TransactWriteItem{Put: &types.Put{TableName: aws.String(s.tables.Requests), Item: item}})
		}
		writes = append(writes, types.TransactWriteItem{Update: &types.Update{
			TableName:           aws.String(s.tables.Contacts),
			Key:                 key(roleKey(c.ServiceID, c.Role)),
			UpdateExpression:    aws.String("SET openRequest = :id"),
			ConditionExpression: aws.String("holder = :from AND (attribute_not_exists(openRequest) OR openRequest = :empty)"),
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":id": str(c.ID), ":from": str(c.From), ":empty": str(""),
			},
		}})
	}
	if len(writes) == 0 {
		return nil
	}
	err := s.transactCounted(ctx, writes, uses, func(err error) error { return transactionError(err, false) })
	if err != nil {
		return fmt.Errorf("create %d requests: %w", len(changes), err)
	}
	return nil
}

// Change reads a request.
func (s *Store) Change(ctx context.Context, id string) (contact.Change, error) {
	out, err := s.api.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.tables.Requests),
		Key:            key(requestPK(id), requestSK),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return contact.Change{}, wrap(err, "get request %s", id)
	}
	if len(out.Item) == 0 {
		return contact.Change{}, contact.Errorf(contact.ErrNotFound, "request_not_found", "request %s not found", id)
	}
	var it requestItem
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return contact.Change{}, fmt.Errorf("decode request %s: %w", id, err)
	}
	return it.change(), nil
}

// changesCursor is where a page of ChangesOf stopped: the index item of its last request.
// It names the account too, so that one account's cursor cannot walk another's list.
type changesCursor struct {
	Involved    string `json:"i"`
	InvolvedKey string `json:"k"`
	RequestID   string `json:"r"`
}

// ChangesOf pages through the requests involving nic, newest first. It reads the ByInvolved
// index a page (and one more item) at a time and keeps reading until the page is full, so
// that a state filter still gives full pages.
func (s *Store) ChangesOf(ctx context.Context, nic string, q contact.ChangeQuery) (contact.ChangePage, error) {
	return s.changesUnder(ctx, nic, q)
}

// ChangesOfService pages through the requests on a service, newest first, as ChangesOf does.
func (s *Store) ChangesOfService(ctx context.Context, serviceID string, q contact.ChangeQuery) (contact.ChangePage, error) {
	return s.changesUnder(ctx, serviceIndexKey(serviceID), q)
}

// serviceIndexKey is the ByInvolved key of a service's requests. No NIC handle holds "#",
// so it never meets an account's.
func serviceIndexKey(serviceID string) string { return servicePrefix + serviceID }

// changesUnder pages through the requests indexed under nic, an account's NIC handle or a
// service's index key.
func (s *Store) changesUnder(ctx context.Context, nic string, q contact.ChangeQuery) (contact.ChangePage, error) {
	limit := pageLimit(q.Limit)
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(s.tables.Requests),
		IndexName:                 aws.String(ByInvolved),
		KeyConditionExpression:    aws.String("involved = :nic"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":nic": str(nic)},
		ScanIndexForward:          aws.Bool(false),
		Limit:                     aws.Int32(int32(limit + 1)),
	}
	if q.Cursor != "" {
		cur, err := decodeCursor[changesCursor](q.Cursor)
		if err != nil {
			return contact.ChangePage{}, err
		}
		if cur.Involved != nic || cur.InvolvedKey == "" || cur.RequestID == "" {
			return contact.ChangePage{}, errBadCursor()
		}
		// An index's start key holds the table's key and the index's key.
		in.ExclusiveStartKey = map[string]types.AttributeValue{
			"pk": str(requestPK(cur.RequestID)), "sk": str(involvedPrefix + nic),
			"involved": str(nic), "involvedKey": str(cur.InvolvedKey),
		}
	}
	var page contact.ChangePage
	var last involvedItem // the index item of the page's last request
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
		for _, it := range index {
			c, ok := changes[it.RequestID]
			if !ok || (q.State != "" && c.State != q.State) || (q.Involves != "" && !slices.Contains(c.Involved(), q.Involves)) {
				continue // a request purged before its index items is skipped too
			}
			if len(page.Changes) == limit {
				page.NextCursor = encodeCursor(changesCursor{Involved: nic, InvolvedKey: last.InvolvedKey, RequestID: last.RequestID})
				return page, nil
			}
			page.Changes = append(page.Changes, c)
			last = it
		}
		if len(out.LastEvaluatedKey) == 0 {
			return page, nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

// changes reads the requests behind index items, by id.
func (s *Store) changes(ctx context.Context, index []involvedItem) (map[string]contact.Change, error) {
	keys := make([]map[string]types.AttributeValue, 0, len(index))
	for _, it := range index {
		keys = append(keys, key(requestPK(it.RequestID), requestSK))
	}
	items, err := s.batchGet(ctx, s.tables.Requests, keys)
	if err != nil {
		return nil, err
	}
	byID := make(map[string]contact.Change, len(items))
	for _, item := range items {
		var it requestItem
		if err := attributevalue.UnmarshalMap(item, &it); err != nil {
			return nil, fmt.Errorf("decode request: %w", err)
		}
		byID[it.ID] = it.change()
	}
	return byID, nil
}

// SaveChange writes c over the version it was read at. A request that ends releases its role
// in the same transaction, if it still holds it.
func (s *Store) SaveChange(ctx context.Context, c contact.Change) (contact.Change, error) {
	if !c.State.Terminal() {
		return s.SaveBookkeeping(ctx, c)
	}
	put, err := s.putVersioned(&c)
	if err != nil {
		return contact.Change{}, err
	}
	release := types.TransactWriteItem{Update: &types.Update{
		TableName:                 aws.String(s.tables.Contacts),
		Key:                       key(roleKey(c.ServiceID, c.Role)),
		UpdateExpression:          aws.String("SET openRequest = :empty"),
		ConditionExpression:       aws.String("openRequest = :id"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":id": str(c.ID), ":empty": str("")},
	}}
	_, err = s.api.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{put, release}})
	if errors.Is(transactionError(err, true), errLockNotHeld) {
		// The role item is gone (the service was deleted) or no longer locked by c: there
		// is nothing to release, and the request still ends, in one write of its own.
		c.Version--
		return s.SaveBookkeeping(ctx, c)
	}
	if err := transactionError(err, true); err != nil {
		return contact.Change{}, fmt.Errorf("save request %s and release its role: %w", c.ID, err)
	}
	return c, nil
}

// SaveBookkeeping writes c alone over the version it was read at, in any state.
func (s *Store) SaveBookkeeping(ctx context.Context, c contact.Change) (contact.Change, error) {
	put, err := s.putVersioned(&c)
	if err != nil {
		return contact.Change{}, err
	}
	p := put.Put
	_, err = s.api.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: p.TableName, Item: p.Item, ConditionExpression: p.ConditionExpression,
		ExpressionAttributeValues: p.ExpressionAttributeValues,
	})
	if err := putError(err); err != nil {
		return contact.Change{}, fmt.Errorf("save request %s: %w", c.ID, err)
	}
	return c, nil
}

// SaveCounted writes c as SaveBookkeeping does and counts uses, in one transaction.
func (s *Store) SaveCounted(ctx context.Context, c contact.Change, uses []contact.Use) (contact.Change, error) {
	put, err := s.putVersioned(&c)
	if err != nil {
		return contact.Change{}, err
	}
	err = s.transactCounted(ctx, []types.TransactWriteItem{put}, uses, func(err error) error { return transactionError(err, true) })
	if err != nil {
		return contact.Change{}, fmt.Errorf("save request %s: %w", c.ID, err)
	}
	return c, nil
}

// SetTaskToken sets the party's task token with one UpdateItem, conditional on what
// contact.Store names, and returns the item as it then is. The request's due time becomes
// its expiry, copied from the item itself.
func (s *Store) SetTaskToken(ctx context.Context, id string, party int, nic, taskToken string) (contact.Change, error) {
	path := fmt.Sprintf("parties[%d]", party)
	out, err := s.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:        aws.String(s.tables.Requests),
		Key:              key(requestPK(id), requestSK),
		UpdateExpression: aws.String("SET " + path + ".taskToken = :token, version = version + :one, dueAt = expiresAt, dueShard = :shard"),
		ConditionExpression: aws.String(path + ".nic = :nic AND #state = :pending" +
			" AND attribute_not_exists(outbox) AND attribute_not_exists(events) AND attribute_not_exists(answerAgainAt)"),
		ExpressionAttributeNames: map[string]string{"#state": "state"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":token": str(taskToken), ":one": num(1), ":shard": str(dueShard(id)),
			":nic": str(nic), ":pending": str(string(contact.Pending)),
		},
		ReturnValues: types.ReturnValueAllNew,
	})
	if isConditionFailure(err) {
		return contact.Change{}, fmt.Errorf("set the task token of %s on request %s: %w", nic, id, contact.ErrConflict)
	}
	if err != nil {
		return contact.Change{}, wrap(err, "set the task token of %s on request %s", nic, id)
	}
	var it requestItem
	if err := attributevalue.UnmarshalMap(out.Attributes, &it); err != nil {
		return contact.Change{}, fmt.Errorf("decode request %s: %w", id, err)
	}
	return it.change(), nil
}

// DueChanges reads the ByDue index, a query per shard, and returns the ids of the most
// overdue requests first.
func (s *Store) DueChanges(ctx context.Context, t time.Time, limit int) ([]string, error) {
	type due struct{ at, id string }
	var found []due
	for shard := range dueShards {
		name := fmt.Sprintf("due#%d", shard)
		out, err := s.api.Query(ctx, &dynamodb.QueryInput{
			TableName:              aws.String(s.tables.Requests),
			IndexName:              aws.String(ByDue),
			KeyConditionExpression: aws.String("dueShard = :shard AND dueAt <= :t"),
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":shard": str(name), ":t": str(formatTime(t)),
			},
			Limit: aws.Int32(int32(limit)),
		})
		if err != nil {
			return nil, wrap(err, "query due requests in %s", name)
		}
		for _, item := range out.Items {
			found = append(found, due{at: stringAttr(item, "dueAt"), id: requestID(stringAttr(item, "pk"))})
		}
	}
	slices.SortFunc(found, func(a, b due) int { return strings.Compare(a.at, b.at) })
	ids := make([]string, 0, min(len(found), limit))
	for _, d := range found[:min(len(found), limit)] {
		ids = append(ids, d.id)
	}
	return ids, nil
}

// ApplyChange hands the role over, releases the lock and saves the done request, in one
// transaction that re-checks what the change relies on.
func (s *Store) ApplyChange(ctx context.Context, c contact.Change) (contact.Change, error) {
	put, err := s.putVersioned(&c)
	if err != nil {
		return contact.Change{}, err
	}
	writes := []types.TransactWriteItem{put, {Update: &types.Update{
		TableName:           aws.String(s.tables.Contacts),
		Key:                 key(roleKey(c.ServiceID, c.Role)),
		UpdateExpression:    aws.String("SET holder = :to, openRequest = :empty"),
		ConditionExpression: aws.String("holder = :from AND openRequest = :id"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":to": str(c.To), ":from": str(c.From), ":id": str(c.ID), ":empty": str(""),
		},
	}}}
	// The requester must still hold the role whose authority allowed the change (when it
	// is another role than the one changed, whose condition is above): the table's check
	// at apply, held to the instant of the write.
	if c.Authority != "" && c.Authority != c.Role {
		writes = append(writes, types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{
			TableName:                 aws.String(s.tables.Contacts),
			Key:                       key(roleKey(c.ServiceID, c.Authority)),
			ConditionExpression:       aws.String("holder = :requester"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":requester": str(c.RequestedBy)},
		}})
	}
	if c.Role == contact.Billing {
		writes = append(writes, s.inGoodStanding(c.From), s.inGoodStanding(c.To))
	} else {
		writes = append(writes, types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{
			TableName:           aws.String(s.tables.Contacts),
			Key:                 key(accountPK(c.To), profileSK),
			ConditionExpression: aws.String("attribute_exists(pk)"),
		}})
	}
	_, err = s.api.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: writes})
	if err := transactionError(err, true); err != nil {
		return contact.Change{}, fmt.Errorf("apply request %s: %w", c.ID, err)
	}
	return c, nil
}

// inGoodStanding checks that nic's account exists and is in good standing: a missing
// attribute compares false.
func (s *Store) inGoodStanding(nic string) types.TransactWriteItem {
	return types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{
		TableName:                 aws.String(s.tables.Contacts),
		Key:                       key(accountPK(nic), profileSK),
		ConditionExpression:       aws.String("goodStanding = :good"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":good": boolean(true)},
	}}
}

// putVersioned bumps c's version and returns the put that writes it if the stored request
// is still at the version c was read at.
func (s *Store) putVersioned(c *contact.Change) (types.TransactWriteItem, error) {
	expected := c.Version
	c.Version++
	return s.putRequest(*c, "version = :expected", map[string]types.AttributeValue{":expected": num(expected)})
}

func (s *Store) putRequest(c contact.Change, condition string, values map[string]types.AttributeValue) (types.TransactWriteItem, error) {
	item, err := attributevalue.MarshalMap(toRequestItem(c, c.CreatedAt.Add(s.retention)))
	if err != nil {
		return types.TransactWriteItem{}, fmt.Errorf("encode request %s: %w", c.ID, err)
	}
	return types.TransactWriteItem{Put: &types.Put{
		TableName:                 aws.String(s.tables.Requests),
		Item:                      item,
		ConditionExpression:       aws.String(condition),
		ExpressionAttributeValues: values,
	}}, nil
}

// putError classifies the failure of a request's versioned put: a failed condition, or
// another transaction writing the item, means it changed since it was read.
func putError(err error) error {
	var busy *types.TransactionConflictException
	switch {
	case err == nil:
		return nil
	case isConditionFailure(err), errors.As(err, &busy):
		return contact.ErrVersionConflict
	}
	return wrap(err, "put")
}
