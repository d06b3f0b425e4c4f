// Command resend emails fresh tokens to the parties that have not answered yet.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/servicecontacts/servicecontacts/shared/api"
	"github.com/servicecontacts/servicecontacts/shared/config"
)

func main() {
	log := config.Logger()
	cfg, err := config.FromEnv(config.MailFrom, config.PublicBaseURL)
	if err != nil {
		config.Exit(log, err)
	}
	contacts, err := config.Manager(context.Background(), cfg, log)
	if err != nil {
		config.Exit(log, err)
	}
	lambda.Start(api.New(api.FunctionResend, contacts, api.Options{Logger: log}).Handle)
}
