// Package statemachine holds the contact-change state machine definition that SAM deploys
// (DefinitionUri) and the local stack runs, so both read the very same file.
package statemachine

import _ "embed"

// Definition is contact-change.asl.json, with its ${...} substitutions not yet applied.
//
//go:embed contact-change.asl.json
var Definition []byte
