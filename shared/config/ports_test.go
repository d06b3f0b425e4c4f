package config_test

import (
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/servicecontacts/servicecontacts/shared/config"
)

// TestPortsAgreeWithRequired: a function that emails reads the mailing settings, one that
// publishes reads the bus's name, one that starts executions reads the state machine's ARN.
func TestPortsAgreeWithRequired(t *testing.T) {
	for function, vars := range config.Required {
		if _, ok := config.Ports[function]; !ok {
			t.Errorf("config.Ports has no row for %s", function)
		}
		for port, variable := range map[config.Port]string{config.Mail: config.MailFrom, config.Events: config.EventBusName} {
			if has, reads := config.Has(function, port), slices.Contains(vars, variable); has != reads {
				t.Errorf("%s: given %s = %v, but reads %s = %v", function, port, has, variable, reads)
			}
		}
		if slices.Contains(vars, config.StateMachineARN) && !config.Has(function, config.Workflow) {
			t.Errorf("%s reads %s but is given no workflow", function, config.StateMachineARN)
		}
	}
	for function := range config.Ports {
		if _, ok := config.Required[function]; !ok {
			t.Errorf("config.Ports names %s, which config.Required does not", function)
		}
	}
}

// The SDK packages behind each port, and those no function may link: the shared
// configuration and its credential sources, which config.AWS replaces.
var (
	portPackages = map[config.Port]string{
		config.Workflow: "github.com/aws/aws-sdk-go-v2/service/sfn",
		config.Mail:     "github.com/aws/aws-sdk-go-v2/service/sesv2",
		config.Events:   "github.com/aws/aws-sdk-go-v2/service/eventbridge",
	}
	neverLinked = []string{
		"github.com/aws/aws-sdk-go-v2/config",
		"github.com/aws/aws-sdk-go-v2/credentials/stscreds",
		"github.com/aws/aws-sdk-go-v2/credentials/ssocreds",
		"github.com/aws/aws-sdk-go-v2/feature/ec2/imds",
	}
)

// TestEachFunctionLinksOnlyItsPorts holds every main to config.Ports: its binary, built as
// the Makefile builds it, imports the SDK client of each port it is given and of no other.
func TestEachFunctionLinksOnlyItsPorts(t *testing.T) {
	out, err := exec.Command("go", "-C", "../..", "list", "-tags", "lambda.norpc", "-deps=false",
		"-f", `{{.Name}} {{.ImportPath}} {{join .Deps " "}}`, "./functions/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	seen := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		if fields[0] != "main" {
			continue
		}
		function, deps := fields[1][strings.LastIndex(fields[1], "/")+1:], fields[2:]
		ports, ok := config.Ports[function]
		if !ok {
			t.Errorf("%s is not in config.Ports", fields[1])
			continue
		}
		seen++
		for port, pkg := range portPackages {
			if want, links := slices.Contains(ports, port), slices.Contains(deps, pkg); want != links {
				t.Errorf("%s links %s = %v, want %v (given %v)", function, pkg, links, want, ports)
			}
		}
		for _, pkg := range neverLinked {
			if slices.Contains(deps, pkg) {
				t.Errorf("%s links %s", function, pkg)
			}
		}
	}
	if seen != len(config.Ports) {
		t.Errorf("go list found %d functions, config.Ports names %d", seen, len(config.Ports))
	}
}
