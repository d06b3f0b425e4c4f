package api

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"mime"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"

	"github.com/servicecontacts/servicecontacts/shared/contact"
	"github.com/servicecontacts/servicecontacts/shared/store"
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
			switch {
			case r.Public:
				if len(security) != 0 {
					t.Errorf("public route has security %v, want none", security)
				}
			case r.Operator:
				// Only IAM: a customer's JWT must not be an alternative.
				if !cmp.Equal(security, []any{map[string]any{"sigv4": []any{}}}) {
					t.Errorf("operator route has security %v, want sigv4 alone", security)
				}
			default:
				if !requiresScheme(security, "bearerAuth") || requiresScheme(security, "sigv4") {
					t.Errorf("route has security %v, want bearerAuth", security)
				}
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

// Every answer is documented with its status: a catch-all would let an undocumented one
// pass unnoticed.
func TestOpenAPIHasNoDefaultResponse(t *testing.T) {
	for key, op := range mustOpenAPI(t).operations() {
		responses, _ := op["responses"].(map[string]any)
		if _, ok := responses["default"]; ok {
			t.Errorf("%s documents a default response", key)
		}
	}
}

// API Gateway's own answers are documented with their exact bodies.
func TestOpenAPIGatewayAnswers(t *testing.T) {
	doc := mustOpenAPI(t)
	ops := doc.operations()
	for _, r := range Routes {
		op := ops[r.Key()]
		responses, _ := op["responses"].(map[string]any)
		want := map[string]string{"400": "Bad Request", "413": "Request Entity Too Large", "429": "Too Many Requests", "500": "Internal Server Error", "503": "Service Unavailable"}
		switch {
		case r.Operator:
			want["403"] = "Forbidden"
		case !r.Public:
			want["401"] = "Unauthorized"
		}
		if strings.Contains(r.Path, "{") {
			want["404"] = "Not Found"
		}
		for status, message := range want {
			t.Run(r.Key()+"/"+status, func(t *testing.T) {
				content, _ := doc.resolve(responses[status])["content"].(map[string]any)
				media := doc.resolve(content["application/json"])
				if media == nil {
					t.Fatalf("no JSON answer documented")
				}
				if problems := doc.validate(media["schema"], map[string]any{"message": message}, "body"); len(problems) != 0 {
					t.Errorf("API Gateway's answer is not documented: %q", problems)
				}
				if problems := doc.validate(media["schema"], map[string]any{"message": message + "!"}, "body"); len(problems) == 0 {
					t.Errorf("another message passes for API Gateway's")
				}
			})
		}
	}
}

// requiresScheme reports whether one of the security requirements names scheme.
func requiresScheme(security []any, scheme string) bool {
	for _, req := range security {
		if m, ok := req.(map[string]any); ok {
			if _, ok := m[scheme]; ok {
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
	// API Gateway's extension for IAM authorization, in the form its OpenAPI import reads.
	sigv4 := doc.resolve(map[string]any{"$ref": "#/components/securitySchemes/sigv4"})
	wantSigv4 := map[string]any{"type": "apiKey", "name": "Authorization", "in": "header", "x-amazon-apigateway-authtype": "awsSigv4"}
	for k, v := range wantSigv4 {
		if sigv4[k] != v {
			t.Errorf("sigv4.%s = %v, want %v", k, sigv4[k], v)
		}
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
	if len(content) == 0 {
		if resp.Body != "" || resp.Headers["Content-Type"] != "" {
			t.Errorf("OpenAPI: %s %d documents no content, got %q with Content-Type %q", routeKey, resp.StatusCode, resp.Body, resp.Headers["Content-Type"])
		}
		return
	}
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
	if alternatives, ok := schema["oneOf"].([]any); ok {
		var matched int
		var all []string
		for i, alt := range alternatives {
			problems := d.validate(alt, v, where)
			if len(problems) == 0 {
				matched++
			}
			all = append(all, fmt.Sprintf("alternative %d: %v", i, problems))
		}
		if matched != 1 {
			return []string{fmt.Sprintf("%s: matches %d of oneOf's alternatives, want 1 (%s)", where, matched, strings.Join(all, "; "))}
		}
		return nil
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
		if n, ok := schema["minProperties"].(int); ok && len(obj) < n {
			problems = append(problems, fmt.Sprintf("%s: %d fields, want at least %d", where, len(obj), n))
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
		// JSON Schema counts characters (code points), not bytes.
		if n, ok := schema["minLength"].(int); ok && utf8.RuneCountInString(s) < n {
			problems = append(problems, fmt.Sprintf("%s: %d characters, want at least %d", where, utf8.RuneCountInString(s), n))
		}
		if n, ok := schema["maxLength"].(int); ok && utf8.RuneCountInString(s) > n {
			problems = append(problems, fmt.Sprintf("%s: %d characters, want at most %d", where, utf8.RuneCountInString(s), n))
		}
		if pattern, ok := schema["pattern"].(string); ok {
			re, err := regexp.Compile(pattern)
			if err != nil {
				problems = append(problems, fmt.Sprintf("%s: pattern %q does not compile: %v", where, pattern, err))
			} else if !re.MatchString(s) {
				problems = append(problems, fmt.Sprintf("%s: %q does not match %s", where, s, pattern))
			}
		}
	case "integer":
		n, ok := v.(float64)
		if !ok || n != math.Trunc(n) {
			problems = append(problems, fmt.Sprintf("%s: %v, want an integer", where, v))
			break
		}
		if low, ok := schema["minimum"].(int); ok && n < float64(low) {
			problems = append(problems, fmt.Sprintf("%s: %v, want at least %d", where, n, low))
		}
		if high, ok := schema["maximum"].(int); ok && n > float64(high) {
			problems = append(problems, fmt.Sprintf("%s: %v, want at most %d", where, n, high))
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			problems = append(problems, fmt.Sprintf("%s: %T, want a boolean", where, v))
		}
	default:
		problems = append(problems, fmt.Sprintf("%s: schema type %v not supported by this check", where, schema["type"]))
	}
	return problems
}

// checkRequest lists what the document says is wrong with a request to routeKey: its path
// and query parameters, its Content-Type and its JSON body. Tests compare the verdict with
// the handler's, so that the published bounds are the enforced ones.
func (d openAPI) checkRequest(routeKey string, e events.APIGatewayV2HTTPRequest) []string {
	op := d.operations()[routeKey]
	if op == nil {
		return []string{routeKey + ": not documented"}
	}
	var problems []string
	params, _ := op["parameters"].([]any)
	for _, p := range params {
		p := d.resolve(p)
		name, _ := p["name"].(string)
		var value string
		var present bool
		switch p["in"] {
		case "path":
			value, present = e.PathParameters[name]
		case "query":
			// Sent empty, a parameter is sent: it must be valid.
			value, present = e.QueryStringParameters[name]
		default:
			continue
		}
		if !present {
			if p["required"] == true {
				problems = append(problems, fmt.Sprintf("parameter %s missing", name))
			}
			continue
		}
		var v any = value
		if d.resolve(p["schema"])["type"] == "integer" {
			// An integer in a query string is written in digits, with a sign at most.
			n, err := strconv.ParseFloat(value, 64)
			if err != nil || !regexp.MustCompile(`^-?[0-9]+$`).MatchString(value) {
				problems = append(problems, fmt.Sprintf("parameter %s: %q is not a number", name, value))
				continue
			}
			v = n
		}
		problems = append(problems, d.validate(p["schema"], v, "parameter "+name)...)
	}

	rb := d.resolve(op["requestBody"])
	if rb == nil {
		return problems
	}
	content, _ := rb["content"].(map[string]any)
	if ct := header(e, "Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || content[mt] == nil {
			problems = append(problems, fmt.Sprintf("Content-Type %q is not documented", ct))
		}
	}
	b := []byte(e.Body)
	if e.IsBase64Encoded {
		decoded, err := base64.StdEncoding.DecodeString(e.Body)
		if err != nil {
			return append(problems, "body: not base64")
		}
		b = decoded
	}
	var body any
	if err := json.Unmarshal(b, &body); err != nil {
		return append(problems, fmt.Sprintf("body: not JSON: %v", err))
	}
	media := d.resolve(content["application/json"])
	return append(problems, d.validate(media["schema"], body, "body")...)
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
		{"party status", change(func(c map[string]any) {
			c["parties"] = []any{map[string]any{"nic": adminNIC, "status": "maybe", "bounced": false}}
		}), 1},
		{"party bounce not a boolean", change(func(c map[string]any) {
			c["parties"] = []any{map[string]any{"nic": adminNIC, "status": "waiting", "bounced": "no"}}
		}), 1},
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

// The keywords the operator's schemas use must be enforced by the validator too.
func TestOpenAPIValidatorCatchesInputMismatches(t *testing.T) {
	doc := mustOpenAPI(t)
	ref := func(name string) any { return map[string]any{"$ref": "#/components/schemas/" + name} }
	tests := []struct {
		name   string
		schema any
		v      any
		want   int
	}{
		{"an account", ref("AccountInput"), map[string]any{"email": "a@example.com", "language": "fr", "goodStanding": true}, 0},
		{"pattern", ref("AccountInput"), map[string]any{"email": "a b@example.com", "language": "fr", "goodStanding": true}, 1},
		{"boolean", ref("AccountInput"), map[string]any{"email": "a@example.com", "language": "fr", "goodStanding": "yes"}, 1},
		{"maxLength", ref("Email"), strings.Repeat("a", 250) + "@b.eu", 1},
		{"minProperties", ref("AccountPatch"), map[string]any{}, 1},
		{"null field", ref("AccountPatch"), map[string]any{"email": nil}, 1},
		{"minLength", ref("CancelReason"), map[string]any{"reason": ""}, 2}, // too short, and no non-space
		{"maxLength counts characters", ref("CancelReason"), map[string]any{"reason": strings.Repeat("é", 500)}, 0},
		{"one of: the handlers' error", ref("ErrorOrGatewayForbidden"), errorJSON("forbidden", "no"), 0},
		{"one of: API Gateway's message", ref("ErrorOrGatewayForbidden"), map[string]any{"message": "Forbidden"}, 0},
		{"one of: another message of API Gateway's", ref("ErrorOrGatewayForbidden"), map[string]any{"message": "Unauthorized"}, 1},
		{"one of: neither", ref("ErrorOrGatewayForbidden"), map[string]any{"msg": "Forbidden"}, 1},
		{"one of: both", ref("ErrorOrGatewayForbidden"), map[string]any{"message": "Forbidden", "error": errorJSON("x", "y")["error"]}, 1},
		{"maximum", map[string]any{"type": "integer", "maximum": 100}, 101.0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if problems := doc.validate(tt.schema, tt.v, "v"); len(problems) != tt.want {
				t.Errorf("got %d problems %q, want %d", len(problems), problems, tt.want)
			}
		})
	}
}

// The bounds the document publishes are those the handlers enforce.
func TestOpenAPIBoundsAreTheHandlers(t *testing.T) {
	doc := mustOpenAPI(t)
	at := func(path string) any {
		var cur any = map[string]any(doc)
		for _, part := range strings.Split(path, "/") {
			m, _ := cur.(map[string]any)
			cur = m[part]
		}
		return cur
	}
	var langs []any
	for _, l := range contact.Languages {
		langs = append(langs, string(l))
	}
	tests := []struct {
		path string
		want any
	}{
		{"components/schemas/NICInput/pattern", nicInput},
		{"components/schemas/NICInput/maxLength", maxNICLength},
		{"components/schemas/Email/pattern", emailInput},
		{"components/schemas/Email/maxLength", maxEmailLength},
		{"components/schemas/ServiceId/pattern", serviceIDInput},
		{"components/schemas/ServiceId/maxLength", maxServiceIDLength},
		{"components/schemas/ServiceType/pattern", serviceTypeInput},
		{"components/schemas/ServiceType/maxLength", maxServiceTypeLength},
		{"components/schemas/CancelReason/properties/reason/maxLength", maxReasonLength},
		{"components/schemas/Language/enum", langs},
		{"components/parameters/Limit/schema/maximum", maxLimit},
		{"components/parameters/Limit/schema/minimum", minLimit},
		{"components/schemas/ChangeId/pattern", changeIDInput},
		{"components/schemas/Token/pattern", tokenInput},
		{"components/schemas/Token/maxLength", maxTokenLength},
		{"components/schemas/CursorInput/pattern", cursorInput},
		{"components/schemas/CursorInput/maxLength", maxCursorLength},
		// The store decodes no longer cursor than the handlers let through.
		{"components/schemas/CursorInput/maxLength", store.MaxCursorLength},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			if got := at(tt.path); !cmp.Equal(got, tt.want) {
				t.Errorf("%s = %#v, want %#v", tt.path, got, tt.want)
			}
		})
	}
	// Every account the domain takes must be an account the NIC pattern admits, and back.
	for _, nic := range []string{"xx11111-ovh", "XX11111-OVH", "x11111-ovh", "xx-ovh", "xx11111-ovh ", "\u212aa11111-ovh"} {
		_, domainErr := contact.NormalizeNIC(nic)
		_, apiErr := nicOf("nic", nic)
		if apiErr == nil && domainErr != nil {
			t.Errorf("%q passes the API's check but not the domain's", nic)
		}
	}
}
