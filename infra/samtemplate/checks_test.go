package samtemplate_test

// The comparisons the tests make, as functions of parsed inputs, so that the drift tests can
// feed them altered inputs and see each one fail.

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/go-cmp/cmp"

	"github.com/servicecontacts/servicecontacts/infra/samtemplate"
	"github.com/servicecontacts/servicecontacts/shared/api"
)

const root = "../.."

// route is one route as a source declares it; Function is a functions/ folder name, empty
// where the source does not say.
type route struct {
	Method   string
	Path     string
	Public   bool
	Operator bool
	Function string
}

func (r route) String() string {
	return fmt.Sprintf("%s %s public=%v operator=%v function=%s", r.Method, r.Path, r.Public, r.Operator, r.Function)
}

func sorted(rs []route) []string {
	out := make([]string, 0, len(rs))
	for _, r := range rs {
		out = append(out, r.String())
	}
	sort.Strings(out)
	return out
}

func withoutFunction(rs []route) []route {
	out := slices.Clone(rs)
	for i := range out {
		out[i].Function = ""
	}
	return out
}

// routeDiff is empty when the two sets of routes are the same.
func routeDiff(want, got []route) string {
	return cmp.Diff(sorted(want), sorted(got))
}

func codeRoutes() []route {
	var rs []route
	for _, r := range api.Routes {
		rs = append(rs, route{Method: r.Method, Path: r.Path, Public: r.Public, Operator: r.Operator, Function: r.Function})
	}
	return rs
}

// templateRoutes are the HttpApi events of the template's functions. A route is public when
// its event turns the authorizer off, an operator route when it chooses IAM; folders maps a
// function's logical id to its folder.
func templateRoutes(t *samtemplate.Template, folders map[string]string) ([]route, error) {
	var rs []route
	for _, id := range t.OfType("AWS::Serverless::Function") {
		events, _ := t.Resources[id].Properties["Events"].(map[string]any)
		for name, raw := range events {
			ev, _ := raw.(map[string]any)
			if ev["Type"] != "HttpApi" {
				continue
			}
			p, _ := ev["Properties"].(map[string]any)
			if !cmp.Equal(p["ApiId"], map[string]any{"Ref": "Api"}) {
				return nil, fmt.Errorf("%s.%s: ApiId is %v, want !Ref Api", id, name, p["ApiId"])
			}
			method, _ := p["Method"].(string)
			path, _ := p["Path"].(string)
			auth, _ := p["Auth"].(map[string]any)
			fn := folders[id]
			if fn == "" {
				fn = "?" + id
			}
			rs = append(rs, route{
				Method: strings.ToUpper(method), Path: path, Function: fn,
				Public: auth["Authorizer"] == "NONE", Operator: auth["Authorizer"] == "AWS_IAM",
			})
		}
	}
	return rs, nil
}

// openAPIRoutes are the operations of an OpenAPI document; an operation is public when its
// security is an empty list, an operator's when every scheme it accepts is SigV4.
func openAPIRoutes(doc map[string]any) ([]route, error) {
	paths, ok := doc["paths"].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("no paths")
	}
	components, _ := doc["components"].(map[string]any)
	schemes, _ := components["securitySchemes"].(map[string]any)
	sigv4 := func(requirements any) bool {
		list, _ := requirements.([]any)
		for _, req := range list {
			names, _ := req.(map[string]any)
			for name := range names {
				scheme, _ := schemes[name].(map[string]any)
				if scheme["x-amazon-apigateway-authtype"] != "awsSigv4" {
					return false
				}
			}
		}
		return len(list) > 0
	}
	var rs []route
	for path, raw := range paths {
		item, _ := raw.(map[string]any)
		for method, op := range item {
			switch method {
			case "get", "put", "post", "delete", "options", "head", "patch", "trace":
			default:
				continue // parameters, summary, ...
			}
			o, _ := op.(map[string]any)
			sec, has := o["security"]
			public := has && cmp.Equal(sec, []any{})
			rs = append(rs, route{Method: strings.ToUpper(method), Path: path, Public: public, Operator: has && sigv4(sec)})
		}
	}
	return rs, nil
}

// makefileTargets maps each logical id the Makefile builds for SAM (build-<LogicalId>) to the
// functions/ folder it builds.
func makefileTargets(makefile string) map[string]string {
	re := regexp.MustCompile(`(?m)^\$\(eval \$\(call sam_build,(\w+),(\w+)\)\)`)
	out := map[string]string{}
	for _, m := range re.FindAllStringSubmatch(makefile, -1) {
		out[m[1]] = m[2]
	}
	return out
}

