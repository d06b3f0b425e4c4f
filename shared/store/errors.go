package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/servicecontacts/servicecontacts/shared/contact"
)

// wrap adds context to an error from DynamoDB. Throttling and a DynamoDB that cannot be
// reached (refused or reset connections, timeouts, its own 5xx) become the domain's
// "unavailable", so the API answers 503 with a retry hint and the workflow's steps retry;
// any other error keeps its kind-less AWS text, which the API logs and never shows.
func wrap(err error, format string, args ...any) error {
	what := fmt.Sprintf(format, args...)
	switch {
	case isThrottling(err):
		return fmt.Errorf("%s: %w", what, errThrottled())
	case isUnreachable(err):
		return fmt.Errorf("%s: %w: %w", what, errUnreachable(), err)
	}
	return fmt.Errorf("%s: %w", what, err)
}

func errThrottled() error {
	return &contact.Error{Kind: contact.ErrUnavailable, Code: "throttled", Message: "the database is busy; try again", RetryAfter: 1}
}

func errUnreachable() error {
	return &contact.Error{Kind: contact.ErrUnavailable, Code: "unavailable", Message: "the database could not be reached; try again", RetryAfter: 2}
}

// isUnreachable reports a call that never got DynamoDB's answer, or got a server fault:
// the same call may well succeed a moment later.
func isUnreachable(err error) bool {
	var send *smithyhttp.RequestSendError
	var netErr net.Error
	var api smithy.APIError
	var resp *awshttp.ResponseError
	switch {
	case errors.As(err, &send), errors.As(err, &netErr),
		errors.Is(err, context.DeadlineExceeded), errors.Is(err, io.ErrUnexpectedEOF):
		return true
	case errors.As(err, &resp) && resp.HTTPStatusCode() >= 500:
		return true // e.g. 503 ServiceUnavailable, which the SDK does not model
	case errors.As(err, &api):
		return api.ErrorFault() == smithy.FaultServer
	}
	return false
}

func isThrottling(err error) bool {
	var provisioned *types.ProvisionedThroughputExceededException
	var limit *types.RequestLimitExceeded
	if errors.As(err, &provisioned) || errors.As(err, &limit) {
		return true
	}
	var tc *types.TransactionCanceledException
	if errors.As(err, &tc) {
		for _, r := range tc.CancellationReasons {
			if code := deref(r.Code); code == "ThrottlingError" || code == "ProvisionedThroughputExceeded" {
				return true
			}
		}
		return false
	}
	var api smithy.APIError
	return errors.As(err, &api) && (api.ErrorCode() == "ThrottlingException" || api.ErrorCode() == "Throttling")
}

// transactionError classifies the failure of TransactWriteItems. When versioned, the first
// item of the transaction is the request's versioned put, and a cancellation that names it
// alone is a lost optimistic-locking race. Any other cancellation is a conflict: a condition
// failed, or another transaction held one of the items. Backends that give no reasons make
// every cancellation a conflict, which callers handle by reading again too.
func transactionError(err error, versioned bool) error {
	if err == nil {
		return nil
	}
	if isThrottling(err) {
		return errThrottled()
	}
	var tc *types.TransactionCanceledException
	if errors.As(err, &tc) {
		// The request's put failing means it changed since it was read, whatever else
		// failed: the caller reads it again. (DynamoDB, and the embedded backend, name
		// every failed item.)
		if versioned && failed(tc.CancellationReasons, 0, "ConditionalCheckFailed", "TransactionConflict") {
			return contact.ErrVersionConflict
		}
		// Another transaction on the role item is a race to retry, not a missing lock.
		if versioned && onlyFailed(tc.CancellationReasons, 1, "ConditionalCheckFailed") {
			return errLockNotHeld
		}
		return contact.ErrConflict
	}
	var busy *types.TransactionConflictException
	if errors.As(err, &busy) {
		return contact.ErrConflict
	}
	return wrap(err, "transaction")
}

// errLockNotHeld is a versioned transaction whose second item, the role item's release or
// hand-over, alone failed its condition: the role item is gone or not locked by the request.
var errLockNotHeld = fmt.Errorf("%w: the role is not locked by this request", contact.ErrConflict)

// failed reports whether the reasons name item i as failed with one of the given codes.
func failed(reasons []types.CancellationReason, i int, codes ...string) bool {
	return len(reasons) > i && slices.Contains(codes, deref(reasons[i].Code))
}

// onlyFailed reports whether the reasons name item i, and it alone, as failed, with one of
// the given codes.
func onlyFailed(reasons []types.CancellationReason, i int, codes ...string) bool {
	if !failed(reasons, i, codes...) {
		return false
	}
	for j, r := range reasons {
		if code := deref(r.Code); j != i && code != "" && code != "None" {
			return false
		}
	}
	return true
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
