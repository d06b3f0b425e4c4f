package store

import "github.com/servicecontacts/servicecontacts/shared/contact"

// DynamoDB's bounds on a key attribute's value, in bytes of UTF-8: the partition key of a
// table or index holds at most 2048, the sort key at most 1024, and neither may be empty.
// DynamoDB, and the embedded backend, refuse a call with a longer key (a ValidationException,
// which the store would report as a failure of the database), so the store checks what it
// builds from a caller's input before it calls.
const (
	MaxPartitionKeyBytes = 2048
	MaxSortKeyBytes      = 1024
)

// MaxCursorLength bounds the cursors the store decodes, in characters of base64url. The
// cursors it returns are far shorter: a service id or an index item's keys.
const MaxCursorLength = 1024

func fitsPartitionKey(s string) bool { return s != "" && len(s) <= MaxPartitionKeyBytes }
func fitsSortKey(s string) bool      { return s != "" && len(s) <= MaxSortKeyBytes }

// valid reports whether the start key the cursor makes (the ByInvolved index's keys and
// the table's) fits DynamoDB's bounds.
func (c changesCursor) valid() bool {
	return c.RequestID != "" && fitsPartitionKey(c.Involved) && fitsSortKey(c.InvolvedKey) &&
		fitsPartitionKey(requestPK(c.RequestID)) && fitsSortKey(involvedPrefix+c.Involved)
}

// validServicesCursor reports whether after, the last service id of a page, is one: the
// query compares it with the ByHolder index's sort key.
func validServicesCursor(after string) bool {
	return contact.ValidServiceID(after) && fitsSortKey(after+"#~")
}
