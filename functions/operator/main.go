// Command operator serves the operator API, authorized by IAM: the provider's systems keep
// accounts and services current, support staff act on requests.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/servicecontacts/servicecontacts/shared/api"
	"github.com/servicecontacts/servicecontacts/shared/config"
)

func main() {
	log := config.Logger()
	s, err := config.Load(api.FunctionOperator)
	if err != nil {
		config.Exit(log, err)
	}
	contacts, err := config.Manager(context.Background(), s, log)
	if err != nil {
		config.Exit(log, err)
	}
	lambda.Start(api.New(api.FunctionOperator, contacts, api.Options{Logger: log}).Handle)
}
