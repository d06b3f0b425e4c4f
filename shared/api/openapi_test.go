package api

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"
)

const openAPIPath = "../../api/openapi.yaml"

// openAPI is the published contract, decoded as plain maps and lists.
type openAPI map[string]any

var loadOpenAPI = sync.OnceValues(func() (openAPI, error) {
	b, err := os.ReadFile(openAPIPath)
	if err != nil {
		return nil, err
	}
	// Decoded into a plain map: yaml.v3 gives nested mappings the type of the outer one.
	var doc map[string]any
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("parse %s: %w", openAPIPath, err)
	}
	return openAPI(doc), nil
})

func mustOpenAPI(t *testing.T) openAPI {
	t.Helper()
	doc, err := loadOpenAPI()
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

var httpMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// operations returns the document's operations by route key ("GET /me/services").
func (d openAPI) operations() map[string]map[string]any {
	ops := map[string]map[string]any{}
	paths, _ := d["paths"].(map[string]any)
	for path, item := range paths {
		item, _ := item.(map[string]any)
		for method, op := range item {
			if slices.Contains(httpMethods, method) {
				op, _ := op.(map[string]any)
				ops[strings.ToUpper(method)+" "+path] = op
			}
		}
	}
	return ops
}

// resolve follows a local $ref ("#/components/schemas/Service"); other nodes come back as
// they are. A dangling reference resolves to nil.
func (d openAPI) resolve(node any) map[string]any {
	m, _ := node.(map[string]any)
	for range 10 { // references to references, bounded
		ref, ok := m["$ref"].(string)
		if !ok {
			return m
		}
		var cur any = map[string]any(d)
		for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
			next, _ := cur.(map[string]any)
			cur = next[part]
		}
		m, _ = cur.(map[string]any)
	}
	return m
}

func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	doc := mustOpenAPI(t)
	ops := doc.operations()

	var documented, routed []string
	for key := range ops {
		documented = append(documented, key)
	}
	for _, r := range Routes {
		routed = append(routed, r.Key())
	}
	sort.Strings(documented)
	sort.Strings(routed)
	if diff := cmp.Diff(routed, documented); diff != "" {
		t.Fatalf("OpenAPI operations differ from Routes (-routes +openapi):\n%s", diff)
	}

	global, _ := doc["security"].([]any)
	for _, r := range Routes {
		t.Run(r.Key(), func(t *testing.T) {
			op := ops[r.Key()]
			security := global
			if s, ok := op["security"]; ok {
				security, _ = s.([]any)
			}
			if r.Public && len(security) != 0 {
				t.Errorf("public route has security %v, want none", security)
			}
			if !r.Public && !requiresBearer(security) {
				t.Errorf("route has security %v, want bearerAuth", security)
			}

			declared := map[string]bool{}
			params, _ := op["parameters"].([]any)
			for _, p := range params {
				p := doc.resolve(p)
				if p["in"] == "path" && p["required"] == true {
					declared[p["name"].(string)] = true
				}
			}
			for _, m := range regexp.MustCompile(`\{(\w+)\}`).FindAllStringSubmatch(r.Path, -1) {
				if !declared[m[1]] {
					t.Errorf("path parameter %s is not declared as a required path parameter", m[1])
				}
			}
			if responses, _ := op["responses"].(map[string]any); len(responses) == 0 {
				t.Error("no responses documented")
			}
		})
	}
}

func requiresBearer(security []any) bool {
	for _, req := range security {
		if m, ok := req.(map[string]any); ok {
			if _, ok := m["bearerAuth"]; ok {
				return true
			}
		}
	}
	return false
}

func TestOpenAPIReferencesResolve(t *testing.T) {
	doc := mustOpenAPI(t)
	schemes := doc.resolve(map[string]any{"$ref": "#/components/securitySchemes/bearerAuth"})
	if schemes["scheme"] != "bearer" || schemes["bearerFormat"] != "JWT" {
		t.Errorf("bearerAuth = %v, want an HTTP bearer JWT scheme", schemes)
	}
	var walk func(where string, node any)
	walk = func(where string, node any) {
		switch n := node.(type) {
		case map[string]any:
			if ref, ok := n["$ref"].(string); ok && doc.resolve(n) == nil {
				t.Errorf("%s: $ref %s does not resolve", where, ref)
			}
			for k, v := range n {
				walk(where+"/"+k, v)
			}
		case []any:
			for i, v := range n {
				walk(where+"/"+strconv.Itoa(i), v)
			}
		}
	}
	walk("#", map[string]any(doc))
}

