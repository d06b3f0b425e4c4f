package events_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"

	eventfiles "github.com/servicecontacts/servicecontacts/infra/events"
	"github.com/servicecontacts/servicecontacts/infra/local/stack"
	"github.com/servicecontacts/servicecontacts/infra/samtemplate"
	"github.com/servicecontacts/servicecontacts/shared/api"
	"github.com/servicecontacts/servicecontacts/shared/bounce"
	"github.com/servicecontacts/servicecontacts/shared/contact"
	"github.com/servicecontacts/servicecontacts/shared/store"
)

// The names the tests use, from the event files' own table (answers.go).
const (
	sampleID      = eventfiles.SampleID
	sampleToken   = eventfiles.SampleToken
	sampleBatchID = eventfiles.SampleBatchID
	requester     = eventfiles.Requester
	newTech       = eventfiles.NewTech
	newEmail      = eventfiles.NewEmail
	serviceID     = eventfiles.ServiceID
)

var (
	want      = eventfiles.Answers
	sesEvents = eventfiles.SESEvents
)

type event struct {
	file  string
	raw   []byte
	event events.APIGatewayV2HTTPRequest
}

func loadEvents(t *testing.T) []event {
	t.Helper()
	files, err := filepath.Glob("*.json")
	if err != nil {
		t.Fatal(err)
	}
	var out []event
	for _, f := range files {
		if f == "env.json" || slices.Contains(sesEvents, f) {
			continue
		}
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields() // a misspelt field would be silently dropped
		var e events.APIGatewayV2HTTPRequest
		if err := dec.Decode(&e); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out = append(out, event{file: f, raw: raw, event: e})
	}
	return out
}

