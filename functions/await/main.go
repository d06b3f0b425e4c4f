// Command await is the state machine's callback task for one party: it registers the task
// token and answers it at once when the party already decided.
package main

import (
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/servicecontacts/servicecontacts/shared/config"
	"github.com/servicecontacts/servicecontacts/shared/contact"
	"github.com/servicecontacts/servicecontacts/shared/step"
	"github.com/servicecontacts/servicecontacts/shared/store"
	"github.com/servicecontacts/servicecontacts/shared/workflow"
)

// main builds the clients of the adapters this function is given (config.Ports) and no other.
func main() {
	log := config.Logger()
	s, err := config.Load("await")
	if err != nil {
		config.Exit(log, err)
	}
	aws, err := config.AWS(os.Getenv)
	if err != nil {
		config.Exit(log, err)
	}
	contacts := s.Domain(log, contact.Config{
		Store:    store.New(dynamodb.NewFromConfig(aws), s.Tables),
		Workflow: workflow.New(sfn.NewFromConfig(aws), s.StateMachineARN, nil),
	})
	lambda.Start(step.New(contacts, log).Await)
}
