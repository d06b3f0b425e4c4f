package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/servicecontacts/servicecontacts/shared/contact"
)

// Seed is a set of accounts and services to load, in the local stack's seed file format.
type Seed struct {
	Accounts []SeedAccount `json:"accounts"`
	Services []SeedService `json:"services"`
}

// SeedAccount is an account of a seed.
type SeedAccount struct {
	NIC          string `json:"nic"`
	Email        string `json:"email"`
	Language     string `json:"language"`
	GoodStanding bool   `json:"goodStanding"`
}

// SeedService is a service of a seed with the NIC handles of its three contacts.
type SeedService struct {
	ID      string `json:"id"`
	Type    string `json:"type"`
	Admin   string `json:"admin"`
	Tech    string `json:"tech"`
	Billing string `json:"billing"`
}

// ReadSeed decodes and checks a seed: NIC handles well formed (and stored lowercase), every
// contact an account of the seed, no unknown fields.
func ReadSeed(r io.Reader) (Seed, error) {
	var s Seed
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return Seed{}, fmt.Errorf("decode seed: %w", err)
	}
	return s, s.normalize()
}

func (s *Seed) normalize() error {
	known := map[string]bool{}
	for i := range s.Accounts {
		nic, err := contact.NormalizeNIC(s.Accounts[i].NIC)
		if err != nil {
			return fmt.Errorf("account %d: %w", i+1, err)
		}
		s.Accounts[i].NIC = nic
		known[nic] = true
	}
	for i := range s.Services {
		svc := &s.Services[i]
		if svc.ID == "" || svc.Type == "" {
			return fmt.Errorf("service %d: id and type are required", i+1)
		}
		// '#' separates the service id from the role in the ByHolder index's sort key.
		if strings.Contains(svc.ID, "#") {
			return fmt.Errorf("service %d: id %q contains '#'", i+1, svc.ID)
		}
		for _, holder := range []*string{&svc.Admin, &svc.Tech, &svc.Billing} {
			nic, err := contact.NormalizeNIC(*holder)
			if err != nil {
				return fmt.Errorf("service %s: %w", svc.ID, err)
			}
			if !known[nic] {
				return fmt.Errorf("service %s: contact %s is not an account of the seed", svc.ID, nic)
			}
			*holder = nic
		}
	}
	return nil
}

// Load writes the seed's accounts and services, replacing any with the same keys; the role
// items it writes carry no lock.
func (s *Store) Load(ctx context.Context, seed Seed) error {
	// Normalize a copy: callers may load one seed into several stores at once.
	seed = Seed{Accounts: slices.Clone(seed.Accounts), Services: slices.Clone(seed.Services)}
	if err := seed.normalize(); err != nil {
		return err
	}
	var items []any
	for _, a := range seed.Accounts {
		items = append(items, accountItem{
			PK: accountPK(a.NIC), SK: profileSK, NIC: a.NIC, Email: a.Email,
			Language: string(contact.ParseLanguage(a.Language)), GoodStanding: a.GoodStanding,
		})
	}
	for _, svc := range seed.Services {
		items = append(items,
			serviceItem{PK: servicePK(svc.ID), SK: serviceSK, ID: svc.ID, Type: svc.Type},
			newRoleItem(svc.ID, svc.Type, contact.Admin, svc.Admin),
			newRoleItem(svc.ID, svc.Type, contact.Tech, svc.Tech),
			newRoleItem(svc.ID, svc.Type, contact.Billing, svc.Billing),
		)
	}
	return s.batchPut(ctx, s.tables.Contacts, items)
}

// maxBatchWrite is the most items one BatchWriteItem call accepts.
const maxBatchWrite = 25

// batchPut writes items in calls of at most maxBatchWrite, until DynamoDB has processed
// every item.
func (s *Store) batchPut(ctx context.Context, table string, items []any) error {
	for start := 0; start < len(items); start += maxBatchWrite {
		var writes []types.WriteRequest
		for _, it := range items[start:min(start+maxBatchWrite, len(items))] {
			item, err := attributevalue.MarshalMap(it)
			if err != nil {
				return fmt.Errorf("encode item for %s: %w", table, err)
			}
			writes = append(writes, types.WriteRequest{PutRequest: &types.PutRequest{Item: item}})
		}
		for attempt := 0; len(writes) > 0; attempt++ {
			if err := backoff(ctx, attempt); err != nil {
				return fmt.Errorf("write into %s: %w", table, err)
			}
			out, err := s.api.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{table: writes}})
			if err != nil {
				return wrap(err, "write into %s", table)
			}
			writes = out.UnprocessedItems[table]
		}
	}
	return nil
}

// SetHolder hands a role to nic directly, outside any request: an operator's correction. A
// request open on the role keeps its lock, and fails when it is applied.
func (s *Store) SetHolder(ctx context.Context, serviceID string, role contact.Role, nic string) error {
	_, err := s.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(s.tables.Contacts),
		Key:                       key(roleKey(serviceID, role)),
		UpdateExpression:          aws.String("SET holder = :nic"),
		ConditionExpression:       aws.String("attribute_exists(pk)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":nic": str(nic)},
	})
	if isConditionFailure(err) {
		return contact.Errorf(contact.ErrNotFound, "service_not_found", "service %s has no %s role", serviceID, role)
	}
	if err != nil {
		return wrap(err, "set %s of service %s", role, serviceID)
	}
	return nil
}

// SetStanding records whether an account is in good standing with its payments.
func (s *Store) SetStanding(ctx context.Context, nic string, good bool) error {
	_, err := s.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(s.tables.Contacts),
		Key:                       key(accountPK(nic), profileSK),
		UpdateExpression:          aws.String("SET goodStanding = :good"),
		ConditionExpression:       aws.String("attribute_exists(pk)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":good": boolean(good)},
	})
	if isConditionFailure(err) {
		return contact.Errorf(contact.ErrNotFound, "account_not_found", "no account %s", nic)
	}
	if err != nil {
		return wrap(err, "set standing of %s", nic)
	}
	return nil
}

func isConditionFailure(err error) bool {
	var failed *types.ConditionalCheckFailedException
	return errors.As(err, &failed)
}
