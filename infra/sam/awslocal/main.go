// Command awslocal plays, for `sam local`, the two AWS services nothing else emulates here.
// Step Functions: it runs the contact-change state machine (infra/statemachine) in-process,
// serves the Step Functions API for the functions' AWS_ENDPOINT_URL_SFN, invokes the state
// machine's functions over the Lambda Invoke API of `sam local start-lambda`, and hands
// executions that end otherwise than by succeeding to the reconciler, as the EventBridge
// rule does on AWS. EventBridge: on the same address, for AWS_ENDPOINT_URL_EVENTBRIDGE, it
// takes the events the functions put (PutEvents) and lists them on GET /events.
//
//	sam local start-lambda --port 3001 &
//	go run ./infra/sam/awslocal -addr 127.0.0.1:8083 -lambda http://127.0.0.1:3001
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/servicecontacts/servicecontacts/infra/local/asl"
	"github.com/servicecontacts/servicecontacts/infra/local/eventbridge"
	"github.com/servicecontacts/servicecontacts/infra/local/stepfunctions"
	"github.com/servicecontacts/servicecontacts/infra/statemachine"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "awslocal:", err)
		}
		os.Exit(2)
	}
}

// config is what the flags set.
type config struct {
	addr, lambda, stateMachineARN   string
	await, apply, finish, reconcile string
}

func parse(args []string, stderr io.Writer) (config, error) {
	var c config
	flags := flag.NewFlagSet("awslocal", flag.ContinueOnError)
	flags.SetOutput(stderr)
	flags.StringVar(&c.addr, "addr", "127.0.0.1:8083", "loopback address to serve the Step Functions API on")
	flags.StringVar(&c.lambda, "lambda", "http://127.0.0.1:3001", "Lambda Invoke endpoint (sam local start-lambda)")
	flags.StringVar(&c.stateMachineARN, "state-machine-arn", "arn:aws:states:us-east-1:123456789012:stateMachine:servicecontacts-local-contact-change", "ARN the state machine answers to (STATE_MACHINE_ARN in infra/events/env.json)")
	// sam local start-lambda names functions by their template.yaml logical ids.
	flags.StringVar(&c.await, "await", "AwaitFunction", "function name of the await step")
	flags.StringVar(&c.apply, "apply", "ApplyFunction", "function name of the apply step")
	flags.StringVar(&c.finish, "finish", "FinishFunction", "function name of the finish step")
	flags.StringVar(&c.reconcile, "reconcile", "ReconcileFunction", "function name of the reconciler")
	if err := flags.Parse(args); err != nil {
		return config{}, err
	}
	if flags.NArg() > 0 {
		return config{}, fmt.Errorf("unexpected arguments %q", flags.Args())
	}
	if err := checkLoopback(c.addr); err != nil {
		return config{}, fmt.Errorf("-addr: %w", err)
	}
	if u, err := url.Parse(c.lambda); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return config{}, fmt.Errorf("-lambda: %q is not an http:// or https:// URL", c.lambda)
	}
	for flag, name := range map[string]string{"await": c.await, "apply": c.apply, "finish": c.finish, "reconcile": c.reconcile} {
		if name == "" {
			return config{}, fmt.Errorf("-%s: a function name is needed", flag)
		}
	}
	return c, nil
}

// checkLoopback refuses an address other hosts could reach: the API has no authentication.
func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%q is not host:port: %w", addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("%q is not a loopback address, like 127.0.0.1:8083", addr)
	}
	return nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c, err := parse(args, stderr)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewJSONHandler(stderr, nil))
	// A function runs at most 15 minutes on Lambda; the client waits no longer.
	client := &http.Client{Timeout: 15 * time.Minute}
	exec, err := newExecutor(c, client, log)
	if err != nil {
		return err
	}
	defer func() { _ = exec.Close() }() // aborts what still runs, and waits for the reconciler

	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", c.addr, err)
	}
	srv := &http.Server{Handler: route(stepfunctions.New(exec, log), eventbridge.New(log)), ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	if _, err := fmt.Fprintf(stdout, "awslocal listening on http://%s\n", ln.Addr()); err != nil {
		_ = srv.Close()
		return fmt.Errorf("write to stdout: %w", err)
	}
	log.Info("serving the Step Functions API", "addr", ln.Addr().String(), "lambda", c.lambda, "stateMachineArn", c.stateMachineARN)

	select {
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		return fmt.Errorf("shut down: %w", err)
	}
	log.Info("stopped")
	return nil
}

// route sends EventBridge's calls (AWS JSON 1.1, X-Amz-Target AWSEvents.*) and GET /events
// to bus, and every other request to the Step Functions API, which answers those it does not
// know as Step Functions does.
func route(sfn http.Handler, bus *eventbridge.Bus) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.Header.Get("X-Amz-Target"), "AWSEvents.") || (r.Method == http.MethodGet && r.URL.Path == "/events") {
			bus.ServeHTTP(w, r)
			return
		}
		sfn.ServeHTTP(w, r)
	})
}

// newExecutor loads the deployed definition with the functions' names for their ARNs, as
// SAM's DefinitionSubstitutions give them, and invokes them over the Lambda endpoint.
func newExecutor(c config, client *http.Client, log *slog.Logger) (*asl.Executor, error) {
	machine, err := asl.Load(statemachine.Definition, map[string]string{
		"Partition":         "aws",
		"AwaitFunctionArn":  c.await,
		"ApplyFunctionArn":  c.apply,
		"FinishFunctionArn": c.finish,
	})
	if err != nil {
		return nil, fmt.Errorf("load state machine: %w", err)
	}
	functions := map[string]asl.Function{}
	for _, name := range []string{c.await, c.apply, c.finish} {
		functions[name] = stepfunctions.Invoker(client, c.lambda, name)
	}
	reconcile := stepfunctions.Invoker(client, c.lambda, c.reconcile)
	onEnd := func(name string, status types.ExecutionStatus) {
		if status == types.ExecutionStatusSucceeded {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		event := stepfunctions.StatusChangeEvent(c.stateMachineARN, name, status, time.Now())
		if _, err := reconcile(ctx, event); err != nil {
			log.Error("reconcile failed", "execution", name, "status", string(status), "err", err)
			return
		}
		log.Info("execution reconciled", "execution", name, "status", string(status))
	}
	exec, err := asl.New(machine, functions, asl.WithStateMachineARN(c.stateMachineARN), asl.WithLogger(log), asl.OnExecutionEnd(onEnd))
	if err != nil {
		return nil, fmt.Errorf("build executor: %w", err)
	}
	return exec, nil
}
