package gateway

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"

	"github.com/servicecontacts/servicecontacts/shared/api"
)

const (
	console = "https://console.example.com"
	dev     = "http://127.0.0.1:5173"
)

// corsHeaders are the response's Access-Control-* and Vary headers.
func corsHeaders(resp *http.Response) http.Header {
	got := http.Header{}
	for name, values := range resp.Header {
		if strings.HasPrefix(name, "Access-Control-") || name == "Vary" {
			got[name] = values
		}
	}
	return got
}

func TestPreflight(t *testing.T) {
	t.Parallel()
	allowed := http.Header{
		"Access-Control-Allow-Origin":  {console},
		"Access-Control-Allow-Methods": {"GET,POST"},
		"Access-Control-Allow-Headers": {"authorization,content-type"},
		"Access-Control-Max-Age":       {"3600"},
		"Vary":                         {"Origin"},
	}
	tests := []struct {
		name          string
		origins       []string
		path          string
		origin        string
		requestMethod string
		authorization string
		wantStatus    int
		wantHeaders   http.Header
	}{
		{
			name:          "listed origin, customer route",
			origins:       []string{console, dev},
			path:          "/me/contact-changes",
			origin:        console,
			requestMethod: "GET",
			wantStatus:    204,
			wantHeaders:   allowed,
		},
		{
			name:          "listed origin, route with parameters and POST",
			origins:       []string{console},
			path:          "/me/contact-changes/c0ffee/accept",
			origin:        console,
			requestMethod: "POST",
			wantStatus:    204,
			wantHeaders:   allowed,
		},
		{
			name:          "the permissions do not depend on what is asked",
			origins:       []string{console},
			path:          "/me/services",
			origin:        console,
			requestMethod: "DELETE",
			wantStatus:    204,
			wantHeaders:   allowed,
		},
		{
			name:          "an operator route's preflight needs no signature either",
			origins:       []string{console},
			path:          "/operator/contact-changes",
			origin:        console,
			requestMethod: "GET",
			wantStatus:    204,
			wantHeaders:   allowed,
		},
		{
			name:          "a bad token is not looked at",
			origins:       []string{console},
			path:          "/me/services",
			origin:        console,
			requestMethod: "GET",
			authorization: "Bearer forged",
			wantStatus:    204,
			wantHeaders:   allowed,
		},
		{
			name:          "any path of the API",
			origins:       []string{console},
			path:          "/nowhere",
			origin:        console,
			requestMethod: "GET",
			wantStatus:    204,
			wantHeaders:   allowed,
		},
		{
			name:          "origin matched whatever its case",
			origins:       []string{"HTTPS://Console.Example.com/"},
			path:          "/me/services",
			origin:        console,
			requestMethod: "GET",
			wantStatus:    204,
			wantHeaders:   allowed,
		},
		{
			name:          "origin not listed",
			origins:       []string{console},
			path:          "/me/services",
			origin:        "https://evil.example",
			requestMethod: "GET",
			wantStatus:    204,
			wantHeaders:   http.Header{"Vary": {"Origin"}},
		},
		{
			name:          "another port is another origin",
			origins:       []string{dev},
			path:          "/me/services",
			origin:        "http://127.0.0.1:5174",
			requestMethod: "GET",
			wantStatus:    204,
			wantHeaders:   http.Header{"Vary": {"Origin"}},
		},
		{
			name:          "another scheme is another origin",
			origins:       []string{console},
			path:          "/me/services",
			origin:        "http://console.example.com",
			requestMethod: "GET",
			wantStatus:    204,
			wantHeaders:   http.Header{"Vary": {"Origin"}},
		},
		{
			name:          "any origin",
			origins:       []string{"*"},
			path:          "/me/services",
			origin:        "https://anywhere.example",
			requestMethod: "GET",
			wantStatus:    204,
			wantHeaders: http.Header{
				"Access-Control-Allow-Origin":  {"*"},
				"Access-Control-Allow-Methods": {"GET,POST"},
				"Access-Control-Allow-Headers": {"authorization,content-type"},
				"Access-Control-Max-Age":       {"3600"},
			},
		},
		{
			name:       "OPTIONS without Access-Control-Request-Method is no preflight",
			origins:    []string{console},
			path:       "/me/services",
			origin:     console,
			wantStatus: 404,
			wantHeaders: http.Header{
				"Access-Control-Allow-Origin":   {console},
				"Access-Control-Expose-Headers": {"apigw-requestid,retry-after"},
				"Vary":                          {"Origin"},
			},
		},
		{
			name:          "no CORS configured: OPTIONS has no route",
			path:          "/me/services",
			origin:        console,
			requestMethod: "GET",
			wantStatus:    404,
			wantHeaders:   http.Header{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var calls atomic.Int32
			g := newTestGateway(t, counted(echo, &calls), Options{CORSOrigins: tt.origins})
			req := httptest.NewRequest("OPTIONS", tt.path, nil)
			req.Header.Set("Origin", tt.origin)
			if tt.requestMethod != "" {
				req.Header.Set("Access-Control-Request-Method", tt.requestMethod)
				req.Header.Set("Access-Control-Request-Headers", "authorization")
			}
			if tt.authorization != "" {
				req.Header.Set("Authorization", tt.authorization)
			}
			resp, body := serve(g, req)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status %d, want %d; body %s", resp.StatusCode, tt.wantStatus, body)
			}
			if tt.wantStatus == http.StatusNoContent && len(body) != 0 {
				t.Errorf("preflight answer has a body: %q", body)
			}
			if diff := cmp.Diff(tt.wantHeaders, corsHeaders(resp)); diff != "" {
				t.Errorf("CORS headers (-want +got):\n%s", diff)
			}
			if resp.Header.Get("Apigw-Requestid") == "" {
				t.Error("no apigw-requestid header")
			}
			if calls.Load() != 0 {
				t.Error("a function was called for an OPTIONS request")
			}
		})
	}
}

