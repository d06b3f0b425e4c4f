package store

import (
	"context"
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

// recordDueShard is the ByDue partition of the records: operator edits are few, and one
// partition key holds those still owing something.
const recordDueShard = "record#due"

// recordItem is an operator's edit of an account or a service, kept in the requests table
// next to the requests it may end, and purged like them.
type recordItem struct {
	PK            string      `dynamodbav:"pk"`
	SK            string      `dynamodbav:"sk"`
	ID            string      `dynamodbav:"id"`
	At            string      `dynamodbav:"at"`
	By            string      `dynamodbav:"by"`
	Subject       string      `dynamodbav:"subject"`
	Key           string      `dynamodbav:"key"`
	Action        string      `dynamodbav:"action"`
	Changes       []string    `dynamodbav:"changes,omitempty"`
	Ends          []string    `dynamodbav:"ends,omitempty"`
	ReasonCode    string      `dynamodbav:"reasonCode,omitempty"`
	ReasonRole    string      `dynamodbav:"reasonRole,omitempty"`
	ReasonAccount string      `dynamodbav:"reasonAccount,omitempty"`
	Events        []eventOwed `dynamodbav:"events,omitempty"`
	DueShard      string      `dynamodbav:"dueShard,omitempty"`
	DueAt         string      `dynamodbav:"dueAt,omitempty"`
	Version       int         `dynamodbav:"version"`
	PurgeAt       int64       `dynamodbav:"purgeAt"`
}

func recordPK(id string) string { return recordPrefix + id }

func toRecordItem(r contact.Record, purgeAt time.Time) recordItem {
	it := recordItem{
		PK: recordPK(r.ID), SK: recordSK, ID: r.ID, At: formatTime(r.At), By: r.By, Subject: string(r.Subject),
		Key: r.Key, Action: string(r.Action), Changes: r.Changes, Ends: r.Ends, ReasonCode: string(r.Reason.Code),
		ReasonRole: string(r.Reason.Role), ReasonAccount: r.Reason.Account, Events: toEventsOwed(r.Events),
		Version: r.Version, PurgeAt: purgeAt.Unix(),
	}
	if !r.DueAt.IsZero() {
		it.DueShard, it.DueAt = recordDueShard, formatTime(r.DueAt)
	}
	return it
}

func (it recordItem) record() contact.Record {
	return contact.Record{
		ID: it.ID, At: parseTime(it.At), By: it.By, Subject: contact.RecordSubject(it.Subject), Key: it.Key,
		Action: contact.RecordAction(it.Action), Changes: it.Changes, Ends: it.Ends,
		Reason: contact.Failure{Code: contact.FailureCode(it.ReasonCode), Role: contact.Role(it.ReasonRole), Account: it.ReasonAccount},
		Events: fromEventsOwed(it.Events), DueAt: parseTime(it.DueAt), Version: it.Version,
	}
}

// putRecord is the write of a new record, at version 1.
func (s *Store) putRecord(r contact.Record) (types.TransactWriteItem, error) {
	r.Version = 1
	item, err := attributevalue.MarshalMap(toRecordItem(r, r.At.Add(s.retention)))
	if err != nil {
		return types.TransactWriteItem{}, fmt.Errorf("encode record %s: %w", r.ID, err)
	}
	return types.TransactWriteItem{Put: &types.Put{
		TableName: aws.String(s.tables.Requests), Item: item, ConditionExpression: aws.String("attribute_not_exists(pk)"),
	}}, nil
}

// PutAccount writes an account and the record of its edit.
func (s *Store) PutAccount(ctx context.Context, a contact.Account, rec contact.Record) error {
	item, err := attributevalue.MarshalMap(toAccountItem(a))
	if err != nil {
		return fmt.Errorf("encode account %s: %w", a.NIC, err)
	}
	record, err := s.putRecord(rec)
	if err != nil {
		return err
	}
	writes := []types.TransactWriteItem{{Put: &types.Put{TableName: aws.String(s.tables.Contacts), Item: item}}, record}
	_, err = s.api.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: writes})
	if err := transactionError(err, false); err != nil {
		return fmt.Errorf("put account %s: %w", a.NIC, err)
	}
	return nil
}

// PutService writes a service, its three role items (keeping their locks) and the record
// of the edit, if the roles are still as prev says.
func (s *Store) PutService(ctx context.Context, svc contact.Service, prev contact.Service, rec contact.Record) error {
	item, err := attributevalue.MarshalMap(serviceItem{PK: servicePK(svc.ID), SK: serviceSK, ID: svc.ID, Type: svc.Type})
	if err != nil {
		return fmt.Errorf("encode service %s: %w", svc.ID, err)
	}
	writes := []types.TransactWriteItem{{Put: &types.Put{TableName: aws.String(s.tables.Contacts), Item: item}}}
	for _, role := range contact.Roles {
		it := newRoleItem(svc.ID, svc.Type, role, svc.Contacts[role])
		it.OpenRequest = prev.Open[role]
		item, err := attributevalue.MarshalMap(it)
		if err != nil {
			return fmt.Errorf("encode %s of service %s: %w", role, svc.ID, err)
		}
		put := &types.Put{TableName: aws.String(s.tables.Contacts), Item: item}
		if prev.ID == "" {
			put.ConditionExpression = aws.String("attribute_not_exists(pk)")
		} else {
			put.ConditionExpression, put.ExpressionAttributeValues = roleUnchanged(prev, role)
		}
		writes = append(writes, types.TransactWriteItem{Put: put})
	}
	record, err := s.putRecord(rec)
	if err != nil {
		return err
	}
	writes = append(writes, record)
	_, err = s.api.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: writes})
	if err := transactionError(err, false); err != nil {
		return fmt.Errorf("put service %s: %w", svc.ID, err)
	}
	return nil
}

