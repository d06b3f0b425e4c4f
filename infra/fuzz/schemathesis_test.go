package fuzz_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/servicecontacts/servicecontacts/infra/local/gateway"
	"github.com/servicecontacts/servicecontacts/infra/local/stack"
	"github.com/servicecontacts/servicecontacts/infra/local/stack/stacktest"
	"github.com/servicecontacts/servicecontacts/shared/store"
	"github.com/servicecontacts/servicecontacts/shared/store/storetest"
)

// The variables the test reads.
const (
	// toolVariable names the schemathesis executable; without it the test skips, and with
	// it a missing executable is a failure.
	toolVariable = "SCHEMATHESIS"
	// seedVariable sets the seed ("random" for a fresh one each run); fixedSeed otherwise.
	seedVariable = "FUZZ_SEED"
	// examplesVariable sets the examples generated per operation and phase; defaultExamples
	// otherwise.
	examplesVariable = "FUZZ_EXAMPLES"
)

const (
	fixedSeed       = 20261202
	defaultExamples = 150
	// minCases is the fewest cases a run must generate on each backend, checked so that a
	// run that tested little cannot pass unnoticed.
	minCases = 3000
	// maxLogLine bounds every line the stack logs while it is fuzzed: no input may be
	// written whole into a log line.
	maxLogLine = 2048
)

// The identities the fuzzer calls with: the demo seed's admin of example.com, and an operator.
const (
	customer = "xx11111-ovh"
	operator = "fuzz-operator"
)

var secret = []byte("fuzz-secret")

// checks are the Schemathesis checks every response must pass.
var checks = []string{
	"not_a_server_error",
	"status_code_conformance",
	"content_type_conformance",
	"response_schema_conformance",
	"response_headers_conformance",
	"negative_data_rejection",
}

// backends are the two backends the store runs on: the embedded one of `make run`, and
// DynamoDB Local, which `make test` starts (its run skips, saying so, without it).
var backends = []struct {
	name string
	opts func(t *testing.T) stack.Options
}{
	{"embedded", func(*testing.T) stack.Options { return stack.Options{} }},
	{"DynamoDBLocal", func(t *testing.T) stack.Options {
		b := make([]byte, 6)
		_, _ = rand.Read(b) // never fails
		return stack.Options{DynamoDB: storetest.DynamoDBLocal(t), TablePrefix: "fuzz-" + hex.EncodeToString(b) + "-"}
	}},
}

func TestSchemathesis(t *testing.T) {
	tool := os.Getenv(toolVariable)
	if tool == "" {
		t.Skipf("%s is not set: `make schemathesis` installs Schemathesis into .venv, and `make test` runs this test with %s=.venv/bin/schemathesis", toolVariable, toolVariable)
	}
	if _, err := exec.LookPath(tool); err != nil {
		t.Fatalf("%s=%s: %v (`make schemathesis` installs it)", toolVariable, tool, err)
	}
	seed := fixedSeed
	if s := os.Getenv(seedVariable); s == "random" {
		seed = int(time.Now().UnixNano() % 1_000_000_000)
	} else if s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			t.Fatalf("%s=%q: not a number nor \"random\"", seedVariable, s)
		}
		seed = n
	}
	examples := defaultExamples
	if s := os.Getenv(examplesVariable); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("%s=%q: not a positive number", examplesVariable, s)
		}
		examples = n
	}
	seedFile, err := filepath.Abs("../local/seed.json")
	if err != nil {
		t.Fatal(err)
	}
	document, err := filepath.Abs("../../api/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			opts := b.opts(t)
			opts.Seed = demoSeed(t, seedFile)
			opts.JWTSecret = secret
			logs := &stacktest.LongestLine{}
			opts.Logger = slog.New(slog.NewJSONHandler(logs, nil))
			site := stacktest.Start(t, opts)

			start := time.Now()
			out, err := fuzz(t, tool, document, site.URL, seed, examples)
			elapsed := time.Since(start).Round(time.Second)
			cases, summary := testCases(out)
			longest, line := logs.Longest()
			t.Logf("%s: %d cases in %s, seed %d, %d examples per operation, longest log line %d bytes: %s", b.name, cases, elapsed, seed, examples, longest, summary)
			if err != nil {
				t.Fatalf("schemathesis: %v\n%s", err, out)
			}
			if examples >= defaultExamples && cases < minCases {
				t.Errorf("%d cases generated, want at least %d", cases, minCases)
			}
			if longest > maxLogLine {
				t.Errorf("the stack logged a line of %d bytes, over %d: %.300s…", longest, maxLogLine, line)
			}
		})
	}
}

// fuzz runs Schemathesis against the stack at url and returns what it printed.
func fuzz(t *testing.T, tool, document, url string, seed, examples int) (string, error) {
	t.Helper()
	dir := t.TempDir()
	config := filepath.Join(dir, "schemathesis.toml")
	if err := os.WriteFile(config, []byte(configuration(url, seed, examples)), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if deadline, ok := t.Deadline(); ok {
		// Stop in time to report, rather than let the test binary's timeout kill it all.
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, deadline.Add(-30*time.Second))
		defer cancel()
	}
	cmd := exec.CommandContext(ctx, tool, "--no-color", "--config-file", config, "run", document)
	cmd.Dir = dir // reports and caches stay in the temporary folder
	cmd.Env = append(os.Environ(),
		"ST_CUSTOMER_TOKEN="+sign(t, map[string]any{"sub": customer}),
		"ST_OPERATOR_TOKEN="+sign(t, map[string]any{gateway.OperatorClaim: operator}),
	)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// configuration is the Schemathesis configuration of a run: every phase, the stateful one
// included, over every operation, with the checks above only, one worker and a fixed seed,
// so that a run is repeatable, and nothing kept between runs.
func configuration(url string, seed, examples int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "base-url = %q\nseed = %d\ncontinue-on-failure = true\nworkers = 1\nrequest-timeout = 30\n\n", url, seed)
	fmt.Fprintf(&b, "[generation]\nmax-examples = %d\ndatabase = \"none\"\n\n", examples)
	b.WriteString("[cache]\nenabled = false\n\n")
	b.WriteString("[phases.stateful]\nenabled = true\n\n")
	// Each kind of route gets its kind of credentials: the customers' JWT, and the token
	// the local gateway takes for an IAM-signed call.
	b.WriteString("[auth.openapi.bearerAuth]\nbearer = \"${ST_CUSTOMER_TOKEN}\"\n\n")
	b.WriteString("[auth.openapi.sigv4]\napi_key = \"Bearer ${ST_OPERATOR_TOKEN}\"\n\n")
	b.WriteString("[checks]\nenabled = false\n")
	for _, c := range checks {
		fmt.Fprintf(&b, "%s.enabled = true\n", c)
	}
	return b.String()
}

// sign returns a token the stack takes, valid for the length of a run.
func sign(t *testing.T, claims map[string]any) string {
	t.Helper()
	claims["exp"] = time.Now().Add(2 * time.Hour).Unix()
	tok, err := gateway.Sign(secret, claims)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// demoSeed is the seed `make run` loads.
func demoSeed(t *testing.T, path string) store.Seed {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s, err := store.ReadSeed(f)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return s
}

var casesLine = regexp.MustCompile(`(?m)^\s*(\d+) generated, (.*)$`)

// testCases reads the number of cases from Schemathesis's summary, and the rest of its line.
func testCases(out string) (int, string) {
	m := casesLine.FindStringSubmatch(out)
	if m == nil {
		return 0, "no summary"
	}
	n, _ := strconv.Atoi(m[1])
	return n, strings.TrimSpace(m[0])
}
