// Package sam runs the functions under the SAM CLI, as a developer does locally: `sam
// build` of template.yaml, `sam local invoke` of every event in infra/events, and `sam
// local start-api` serving the emailed links, with `sam local start-lambda` running the
// state machine's steps for the Step Functions front (infra/sam/awslocal). Its test
// runs under `make sam-local`, which starts what it needs: DynamoDB Local, aws-ses-v2-local
// and a Docker daemon on the host network only, with a stand-in for the Lambda base image.
//
// Two programs make that work here. hostdocker gives every container SAM starts the host's
// network, which SAM CLI cannot ask for. awslocal serves the very state machine definition
// over the Step Functions API, and takes the events put on EventBridge, as neither service
// runs here.
package sam
