package store

import (
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/servicecontacts/servicecontacts/shared/contact"
)

// wrap adds context to an error from DynamoDB, turning throttling into the domain's
// "unavailable" so the API answers 503 with a retry hint instead of a raw AWS message.
func wrap(err error, format string, args ...any) error {
	what := fmt.Sprintf(format, args...)
	if isThrottling(err) {
		return fmt.Errorf("%s: %w", what, &contact.Error{Kind: contact.ErrUnavailable, Code: "throttled", Message: "the database is busy; try again", RetryAfter: 1})
	}
	return fmt.Errorf("%s: %w", what, err)
}

func isThrottling(err error) bool {
	var provisioned *types.ProvisionedThroughputExceededException
	var limit *types.RequestLimitExceeded
	if errors.As(err, &provisioned) || errors.As(err, &limit) {
		return true
	}
	var api smithy.APIError
	return errors.As(err, &api) && (api.ErrorCode() == "ThrottlingException" || api.ErrorCode() == "Throttling")
}

// cancelled reports a transaction that DynamoDB refused because a condition failed or
// another transaction held an item.
func cancelled(err error) bool {
	var tc *types.TransactionCanceledException
	var conflict *types.TransactionConflictException
	var failed *types.ConditionalCheckFailedException
	return errors.As(err, &tc) || errors.As(err, &conflict) || errors.As(err, &failed)
}

func throttled(tc *types.TransactionCanceledException) bool {
	for _, r := range tc.CancellationReasons {
		if code := deref(r.Code); code == "ThrottlingError" || code == "ProvisionedThroughputExceeded" {
			return true
		}
	}
	return false
}

// onlyFirstFailed reports whether the reasons name the first item, and it alone, as failed.
// Backends that give no reasons make this false: the caller then treats the failure as a
// conflict and re-reads.
func onlyFirstFailed(tc *types.TransactionCanceledException) bool {
	if len(tc.CancellationReasons) == 0 || deref(tc.CancellationReasons[0].Code) != "ConditionalCheckFailed" {
		return false
	}
	for _, r := range tc.CancellationReasons[1:] {
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
