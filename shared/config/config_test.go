package config_test

import (
	"os"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/servicecontacts/servicecontacts/shared/config"
	"github.com/servicecontacts/servicecontacts/shared/contact"
	"github.com/servicecontacts/servicecontacts/shared/store"
)

// full is a valid value for every variable.
var full = map[string]string{
	config.ContactsTable:        "contacts",
	config.RequestsTable:        "requests",
	config.StateMachineARN:      "arn:aws:states:eu-west-1:123456789012:stateMachine:contact-change",
	config.MailFrom:             "no-reply@example.com",
	config.MailConfigurationSet: "servicecontacts",
	config.PublicBaseURL:        "https://contacts.example.com/",
	config.RequestExpiry:        "48h",
	config.EventBusName:         "servicecontacts-events",
	config.IdentityClaim:        "custom:nic",
}

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func without(names ...string) map[string]string {
	m := map[string]string{}
	for k, v := range full {
		if !slices.Contains(names, k) {
			m[k] = v
		}
	}
	return m
}

func with(name, value string) map[string]string {
	m := without()
	m[name] = value
	return m
}

// mixed lacks MAIL_FROM and has a malformed REQUEST_EXPIRY.
func mixed() map[string]string {
	m := without(config.MailFrom)
	m[config.RequestExpiry] = "0s"
	return m
}

// Every function under functions/ has its row, and every row a function.
func TestRequiredNamesEveryFunction(t *testing.T) {
	entries, err := os.ReadDir("../../functions")
	if err != nil {
		t.Fatal(err)
	}
	var folders, rows []string
	for _, e := range entries {
		if e.IsDir() {
			folders = append(folders, e.Name())
		}
	}
	for f, vars := range config.Required {
		rows = append(rows, f)
		for _, v := range vars {
			if !slices.Contains(config.Variables, v) {
				t.Errorf("%s requires %s, which is not in config.Variables", f, v)
			}
		}
		if !slices.Contains(vars, config.ContactsTable) || !slices.Contains(vars, config.RequestsTable) {
			t.Errorf("%s does not require the table names", f)
		}
	}
	sort.Strings(rows)
	if d := cmp.Diff(folders, rows); d != "" {
		t.Errorf("config.Required rows (-functions/ +Required):\n%s", d)
	}
}

func TestReadSetsTheFunctionsSettingsOnly(t *testing.T) {
	got, err := config.Read("request", env(full))
	if err != nil {
		t.Fatal(err)
	}
	want := config.Settings{
		Function:             "request",
		Tables:               store.Tables{Contacts: "contacts", Requests: "requests"},
		StateMachineARN:      full[config.StateMachineARN],
		MailFrom:             "no-reply@example.com",
		MailConfigurationSet: "servicecontacts",
		PublicBaseURL:        "https://contacts.example.com",
		Expiry:               48 * time.Hour,
		EventBusName:         "servicecontacts-events",
		IdentityClaim:        "custom:nic",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("request settings (-want +got):\n%s", d)
	}
	// await reads the tables only, whatever else the environment holds.
	got, err = config.Read("await", env(full))
	if err != nil {
		t.Fatal(err)
	}
	want = config.Settings{Function: "await", Tables: store.Tables{Contacts: "contacts", Requests: "requests"}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("await settings (-want +got):\n%s", d)
	}
}

