package samtemplate_test

// The deployment's rules beyond the code's shape: variables, alarms, the API's settings,
// mail and events, as comparisons of a parsed template (the drift tests feed them altered
// ones).

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/google/go-cmp/cmp"

	"github.com/servicecontacts/servicecontacts/infra/local/gateway"
	"github.com/servicecontacts/servicecontacts/infra/samtemplate"
	"github.com/servicecontacts/servicecontacts/shared/config"
)

// localEndpoints are declared empty so that `sam local` may point them at emulators.
var localEndpoints = []string{"AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_SESV2", "AWS_ENDPOINT_URL_SFN", "AWS_ENDPOINT_URL_EVENTBRIDGE"}

// variableValues is what each variable is set to on AWS.
var variableValues = map[string]any{
	config.ContactsTable:        map[string]any{"Ref": "ContactsTable"},
	config.RequestsTable:        map[string]any{"Ref": "RequestsTable"},
	config.StateMachineARN:      map[string]any{"Ref": "ContactChangeStateMachine"},
	config.MailFrom:             map[string]any{"Ref": "MailFrom"},
	config.MailConfigurationSet: map[string]any{"Ref": "MailConfigurationSet"},
	config.PublicBaseURL:        map[string]any{"Ref": "PublicBaseUrl"},
	config.RequestExpiry:        map[string]any{"Ref": "RequestExpiry"},
	config.EventBusName:         map[string]any{"Ref": "EventBus"},
	config.IdentityClaim:        map[string]any{"Ref": "IdentityClaim"},
	config.LimitRequests:        map[string]any{"Ref": "LimitRequests"},
	config.LimitEmails:          map[string]any{"Ref": "LimitEmails"},
	config.LimitWrongTokens:     map[string]any{"Ref": "LimitWrongTokens"},
}

// stateMachineSteps are the functions the state machine invokes: they must not reference it.
var stateMachineSteps = []string{"AwaitFunction", "ApplyFunction", "FinishFunction"}

// environmentProblems compares each function's variables (Globals merged) with
// config.Required and config.Optional for its folder: exactly those, with their values, plus
// the local endpoints declared empty.
func environmentProblems(t *samtemplate.Template, folders map[string]string) []string {
	var problems []string
	for _, id := range t.OfType("AWS::Serverless::Function") {
		env, _ := t.FunctionProperty(id, "Environment").(map[string]any)
		vars, _ := env["Variables"].(map[string]any)
		required, ok := config.Required[folders[id]]
		if !ok {
			problems = append(problems, fmt.Sprintf("%s: config.Required has no function %q", id, folders[id]))
			continue
		}
		var got []string
		for v, val := range vars {
			if slices.Contains(localEndpoints, v) {
				if val != "" {
					problems = append(problems, fmt.Sprintf("%s: %s is %v, want empty on AWS", id, v, val))
				}
				continue
			}
			got = append(got, v)
			if want, ok := variableValues[v]; !ok {
				problems = append(problems, fmt.Sprintf("%s: %s is not a variable package config reads", id, v))
			} else if !cmp.Equal(val, want) {
				problems = append(problems, fmt.Sprintf("%s: %s is %v, want %v", id, v, val, want))
			}
		}
		want := slices.Concat(required, config.Optional[folders[id]])
		sort.Strings(want)
		sort.Strings(got)
		if d := cmp.Diff(want, got); d != "" {
			problems = append(problems, fmt.Sprintf("%s: variables (-config.Required[%q] and Optional +template):\n%s", id, folders[id], d))
		}
		for _, v := range localEndpoints {
			if _, ok := vars[v]; !ok {
				problems = append(problems, fmt.Sprintf("%s: %s is not declared", id, v))
			}
		}
	}
	for _, id := range stateMachineSteps {
		if n := references(t.Resources[id].Properties, "ContactChangeStateMachine"); n > 0 {
			problems = append(problems, fmt.Sprintf("%s references the state machine, which references it (a circular dependency)", id))
		}
	}
	sort.Strings(problems)
	return problems
}

// references counts the Refs, GetAtts and Subs of a resource in v.
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

// alarm is what an alarm watches.
type alarm struct {
	Namespace, Metric, Dimension string
	Value                        any
}

func (a alarm) String() string {
	return fmt.Sprintf("%s %s %s=%v", a.Namespace, a.Metric, a.Dimension, a.Value)
}

