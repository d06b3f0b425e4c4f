package sam_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/servicecontacts/servicecontacts/infra/database"
	eventfiles "github.com/servicecontacts/servicecontacts/infra/events"
	"github.com/servicecontacts/servicecontacts/infra/samtemplate"
	"github.com/servicecontacts/servicecontacts/shared/api"
	"github.com/servicecontacts/servicecontacts/shared/contact"
	"github.com/servicecontacts/servicecontacts/shared/ses/sestest"
	"github.com/servicecontacts/servicecontacts/shared/store"
)

// local is what the test started: the SAM CLI's servers and the programs beside them.
type local struct {
	sam      string   // the SAM CLI
	root     string   // the repository
	template string   // the built template, for this machine's architecture
	envFile  string   // the functions' variables, pointing at the emulators on loopback
	env      []string // the SAM CLI's environment
	lambda   string   // sam local start-lambda's Lambda API
	front    string   // Step Functions and EventBridge (infra/sam/awslocal)
	db       *dynamodb.Client
	tables   store.Tables
}

// The functions' credentials and region: DynamoDB Local keeps one set of tables per key
// and region, so the test's own client signs as the functions do.
var credentials = []string{
	"AWS_ACCESS_KEY_ID=local", "AWS_SECRET_ACCESS_KEY=local", "AWS_REGION=us-east-1", "AWS_DEFAULT_REGION=us-east-1",
}

// The SAM CLI under Docker, end to end: every event of infra/events through `sam local
// invoke`, then a request confirmed through the emailed links that `sam local start-api`
// serves, its execution run by the Step Functions front with the steps invoked through
// `sam local start-lambda`, until the change is applied.
func TestSAMLocal(t *testing.T) {
	sam := os.Getenv("SAM")
	if sam == "" {
		t.Skip("SAM is not set: make sam-local runs this test, with Docker, DynamoDB Local and aws-ses-v2-local started")
	}
	for _, v := range []string{"DOCKER_HOST", database.EndpointVariable, "SES_ENDPOINT"} {
		if os.Getenv(v) == "" {
			t.Fatalf("%s is not set: run the test with make sam-local", v)
		}
	}
	l := setUp(t, sam)

	t.Run("invoke", func(t *testing.T) {
		files, err := filepath.Glob(filepath.Join(l.root, "infra/events/*.json"))
		if err != nil {
			t.Fatal(err)
		}
		for _, path := range files {
			file := filepath.Base(path)
			if file == "env.json" {
				continue
			}
			t.Run(strings.TrimSuffix(file, ".json"), func(t *testing.T) { l.invokeEvent(t, file) })
		}
	})
	t.Run("start-api", func(t *testing.T) { l.confirmThroughStartAPI(t) })
}

