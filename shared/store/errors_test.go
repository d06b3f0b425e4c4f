package store

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/servicecontacts/servicecontacts/shared/contact"
)

// The embedded backend never throttles nor reports a conflict between transactions, so the
// classification of DynamoDB's errors is tested on the errors the SDK returns.
func TestTransactionError(t *testing.T) {
	reasons := func(codes ...string) error {
		tc := &types.TransactionCanceledException{Message: aws.String("Transaction cancelled")}
		for _, c := range codes {
			tc.CancellationReasons = append(tc.CancellationReasons, types.CancellationReason{Code: aws.String(c)})
		}
		return fmt.Errorf("operation error DynamoDB: TransactWriteItems: %w", tc)
	}
	tests := []struct {
		name      string
		err       error
		versioned bool
		want      error // the kind the result must wrap
		notWant   error // a kind it must not wrap
	}{
		{"versioned put alone failed", reasons("ConditionalCheckFailed", "None", "None"), true, contact.ErrVersionConflict, nil},
		{"versioned put busy", reasons("TransactionConflict", "None"), true, contact.ErrVersionConflict, nil},
		{"lock condition failed", reasons("None", "ConditionalCheckFailed"), true, contact.ErrConflict, contact.ErrVersionConflict},
		{"put and lock failed: the request changed, read it again", reasons("ConditionalCheckFailed", "ConditionalCheckFailed"), true, contact.ErrVersionConflict, nil},
		{"no reasons given", reasons(), true, contact.ErrConflict, contact.ErrVersionConflict},
		{"first item of an unversioned write", reasons("ConditionalCheckFailed", "None"), false, contact.ErrConflict, contact.ErrVersionConflict},
		{"throttled item", reasons("None", "ThrottlingError"), true, contact.ErrUnavailable, contact.ErrConflict},
		{"conflict outside a cancellation", &types.TransactionConflictException{Message: aws.String("busy")}, false, contact.ErrConflict, nil},
		{"throughput exceeded", &types.ProvisionedThroughputExceededException{Message: aws.String("slow down")}, true, contact.ErrUnavailable, nil},
		{"request limit", &types.RequestLimitExceeded{Message: aws.String("slow down")}, false, contact.ErrUnavailable, nil},
		{"throttling", &smithy.GenericAPIError{Code: "ThrottlingException", Message: "Rate exceeded"}, false, contact.ErrUnavailable, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := transactionError(tt.err, tt.versioned)
			if !errors.Is(got, tt.want) {
				t.Errorf("got %v, want an error of kind %q", got, tt.want)
			}
			if tt.notWant != nil && errors.Is(got, tt.notWant) {
				t.Errorf("got %v, of kind %q too", got, tt.notWant)
			}
			if errors.Is(got, contact.ErrUnavailable) {
				var ce *contact.Error
				if !errors.As(got, &ce) || ce.Code != "throttled" || ce.RetryAfter != 1 {
					t.Errorf("got %#v, want code throttled with RetryAfter 1", got)
				}
			}
		})
	}
	if err := transactionError(nil, true); err != nil {
		t.Errorf("no error became %v", err)
	}
}

func TestWrap(t *testing.T) {
	tests := []struct {
		name      string
		err       error
		throttled bool
	}{
		{"throttling", &smithy.GenericAPIError{Code: "ThrottlingException", Message: "Rate exceeded"}, true},
		{"throughput exceeded", &types.ProvisionedThroughputExceededException{Message: aws.String("slow down")}, true},
		{"missing table", &types.ResourceNotFoundException{Message: aws.String("Requested resource not found")}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := wrap(tt.err, "get account %s", "aa11111-ovh")
			if errors.Is(got, contact.ErrUnavailable) != tt.throttled {
				t.Errorf("got %v; throttled: %v, want %v", got, !tt.throttled, tt.throttled)
			}
			if !tt.throttled && !errors.Is(got, tt.err) {
				t.Errorf("got %v, which does not wrap %v", got, tt.err)
			}
			if want := "get account aa11111-ovh: "; !strings.HasPrefix(got.Error(), want) {
				t.Errorf("got %q, want it to start with %q", got, want)
			}
		})
	}
}
