// Package stepfunctions serves an in-process state machine executor (package asl) over the
// Step Functions API's wire protocol, AWS JSON 1.0, so that functions run by `sam local`
// reach it through AWS_ENDPOINT_URL_SFN with the SDK's own client; and it invokes the
// state machine's functions over the Lambda Invoke API that `sam local start-lambda`
// serves.
package stepfunctions

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/servicecontacts/servicecontacts/infra/local/asl"
)

// API is the part of the Step Functions API the handler serves, with the SDK's method
// signatures.
type API interface {
	StartExecution(ctx context.Context, in *sfn.StartExecutionInput, opts ...func(*sfn.Options)) (*sfn.StartExecutionOutput, error)
	SendTaskSuccess(ctx context.Context, in *sfn.SendTaskSuccessInput, opts ...func(*sfn.Options)) (*sfn.SendTaskSuccessOutput, error)
	SendTaskFailure(ctx context.Context, in *sfn.SendTaskFailureInput, opts ...func(*sfn.Options)) (*sfn.SendTaskFailureOutput, error)
	StopExecution(ctx context.Context, in *sfn.StopExecutionInput, opts ...func(*sfn.Options)) (*sfn.StopExecutionOutput, error)
	DescribeExecution(ctx context.Context, in *sfn.DescribeExecutionInput, opts ...func(*sfn.Options)) (*sfn.DescribeExecutionOutput, error)
}

var _ API = (*asl.Executor)(nil)

// targetPrefix starts the X-Amz-Target header of every Step Functions operation.
const targetPrefix = "AWSStepFunctions."

// maxBody bounds a request body: Step Functions' inputs and outputs are at most 256 KiB,
// which JSON string escaping may double.
const maxBody = 1 << 20

// Handler serves the Step Functions operations of an API: POST / with the operation named
// by X-Amz-Target and its members as a JSON body.
type Handler struct {
	api API
	log *slog.Logger
}

// New returns a handler serving api; log nil means slog.Default(). It logs operations and
// their errors, never their members (task tokens, inputs, outputs).
func New(api API, log *slog.Logger) *Handler {
	if log == nil {
		log = slog.Default()
	}
	return &Handler{api: api, log: log}
}

// operation decodes an operation's request body, calls the API and returns the response
// shape to encode.
type operation func(h *Handler, ctx context.Context, body []byte) (any, error)

var operations = map[string]operation{
	"StartExecution":    (*Handler).startExecution,
	"SendTaskSuccess":   (*Handler).sendTaskSuccess,
	"SendTaskFailure":   (*Handler).sendTaskFailure,
	"StopExecution":     (*Handler).stopExecution,
	"DescribeExecution": (*Handler).describeExecution,
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	target := r.Header.Get("X-Amz-Target")
	name, isOurs := strings.CutPrefix(target, targetPrefix)
	op := operations[name]
	if r.Method != http.MethodPost || r.URL.Path != "/" || !isOurs || op == nil {
		h.fail(w, target, &protocolError{code: codeUnknownOperation, message: "Unknown operation: '" + target + "'"})
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		h.fail(w, name, &protocolError{code: codeSerialization, message: "cannot read the request body: " + err.Error()})
		return
	}
	out, err := op(h, r.Context(), body)
	if err != nil {
		h.fail(w, name, err)
		return
	}
	h.log.Debug("step functions call", "operation", name)
	w.Header().Set("Content-Type", contentType)
	_ = json.NewEncoder(w).Encode(out) // the client is gone if this fails
}

// decode reads an operation's members; a body that is not its JSON object is a
// SerializationException. Members the handler does not read are ignored.
func decode(body []byte, v any) error {
	if len(body) == 0 {
		body = []byte("{}")
	}
	if err := json.Unmarshal(body, v); err != nil {
		return &protocolError{code: codeSerialization, message: "cannot decode the request: " + err.Error()}
	}
	return nil
}