// wantAlarms: each function's errors and throttles, the API's 5xx, and the executions that
// failed, timed out or were aborted.
func wantAlarms(t *samtemplate.Template) []string {
	var out []string
	for _, id := range t.OfType("AWS::Serverless::Function") {
		for _, m := range []string{"Errors", "Throttles"} {
			out = append(out, alarm{"AWS/Lambda", m, "FunctionName", map[string]any{"Ref": id}}.String())
		}
	}
	out = append(out, alarm{"AWS/ApiGateway", "5xx", "ApiId", map[string]any{"Ref": "Api"}}.String())
	for _, m := range []string{"ExecutionsFailed", "ExecutionsTimedOut", "ExecutionsAborted"} {
		out = append(out, alarm{"AWS/States", m, "StateMachineArn", stateMachineRef}.String())
	}
	sort.Strings(out)
	return out
}

// alarmProblems compares the template's alarms with wantAlarms; each fires on one event in
// five minutes and notifies AlarmTopicArn when there is one.
func alarmProblems(t *samtemplate.Template) []string {
	var problems, got []string
	actions := map[string]any{"Fn::If": []any{"HasAlarmTopic", []any{map[string]any{"Ref": "AlarmTopicArn"}}, map[string]any{"Ref": "AWS::NoValue"}}}
	for _, id := range t.OfType("AWS::CloudWatch::Alarm") {
		p := t.Resources[id].Properties
		dims := asList(p["Dimensions"])
		if len(dims) != 1 {
			problems = append(problems, fmt.Sprintf("%s: dimensions %v, want one", id, dims))
			continue
		}
		d, _ := dims[0].(map[string]any)
		got = append(got, alarm{fmt.Sprint(p["Namespace"]), fmt.Sprint(p["MetricName"]), fmt.Sprint(d["Name"]), d["Value"]}.String())
		for k, want := range map[string]any{
			"Statistic": "Sum", "Threshold": 1, "EvaluationPeriods": 1, "Period": 300,
			"ComparisonOperator": "GreaterThanOrEqualToThreshold", "TreatMissingData": "notBreaching",
			"AlarmActions": actions,
		} {
			if !cmp.Equal(p[k], want) {
				problems = append(problems, fmt.Sprintf("%s: %s is %v, want %v", id, k, p[k], want))
			}
		}
	}
	sort.Strings(got)
	if d := cmp.Diff(wantAlarms(t), got); d != "" {
		problems = append(problems, fmt.Sprintf("alarms (-want +got):\n%s", d))
	}
	return problems
}

// apiProblems checks the HTTP API's settings: the JWT authorizer (issuer, audience and the
// optional scope from parameters), IAM for the operator routes, CORS from CorsOrigins (none
// when empty), the access log under /aws/vendedlogs/.
func apiProblems(t *samtemplate.Template) []string {
	var problems []string
	if ids := t.OfType("AWS::Serverless::HttpApi"); !cmp.Equal(ids, []string{"Api"}) {
		return []string{fmt.Sprintf("HttpApi resources %v, want [Api]", ids)}
	}
	p := t.Resources["Api"].Properties
	auth, _ := p["Auth"].(map[string]any)
	authorizers, _ := auth["Authorizers"].(map[string]any)
	wantJwt := map[string]any{
		"IdentitySource": "$request.header.Authorization",
		"JwtConfiguration": map[string]any{
			"issuer":   map[string]any{"Ref": "JwtIssuer"},
			"audience": []any{map[string]any{"Ref": "JwtAudience"}},
		},
		"AuthorizationScopes": []any{map[string]any{"Fn::If": []any{"HasJwtScope", map[string]any{"Ref": "JwtScope"}, map[string]any{"Ref": "AWS::NoValue"}}}},
	}
	name, _ := auth["DefaultAuthorizer"].(string)
	if d := cmp.Diff(wantJwt, authorizers[name]); name != "Jwt" || d != "" {
		problems = append(problems, fmt.Sprintf("default authorizer %q (-want +got):\n%s", name, d))
	}
	if auth["EnableIamAuthorizer"] != true {
		problems = append(problems, "Auth.EnableIamAuthorizer is not true: the operator routes need AWS_IAM")
	}
	wantCors := map[string]any{"Fn::If": []any{
		"HasCorsOrigins",
		map[string]any{
			"AllowOrigins":  map[string]any{"Ref": "CorsOrigins"},
			"AllowHeaders":  anys(gateway.CORS.AllowHeaders),
			"AllowMethods":  anys(gateway.CORS.AllowMethods),
			"ExposeHeaders": anys(gateway.CORS.ExposeHeaders),
			"MaxAge":        gateway.CORS.MaxAge,
		},
		map[string]any{"Ref": "AWS::NoValue"},
	}}
	if d := cmp.Diff(wantCors, p["CorsConfiguration"]); d != "" {
		problems = append(problems, fmt.Sprintf("CorsConfiguration (-want +got):\n%s", d))
	}
	conditions, _ := t.Doc["Conditions"].(map[string]any)
	for cond, want := range map[string]any{
		"HasCorsOrigins": map[string]any{"Fn::Not": []any{map[string]any{"Fn::Equals": []any{map[string]any{"Fn::Join": []any{",", map[string]any{"Ref": "CorsOrigins"}}}, ""}}}},
		"HasJwtScope":    map[string]any{"Fn::Not": []any{map[string]any{"Fn::Equals": []any{map[string]any{"Ref": "JwtScope"}, ""}}}},
	} {
		if d := cmp.Diff(want, conditions[cond]); d != "" {
			problems = append(problems, fmt.Sprintf("condition %s (-want +got):\n%s", cond, d))
		}
	}
	logs, _ := p["AccessLogSettings"].(map[string]any)
	if !cmp.Equal(logs["DestinationArn"], map[string]any{"Fn::GetAtt": []any{"ApiLogGroup", "Arn"}}) {
		problems = append(problems, fmt.Sprintf("access log destination %v, want ApiLogGroup", logs["DestinationArn"]))
	}
	if f, _ := logs["Format"].(string); strings.Contains(f, "querystring") || strings.Contains(f, "$context.path") {
		problems = append(problems, "the access log format may log the emailed token (query string)")
	}
	group, _ := t.Resources["ApiLogGroup"].Properties["LogGroupName"].(map[string]any)
	if s, _ := group["Fn::Sub"].(string); !strings.HasPrefix(s, "/aws/vendedlogs/") {
		problems = append(problems, fmt.Sprintf("ApiLogGroup is named %v, want a name under /aws/vendedlogs/", group))
	}
	return problems
}

