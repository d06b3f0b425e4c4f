// Command resend emails fresh tokens to the parties that have not answered yet.
package main

import (
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"github.com/servicecontacts/servicecontacts/shared/api"
	"github.com/servicecontacts/servicecontacts/shared/config"
	"github.com/servicecontacts/servicecontacts/shared/contact"
	"github.com/servicecontacts/servicecontacts/shared/eventbus"
	"github.com/servicecontacts/servicecontacts/shared/mail"
	"github.com/servicecontacts/servicecontacts/shared/ses"
	"github.com/servicecontacts/servicecontacts/shared/store"
)

// main builds the clients of the adapters this function is given (config.Ports) and no other.
func main() {
	log := config.Logger()
	s, err := config.Load(api.FunctionResend)
	if err != nil {
		config.Exit(log, err)
	}
	aws, err := config.AWS(os.Getenv)
	if err != nil {
		config.Exit(log, err)
	}
	contacts := s.Domain(log, contact.Config{
		Store:     store.New(dynamodb.NewFromConfig(aws), s.Tables),
		Notifier:  mail.NewNotifier(ses.New(sesv2.NewFromConfig(aws), s.MailFrom, s.MailConfigurationSet), s.PublicBaseURL),
		Publisher: eventbus.New(eventbridge.NewFromConfig(aws), s.EventBusName),
	})
	lambda.Start(api.NewResend(contacts, api.Options{Logger: log, IdentityClaim: s.IdentityClaim}).Handle)
}
