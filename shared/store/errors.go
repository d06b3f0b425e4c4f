package store

import (
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/servicecontacts/servicecontacts/shared/contact"
)

// wrap adds context to an error from DynamoDB. Throttling becomes the domain's "unavailable",
// so the API answers 503 with a retry hint; any other error keeps its kind-less AWS text,
// which the API logs and never shows.
func wrap(err error, format string, args ...any) error {
	what := fmt.Sprintf(format, args...)
	if isThrottling(err) {
		return fmt.Errorf("%s: %w", what, errThrottled())
	}
	return fmt.Errorf("%s: %w", what, err)
}

func errThrottled() error {
	return &contact.Error{Kind: contact.ErrUnavailable, Code: "throttled", Message: "the database is busy; try again", RetryAfter: 1}
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
		if versioned && onlyFirstFailed(tc.CancellationReasons) {
			return contact.ErrVersionConflict
		}
		return contact.ErrConflict
	}
	var busy *types.TransactionConflictException
	if errors.As(err, &busy) {
		return contact.ErrConflict
	}
	return wrap(err, "transaction")
}

// onlyFirstFailed reports whether the reasons name the first item, and it alone, as failed.
func onlyFirstFailed(reasons []types.CancellationReason) bool {
	if len(reasons) == 0 {
		return false
	}
	switch deref(reasons[0].Code) {
	case "ConditionalCheckFailed", "TransactionConflict":
	default:
		return false
	}
	for _, r := range reasons[1:] {
		if code := deref(r.Code); code != "" && code != "None" {
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