// anys is list as the YAML decoder gives it.
func anys(list []string) []any {
	out := make([]any, len(list))
	for i, s := range list {
		out[i] = s
	}
	return out
}

// parameter returns a template parameter's definition.
func parameter(t *samtemplate.Template, name string) map[string]any {
	params, _ := t.Doc["Parameters"].(map[string]any)
	p, _ := params[name].(map[string]any)
	return p
}

// parameterProblems checks the parameters the functions and the API read.
func parameterProblems(t *samtemplate.Template) []string {
	var problems []string
	for name, want := range map[string]map[string]any{
		"IdentityClaim": {"Type": "String", "Default": "sub"},
		"CorsOrigins":   {"Type": "CommaDelimitedList", "Default": ""},
		"JwtScope":      {"Type": "String", "Default": ""},
		"RequestExpiry": {"Type": "String", "Default": "336h"},
	} {
		p := parameter(t, name)
		for k, v := range want {
			if !cmp.Equal(p[k], v) {
				problems = append(problems, fmt.Sprintf("parameter %s: %s is %v, want %v", name, k, p[k], v))
			}
		}
	}
	for _, name := range []string{"JwtIssuer", "JwtAudience", "PublicBaseUrl", "MailFrom", "TableDeletionProtection", "LogRetentionDays", "AlarmTopicArn"} {
		if parameter(t, name) == nil {
			problems = append(problems, fmt.Sprintf("parameter %s missing", name))
		}
	}
	if _, named := t.Resources["ContactChangeStateMachine"].Properties["Name"]; named {
		problems = append(problems, "the state machine has a fixed name: CloudFormation could not replace it")
	}
	return problems
}

// expiryPattern is the RequestExpiry parameter's AllowedPattern.
func expiryPattern(t *samtemplate.Template) (*regexp.Regexp, error) {
	s, _ := parameter(t, "RequestExpiry")["AllowedPattern"].(string)
	if s == "" {
		return nil, fmt.Errorf("RequestExpiry has no AllowedPattern")
	}
	return regexp.Compile(s)
}

