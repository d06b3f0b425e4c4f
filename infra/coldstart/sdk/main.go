// Command sdk is the second baseline of the cold-start figures: what the AWS SDK alone costs
// the functions that use the most of it. It builds the DynamoDB, Step Functions, SES v2 and
// EventBridge clients as request does (config.AWS, then NewFromConfig) and links the
// operations request calls, but none of our own code: the distance from it to a function
// is what the function's own code costs.
package main

import (
	"context"
	"errors"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/servicecontacts/servicecontacts/shared/config"
)

func main() {
	aws, err := config.AWS(os.Getenv)
	if err != nil {
		panic(err)
	}
	db := dynamodb.NewFromConfig(aws)
	states := sfn.NewFromConfig(aws)
	mail := sesv2.NewFromConfig(aws)
	bus := eventbridge.NewFromConfig(aws)
	// Never invoked: the calls are here to be linked.
	lambda.Start(func(ctx context.Context) error {
		_, err1 := db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{})
		_, err2 := db.GetItem(ctx, &dynamodb.GetItemInput{})
		_, err3 := db.PutItem(ctx, &dynamodb.PutItemInput{})
		_, err4 := db.Query(ctx, &dynamodb.QueryInput{})
		_, err5 := db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{})
		_, err6 := db.UpdateItem(ctx, &dynamodb.UpdateItemInput{})
		_, err7 := states.StartExecution(ctx, &sfn.StartExecutionInput{})
		_, err8 := mail.SendEmail(ctx, &sesv2.SendEmailInput{})
		_, err9 := bus.PutEvents(ctx, &eventbridge.PutEventsInput{})
		return errors.Join(err1, err2, err3, err4, err5, err6, err7, err8, err9)
	})
}
