package api

import (
	"errors"
	"net/http"

	"github.com/servicecontacts/servicecontacts/shared/contact"
)

// errUnsupportedMediaType is the one failure kind the domain does not know: a body sent
// with a Content-Type the route does not read.
var errUnsupportedMediaType = errors.New("unsupported media type")

// problem is an error as the caller sees it: a status, a machine code, a message for people.
type problem struct {
	Status     int
	Code       string
	Message    string
	RetryAfter int // seconds; set for 429 and 503 only
}

// defaultRetryAfter is what a throttled caller is told when the error does not say.
const defaultRetryAfter = 1

// kinds maps each failure kind to its status. The generic code and message serve errors
// that wrap a kind without being a *contact.Error, whose text may hold internal details.
var kinds = []struct {
	kind    error
	status  int
	code    string
	message string
}{
	{contact.ErrInvalid, http.StatusBadRequest, "invalid_request", "the request is not valid"},
	{contact.ErrUnauthenticated, http.StatusUnauthorized, "unauthenticated", "authentication is required"},
	{contact.ErrForbidden, http.StatusForbidden, "forbidden", "you may not do this"},
	{contact.ErrNotFound, http.StatusNotFound, "not_found", "not found"},
	{contact.ErrConflict, http.StatusConflict, "conflict", "the request conflicts with the current state; reload and try again"},
	{contact.ErrGone, http.StatusGone, "gone", "this is no longer available"},
	{contact.ErrRule, http.StatusUnprocessableEntity, "rule_violated", "the request breaks a rule"},
	{contact.ErrRateLimited, http.StatusTooManyRequests, "rate_limited", "too many requests; try again later"},
	{contact.ErrUnavailable, http.StatusServiceUnavailable, "unavailable", "the service is busy; try again shortly"},
	{errUnsupportedMediaType, http.StatusUnsupportedMediaType, "unsupported_media_type", "unsupported Content-Type"},
}

// problemOf turns any error into what the caller is shown. It is the only place where
// errors become statuses. Errors of no known kind are 500s with a generic message: their
// text is for the logs only.
func problemOf(err error) problem {
	for _, k := range kinds {
		if !errors.Is(err, k.kind) {
			continue
		}
		p := problem{Status: k.status, Code: k.code, Message: k.message}
		if e, ok := errors.AsType[*contact.Error](err); ok {
			if e.Code != "" {
				p.Code = e.Code
			}
			if e.Message != "" {
				p.Message = e.Message
			}
			p.RetryAfter = e.RetryAfter
		}
		if k.status == http.StatusTooManyRequests || k.status == http.StatusServiceUnavailable {
			p.RetryAfter = max(p.RetryAfter, defaultRetryAfter)
		} else {
			p.RetryAfter = 0
		}
		return p
	}
	return problem{Status: http.StatusInternalServerError, Code: "internal", Message: "an internal error occurred; try again later"}
}

// invalid is a malformed-input error raised while decoding, before the domain is called.
func invalid(code, format string, args ...any) error {
	return contact.Errorf(contact.ErrInvalid, code, format, args...)
}
