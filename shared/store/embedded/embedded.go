// Package embedded provides the in-process, DynamoDB-compatible backend of the local stack
// and of the store tests that need no emulator: minidyn, which implements the SDK client's
// methods in memory.
//
// The store runs on it unchanged because it relies on nothing minidyn does differently from
// DynamoDB:
//   - a missing item, and the end of a query, come back as empty maps rather than nil: the
//     store tests lengths, never nil;
//   - a cancelled transaction names only its first failed item: the store reads a lost
//     version race from the reasons when they single out the request's put, and treats
//     anything else as a conflict;
//   - indexes are strongly consistent, nothing is throttled or left unprocessed, and TTL
//     never purges: the store's retries and purge handling are simply not exercised here.
package embedded

import (
	"github.com/truora/minidyn/aws-v2/client"

	"github.com/servicecontacts/servicecontacts/shared/store"
)

// New returns an empty in-memory backend. store.CreateTables creates the tables and their
// indexes on it as on DynamoDB.
func New() store.API {
	return client.NewClient()
}
