package coldstart_test

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/servicecontacts/servicecontacts/infra/coldstart"
	"github.com/servicecontacts/servicecontacts/shared/config"
)

// root is the module's root, where the builds run.
const root = "../.."

// packages are the baselines and every function, by name.
func packages(t testing.TB) map[string]string {
	entries, err := os.ReadDir(root + "/functions")
	if err != nil {
		t.Fatal(err)
	}
	pkgs := map[string]string{"hello": coldstart.Hello, "sdk": coldstart.SDK}
	for _, e := range entries {
		if e.IsDir() {
			pkgs[e.Name()] = "./functions/" + e.Name()
		}
	}
	return pkgs
}

// baselines are the packages that are not functions, in the order they are printed.
var baselines = []string{"hello", "sdk"}

// names are the packages' names, the baselines first, then the functions in order.
func names(pkgs map[string]string) []string {
	var out []string
	for name := range pkgs {
		if !slices.Contains(baselines, name) {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return append(slices.Clone(baselines), out...)
}

type binary struct {
	path string
	size int64
}

// build builds every package for goarch into dir, in parallel.
func build(t testing.TB, dir, goarch string) map[string]binary {
	pkgs := packages(t)
	var (
		mu   sync.Mutex
		out  = map[string]binary{}
		errs []error
		wg   sync.WaitGroup
	)
	for name, pkg := range pkgs {
		wg.Go(func() {
			path, size, err := coldstart.Build(context.Background(), root, dir, pkg, goarch)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			out[name] = binary{path, size}
		})
	}
	wg.Wait()
	for _, err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		t.FailNow()
	}
	return out
}

// maxSizeRatio bounds every bootstrap's size against hello's. A function that links what it
// does not use (a client of a port it is not given, another function's endpoints,
// text/template's reflection, an SDK client that builds its whole API's schemas) grows
// past it: request did, to 1.63×, with every function's endpoints.
const maxSizeRatio = 1.6

// TestBootstrapSize builds every function as it is deployed (arm64, release flags) and holds
// it to maxSizeRatio.
func TestBootstrapSize(t *testing.T) {
	if testing.Short() {
		t.Skip("builds every function for arm64")
	}
	bins := build(t, t.TempDir(), "arm64")
	hello := bins["hello"].size
	for _, name := range names(packages(t))[len(baselines):] {
		size := bins[name].size
		ratio := float64(size) / float64(hello)
		t.Logf("%-10s %10d B  %.2f× hello", name, size, ratio)
		if ratio > maxSizeRatio {
			t.Errorf("%s is %d B, %.2f× hello's %d B; want at most %.2f×", name, size, ratio, hello, maxSizeRatio)
		}
	}
}

// env is what each function is started with: Lambda's variables, and a valid value of
// every setting it reads. Nothing is called at init: the clients connect on first use.
func env(function string) []string {
	values := map[string]string{
		config.ContactsTable:        "contacts",
		config.RequestsTable:        "requests",
		config.StateMachineARN:      "arn:aws:states:eu-west-3:123456789012:stateMachine:contact-change",
		config.MailFrom:             "no-reply@contacts.example.com",
		config.MailConfigurationSet: "contacts",
		config.PublicBaseURL:        "https://contacts.example.com",
		config.RequestExpiry:        "336h",
		config.EventBusName:         "contacts",
		config.IdentityClaim:        "sub",
	}
	out := []string{
		"AWS_REGION=eu-west-3", "AWS_ACCESS_KEY_ID=AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY=secret",
		"AWS_LAMBDA_FUNCTION_NAME=" + function, "AWS_LAMBDA_LOG_FORMAT=JSON", "PATH=/usr/bin:/bin",
	}
	for _, name := range config.Required[function] {
		out = append(out, name+"="+values[name])
	}
	return out
}

var (
	benchOnce sync.Once
	benchBins map[string]binary // for this machine's architecture, to run
	benchArm  map[string]binary // as deployed, to weigh
	benchDir  string

	lastReport string // of the last run of BenchmarkColdStart
)

// BenchmarkColdStart prints each bootstrap's size as deployed (arm64) and its ratio to
// hello's, then starts every function and baseline b.N times, interleaved (each round in
// another order), under a Runtime API stand-in, and prints the min, median and max of exec
// → first GET /next, with the median's ratio to hello's and to sdk's. The runs use this
// machine's architecture, built with the same flags. `make bench-coldstart` runs it.
func BenchmarkColdStart(b *testing.B) {
	benchOnce.Do(func() {
		dir, err := os.MkdirTemp("", "coldstart-")
		if err != nil {
			b.Fatal(err)
		}
		benchDir = dir
		benchArm = build(b, dir, "arm64")
		benchBins = build(b, dir, runtime.GOARCH)
		if runtime.GOARCH == "arm64" {
			benchBins = benchArm
		}
	})
	api, err := coldstart.NewRuntimeAPI()
	if err != nil {
		b.Fatal(err)
	}
	defer api.Close()

	order := names(packages(b))
	times := map[string][]time.Duration{}
	b.ResetTimer()
	for round := range b.N {
		for i := range order {
			name := order[(i+round)%len(order)]
			d, err := api.Init(benchBins[name].path, env(name), 10*time.Second)
			if err != nil {
				b.Fatal(err)
			}
			times[name] = append(times[name], d)
		}
	}
	b.StopTimer()

	hello, sdk := median(times["hello"]), median(times["sdk"])
	var report strings.Builder
	fmt.Fprintf(&report, "\nsizes as deployed (arm64); init, exec to first GET /next, over %d interleaved runs (%s)\n", b.N, runtime.GOARCH)
	fmt.Fprintf(&report, "%-10s %11s %7s %9s %9s %9s %7s %7s\n", "function", "size", "×hello", "min", "median", "max", "×hello", "×sdk")
	for _, name := range order {
		ts, size := times[name], benchArm[name].size
		fmt.Fprintf(&report, "%-10s %11d %6.2f× %9s %9s %9s %6.2f× %6.2f×\n", name, size, float64(size)/float64(benchArm["hello"].size),
			ms(slices.Min(ts)), ms(median(ts)), ms(slices.Max(ts)), float64(median(ts))/float64(hello), float64(median(ts))/float64(sdk))
		b.ReportMetric(float64(median(ts).Microseconds())/1000, name+"-init-ms")
	}
	lastReport = report.String() // printed once, by TestMain: a benchmark's log is cut at ten lines
}

func median(ts []time.Duration) time.Duration {
	s := slices.Clone(ts)
	slices.Sort(s)
	return s[len(s)/2]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2fms", float64(d.Microseconds())/1000) }

func TestMain(m *testing.M) {
	code := m.Run()
	if lastReport != "" {
		fmt.Print(lastReport)
	}
	if benchDir != "" {
		_ = os.RemoveAll(benchDir)
	}
	os.Exit(code)
}
