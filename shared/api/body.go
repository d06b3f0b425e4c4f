package api

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"strings"

	"github.com/aws/aws-lambda-go/events"
)

// maxBodyBytes bounds every request body, decoded.
const maxBodyBytes = 64 << 10

// header returns a request header. API Gateway lowercases header names in payload format
// 2.0; other sources (tests, local routers) may not, so the lookup ignores case.
func header(event events.APIGatewayV2HTTPRequest, name string) string {
	if v, ok := event.Headers[strings.ToLower(name)]; ok {
		return v
	}
	for k, v := range event.Headers {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

// body returns the request body, decoded from base64 when API Gateway encoded it.
func body(event events.APIGatewayV2HTTPRequest) ([]byte, error) {
	if !event.IsBase64Encoded {
		if len(event.Body) > maxBodyBytes {
			return nil, invalid("invalid_body", "the body is larger than %d bytes", maxBodyBytes)
		}
		return []byte(event.Body), nil
	}
	if base64.StdEncoding.DecodedLen(len(event.Body)) > maxBodyBytes+3 {
		return nil, invalid("invalid_body", "the body is larger than %d bytes", maxBodyBytes)
	}
	b, err := base64.StdEncoding.DecodeString(event.Body)
	if err != nil {
		return nil, invalid("invalid_body", "the body is marked base64 but is not")
	}
	if len(b) > maxBodyBytes {
		return nil, invalid("invalid_body", "the body is larger than %d bytes", maxBodyBytes)
	}
	return b, nil
}

// requireMediaType refuses a body declared with another Content-Type than want. A missing
// Content-Type is accepted: the route reads one format only.
func requireMediaType(event events.APIGatewayV2HTTPRequest, want string) error {
	ct := header(event, "Content-Type")
	if ct == "" {
		return nil
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || mt != want {
		return fmt.Errorf("%w: send %s, not %.100q", errUnsupportedMediaType, want, ct)
	}
	return nil
}

// decodeStrings reads a JSON body that must be one object whose values are all strings,
// with keys among allowed, each at most once. Unlike encoding/json's struct decoding, it
// matches keys exactly (no case folding) and refuses duplicates, null and other types.
func decodeStrings(b []byte, allowed ...string) (map[string]string, error) {
	fields := make([]field, 0, len(allowed))
	for _, name := range allowed {
		fields = append(fields, field{name, stringField})
	}
	values, err := decodeObject(b, fields...)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(values))
	for k, v := range values {
		out[k] = v.(string)
	}
	return out, nil
}

// fieldType is the JSON type a body field must have.
type fieldType int

const (
	stringField fieldType = iota
	boolField
	stringsField // an array of strings
)

func (t fieldType) String() string {
	switch t {
	case boolField:
		return "a boolean"
	case stringsField:
		return "an array of strings"
	}
	return "a string"
}

// maxArray bounds the strings of an array field: what the largest batch needs, and room to
// tell the caller it is too large.
const maxArray = 1000

// field is one field a JSON body may hold.
type field struct {
	name string
	typ  fieldType
}

// decodeObject reads a JSON body that must be one object with keys among fields, each at
// most once, each of its field's type: the values are strings and bools. It matches keys
// exactly (no case folding) and refuses duplicates, null and values of another type. An
// array of strings holds at most maxArray of them.
func decodeObject(b []byte, fields ...field) (map[string]any, error) {
	types := make(map[string]fieldType, len(fields))
	names := make([]string, 0, len(fields))
	for _, f := range fields {
		types[f.name] = f.typ
		names = append(names, f.name)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, invalid("invalid_body", "the body must be a JSON object")
	}
	out := map[string]any{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, invalid("invalid_body", "the body is not valid JSON")
		}
		key := t.(string) // inside an object, json.Decoder only yields string keys
		typ, known := types[key]
		if !known {
			return nil, invalid("invalid_body", "unknown field %.40q; expected %s", key, strings.Join(names, ", "))
		}
		if _, dup := out[key]; dup {
			return nil, invalid("invalid_body", "field %q appears twice", key)
		}
		v, err := dec.Token()
		if err != nil {
			return nil, invalid("invalid_body", "the body is not valid JSON")
		}
		switch v.(type) {
		case json.Delim:
			if typ != stringsField || v != json.Delim('[') {
				return nil, invalid("invalid_body", "field %q must be %s", key, typ)
			}
			var list []string
			for dec.More() {
				item, err := dec.Token()
				s, ok := item.(string)
				if err != nil || !ok {
					return nil, invalid("invalid_body", "field %q must be %s", key, typ)
				}
				if len(list) == maxArray {
					return nil, invalid("invalid_body", "field %q holds more than %d strings", key, maxArray)
				}
				list = append(list, s)
			}
			if end, err := dec.Token(); err != nil || end != json.Delim(']') {
				return nil, invalid("invalid_body", "the body is not valid JSON")
			}
			out[key] = list
			continue
		case string:
			if typ != stringField {
				return nil, invalid("invalid_body", "field %q must be %s", key, typ)
			}
		case bool:
			if typ != boolField {
				return nil, invalid("invalid_body", "field %q must be %s", key, typ)
			}
		default: // null, a number, or the start of an object or array
			return nil, invalid("invalid_body", "field %q must be %s", key, typ)
		}
		out[key] = v
	}
	if t, err := dec.Token(); err != nil || t != json.Delim('}') {
		return nil, invalid("invalid_body", "the body is not valid JSON")
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, invalid("invalid_body", "the body must hold a single JSON object")
	}
	return out, nil
}
