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
	c := first.request(admin, "shop.example.org", map[string]string{"tech": newbie})[0]
	for nic, address := range map[string]string{admin: "admin@example.com", newbie: "newbie@example.com"} {
		_, token := first.link(address, c.ID)
		first.must(http.StatusOK, first.accept(nic, c.ID, token))
	}
	first.waitState(admin, c.ID, "done")
	first.stack.Close()

	// The executor runs in the process: a request still open at a restart would lose its
	// workflow (and end failed, by the reconciler). A finished one stays as it was.
	second := start(t, opts)
	if got := second.get(admin, c.ID); got.State != "done" {
		t.Errorf("after a restart, request %s is %q, want it kept done", c.ID, got.State)
	}
	if tech := second.services(newbie)["shop.example.org"]["tech"]; tech != newbie {
		t.Errorf("after a restart, the tech of shop.example.org is %q, want %s", tech, newbie)
	}
}
