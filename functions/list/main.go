// Command list serves the listings: the caller's services and contact-change requests.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/servicecontacts/servicecontacts/shared/api"
	"github.com/servicecontacts/servicecontacts/shared/config"
)

func main() {
	log := config.Logger()
	cfg, err := config.FromEnv()
	if err != nil {
		config.Exit(log, err)
	}
	contacts, err := config.Manager(context.Background(), cfg, log)
	if err != nil {
		config.Exit(log, err)
	}
	lambda.Start(api.New(api.FunctionList, contacts, api.Options{Logger: log}).Handle)
}
