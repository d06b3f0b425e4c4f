// Package coldstart measures what each function costs before its first invocation: the size
// of its bootstrap, and its init, from exec to its first call of the Lambda Runtime API's
// GET /runtime/invocation/next, against the bare aws-lambda-go function in hello.
package coldstart

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// The baselines' packages: a bare aws-lambda-go function, and one that builds the SDK
// clients request builds and links the operations it calls, and nothing else.
const (
	Hello = "./infra/coldstart/hello"
	SDK   = "./infra/coldstart/sdk"
)

// Build builds the package pkg (a path like ./functions/list, from the module's root root)
// into dir with the release flags of the Makefile's GO_LAMBDA_BUILD, for goarch, and
// returns the binary's path and size.
func Build(ctx context.Context, root, dir, pkg, goarch string) (string, int64, error) {
	out := filepath.Join(dir, strings.ReplaceAll(strings.Trim(pkg, "./"), "/", "-")+"-"+goarch)
	cmd := exec.CommandContext(ctx, "go", "build", "-tags", "lambda.norpc", "-trimpath", "-ldflags=-s -w", "-o", out, pkg)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH="+goarch, "CGO_ENABLED=0")
	if msg, err := cmd.CombinedOutput(); err != nil {
		return "", 0, fmt.Errorf("build %s for %s: %w\n%s", pkg, goarch, err, msg)
	}
	fi, err := os.Stat(out)
	if err != nil {
		return "", 0, err
	}
	return out, fi.Size(), nil
}

// RuntimeAPI is a stand-in for the Lambda Runtime API that only notes when a function first
// asks for an invocation; it never hands one out. It listens on loopback.
type RuntimeAPI struct {
	Addr   string // host:port, for AWS_LAMBDA_RUNTIME_API
	srv    *http.Server
	asked  chan time.Time
	closed chan struct{}
}

// NewRuntimeAPI starts a stand-in on 127.0.0.1.
func NewRuntimeAPI() (*RuntimeAPI, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r := &RuntimeAPI{Addr: ln.Addr().String(), asked: make(chan time.Time, 1), closed: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /2018-06-01/runtime/invocation/next", func(w http.ResponseWriter, req *http.Request) {
		select {
		case r.asked <- time.Now():
		default:
		}
		// Hold the call, as the Runtime API does until an invocation comes, until the
		// function is stopped.
		select {
		case <-req.Context().Done():
		case <-r.closed:
		}
	})
	r.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = r.srv.Serve(ln) }()
	return r, nil
}

// Close stops the stand-in.
func (r *RuntimeAPI) Close() error {
	close(r.closed)
	return r.srv.Close()
}

// Init starts binary with env (besides AWS_LAMBDA_RUNTIME_API) and returns the time from
// exec to its first GET /next; the process is then killed. A function that exits or says
// nothing within timeout fails, with what it wrote.
func (r *RuntimeAPI) Init(binary string, env []string, timeout time.Duration) (time.Duration, error) {
	select { // a call left over from an earlier run
	case <-r.asked:
	default:
	}
	cmd := exec.Command(binary)
	cmd.Env = append(slices.Clone(env), "AWS_LAMBDA_RUNTIME_API="+r.Addr)
	var output strings.Builder
	cmd.Stdout, cmd.Stderr = &output, &output
	exited := make(chan error, 1)
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	go func() { exited <- cmd.Wait() }()
	stop := func() {
		_ = cmd.Process.Kill()
		<-exited
	}
	select {
	case at := <-r.asked:
		stop()
		return at.Sub(start), nil
	case err := <-exited:
		return 0, fmt.Errorf("%s exited before asking for an invocation: %v\n%s", filepath.Base(binary), err, output.String())
	case <-time.After(timeout):
		stop()
		return 0, errors.New(filepath.Base(binary) + " did not ask for an invocation in time")
	}
}
