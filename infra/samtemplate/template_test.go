package samtemplate_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/servicecontacts/servicecontacts/infra/samtemplate"
	"github.com/servicecontacts/servicecontacts/shared/config"
	"github.com/servicecontacts/servicecontacts/shared/store"
)

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, path))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func parse(t *testing.T, text string) *samtemplate.Template {
	t.Helper()
	tpl, err := samtemplate.Parse([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	return tpl
}

func openAPI(t *testing.T, text string) []route {
	t.Helper()
	v, err := samtemplate.Decode([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	doc, _ := v.(map[string]any)
	rs, err := openAPIRoutes(doc)
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

func tplRoutes(t *testing.T, tpl *samtemplate.Template) []route {
	t.Helper()
	rs, err := templateRoutes(tpl, makefileTargets(read(t, "Makefile")))
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

// The template's routes, with their functions and authorizers, are api.Routes.
func TestTemplateRoutesAreTheCodesRoutes(t *testing.T) {
	got := tplRoutes(t, parse(t, read(t, "template.yaml")))
	if d := routeDiff(codeRoutes(), got); d != "" {
		t.Errorf("template.yaml routes (+) differ from api.Routes (-):\n%s", d)
	}
}

// The OpenAPI document's operations, and which need no JWT, are api.Routes.
func TestOpenAPIRoutesAreTheCodesRoutes(t *testing.T) {
	got := openAPI(t, read(t, "api/openapi.yaml"))
	if d := routeDiff(withoutFunction(codeRoutes()), got); d != "" {
		t.Errorf("api/openapi.yaml operations (+) differ from api.Routes (-):\n%s", d)
	}
}

// Every route but the emailed link's goes through the JWT authorizer, whose issuer and
// audience are parameters and which reads the Authorization header.
func TestJWTAuthorizerIsTheDefault(t *testing.T) {
	tpl := parse(t, read(t, "template.yaml"))
	if ids := tpl.OfType("AWS::Serverless::HttpApi"); !cmp.Equal(ids, []string{"Api"}) {
		t.Fatalf("HttpApi resources %v, want [Api]", ids)
	}
	auth, _ := tpl.Resources["Api"].Properties["Auth"].(map[string]any)
	name, _ := auth["DefaultAuthorizer"].(string)
	authorizers, _ := auth["Authorizers"].(map[string]any)
	want := map[string]any{
		"IdentitySource": "$request.header.Authorization",
		"JwtConfiguration": map[string]any{
			"issuer":   map[string]any{"Ref": "JwtIssuer"},
			"audience": []any{map[string]any{"Ref": "JwtAudience"}},
		},
	}
	if d := cmp.Diff(want, authorizers[name]); name == "" || d != "" {
		t.Errorf("default authorizer %q (-want +got):\n%s", name, d)
	}
	for _, p := range []string{"JwtIssuer", "JwtAudience", "PublicBaseUrl"} {
		if _, ok := tpl.Doc["Parameters"].(map[string]any)[p]; !ok {
			t.Errorf("parameter %s missing", p)
		}
	}
}

// Every functions/ folder is a function of the template, built by the Makefile for
// provided.al2023 on arm64, and nothing else is.
func TestTemplateFunctionsAreTheFunctionsFolders(t *testing.T) {
	folders, err := functionFolders()
	if err != nil {
		t.Fatal(err)
	}
	if len(folders) == 0 {
		t.Fatal("no folder under functions/")
	}
	problems := functionProblems(parse(t, read(t, "template.yaml")), folders, makefileTargets(read(t, "Makefile")))
	for _, p := range problems {
		t.Error(p)
	}
}

// Each function gets the variables its main requires, the table variables name the template's
// tables, and no function references the state machine (which references them).
func TestFunctionEnvironments(t *testing.T) {
	tpl := parse(t, read(t, "template.yaml"))
	targets := makefileTargets(read(t, "Makefile"))
	machineArn := map[string]any{"Fn::Sub": "arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:stateMachine:" + stateMachineName(t, tpl)}
	for _, id := range tpl.OfType("AWS::Serverless::Function") {
		env, _ := tpl.FunctionProperty(id, "Environment").(map[string]any)
		vars, _ := env["Variables"].(map[string]any)
		required, err := requiredVariables(filepath.Join(root, "functions", targets[id], "main.go"))
		if err != nil {
			t.Error(err)
			continue
		}
		for _, v := range required {
			if _, ok := vars[v]; !ok {
				t.Errorf("%s: %s is required by functions/%s but not set", id, v, targets[id])
			}
		}
		for v := range vars {
			if !slices.Contains(knownVariables(), v) && !slices.Contains(localEndpoints, v) {
				t.Errorf("%s: %s is not a variable package config reads", id, v)
			}
		}
		if _, ok := vars[config.MailFrom]; ok {
			if _, ok := vars[config.MailConfigurationSet]; !ok {
				t.Errorf("%s: sends mail without %s (its SES permission names the configuration set)", id, config.MailConfigurationSet)
			}
		}
		for v, table := range map[string]string{config.ContactsTable: "ContactsTable", config.RequestsTable: "RequestsTable"} {
			if !cmp.Equal(vars[v], map[string]any{"Ref": table}) {
				t.Errorf("%s: %s is %v, want !Ref %s", id, v, vars[v], table)
			}
		}
		for _, v := range localEndpoints {
			if vars[v] != "" {
				t.Errorf("%s: %s is %v, want empty on AWS", id, v, vars[v])
			}
		}
		if v, ok := vars[config.StateMachineARN]; ok && !cmp.Equal(v, machineArn) {
			t.Errorf("%s: %s is %v, want %v", id, config.StateMachineARN, v, machineArn)
		}
		if refs := references(tpl.Resources[id].Properties, "ContactChangeStateMachine"); refs > 0 {
			t.Errorf("%s references the state machine resource (a circular dependency)", id)
		}
	}
}

// localEndpoints are declared empty so that `sam local` may point them at emulators.
var localEndpoints = []string{"AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_SESV2", "AWS_ENDPOINT_URL_SFN"}

func knownVariables() []string {
	var out []string
	for _, v := range configVariables {
		out = append(out, v)
	}
	return out
}

func stateMachineName(t *testing.T, tpl *samtemplate.Template) string {
	t.Helper()
	name, _ := tpl.Resources["ContactChangeStateMachine"].Properties["Name"].(map[string]any)
	s, _ := name["Fn::Sub"].(string)
	if s == "" {
		t.Fatalf("the state machine's Name is %v, want a !Sub string", name)
	}
	return s
}

// references counts the Refs and GetAtts of a resource in v.
func references(v any, id string) int {
	n := 0
	switch v := v.(type) {
	case map[string]any:
		if v["Ref"] == id {
			n++
		}
		if ga, ok := v["Fn::GetAtt"].([]any); ok && len(ga) > 0 && ga[0] == id {
			n++
		}
		if s, ok := v["Fn::Sub"].(string); ok && strings.Contains(s, "${"+id) {
			n++
		}
		for _, x := range v {
			n += references(x, id)
		}
	case []any:
		for _, x := range v {
			n += references(x, id)
		}
	}
	return n
}

// The tables are store.ContactsTable and store.RequestsTable; the requests expire on
// store.TTLAttribute; both are backed up and encrypted.
func TestTemplateTablesAreTheStoresTables(t *testing.T) {
	tpl := parse(t, read(t, "template.yaml"))
	for id, want := range map[string]map[string]any{
		"ContactsTable": storeTable(store.ContactsTable("x")),
		"RequestsTable": storeTable(store.RequestsTable("x")),
	} {
		if tpl.Resources[id].Type != "AWS::DynamoDB::Table" {
			t.Errorf("%s is %q, want an AWS::DynamoDB::Table", id, tpl.Resources[id].Type)
			continue
		}
		if d := cmp.Diff(want, templateTable(tpl, id)); d != "" {
			t.Errorf("%s differs from the store's definition (-store +template):\n%s", id, d)
		}
		p := tpl.Resources[id].Properties
		for prop, want := range map[string]any{
			"PointInTimeRecoverySpecification": map[string]any{"PointInTimeRecoveryEnabled": true},
			"SSESpecification":                 map[string]any{"SSEEnabled": true},
			"DeletionProtectionEnabled":        map[string]any{"Ref": "TableDeletionProtection"},
		} {
			if d := cmp.Diff(want, p[prop]); d != "" {
				t.Errorf("%s.%s (-want +got):\n%s", id, prop, d)
			}
		}
	}
	if d := ttlDiff(tpl); d != "" {
		t.Errorf("RequestsTable TTL (-want +got):\n%s", d)
	}
	if got := tpl.OfType("AWS::DynamoDB::Table"); len(got) != 2 {
		t.Errorf("tables %v, want ContactsTable and RequestsTable only", got)
	}
}

func ttlDiff(tpl *samtemplate.Template) string {
	want := map[string]any{"AttributeName": store.TTLAttribute, "Enabled": true}
	return cmp.Diff(want, tpl.Resources["RequestsTable"].Properties["TimeToLiveSpecification"])
}

// The state machine runs the repository's definition with the three step functions, logs no
// execution data (task tokens) and is traced.
func TestStateMachine(t *testing.T) {
	tpl := parse(t, read(t, "template.yaml"))
	p := tpl.Resources["ContactChangeStateMachine"].Properties
	checks := map[string]any{
		"DefinitionUri": "infra/statemachine/contact-change.asl.json",
		"DefinitionSubstitutions": map[string]any{
			"AwaitFunctionArn":  map[string]any{"Fn::GetAtt": []any{"AwaitFunction", "Arn"}},
			"ApplyFunctionArn":  map[string]any{"Fn::GetAtt": []any{"ApplyFunction", "Arn"}},
			"FinishFunctionArn": map[string]any{"Fn::GetAtt": []any{"FinishFunction", "Arn"}},
		},
		"Tracing": map[string]any{"Enabled": true},
	}
	for prop, want := range checks {
		if d := cmp.Diff(want, p[prop]); d != "" {
			t.Errorf("state machine %s (-want +got):\n%s", prop, d)
		}
	}
	logging, _ := p["Logging"].(map[string]any)
	if logging["IncludeExecutionData"] != false || (logging["Level"] != "ERROR" && logging["Level"] != "ALL") {
		t.Errorf("state machine logging %v: want level ERROR or ALL without execution data", logging)
	}
	if _, err := os.Stat(filepath.Join(root, "infra/statemachine/contact-change.asl.json")); err != nil {
		t.Error(err)
	}
}
