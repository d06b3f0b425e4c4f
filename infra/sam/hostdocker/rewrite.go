package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path"
	"regexp"
	"strconv"
)

type call int

const (
	passThrough call = iota
	createContainer
	createNetwork
)

// The Engine API's paths, with or without their version prefix (/v1.41/containers/create).
var (
	containerCreate = regexp.MustCompile(`^(/v[0-9.]+)?/containers/create$`)
	networkCreate   = regexp.MustCompile(`^(/v[0-9.]+)?/networks/create$`)
)

func callOf(r *http.Request) call {
	if r.Method != http.MethodPost {
		return passThrough
	}
	switch p := path.Clean(r.URL.Path); {
	case containerCreate.MatchString(p):
		return createContainer
	case networkCreate.MatchString(p):
		return createNetwork
	}
	return passThrough
}

// rie is the Lambda Runtime Interface Emulator SAM CLI starts in each function's
// container, and riePort the port it serves invocations on there, which SAM publishes on a
// free port of the host's loopback and then calls.
const (
	rie     = "/var/rapid/aws-lambda-rie"
	riePort = "8080/tcp"
)

// hostNetwork rewrites a container's creation for the host network: the network mode is
// host, and no port is published, since the container's ports are the host's. The emulator
// then listens, on 127.0.0.1, where SAM expects it: the host port SAM had asked Docker to
// publish. Its Runtime API, which would take 127.0.0.1:9001 in every container, gets a port
// of its own, so that several functions run at once as they do under start-api.
func hostNetwork(r *http.Request, freePort func() (int, error)) error {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return fmt.Errorf("read the container's configuration: %w", err)
	}
	var config map[string]json.RawMessage
	if err := json.Unmarshal(body, &config); err != nil {
		return fmt.Errorf("decode the container's configuration: %w", err)
	}
	var host map[string]json.RawMessage
	if raw, ok := config["HostConfig"]; ok && string(raw) != "null" {
		if err := json.Unmarshal(raw, &host); err != nil {
			return fmt.Errorf("decode HostConfig: %w", err)
		}
	}
	if host == nil {
		host = map[string]json.RawMessage{}
	}
	var bindings map[string][]struct{ HostIP, HostPort string }
	if raw, ok := host["PortBindings"]; ok && string(raw) != "null" {
		if err := json.Unmarshal(raw, &bindings); err != nil {
			return fmt.Errorf("decode PortBindings: %w", err)
		}
	}
	var entrypoint []string
	if raw, ok := config["Entrypoint"]; ok && string(raw) != "null" {
		// The API takes a string too; SAM sends a list, and a string is left as it is.
		_ = json.Unmarshal(raw, &entrypoint)
	}

	if len(entrypoint) > 0 && entrypoint[0] == rie {
		b := bindings[riePort]
		if len(b) == 0 {
			return fmt.Errorf("the emulator's port %s is not published: no address to move it to", riePort)
		}
		if _, err := strconv.Atoi(b[0].HostPort); err != nil {
			return fmt.Errorf("the emulator's host port %q: %w", b[0].HostPort, err)
		}
		api, err := freePort()
		if err != nil {
			return err
		}
		entrypoint = append(entrypoint,
			"--runtime-interface-emulator-address", "127.0.0.1:"+b[0].HostPort,
			"--runtime-api-address", "127.0.0.1:"+strconv.Itoa(api))
		config["Entrypoint"] = mustJSON(entrypoint)
	}
	host["NetworkMode"] = mustJSON("host")
	delete(host, "PortBindings")
	delete(config, "ExposedPorts")
	delete(config, "NetworkingConfig")
	config["HostConfig"] = mustJSON(host)

	out := mustJSON(config)
	r.Body = io.NopCloser(bytes.NewReader(out))
	r.ContentLength = int64(len(out))
	r.Header.Set("Content-Length", strconv.Itoa(len(out)))
	r.Header.Del("Transfer-Encoding")
	return nil
}

// mustJSON marshals what came from JSON or is a string or a list of them: it cannot fail.
func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
