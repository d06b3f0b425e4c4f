package store

import (
	"encoding/base64"
	"encoding/json"

	"github.com/servicecontacts/servicecontacts/shared/contact"
)

// pageLimit is the page size for a requested limit: the default when none is given, at most
// the maximum.
func pageLimit(limit int) int {
	if limit <= 0 {
		return contact.DefaultPageSize
	}
	return min(limit, contact.MaxPageSize)
}

// Cursors are opaque to callers: base64url of a small JSON value.

func encodeCursor(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic("encode cursor: " + err.Error()) // strings and structs of strings always encode
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeCursor decodes a cursor the store returned. Anything else is refused before a key
// is built of it: a cursor too long, not base64url of JSON, or whose keys would not fit
// DynamoDB's bounds.
func decodeCursor[T any](cursor string) (T, error) {
	var v T
	if cursor == "" {
		return v, nil
	}
	if len(cursor) > MaxCursorLength {
		return v, errBadCursor()
	}
	b, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil || json.Unmarshal(b, &v) != nil {
		return v, errBadCursor()
	}
	switch c := any(v).(type) {
	case string:
		if !validServicesCursor(c) {
			return v, errBadCursor()
		}
	case changesCursor:
		if !c.valid() {
			return v, errBadCursor()
		}
	}
	return v, nil
}

func errBadCursor() error {
	return contact.Errorf(contact.ErrInvalid, "invalid_cursor", "the cursor is not one this API returned")
}
