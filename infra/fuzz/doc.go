// Package fuzz holds the property-based fuzzing of the HTTP API: its test serves the local
// stack on a loopback port, on the embedded backend and on DynamoDB Local, and runs
// Schemathesis against it with api/openapi.yaml, over every operation, so that every answer
// the stack gives is one the document states and no input makes it fail.
package fuzz
