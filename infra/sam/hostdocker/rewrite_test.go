package main

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// What SAM CLI 1.170 sends to create a function's container (docker-py), abridged.
const samContainer = `{
  "Image": "public.ecr.aws/lambda/provided:al2023-rapid-x86_64",
  "Cmd": ["bootstrap"],
  "Entrypoint": ["/var/rapid/aws-lambda-rie", "--log-level", "error"],
  "WorkingDir": "/var/task",
  "Env": ["AWS_REGION=us-east-1"],
  "ExposedPorts": {"8080/tcp": {}},
  "Labels": {"sam.cli.container.type": "lambda"},
  "HostConfig": {
    "Binds": ["/tmp/build/ListFunction:/var/task:ro,delegated"],
    "PortBindings": {"8080/tcp": [{"HostIp": "127.0.0.1", "HostPort": "5321"}]},
    "Memory": 268435456
  },
  "NetworkingConfig": null
}`

func TestHostNetwork(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		want       map[string]any // fields of the rewritten configuration
		wantErr    string
	}{
		{
			name: "a function's container",
			body: samContainer,
			want: map[string]any{
				"Entrypoint": []any{"/var/rapid/aws-lambda-rie", "--log-level", "error",
					"--runtime-interface-emulator-address", "127.0.0.1:5321", "--runtime-api-address", "127.0.0.1:9123"},
				"HostConfig": map[string]any{
					"Binds":       []any{"/tmp/build/ListFunction:/var/task:ro,delegated"},
					"Memory":      float64(268435456),
					"NetworkMode": "host",
				},
				"ExposedPorts":     nil,
				"NetworkingConfig": nil,
				"Cmd":              []any{"bootstrap"},
			},
		},
		{
			name: "a container of another program keeps its entrypoint",
			body: `{"Image": "x", "Entrypoint": ["/bin/sh"], "HostConfig": {"NetworkMode": "bridge"}}`,
			want: map[string]any{"Entrypoint": []any{"/bin/sh"}, "HostConfig": map[string]any{"NetworkMode": "host"}},
		},
		{
			name: "no host configuration",
			body: `{"Image": "x"}`,
			want: map[string]any{"HostConfig": map[string]any{"NetworkMode": "host"}},
		},
		{
			name:    "the emulator without its port",
			body:    `{"Image": "x", "Entrypoint": ["/var/rapid/aws-lambda-rie"], "HostConfig": {}}`,
			wantErr: "not published",
		},
		{
			name:    "not JSON",
			body:    `{"Image": `,
			wantErr: "decode the container's configuration",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/v1.41/containers/create", strings.NewReader(tc.body))
			err := hostNetwork(r, func() (int, error) { return 9123, nil })
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one saying %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := io.ReadAll(r.Body)
			if r.ContentLength != int64(len(raw)) {
				t.Errorf("Content-Length %d for a body of %d bytes", r.ContentLength, len(raw))
			}
			var got map[string]any
			if err := json.Unmarshal(raw, &got); err != nil {
				t.Fatal(err)
			}
			for k, want := range tc.want {
				if d := cmp.Diff(want, got[k]); d != "" {
					t.Errorf("%s (-want +got):\n%s", k, d)
				}
			}
		})
	}
}

func TestHostNetworkWithoutAFreePort(t *testing.T) {
	r := httptest.NewRequest(http.MethodPost, "/containers/create", strings.NewReader(samContainer))
	if err := hostNetwork(r, func() (int, error) { return 0, errors.New("no port") }); err == nil {
		t.Fatal("no error without a port for the Runtime API")
	}
}

func TestCallOf(t *testing.T) {
	for _, tc := range []struct {
		method, path string
		want         call
	}{
		{"POST", "/v1.41/containers/create", createContainer},
		{"POST", "/containers/create", createContainer},
		{"POST", "/v1.35/networks/create", createNetwork},
		{"GET", "/v1.41/containers/create", passThrough},
		{"POST", "/v1.41/containers/abc/start", passThrough},
		{"POST", "/v1.41/build", passThrough},
	} {
		r := httptest.NewRequest(tc.method, tc.path, nil)
		if got := callOf(r); got != tc.want {
			t.Errorf("%s %s: %v, want %v", tc.method, tc.path, got, tc.want)
		}
	}
}
