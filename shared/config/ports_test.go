package config_test

import (
	"slices"
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