func seed(t *testing.T) store.Seed {
	t.Helper()
	f, err := os.Open("../local/seed.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s, err := store.ReadSeed(f)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func routeOf(key string) (api.Route, bool) {
	for _, r := range api.Routes {
		if r.Key() == key {
			return r, true
		}
	}
	return api.Route{}, false
}

// The event files cover every route of api.Routes exactly once, and each is a consistent
// payload format 2.0 event: its route key, method and path agree, its path parameters fill
// the route's path, customer routes carry a seeded NIC in the JWT's sub claim, operator
// routes an IAM principal and no JWT, and public ones no authorizer at all.
func TestEventsCoverEveryRouteOnce(t *testing.T) {
	nics := map[string]bool{}
	for _, a := range seed(t).Accounts {
		nics[a.NIC] = true
	}
	byRoute := map[string][]string{}
	var files []string
	for _, e := range loadEvents(t) {
		files = append(files, e.file)
		ev := e.event
		byRoute[ev.RouteKey] = append(byRoute[ev.RouteKey], e.file)
		r, ok := routeOf(ev.RouteKey)
		if !ok {
			t.Errorf("%s: route %q is not in api.Routes", e.file, ev.RouteKey)
			continue
		}
		if ev.Version != "2.0" || ev.RequestContext.RouteKey != ev.RouteKey || ev.RequestContext.HTTP.Method != r.Method {
			t.Errorf("%s: version %q, requestContext.routeKey %q, method %q for route %q", e.file, ev.Version, ev.RequestContext.RouteKey, ev.RequestContext.HTTP.Method, r.Key())
		}
		path := r.Path
		for k, v := range ev.PathParameters {
			path = strings.ReplaceAll(path, "{"+k+"}", v)
		}
		if path != ev.RawPath || path != ev.RequestContext.HTTP.Path {
			t.Errorf("%s: rawPath %q and http.path %q, want %q from the path parameters", e.file, ev.RawPath, ev.RequestContext.HTTP.Path, path)
		}
		sub, principal := "", ""
		a := ev.RequestContext.Authorizer
		if a != nil && a.JWT != nil {
			sub = a.JWT.Claims[api.DefaultIdentityClaim]
		}
		if a != nil && a.IAM != nil {
			principal = a.IAM.UserARN
		}
		switch {
		case r.Public && a != nil:
			t.Errorf("%s: the public route %s has an authorizer context", e.file, r.Key())
		case r.Operator && (a == nil || a.JWT != nil || !iamUser.MatchString(principal)):
			t.Errorf("%s: the operator route %s has authorizer %+v, want an IAM user and no JWT", e.file, r.Key(), a)
		case !r.Public && !r.Operator && (!nics[sub] || principal != ""):
			t.Errorf("%s: claims.sub %q is not a NIC of the seed (IAM principal %q)", e.file, sub, principal)
		}
		if _, ok := want[e.file]; !ok {
			t.Errorf("%s: no expected status in this test", e.file)
		}
	}
	for _, r := range api.Routes {
		if n := len(byRoute[r.Key()]); n != 1 {
			t.Errorf("route %s has %d event files %v, want 1", r.Key(), n, byRoute[r.Key()])
		}
	}
	var expected []string
	for f := range want {
		expected = append(expected, f)
	}
	sort.Strings(expected)
	if d := cmp.Diff(expected, files); d != "" {
		t.Errorf("event files (-expected +present):\n%s", d)
	}
}

// Every event, run through the real handler of its function on the embedded backend with
// the demo seed, answers its expected status.
func TestEventsThroughTheHandlers(t *testing.T) {
	for _, e := range loadEvents(t) {
		t.Run(strings.TrimSuffix(e.file, ".json"), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			// A seed each: Store.Load normalizes the seed's slices in place.
			s, err := stack.New(ctx, stack.Options{
				Seed: seed(t), JWTSecret: []byte("unused"), PublicBaseURL: "https://contacts.example.com",
				Logger: slog.New(slog.DiscardHandler),
			})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()

			ev := e.event
			if bytes.Contains(e.raw, []byte(sampleBatchID)) {
				id, token := openBatch(t, s)
				ev = replace(t, ev, strings.NewReplacer(sampleBatchID, id, sampleToken, token))
			} else if bytes.Contains(e.raw, []byte(sampleID)) || strings.Contains(bodyOf(t, ev), sampleToken) || ev.QueryStringParameters["token"] == sampleToken {
				id, token := openRequest(t, s)
				ev = replace(t, ev, strings.NewReplacer(sampleID, id, sampleToken, token))
			}
			r, _ := routeOf(ev.RouteKey)
			resp, err := api.New(r.Function, s.Manager, api.Options{Logger: slog.New(slog.DiscardHandler)}).Handle(ctx, ev)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != want[e.file] {
				t.Errorf("status %d, want %d: %s", resp.StatusCode, want[e.file], resp.Body)
			}
		})
	}
}

var iamUser = regexp.MustCompile(`^arn:aws:iam::[0-9]{12}:user/[A-Za-z0-9+=,.@_-]+$`)

var tokenInMail = regexp.MustCompile(`token=([A-Za-z0-9_-]{43})`)

// openRequest creates the request the events act on and returns its id and the new tech
// contact's token, read from the email sent to her.
func openRequest(t *testing.T, s *stack.Stack) (id, token string) {
	t.Helper()
	changes, err := s.Manager.RequestChanges(context.Background(), requester, serviceID, map[contact.Role]string{contact.Tech: newTech})
	if err != nil || len(changes) != 1 {
		t.Fatalf("request a change: %v %v", changes, err)
	}
	id = changes[0].ID
	for _, m := range s.Mail.Messages() {
		if m.To == newEmail && strings.Contains(m.Text, id) {
			if match := tokenInMail.FindStringSubmatch(m.Text); match != nil {
				token = match[1]
			}
		}
	}
	if token == "" {
		t.Fatalf("no token mailed to %s for %s", newEmail, id)
	}
	return id, token
}

// openBatch creates the batch the batch events act on (the same change as openRequest's,
// over one service) and returns its id and the new tech contact's batch token.
func openBatch(t *testing.T, s *stack.Stack) (id, token string) {
	t.Helper()
	b, created, err := s.Manager.RequestBatch(context.Background(), requester, []string{serviceID}, map[contact.Role]string{contact.Tech: newTech})
	if err != nil || len(created) != 1 {
		t.Fatalf("request a batch: %v %v", created, err)
	}
	for _, m := range s.Mail.Messages() {
		if m.To == newEmail && strings.Contains(m.Text, b.ID) {
			if match := tokenInMail.FindStringSubmatch(m.Text); match != nil {
				token = match[1]
			}
		}
	}
	if token == "" {
		t.Fatalf("no batch token mailed to %s for %s", newEmail, b.ID)
	}
	return b.ID, token
}

