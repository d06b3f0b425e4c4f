// Package config reads a function's settings from its environment, once at start-up, and
// builds the AWS clients and the domain they feed. A missing setting stops the function at
// start-up, never inside a request.
package config

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/servicecontacts/servicecontacts/shared/contact"
	"github.com/servicecontacts/servicecontacts/shared/mail"
	"github.com/servicecontacts/servicecontacts/shared/store"
	"github.com/servicecontacts/servicecontacts/shared/workflow"
)

// The environment variables the functions read.
const (
	ContactsTable        = "CONTACTS_TABLE"
	RequestsTable        = "REQUESTS_TABLE"
	StateMachineARN      = "STATE_MACHINE_ARN"
	MailFrom             = "MAIL_FROM"
	MailConfigurationSet = "MAIL_CONFIGURATION_SET"
	PublicBaseURL        = "PUBLIC_BASE_URL"
	RequestExpiry        = "REQUEST_EXPIRY"
)

// Config is a function's settings.
type Config struct {
	Tables               store.Tables
	StateMachineARN      string
	MailFrom             string
	MailConfigurationSet string
	PublicBaseURL        string
	Expiry               time.Duration
}

// FromEnv reads the settings. The table names are always required; required names the other
// variables this function cannot work without.
func FromEnv(required ...string) (Config, error) {
	cfg := Config{
		Tables:               store.Tables{Contacts: os.Getenv(ContactsTable), Requests: os.Getenv(RequestsTable)},
		StateMachineARN:      os.Getenv(StateMachineARN),
		MailFrom:             os.Getenv(MailFrom),
		MailConfigurationSet: os.Getenv(MailConfigurationSet),
		PublicBaseURL:        strings.TrimRight(os.Getenv(PublicBaseURL), "/"),
		Expiry:               contact.DefaultExpiry,
	}
	var missing []string
	for _, name := range append([]string{ContactsTable, RequestsTable}, required...) {
		if os.Getenv(name) == "" {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return Config{}, fmt.Errorf("missing environment variables: %s", strings.Join(missing, ", "))
	}
	if s := os.Getenv(RequestExpiry); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 {
			return Config{}, fmt.Errorf("%s=%q is not a positive duration like 336h", RequestExpiry, s)
		}
		cfg.Expiry = d
	}
	return cfg, nil
}

// Logger logs JSON (with the Lambda log format set to JSON) with the invocation's request id
// on every line.
func Logger() *slog.Logger {
	return lambdacontext.NewLogger()
}

// Manager builds the AWS clients, once per execution environment, and the domain on them.
func Manager(ctx context.Context, cfg Config, log *slog.Logger) (*contact.Manager, error) {
	aws, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("load AWS configuration: %w", err)
	}
	sender := mail.NewSES(sesv2.NewFromConfig(aws), cfg.MailFrom, cfg.MailConfigurationSet)
	return contact.New(contact.Config{
		Store:    store.New(dynamodb.NewFromConfig(aws), cfg.Tables),
		Workflow: workflow.New(sfn.NewFromConfig(aws), cfg.StateMachineARN, nil),
		Notifier: mail.NewNotifier(sender, cfg.PublicBaseURL),
		Logger:   log,
		Expiry:   cfg.Expiry,
	}), nil
}

// Exit logs why a function cannot start and stops it.
func Exit(log *slog.Logger, err error) {
	log.Error("cannot start", "err", err)
	os.Exit(1)
}
