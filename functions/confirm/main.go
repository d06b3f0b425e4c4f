// Command confirm takes the parties' answers (API and emailed link) and the requester's cancellation.
package main

import (
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/servicecontacts/servicecontacts/shared/api"
	"github.com/servicecontacts/servicecontacts/shared/config"
	"github.com/servicecontacts/servicecontacts/shared/contact"
	"github.com/servicecontacts/servicecontacts/shared/eventbus"
	"github.com/servicecontacts/servicecontacts/shared/mail"
	"github.com/servicecontacts/servicecontacts/shared/ses"
	"github.com/servicecontacts/servicecontacts/shared/store"
	"github.com/servicecontacts/servicecontacts/shared/workflow"
)

// main builds the clients of the adapters this function is given (config.Ports) and no other.
func main() {
	log := config.Logger()
	s, err := config.Load(api.FunctionConfirm)
	if err != nil {
		config.Exit(log, err)
	}
	aws, err := config.AWS(os.Getenv)
	if err != nil {
		config.Exit(log, err)
	}
	contacts := s.Domain(log, contact.Config{
		Store:     store.New(dynamodb.NewFromConfig(aws), s.Tables),
		Workflow:  workflow.New(sfn.NewFromConfig(aws), s.StateMachineARN, nil),
		Notifier:  mail.NewNotifier(ses.New(sesv2.NewFromConfig(aws), s.MailFrom, s.MailConfigurationSet), s.PublicBaseURL),
		Publisher: eventbus.New(eventbridge.NewFromConfig(aws), s.EventBusName),
	})
	lambda.Start(api.NewConfirm(contacts, api.Options{Logger: log, IdentityClaim: s.IdentityClaim}).Handle)
}
