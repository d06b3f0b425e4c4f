// Command await is the state machine's callback task for one party: it registers the task
// token and answers it at once when the party already decided.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/servicecontacts/servicecontacts/shared/config"
	"github.com/servicecontacts/servicecontacts/shared/step"
)

func main() {
	log := config.Logger()
	s, err := config.Load("await")
	if err != nil {
		config.Exit(log, err)
	}
	steps, err := config.Manager(context.Background(), s, log)
	if err != nil {
		config.Exit(log, err)
	}
	lambda.Start(step.New(steps, log).Await)
}
