package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
)

// The proxy forwards the Engine API to the daemon's socket, with a container's creation
// rewritten on the way and a network's creation refused before it.
func TestProxy(t *testing.T) {
	socket := filepath.Join(t.TempDir(), "daemon.sock")
	l, err := net.Listen("unix", socket)
	if err != nil {
		t.Fatal(err)
	}
	var got []string // what the daemon was asked
	daemon := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got = append(got, r.Method+" "+r.URL.Path+" "+string(body))
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"Id":"c1"}`)
	}))
	daemon.Listener = l
	daemon.Start()
	defer daemon.Close()

	proxy := httptest.NewServer(newProxy(socket, slog.New(slog.DiscardHandler)))
	defer proxy.Close()

	resp, err := http.Post(proxy.URL+"/v1.41/containers/create?name=x", "application/json", strings.NewReader(samContainer))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("create a container: %s", resp.Status)
	}
	resp, err = http.Post(proxy.URL+"/v1.41/networks/create", "application/json", strings.NewReader(`{"Name":"n","Driver":"bridge"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("create a network: %s, want 403", resp.Status)
	}
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, proxy.URL+"/_ping", nil)
	if resp, err = http.DefaultClient.Do(req); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	if len(got) != 2 || !strings.HasPrefix(got[0], "POST /v1.41/containers/create ") || !strings.HasPrefix(got[1], "GET /_ping") {
		t.Fatalf("the daemon was asked %q", got)
	}
	var config struct{ HostConfig struct{ NetworkMode string } }
	if err := json.Unmarshal([]byte(strings.SplitN(got[0], " ", 3)[2]), &config); err != nil || config.HostConfig.NetworkMode != "host" {
		t.Errorf("the daemon got network mode %q (%v), want host", config.HostConfig.NetworkMode, err)
	}
}
