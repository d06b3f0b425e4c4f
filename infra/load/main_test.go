package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/servicecontacts/servicecontacts/shared/contact"
	"github.com/servicecontacts/servicecontacts/shared/store"
	"github.com/servicecontacts/servicecontacts/shared/store/embedded"
	"github.com/servicecontacts/servicecontacts/shared/store/storetest"
)

type result struct {
	code           int
	stdout, stderr string
}

// runWith runs the command with env as its whole environment.
func runWith(t *testing.T, env map[string]string, d dialer, stdin string, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, func(k string) string { return env[k] }, d, strings.NewReader(stdin), &stdout, &stderr)
	return result{code, stdout.String(), stderr.String()}
}

// onAPI dials api whatever the environment says.
func onAPI(api store.API) dialer {
	return func(context.Context, func(string) string) (store.API, error) { return api, nil }
}

func tableEnv() map[string]string {
	b := make([]byte, 6)
	_, _ = rand.Read(b) // never fails
	id := hex.EncodeToString(b)
	return map[string]string{contactsTable: "load-contacts-" + id, requestsTable: "load-requests-" + id}
}

func writeFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "load.jsonl")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestGenerateThenLoad(t *testing.T) {
	gen := runWith(t, nil, nil, "", "-generate", "250")
	if gen.code != exitOK {
		t.Fatalf("generate: exit %d, stderr %s", gen.code, gen.stderr)
	}
	// 250 services, their 250 admins, and a tech and a billing contact per hundred services.
	const lines = 250 + 250 + 2*3
	if got := strings.Count(gen.stdout, "\n"); got != lines {
		t.Fatalf("generated %d lines, want %d", got, lines)
	}
	file := writeFile(t, gen.stdout)
	api, env := embedded.New(), tableEnv()

	first := runWith(t, env, onAPI(api), "", "-create-tables", file)
	if first.code != exitOK {
		t.Fatalf("first load: exit %d\nstdout %s\nstderr %s", first.code, first.stdout, first.stderr)
	}
	if want := "506 loaded, 0 unchanged, 0 rejected"; !strings.HasPrefix(first.stdout, "506 lines in ") || !strings.Contains(first.stdout, want) {
		t.Errorf("first summary %q, want 506 lines and %q", first.stdout, want)
	}
	if !strings.Contains(first.stderr, "created tables") {
		t.Errorf("stderr %q, want the tables created", first.stderr)
	}

	again := runWith(t, env, onAPI(api), "", "-create-tables", file)
	if again.code != exitOK || !strings.Contains(again.stdout, "0 loaded, 506 unchanged, 0 rejected") {
		t.Errorf("second load: exit %d, summary %q, want every line unchanged", again.code, again.stdout)
	}
	if !strings.Contains(again.stderr, "exists") {
		t.Errorf("stderr %q, want the existing table kept", again.stderr)
	}

	s := store.New(api, store.Tables{Contacts: env[contactsTable], Requests: env[requestsTable]})
	svc, err := s.Service(context.Background(), "svc-000142.example.com")
	if err != nil {
		t.Fatal(err)
	}
	want := map[contact.Role]string{contact.Admin: "ad000142-ovh", contact.Tech: "te000001-ovh", contact.Billing: "bi000001-ovh"}
	if diff := cmp.Diff(want, svc.Contacts); diff != "" {
		t.Errorf("holders (-want +got):\n%s", diff)
	}
}

func TestRejectedLinesExitOne(t *testing.T) {
	api, env := embedded.New(), tableEnv()
	input := strings.Join([]string{
		`{"account": {"nic": "aa11111-ovh", "email": "alice@example.com", "language": "it", "goodStanding": true}}`,
		`{"account": {"nic": "alice", "email": "alice@example.com", "language": "it", "goodStanding": true}}`,
		``,
		`{"service": {"id": "example.com", "type": "domain", "admin": "aa11111-ovh", "tech": "bb22222-ovh", "billing": "aa11111-ovh"}}`,
	}, "\n")
	got := runWith(t, env, onAPI(api), input, "-create-tables", "-")
	if got.code != exitRejected {
		t.Errorf("exit %d, want %d", got.code, exitRejected)
	}
	for _, want := range []string{
		"1 loaded, 0 unchanged, 2 rejected",
		"\nline 2: account: \"alice\" is not a NIC handle",
		"\nline 4: service example.com: tech bb22222-ovh is not an account",
	} {
		if !strings.Contains(got.stdout, want) {
			t.Errorf("stdout %q, want it to contain %q", got.stdout, want)
		}
	}
}