// expiryProblems compares the RequestExpiry parameter's pattern with config's reading of
// REQUEST_EXPIRY: every value the pattern admits the request function accepts, and every
// whole number of hours config accepts the pattern admits.
func expiryProblems(t *samtemplate.Template) []string {
	re, err := expiryPattern(t)
	if err != nil {
		return []string{err.Error()}
	}
	accepts := func(v string) bool {
		env := map[string]string{config.RequestExpiry: v}
		for _, name := range config.Required["request"] {
			if env[name] == "" {
				env[name] = "https://contacts.example.com" // any valid value
			}
		}
		_, err := config.Read("request", func(k string) string { return env[k] })
		return err == nil
	}
	var problems []string
	var samples []string
	for h := 0; h <= int(config.MaxExpiry/config.MinExpiry)+10; h++ {
		samples = append(samples, fmt.Sprintf("%dh", h))
	}
	samples = append(samples, "8784h", "9999h", "87600h", "01h", "1h0m", "30m", "90m", "30s", "336h0m0s", "8760h1s", "-1h", "1.5h", "h", "", "336", "336H", "336h ")
	for _, v := range samples {
		admitted, accepted := re.MatchString(v), accepts(v)
		if admitted && !accepted {
			problems = append(problems, fmt.Sprintf("RequestExpiry admits %q, which the request function refuses", v))
		}
		if whole := regexp.MustCompile(`^[1-9][0-9]*h$`).MatchString(v); whole && accepted && !admitted {
			problems = append(problems, fmt.Sprintf("RequestExpiry refuses %q, which the request function accepts", v))
		}
	}
	if len(problems) > 5 {
		problems = append(problems[:5], fmt.Sprintf("and %d more", len(problems)-5))
	}
	return problems
}

// eventProblems checks the stack's bus and SES's path to the bounce function: a configuration
// set publishing bounces and complaints to the default bus, and a rule there for them.
func eventProblems(t *samtemplate.Template, folders map[string]string) []string {
	var problems []string
	if r := t.Resources["EventBus"]; r.Type != "AWS::Events::EventBus" || r.Properties["Name"] == nil {
		problems = append(problems, "no AWS::Events::EventBus EventBus with a name")
	}
	if r := t.Resources["MailConfigurationSet"]; r.Type != "AWS::SES::ConfigurationSet" {
		problems = append(problems, "no AWS::SES::ConfigurationSet MailConfigurationSet")
	}
	var destinations []any
	for _, id := range t.OfType("AWS::SES::ConfigurationSetEventDestination") {
		p := t.Resources[id].Properties
		if !cmp.Equal(p["ConfigurationSetName"], map[string]any{"Ref": "MailConfigurationSet"}) {
			continue
		}
		destinations = append(destinations, p["EventDestination"])
	}
	wantDestination := []any{map[string]any{
		"Name":               "bounces-and-complaints",
		"Enabled":            true,
		"MatchingEventTypes": []any{"bounce", "complaint"},
		"EventBridgeDestination": map[string]any{
			"EventBusArn": map[string]any{"Fn::Sub": "arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/default"},
		},
	}}
	if d := cmp.Diff(wantDestination, destinations); d != "" {
		problems = append(problems, fmt.Sprintf("MailConfigurationSet's event destinations (-want +got):\n%s", d))
	}
	var rules []any
	for _, id := range t.OfType("AWS::Serverless::Function") {
		events, _ := t.Resources[id].Properties["Events"].(map[string]any)
		for _, raw := range events {
			ev, _ := raw.(map[string]any)
			p, _ := ev["Properties"].(map[string]any)
			pattern, _ := p["Pattern"].(map[string]any)
			if ev["Type"] != "EventBridgeRule" || !cmp.Equal(pattern["source"], []any{"aws.ses"}) {
				continue
			}
			if folders[id] != "bounce" {
				problems = append(problems, fmt.Sprintf("%s takes SES's events; the bounce function does", id))
			}
			if p["EventBusName"] != nil {
				problems = append(problems, fmt.Sprintf("%s: the SES rule is on %v; SES publishes on the default bus", id, p["EventBusName"]))
			}
			rules = append(rules, pattern)
		}
	}
	wantRules := []any{map[string]any{
		"source":      []any{"aws.ses"},
		"detail-type": []any{"Email Bounced", "Email Complaint Received"},
		"resources":   []any{sendEmailResources[1]},
	}}
	if d := cmp.Diff(wantRules, rules); d != "" {
		problems = append(problems, fmt.Sprintf("rules for SES's events (-want +got):\n%s", d))
	}
	return problems
}

