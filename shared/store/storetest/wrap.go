package storetest

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/servicecontacts/servicecontacts/shared/store"
)

// Wrap returns api with f's faults in front of it, for a backend that is not reached over
// HTTP (the embedded one): a failing call returns the error the SDK would have decoded from
// DynamoDB's answer, so the store sees the same errors on both backends. Only calls made
// with a context from Scope fail.
func (f *Faults) Wrap(api store.API) store.API {
	return &faultyAPI{API: api, f: f}
}

type faultyAPI struct {
	store.API
	f *Faults
}

// fail returns the fault's error if the call is to fail.
func (a *faultyAPI) fail(ctx context.Context, op string) error {
	if ctx.Value(scopeKey{}) != a.f {
		return nil
	}
	fault, ok := a.f.take(op)
	if !ok {
		return nil
	}
	return fault.sdkError()
}

// sdkError is what the SDK returns for the fault's answer.
func (fault Fault) sdkError() error {
	msg := aws.String(fault.Message)
	switch fault.Type {
	case "ProvisionedThroughputExceededException":
		return &types.ProvisionedThroughputExceededException{Message: msg}
	case "RequestLimitExceeded":
		return &types.RequestLimitExceeded{Message: msg}
	case "ConditionalCheckFailedException":
		return &types.ConditionalCheckFailedException{Message: msg}
	case "TransactionCanceledException":
		var reasons []types.CancellationReason
		for _, r := range fault.Extra["CancellationReasons"].([]map[string]string) {
			reasons = append(reasons, types.CancellationReason{Code: aws.String(r["Code"]), Message: aws.String(r["Message"])})
		}
		return &types.TransactionCanceledException{Message: msg, CancellationReasons: reasons}
	}
	return &smithyhttp.RequestSendError{Err: refusal()} // Unreachable, and anything unknown
}

func (a *faultyAPI) GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	if err := a.fail(ctx, "GetItem"); err != nil {
		return nil, err
	}
	return a.API.GetItem(ctx, in, opts...)
}

func (a *faultyAPI) PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	if err := a.fail(ctx, "PutItem"); err != nil {
		return nil, err
	}
	return a.API.PutItem(ctx, in, opts...)
}

func (a *faultyAPI) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	if err := a.fail(ctx, "UpdateItem"); err != nil {
		return nil, err
	}
	return a.API.UpdateItem(ctx, in, opts...)
}

func (a *faultyAPI) Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	if err := a.fail(ctx, "Query"); err != nil {
		return nil, err
	}
	return a.API.Query(ctx, in, opts...)
}

func (a *faultyAPI) BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	if err := a.fail(ctx, "BatchGetItem"); err != nil {
		return nil, err
	}
	return a.API.BatchGetItem(ctx, in, opts...)
}

func (a *faultyAPI) BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	if err := a.fail(ctx, "BatchWriteItem"); err != nil {
		return nil, err
	}
	return a.API.BatchWriteItem(ctx, in, opts...)
}

func (a *faultyAPI) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	if err := a.fail(ctx, "TransactWriteItems"); err != nil {
		return nil, err
	}
	return a.API.TransactWriteItems(ctx, in, opts...)
}
