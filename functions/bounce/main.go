// Command bounce reads the bounces and complaints SES publishes on the default EventBridge
// bus and marks the addresses that cannot be mailed.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/servicecontacts/servicecontacts/shared/bounce"
	"github.com/servicecontacts/servicecontacts/shared/config"
)

func main() {
	log := config.Logger()
	s, err := config.Load("bounce")
	if err != nil {
		config.Exit(log, err)
	}
	contacts, err := config.Manager(context.Background(), s, log)
	if err != nil {
		config.Exit(log, err)
	}
	lambda.Start(bounce.New(contacts, log).Handle)
}
