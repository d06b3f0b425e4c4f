// Command confirm takes the parties' answers (API and emailed link) and the requester's cancellation.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/servicecontacts/servicecontacts/shared/api"
	"github.com/servicecontacts/servicecontacts/shared/config"
)

func main() {
	log := config.Logger()
	s, err := config.Load(api.FunctionConfirm)
	if err != nil {
		config.Exit(log, err)
	}
	contacts, err := config.Manager(context.Background(), s, log)
	if err != nil {
		config.Exit(log, err)
	}
	lambda.Start(api.New(api.FunctionConfirm, contacts, api.Options{Logger: log, IdentityClaim: s.IdentityClaim}).Handle)
}