// DeleteService deletes a service and its role items, if the roles are still as prev says,
// and writes the record of the deletion.
func (s *Store) DeleteService(ctx context.Context, prev contact.Service, rec contact.Record) error {
	writes := []types.TransactWriteItem{{Delete: &types.Delete{
		TableName: aws.String(s.tables.Contacts), Key: key(servicePK(prev.ID), serviceSK),
		ConditionExpression: aws.String("attribute_exists(pk)"),
	}}}
	for _, role := range contact.Roles {
		cond, values := roleUnchanged(prev, role)
		writes = append(writes, types.TransactWriteItem{Delete: &types.Delete{
			TableName: aws.String(s.tables.Contacts), Key: key(roleKey(prev.ID, role)),
			ConditionExpression: cond, ExpressionAttributeValues: values,
		}})
	}
	record, err := s.putRecord(rec)
	if err != nil {
		return err
	}
	writes = append(writes, record)
	_, err = s.api.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: writes})
	if err := transactionError(err, false); err != nil {
		return fmt.Errorf("delete service %s: %w", prev.ID, err)
	}
	return nil
}

// roleUnchanged is the condition that a role item still has the holder and the lock of prev.
func roleUnchanged(prev contact.Service, role contact.Role) (*string, map[string]types.AttributeValue) {
	return aws.String("holder = :holder AND openRequest = :open"), map[string]types.AttributeValue{
		":holder": str(prev.Contacts[role]), ":open": str(prev.Open[role]),
	}
}

// MarkBounced records when mail to the account's address bounced, if it is still address.
func (s *Store) MarkBounced(ctx context.Context, nic, address string, at time.Time) error {
	_, err := s.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(s.tables.Contacts),
		Key:                       key(accountPK(nic), profileSK),
		UpdateExpression:          aws.String("SET bouncedAt = :at"),
		ConditionExpression:       aws.String("email = :address"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":at": str(formatTime(at)), ":address": str(address)},
	})
	if isConditionFailure(err) {
		return contact.Errorf(contact.ErrConflict, "address_changed", "account %s is gone or has another address", nic)
	}
	if err != nil {
		return wrap(err, "mark the address of %s bouncing", nic)
	}
	return nil
}

// Record reads an operator's edit.
func (s *Store) Record(ctx context.Context, id string) (contact.Record, error) {
	out, err := s.api.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.tables.Requests), Key: key(recordPK(id), recordSK), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return contact.Record{}, wrap(err, "get record %s", id)
	}
	if len(out.Item) == 0 {
		return contact.Record{}, contact.Errorf(contact.ErrNotFound, "record_not_found", "record %s not found", id)
	}
	var it recordItem
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return contact.Record{}, fmt.Errorf("decode record %s: %w", id, err)
	}
	return it.record(), nil
}

// SaveRecord writes rec over the version it was read at.
func (s *Store) SaveRecord(ctx context.Context, rec contact.Record) (contact.Record, error) {
	expected := rec.Version
	rec.Version++
	if err := s.putOverVersion(ctx, toRecordItem(rec, rec.At.Add(s.retention)), expected); err != nil {
		return contact.Record{}, fmt.Errorf("save record %s: %w", rec.ID, err)
	}
	return rec, nil
}

// putOverVersion writes an item of the requests table if the stored one is still at version
// expected.
func (s *Store) putOverVersion(ctx context.Context, v any, expected int) error {
	item, err := attributevalue.MarshalMap(v)
	if err != nil {
		return fmt.Errorf("encode: %w", err)
	}
	_, err = s.api.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(s.tables.Requests), Item: item,
		ConditionExpression:       aws.String("version = :expected"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":expected": num(expected)},
	})
	return putError(err)
}

// DueRecords reads the records' partition of the ByDue index, most overdue first.
func (s *Store) DueRecords(ctx context.Context, t time.Time, limit int) ([]string, error) {
	return s.dueIn(ctx, recordDueShard, recordPrefix, t, limit)
}

// dueIn reads one partition of the ByDue index up to t, most overdue first, and returns the
// ids of its items (their keys without prefix).
func (s *Store) dueIn(ctx context.Context, shard, prefix string, t time.Time, limit int) ([]string, error) {
	out, err := s.api.Query(ctx, &dynamodb.QueryInput{
		TableName:              aws.String(s.tables.Requests),
		IndexName:              aws.String(ByDue),
		KeyConditionExpression: aws.String("dueShard = :shard AND dueAt <= :t"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":shard": str(shard), ":t": str(formatTime(t)),
		},
		Limit: aws.Int32(int32(limit)),
	})
	if err != nil {
		return nil, wrap(err, "query due items of %s", shard)
	}
	ids := make([]string, 0, len(out.Items))
	for _, item := range out.Items {
		ids = append(ids, strings.TrimPrefix(stringAttr(item, "pk"), prefix))
	}
	return slices.Clip(ids), nil
}
