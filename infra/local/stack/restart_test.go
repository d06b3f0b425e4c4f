package stack_test

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"testing"

	"github.com/servicecontacts/servicecontacts/infra/local/stack"
	"github.com/servicecontacts/servicecontacts/shared/store/storetest"
)

// `make run DYNAMODB_ENDPOINT=...` a second time finds its tables, and what the first run
// left in them.
func TestRestartOnDynamoDBLocalKeepsTheTables(t *testing.T) {
	t.Parallel()
	db := storetest.DynamoDBLocal(t)
	b := make([]byte, 6)
	_, _ = rand.Read(b) // never fails
	opts := stack.Options{DynamoDB: db, TablePrefix: "restart-" + hex.EncodeToString(b) + "-"}

	first := start(t, opts)
	c := first.request(admin, "example.com", map[string]string{"tech": newbie})[0]
	first.stack.Close()

	second := start(t, opts)
	if got := second.get(admin, c.ID); got.State != "pending" {
		t.Errorf("after a restart, request %s is %q, want it kept pending", c.ID, got.State)
	}
	second.must(http.StatusOK, second.call("GET", "/me/services", admin, nil))
}
