package api

import (
	"regexp"
	"strings"
	"sync"

	"github.com/servicecontacts/servicecontacts/shared/contact"
)

// Bounds of the customers' inputs and of the ids every route takes, published in
// api/openapi.yaml (a test compares). Every input is checked to its bound before the domain
// sees it: nothing unbounded reaches the store, a log line or an error message.
const (
	// changeIDInput is the form of a request id: 128 random bits, hex encoded. No other
	// form can name a request, so another form is a 404, as an unknown id is.
	changeIDInput = `^[0-9a-f]{32}$`

	// tokenInput is the alphabet of a confirmation token (base64url, unpadded); the tokens
	// emailed are 43 characters long. Another form is a 400: it cannot be a token.
	tokenInput     = `^[A-Za-z0-9_-]+$`
	maxTokenLength = 128

	// cursorInput is the alphabet of the cursors the lists return (base64url, unpadded).
	cursorInput     = `^[A-Za-z0-9_-]+$`
	maxCursorLength = 1024

	minLimit = 1
	maxLimit = contact.MaxPageSize
)

// The patterns are compiled on first use, not at init: a function checks a few of them at
// most, and its start should not pay for the others.
var (
	changeIDPattern = compiled(changeIDInput)
	tokenPattern    = compiled(tokenInput)
	cursorPattern   = compiled(cursorInput)
)

func compiled(pattern string) func() *regexp.Regexp {
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(pattern) })
}

// changeIDOf returns the request id of the path, or the 404 an unknown id gets.
func changeIDOf(r *request) (string, error) {
	id := r.PathParameters["id"]
	if len(id) != 32 || !changeIDPattern().MatchString(id) {
		return "", contact.Errorf(contact.ErrNotFound, "request_not_found", "no such request: a request id is 32 lowercase hex digits")
	}
	return id, nil
}

// serviceIDOf checks a service id sent as name (a path or query parameter).
func serviceIDOf(name, id string) (string, error) {
	if !contact.ValidServiceID(id) {
		return "", invalid("invalid_service_id", "%s must be a service id: 1 to %d letters, digits, '.', ':', '-' or '_', starting with a letter or digit", name, maxServiceIDLength)
	}
	return id, nil
}

// tokenOf checks a confirmation token as sent, surrounding spaces trimmed.
func tokenOf(s string) (string, error) {
	token := strings.TrimSpace(s)
	if token == "" {
		return "", invalid("missing_token", "the confirmation token is missing")
	}
	if len(token) > maxTokenLength || !tokenPattern().MatchString(token) {
		// The token is not echoed: error messages may end up in logs.
		return "", invalid("malformed_token", "a confirmation token is 1 to %d letters, digits, '-' or '_'", maxTokenLength)
	}
	return token, nil
}

// query returns a query parameter and whether it was sent. A parameter sent must be valid,
// empty included: only an absent one takes the default.
func query(r *request, name string) (string, bool) {
	v, ok := r.QueryStringParameters[name]
	return v, ok
}

// cursorOf returns the cursor query parameter; a cursor of another form than the lists
// return is a 400 before the store decodes it.
func cursorOf(r *request) (string, error) {
	c, ok := query(r, "cursor")
	if !ok {
		return "", nil
	}
	if c == "" || len(c) > maxCursorLength || !cursorPattern().MatchString(c) {
		return "", invalid("invalid_cursor", "the cursor is not one this API returned")
	}
	return c, nil
}

// roleOf checks the role query parameter; absent means any role.
func roleOf(r *request) (contact.Role, error) {
	s, ok := query(r, "role")
	if !ok {
		return "", nil
	}
	if role := contact.Role(s); role.Valid() {
		return role, nil
	}
	return "", invalid("invalid_role", "role must be admin, tech or billing, not %.20q", s)
}

// stateOf checks the state query parameter; absent means any state.
func stateOf(r *request) (contact.State, error) {
	s, ok := query(r, "state")
	if !ok {
		return "", nil
	}
	if state := contact.State(s); state.Valid() {
		return state, nil
	}
	return "", invalid("invalid_state", "unknown state %.20q", s)
}

// serviceTypeOf checks the type query parameter; absent means any type.
func serviceTypeOf(r *request) (string, error) {
	typ, ok := query(r, "type")
	if ok && !contact.ValidServiceType(typ) {
		return "", invalid("invalid_service_type", "type must be 1 to %d lowercase letters, digits or '-', starting with a letter", maxServiceTypeLength)
	}
	return typ, nil
}

// limitOf parses the limit query parameter; absent is 0, the domain's default page size.
// Sent, it must be a whole number from 1 to the maximum page size, in digits.
func limitOf(r *request) (int, error) {
	s, ok := query(r, "limit")
	if !ok {
		return 0, nil
	}
	n, ok := wholeNumber(s)
	if !ok || n < minLimit || n > maxLimit {
		return 0, invalid("invalid_limit", "limit must be a whole number from %d to %d, not %.20q", minLimit, maxLimit, s)
	}
	return n, nil
}

// wholeNumber parses decimal digits only: no sign, no spaces, at most 9 digits, so that it
// never overflows.
func wholeNumber(s string) (int, bool) {
	if s == "" || len(s) > 9 {
		return 0, false
	}
	n := 0
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}
