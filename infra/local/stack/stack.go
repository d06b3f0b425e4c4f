// Package stack assembles the whole system in one process for `make run` and the end-to-end
// tests: the same handlers behind a router that plays API Gateway and its JWT authorizer, the
// same store code on an embedded DynamoDB-compatible backend, the same state machine
// definition run by an in-process executor, a mail catcher instead of SES (it bounces mail
// to bounce.test addresses, as SES reports a bounce), and an event log instead of the
// EventBridge bus.
package stack

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/servicecontacts/servicecontacts/infra/local/asl"
	"github.com/servicecontacts/servicecontacts/infra/local/eventlog"
	"github.com/servicecontacts/servicecontacts/infra/local/gateway"
	"github.com/servicecontacts/servicecontacts/infra/local/mailbox"
	"github.com/servicecontacts/servicecontacts/infra/local/stepfunctions"
	"github.com/servicecontacts/servicecontacts/infra/statemachine"
	"github.com/servicecontacts/servicecontacts/shared/api"
	"github.com/servicecontacts/servicecontacts/shared/bounce"
	"github.com/servicecontacts/servicecontacts/shared/config"
	"github.com/servicecontacts/servicecontacts/shared/contact"
	"github.com/servicecontacts/servicecontacts/shared/mail"
	"github.com/servicecontacts/servicecontacts/shared/step"
	"github.com/servicecontacts/servicecontacts/shared/store"
	"github.com/servicecontacts/servicecontacts/shared/store/embedded"
	"github.com/servicecontacts/servicecontacts/shared/workflow"
	"github.com/servicecontacts/servicecontacts/web"
)

// The names the local stack gives what SAM names on AWS.
const (
	stateMachineARN = "arn:aws:states:us-east-1:000000000000:stateMachine:contact-change"
	functionARN     = "arn:aws:lambda:us-east-1:000000000000:function:"
)

// Options configure a Stack. Zero values take the defaults of `make run`.
type Options struct {
	Seed          store.Seed
	JWTSecret     []byte
	PublicBaseURL string // where emailed links point, e.g. http://127.0.0.1:3000
	Expiry        time.Duration
	Logger        *slog.Logger
	// WrapStep, when set, wraps each state machine step function ("await", "apply",
	// "finish"); tests use it to hold a step back and provoke races.
	WrapStep func(name string, f asl.Function) asl.Function
	// DynamoDB, when set, is the backend the store runs on (DynamoDB Local in tests); its
	// tables are created under TablePrefix. Nil means the embedded backend.
	DynamoDB    store.API
	TablePrefix string
	// Sender, when set, sends the emails (SES in tests) instead of the mail catcher.
	Sender mail.Sender
	// WrapWorkflow, when set, wraps the Step Functions API the domain calls; tests use it
	// to lose or fail calls.
	WrapWorkflow func(workflow.API) workflow.API
	// SweepEvery is how often the reconciler sweeps the due requests, as the EventBridge
	// Scheduler's schedule does on AWS (DefaultSweepEvery when zero).
	SweepEvery time.Duration
	// StartGrace, ApplyGrace and OwnerWindow are the reconciler's patience (the domain's
	// defaults when zero).
	StartGrace, ApplyGrace, OwnerWindow time.Duration
	// IdentityClaim is the JWT claim holding the caller's NIC handle ("sub" when empty).
	IdentityClaim string
	// CORSOrigins are the browser origins allowed to call the API.
	CORSOrigins []string
	// OIDCIssuer, when set, is an OpenID Connect issuer whose tokens the customers' routes
	// accept besides the local ones, and the console signs in with it (authorization code
	// with PKCE) as the client OIDCClientID, the tokens' audience.
	OIDCIssuer, OIDCClientID string
	// CreationLimit, EmailLimit and WrongTokenLimit are the abuse limits (the domain's
	// defaults where zero).
	CreationLimit, EmailLimit, WrongTokenLimit contact.Limit
}

// DefaultSweepEvery is the local reconciler's period.
const DefaultSweepEvery = 5 * time.Second

// Stack is the running system.
type Stack struct {
	Handler  http.Handler
	Mail     *mailbox.Box
	Events   *eventlog.Log
	Store    *store.Store
	Executor *asl.Executor
	Manager  *contact.Manager

	stopSweeps func()
}

