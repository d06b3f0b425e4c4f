// Command finish is the state machine's step that ends a refused, cancelled or expired
// request and tells everyone involved.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/servicecontacts/servicecontacts/shared/config"
	"github.com/servicecontacts/servicecontacts/shared/step"
)

func main() {
	log := config.Logger()
	s, err := config.Load("finish")
	if err != nil {
		config.Exit(log, err)
	}
	steps, err := config.Manager(context.Background(), s, log)
	if err != nil {
		config.Exit(log, err)
	}
	lambda.Start(step.New(steps, log).Finish)
}
