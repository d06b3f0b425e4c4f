package samtemplate_test

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/servicecontacts/servicecontacts/infra/samtemplate"
	"github.com/servicecontacts/servicecontacts/shared/store"
)

func TestDecodeShortForms(t *testing.T) {
	src := `
A: !Ref Param
B: !Sub arn:${AWS::Partition}:x:${Name}
C: !Sub ["${A}-${B}", {A: !Ref X, B: b}]
D: !GetAtt Fn.Arn
E: !GetAtt [Fn, Arn]
F: !If [HasTopic, [!Ref Topic], !Ref AWS::NoValue]
G: !Not [!Equals [!Ref Topic, ""]]
H: !Join [",", [a, !Select [0, !Split [",", !Ref L]]]]
I: !Ref "true"
J: [1, true, "2", null]
K: &anchor {x: 1}
M: *anchor
`
	got, err := samtemplate.Decode([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	ref := func(s string) map[string]any { return map[string]any{"Ref": s} }
	want := map[string]any{
		"A": ref("Param"),
		"B": map[string]any{"Fn::Sub": "arn:${AWS::Partition}:x:${Name}"},
		"C": map[string]any{"Fn::Sub": []any{"${A}-${B}", map[string]any{"A": ref("X"), "B": "b"}}},
		"D": map[string]any{"Fn::GetAtt": []any{"Fn", "Arn"}},
		"E": map[string]any{"Fn::GetAtt": []any{"Fn", "Arn"}},
		"F": map[string]any{"Fn::If": []any{"HasTopic", []any{ref("Topic")}, ref("AWS::NoValue")}},
		"G": map[string]any{"Fn::Not": []any{map[string]any{"Fn::Equals": []any{ref("Topic"), ""}}}},
		"H": map[string]any{"Fn::Join": []any{",", []any{"a", map[string]any{"Fn::Select": []any{0, map[string]any{"Fn::Split": []any{",", ref("L")}}}}}}},
		"I": ref("true"),
		"J": []any{1, true, "2", nil},
		"K": map[string]any{"x": 1},
		"M": map[string]any{"x": 1},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("decode (-want +got):\n%s", d)
	}
}

func TestDecodeRejects(t *testing.T) {
	for name, src := range map[string]string{
		"unknown tag":   "A: !Reff X\n",
		"bad GetAtt":    "A: !GetAtt NoDot\n",
		"duplicate key": "A: 1\nA: 2\n",
		"not yaml":      "A: [\n",
	} {
		if _, err := samtemplate.Decode([]byte(src)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := samtemplate.Parse([]byte("Resources:\n  X: {Properties: {}}\n")); err == nil {
		t.Error("a resource without Type: no error")
	}
}

func TestFunctionPropertyMergesGlobals(t *testing.T) {
	tpl := parse(t, `
Globals:
  Function:
    Runtime: provided.al2023
    Environment: {Variables: {A: a, B: b}}
Resources:
  F:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: go1.x
      Environment: {Variables: {B: own, C: c}}
`)
	if got := tpl.FunctionProperty("F", "Runtime"); got != "go1.x" {
		t.Errorf("Runtime %v, want the function's own", got)
	}
	want := map[string]any{"Variables": map[string]any{"A": "a", "B": "own", "C": "c"}}
	if d := cmp.Diff(want, tpl.FunctionProperty("F", "Environment")); d != "" {
		t.Errorf("Environment (-want +got):\n%s", d)
	}
}

// mutate replaces old by new in text once, failing when old is not there (the drift would
// then test nothing).
func mutate(t *testing.T, text, old, new string) string {
	t.Helper()
	if !strings.Contains(text, old) {
		t.Fatalf("%q is not in the text", old)
	}
	return strings.Replace(text, old, new, 1)
}

// Each comparison fails when the template, the OpenAPI document or the folders drift.
func TestComparisonsCatchDrift(t *testing.T) {
	template := read(t, "template.yaml")
	targets := makefileTargets(read(t, "Makefile"))

	routeDrifts := map[string][2]string{
		"public route behind the authorizer": {"            Auth:\n              Authorizer: NONE\n", ""},
		"operator route behind the JWT":      {"            Auth:\n              Authorizer: AWS_IAM\n", ""},
		"renamed path":                       {"Path: /me/contact-changes/{id}/resend", "Path: /me/contact-changes/{id}/resend-now"},
		"other method":                       {"Method: GET\n            Path: /me/services", "Method: POST\n            Path: /me/services"},
	}
	for name, d := range routeDrifts {
		t.Run("template/"+name, func(t *testing.T) {
			got := tplRoutes(t, parse(t, mutate(t, template, d[0], d[1])))
			if routeDiff(codeRoutes(), got) == "" {
				t.Error("routes compare equal after the drift")
			}
		})
	}

	t.Run("template/route on another function", func(t *testing.T) {
		moved := maps.Clone(targets)
		moved["ResendFunction"] = "confirm"
		got, err := templateRoutes(parse(t, template), moved)
		if err != nil {
			t.Fatal(err)
		}
		if routeDiff(codeRoutes(), got) == "" {
			t.Error("routes compare equal after the drift")
		}
	})

	openapi := read(t, "api/openapi.yaml")
	for name, d := range map[string][2]string{
		"public operation needs a JWT":   {"      security: []\n", ""},
		"operator operation takes a JWT": {"      security:\n        - sigv4: []\n", "      security:\n        - bearerAuth: []\n"},
		"renamed path":                   {"  /me/contact-changes/{id}/cancel:", "  /me/contact-changes/{id}/withdraw:"},
	} {
		t.Run("openapi/"+name, func(t *testing.T) {
			if routeDiff(withoutFunction(codeRoutes()), openAPI(t, mutate(t, openapi, d[0], d[1]))) == "" {
				t.Error("routes compare equal after the drift")
			}
		})
	}

	tableDrifts := map[string][3]string{
		"projection":      {"RequestsTable", "ProjectionType: INCLUDE", "ProjectionType: KEYS_ONLY"},
		"non-key":         {"RequestsTable", "              - requestId", "              - requestId\n              - state"},
		"attribute type":  {"ContactsTable", "AttributeName: holderKey\n          AttributeType: S", "AttributeName: holderKey\n          AttributeType: N"},
		"key order":       {"ContactsTable", "            - AttributeName: holder\n              KeyType: HASH\n            - AttributeName: holderKey\n              KeyType: RANGE", "            - AttributeName: holderKey\n              KeyType: RANGE\n            - AttributeName: holder\n              KeyType: HASH"},
		"index name":      {"ContactsTable", "IndexName: ByHolder", "IndexName: ByOwner"},
		"billing mode":    {"ContactsTable", "  ContactsTable:\n    Type: AWS::DynamoDB::Table\n    DeletionPolicy: Retain\n    UpdateReplacePolicy: Retain\n    Properties:\n      BillingMode: PAY_PER_REQUEST", "  ContactsTable:\n    Type: AWS::DynamoDB::Table\n    DeletionPolicy: Retain\n    UpdateReplacePolicy: Retain\n    Properties:\n      BillingMode: PROVISIONED"},
		"extra attribute": {"RequestsTable", "        - AttributeName: involvedKey\n          AttributeType: S", "        - AttributeName: involvedKey\n          AttributeType: S\n        - AttributeName: state\n          AttributeType: S"},
	}
	for name, d := range tableDrifts {
		t.Run("table/"+name, func(t *testing.T) {
			tpl := parse(t, mutate(t, template, d[1], d[2]))
			want := storeTable(store.ContactsTable("x"))
			if d[0] == "RequestsTable" {
				want = storeTable(store.RequestsTable("x"))
			}
			if cmp.Diff(want, templateTable(tpl, d[0])) == "" {
				t.Error("tables compare equal after the drift")
			}
		})
	}
	t.Run("table/ttl attribute", func(t *testing.T) {
		if ttlDiff(parse(t, mutate(t, template, "AttributeName: purgeAt", "AttributeName: expiresAt"))) == "" {
			t.Error("TTL compares equal after the drift")
		}
	})

	folders, err := functionFolders()
	if err != nil {
		t.Fatal(err)
	}
	t.Run("functions/extra folder", func(t *testing.T) {
		if len(functionProblems(parse(t, template), append(slices.Clone(folders), "notify"), targets)) == 0 {
			t.Error("no problem with a folder the template lacks")
		}
	})
	t.Run("functions/missing folder", func(t *testing.T) {
		if len(functionProblems(parse(t, template), folders[1:], targets)) == 0 {
			t.Error("no problem with a function whose folder is gone")
		}
	})
	t.Run("functions/amd64", func(t *testing.T) {
		tpl := parse(t, mutate(t, template, "Architectures: [arm64]", "Architectures: [x86_64]"))
		if len(functionProblems(tpl, folders, targets)) == 0 {
			t.Error("no problem with x86_64 functions")
		}
	})
	t.Run("functions/no makefile target", func(t *testing.T) {
		tpl := parse(t, mutate(t, template, "  ListFunction:\n", "  ListingFunction:\n"))
		if len(functionProblems(tpl, folders, targets)) == 0 {
			t.Error("no problem with a function the Makefile does not build")
		}
	})

	// Each deployment rule fails on a template that breaks it.
	deployDrifts := map[string]struct {
		old, new string
		check    func(*samtemplate.Template) []string
	}{
		"env/variable missing": {"          IDENTITY_CLAIM: !Ref IdentityClaim\n      Policies:", "      Policies:",
			func(t *samtemplate.Template) []string { return environmentProblems(t, targets) }},
		"env/variable extra": {"        LogGroup: !Ref ListFunctionLogGroup\n      Environment:\n        Variables:\n", "        LogGroup: !Ref ListFunctionLogGroup\n      Environment:\n        Variables:\n          MAIL_FROM: !Ref MailFrom\n",
			func(t *samtemplate.Template) []string { return environmentProblems(t, targets) }},
		"env/wrong value": {"EVENT_BUS_NAME: !Ref EventBus", "EVENT_BUS_NAME: servicecontacts",
			func(t *samtemplate.Template) []string { return environmentProblems(t, targets) }},
		"env/step references the state machine": {"    Properties:\n      Description: Applies a change", "    Properties:\n      Tags: {machine: !Ref ContactChangeStateMachine}\n      Description: Applies a change",
			func(t *samtemplate.Template) []string { return environmentProblems(t, targets) }},
		"iam/scan": {"                - dynamodb:GetItem\n", "                - dynamodb:GetItem\n                - dynamodb:Scan\n",
			func(t *samtemplate.Template) []string { return scanProblems(t, targets) }},
		"iam/crud policy template": {"      Policies:\n        - Statement:\n", "      Policies:\n        - DynamoDBCrudPolicy:\n            TableName: !Ref ContactsTable\n        - Statement:\n",
			func(t *samtemplate.Template) []string { return scanProblems(t, targets) }},
		"iam/delete outside the operator": {"                - dynamodb:UpdateItem\n", "                - dynamodb:UpdateItem\n                - dynamodb:DeleteItem\n",
			func(t *samtemplate.Template) []string { return scanProblems(t, targets) }},
		"iam/unused action": {"                - dynamodb:GetItem\n", "                - dynamodb:GetItem\n                - dynamodb:BatchWriteItem\n",
			func(t *samtemplate.Template) []string { return permissionProblems(t, targets) }},
		"iam/missing action": {"                - dynamodb:ConditionCheckItem\n", "",
			func(t *samtemplate.Template) []string { return permissionProblems(t, targets) }},
		"iam/send from any address": {"              Condition:\n                StringEquals:\n                  ses:FromAddress: !Ref MailFrom\n", "",
			func(t *samtemplate.Template) []string { return permissionProblems(t, targets) }},
		"iam/publish on any bus": {"Resource: !GetAtt EventBus.Arn", "Resource: \"*\"",
			func(t *samtemplate.Template) []string { return permissionProblems(t, targets) }},
		"iam/callback role missing": {"        - !Ref AwaitFunctionRole\n", "",
			func(t *samtemplate.Template) []string { return callbackProblems(t, targets) }},
		"arn/fixed partition": {"arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:execution:", "arn:aws:states:${AWS::Region}:${AWS::AccountId}:execution:",
			partitionProblems},
		"arn/no partition substitution":   {"        Partition: !Ref AWS::Partition\n", "", partitionProblems},
		"alarms/throttles missing":        {"      MetricName: Throttles\n", "      MetricName: Invocations\n", alarmProblems},
		"alarms/aborted missing":          {"      MetricName: ExecutionsAborted\n", "      MetricName: ExecutionsSucceeded\n", alarmProblems},
		"alarms/5xx missing":              {"      MetricName: 5xx\n", "      MetricName: 4xx\n", alarmProblems},
		"api/no IAM authorizer":           {"        EnableIamAuthorizer: true\n", "", apiProblems},
		"api/cors always on":              {"      CorsConfiguration: !If\n        - HasCorsOrigins\n", "      CorsConfiguration: !If\n        - HasAlarmTopic\n", apiProblems},
		"api/no scope condition":          {"              - !If [HasJwtScope, !Ref JwtScope, !Ref AWS::NoValue]\n", "              - !Ref JwtScope\n", apiProblems},
		"api/log group name":              {"/aws/vendedlogs/apigateway/", "/aws/apigateway/", apiProblems},
		"params/fixed state machine name": {"      Type: STANDARD\n", "      Type: STANDARD\n      Name: !Sub ${AWS::StackName}-contact-change\n", parameterProblems},
		"params/identity claim default":   {"    Default: sub\n", "    Default: nic\n", parameterProblems},
		"expiry/admits a year and a day":  {"|8760)h$", "|8760|8784)h$", expiryProblems},
		"expiry/refuses a year":           {"|87[0-5][0-9]|8760)h$", "|87[0-5][0-9])h$", expiryProblems},
		"expiry/admits minutes":           {"|8760)h$", "|8760)h$|^30m$", expiryProblems},
		"events/no bounce rule": {"              detail-type: [Email Bounced, Email Complaint Received]\n", "              detail-type: [Email Delivered]\n",
			func(t *samtemplate.Template) []string { return eventProblems(t, targets) }},
		"events/destination types": {"MatchingEventTypes: [bounce, complaint]", "MatchingEventTypes: [bounce]",
			func(t *samtemplate.Template) []string { return eventProblems(t, targets) }},
	}
	samconfig := read(t, "samconfig.toml")
	for name, d := range map[string][2]string{
		"unknown parameter":   {`  "IdentityClaim=sub",`, `  "IdentityClaims=sub",`},
		"value off pattern":   {`  "RequestExpiry=336h",`, `  "RequestExpiry=14d",`},
		"required parameter":  {`  "MailFrom=no-reply@example.com",`, ``},
		"origin with a space": {`  "CorsOrigins=https://console.example.com",`, `  "CorsOrigins=https://console.example.com, https://x.example.com",`},
	} {
		t.Run("samconfig/"+name, func(t *testing.T) {
			if len(samconfigProblems(parse(t, template), mutate(t, samconfig, d[0], d[1]))) == 0 {
				t.Error("no problem after the drift")
			}
		})
	}

	for name, d := range deployDrifts {
		t.Run(name, func(t *testing.T) {
			if problems := d.check(parse(t, template)); len(problems) > 0 {
				t.Fatalf("problems before the drift: %v", problems)
			}
			if len(d.check(parse(t, mutate(t, template, d.old, d.new)))) == 0 {
				t.Error("no problem after the drift")
			}
		})
	}
}
