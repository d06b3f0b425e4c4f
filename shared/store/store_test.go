package store_test

import (
	"testing"

	"github.com/servicecontacts/servicecontacts/shared/store"
	"github.com/servicecontacts/servicecontacts/shared/store/embedded"
	"github.com/servicecontacts/servicecontacts/shared/store/storetest"
)

func TestStoreOnEmbeddedBackend(t *testing.T) {
	t.Log("backend: embedded (in-process)")
	storetest.Run(t, func(*testing.T) store.API { return embedded.New() })
}

// TestStoreOnDynamoDBLocal runs the same suite on the DynamoDB Local that DYNAMODB_ENDPOINT
// names, e.g. http://127.0.0.1:8000; `make test` starts one.
func TestStoreOnDynamoDBLocal(t *testing.T) {
	client := storetest.DynamoDBLocal(t)
	t.Logf("backend: DynamoDB Local at %s", *client.Options().BaseEndpoint)
	storetest.Run(t, func(*testing.T) store.API { return client })
}
