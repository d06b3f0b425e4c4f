package store_test

import (
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/servicecontacts/servicecontacts/shared/store"
	"github.com/servicecontacts/servicecontacts/shared/store/embedded"
	"github.com/servicecontacts/servicecontacts/shared/store/storetest"
)

func TestStoreOnEmbeddedBackend(t *testing.T) {
	t.Log("backend: embedded (minidyn, in-process)")
	storetest.Run(t, func(*testing.T) store.API { return embedded.New() })
}

// TestStoreOnDynamoDBLocal runs the same suite on DynamoDB Local when DYNAMODB_ENDPOINT
// names one, e.g. http://127.0.0.1:8000.
func TestStoreOnDynamoDBLocal(t *testing.T) {
	endpoint := os.Getenv("DYNAMODB_ENDPOINT")
	if endpoint == "" {
		t.Skip("backend: DynamoDB Local, skipped: DYNAMODB_ENDPOINT is not set")
	}
	t.Logf("backend: DynamoDB Local at %s", endpoint)
	client := dynamodb.New(dynamodb.Options{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
		BaseEndpoint: aws.String(endpoint),
	})
	storetest.Run(t, func(*testing.T) store.API { return client })
}
