// Package database connects the local tools (the local stack, the bulk load) to DynamoDB:
// DynamoDB Local, or AWS with the SDK's usual configuration. The functions build their
// clients themselves (config.AWS), not to link the SDK's shared configuration.
package database

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// EndpointVariable names the DynamoDB endpoint the local tools use instead of AWS's, such as
// DynamoDB Local: `make run DYNAMODB_ENDPOINT=http://127.0.0.1:8000`.
const EndpointVariable = "DYNAMODB_ENDPOINT"

// Dial returns a DynamoDB client as the environment says: of the endpoint EndpointVariable
// names, signed with AWS_ACCESS_KEY_ID and AWS_REGION when they are set and "local" and
// us-east-1 otherwise (DynamoDB Local keeps tables apart by key and region); or, without
// it, of AWS with the usual configuration.
func Dial(ctx context.Context, getenv func(string) string) (*dynamodb.Client, error) {
	url := getenv(EndpointVariable)
	if url == "" {
		cfg, err := awsconfig.LoadDefaultConfig(ctx)
		if err != nil {
			return nil, fmt.Errorf("load AWS configuration: %w", err)
		}
		return dynamodb.NewFromConfig(cfg), nil
	}
	return dynamodb.New(dynamodb.Options{
		Region:       firstSet(getenv("AWS_REGION"), getenv("AWS_DEFAULT_REGION"), "us-east-1"),
		Credentials:  credentials.NewStaticCredentialsProvider(firstSet(getenv("AWS_ACCESS_KEY_ID"), "local"), firstSet(getenv("AWS_SECRET_ACCESS_KEY"), "local"), ""),
		BaseEndpoint: aws.String(url),
	}), nil
}

func firstSet(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}