func setUp(t *testing.T, sam string) *local {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	l := &local{sam: sam, root: root, tables: store.Tables{Contacts: "contacts", Requests: "requests"}}

	// The two programs, built as a developer runs them.
	for _, prog := range []string{"hostdocker", "awslocal"} {
		if _, stderr, err := run(context.Background(), root, nil, 5*time.Minute, "go", "build", "-o", filepath.Join(tmp, prog), "./infra/sam/"+prog); err != nil {
			t.Fatalf("%v\n%s", err, stderr)
		}
	}
	socket := filepath.Join(tmp, "docker.sock")
	hostdocker := start(t, root, nil, filepath.Join(tmp, "hostdocker"), "-listen", socket, "-docker", os.Getenv("DOCKER_HOST"))
	hostdocker.waitOutput(t, "hostdocker listening", 30*time.Second)
	// SAM CLI asks STS for the account id at every start; with credentials set, that is a
	// call to AWS. It goes to a closed port on loopback instead, and fails at once.
	l.env = append([]string{
		"DOCKER_HOST=unix://" + socket, "SAM_CLI_TELEMETRY=0",
		fmt.Sprintf("AWS_ENDPOINT_URL_STS=http://127.0.0.1:%d", freePort(t)), "AWS_MAX_ATTEMPTS=1",
	}, credentials...)

	l.template = build(t, l, filepath.Join(tmp, "build"))

	db, err := database.Dial(context.Background(), func(k string) string {
		for _, kv := range credentials {
			if v, ok := strings.CutPrefix(kv, k+"="); ok {
				return v
			}
		}
		return os.Getenv(k)
	})
	if err != nil {
		t.Fatal(err)
	}
	l.db = db

	lambdaPort, frontPort, apiPort := freePort(t), freePort(t), freePort(t)
	l.lambda = fmt.Sprintf("http://127.0.0.1:%d", lambdaPort)
	l.front = fmt.Sprintf("http://127.0.0.1:%d", frontPort)
	l.envFile = writeEnv(t, filepath.Join(root, "infra/events/env.json"), filepath.Join(tmp, "env.json"), map[string]string{
		"AWS_ENDPOINT_URL_DYNAMODB":    os.Getenv(database.EndpointVariable),
		"AWS_ENDPOINT_URL_SESV2":       os.Getenv("SES_ENDPOINT"),
		"AWS_ENDPOINT_URL_SFN":         l.front,
		"AWS_ENDPOINT_URL_EVENTBRIDGE": l.front,
		"PUBLIC_BASE_URL":              fmt.Sprintf("http://127.0.0.1:%d", apiPort),
	})
	l.reset(t)

	startLambda := start(t, root, l.env, sam, "local", "start-lambda", "--host", "127.0.0.1", "--port", fmt.Sprint(lambdaPort),
		"--template", l.template, "--env-vars", l.envFile, "--skip-pull-image", "--warm-containers", "LAZY")
	startLambda.waitHTTP(t, l.lambda+"/", 2*time.Minute)
	front := start(t, root, credentials, filepath.Join(tmp, "awslocal"), "-addr", fmt.Sprintf("127.0.0.1:%d", frontPort), "-lambda", l.lambda)
	front.waitOutput(t, "awslocal listening", 30*time.Second)
	startAPI := start(t, root, l.env, sam, "local", "start-api", "--host", "127.0.0.1", "--port", fmt.Sprint(apiPort),
		"--template", l.template, "--env-vars", l.envFile, "--skip-pull-image", "--warm-containers", "LAZY")
	startAPI.waitHTTP(t, fmt.Sprintf("http://127.0.0.1:%d/", apiPort), 2*time.Minute)
	return l
}

// build runs `sam build` of template.yaml for this machine's architecture: the Makefile's
// recipes with LAMBDA_GOARCH=amd64, and the built template's Architectures set to match,
// so that the containers run without an emulator (see README, SAM CLI locally).
func build(t *testing.T, l *local, dir string) string {
	t.Helper()
	started := time.Now()
	_, stderr, err := run(context.Background(), l.root, append(slices.Clone(l.env), "LAMBDA_GOARCH=amd64"), 20*time.Minute,
		l.sam, "build", "--template", "template.yaml", "--build-dir", dir, "--build-in-source", "--parallel")
	if err != nil {
		t.Fatalf("%v\n%s", err, tail(stderr, 6000))
	}
	path := filepath.Join(dir, "template.yaml")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	const arm, x86 = "Architectures:\n    - arm64\n", "Architectures:\n    - x86_64\n"
	if n := bytes.Count(raw, []byte(arm)); n != 1 {
		t.Fatalf("the built template declares %d Globals architectures arm64, want 1", n)
	}
	if err := os.WriteFile(path, bytes.Replace(raw, []byte(arm), []byte(x86), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("sam build --template template.yaml --build-dir %s: %s, Architectures x86_64", dir, time.Since(started).Round(time.Second))
	return path
}

// writeEnv writes infra/events/env.json with the variables of set replaced where a
// function has them.
func writeEnv(t *testing.T, from, to string, set map[string]string) string {
	t.Helper()
	raw, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	var env map[string]map[string]string
	if err := json.Unmarshal(raw, &env); err != nil {
		t.Fatal(err)
	}
	for _, vars := range env {
		for k, v := range set {
			if _, ok := vars[k]; ok {
				vars[k] = v
			}
		}
	}
	out, err := json.MarshalIndent(env, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, out, 0o644); err != nil {
		t.Fatal(err)
	}
	return to
}

// reset gives the tables the demo seed, and nothing else.
func (l *local) reset(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	for _, name := range []string{l.tables.Contacts, l.tables.Requests} {
		_, err := l.db.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(name)})
		var missing *types.ResourceNotFoundException
		if err != nil && !errors.As(err, &missing) {
			t.Fatalf("delete table %s: %v", name, err)
		}
	}
	if err := store.CreateTables(ctx, l.db, l.tables); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(l.root, "infra/local/seed.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	seed, err := store.ReadSeed(f)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.New(l.db, l.tables).Load(ctx, seed); err != nil {
		t.Fatalf("load the seed: %v", err)
	}
}

