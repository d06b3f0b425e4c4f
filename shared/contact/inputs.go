package contact

import (
	"regexp"
	"strconv"
	"sync"
	"unicode/utf8"
)

// The forms of what operators write: the operator API, the bulk load and the domain check
// the same rules, and api/openapi.yaml publishes them.
const (
	// ServiceIDPattern is a service id: domain names, host names, the provider's references.
	// '#' is excluded: the store uses it as a separator; '@' too: no id may look like an
	// email address in an event.
	ServiceIDPattern   = `^[A-Za-z0-9][A-Za-z0-9._:-]*$`
	MaxServiceIDLength = 255

	ServiceTypePattern   = `^[a-z][a-z0-9-]*$`
	MaxServiceTypeLength = 64

	// EmailPattern is one address: a single '@', no spaces or control characters.
	EmailPattern   = `^[^@\x00-\x20\x7f]+@[^@\x00-\x20\x7f]+$`
	MaxEmailLength = 254 // RFC 5321's bound on a forward path

	// MaxReasonLength bounds the reason support gives for cancelling a request.
	MaxReasonLength = 500
)

// The patterns are compiled on first use, not at init: functions that never check an input
// (the state machine's steps) should not pay for them when they start.
var (
	serviceIDPattern   = compiled(ServiceIDPattern)
	serviceTypePattern = compiled(ServiceTypePattern)
	emailPattern       = compiled(EmailPattern)
)

func compiled(pattern string) func() *regexp.Regexp {
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(pattern) })
}

// ValidServiceID reports whether id has the form of a service id.
func ValidServiceID(id string) bool {
	return utf8.RuneCountInString(id) <= MaxServiceIDLength && serviceIDPattern().MatchString(id)
}

// ValidServiceType reports whether t has the form of a service type, like "domain".
func ValidServiceType(t string) bool {
	return utf8.RuneCountInString(t) <= MaxServiceTypeLength && serviceTypePattern().MatchString(t)
}

// ValidEmail reports whether s has the form of one email address.
func ValidEmail(s string) bool {
	return utf8.RuneCountInString(s) <= MaxEmailLength && emailPattern().MatchString(s)
}

// maxQuoted bounds how much of a caller's input an error message repeats.
const maxQuoted = 64

// quoted quotes s for an error message, cut to maxQuoted runes: input of any length may
// be refused, but never repeated whole into answers and logs.
func quoted(s string) string {
	if utf8.RuneCountInString(s) <= maxQuoted {
		return strconv.Quote(s)
	}
	return strconv.Quote(string([]rune(s)[:maxQuoted])) + "…"
}
