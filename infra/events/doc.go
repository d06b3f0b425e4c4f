// Package events holds one API Gateway HTTP API event (payload format 2.0) per route, for
// `sam local invoke -e`, and env.json, the functions' variables for `sam local`. Its tests
// replay every event through the real handlers on the embedded backend.
package events
