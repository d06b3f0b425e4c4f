package config_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/servicecontacts/servicecontacts/shared/config"
)

// lambdaEnv is what Lambda sets for a function's role.
var lambdaEnv = map[string]string{
	"AWS_REGION":            "eu-west-3",
	"AWS_ACCESS_KEY_ID":     "ASIAEXAMPLE",
	"AWS_SECRET_ACCESS_KEY": "secret",
	"AWS_SESSION_TOKEN":     "session",
}

func withEnv(base map[string]string, kv ...string) map[string]string {
	m := map[string]string{}
	for k, v := range base {
		m[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

func TestAWSReadsTheRoleFromTheEnvironment(t *testing.T) {
	cfg, err := config.AWS(env(lambdaEnv))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Region != "eu-west-3" {
		t.Errorf("region %q, want eu-west-3", cfg.Region)
	}
	creds, err := cfg.Credentials.Retrieve(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if creds.AccessKeyID != "ASIAEXAMPLE" || creds.SecretAccessKey != "secret" || creds.SessionToken != "session" {
		t.Errorf("credentials %+v, want the role's from the environment", creds)
	}
	if o := dynamodb.NewFromConfig(cfg).Options(); o.BaseEndpoint != nil {
		t.Errorf("DynamoDB endpoint %q without an endpoint variable, want AWS's", *o.BaseEndpoint)
	}
}

func TestAWSRefusesAMissingRegionOrCredentials(t *testing.T) {
	for _, name := range []string{"AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"} {
		t.Run(name, func(t *testing.T) {
			_, err := config.AWS(env(withEnv(lambdaEnv, name, "")))
			if err == nil || !strings.Contains(err.Error(), name) {
				t.Errorf("AWS without %s: %v, want an error naming it", name, err)
			}
		})
	}
	if _, err := config.AWS(env(withEnv(lambdaEnv, "AWS_REGION", "", "AWS_DEFAULT_REGION", "eu-west-1"))); err != nil {
		t.Errorf("AWS with AWS_DEFAULT_REGION only: %v", err)
	}
}

// The endpoint variables, as the SDK's shared configuration reads them and the SAM CLI's
// env.json sets them: one service's variable wins over the global one, an empty one is unset.
func TestAWSEndpointVariables(t *testing.T) {
	cases := []struct {
		name string
		env  map[string]string
		want map[string]string // by service, "" for AWS's
	}{
		{"none", lambdaEnv, map[string]string{"DynamoDB": "", "SESv2": "", "SFN": "", "EventBridge": ""}},
		{"global", withEnv(lambdaEnv, "AWS_ENDPOINT_URL", "http://127.0.0.1:4566"),
			map[string]string{"DynamoDB": "http://127.0.0.1:4566", "SESv2": "http://127.0.0.1:4566", "SFN": "http://127.0.0.1:4566", "EventBridge": "http://127.0.0.1:4566"}},
		{"per service", withEnv(lambdaEnv, "AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:8000", "AWS_ENDPOINT_URL_SESV2", "http://127.0.0.1:8005",
			"AWS_ENDPOINT_URL_SFN", "http://127.0.0.1:8083", "AWS_ENDPOINT_URL_EVENTBRIDGE", "http://127.0.0.1:8084"),
			map[string]string{"DynamoDB": "http://127.0.0.1:8000", "SESv2": "http://127.0.0.1:8005", "SFN": "http://127.0.0.1:8083", "EventBridge": "http://127.0.0.1:8084"}},
		{"service over global", withEnv(lambdaEnv, "AWS_ENDPOINT_URL", "http://127.0.0.1:4566", "AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:8000"),
			map[string]string{"DynamoDB": "http://127.0.0.1:8000", "SESv2": "http://127.0.0.1:4566", "SFN": "http://127.0.0.1:4566", "EventBridge": "http://127.0.0.1:4566"}},
		{"empty service variable", withEnv(lambdaEnv, "AWS_ENDPOINT_URL_DYNAMODB", ""), map[string]string{"DynamoDB": ""}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// The clients read the per-service variables' presence from the process
			// environment (os.LookupEnv) and their values through the config.
			for k, v := range tc.env {
				if strings.HasPrefix(k, "AWS_ENDPOINT_URL") {
					t.Setenv(k, v)
				}
			}
			cfg, err := config.AWS(env(tc.env))
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]*string{
				"DynamoDB":    dynamodb.NewFromConfig(cfg).Options().BaseEndpoint,
				"SESv2":       sesv2.NewFromConfig(cfg).Options().BaseEndpoint,
				"SFN":         sfn.NewFromConfig(cfg).Options().BaseEndpoint,
				"EventBridge": eventbridge.NewFromConfig(cfg).Options().BaseEndpoint,
			}
			for service, want := range tc.want {
				var have string
				if p := got[service]; p != nil {
					have = *p
				}
				if have != want {
					t.Errorf("%s endpoint %q, want %q", service, have, want)
				}
			}
		})
	}
}