func TestReadRefuses(t *testing.T) {
	for _, tc := range []struct {
		name     string
		function string
		env      map[string]string
		want     []string // in the error
	}{
		{"unknown function", "notify", full, []string{`"notify"`}},
		{"every missing variable named", "request", without(config.ContactsTable, config.EventBusName, config.IdentityClaim),
			[]string{"missing environment variables: CONTACTS_TABLE, EVENT_BUS_NAME, IDENTITY_CLAIM"}},
		{"blank is missing", "list", with(config.IdentityClaim, "  "), []string{"IDENTITY_CLAIM"}},
		{"bus of a publisher", "bounce", without(config.EventBusName), []string{"EVENT_BUS_NAME"}},
		{"expiry not a duration", "request", with(config.RequestExpiry, "two weeks"), []string{`REQUEST_EXPIRY="two weeks"`}},
		{"expiry below an hour", "request", with(config.RequestExpiry, "59m59s"), []string{"between 1h and 8760h"}},
		{"expiry above a year", "request", with(config.RequestExpiry, "8761h"), []string{"between 1h and 8760h"}},
		{"expiry negative", "request", with(config.RequestExpiry, "-336h"), []string{"REQUEST_EXPIRY"}},
		{"base URL with a query", "confirm", with(config.PublicBaseURL, "https://contacts.example.com/?a=b"), []string{"PUBLIC_BASE_URL"}},
		{"base URL without scheme", "confirm", with(config.PublicBaseURL, "contacts.example.com"), []string{"PUBLIC_BASE_URL"}},
		{"missing and malformed together", "request", mixed(), []string{"MAIL_FROM", `REQUEST_EXPIRY="0s"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := config.Read(tc.function, env(tc.env))
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

func TestExpiryBounds(t *testing.T) {
	for _, tc := range []struct {
		value string
		ok    bool
	}{
		{"1h", true}, {"60m", true}, {"336h", true}, {"8760h", true},
		{"59m", false}, {"8760h1s", false}, {"0h", false},
	} {
		_, err := config.Read("request", env(with(config.RequestExpiry, tc.value)))
		if (err == nil) != tc.ok {
			t.Errorf("REQUEST_EXPIRY=%s: err %v, want ok %v", tc.value, err, tc.ok)
		}
	}
}

// ParseExpiry alone (the local stack's) takes any positive duration.
func TestParseExpiry(t *testing.T) {
	for _, tc := range []struct {
		value string
		want  time.Duration
		ok    bool
	}{
		{"30s", 30 * time.Second, true}, {"336h", 336 * time.Hour, true},
		{"0s", 0, false}, {"-1h", 0, false}, {"14d", 0, false}, {"", 0, false},
	} {
		got, err := config.ParseExpiry(tc.value)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseExpiry(%q) = %v, %v; want %v, ok %v", tc.value, got, err, tc.want, tc.ok)
		}
	}
}

func TestReadLimits(t *testing.T) {
	for _, tc := range []struct {
		name     string
		function string
		env      map[string]string
		want     config.Settings // only the limits are compared
		wantErr  []string        // in the error; none when empty
	}{
		{"unset: the domain's defaults", "request", full, config.Settings{}, nil},
		{"requests and emails", "request", withAll(map[string]string{config.LimitRequests: "3/1m", config.LimitEmails: " 40 / 2h "}),
			config.Settings{CreationLimit: contact.Limit{Max: 3, Window: time.Minute}, EmailLimit: contact.Limit{Max: 40, Window: 2 * time.Hour}}, nil},
		{"wrong tokens on the confirm function", "confirm", with(config.LimitWrongTokens, "5/15m"),
			config.Settings{WrongTokenLimit: contact.Limit{Max: 5, Window: 15 * time.Minute}}, nil},
		{"emails on the resend function", "resend", with(config.LimitEmails, "1/1s"),
			config.Settings{EmailLimit: contact.Limit{Max: 1, Window: time.Second}}, nil},
		{"a function that enforces none ignores them", "list", withAll(map[string]string{config.LimitRequests: "nonsense", config.LimitEmails: "0/0s"}),
			config.Settings{}, nil},
		{"no slash", "request", with(config.LimitRequests, "10"), config.Settings{}, []string{`LIMIT_REQUESTS="10" is not a limit like 10/1m`}},
		{"no window", "request", with(config.LimitRequests, "10/"), config.Settings{}, []string{`LIMIT_REQUESTS="10/"`}},
		{"a zero count", "request", with(config.LimitEmails, "0/1h"), config.Settings{}, []string{`LIMIT_EMAILS="0/1h"`}},
		{"a count too large", "request", with(config.LimitEmails, "1000001/1h"), config.Settings{}, []string{`LIMIT_EMAILS`}},
		{"a window under a second", "confirm", with(config.LimitWrongTokens, "5/500ms"), config.Settings{}, []string{`LIMIT_WRONG_TOKENS="5/500ms"`, "from 1s to 744h"}},
		{"a window over a month", "confirm", with(config.LimitWrongTokens, "5/745h"), config.Settings{}, []string{`LIMIT_WRONG_TOKENS`}},
		{"every malformed one named", "request", withAll(map[string]string{config.LimitRequests: "x/1m", config.LimitEmails: "1/y"}),
			config.Settings{}, []string{"LIMIT_REQUESTS", "LIMIT_EMAILS"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := config.Read(tc.function, env(tc.env))
			if len(tc.wantErr) > 0 {
				if err == nil {
					t.Fatal("no error")
				}
				for _, w := range tc.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not say %q", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			limits := func(s config.Settings) []contact.Limit {
				return []contact.Limit{s.CreationLimit, s.EmailLimit, s.WrongTokenLimit}
			}
			if d := cmp.Diff(limits(tc.want), limits(got)); d != "" {
				t.Errorf("limits (-want +got):\n%s", d)
			}
		})
	}
}

// Every optional variable is one of the package's, read by a function that exists, and
// never also required.
func TestOptionalVariables(t *testing.T) {
	for f, vars := range config.Optional {
		if _, ok := config.Required[f]; !ok {
			t.Errorf("Optional names %q, which is no function of Required", f)
		}
		for _, v := range vars {
			if !slices.Contains(config.Variables, v) {
				t.Errorf("%s reads %s, which is not in config.Variables", f, v)
			}
			if slices.Contains(config.Required[f], v) {
				t.Errorf("%s both requires and optionally reads %s", f, v)
			}
		}
	}
}

func withAll(values map[string]string) map[string]string {
	m := without()
	for k, v := range values {
		m[k] = v
	}
	return m
}
