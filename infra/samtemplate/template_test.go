package samtemplate_test

import (
	"os"
	"path/filepath"
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

// The API's authorizers, CORS and access log are the deployment's parameters.
func TestAPI(t *testing.T) {
	for _, p := range apiProblems(parse(t, read(t, "template.yaml"))) {
		t.Error(p)
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

func folders(t *testing.T) map[string]string {
	t.Helper()
	return makefileTargets(read(t, "Makefile"))
}

// Each function gets exactly the variables config.Required names for it, set from the
// stack's parameters and resources; the steps of the state machine do not reference it.
func TestFunctionEnvironments(t *testing.T) {
	for _, p := range environmentProblems(parse(t, read(t, "template.yaml")), folders(t)) {
		t.Error(p)
	}
}

// Each function may do what its code does and nothing more.
func TestFunctionPermissions(t *testing.T) {
	tpl := parse(t, read(t, "template.yaml"))
	for _, p := range permissionProblems(tpl, folders(t)) {
		t.Error(p)
	}
	for _, p := range callbackProblems(tpl, folders(t)) {
		t.Error(p)
	}
	for _, p := range scanProblems(tpl, folders(t)) {
		t.Error(p)
	}
	for folder := range dynamoDBAccess {
		if _, ok := config.Required[folder]; !ok {
			t.Errorf("dynamoDBAccess names %q, which is no function of config.Required", folder)
		}
	}
}

// Every ARN is built with the stack's partition.
func TestARNsArePartitionAware(t *testing.T) {
	for _, p := range partitionProblems(parse(t, read(t, "template.yaml"))) {
		t.Error(p)
	}
}

// Each function's errors and throttles, the API's 5xx and the executions that fail, time out
// or are aborted raise an alarm.
func TestAlarms(t *testing.T) {
	for _, p := range alarmProblems(parse(t, read(t, "template.yaml"))) {
		t.Error(p)
	}
}

func TestParameters(t *testing.T) {
	for _, p := range parameterProblems(parse(t, read(t, "template.yaml"))) {
		t.Error(p)
	}
}

// The RequestExpiry parameter admits what config accepts on a deployed function: whole hours
// from config.MinExpiry to config.MaxExpiry.
func TestRequestExpiryBoundsAgreeWithConfig(t *testing.T) {
	tpl := parse(t, read(t, "template.yaml"))
	for _, p := range expiryProblems(tpl) {
		t.Error(p)
	}
	re, err := expiryPattern(tpl)
	if err != nil {
		t.Fatal(err)
	}
	if def, _ := parameter(tpl, "RequestExpiry")["Default"].(string); !re.MatchString(def) {
		t.Errorf("RequestExpiry's default %q is not admitted by its own pattern", def)
	}
}

// The limit parameters admit only what the functions accept, and default to the domain's
// defaults.
func TestLimitParameters(t *testing.T) {
	for _, p := range limitProblems(parse(t, read(t, "template.yaml"))) {
		t.Error(p)
	}
}

// samconfig.toml's environments set the template's parameters to values it admits.
func TestSamconfigParameters(t *testing.T) {
	for _, p := range samconfigProblems(parse(t, read(t, "template.yaml")), read(t, "samconfig.toml")) {
		t.Error(p)
	}
}

// The stack's bus, and SES's bounces and complaints reaching the bounce function.
func TestEvents(t *testing.T) {
	for _, p := range eventProblems(parse(t, read(t, "template.yaml")), folders(t)) {
		t.Error(p)
	}
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
			"Partition":         map[string]any{"Ref": "AWS::Partition"},
			"AwaitFunctionArn":  map[string]any{"Fn::GetAtt": []any{"AwaitFunction", "Arn"}},
			"ApplyFunctionArn":  map[string]any{"Fn::GetAtt": []any{"ApplyFunction", "Arn"}},
			"FinishFunctionArn": map[string]any{"Fn::GetAtt": []any{"FinishFunction", "Arn"}},
		},
		"Tracing": map[string]any{"Enabled": true},
	}
	// Every ARN of the definition takes the partition it is deployed in (aws-cn, aws-us-gov).
	if def := read(t, "infra/statemachine/contact-change.asl.json"); strings.Contains(def, "arn:aws:") {
		t.Error("the state machine definition names the aws partition; write arn:${Partition}:")
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
