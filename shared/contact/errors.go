package contact

import (
	"errors"
	"fmt"
)

// The kinds of failure the domain reports. The API maps each kind to one HTTP status, in one
// place; every error the domain returns for a caller's mistake wraps one of them.
var (
	ErrInvalid         = errors.New("invalid input")           // 400
	ErrUnauthenticated = errors.New("unauthenticated")         // 401
	ErrForbidden       = errors.New("forbidden")               // 403
	ErrNotFound        = errors.New("not found")               // 404
	ErrConflict        = errors.New("conflict")                // 409
	ErrGone            = errors.New("gone")                    // 410
	ErrRule            = errors.New("rule violated")           // 422
	ErrRateLimited     = errors.New("rate limited")            // 429
	ErrUnavailable     = errors.New("temporarily unavailable") // 503
)

// Error is a domain error with a stable machine code and a message for people.
type Error struct {
	Kind    error  // one of the Err* kinds above
	Code    string // machine code, e.g. "same_holder"
	Message string
	// RetryAfter, in seconds, tells a rate-limited or throttled caller when to come back.
	RetryAfter int
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }
func (e *Error) Unwrap() error { return e.Kind }

// Errorf builds an *Error of the given kind.
func Errorf(kind error, code, format string, args ...any) *Error {
	return &Error{Kind: kind, Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrVersionConflict is returned by a Store when a write lost an optimistic-locking race:
// the item changed since it was read. The domain reloads and tries again.
var ErrVersionConflict = fmt.Errorf("%w: item changed since it was read", ErrConflict)
