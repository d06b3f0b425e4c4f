package store

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/servicecontacts/servicecontacts/shared/contact"
)

// batchDueShard is the ByDue partition of the batches that have not told their outcomes:
// one key, as for the records; a batch is due once, late in its life.
const batchDueShard = "batch#due"

// batchItem is a batch, kept in the requests table next to its requests and purged like
// them. It names its requests; each request names its batch. At most 100 services with 3
// requests each and their parties keep it far below DynamoDB's 400 KB item limit.
type batchItem struct {
	PK           string            `dynamodbav:"pk"`
	SK           string            `dynamodbav:"sk"`
	ID           string            `dynamodbav:"id"`
	RequestedBy  string            `dynamodbav:"requestedBy"`
	Wanted       map[string]string `dynamodbav:"wanted"`
	CreatedAt    string            `dynamodbav:"createdAt"`
	ExpiresAt    string            `dynamodbav:"expiresAt"`
	Items        []batchEntry      `dynamodbav:"items"`
	Parties      []batchPartyItem  `dynamodbav:"parties,omitempty"`
	Resends      int               `dynamodbav:"resends"`
	LastResendAt string            `dynamodbav:"lastResendAt,omitempty"`
	Told         bool              `dynamodbav:"told"`
	TellingAt    string            `dynamodbav:"tellingAt,omitempty"`
	DueShard     string            `dynamodbav:"dueShard,omitempty"`
	DueAt        string            `dynamodbav:"dueAt,omitempty"`
	Version      int               `dynamodbav:"version"`
	PurgeAt      int64             `dynamodbav:"purgeAt"`
}

type batchEntry struct {
	ServiceID    string   `dynamodbav:"serviceId"`
	Changes      []string `dynamodbav:"changes,omitempty"`
	ErrorKind    string   `dynamodbav:"errorKind,omitempty"`
	ErrorCode    string   `dynamodbav:"errorCode,omitempty"`
	ErrorMessage string   `dynamodbav:"errorMessage,omitempty"`
}

type batchPartyItem struct {
	NIC            string   `dynamodbav:"nic"`
	TokenHash      string   `dynamodbav:"tokenHash"`
	ReplacedHashes []string `dynamodbav:"replacedHashes,omitempty"`
	Changes        []string `dynamodbav:"changes"`
	Bounced        bool     `dynamodbav:"bounced,omitempty"`
}

// errorKinds names the kinds of domain errors a batch item may keep.
var errorKinds = map[string]error{
	"invalid": contact.ErrInvalid, "not_found": contact.ErrNotFound, "forbidden": contact.ErrForbidden,
	"conflict": contact.ErrConflict, "rule": contact.ErrRule, "rate_limited": contact.ErrRateLimited,
	"unavailable": contact.ErrUnavailable, "gone": contact.ErrGone,
}

func errorKindName(kind error) string {
	for name, k := range errorKinds {
		if k == kind {
			return name
		}
	}
	return "rule"
}

func batchPK(id string) string { return batchPrefix + id }

func toBatchItem(b contact.Batch, purgeAt time.Time) batchItem {
	it := batchItem{
		PK: batchPK(b.ID), SK: batchSK, ID: b.ID, RequestedBy: b.RequestedBy, Wanted: holdersItem(b.Wanted),
		CreatedAt: formatTime(b.CreatedAt), ExpiresAt: formatTime(b.ExpiresAt), Resends: b.Resends,
		LastResendAt: formatTime(b.LastResendAt), Told: b.Told, TellingAt: formatTime(b.TellingAt),
		Version: b.Version, PurgeAt: purgeAt.Unix(),
	}
	if !b.DueAt.IsZero() {
		it.DueShard, it.DueAt = batchDueShard, formatTime(b.DueAt)
	}
	for _, e := range b.Items {
		entry := batchEntry{ServiceID: e.ServiceID, Changes: e.Changes}
		if e.Error != nil {
			entry.ErrorKind, entry.ErrorCode, entry.ErrorMessage = errorKindName(e.Error.Kind), e.Error.Code, e.Error.Message
		}
		it.Items = append(it.Items, entry)
	}
	for _, p := range b.Parties {
		it.Parties = append(it.Parties, batchPartyItem{NIC: p.NIC, TokenHash: p.TokenHash, ReplacedHashes: p.ReplacedHashes, Changes: p.Changes, Bounced: p.Bounced})
	}
	return it
}

