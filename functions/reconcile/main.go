// Command reconcile ends the requests the workflow failed to end: it reconciles one request
// when its execution fails, times out or is aborted (an EventBridge rule), and sweeps every
// request that is due on a schedule (EventBridge Scheduler).
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/servicecontacts/servicecontacts/shared/config"
	"github.com/servicecontacts/servicecontacts/shared/step"
)

func main() {
	log := config.Logger()
	s, err := config.Load("reconcile")
	if err != nil {
		config.Exit(log, err)
	}
	steps, err := config.Manager(context.Background(), s, log)
	if err != nil {
		config.Exit(log, err)
	}
	lambda.Start(step.New(steps, log).Reconcile)
}