func TestCORSOnActualResponses(t *testing.T) {
	t.Parallel()
	// A function that sets CORS headers of its own, which API Gateway ignores once the API
	// has a CORS configuration.
	permissive := func(_ context.Context, _ events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		return events.APIGatewayV2HTTPResponse{
			StatusCode: http.StatusOK,
			Headers: map[string]string{
				"Content-Type":                 "application/json",
				"Access-Control-Allow-Origin":  "*",
				"access-control-allow-methods": "PUT",
				"Vary":                         "Accept-Language",
			},
			Body: `{}`,
		}, nil
	}
	listed := http.Header{
		"Access-Control-Allow-Origin":   {console},
		"Access-Control-Expose-Headers": {"apigw-requestid,retry-after"},
		"Vary":                          {"Accept-Language", "Origin"},
	}
	refusedListed := http.Header{
		"Access-Control-Allow-Origin":   {console},
		"Access-Control-Expose-Headers": {"apigw-requestid,retry-after"},
		"Vary":                          {"Origin"},
	}
	tests := []struct {
		name          string
		origins       []string
		method, path  string
		origin        string
		authorization bool
		wantStatus    int
		wantHeaders   http.Header
	}{
		{"listed origin", []string{console}, "GET", "/me/services", console, true, 200, listed},
		{"listed origin, public route", []string{console}, "GET", "/contact-changes/c0ffee/confirm", console, false, 200, listed},
		{"listed origin can read a 401", []string{console}, "GET", "/me/services", console, false, 401, refusedListed},
		{"listed origin can read a 404", []string{console}, "GET", "/nowhere", console, true, 404, refusedListed},
		{"origin not listed: the function's CORS headers are dropped too", []string{console}, "GET", "/me/services", "https://evil.example", true, 200, http.Header{"Vary": {"Accept-Language", "Origin"}}},
		{"no Origin", []string{console}, "GET", "/me/services", "", true, 200, http.Header{"Vary": {"Accept-Language", "Origin"}}},
		{"any origin", []string{"*"}, "GET", "/me/services", dev, true, 200, http.Header{
			"Access-Control-Allow-Origin":   {"*"},
			"Access-Control-Expose-Headers": {"apigw-requestid,retry-after"},
			"Vary":                          {"Accept-Language"},
		}},
		{"no CORS configured: the function's answer as it is", nil, "GET", "/me/services", console, true, 200, http.Header{
			"Access-Control-Allow-Origin":  {"*"},
			"Access-Control-Allow-Methods": {"PUT"},
			"Vary":                         {"Accept-Language"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			g := newTestGateway(t, permissive, Options{CORSOrigins: tt.origins})
			req := httptest.NewRequest(tt.method, tt.path, nil)
			if tt.origin != "" {
				req.Header.Set("Origin", tt.origin)
			}
			if tt.authorization {
				req.Header.Set("Authorization", bearer(t))
			}
			resp, body := serve(g, req)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status %d, want %d; body %s", resp.StatusCode, tt.wantStatus, body)
			}
			if diff := cmp.Diff(tt.wantHeaders, corsHeaders(resp)); diff != "" {
				t.Errorf("CORS headers (-want +got):\n%s", diff)
			}
		})
	}
}

