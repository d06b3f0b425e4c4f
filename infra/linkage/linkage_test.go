package linkage

import (
	"errors"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/servicecontacts/servicecontacts/shared/config"
)

const functionsPrefix = "github.com/servicecontacts/servicecontacts/functions/"

// unwanted are the packages no function may link. Executing text/template (html/template
// runs on it) calls reflect.Value.MethodByName with run-time names, so the linker keeps
// every exported method of every type that reaches an interface: every AWS SDK operation.
// shared/stencil renders the pages and emails instead. The SDK's shared configuration
// links and initialises every credential source (profiles, SSO, STS, the instance metadata
// service), none of which runs on Lambda: config.AWS builds the configuration instead.
var unwanted = []string{
	"text/template", "html/template",
	"github.com/aws/aws-sdk-go-v2/config",
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds",
	"github.com/aws/aws-sdk-go-v2/credentials/ssocreds",
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds",
}

// isSchemaPackage reports whether p is an SDK service's generated schemas package. From the
// version that turns on schema-based (de)serialization, a service module builds a schema
// for every shape of its whole API at package init, a map allocation each, whatever the
// program calls: DynamoDB's, SES v2's and EventBridge's took 0.4-0.75 ms of init each and
// kept every shape in the binary. go.mod holds those modules at the last version before it.
func isSchemaPackage(p string) bool {
	rest, ok := strings.CutPrefix(p, "github.com/aws/aws-sdk-go-v2/service/")
	return ok && strings.HasSuffix(rest, "/schemas")
}

// Every function, with the packages its build links, for the release target.
func TestFunctionsLinkNoUnwantedPackage(t *testing.T) {
	functions := []string{"apply", "await", "bounce", "confirm", "finish", "list", "operator", "reconcile", "request", "resend"}

	deps := functionDeps(t)
	var listed []string
	for f := range deps {
		listed = append(listed, f)
	}
	slices.Sort(listed)
	if !slices.Equal(listed, functions) {
		t.Errorf("functions/ holds %v, the table %v: add the new function to the table", listed, functions)
	}
	for _, f := range functions {
		t.Run(f, func(t *testing.T) {
			links, ok := deps[f]
			if !ok {
				t.Fatalf("no package functions/%s", f)
			}
			for _, p := range unwanted {
				if slices.Contains(links, p) {
					t.Errorf("functions/%s links %s", f, p)
				}
			}
			for _, p := range links {
				if isSchemaPackage(p) {
					t.Errorf("functions/%s links %s: a service client with schema-based serialization; keep its module at the last version before it (go.mod)", f, p)
				}
			}
		})
	}
}

// functionDeps runs go list over functions/... as the release build sees it (linux/arm64,
// no cgo, tag lambda.norpc) and returns each function's transitive imports, by name.
func functionDeps(t *testing.T) map[string][]string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to list the functions' packages: %v", err)
	}
	cmd := exec.Command(goTool, "list", "-tags", "lambda.norpc", "-f", "{{.ImportPath}}{{range .Deps}} {{.}}{{end}}", "./functions/...")
	cmd.Dir = "../.."
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0", "GOFLAGS=-mod=readonly")
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("go list: %v\n%s", err, ee.Stderr)
		}
		t.Fatalf("go list: %v", err)
	}
	deps := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		name, ok := strings.CutPrefix(fields[0], functionsPrefix)
		if !ok || strings.Contains(name, "/") {
			continue // not a function's main package
		}
		deps[name] = fields[1:]
	}
	return deps
}

// portPackages are the SDK clients behind each port.
var portPackages = map[config.Port]string{
	config.Workflow: "github.com/aws/aws-sdk-go-v2/service/sfn",
	config.Mail:     "github.com/aws/aws-sdk-go-v2/service/sesv2",
	config.Events:   "github.com/aws/aws-sdk-go-v2/service/eventbridge",
}

// TestEachFunctionLinksOnlyItsPorts holds every main to config.Ports: its build links the
// SDK client of each port the function is given, and of no other.
func TestEachFunctionLinksOnlyItsPorts(t *testing.T) {
	deps := functionDeps(t)
	for function, ports := range config.Ports {
		links, ok := deps[function]
		if !ok {
			t.Errorf("config.Ports names %s, which is not a package of functions/", function)
			continue
		}
		for port, pkg := range portPackages {
			if want, has := slices.Contains(ports, port), slices.Contains(links, pkg); want != has {
				t.Errorf("functions/%s links %s: %v, want %v (it is given %v)", function, pkg, has, want, ports)
			}
		}
	}
}

func TestIsSchemaPackage(t *testing.T) {
	for p, want := range map[string]bool{
		"github.com/aws/aws-sdk-go-v2/service/dynamodb/schemas":        true,
		"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/schemas": true,
		"github.com/aws/aws-sdk-go-v2/service/dynamodb":                false,
		"github.com/aws/aws-sdk-go-v2/service/dynamodb/types":          false,
		"github.com/aws/smithy-go/schemas":                             false,
	} {
		if got := isSchemaPackage(p); got != want {
			t.Errorf("isSchemaPackage(%q) = %v, want %v", p, got, want)
		}
	}
}
