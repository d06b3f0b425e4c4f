// Command list serves the listings: the caller's services and contact-change requests.
package main

import (
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/servicecontacts/servicecontacts/shared/api"
	"github.com/servicecontacts/servicecontacts/shared/config"
	"github.com/servicecontacts/servicecontacts/shared/contact"
	"github.com/servicecontacts/servicecontacts/shared/store"
)

// main builds the clients of the adapters this function is given (config.Ports) and no other.
func main() {
	log := config.Logger()
	s, err := config.Load(api.FunctionList)
	if err != nil {
		config.Exit(log, err)
	}
	aws, err := config.AWS(os.Getenv)
	if err != nil {
		config.Exit(log, err)
	}
	contacts := s.Domain(log, contact.Config{
		Store: store.New(dynamodb.NewFromConfig(aws), s.Tables),
	})
	lambda.Start(api.NewList(contacts, api.Options{Logger: log, IdentityClaim: s.IdentityClaim}).Handle)
}