func functionFolders() ([]string, error) {
	entries, err := os.ReadDir(filepath.Join(root, "functions"))
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if e.IsDir() {
			out = append(out, e.Name())
		}
	}
	return out, nil
}

// functionProblems compares the template's functions with the functions/ folders and the
// Makefile's build targets, and checks each function is built by SAM with the Makefile for
// provided.al2023 on arm64.
func functionProblems(t *samtemplate.Template, folders []string, targets map[string]string) []string {
	var problems []string
	inTemplate := map[string]bool{}
	for _, id := range t.OfType("AWS::Serverless::Function") {
		folder, ok := targets[id]
		if !ok {
			problems = append(problems, fmt.Sprintf("%s: the Makefile has no build-%s target", id, id))
		} else {
			inTemplate[folder] = true
			if !slices.Contains(folders, folder) {
				problems = append(problems, fmt.Sprintf("%s: build-%s builds ./functions/%s, which does not exist", id, id, folder))
			}
		}
		if bm := t.Resources[id].Metadata["BuildMethod"]; bm != "makefile" {
			problems = append(problems, fmt.Sprintf("%s: Metadata.BuildMethod is %v, want makefile", id, bm))
		}
		for prop, want := range map[string]any{
			"CodeUri":       ".",
			"Runtime":       "provided.al2023",
			"Architectures": []any{"arm64"},
			"Handler":       "bootstrap",
		} {
			if got := t.FunctionProperty(id, prop); !cmp.Equal(got, want) {
				problems = append(problems, fmt.Sprintf("%s: %s is %v, want %v", id, prop, got, want))
			}
		}
	}
	for _, f := range folders {
		if !inTemplate[f] {
			problems = append(problems, fmt.Sprintf("functions/%s is no function of the template", f))
		}
	}
	sort.Strings(problems)
	return problems
}

// tableShape is a table's definition in CloudFormation's terms, attribute definitions and
// indexes sorted by name (their order means nothing; the key schema's does).
func tableShape(billing any, attrs, keys, gsis []any) map[string]any {
	sortBy := func(s []any, key string) []any {
		s = slices.Clone(s)
		sort.SliceStable(s, func(i, j int) bool {
			a, _ := s[i].(map[string]any)
			b, _ := s[j].(map[string]any)
			return fmt.Sprint(a[key]) < fmt.Sprint(b[key])
		})
		return s
	}
	return map[string]any{
		"BillingMode":            billing,
		"AttributeDefinitions":   sortBy(attrs, "AttributeName"),
		"KeySchema":              keys,
		"GlobalSecondaryIndexes": sortBy(gsis, "IndexName"),
	}
}

// storeTable is the store's table definition in CloudFormation's terms.
func storeTable(in *dynamodb.CreateTableInput) map[string]any {
	var attrs, gsis []any
	for _, a := range in.AttributeDefinitions {
		attrs = append(attrs, map[string]any{"AttributeName": aws.ToString(a.AttributeName), "AttributeType": string(a.AttributeType)})
	}
	keys := func(ks []types.KeySchemaElement) []any {
		var out []any
		for _, k := range ks {
			out = append(out, map[string]any{"AttributeName": aws.ToString(k.AttributeName), "KeyType": string(k.KeyType)})
		}
		return out
	}
	for _, g := range in.GlobalSecondaryIndexes {
		proj := map[string]any{"ProjectionType": string(g.Projection.ProjectionType)}
		if len(g.Projection.NonKeyAttributes) > 0 {
			var nk []any
			for _, a := range g.Projection.NonKeyAttributes {
				nk = append(nk, a)
			}
			proj["NonKeyAttributes"] = nk
		}
		gsis = append(gsis, map[string]any{
			"IndexName":  aws.ToString(g.IndexName),
			"KeySchema":  keys(g.KeySchema),
			"Projection": proj,
		})
	}
	return tableShape(string(in.BillingMode), attrs, keys(in.KeySchema), gsis)
}

// templateTable is a template table's definition in the same terms.
func templateTable(t *samtemplate.Template, id string) map[string]any {
	p := t.Resources[id].Properties
	attrs, _ := p["AttributeDefinitions"].([]any)
	keys, _ := p["KeySchema"].([]any)
	gsis, _ := p["GlobalSecondaryIndexes"].([]any)
	return tableShape(p["BillingMode"], attrs, keys, gsis)
}
