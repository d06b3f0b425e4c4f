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
	s, err := config.Load(api.FunctionResend)
	if err != nil {
		config.Exit(log, err)
	}
	contacts, err := config.Manager(context.Background(), s, log)
	if err != nil {
		config.Exit(log, err)
	}
	lambda.Start(api.New(api.FunctionResend, contacts, api.Options{Logger: log, IdentityClaim: s.IdentityClaim}).Handle)
}