// invokeEvent runs one event file through `sam local invoke` of its function, on the demo
// seed with a fresh request where the event acts on one, and checks the answer.
func (l *local) invokeEvent(t *testing.T, file string) {
	raw, err := os.ReadFile(filepath.Join(l.root, "infra/events", file))
	if err != nil {
		t.Fatal(err)
	}
	l.reset(t)
	if slices.Contains(eventfiles.SESEvents, file) {
		id, _ := l.open(t, "request-contact-changes.json")
		before := l.change(t, id)
		out := l.invoke(t, "BounceFunction", file, bytes.ReplaceAll(raw, []byte(eventfiles.SampleID), []byte(id)))
		if strings.Contains(out, "errorType") {
			t.Fatalf("the bounce function failed: %s", out)
		}
		if after := l.change(t, id); len(after.History) <= len(before.History) {
			t.Errorf("the request's history did not grow: %d entries before, %d after", len(before.History), len(after.History))
		}
		return
	}
	want, ok := eventfiles.Answers[file]
	if !ok {
		t.Fatalf("%s: no expected answer in infra/events/answers.go", file)
	}
	var ev map[string]any
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	function := functionOf(t, l.template, ev["routeKey"].(string))
	body := bodyOf(t, ev)
	switch {
	case bytes.Contains(raw, []byte(eventfiles.SampleBatchID)):
		id, token := l.open(t, "request-contact-change-batch.json")
		raw = replace(t, raw, strings.NewReplacer(eventfiles.SampleBatchID, id, eventfiles.SampleToken, token))
	case bytes.Contains(raw, []byte(eventfiles.SampleID)) || strings.Contains(body, eventfiles.SampleToken) || bytes.Contains(raw, []byte(eventfiles.SampleToken)):
		id, token := l.open(t, "request-contact-changes.json")
		raw = replace(t, raw, strings.NewReplacer(eventfiles.SampleID, id, eventfiles.SampleToken, token))
	}
	var resp struct {
		StatusCode int    `json:"statusCode"`
		Body       string `json:"body"`
	}
	out := l.invoke(t, function, file, raw)
	if err := json.Unmarshal([]byte(out), &resp); err != nil {
		t.Fatalf("the answer %q: %v", out, err)
	}
	if resp.StatusCode != want {
		t.Errorf("status %d, want %d: %s", resp.StatusCode, want, tail(resp.Body, 500))
	}
}

// invoke runs `sam local invoke function -e` with the event, and returns the function's
// answer, the last line the SAM CLI prints on stdout.
func (l *local) invoke(t *testing.T, function, file string, event []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), file)
	if err := os.WriteFile(path, event, 0o644); err != nil {
		t.Fatal(err)
	}
	started := time.Now()
	stdout, stderr, err := run(context.Background(), l.root, l.env, 3*time.Minute, l.sam, "local", "invoke", function,
		"--template", l.template, "--event", path, "--env-vars", l.envFile, "--skip-pull-image")
	if err != nil {
		t.Fatalf("%v\nstdout: %s\nstderr: %s", err, stdout, tail(stderr, 6000))
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	answer := lines[len(lines)-1]
	t.Logf("sam local invoke %s --event infra/events/%s (%s): %s", function, file, time.Since(started).Round(10*time.Millisecond), summary(answer))
	return answer
}

// summary is the status and the start of the body of an API answer, or the answer itself.
func summary(answer string) string {
	var resp struct {
		StatusCode int    `json:"statusCode"`
		Body       string `json:"body"`
	}
	if json.Unmarshal([]byte(answer), &resp) != nil || resp.StatusCode == 0 {
		return tail(answer, 300)
	}
	return fmt.Sprintf("%d %s", resp.StatusCode, strings.Join(strings.Fields(firstN(resp.Body, 160)), " "))
}