// The local endpoints behind the fallback are no part of the API: no CORS for them.
func TestCORSLeavesTheFallbackAlone(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	fallback := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		calls.Add(1)
		w.WriteHeader(http.StatusTeapot)
	})
	g := newTestGateway(t, echo, Options{CORSOrigins: []string{console}, Fallback: fallback})
	for _, method := range []string{"GET", "OPTIONS"} {
		req := httptest.NewRequest(method, "/_local/mail", nil)
		req.Header.Set("Origin", console)
		req.Header.Set("Access-Control-Request-Method", "GET")
		resp, _ := serve(g, req)
		if resp.StatusCode != http.StatusTeapot {
			t.Errorf("%s: status %d, want the fallback's 418", method, resp.StatusCode)
		}
		if h := corsHeaders(resp); len(h) != 0 {
			t.Errorf("%s: CORS headers %v on a local endpoint", method, h)
		}
	}
	if calls.Load() != 2 {
		t.Errorf("the fallback served %d requests, want 2", calls.Load())
	}
}

// Browsers may call every customer route: CORS allows their methods and what they send.
func TestCORSCoversTheCustomerRoutes(t *testing.T) {
	t.Parallel()
	for _, r := range api.Routes {
		if r.Operator {
			continue
		}
		if !slices.Contains(CORS.AllowMethods, r.Method) {
			t.Errorf("route %s: method not in CORS.AllowMethods %v", r.Key(), CORS.AllowMethods)
		}
	}
	for _, h := range []string{"authorization", "content-type"} {
		if !slices.Contains(CORS.AllowHeaders, h) {
			t.Errorf("CORS.AllowHeaders %v lacks %s", CORS.AllowHeaders, h)
		}
	}
	if CORS.MaxAge <= 0 || CORS.MaxAge > 86400 {
		t.Errorf("CORS.MaxAge %d is outside API Gateway's 0 to 86400", CORS.MaxAge)
	}
}

func TestParseCORSOrigins(t *testing.T) {
	t.Parallel()
	tests := []struct {
		list    string
		want    []string
		wantErr bool
	}{
		{"", nil, false},
		{" , ", nil, false},
		{console, []string{console}, false},
		{"https://Console.Example.com/, http://127.0.0.1:5173", []string{console, dev}, false},
		{"*", []string{"*"}, false},
		{"console.example.com", nil, true},
		{"ftp://console.example.com", nil, true},
		{"https://console.example.com/app", nil, true},
		{"https://console.example.com?x=1", nil, true},
		{"https://user@console.example.com", nil, true},
		{"https://", nil, true},
	}
	for _, tt := range tests {
		got, err := ParseCORSOrigins(tt.list)
		if (err != nil) != tt.wantErr {
			t.Errorf("ParseCORSOrigins(%q): error %v, want error %t", tt.list, err, tt.wantErr)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("ParseCORSOrigins(%q) (-want +got):\n%s", tt.list, diff)
		}
	}
}

func TestNewRefusesBadAuthAndCORSSettings(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		opts    Options
		wantErr string
	}{
		{"origin with a path", Options{Secret: testSecret, CORSOrigins: []string{"https://console.example.com/app"}}, "is not an origin"},
		{"origin without scheme", Options{Secret: testSecret, CORSOrigins: []string{"console.example.com"}}, "is not an origin"},
		{"identity claim of operators", Options{Secret: testSecret, IdentityClaim: "operator"}, "cannot be"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(api.Routes, allFunctions(echo), tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("New: error %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}
