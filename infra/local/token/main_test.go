package main

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/servicecontacts/servicecontacts/infra/local/gateway"
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
		{name: "malformed NIC", args: []string{"-nic", "xx11111"}, wantErr: "not a NIC handle"},
		{name: "missing NIC", args: nil, wantErr: "-nic is required"},
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
