package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"

	"github.com/servicecontacts/servicecontacts/infra/local/gateway"
	"github.com/servicecontacts/servicecontacts/shared/api"
)

func TestRun(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_800_000_000, 0)
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		want    map[string]any // claims of the printed token
		secret  string
		wantErr string
	}{
		{
			name:   "default secret and ttl, NIC lowercased",
			args:   []string{"-nic", "XX11111-OVH"},
			want:   map[string]any{"sub": "xx11111-ovh", "iat": now.Unix(), "exp": now.Add(24 * time.Hour).Unix()},
			secret: "local-dev-secret",
		},
		{
			name:   "secret from the environment",
			args:   []string{"-nic", "xx11111-ovh", "-ttl", "90m"},
			env:    map[string]string{"LOCAL_JWT_SECRET": "s3cret"},
			want:   map[string]any{"sub": "xx11111-ovh", "iat": now.Unix(), "exp": now.Add(90 * time.Minute).Unix()},
			secret: "s3cret",
		},
		{
			name:   "NIC in the claim Cognito's trigger adds",
			args:   []string{"-nic", "xx11111-ovh", "-claim", "custom:nic"},
			want:   map[string]any{"custom:nic": "xx11111-ovh", "iat": now.Unix(), "exp": now.Add(24 * time.Hour).Unix()},
			secret: "local-dev-secret",
		},
		{
			name:   "sub named explicitly",
			args:   []string{"-claim", "sub", "-nic", "xx11111-ovh"},
			want:   map[string]any{"sub": "xx11111-ovh", "iat": now.Unix(), "exp": now.Add(24 * time.Hour).Unix()},
			secret: "local-dev-secret",
		},
		{
			name:   "operator",
			args:   []string{"-operator", "support-alice"},
			want:   map[string]any{"operator": "support-alice", "iat": now.Unix(), "exp": now.Add(24 * time.Hour).Unix()},
			secret: "local-dev-secret",
		},
		{
			name:   "operator, secret from the environment and ttl",
			args:   []string{"-operator", "billing.sync@example.com", "-ttl", "1h"},
			env:    map[string]string{"LOCAL_JWT_SECRET": "s3cret"},
			want:   map[string]any{"operator": "billing.sync@example.com", "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()},
			secret: "s3cret",
		},
		{name: "malformed NIC", args: []string{"-nic", "xx11111"}, wantErr: "not a NIC handle"},
		{name: "neither NIC nor operator", args: nil, wantErr: "exactly one of -nic"},
		{name: "both NIC and operator", args: []string{"-nic", "xx11111-ovh", "-operator", "support-alice"}, wantErr: "exactly one of -nic"},
		{name: "claim with an operator", args: []string{"-operator", "support-alice", "-claim", "custom:nic"}, wantErr: "-claim applies to -nic only"},
		{name: "empty claim", args: []string{"-nic", "xx11111-ovh", "-claim", ""}, wantErr: "-claim must name a claim"},
		{name: "operator claim for a NIC", args: []string{"-nic", "xx11111-ovh", "-claim", "operator"}, wantErr: "cannot hold the NIC handle"},
		{name: "exp claim for a NIC", args: []string{"-nic", "xx11111-ovh", "-claim", "exp"}, wantErr: "cannot hold the NIC handle"},
		{name: "operator name with a slash", args: []string{"-operator", "alice/root"}, wantErr: "not an IAM user name"},
		{name: "non-positive ttl", args: []string{"-nic", "xx11111-ovh", "-ttl", "0s"}, wantErr: "-ttl must be positive"},
		{name: "stray argument", args: []string{"-nic", "xx11111-ovh", "extra"}, wantErr: "unexpected arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var stdout bytes.Buffer
			err := run(tt.args, func(k string) string { return tt.env[k] }, now, &stdout, io.Discard)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("run: error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("run: %v", err)
			}
			want, err := gateway.Sign([]byte(tt.secret), tt.want)
			if err != nil {
				t.Fatalf("Sign: %v", err)
			}
			if diff := cmp.Diff(want+"\n", stdout.String()); diff != "" {
				t.Errorf("printed token (-want +got):\n%s", diff)
			}
		})
	}
}

// The printed tokens are admitted by the local gateway where they belong, and only there.
func TestTokensPassTheGateway(t *testing.T) {
	t.Parallel()
	routes := []api.Route{
		{Method: "GET", Path: "/me/services", Function: "customer"},
		{Method: "GET", Path: "/operator/contact-changes", Function: "operator", Operator: true},
	}
	tests := []struct {
		name          string
		args          []string
		identityClaim string
		wantCustomer  int
		wantOperator  int
	}{
		{"customer, sub", []string{"-nic", "xx11111-ovh"}, "", http.StatusOK, http.StatusForbidden},
		{"customer, custom:nic", []string{"-nic", "xx11111-ovh", "-claim", "custom:nic"}, "custom:nic", http.StatusOK, http.StatusForbidden},
		{"customer, sub, on a stack reading custom:nic", []string{"-nic", "xx11111-ovh"}, "custom:nic", http.StatusUnauthorized, http.StatusForbidden},
		{"operator", []string{"-operator", "support-alice"}, "", http.StatusUnauthorized, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := map[string]string{"LOCAL_JWT_SECRET": "round-trip"}
			getenv := func(k string) string { return env[k] }
			var stdout bytes.Buffer
			if err := run(tt.args, getenv, time.Now(), &stdout, io.Discard); err != nil {
				t.Fatalf("run: %v", err)
			}
			ok := func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
				return events.APIGatewayV2HTTPResponse{StatusCode: http.StatusOK}, nil
			}
			g, err := gateway.New(routes, map[string]gateway.Function{"customer": ok, "operator": ok}, gateway.Options{
				Secret:        gateway.SecretFromEnv(getenv),
				IdentityClaim: tt.identityClaim,
				Logger:        slog.New(slog.DiscardHandler),
			})
			if err != nil {
				t.Fatalf("gateway.New: %v", err)
			}
			for path, want := range map[string]int{"/me/services": tt.wantCustomer, "/operator/contact-changes": tt.wantOperator} {
				req := httptest.NewRequest("GET", path, nil)
				req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(stdout.String()))
				rec := httptest.NewRecorder()
				g.ServeHTTP(rec, req)
				if rec.Code != want {
					t.Errorf("GET %s: status %d, want %d", path, rec.Code, want)
				}
			}
		})
	}
}