// New builds and seeds a stack. Close stops its workflows.
func New(ctx context.Context, opts Options) (*Stack, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.NewJSONHandler(os.Stderr, nil))
	}
	log = slog.New(requestIDHandler{log.Handler()})

	db := opts.DynamoDB
	if db == nil {
		db = embedded.New()
	}
	tables := store.Tables{Contacts: opts.TablePrefix + "contacts", Requests: opts.TablePrefix + "requests"}
	created, err := store.EnsureTables(ctx, db, tables)
	if err != nil {
		return nil, fmt.Errorf("create tables: %w", err)
	}
	st := store.New(db, tables)
	// Tables kept from an earlier run keep what it left in them: the seed fills new ones.
	if created {
		if err := st.Load(ctx, opts.Seed); err != nil {
			return nil, fmt.Errorf("load seed: %w", err)
		}
	} else {
		log.Info("tables found: the seed is not loaded again", "contacts", tables.Contacts, "requests", tables.Requests)
	}

	box := mailbox.New(mailbox.WithLogger(log))
	var sender mail.Sender = box
	if opts.Sender != nil {
		sender = opts.Sender
	}
	machine, err := asl.Load(statemachine.Definition, map[string]string{
		"Partition":         "aws",
		"AwaitFunctionArn":  functionARN + "await",
		"ApplyFunctionArn":  functionARN + "apply",
		"FinishFunctionArn": functionARN + "finish",
	})
	if err != nil {
		return nil, fmt.Errorf("load state machine: %w", err)
	}

	// The steps call the managers, which start executions on the executor: the executor's
	// functions reach their managers through steps, set once both exist.
	var steps map[string]*step.Handler // by function
	functions := map[string]asl.Function{}
	for name, handler := range map[string]any{
		"await": func(ctx context.Context, in step.AwaitInput) (step.Result, error) {
			return steps["await"].Await(ctx, in)
		},
		"apply": func(ctx context.Context, in step.ApplyInput) (step.Result, error) {
			return steps["apply"].Apply(ctx, in)
		},
		"finish": func(ctx context.Context, in step.FinishInput) (step.Result, error) {
			return steps["finish"].Finish(ctx, in)
		},
	} {
		f := invoker(handler)
		if opts.WrapStep != nil {
			f = opts.WrapStep(name, f)
		}
		functions[functionARN+name] = f
	}
	// An execution that ends otherwise than by succeeding is reconciled, as the EventBridge
	// rule on the state machine's status changes has it on AWS.
	exec, err := asl.New(machine, functions, asl.WithStateMachineARN(stateMachineARN), asl.WithLogger(log),
		asl.OnExecutionEnd(func(name string, status sfntypes.ExecutionStatus) {
			if status != sfntypes.ExecutionStatusSucceeded {
				reconcileExecution(steps["reconcile"], name, status)
			}
		}))
	if err != nil {
		return nil, fmt.Errorf("start state machine executor: %w", err)
	}

	var sfn workflow.API = exec
	if opts.WrapWorkflow != nil {
		sfn = opts.WrapWorkflow(exec)
	}
	events := eventlog.New()
	all := contact.Config{
		Store:       st,
		Workflow:    workflow.New(sfn, stateMachineARN, nil),
		Notifier:    mail.NewNotifier(sender, opts.PublicBaseURL),
		Publisher:   events,
		Logger:      log,
		Expiry:      opts.Expiry,
		StartGrace:  opts.StartGrace,
		ApplyGrace:  opts.ApplyGrace,
		OwnerWindow: opts.OwnerWindow,

		CreationLimit:   opts.CreationLimit,
		EmailLimit:      opts.EmailLimit,
		WrongTokenLimit: opts.WrongTokenLimit,
	}
	// Each function is given the adapters it is given on AWS (config.Ports), so that the
	// stack's tests fail where a function lacks one it calls. Manager, for the tests to
	// call the domain directly, has them all.
	managerOf := func(function string) *contact.Manager {
		c := all
		if !config.Has(function, config.Workflow) {
			c.Workflow = nil
		}
		if !config.Has(function, config.Mail) {
			c.Notifier = nil
		}
		if !config.Has(function, config.Events) {
			c.Publisher = nil
		}
		return contact.New(c)
	}
	mgr := contact.New(all)
	steps = map[string]*step.Handler{}
	for _, fn := range []string{"await", "apply", "finish", "reconcile"} {
		steps[fn] = step.New(managerOf(fn), log)
	}
	stopSweeps := sweep(steps["reconcile"], cmp.Or(opts.SweepEvery, DefaultSweepEvery))

	// The mail catcher hands its bounces to the bounce function, as the EventBridge rule on
	// SES's events does on AWS.
	bounces := invoker(bounce.New(managerOf("bounce"), log).Handle)
	box.OnBounce(func(ctx context.Context, event json.RawMessage) error {
		_, err := bounces(ctx, event)
		return err
	})

	handlers := map[string]gateway.Function{}
	for _, fn := range []string{api.FunctionList, api.FunctionRequest, api.FunctionConfirm, api.FunctionResend, api.FunctionOperator} {
		handlers[fn] = withLambdaContext(api.New(fn, managerOf(fn), api.Options{Logger: log, IdentityClaim: opts.IdentityClaim}).Handle)
	}
	local := http.NewServeMux()
	local.Handle("/_local/events", events)
	devSignIn{
		accounts: opts.Seed.Accounts, store: st, secret: opts.JWTSecret,
		claim: cmp.Or(opts.IdentityClaim, gateway.DefaultIdentityClaim), now: time.Now,
	}.register(local)
	local.Handle("/", box)
	console := web.Config{Issuer: opts.OIDCIssuer, ClientID: opts.OIDCClientID}
	var issuer *gateway.Issuer
	if opts.OIDCIssuer != "" || opts.OIDCClientID != "" {
		issuer = &gateway.Issuer{URL: opts.OIDCIssuer, Audience: opts.OIDCClientID}
	}
	gw, err := gateway.New(api.Routes, handlers, gateway.Options{
		Secret:        opts.JWTSecret,
		Logger:        log,
		Fallback:      local,
		IdentityClaim: opts.IdentityClaim,
		CORSOrigins:   opts.CORSOrigins,
		Issuer:        issuer,
		Site:          web.Handler(console),
		IsSite:        web.Serves,
	})
	if err != nil {
		return nil, fmt.Errorf("build gateway: %w", err)
	}
	return &Stack{Handler: gw, Mail: box, Events: events, Store: st, Executor: exec, Manager: mgr, stopSweeps: stopSweeps}, nil
}

