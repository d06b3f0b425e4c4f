// Package config reads a function's settings from its environment, once at start-up: the
// variables it needs, the AWS configuration, and the adapters it is given (Ports), which its
// main builds into the domain. Which variables each function needs is one table, Required,
// that the mains read through Load and the template's tests hold template.yaml to. A missing or malformed setting stops the function at start-up, never
// inside a request.
package config

import (
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/servicecontacts/servicecontacts/shared/contact"
	"github.com/servicecontacts/servicecontacts/shared/store"
)

// The environment variables the functions read.
const (
	ContactsTable        = "CONTACTS_TABLE"
	RequestsTable        = "REQUESTS_TABLE"
	StateMachineARN      = "STATE_MACHINE_ARN"
	MailFrom             = "MAIL_FROM"
	MailConfigurationSet = "MAIL_CONFIGURATION_SET"
	PublicBaseURL        = "PUBLIC_BASE_URL"
	RequestExpiry        = "REQUEST_EXPIRY"
	EventBusName         = "EVENT_BUS_NAME"
	IdentityClaim        = "IDENTITY_CLAIM"
	// The abuse limits, each a count and a window, like "10/1m": the requests one caller
	// may create, the emails one account may be sent on others' behalf, and the wrong
	// tokens one source may present for one request. Optional: unset, the domain's
	// defaults hold.
	LimitRequests    = "LIMIT_REQUESTS"
	LimitEmails      = "LIMIT_EMAILS"
	LimitWrongTokens = "LIMIT_WRONG_TOKENS"
)

// Variables lists every variable of this package, in the order of the constants.
var Variables = []string{
	ContactsTable, RequestsTable, StateMachineARN, MailFrom, MailConfigurationSet,
	PublicBaseURL, RequestExpiry, EventBusName, IdentityClaim,
	LimitRequests, LimitEmails, LimitWrongTokens,
}

// Groups of variables that go together.
var (
	tables = []string{ContactsTable, RequestsTable}
	// mailing: the sender, the SES configuration set that publishes bounces, and the base
	// of the emailed links.
	mailing = []string{MailFrom, MailConfigurationSet, PublicBaseURL}
)

func with(groups ...[]string) []string { return slices.Concat(groups...) }

// Required names, for each function (its folder under functions/), every variable it reads;
// it starts only when all are set. A function that changes requests or services publishes
// their events (EVENT_BUS_NAME); the customers' API functions read the caller's NIC from a
// JWT claim (IDENTITY_CLAIM); those that email need mailing; those that start or describe
// executions need the state machine's ARN.
var Required = map[string][]string{
	"list":      with(tables, []string{IdentityClaim}),
	"request":   with(tables, mailing, []string{StateMachineARN, RequestExpiry, EventBusName, IdentityClaim}),
	"confirm":   with(tables, mailing, []string{EventBusName, IdentityClaim}),
	"resend":    with(tables, mailing, []string{EventBusName, IdentityClaim}),
	"operator":  with(tables, mailing, []string{EventBusName}),
	"await":     with(tables),
	"apply":     with(tables, mailing, []string{EventBusName}),
	"finish":    with(tables, mailing, []string{EventBusName}),
	"reconcile": with(tables, mailing, []string{StateMachineARN, EventBusName}),
	"bounce":    with(tables, []string{EventBusName}),
}

// Optional names, for the functions that read some, the variables read when they are set
// and left to the domain's defaults otherwise: the functions that create requests or send
// tokens read the limits they enforce.
var Optional = map[string][]string{
	"request":  {LimitRequests, LimitEmails},
	"resend":   {LimitEmails},
	"operator": {LimitEmails},
	"confirm":  {LimitWrongTokens},
}

// The bounds of a limit's count and window.
const (
	MaxLimitCount  = 1_000_000
	MinLimitWindow = time.Second
	MaxLimitWindow = 744 * time.Hour // 31 days
)

// The bounds of REQUEST_EXPIRY on a deployed function; the template's RequestExpiry
// parameter allows the same range.
const (
	MinExpiry = time.Hour
	MaxExpiry = 8760 * time.Hour // 365 days
)

// Settings are one function's settings. Only the fields of the variables Required and
// Optional name for the function are set.
type Settings struct {
	Function             string
	Tables               store.Tables
	StateMachineARN      string
	MailFrom             string
	MailConfigurationSet string
	PublicBaseURL        string // without a trailing slash
	Expiry               time.Duration
	EventBusName         string
	IdentityClaim        string
	// The abuse limits; zero where the variable is unset.
	CreationLimit   contact.Limit
	EmailLimit      contact.Limit
	WrongTokenLimit contact.Limit
}