func bodyOf(t *testing.T, ev events.APIGatewayV2HTTPRequest) string {
	t.Helper()
	if !ev.IsBase64Encoded {
		return ev.Body
	}
	b, err := base64.StdEncoding.DecodeString(ev.Body)
	if err != nil {
		t.Fatalf("body: %v", err)
	}
	return string(b)
}

// replace applies r to every string of the event, inside a base64 body too.
func replace(t *testing.T, ev events.APIGatewayV2HTTPRequest, r *strings.Replacer) events.APIGatewayV2HTTPRequest {
	t.Helper()
	body := r.Replace(bodyOf(t, ev))
	ev.Body = ""
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	var out events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal([]byte(r.Replace(string(b))), &out); err != nil {
		t.Fatal(err)
	}
	out.Body = body
	if out.IsBase64Encoded {
		out.Body = base64.StdEncoding.EncodeToString([]byte(body))
	}
	return out
}

// SES's bounce of the new tech contact's token email, through the bounce function's handler,
// marks her account and says so in the request's history.
func TestSESEventsThroughTheBounceHandler(t *testing.T) {
	for _, f := range sesEvents {
		t.Run(strings.TrimSuffix(f, ".json"), func(t *testing.T) {
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var e events.EventBridgeEvent
			dec := json.NewDecoder(bytes.NewReader(raw))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&e); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			if e.Source != bounce.Source || !slices.Contains([]string{"Email Bounced", "Email Complaint Received"}, e.DetailType) {
				t.Fatalf("%s: source %q, detail-type %q: not an event the bounce rule takes", f, e.Source, e.DetailType)
			}
			ctx := context.Background()
			s, err := stack.New(ctx, stack.Options{
				Seed: seed(t), JWTSecret: []byte("unused"), PublicBaseURL: "https://contacts.example.com",
				Logger: slog.New(slog.DiscardHandler),
			})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			id, _ := openRequest(t, s)
			replayed := strings.ReplaceAll(string(raw), sampleID, id)
			before, err := s.Manager.ChangeByID(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if err := bounce.New(s.Manager, slog.New(slog.DiscardHandler)).Handle(ctx, json.RawMessage(replayed)); err != nil {
				t.Fatal(err)
			}
			after, err := s.Manager.ChangeByID(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if len(after.History) <= len(before.History) {
				t.Errorf("the request's history did not grow: %d entries before, %d after", len(before.History), len(after.History))
			}
		})
	}
}

// env.json names every function of the template and sets exactly the variables the template
// declares for it (sam local ignores any other).
func TestEnvFileMatchesTemplate(t *testing.T) {
	raw, err := os.ReadFile("env.json")
	if err != nil {
		t.Fatal(err)
	}
	var env map[string]map[string]string
	if err := json.Unmarshal(raw, &env); err != nil {
		t.Fatal(err)
	}
	tpl, err := samtemplate.Load("../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ids := tpl.OfType("AWS::Serverless::Function")
	sort.Strings(ids)
	var named []string
	for id := range env {
		named = append(named, id)
	}
	sort.Strings(named)
	if d := cmp.Diff(ids, named); d != "" {
		t.Errorf("env.json functions (-template +env.json):\n%s", d)
	}
	for _, id := range ids {
		e, _ := tpl.FunctionProperty(id, "Environment").(map[string]any)
		vars, _ := e["Variables"].(map[string]any)
		var declared, set []string
		for v := range vars {
			declared = append(declared, v)
		}
		for v := range env[id] {
			set = append(set, v)
		}
		slices.Sort(declared)
		slices.Sort(set)
		if d := cmp.Diff(declared, set); d != "" {
			t.Errorf("%s: env.json variables (-template +env.json):\n%s", id, d)
		}
	}
}
