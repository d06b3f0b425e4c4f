// Package embedded provides the in-process, DynamoDB-compatible backend of the local stack
// and of the store tests that need no emulator: minidyn, which speaks the SDK's API.
package embedded

import (
	"github.com/truora/minidyn/aws-v2/client"

	"github.com/servicecontacts/servicecontacts/shared/store"
)

// New returns an empty in-memory backend.
func New() store.API {
	return client.NewClient()
}
