// Command bounce reads the bounces and complaints SES publishes on the default EventBridge
// bus and marks the addresses that cannot be mailed.
package main

import (
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"

	"github.com/servicecontacts/servicecontacts/shared/bounce"
	"github.com/servicecontacts/servicecontacts/shared/config"
	"github.com/servicecontacts/servicecontacts/shared/contact"
	"github.com/servicecontacts/servicecontacts/shared/eventbus"
	"github.com/servicecontacts/servicecontacts/shared/store"
)

// main builds the clients of the adapters this function is given (config.Ports) and no other.
func main() {
	log := config.Logger()
	s, err := config.Load("bounce")
	if err != nil {
		config.Exit(log, err)
	}
	aws, err := config.AWS(os.Getenv)
	if err != nil {
		config.Exit(log, err)
	}
	contacts := s.Domain(log, contact.Config{
		Store:     store.New(dynamodb.NewFromConfig(aws), s.Tables),
		Publisher: eventbus.New(eventbridge.NewFromConfig(aws), s.EventBusName),
	})
	lambda.Start(bounce.New(contacts, log).Handle)
}