func TestUsage(t *testing.T) {
	api := embedded.New()
	tables := tableEnv()
	onlyContacts := map[string]string{contactsTable: tables[contactsTable]}
	tests := []struct {
		name string
		env  map[string]string
		args []string
		code int
		want string // a part of stderr
	}{
		{"no table", nil, []string{"x.jsonl"}, exitUsage, "CONTACTS_TABLE is not set"},
		{"no file", tables, nil, exitUsage, "name one FILE"},
		{"two files", tables, []string{"a", "b"}, exitUsage, "name one FILE"},
		{"tables to create without the requests table", onlyContacts, []string{"-create-tables", "x.jsonl"}, exitUsage, "needs REQUESTS_TABLE"},
		{"generate and a file", nil, []string{"-generate", "3", "x.jsonl"}, exitUsage, "-generate takes no FILE"},
		{"unknown flag", tables, []string{"-fast", "x.jsonl"}, exitUsage, "flag provided but not defined"},
		{"missing file", tables, []string{filepath.Join(t.TempDir(), "none.jsonl")}, exitRejected, "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := runWith(t, tt.env, onAPI(api), "", tt.args...)
			if got.code != tt.code || !strings.Contains(got.stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", got.code, got.stderr, tt.code, tt.want)
			}
		})
	}
}

func TestProgressAtMostOnceASecond(t *testing.T) {
	start := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		calls []time.Duration // since the start
		want  []string        // the lines printed
	}{
		{name: "a short load prints nothing", calls: []time.Duration{100 * time.Millisecond, 900 * time.Millisecond}},
		{
			name:  "a long one once a second at most",
			calls: []time.Duration{500 * time.Millisecond, 1000 * time.Millisecond, 1500 * time.Millisecond, 1999 * time.Millisecond, 2000 * time.Millisecond, 5000 * time.Millisecond},
			want: []string{
				"1000 lines read: 900 loaded, 50 unchanged, 1 rejected (1000 lines/s)",
				"2000 lines read: 1800 loaded, 100 unchanged, 2 rejected (1000 lines/s)",
				"5000 lines read: 4500 loaded, 250 unchanged, 5 rejected (1000 lines/s)",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			var now time.Time
			p := &progress{w: &out, now: func() time.Time { return now }, start: start}
			for _, d := range tt.calls {
				now = start.Add(d)
				n := int(d / time.Millisecond) // a thousand lines a second
				p.show(store.BulkProgress{Lines: n, Loaded: n * 9 / 10, Unchanged: n / 20, Rejected: n / 1000})
			}
			var got []string
			if s := strings.TrimSpace(out.String()); s != "" {
				got = strings.Split(s, "\n")
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("progress lines (-want +got):\n%s", diff)
			}
		})
	}
}

// TestLoadIntoDynamoDBLocal runs the command as `make load` does, reaching the DynamoDB
// Local that DYNAMODB_ENDPOINT names through its own client.
func TestLoadIntoDynamoDBLocal(t *testing.T) {
	client := storetest.DynamoDBLocal(t)
	env := tableEnv()
	env[endpoint] = *client.Options().BaseEndpoint
	gen := runWith(t, nil, nil, "", "-generate", "300")
	got := runWith(t, env, dial, gen.stdout, "-create-tables", "-")
	if got.code != exitOK || !strings.Contains(got.stdout, "606 loaded, 0 unchanged, 0 rejected") {
		t.Fatalf("exit %d\nstdout %s\nstderr %s", got.code, got.stdout, got.stderr)
	}
	// The command's client and the test's sign alike, so they see the same tables.
	s := store.New(client, store.Tables{Contacts: env[contactsTable], Requests: env[requestsTable]})
	page, err := s.ServicesOf(context.Background(), "te000002-ovh", contact.ServiceQuery{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Services) != 100 {
		t.Fatalf("%d services of te000002-ovh, want 100", len(page.Services))
	}
	if first := page.Services[0].ID; first != "svc-000200.example.com" {
		t.Errorf("first service of te000002-ovh %s, want svc-000200.example.com", first)
	}
}
