// Package events holds the JSON Schemas (draft 2020-12) of the events the system publishes,
// one file per detail-type, named <DetailType>.schema.json. Each describes the whole
// EventBridge envelope: its source and detail-type, and the detail's fields for that type.
// Subscribers may take the files as they are; Validate checks an event against them.
package events

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

//go:embed *.schema.json
var files embed.FS

const suffix = ".schema.json"

// ErrUnknownType is the error for an event whose detail-type has no schema.
var ErrUnknownType = errors.New("unknown detail-type")

// schemas compiles every schema once, keyed by detail-type.
var schemas = sync.OnceValues(func() (map[string]*jsonschema.Schema, error) {
	names, err := fs.Glob(files, "*"+suffix)
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat() // "date-time" is checked, not only noted
	out := make(map[string]*jsonschema.Schema, len(names))
	for _, name := range names {
		raw, err := files.ReadFile(name)
		if err != nil {
			return nil, err
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
		if err != nil {
			return nil, fmt.Errorf("read schema %s: %w", name, err)
		}
		// The files carry no $id: each is known by its name alone.
		url := "file:///api/events/" + name
		if err := c.AddResource(url, doc); err != nil {
			return nil, fmt.Errorf("add schema %s: %w", name, err)
		}
		sch, err := c.Compile(url)
		if err != nil {
			return nil, fmt.Errorf("compile schema %s: %w", name, err)
		}
		out[strings.TrimSuffix(name, suffix)] = sch
	}
	return out, nil
})

// DetailTypes lists the detail-types that have a schema, sorted.
func DetailTypes() []string {
	names, _ := fs.Glob(files, "*"+suffix) // the pattern is well formed
	out := make([]string, 0, len(names))
	for _, name := range names {
		out = append(out, strings.TrimSuffix(name, suffix))
	}
	sort.Strings(out)
	return out
}

// Schema returns the schema file of a detail-type, as it is published.
func Schema(detailType string) ([]byte, error) {
	raw, err := files.ReadFile(detailType + suffix)
	if err != nil {
		return nil, fmt.Errorf("schema of %q: %w", detailType, ErrUnknownType)
	}
	return raw, nil
}

// Validate checks an event, in EventBridge's envelope, against the schema of its
// detail-type. An event whose detail-type has no schema is an error wrapping
// ErrUnknownType.
func Validate(envelope []byte) error {
	m, err := schemas()
	if err != nil {
		return fmt.Errorf("event schemas: %w", err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(envelope))
	if err != nil {
		return fmt.Errorf("read event: %w", err)
	}
	obj, ok := doc.(map[string]any)
	if !ok {
		return errors.New("event is not a JSON object")
	}
	detailType, _ := obj["detail-type"].(string)
	sch, ok := m[detailType]
	if !ok {
		return fmt.Errorf("event with detail-type %q: %w", detailType, ErrUnknownType)
	}
	if err := sch.Validate(doc); err != nil {
		return fmt.Errorf("event %s: %w", detailType, err)
	}
	return nil
}
