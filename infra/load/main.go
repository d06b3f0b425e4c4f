// Command load loads accounts and services into the contacts table from a JSON Lines file,
// for a first deployment, through the store (see store.BulkLoad for the format and its
// checks). It shows its progress on stderr, then prints a summary with every rejected line,
// and exits 1 when any line was rejected.
//
//	CONTACTS_TABLE=name [DYNAMODB_ENDPOINT=http://127.0.0.1:8000] go run ./infra/load [-create-tables] FILE
//	go run ./infra/load -generate 100000 > services.jsonl
//
// FILE "-" is stdin. Without DYNAMODB_ENDPOINT the command reaches DynamoDB with the usual
// AWS configuration (AWS_PROFILE, AWS_REGION, ...). With it, e.g. a DynamoDB Local, it signs
// with AWS_ACCESS_KEY_ID and AWS_REGION when set, else "local" and us-east-1: DynamoDB Local
// keeps one set of tables per key and region unless it runs with -sharedDb.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/servicecontacts/servicecontacts/infra/database"
	"github.com/servicecontacts/servicecontacts/shared/store"
)

// The environment the command reads.
const (
	contactsTable = "CONTACTS_TABLE"
	requestsTable = "REQUESTS_TABLE" // only to create the tables
	endpoint      = database.EndpointVariable
)

// Exit statuses.
const (
	exitOK       = 0
	exitRejected = 1 // some lines were rejected, or the load failed
	exitUsage    = 2
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Getenv, dial, os.Stdin, os.Stdout, os.Stderr))
}

// dialer connects to DynamoDB as the environment says.
type dialer func(ctx context.Context, getenv func(string) string) (store.API, error)

func dial(ctx context.Context, getenv func(string) string) (store.API, error) {
	return database.Dial(ctx, getenv)
}

func run(ctx context.Context, args []string, getenv func(string) string, dial dialer, stdin io.Reader, stdout, stderr io.Writer) int {
	flags := flag.NewFlagSet("load", flag.ContinueOnError)
	flags.SetOutput(stderr)
	flags.Usage = func() {
		fmt.Fprintf(stderr, "usage: %s=name [%s=url] load [-create-tables] FILE\n       load -generate N > FILE\n", contactsTable, endpoint)
		flags.PrintDefaults()
	}
	create := flags.Bool("create-tables", false, "create the contacts and requests tables ("+requestsTable+") first if they are missing; for DynamoDB Local")
	generate := flags.Int("generate", 0, "write N services and their accounts as JSON Lines to stdout, and load nothing")
	if err := flags.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if *generate > 0 {
		if flags.NArg() > 0 {
			return usage(stderr, "-generate takes no FILE")
		}
		w := bufio.NewWriter(stdout)
		if err := generateLines(w, *generate); err != nil {
			return fail(stderr, err)
		}
		if err := w.Flush(); err != nil {
			return fail(stderr, err)
		}
		return exitOK
	}
	if flags.NArg() != 1 {
		return usage(stderr, "name one FILE, or - for stdin")
	}
	tables := store.Tables{Contacts: getenv(contactsTable), Requests: getenv(requestsTable)}
	if tables.Contacts == "" {
		return usage(stderr, contactsTable+" is not set")
	}
	if *create && tables.Requests == "" {
		return usage(stderr, "-create-tables needs "+requestsTable+" too")
	}

	in := stdin
	if name := flags.Arg(0); name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return fail(stderr, err)
		}
		defer f.Close()
		in = f
	}
	api, err := dial(ctx, getenv)
	if err != nil {
		return fail(stderr, err)
	}
	if *create {
		if err := createTables(ctx, api, tables, stderr); err != nil {
			return fail(stderr, err)
		}
	}

	start := time.Now()
	p := &progress{w: stderr, now: time.Now, start: start}
	sum, err := store.New(api, tables).BulkLoad(ctx, in, p.show)
	printSummary(stdout, sum, time.Since(start))
	if err != nil {
		return fail(stderr, err)
	}
	if len(sum.Rejected) > 0 {
		return exitRejected
	}
	return exitOK
}

func usage(stderr io.Writer, problem string) int {
	fmt.Fprintf(stderr, "load: %s\nusage: %s=name [%s=url] load [-create-tables] FILE\n", problem, contactsTable, endpoint)
	return exitUsage
}

func fail(stderr io.Writer, err error) int {
	fmt.Fprintln(stderr, "load:", err)
	return exitRejected
}

// createTables creates the tables unless the contacts table exists.
func createTables(ctx context.Context, api store.API, tables store.Tables, stderr io.Writer) error {
	_, err := api.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(tables.Contacts)})
	var missing *types.ResourceNotFoundException
	switch {
	case err == nil:
		fmt.Fprintf(stderr, "table %s exists\n", tables.Contacts)
		return nil
	case !errors.As(err, &missing):
		return fmt.Errorf("describe table %s: %w", tables.Contacts, err)
	}
	if err := store.CreateTables(ctx, api, tables); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "created tables %s and %s\n", tables.Contacts, tables.Requests)
	return nil
}

// progress prints a load's progress at most once a second, so that short loads print none.
type progress struct {
	w     io.Writer
	now   func() time.Time
	start time.Time
	last  time.Time // when it last printed; zero before
}

func (p *progress) show(b store.BulkProgress) {
	now := p.now()
	since := p.last
	if since.IsZero() {
		since = p.start
	}
	if now.Sub(since) < time.Second {
		return
	}
	p.last = now
	fmt.Fprintf(p.w, "%d lines read: %d loaded, %d unchanged, %d rejected (%s lines/s)\n",
		b.Lines, b.Loaded, b.Unchanged, b.Rejected, rate(b.Lines, now.Sub(p.start)))
}

func rate(n int, d time.Duration) string {
	if d <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f", float64(n)/d.Seconds())
}

func printSummary(w io.Writer, sum store.BulkSummary, took time.Duration) {
	fmt.Fprintf(w, "%d lines in %s (%s lines/s): %d loaded, %d unchanged, %d rejected\n",
		sum.Lines, took.Round(time.Millisecond), rate(sum.Lines, took), sum.Loaded, sum.Unchanged, len(sum.Rejected))
	for _, r := range sum.Rejected {
		fmt.Fprintf(w, "line %d: %s\n", r.Line, r.Reason)
	}
}

// generateLines writes n services and the accounts they need, each account before the first
// service it holds: every service has an admin of its own, and shares its tech and billing
// contacts with 99 others.
func generateLines(w io.Writer, n int) error {
	languages := []string{"en", "fr", "it"}
	account := func(nic string, i int) error {
		_, err := fmt.Fprintf(w, `{"account": {"nic": %q, "email": "%s@example.com", "language": %q, "goodStanding": %t}}`+"\n",
			nic, nic, languages[i%len(languages)], i%50 != 0)
		return err
	}
	for i := range n {
		admin, tech, billing := fmt.Sprintf("ad%06d-ovh", i), fmt.Sprintf("te%06d-ovh", i/100), fmt.Sprintf("bi%06d-ovh", i/100)
		if i%100 == 0 {
			if err := account(tech, i); err != nil {
				return err
			}
			if err := account(billing, i); err != nil {
				return err
			}
		}
		if err := account(admin, i); err != nil {
			return err
		}
		if _, err := fmt.Fprintf(w, `{"service": {"id": "svc-%06d.example.com", "type": "domain", "admin": %q, "tech": %q, "billing": %q}}`+"\n",
			i, admin, tech, billing); err != nil {
			return err
		}
	}
	return nil
}