// Load reads function's settings from the process environment.
func Load(function string) (Settings, error) {
	return Read(function, os.Getenv)
}

// Read reads function's settings through getenv. The error names every variable that is
// missing, and every one that is malformed.
func Read(function string, getenv func(string) string) (Settings, error) {
	required, ok := Required[function]
	if !ok {
		return Settings{}, fmt.Errorf("no settings for function %q", function)
	}
	var missing, bad []string
	value := map[string]string{}
	for _, name := range required {
		v := strings.TrimSpace(getenv(name))
		if v == "" {
			missing = append(missing, name)
		}
		value[name] = v
	}
	for _, name := range Optional[function] {
		value[name] = strings.TrimSpace(getenv(name))
	}
	s := Settings{
		Function:             function,
		Tables:               store.Tables{Contacts: value[ContactsTable], Requests: value[RequestsTable]},
		StateMachineARN:      value[StateMachineARN],
		MailFrom:             value[MailFrom],
		MailConfigurationSet: value[MailConfigurationSet],
		PublicBaseURL:        strings.TrimRight(value[PublicBaseURL], "/"),
		EventBusName:         value[EventBusName],
		IdentityClaim:        value[IdentityClaim],
	}
	if v := value[RequestExpiry]; v != "" {
		d, err := ParseExpiry(v)
		if err == nil && (d < MinExpiry || d > MaxExpiry) {
			err = fmt.Errorf("%s=%q is not between %s and %s", RequestExpiry, v, formatHours(MinExpiry), formatHours(MaxExpiry))
		}
		if err != nil {
			bad = append(bad, err.Error())
		}
		s.Expiry = d
	}
	if v := s.PublicBaseURL; v != "" {
		if u, err := url.Parse(v); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			bad = append(bad, fmt.Sprintf("%s=%q is not an http(s) URL without query or fragment", PublicBaseURL, v))
		}
	}
	for name, limit := range map[string]*contact.Limit{LimitRequests: &s.CreationLimit, LimitEmails: &s.EmailLimit, LimitWrongTokens: &s.WrongTokenLimit} {
		if v := value[name]; v != "" {
			l, err := ParseLimit(name, v)
			if err != nil {
				bad = append(bad, err.Error())
			}
			*limit = l
		}
	}
	slices.Sort(bad) // the limits were read in map order
	var problems []string
	if len(missing) > 0 {
		problems = append(problems, "missing environment variables: "+strings.Join(missing, ", "))
	}
	problems = append(problems, bad...)
	if len(problems) > 0 {
		return Settings{}, fmt.Errorf("settings of function %s: %s", function, strings.Join(problems, "; "))
	}
	return s, nil
}

// ParseExpiry reads a REQUEST_EXPIRY value: a positive Go duration such as 336h or 30m.
// This is the only parser of it; a deployed function also holds it within MinExpiry and
// MaxExpiry (Read), the local stack accepts shorter ones to watch a request expire.
func ParseExpiry(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%s=%q is not a positive duration like 336h", RequestExpiry, s)
	}
	return d, nil
}

// ParseLimit reads the value of the limit variable name: a count, a slash and a window,
// like 10/1m or 20/1h.
func ParseLimit(name, v string) (contact.Limit, error) {
	count, window, ok := strings.Cut(v, "/")
	n, errN := strconv.Atoi(strings.TrimSpace(count))
	d, errD := time.ParseDuration(strings.TrimSpace(window))
	if !ok || errN != nil || errD != nil || n < 1 || n > MaxLimitCount || d < MinLimitWindow || d > MaxLimitWindow {
		return contact.Limit{}, fmt.Errorf("%s=%q is not a limit like 10/1m: a count from 1 to %d, a slash, a window from %s to %s",
			name, v, MaxLimitCount, MinLimitWindow, formatHours(MaxLimitWindow))
	}
	return contact.Limit{Max: n, Window: d}, nil
}

func formatHours(d time.Duration) string { return fmt.Sprintf("%dh", d/time.Hour) }

// Logger logs JSON (with the Lambda log format set to JSON) with the invocation's request id
// on every line.
func Logger() *slog.Logger {
	return lambdacontext.NewLogger()
}

// Exit logs why a function cannot start and stops it.
func Exit(log *slog.Logger, err error) {
	log.Error("cannot start", "err", err)
	os.Exit(1)
}
