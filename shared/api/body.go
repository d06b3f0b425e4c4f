package api

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"slices"
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
	dec := json.NewDecoder(bytes.NewReader(b))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, invalid("invalid_body", "the body must be a JSON object")
	}
	out := map[string]string{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, invalid("invalid_body", "the body is not valid JSON")
		}
		key := t.(string) // inside an object, json.Decoder only yields string keys
		if !slices.Contains(allowed, key) {
			return nil, invalid("invalid_body", "unknown field %.40q; expected %s", key, strings.Join(allowed, ", "))
		}
		if _, dup := out[key]; dup {
			return nil, invalid("invalid_body", "field %q appears twice", key)
		}
		v, err := dec.Token()
		if err != nil {
			return nil, invalid("invalid_body", "the body is not valid JSON")
		}
		s, ok := v.(string)
		if !ok {
			return nil, invalid("invalid_body", "field %q must be a string", key)
		}
		out[key] = s
	}
	if t, err := dec.Token(); err != nil || t != json.Delim('}') {
		return nil, invalid("invalid_body", "the body is not valid JSON")
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, invalid("invalid_body", "the body must hold a single JSON object")
	}
	return out, nil
}
