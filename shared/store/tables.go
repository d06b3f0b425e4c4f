package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Tables names the two tables.
type Tables struct {
	Contacts string // accounts, services and the role items that say who holds what
	Requests string // contact-change requests and the items that index them by account
}

// Index names, as the SAM template declares them.
const (
	ByHolder   = "ByHolder"   // contacts: role items by holder NIC
	ByInvolved = "ByInvolved" // requests: involvement items by NIC, newest first
	ByDue      = "ByDue"      // requests: those the reconciler must look at, by when
)

// TTLAttribute is the requests table's time-to-live attribute, in epoch seconds. The SAM
// template enables TTL on it; tables made by CreateTables keep their items.
const TTLAttribute = "purgeAt"

// ContactsTable is the contacts table's definition. The SAM template declares the same keys,
// index and projection; a test holds them together.
func ContactsTable(name string) *dynamodb.CreateTableInput {
	return &dynamodb.CreateTableInput{
		TableName:   aws.String(name),
		BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("sk"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("holder"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("holderKey"), AttributeType: types.ScalarAttributeTypeS},
		},
		KeySchema: keys("pk", "sk"),
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{
			IndexName:  aws.String(ByHolder),
			KeySchema:  keys("holder", "holderKey"),
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
		}},
	}
}

// RequestsTable is the requests table's definition.
func RequestsTable(name string) *dynamodb.CreateTableInput {
	return &dynamodb.CreateTableInput{
		TableName:   aws.String(name),
		BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("sk"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("involved"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("involvedKey"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("dueShard"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("dueAt"), AttributeType: types.ScalarAttributeTypeS},
		},
		KeySchema: keys("pk", "sk"),
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{
			IndexName: aws.String(ByInvolved),
			KeySchema: keys("involved", "involvedKey"),
			Projection: &types.Projection{
				ProjectionType:   types.ProjectionTypeInclude,
				NonKeyAttributes: []string{"requestId"},
			},
		}, {
			// Sparse: only requests that are open or owe emails carry its keys.
			IndexName:  aws.String(ByDue),
			KeySchema:  keys("dueShard", "dueAt"),
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeKeysOnly},
		}},
	}
}

func keys(hash, rng string) []types.KeySchemaElement {
	return []types.KeySchemaElement{
		{AttributeName: aws.String(hash), KeyType: types.KeyTypeHash},
		{AttributeName: aws.String(rng), KeyType: types.KeyTypeRange},
	}
}

// TableAPI is what CreateTables needs.
type TableAPI interface {
	CreateTable(ctx context.Context, in *dynamodb.CreateTableInput, opts ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error)
	DescribeTable(ctx context.Context, in *dynamodb.DescribeTableInput, opts ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
}

// CreateTables creates both tables, unless they exist, and waits until they and their
// indexes are active. It is for the local stack and tests; on AWS the SAM template creates
// them.
func CreateTables(ctx context.Context, api TableAPI, t Tables) error {
	_, err := EnsureTables(ctx, api, t)
	return err
}

// EnsureTables is CreateTables, and reports whether it created both tables: a stack run
// again on the same endpoint finds them, with what an earlier run left in them.
func EnsureTables(ctx context.Context, api TableAPI, t Tables) (created bool, err error) {
	created = true
	for _, in := range []*dynamodb.CreateTableInput{ContactsTable(t.Contacts), RequestsTable(t.Requests)} {
		_, err := api.CreateTable(ctx, in)
		if _, exists := errors.AsType[*types.ResourceInUseException](err); exists {
			created = false // kept from an earlier run: `make run DYNAMODB_ENDPOINT=...` again
			continue
		}
		if err != nil {
			return false, fmt.Errorf("create table %s: %w", aws.ToString(in.TableName), err)
		}
	}
	for _, name := range []string{t.Contacts, t.Requests} {
		if err := waitActive(ctx, api, name); err != nil {
			return false, err
		}
	}
	return created, nil
}

func waitActive(ctx context.Context, api TableAPI, name string) error {
	for {
		out, err := api.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
		if err != nil {
			return fmt.Errorf("describe table %s: %w", name, err)
		}
		if active(out.Table) {
			return nil
		}
		select {
		case <-ctx.Done():
			return errors.Join(fmt.Errorf("table %s not active", name), ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func active(t *types.TableDescription) bool {
	if t == nil || (t.TableStatus != "" && t.TableStatus != types.TableStatusActive) {
		return false
	}
	for _, g := range t.GlobalSecondaryIndexes {
		if g.IndexStatus != "" && g.IndexStatus != types.IndexStatusActive {
			return false
		}
	}
	return true
}
