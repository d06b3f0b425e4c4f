package store

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/servicecontacts/servicecontacts/shared/contact"
)

func TestCursorsAreBounded(t *testing.T) {
	id := strings.Repeat("a", 32)
	valid := encodeCursor(changesCursor{Involved: "xx11111-ovh", InvolvedKey: "2025-03-01T10:00:00Z#" + id, RequestID: id})
	tests := []struct {
		name   string
		cursor string
		ok     bool
	}{
		{"a cursor the store returned", valid, true},
		{"none", "", true},
		{"longer than the bound", strings.Repeat("A", MaxCursorLength+1), false},
		{"5,000 characters", strings.Repeat("A", 5000), false},
		{"not base64url", valid + "=", false},
		{"not JSON", encode("{"), false},
		{"no account", encodeCursor(changesCursor{InvolvedKey: "k", RequestID: id}), false},
		{"no request", encodeCursor(changesCursor{Involved: "xx11111-ovh", InvolvedKey: "k"}), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := decodeCursor[changesCursor](tt.cursor)
			if (err == nil) != tt.ok {
				t.Fatalf("decode: %v, want ok %v", err, tt.ok)
			}
			if err != nil && !errors.Is(err, contact.ErrInvalid) {
				t.Errorf("error %v is not an invalid input", err)
			}
		})
	}
}

func TestServicesCursorsAreServiceIDs(t *testing.T) {
	tests := []struct {
		after string
		ok    bool
	}{
		{"example.com", true},
		{strings.Repeat("s", contact.MaxServiceIDLength), true},
		{strings.Repeat("s", contact.MaxServiceIDLength+1), false},
		{"example.com#admin", false},
		{"", false},
	}
	for _, tt := range tests {
		_, err := decodeCursor[string](encodeCursor(tt.after))
		if (err == nil) != tt.ok {
			t.Errorf("decode cursor of %.20q: %v, want ok %v", tt.after, err, tt.ok)
		}
	}
}

// The start key a cursor makes must fit DynamoDB's key bounds, whatever the cursor's length.
func TestCursorKeysFitDynamoDB(t *testing.T) {
	tests := []struct {
		name string
		c    changesCursor
		ok   bool
	}{
		{"small", changesCursor{Involved: "xx11111-ovh", InvolvedKey: "k", RequestID: "r"}, true},
		{"index sort key at the bound", changesCursor{Involved: "xx11111-ovh", InvolvedKey: strings.Repeat("k", MaxSortKeyBytes), RequestID: "r"}, true},
		{"index sort key over the bound", changesCursor{Involved: "xx11111-ovh", InvolvedKey: strings.Repeat("k", MaxSortKeyBytes+1), RequestID: "r"}, false},
		{"multibyte sort key counts bytes", changesCursor{Involved: "xx11111-ovh", InvolvedKey: strings.Repeat("é", MaxSortKeyBytes/2+1), RequestID: "r"}, false},
		{"table partition key over the bound", changesCursor{Involved: "xx11111-ovh", InvolvedKey: "k", RequestID: strings.Repeat("r", MaxPartitionKeyBytes)}, false},
		{"table sort key over the bound", changesCursor{Involved: strings.Repeat("i", MaxSortKeyBytes), InvolvedKey: "k", RequestID: "r"}, false},
		{"empty index sort key", changesCursor{Involved: "xx11111-ovh", RequestID: "r"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.c.valid(); got != tt.ok {
				t.Errorf("valid() = %v, want %v", got, tt.ok)
			}
		})
	}
}

// encode is a cursor of raw bytes, not necessarily JSON.
func encode(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