// Close stops the reconciler and the running workflows.
func (s *Stack) Close() {
	s.stopSweeps()
	_ = s.Executor.Close()
}

// sweep runs the reconciler's sweep every period, through its Lambda handler, until the
// returned function is called; that function waits for a sweep under way.
func sweep(steps *step.Handler, every time.Duration) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	handler := invoker(steps.Reconcile)
	go func() {
		defer close(done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				_, _ = handler(ctx, json.RawMessage(`{"source":"local.scheduler"}`)) // logged by the handler
			}
		}
	}()
	return func() {
		cancel()
		<-done
	}
}

// reconcileExecution hands the reconciler an execution's end, in the shape of EventBridge's
// event.
func reconcileExecution(steps *step.Handler, name string, status sfntypes.ExecutionStatus) {
	ev := stepfunctions.StatusChangeEvent(stateMachineARN, name, status, time.Now())
	_, _ = invoker(steps.Reconcile)(context.Background(), ev) // logged by the handler
}

// invoker runs a step through aws-lambda-go's own handler, as Lambda would: JSON in, JSON
// out, and a returned error keeps its Go type for the executor to name. A handler serves one
// call at a time (Lambda runs one per environment), so each call gets its own.
func invoker(handler any) asl.Function {
	return func(ctx context.Context, payload json.RawMessage) (json.RawMessage, error) {
		ctx = lambdacontext.NewContext(ctx, &lambdacontext.LambdaContext{AwsRequestID: newRequestID()})
		out, err := lambda.NewHandler(handler).Invoke(ctx, payload)
		if err != nil {
			return nil, err
		}
		return bytes.Clone(out), nil
	}
}
