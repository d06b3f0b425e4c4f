package samtemplate_test

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/servicecontacts/servicecontacts/infra/samtemplate"
	"github.com/servicecontacts/servicecontacts/web"
)

// The origins the deployed console calls besides its own: the API's and the issuer's.
const (
	apiOrigin    = "https://${Api}.execute-api.${AWS::Region}.${AWS::URLSuffix}"
	issuerOrigin = "https://${IssuerHost}${SignInOrigin}"
)

func ref(id string) map[string]any { return map[string]any{"Ref": id} }

func getAtt(id, attr string) map[string]any {
	return map[string]any{"Fn::GetAtt": []any{id, attr}}
}

func sub(s string) map[string]any { return map[string]any{"Fn::Sub": s} }

// dig follows keys (map keys, or list indexes as ints) into v; nil when one is missing.
func dig(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			l, _ := v.([]any)
			if k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

// expect records a problem when got is not want.
func expect(problems *[]string, what string, got, want any) {
	if !cmp.Equal(got, want) {
		*problems = append(*problems, fmt.Sprintf("%s is %v, want %v", what, got, want))
	}
}

// consoleStorageProblems: the console's bucket is private and encrypted, its objects its
// owner's, and it lets only the distribution read, through the origin access control.
func consoleStorageProblems(t *samtemplate.Template) []string {
	var problems []string
	bucket := t.Resources["ConsoleBucket"]
	expect(&problems, "ConsoleBucket's type", bucket.Type, "AWS::S3::Bucket")
	expect(&problems, "ConsoleBucket's public access block", bucket.Properties["PublicAccessBlockConfiguration"], map[string]any{
		"BlockPublicAcls": true, "BlockPublicPolicy": true, "IgnorePublicAcls": true, "RestrictPublicBuckets": true,
	})
	expect(&problems, "ConsoleBucket's ownership", dig(bucket.Properties, "OwnershipControls", "Rules"), []any{map[string]any{"ObjectOwnership": "BucketOwnerEnforced"}})
	if dig(bucket.Properties, "BucketEncryption", "ServerSideEncryptionConfiguration", 0, "ServerSideEncryptionByDefault", "SSEAlgorithm") == nil {
		problems = append(problems, "ConsoleBucket has no default encryption")
	}
	if _, ok := bucket.Properties["WebsiteConfiguration"]; ok {
		problems = append(problems, "ConsoleBucket is a public website")
	}

	policies := 0
	for _, id := range t.OfType("AWS::S3::BucketPolicy") {
		props := t.Resources[id].Properties
		if !cmp.Equal(props["Bucket"], ref("ConsoleBucket")) {
			continue
		}
		policies++
		for _, raw := range asList(dig(props, "PolicyDocument", "Statement")) {
			s, _ := raw.(map[string]any)
			if s["Effect"] != "Allow" {
				continue
			}
			expect(&problems, id+": an allowed principal", s["Principal"], map[string]any{"Service": "cloudfront.amazonaws.com"})
			expect(&problems, id+": what the distribution may do", s["Action"], "s3:GetObject")
			expect(&problems, id+": the allowed reader", s["Condition"], map[string]any{"StringEquals": map[string]any{
				"AWS:SourceArn": sub("arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/${ConsoleDistribution}"),
			}})
		}
	}
	expect(&problems, "policies of ConsoleBucket", policies, 1)

	oac := t.Resources["ConsoleOriginAccessControl"]
	expect(&problems, "ConsoleOriginAccessControl's type", oac.Type, "AWS::CloudFront::OriginAccessControl")
	cfg, _ := oac.Properties["OriginAccessControlConfig"].(map[string]any)
	expect(&problems, "the origin access control's signing", []any{cfg["OriginAccessControlOriginType"], cfg["SigningBehavior"], cfg["SigningProtocol"]}, []any{"s3", "always", "sigv4"})

	origins := asList(dig(t.Resources["ConsoleDistribution"].Properties, "DistributionConfig", "Origins"))
	expect(&problems, "the distribution's origins", len(origins), 1)
	o, _ := dig(origins, 0).(map[string]any)
	expect(&problems, "the distribution's origin", o["DomainName"], getAtt("ConsoleBucket", "RegionalDomainName"))
	expect(&problems, "the origin's access control", o["OriginAccessControlId"], getAtt("ConsoleOriginAccessControl", "Id"))
	// An empty identity: the legacy origin access identity is not used.
	expect(&problems, "the origin's access identity", o["S3OriginConfig"], map[string]any{"OriginAccessIdentity": ""})
	return problems
}

// consoleHeaderProblems: the distribution answers with the response headers policy, whose
// security headers are web.Handler's, and HSTS and DENY besides.
func consoleHeaderProblems(t *samtemplate.Template) []string {
	var problems []string
	dist := dig(t.Resources["ConsoleDistribution"].Properties, "DistributionConfig")
	expect(&problems, "the distribution's root object", dig(dist, "DefaultRootObject"), "index.html")
	behavior := dig(dist, "DefaultCacheBehavior")
	expect(&problems, "the distribution's headers policy", dig(behavior, "ResponseHeadersPolicyId"), ref("ConsoleResponseHeadersPolicy"))
	expect(&problems, "the distribution's viewer protocol", dig(behavior, "ViewerProtocolPolicy"), "redirect-to-https")
	if dig(dist, "CacheBehaviors") != nil {
		problems = append(problems, "the distribution has other cache behaviors, which the policy may not cover")
	}
	expect(&problems, "the distribution's functions", dig(behavior, "FunctionAssociations"), []any{map[string]any{
		"EventType": "viewer-request", "FunctionARN": getAtt("ConsoleRequestFunction", "FunctionARN"),
	}})

	headers := dig(t.Resources["ConsoleResponseHeadersPolicy"].Properties, "ResponseHeadersPolicyConfig", "SecurityHeadersConfig")
	for name, w := range map[string]map[string]any{
		"StrictTransportSecurity": {"Override": true, "AccessControlMaxAgeSec": 63072000, "IncludeSubdomains": true},
		"ContentTypeOptions":      {"Override": true},
		"FrameOptions":            {"Override": true, "FrameOption": "DENY"},
		"ReferrerPolicy":          {"Override": true, "ReferrerPolicy": "no-referrer"},
	} {
		expect(&problems, "the headers policy's "+name, dig(headers, name), w)
	}
	expect(&problems, "the CSP's override", dig(headers, "ContentSecurityPolicy", "Override"), true)
	return problems
}

// directives splits a Content-Security-Policy into its directives' sources.
func directives(policy string) map[string][]string {
	d := map[string][]string{}
	for part := range strings.SplitSeq(policy, ";") {
		fields := strings.Fields(part)
		if len(fields) > 0 {
			d[fields[0]] = fields[1:]
		}
	}
	return d
}

// consolePolicyProblems: the deployed policy is web.Policy, with the API's and the issuer's
// origins added to connect-src, the issuer's host taken from JwtIssuer.
func consolePolicyProblems(t *samtemplate.Template) []string {
	var problems []string
	csp := dig(t.Resources["ConsoleResponseHeadersPolicy"].Properties, "ResponseHeadersPolicyConfig", "SecurityHeadersConfig", "ContentSecurityPolicy", "ContentSecurityPolicy")
	args := asList(dig(csp, "Fn::Sub"))
	text, _ := dig(args, 0).(string)
	if text == "" {
		return []string{fmt.Sprintf("the Content-Security-Policy is %v, want !Sub [policy, variables]", csp)}
	}
	wantDirectives := directives(web.Policy)
	wantDirectives["connect-src"] = append(slices.Clone(wantDirectives["connect-src"]), apiOrigin, issuerOrigin)
	if d := cmp.Diff(wantDirectives, directives(text)); d != "" {
		problems = append(problems, fmt.Sprintf("the Content-Security-Policy (+) is not web.Policy with the API and the issuer (-):\n%s", d))
	}
	expect(&problems, "the CSP's variables", dig(args, 1), map[string]any{
		"IssuerHost":   map[string]any{"Fn::Select": []any{2, map[string]any{"Fn::Split": []any{"/", ref("JwtIssuer")}}}},
		"SignInOrigin": map[string]any{"Fn::If": []any{"HasConsoleSignInHost", sub(" https://${ConsoleSignInHost}"), ""}},
	})
	return problems
}

var configLiteral = regexp.MustCompile(`var config = '([^']*)';`)
var screenKey = regexp.MustCompile(`'(/[a-z]+)': true`)

// consoleFunctionProblems: the viewer-request function answers the settings web.Config
// names from the stack's values, and turns the screens into index.html.
func consoleFunctionProblems(t *samtemplate.Template) []string {
	var problems []string
	fn := t.Resources["ConsoleRequestFunction"]
	expect(&problems, "ConsoleRequestFunction's type", fn.Type, "AWS::CloudFront::Function")
	// The 2.0 runtime: a viewer-request function may answer with a body.
	expect(&problems, "ConsoleRequestFunction's runtime", dig(fn.Properties, "FunctionConfig", "Runtime"), "cloudfront-js-2.0")
	code, _ := dig(fn.Properties, "FunctionCode", "Fn::Sub").(string)
	if !strings.Contains(code, "'"+web.ConfigPath+"'") {
		problems = append(problems, "ConsoleRequestFunction does not answer "+web.ConfigPath)
	}
	m := configLiteral.FindStringSubmatch(code)
	if m == nil {
		return append(problems, "ConsoleRequestFunction has no var config = '...'")
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(m[1]), &got); err != nil {
		return append(problems, fmt.Sprintf("ConsoleRequestFunction's settings %s: %v", m[1], err))
	}
	local, err := json.Marshal(web.Config{})
	if err != nil {
		panic(err)
	}
	var names map[string]any
	if err := json.Unmarshal(local, &names); err != nil {
		panic(err)
	}
	if d := cmp.Diff(slices.Sorted(maps.Keys(names)), slices.Sorted(maps.Keys(got))); d != "" {
		problems = append(problems, fmt.Sprintf("the deployed settings (+) are not web.Config's (-):\n%s", d))
	}
	expect(&problems, "the deployed settings", got, map[string]any{"apiUrl": apiOrigin, "issuer": "${JwtIssuer}", "clientId": "${JwtAudience}"})

	var screens []string
	for _, m := range screenKey.FindAllStringSubmatch(code, -1) {
		screens = append(screens, m[1])
	}
	expect(&problems, "the screens the function serves index.html for", screens, []string{"/services", "/requests", "/profile", "/signin"})
	index := body("/index.html")
	for _, s := range screens {
		if body(s) != index || index == "" {
			problems = append(problems, fmt.Sprintf("%s is not index.html on the local stack", s))
		}
	}
	return problems
}

// body is what web.Handler answers a GET of path with, for index.html the file itself.
func body(path string) string {
	if path == "/index.html" {
		path = "/"
	}
	rec := httptest.NewRecorder()
	web.Handler(web.Config{}).ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
	b, _ := io.ReadAll(rec.Body)
	if rec.Code != 200 {
		return ""
	}
	return string(b)
}

func TestConsole(t *testing.T) {
	tpl := parse(t, read(t, "template.yaml"))
	for name, check := range map[string]func(*samtemplate.Template) []string{
		"storage":  consoleStorageProblems,
		"headers":  consoleHeaderProblems,
		"policy":   consolePolicyProblems,
		"function": consoleFunctionProblems,
	} {
		t.Run(name, func(t *testing.T) {
			for _, p := range check(tpl) {
				t.Error(p)
			}
		})
	}
	outputs, _ := tpl.Doc["Outputs"].(map[string]any)
	if got := dig(outputs, "ConsoleUrl", "Value"); !cmp.Equal(got, sub("https://${ConsoleDistribution.DomainName}")) {
		t.Errorf("output ConsoleUrl is %v", got)
	}
	if got := dig(outputs, "ConsoleBucketName", "Value"); !cmp.Equal(got, ref("ConsoleBucket")) {
		t.Errorf("output ConsoleBucketName is %v", got)
	}
}

// Each console check fails when the template drifts.
func TestConsoleChecksCatchDrift(t *testing.T) {
	template := read(t, "template.yaml")
	for name, d := range map[string]struct {
		old, new string
		check    func(*samtemplate.Template) []string
	}{
		"public acls":            {"BlockPublicAcls: true", "BlockPublicAcls: false", consoleStorageProblems},
		"any distribution":       {"distribution/${ConsoleDistribution}", "distribution/*", consoleStorageProblems},
		"unsigned origin":        {"SigningBehavior: always", "SigningBehavior: no-override", consoleStorageProblems},
		"no headers policy":      {"ResponseHeadersPolicyId: !Ref ConsoleResponseHeadersPolicy", "ResponseHeadersPolicyId: 67f7725c-6f97-4210-82d7-5512b31e9d03", consoleHeaderProblems},
		"frames allowed":         {"FrameOption: DENY", "FrameOption: SAMEORIGIN", consoleHeaderProblems},
		"inline scripts":         {"script-src 'self';", "script-src 'self' 'unsafe-inline';", consolePolicyProblems},
		"no issuer":              {" https://${IssuerHost}${SignInOrigin};", ";", consolePolicyProblems},
		"no token endpoint":      {"${SignInOrigin};", ";", consolePolicyProblems},
		"issuer's path":          {"!Select [2, ", "!Select [3, ", consolePolicyProblems},
		"renamed setting":        {`"clientId": "${JwtAudience}"`, `"client": "${JwtAudience}"`, consoleFunctionProblems},
		"issuer as audience":     {`"issuer": "${JwtIssuer}"`, `"issuer": "${JwtAudience}"`, consoleFunctionProblems},
		"a screen not rewritten": {"'/profile': true, ", "", consoleFunctionProblems},
	} {
		t.Run(name, func(t *testing.T) {
			if len(d.check(parse(t, mutate(t, template, d.old, d.new)))) == 0 {
				t.Error("no problem found after the drift")
			}
		})
	}
}
