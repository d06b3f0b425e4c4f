// Command hello is the baseline of the cold-start figures: the smallest aws-lambda-go
// function, built with the functions' release flags.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	lambda.Start(func(context.Context) (string, error) { return "hello", nil })
}