func (it batchItem) batch() contact.Batch {
	b := contact.Batch{
		ID: it.ID, RequestedBy: it.RequestedBy, Wanted: map[contact.Role]string{}, CreatedAt: parseTime(it.CreatedAt),
		ExpiresAt: parseTime(it.ExpiresAt), Resends: it.Resends, LastResendAt: parseTime(it.LastResendAt),
		Told: it.Told, TellingAt: parseTime(it.TellingAt), DueAt: parseTime(it.DueAt), Version: it.Version,
	}
	for role, nic := range it.Wanted {
		b.Wanted[contact.Role(role)] = nic
	}
	for _, e := range it.Items {
		item := contact.BatchItem{ServiceID: e.ServiceID, Changes: e.Changes}
		if e.ErrorCode != "" {
			kind, ok := errorKinds[e.ErrorKind]
			if !ok {
				kind = contact.ErrRule
			}
			item.Error = &contact.Error{Kind: kind, Code: e.ErrorCode, Message: e.ErrorMessage}
		}
		b.Items = append(b.Items, item)
	}
	for _, p := range it.Parties {
		b.Parties = append(b.Parties, contact.BatchParty{NIC: p.NIC, TokenHash: p.TokenHash, ReplacedHashes: p.ReplacedHashes, Changes: p.Changes, Bounced: p.Bounced})
	}
	return b
}

// CreateBatch writes a new batch at version 1.
func (s *Store) CreateBatch(ctx context.Context, b contact.Batch) error {
	b.Version = 1
	item, err := attributevalue.MarshalMap(toBatchItem(b, b.ExpiresAt.Add(s.retention)))
	if err != nil {
		return fmt.Errorf("encode batch %s: %w", b.ID, err)
	}
	_, err = s.api.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(s.tables.Requests), Item: item, ConditionExpression: aws.String("attribute_not_exists(pk)"),
	})
	if err := putError(err); err != nil {
		return fmt.Errorf("create batch %s: %w", b.ID, err)
	}
	return nil
}

// Batch reads a batch.
func (s *Store) Batch(ctx context.Context, id string) (contact.Batch, error) {
	if !fitsPartitionKey(batchPK(id)) {
		return contact.Batch{}, contact.Errorf(contact.ErrNotFound, "batch_not_found", "batch not found")
	}
	out, err := s.api.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.tables.Requests), Key: key(batchPK(id), batchSK), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return contact.Batch{}, wrap(err, "get batch %s", id)
	}
	if len(out.Item) == 0 {
		return contact.Batch{}, contact.Errorf(contact.ErrNotFound, "batch_not_found", "batch %s not found", id)
	}
	var it batchItem
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return contact.Batch{}, fmt.Errorf("decode batch %s: %w", id, err)
	}
	return it.batch(), nil
}

// SaveBatch writes b over the version it was read at.
func (s *Store) SaveBatch(ctx context.Context, b contact.Batch) (contact.Batch, error) {
	expected := b.Version
	b.Version++
	if err := s.putOverVersion(ctx, toBatchItem(b, b.ExpiresAt.Add(s.retention)), expected); err != nil {
		return contact.Batch{}, fmt.Errorf("save batch %s: %w", b.ID, err)
	}
	return b, nil
}

// DueBatches reads the batches' partition of the ByDue index, most overdue first.
func (s *Store) DueBatches(ctx context.Context, t time.Time, limit int) ([]string, error) {
	return s.dueIn(ctx, batchDueShard, batchPrefix, t, limit)
}

// Changes reads requests by id, 100 to a BatchGetItem, in the order of ids; those not found
// are left out.
func (s *Store) Changes(ctx context.Context, ids []string) ([]contact.Change, error) {
	index := make([]involvedItem, 0, len(ids))
	for _, id := range ids {
		if fitsPartitionKey(requestPK(id)) {
			index = append(index, involvedItem{RequestID: id})
		}
	}
	if len(index) == 0 {
		return nil, nil
	}
	byID, err := s.changes(ctx, index)
	if err != nil {
		return nil, err
	}
	out := make([]contact.Change, 0, len(ids))
	for _, id := range ids {
		if c, ok := byID[id]; ok {
			out = append(out, c)
		}
	}
	return out, nil
}