// checkAgainstOpenAPI checks that a JSON response is documented for its route and status
// and matches the documented schema, without any undocumented field.
func checkAgainstOpenAPI(t *testing.T, routeKey string, resp events.APIGatewayV2HTTPResponse) {
	t.Helper()
	doc := mustOpenAPI(t)
	op := doc.operations()[routeKey]
	responses, _ := op["responses"].(map[string]any)
	documented, ok := responses[strconv.Itoa(resp.StatusCode)]
	if !ok && resp.StatusCode >= 400 {
		documented = responses["default"]
	}
	if documented == nil {
		t.Errorf("OpenAPI: %s documents no %d response", routeKey, resp.StatusCode)
		return
	}
	content, _ := doc.resolve(documented)["content"].(map[string]any)
	media := doc.resolve(content["application/json"])
	if media == nil {
		t.Errorf("OpenAPI: %s %d documents no JSON content", routeKey, resp.StatusCode)
		return
	}
	var body any
	if err := json.Unmarshal([]byte(resp.Body), &body); err != nil {
		t.Errorf("body is not JSON: %v", err)
		return
	}
	for _, problem := range doc.validate(media["schema"], body, "body") {
		t.Errorf("OpenAPI: %s %d: %s", routeKey, resp.StatusCode, problem)
	}
}

// validate checks v against the subset of JSON Schema the document uses.
func (d openAPI) validate(schemaNode any, v any, where string) []string {
	schema := d.resolve(schemaNode)
	if schema == nil {
		return []string{where + ": no schema"}
	}
	if v == nil {
		if schema["nullable"] == true {
			return nil
		}
		return []string{where + ": null where the schema does not allow it"}
	}
	var problems []string
	switch schema["type"] {
	case "object":
		obj, ok := v.(map[string]any)
		if !ok {
			return []string{fmt.Sprintf("%s: %T, want an object", where, v)}
		}
		props, _ := schema["properties"].(map[string]any)
		required, _ := schema["required"].([]any)
		for _, name := range required {
			if _, ok := obj[name.(string)]; !ok {
				problems = append(problems, fmt.Sprintf("%s: required field %s missing", where, name))
			}
		}
		for name, fieldValue := range obj {
			prop, ok := props[name]
			if !ok {
				problems = append(problems, fmt.Sprintf("%s: undocumented field %s", where, name))
				continue
			}
			problems = append(problems, d.validate(prop, fieldValue, where+"."+name)...)
		}
	case "array":
		list, ok := v.([]any)
		if !ok {
			return []string{fmt.Sprintf("%s: %T, want an array", where, v)}
		}
		for i, item := range list {
			problems = append(problems, d.validate(schema["items"], item, fmt.Sprintf("%s[%d]", where, i))...)
		}
	case "string":
		s, ok := v.(string)
		if !ok {
			return []string{fmt.Sprintf("%s: %T, want a string", where, v)}
		}
		if enum, ok := schema["enum"].([]any); ok && !slices.Contains(enum, any(s)) {
			problems = append(problems, fmt.Sprintf("%s: %q is not one of %v", where, s, enum))
		}
		if schema["format"] == "date-time" {
			if ts, err := time.Parse(time.RFC3339, s); err != nil || ts.Location() != time.UTC {
				problems = append(problems, fmt.Sprintf("%s: %q is not an RFC 3339 UTC time", where, s))
			}
		}
	case "integer":
		if n, ok := v.(float64); !ok || n != math.Trunc(n) {
			problems = append(problems, fmt.Sprintf("%s: %v, want an integer", where, v))
		}
	default:
		problems = append(problems, fmt.Sprintf("%s: schema type %v not supported by this check", where, schema["type"]))
	}
	return problems
}

// The validator must catch what it is there to catch.
func TestOpenAPIValidatorCatchesMismatches(t *testing.T) {
	doc := mustOpenAPI(t)
	change := func(edit func(map[string]any)) any {
		c := sampleChangeJSON()
		edit(c)
		return c
	}
	tests := []struct {
		name string
		v    any
		want int // problems found
	}{
		{"the sample change", sampleChangeJSON(), 0},
		{"undocumented field", change(func(c map[string]any) { c["tokenHash"] = secretTokenHash }), 1},
		{"missing field", change(func(c map[string]any) { delete(c, "parties") }), 1},
		{"wrong enum", change(func(c map[string]any) { c["state"] = "lost" }), 1},
		{"time not UTC", change(func(c map[string]any) { c["createdAt"] = "2025-03-01T10:00:00+01:00" }), 1},
		{"null list", change(func(c map[string]any) { c["history"] = nil }), 1},
		{"party status", change(func(c map[string]any) { c["parties"] = []any{map[string]any{"nic": adminNIC, "status": "maybe"}} }), 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			problems := doc.validate(map[string]any{"$ref": "#/components/schemas/ContactChange"}, tt.v, "change")
			if len(problems) != tt.want {
				t.Errorf("got %d problems %q, want %d", len(problems), problems, tt.want)
			}
		})
	}
}
