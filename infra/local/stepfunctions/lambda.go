package stepfunctions

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/aws/aws-lambda-go/lambda/messages"

	"github.com/servicecontacts/servicecontacts/infra/local/asl"
)

// maxPayload bounds a function's response, as Lambda bounds a synchronous one (6 MB).
const maxPayload = 6 << 20

// Invoker returns the function called functionName as a Task state calls it, through the
// Lambda Invoke API at endpoint (such as http://127.0.0.1:3001, `sam local start-lambda`):
// the payload is the request body, the function's result the response body.
//
// Its errors carry the names Step Functions gives them, for Retry and Catch to match: a
// function error (X-Amz-Function-Error) is named by the errorType of its payload, as
// aws-lambda-go reports a Go function's error type (Lambda.Unknown when it has none, as
// when the function timed out); a Lambda service error is Lambda.<its code>Exception
// (Lambda.ServiceException, Lambda.ResourceNotFoundException...); a request that got no
// response is Lambda.SdkClientException.
func Invoker(client *http.Client, endpoint, functionName string) asl.Function {
	invocations := strings.TrimRight(endpoint, "/") + "/2015-03-31/functions/" + url.PathEscape(functionName) + "/invocations"
	return func(ctx context.Context, payload json.RawMessage) (json.RawMessage, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, invocations, bytes.NewReader(payload))
		if err != nil {
			return nil, fmt.Errorf("invoke %s: %w", functionName, err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Amz-Invocation-Type", "RequestResponse")
		resp, err := client.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return nil, fmt.Errorf("invoke %s: %w", functionName, ctx.Err())
			}
			return nil, named("Lambda.SdkClientException", fmt.Sprintf("invoke %s: %v", functionName, err))
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(io.LimitReader(resp.Body, maxPayload+1))
		switch {
		case err != nil:
			return nil, named("Lambda.SdkClientException", fmt.Sprintf("invoke %s: read the response: %v", functionName, err))
		case len(body) > maxPayload:
			return nil, named("Lambda.SdkClientException", fmt.Sprintf("invoke %s: the response exceeds %d bytes", functionName, maxPayload))
		case resp.StatusCode != http.StatusOK:
			return nil, serviceError(functionName, resp, body)
		case resp.Header.Get("X-Amz-Function-Error") != "":
			return nil, functionError(body)
		}
		return body, nil
	}
}

// named is an error that the executor reports by the given name: aws-lambda-go's own
// error response, which the executor names by its Type as Lambda's runtime API does.
func named(name, message string) error {
	return messages.InvokeResponse_Error{Type: name, Message: message}
}

// functionError is the function's error payload, {"errorMessage", "errorType", ...}.
func functionError(body []byte) error {
	var payload struct {
		Message string `json:"errorMessage"`
		Type    string `json:"errorType"`
	}
	if err := json.Unmarshal(body, &payload); err != nil || payload.Type == "" {
		message := payload.Message
		if err != nil {
			message = string(body)
		}
		return named("Lambda.Unknown", message)
	}
	return named(payload.Type, payload.Message)
}

// serviceError names a Lambda service error by its code, from the X-Amzn-ErrorType header
// (sam local sends it without the Exception suffix: ResourceNotFound), or else by the
// status.
func serviceError(functionName string, resp *http.Response, body []byte) error {
	code, _, _ := strings.Cut(resp.Header.Get("X-Amzn-ErrorType"), ":")
	switch {
	case code != "":
	case resp.StatusCode == http.StatusTooManyRequests:
		code = "TooManyRequestsException"
	case resp.StatusCode >= 500:
		code = "ServiceException"
	default:
		code = "AWSLambdaException"
	}
	if !strings.HasSuffix(code, "Exception") {
		code += "Exception"
	}
	var payload struct{ Message string }
	_ = json.Unmarshal(body, &payload) // the message is a courtesy: without it, the status tells
	return named("Lambda."+code, fmt.Sprintf("invoke %s: %s (status %d)", functionName, payload.Message, resp.StatusCode))
}
