package config

import (
	"log/slog"

	"github.com/servicecontacts/servicecontacts/shared/contact"
)

// Port is an adapter of the domain that a function may be given besides the store, which
// every function has.
type Port string

const (
	Workflow Port = "workflow" // Step Functions: start, answer and describe executions
	Mail     Port = "mail"     // SES: the emails, and the templates they are rendered from
	Events   Port = "events"   // EventBridge: the events of requests and services
)

// Ports names, for each function, the adapters it calls. Its main builds those and no
// other, so that a function links and initialises only the AWS clients it uses (a test
// holds each main's imports to this table), and the local stack gives each function the
// same, so that its end-to-end tests fail where a function lacks one. A call of a port a
// function was not given fails, leaving its work owed to a function that has it.
var Ports = map[string][]Port{
	"list":      nil,
	"request":   {Workflow, Mail, Events},
	"confirm":   {Workflow, Mail, Events}, // answers the parties' workflow tasks
	"resend":    {Mail, Events},
	"operator":  {Workflow, Mail, Events}, // cancels, ending the parties' tasks
	"await":     {Workflow},               // answers a task at once when the party already decided
	"apply":     {Workflow, Mail, Events},
	"finish":    {Workflow, Mail, Events},
	"reconcile": {Workflow, Mail, Events},
	"bounce":    {Events},
}

// Has reports whether function is given port.
func Has(function string, port Port) bool {
	for _, p := range Ports[function] {
		if p == port {
			return true
		}
	}
	return false
}

// Domain returns the domain of s's function on the adapters in c, which its main built:
// the settings' expiry and limits, and log, complete c.
func (s Settings) Domain(log *slog.Logger, c contact.Config) *contact.Manager {
	c.Logger = log
	c.Expiry = s.Expiry
	c.CreationLimit = s.CreationLimit
	c.EmailLimit = s.EmailLimit
	c.WrongTokenLimit = s.WrongTokenLimit
	return contact.New(c)
}
