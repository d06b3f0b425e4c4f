package database_test

import (
	"context"
	"testing"

	"github.com/servicecontacts/servicecontacts/infra/database"
)

func TestDialAnEndpoint(t *testing.T) {
	env := map[string]string{database.EndpointVariable: "http://127.0.0.1:8000"}
	client, err := database.Dial(context.Background(), func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	o := client.Options()
	if o.BaseEndpoint == nil || *o.BaseEndpoint != "http://127.0.0.1:8000" || o.Region != "us-east-1" {
		t.Errorf("client of %v in %q, want http://127.0.0.1:8000 in us-east-1", o.BaseEndpoint, o.Region)
	}
	creds, err := o.Credentials.Retrieve(context.Background())
	if err != nil || creds.AccessKeyID != "local" {
		t.Errorf("credentials %q, %v; want the local ones", creds.AccessKeyID, err)
	}
}