// overrides reads the parameter_overrides of each environment of samconfig.toml: lists of
// "Name=value" strings, one a line, under [<env>.deploy.parameters].
func overrides(samconfig string) map[string]map[string]string {
	out := map[string]map[string]string{}
	section := regexp.MustCompile(`^\[(\w+)\.deploy\.parameters\]$`)
	item := regexp.MustCompile(`^\s*"(\w+)=(.*)",?$`)
	env, inList := "", false
	for _, line := range strings.Split(samconfig, "\n") {
		switch m := section.FindStringSubmatch(line); {
		case m != nil:
			env, inList = m[1], false
		case strings.HasPrefix(line, "["):
			env, inList = "", false
		case env != "" && strings.HasPrefix(line, "parameter_overrides = ["):
			inList = true
			out[env] = map[string]string{}
		case inList && strings.HasPrefix(line, "]"):
			inList = false
		case inList:
			if m := item.FindStringSubmatch(line); m != nil {
				out[env][m[1]] = m[2]
			}
		}
	}
	return out
}

// samconfigProblems: each environment sets template parameters only, every one without a
// default, each to a value its AllowedPattern and AllowedValues admit.
func samconfigProblems(t *samtemplate.Template, samconfig string) []string {
	var problems []string
	envs := overrides(samconfig)
	for _, env := range []string{"default", "staging", "prod"} {
		if envs[env] == nil {
			problems = append(problems, fmt.Sprintf("%s: no parameter_overrides", env))
		}
	}
	params, _ := t.Doc["Parameters"].(map[string]any)
	for env, values := range envs {
		for name, value := range values {
			p, ok := params[name].(map[string]any)
			if !ok {
				problems = append(problems, fmt.Sprintf("%s: %s is no parameter of the template", env, name))
				continue
			}
			if pat, _ := p["AllowedPattern"].(string); pat != "" {
				for _, v := range parameterValues(p, value) {
					if !regexp.MustCompile(pat).MatchString(v) {
						problems = append(problems, fmt.Sprintf("%s: %s=%q does not match %s", env, name, v, pat))
					}
				}
			}
			if allowed := asList(p["AllowedValues"]); allowed != nil && !slices.ContainsFunc(allowed, func(a any) bool { return fmt.Sprint(a) == value }) {
				problems = append(problems, fmt.Sprintf("%s: %s=%q is not one of %v", env, name, value, allowed))
			}
		}
		for name, raw := range params {
			p, _ := raw.(map[string]any)
			if _, hasDefault := p["Default"]; !hasDefault && values[name] == "" {
				problems = append(problems, fmt.Sprintf("%s: %s has no default and is not set", env, name))
			}
		}
	}
	sort.Strings(problems)
	return problems
}

// parameterValues splits a CommaDelimitedList's value; CloudFormation checks each item.
func parameterValues(p map[string]any, value string) []string {
	if p["Type"] == "CommaDelimitedList" {
		return strings.Split(value, ",")
	}
	return []string{value}
}

// limitParameters are the template's parameters of the abuse limits, with the variable
// each sets and a function that reads it.
var limitParameters = []struct{ parameter, variable, function string }{
	{"LimitRequests", config.LimitRequests, "request"},
	{"LimitEmails", config.LimitEmails, "resend"},
	{"LimitWrongTokens", config.LimitWrongTokens, "confirm"},
}

// limitProblems compares the limit parameters' patterns with config's reading of the
// limits: every sample a pattern admits, its function accepts, the empty default included.
func limitProblems(t *samtemplate.Template) []string {
	samples := []string{
		"", "1/1s", "10/1m", "20/1h", "5/15m", "999999/744h", "999999/99999s", "1/9999m", "3/100h", "7/740h",
		"0/1m", "1000000/1h", "10/0s", "10/745h", "10/800h", "10/1d", "10", "/1m", "10/", "10/1m ", "10/1h30m", "-1/1m", "01/1m", "10/01m",
	}
	var problems []string
	for _, lp := range limitParameters {
		p := parameter(t, lp.parameter)
		s, _ := p["AllowedPattern"].(string)
		re, err := regexp.Compile(s)
		if s == "" || err != nil {
			problems = append(problems, fmt.Sprintf("%s has no usable AllowedPattern: %v", lp.parameter, err))
			continue
		}
		if def, _ := p["Default"].(string); def != "" {
			problems = append(problems, fmt.Sprintf("%s defaults to %q, want empty: the domain's default", lp.parameter, def))
		}
		for _, v := range samples {
			if !re.MatchString(v) {
				continue
			}
			env := map[string]string{}
			for _, name := range config.Required[lp.function] {
				env[name] = "https://contacts.example.com" // any valid value
			}
			env[config.RequestExpiry], env[lp.variable] = "336h", v
			if _, err := config.Read(lp.function, func(k string) string { return env[k] }); err != nil {
				problems = append(problems, fmt.Sprintf("%s admits %q, which the %s function refuses: %v", lp.parameter, v, lp.function, err))
			}
		}
	}
	return problems
}
