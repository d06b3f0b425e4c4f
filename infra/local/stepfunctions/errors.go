package stepfunctions

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/aws/smithy-go"
)

// contentType is the AWS JSON 1.0 protocol's, on requests and responses alike.
const contentType = "application/x-amz-json-1.0"

// The protocol's own error codes, for requests that reach no operation.
const (
	codeUnknownOperation = "UnknownOperationException"
	codeSerialization    = "SerializationException"
	codeInternalFailure  = "InternalFailure"
)

// protocolError is a request the protocol rejects before any operation runs.
type protocolError struct{ code, message string }

func (e *protocolError) Error() string { return e.code + ": " + e.message }

// errorBody is an error as the JSON protocol sends it; the SDK reads the code from __type.
type errorBody struct {
	Type    string `json:"__type"`
	Message string `json:"message"`
}

// fail is the one place that turns errors into responses: the protocol's and the API's
// client errors (ExecutionDoesNotExist, InvalidToken...) are 400 with their code, anything
// else a 500 InternalFailure whose detail stays in the log.
func (h *Handler) fail(w http.ResponseWriter, operation string, err error) {
	status, body := http.StatusInternalServerError, errorBody{Type: codeInternalFailure, Message: "internal failure"}
	var pe *protocolError
	var api smithy.APIError
	switch {
	case errors.As(err, &pe):
		status, body = http.StatusBadRequest, errorBody{Type: pe.code, Message: pe.message}
	case errors.As(err, &api) && api.ErrorFault() == smithy.FaultClient:
		status, body = http.StatusBadRequest, errorBody{Type: api.ErrorCode(), Message: api.ErrorMessage()}
	}
	if status == http.StatusInternalServerError {
		h.log.Error("step functions call failed", "operation", operation, "err", err)
	} else {
		h.log.Info("step functions call refused", "operation", operation, "error", body.Type)
	}
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body) // the client is gone if this fails
}