func firstN(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// open creates the request (or batch) of the event file through sam local start-lambda's
// Lambda API, and returns its id and the token mailed to the new tech contact.
func (l *local) open(t *testing.T, file string) (id, token string) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(l.root, "infra/events", file))
	if err != nil {
		t.Fatal(err)
	}
	fn := functionOf(t, l.template, "POST /services/{serviceId}/contact-changes")
	if strings.Contains(file, "batch") {
		fn = functionOf(t, l.template, "POST /me/contact-change-batches")
	}
	resp, err := http.Post(l.lambda+"/2015-03-31/functions/"+fn+"/invocations", "application/json", bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("invoke %s: %v", fn, err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	var answer struct {
		StatusCode int    `json:"statusCode"`
		Body       string `json:"body"`
	}
	if err := json.Unmarshal(out, &answer); err != nil || answer.StatusCode != http.StatusCreated {
		t.Fatalf("open %s through %s: %s (%v)", file, fn, out, err)
	}
	m := idIn.FindStringSubmatch(answer.Body)
	if m == nil {
		t.Fatalf("no id in %s", answer.Body)
	}
	id = m[1]
	return id, l.mailedToken(t, eventfiles.NewEmail, id)
}

var (
	idIn        = regexp.MustCompile(`"id":\s*"([0-9a-f]{32})"`)
	tokenInMail = regexp.MustCompile(`token=([A-Za-z0-9_-]{43})`)
	linkInMail  = regexp.MustCompile(`http://127\.0\.0\.1:[0-9]+/contact-changes/[0-9a-f]{32}/confirm\?token=[A-Za-z0-9_-]{43}`)
)

// mailedToken returns the token aws-ses-v2-local holds in an email to address about id.
func (l *local) mailedToken(t *testing.T, address, id string) string {
	t.Helper()
	for _, m := range sestest.EmulatorEmails(t, address) {
		if !strings.Contains(m.Body.Text, id) {
			continue
		}
		if match := tokenInMail.FindStringSubmatch(m.Body.Text); match != nil {
			return match[1]
		}
	}
	t.Fatalf("no token mailed to %s about %s", address, id)
	return ""
}

func (l *local) change(t *testing.T, id string) contact.Change {
	t.Helper()
	c, err := store.New(l.db, l.tables).Change(context.Background(), id)
	if err != nil {
		t.Fatalf("read request %s: %v", id, err)
	}
	return c
}

// functionOf returns the template's logical id of the function serving routeKey.
func functionOf(t *testing.T, template, routeKey string) string {
	t.Helper()
	for _, r := range api.Routes {
		if r.Key() == routeKey {
			id := strings.ToUpper(r.Function[:1]) + r.Function[1:] + "Function"
			tpl, err := samtemplate.Load(template)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Contains(tpl.OfType("AWS::Serverless::Function"), id) {
				t.Fatalf("route %s: no function %s in the template", routeKey, id)
			}
			return id
		}
	}
	t.Fatalf("no route %s", routeKey)
	return ""
}

func bodyOf(t *testing.T, ev map[string]any) string {
	t.Helper()
	body, _ := ev["body"].(string)
	if b, _ := ev["isBase64Encoded"].(bool); b {
		raw, err := base64.StdEncoding.DecodeString(body)
		if err != nil {
			t.Fatal(err)
		}
		return string(raw)
	}
	return body
}

// replace applies r to the event's text, inside a base64 body too.
func replace(t *testing.T, raw []byte, r *strings.Replacer) []byte {
	t.Helper()
	var ev map[string]any
	if err := json.Unmarshal([]byte(r.Replace(string(raw))), &ev); err != nil {
		t.Fatal(err)
	}
	if b, _ := ev["isBase64Encoded"].(bool); b {
		body := bodyOf(t, ev)
		ev["body"] = base64.StdEncoding.EncodeToString([]byte(r.Replace(body)))
	}
	out, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// confirmThroughStartAPI creates a request with sam local invoke, then has every party
// follow the link mailed to them, through sam local start-api: the confirmation page, then
// the form's acceptance. The confirm function answers the execution's tasks on the Step
// Functions front, which then runs the apply and finish steps through sam local
// start-lambda, until the service has its new tech contact.
func (l *local) confirmThroughStartAPI(t *testing.T) {
	l.reset(t)
	raw, err := os.ReadFile(filepath.Join(l.root, "infra/events/request-contact-changes.json"))
	if err != nil {
		t.Fatal(err)
	}
	out := l.invoke(t, "RequestFunction", "request-contact-changes.json", raw)
	m := idIn.FindStringSubmatch(strings.ReplaceAll(out, `\"`, `"`))
	if m == nil {
		t.Fatalf("no request id in %s", out)
	}
	id := m[1]
	var links []string
	for _, mail := range sestest.StoredEmails(t) {
		if strings.Contains(mail.Body.Text, id) {
			links = append(links, linkInMail.FindAllString(mail.Body.Text, -1)...)
		}
	}
	slices.Sort(links)
	links = slices.Compact(links)
	if len(links) == 0 {
		t.Fatalf("no confirmation link mailed about %s", id)
	}
	for _, link := range links {
		u, err := url.Parse(link)
		if err != nil {
			t.Fatal(err)
		}
		started := time.Now()
		page := httpDo(t, http.MethodGet, link, nil)
		t.Logf("start-api GET %s?token=…: %d (%s)", u.Path, page.status, time.Since(started).Round(10*time.Millisecond))
		if page.status != http.StatusOK || !strings.Contains(page.body, "<form") {
			t.Fatalf("the confirmation page: %d %s", page.status, tail(page.body, 500))
		}
		started = time.Now()
		form := url.Values{"token": {u.Query().Get("token")}, "decision": {"accept"}, "lang": {"en"}}
		decided := httpDo(t, http.MethodPost, "http://"+u.Host+u.Path, strings.NewReader(form.Encode()))
		t.Logf("start-api POST %s decision=accept: %d (%s)", u.Path, decided.status, time.Since(started).Round(10*time.Millisecond))
		if decided.status != http.StatusOK {
			t.Fatalf("the decision: %d %s", decided.status, tail(decided.body, 500))
		}
	}

	deadline := time.Now().Add(2 * time.Minute)
	for {
		c := l.change(t, id)
		svc, err := store.New(l.db, l.tables).Service(context.Background(), eventfiles.ServiceID)
		if err != nil {
			t.Fatal(err)
		}
		if c.State == contact.Done && svc.Contacts[contact.Tech] == eventfiles.NewTech {
			t.Logf("request %s %s: %s is %s's tech contact, after %d links followed", id, c.State, eventfiles.NewTech, eventfiles.ServiceID, len(links))
			l.checkEvents(t, id, contact.ContactChangeRequested, contact.ContactChangeApplied)
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("request %s is %s, %s's tech contact %s, two minutes after every party accepted", id, c.State, eventfiles.ServiceID, svc.Contacts[contact.Tech])
		}
		time.Sleep(500 * time.Millisecond)
	}
}

type httpAnswer struct {
	status int
	body   string
}

func httpDo(t *testing.T, method, u string, body io.Reader) httpAnswer {
	t.Helper()
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("Accept", "text/html")
	client := &http.Client{Timeout: 2 * time.Minute}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return httpAnswer{status: resp.StatusCode, body: string(b)}
}

// checkEvents waits until the events of request id that the functions put on EventBridge
// (infra/sam/awslocal keeps them) include each of types.
func (l *local) checkEvents(t *testing.T, id string, types ...contact.AnnouncementType) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		resp, err := http.Get(l.front + "/events")
		if err != nil {
			t.Fatal(err)
		}
		var events []struct {
			DetailType string `json:"detail-type"`
			Detail     struct {
				RequestID string `json:"requestId"`
			} `json:"detail"`
		}
		err = json.NewDecoder(resp.Body).Decode(&events)
		resp.Body.Close()
		if err != nil {
			t.Fatalf("GET /events: %v", err)
		}
		var seen []string
		for _, e := range events {
			if e.Detail.RequestID == id {
				seen = append(seen, e.DetailType)
			}
		}
		missing := slices.DeleteFunc(slices.Clone(types), func(typ contact.AnnouncementType) bool { return slices.Contains(seen, string(typ)) })
		if len(missing) == 0 {
			t.Logf("events of request %s put on EventBridge: %s", id, strings.Join(seen, ", "))
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("events of request %s: %v, missing %v", id, seen, missing)
		}
		time.Sleep(500 * time.Millisecond)
	}
}
