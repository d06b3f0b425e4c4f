package storetest

import (
	"context"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go/middleware"
)

// EndpointVariable names the DynamoDB Local endpoint; `make test` starts one and sets it.
const EndpointVariable = "DYNAMODB_ENDPOINT"

// DynamoDBLocal returns a client of the DynamoDB Local that DYNAMODB_ENDPOINT names, and
// skips the test, saying why, when none is named. optFns adjust the client (middleware,
// an HTTP client that injects faults).
func DynamoDBLocal(tb testing.TB, optFns ...func(*dynamodb.Options)) *dynamodb.Client {
	tb.Helper()
	endpoint := os.Getenv(EndpointVariable)
	if endpoint == "" {
		tb.Skipf("backend: DynamoDB Local, skipped: %s is not set (`make test` starts DynamoDB Local and sets it)", EndpointVariable)
	}
	return dynamodb.New(dynamodb.Options{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
		BaseEndpoint: aws.String(endpoint),
	}, optFns...)
}

// Calls counts the DynamoDB API calls a client makes, by operation, for each piece of work
// marked with Track. Retries of one call count once: they are the SDK's, not the store's.
type Calls struct {
	mu     sync.Mutex
	counts map[string]map[string]int // label → operation → calls
}

type callsKey struct{}

// Track marks ctx so that the calls made with it count under label.
func (c *Calls) Track(ctx context.Context, label string) context.Context {
	return context.WithValue(ctx, callsKey{}, label)
}

// Install adds the counting middleware to a client's options.
func (c *Calls) Install(o *dynamodb.Options) {
	o.APIOptions = append(o.APIOptions, func(stack *middleware.Stack) error {
		return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("CountCalls",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				if label, ok := ctx.Value(callsKey{}).(string); ok {
					c.add(label, awsmiddleware.GetOperationName(ctx))
				}
				return next.HandleInitialize(ctx, in)
			}), middleware.Before)
	})
}

func (c *Calls) add(label, op string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.counts == nil {
		c.counts = map[string]map[string]int{}
	}
	if c.counts[label] == nil {
		c.counts[label] = map[string]int{}
	}
	c.counts[label][op]++
}

// Of returns the calls counted under label, as "Operation×n" in operation order, e.g.
// "BatchGetItem×1 Query×1".
func (c *Calls) Of(label string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var ops []string
	for op := range c.counts[label] {
		ops = append(ops, op)
	}
	sort.Strings(ops)
	parts := make([]string, len(ops))
	for i, op := range ops {
		parts[i] = op + "×" + strconv.Itoa(c.counts[label][op])
	}
	return strings.Join(parts, " ")
}

// Total returns how many calls were counted under label.
func (c *Calls) Total(label string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, k := range c.counts[label] {
		n += k
	}
	return n
}
