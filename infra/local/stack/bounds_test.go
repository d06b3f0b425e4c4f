package stack_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/servicecontacts/servicecontacts/infra/local/stack"
	"github.com/servicecontacts/servicecontacts/infra/local/stack/stacktest"
)

// maxLogLine bounds every line the stack logs: no input is written whole into a log line.
const maxLogLine = 2048

// Inputs far beyond every bound reach neither DynamoDB nor a log line whole: each is a 400
// or a 404 in the error format, on both backends. Both refuse a key over DynamoDB's bounds
// (2048 bytes for a partition key, 1024 for a sort key) with a ValidationException, so only
// the bounds the handlers and the store check keep the answers 400s and 404s.
func TestHugeInputsAreRefusedOnBothBackends(t *testing.T) {
	huge := strings.Repeat("a", 5000)
	hugeNIC := "xx" + strings.Repeat("1", 4992) + "-ovh"
	hugeToken := strings.Repeat("t", 5000)
	// A cursor of the form the store returns, whose keys are over DynamoDB's bounds.
	hugeCursor := base64.RawURLEncoding.EncodeToString([]byte(`{"i":"` + admin + `","k":"` + strings.Repeat("k", 3000) + `","r":"` + strings.Repeat("r", 3000) + `"}`))

	type call struct {
		name     string
		method   string
		path     string
		as       string // "customer", "operator" or "" for the public routes
		body     any    // JSON, or url.Values for a form
		status   int
		code     string // the error code, in JSON or on the HTML page
		htmlPage bool
	}
	id := huge
	calls := []call{
		{"get a request", "GET", "/me/contact-changes/" + id, "customer", nil, 404, "request_not_found", false},
		{"accept", "POST", "/me/contact-changes/" + id + "/accept", "customer", map[string]string{"token": "t"}, 404, "request_not_found", false},
		{"refuse", "POST", "/me/contact-changes/" + id + "/refuse", "customer", map[string]string{"token": "t"}, 404, "request_not_found", false},
		{"cancel", "POST", "/me/contact-changes/" + id + "/cancel", "customer", nil, 404, "request_not_found", false},
		{"resend", "POST", "/me/contact-changes/" + id + "/resend", "customer", nil, 404, "request_not_found", false},
		{"open the link", "GET", "/contact-changes/" + id + "/confirm?token=t", "", nil, 404, "request_not_found", true},
		{"answer from the link", "POST", "/contact-changes/" + id + "/confirm", "", url.Values{"token": {"t"}, "decision": {"accept"}}, 404, "request_not_found", true},
		{"operator gets a request", "GET", "/operator/contact-changes/" + id, "operator", nil, 404, "request_not_found", false},
		{"operator cancels", "POST", "/operator/contact-changes/" + id + "/cancel", "operator", map[string]string{"reason": "r"}, 404, "request_not_found", false},
		{"operator resends", "POST", "/operator/contact-changes/" + id + "/resend", "operator", nil, 404, "request_not_found", false},

		{"services cursor", "GET", "/me/services?cursor=" + huge, "customer", nil, 400, "invalid_cursor", false},
		{"requests cursor", "GET", "/me/contact-changes?cursor=" + huge, "customer", nil, 400, "invalid_cursor", false},
		{"requests cursor with keys over DynamoDB's bounds", "GET", "/me/contact-changes?cursor=" + hugeCursor, "customer", nil, 400, "invalid_cursor", false},
		{"operator cursor", "GET", "/operator/contact-changes?nic=" + admin + "&cursor=" + hugeCursor, "operator", nil, 400, "invalid_cursor", false},

		{"NIC in a request", "POST", "/services/example.com/contact-changes", "customer", map[string]string{"tech": hugeNIC}, 400, "invalid_nic", false},
		{"NIC of an account", "PUT", "/operator/accounts/" + hugeNIC, "operator", map[string]any{"email": "a@example.com", "language": "en", "goodStanding": true}, 400, "invalid_nic", false},
		{"NIC patched", "PATCH", "/operator/accounts/" + hugeNIC, "operator", map[string]any{"goodStanding": true}, 400, "invalid_nic", false},
		{"NIC searched", "GET", "/operator/contact-changes?nic=" + hugeNIC, "operator", nil, 400, "invalid_nic", false},

		{"token accepted", "POST", "/me/contact-changes/" + strings.Repeat("0", 32) + "/accept", "customer", map[string]string{"token": hugeToken}, 400, "malformed_token", false},
		{"token in the link", "GET", "/contact-changes/" + strings.Repeat("0", 32) + "/confirm?token=" + hugeToken, "", nil, 400, "malformed_token", true},
		{"token in the form", "POST", "/contact-changes/" + strings.Repeat("0", 32) + "/confirm", "", url.Values{"token": {hugeToken}, "decision": {"refuse"}}, 400, "malformed_token", true},

		{"service of a request", "POST", "/services/" + huge + "/contact-changes", "customer", map[string]string{"tech": newbie}, 400, "invalid_service_id", false},
		{"service put", "PUT", "/operator/services/" + huge, "operator", map[string]string{"type": "domain", "admin": admin, "tech": admin, "billing": admin}, 400, "invalid_service_id", false},
		{"service deleted", "DELETE", "/operator/services/" + huge, "operator", nil, 400, "invalid_service_id", false},
		{"service searched", "GET", "/operator/contact-changes?serviceId=" + huge, "operator", nil, 400, "invalid_service_id", false},
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			logs := &stacktest.LongestLine{}
			e := b.start(t, stack.Options{Logger: slog.New(slog.NewJSONHandler(logs, nil))})
			for _, c := range calls {
				t.Run(c.name, func(t *testing.T) {
					var r response
					switch form, isForm := c.body.(url.Values); {
					case isForm:
						req := mustRequest(t, c.method, e.base+c.path, strings.NewReader(form.Encode()))
						req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
						r = e.send(req)
					case c.as == "operator":
						r = e.operatorCall(c.method, c.path, c.body)
					case c.as == "customer":
						r = e.call(c.method, c.path, admin, c.body)
					default:
						r = e.send(mustRequest(t, c.method, e.base+c.path, nil))
					}
					if r.status != c.status {
						t.Fatalf("status %d, want %d: %.300s", r.status, c.status, r.body)
					}
					if len(r.body) > 8<<10 {
						t.Errorf("the answer is %d bytes long: the input is echoed", len(r.body))
					}
					if c.htmlPage {
						if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") || !bytes.Contains(r.body, []byte(c.code)) {
							t.Errorf("want an HTML page naming %s, got %s: %.300s", c.code, ct, r.body)
						}
						return
					}
					var body struct {
						Error struct{ Code, Message string } `json:"error"`
					}
					if err := json.Unmarshal(r.body, &body); err != nil || body.Error.Code != c.code {
						t.Errorf("want error %s, got %.300s", c.code, r.body)
					}
				})
			}
			if n, line := logs.Longest(); n > maxLogLine {
				t.Errorf("the stack logged a line of %d bytes, over %d: %.300s…", n, maxLogLine, line)
			}
		})
	}
}

// A path no route serves is API Gateway's JSON 404, not the local endpoints'.
func TestUnknownPathsAreAPIGatewaysNotFound(t *testing.T) {
	t.Parallel()
	e := start(t, stack.Options{})
	for _, path := range []string{"/nowhere", "/mee", "/me/profile", "/me/services/more", "/_localx", "/me/contact-changes//accept"} {
		r := e.send(mustRequest(t, "GET", e.base+path, nil))
		if r.status != http.StatusNotFound || string(r.body) != `{"message":"Not Found"}` || r.header.Get("Content-Type") != "application/json" {
			t.Errorf("GET %s: %d %s %q, want API Gateway's JSON 404", path, r.status, r.header.Get("Content-Type"), r.body)
		}
	}
	if r := e.send(mustRequest(t, "GET", e.base+"/_local/mail", nil)); r.status != http.StatusOK {
		t.Errorf("GET /_local/mail: %d, want the mail catcher's 200", r.status)
	}
}
