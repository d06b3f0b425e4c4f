package gateway

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/servicecontacts/servicecontacts/shared/api"
)

var (
	testSecret = []byte("test-secret")
	testNow    = time.Date(2026, 3, 12, 19, 3, 58, 0, time.UTC)
)

// echo is a function that answers 200 with the event it received, as JSON.
func echo(_ context.Context, event events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	body, err := json.Marshal(event)
	if err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	return events.APIGatewayV2HTTPResponse{
		StatusCode: http.StatusOK,
		Headers:    map[string]string{"Content-Type": "application/json"},
		Body:       string(body),
	}, nil
}

// counted wraps fn, counting its calls.
func counted(fn Function, calls *atomic.Int32) Function {
	return func(ctx context.Context, event events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		calls.Add(1)
		return fn(ctx, event)
	}
}

// allFunctions serves every function of the route table with fn.
func allFunctions(fn Function) map[string]Function {
	functions := make(map[string]Function)
	for _, r := range api.Routes {
		functions[r.Function] = fn
	}
	return functions
}

func newTestGateway(t *testing.T, fn Function, opts Options) *Gateway {
	t.Helper()
	if opts.Secret == nil {
		opts.Secret = testSecret
	}
	if opts.Now == nil {
		opts.Now = func() time.Time { return testNow }
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	g, err := New(api.Routes, allFunctions(fn), opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return g
}

func validToken(t *testing.T, claims map[string]any) string {
	t.Helper()
	token, err := Sign(testSecret, claims)
	if err != nil {
		t.Fatalf("Sign: %v", err)
	}
	return token
}

func bearer(t *testing.T) string {
	t.Helper()
	return "Bearer " + validToken(t, map[string]any{"sub": "xx11111-ovh", "exp": testNow.Add(time.Hour).Unix()})
}

// serve runs req through g and returns the response with its body read.
func serve(g http.Handler, req *http.Request) (*http.Response, []byte) {
	rec := httptest.NewRecorder()
	g.ServeHTTP(rec, req)
	resp := rec.Result()
	body, _ := io.ReadAll(resp.Body)
	return resp, body
}

// echoedEvent decodes the event an echo function answered with.
func echoedEvent(t *testing.T, resp *http.Response, body []byte) events.APIGatewayV2HTTPRequest {
	t.Helper()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d, want 200; body %s", resp.StatusCode, body)
	}
	var event events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(body, &event); err != nil {
		t.Fatalf("decode echoed event: %v; body %s", err, body)
	}
	return event
}

func TestRouting(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		method, path string
		wantStatus   int
		wantRouteKey string
		wantParams   map[string]string
	}{
		{"static route", "GET", "/me/services", 200, "GET /me/services", nil},
		{"one parameter", "GET", "/me/contact-changes/c0ffee", 200, "GET /me/contact-changes/{id}", map[string]string{"id": "c0ffee"}},
		{"parameter before a literal", "POST", "/services/example.com/contact-changes", 200, "POST /services/{serviceId}/contact-changes", map[string]string{"serviceId": "example.com"}},
		{"encoded parameter is decoded", "POST", "/services/a%2Fb%20c/contact-changes", 200, "POST /services/{serviceId}/contact-changes", map[string]string{"serviceId": "a/b c"}},
		{"same path, other method", "POST", "/contact-changes/c0ffee/confirm", 200, "POST /contact-changes/{id}/confirm", map[string]string{"id": "c0ffee"}},
		{"method without a route", "DELETE", "/me/services", 404, "", nil},
		{"unknown path", "GET", "/nowhere", 404, "", nil},
		{"trailing slash", "GET", "/me/services/", 404, "", nil},
		{"empty parameter", "POST", "/me/contact-changes//accept", 404, "", nil},
		{"extra segment", "GET", "/me/contact-changes/c0ffee/more", 404, "", nil},
		{"literal differs", "POST", "/me/contact-changes/c0ffee/approve", 404, "", nil},
	}
	var calls atomic.Int32
	g := newTestGateway(t, counted(echo, &calls), Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(tt.method, tt.path, nil)
			req.Header.Set("Authorization", bearer(t))
			before := calls.Load()
			resp, body := serve(g, req)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status %d, want %d; body %s", resp.StatusCode, tt.wantStatus, body)
			}
			if tt.wantStatus == http.StatusNotFound {
				if got, want := string(body), `{"message":"Not Found"}`; got != want {
					t.Errorf("body %s, want %s", got, want)
				}
				if calls.Load() != before {
					t.Error("a function was called for an unmatched request")
				}
				return
			}
			event := echoedEvent(t, resp, body)
			if event.RouteKey != tt.wantRouteKey || event.RequestContext.RouteKey != tt.wantRouteKey {
				t.Errorf("route keys %q and %q, want %q", event.RouteKey, event.RequestContext.RouteKey, tt.wantRouteKey)
			}
			if diff := cmp.Diff(tt.wantParams, event.PathParameters); diff != "" {
				t.Errorf("path parameters (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFallbackServesTheLocalPathsOnly(t *testing.T) {
	t.Parallel()
	fallback := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusTeapot)
	})
	tests := []struct {
		name         string
		method, path string
		wantStatus   int
	}{
		{"local endpoint", "GET", "/_local/mail", http.StatusTeapot},
		{"local endpoint, another method", "DELETE", "/_local/mail", http.StatusTeapot},
		{"local root", "GET", "/_local", http.StatusTeapot},
		{"unknown path", "GET", "/nowhere", http.StatusNotFound},
		{"root", "GET", "/", http.StatusNotFound},
		{"like a local path", "GET", "/_localx/mail", http.StatusNotFound},
		{"local path encoded", "GET", "/%5Flocal/mail", http.StatusTeapot},
		{"a route's path and more", "GET", "/me/services/more", http.StatusNotFound},
		{"empty path parameter", "POST", "/me/contact-changes//accept", http.StatusNotFound},
		{"route path with another method stays API Gateway's", "DELETE", "/me/services", http.StatusNotFound},
		{"route", "GET", "/contact-changes/c0ffee/confirm", http.StatusOK},
	}
	for _, withFallback := range []bool{true, false} {
		opts := Options{}
		if withFallback {
			opts.Fallback = fallback
		}
		g := newTestGateway(t, echo, opts)
		for _, tt := range tests {
			t.Run(fmt.Sprintf("%s/fallback %v", tt.name, withFallback), func(t *testing.T) {
				want := tt.wantStatus
				if want == http.StatusTeapot && !withFallback {
					want = http.StatusNotFound
				}
				resp, body := serve(g, httptest.NewRequest(tt.method, tt.path, nil))
				if resp.StatusCode != want {
					t.Fatalf("status %d, want %d; body %s", resp.StatusCode, want, body)
				}
				// API Gateway's own 404, JSON, as on AWS.
				if want == http.StatusNotFound {
					if got := string(body); got != `{"message":"Not Found"}` {
						t.Errorf("body %s, want API Gateway's", got)
					}
					if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
						t.Errorf("Content-Type %q, want application/json", ct)
					}
				}
			})
		}
	}
}

func TestEventIsPayloadFormat2(t *testing.T) {
	t.Parallel()
	g := newTestGateway(t, echo, Options{})
	auth := bearer(t)
	req := httptest.NewRequest("POST", "http://api.example.test:3000/me/contact-changes/c0ffee/accept?b=2&a=1&a=x%20y&token=abc", strings.NewReader(`{"token":"t"}`))
	req.RemoteAddr = "192.0.2.7:51234"
	req.Header.Set("Authorization", auth)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "curl/8.5.0")
	req.Header.Add("X-Custom", "one")
	req.Header.Add("X-Custom", "two")
	req.Header.Add("Cookie", "session=s1; theme=dark")
	req.Header.Add("Cookie", "lang=it")

	resp, body := serve(g, req)
	got := echoedEvent(t, resp, body)

	want := events.APIGatewayV2HTTPRequest{
		Version:        "2.0",
		RouteKey:       "POST /me/contact-changes/{id}/accept",
		RawPath:        "/me/contact-changes/c0ffee/accept",
		RawQueryString: "b=2&a=1&a=x%20y&token=abc",
		Cookies:        []string{"session=s1", "theme=dark", "lang=it"},
		Headers: map[string]string{
			"authorization":     auth,
			"content-type":      "application/json",
			"user-agent":        "curl/8.5.0",
			"x-custom":          "one,two",
			"host":              "api.example.test:3000",
			"x-forwarded-for":   "192.0.2.7",
			"x-forwarded-port":  "3000",
			"x-forwarded-proto": "http",
		},
		QueryStringParameters: map[string]string{"a": "1,x y", "b": "2", "token": "abc"},
		PathParameters:        map[string]string{"id": "c0ffee"},
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RouteKey:     "POST /me/contact-changes/{id}/accept",
			AccountID:    "000000000000",
			Stage:        "$default",
			APIID:        "local",
			DomainName:   "api.example.test:3000",
			DomainPrefix: "api",
			Time:         "12/Mar/2026:19:03:58 +0000",
			TimeEpoch:    testNow.UnixMilli(),
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method:    "POST",
				Path:      "/me/contact-changes/c0ffee/accept",
				Protocol:  "HTTP/1.1",
				SourceIP:  "192.0.2.7",
				UserAgent: "curl/8.5.0",
			},
			Authorizer: &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
				JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{
					Claims: map[string]string{"sub": "xx11111-ovh", "exp": "1773345838"},
				},
			},
		},
		Body: `{"token":"t"}`,
	}
	opts := cmp.Options{
		cmpopts.IgnoreFields(events.APIGatewayV2HTTPRequestContext{}, "RequestID"),
		cmpopts.IgnoreMapEntries(func(k, _ string) bool { return k == "content-length" }),
	}
	if diff := cmp.Diff(want, got, opts); diff != "" {
		t.Errorf("event (-want +got):\n%s", diff)
	}
	if got.RequestContext.RequestID == "" || got.RequestContext.RequestID != resp.Header.Get("Apigw-Requestid") {
		t.Errorf("request id %q in the event, %q in the apigw-requestid header; want the same non-empty id",
			got.RequestContext.RequestID, resp.Header.Get("Apigw-Requestid"))
	}
}

func TestAuthorizer(t *testing.T) {
	t.Parallel()
	hour := time.Hour
	sign := func(claims map[string]any) string { return validToken(t, claims) }
	withHeader := func(header string, claims map[string]any) string {
		h := b64url.EncodeToString([]byte(header))
		c, _ := json.Marshal(claims)
		input := h + "." + b64url.EncodeToString(c)
		return input + "." + b64url.EncodeToString(hs256(testSecret, input))
	}
	good := map[string]any{"sub": "xx11111-ovh", "exp": testNow.Add(hour).Unix()}
	otherSecret, _ := Sign([]byte("other-secret"), good)
	unsignedHeader := b64url.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`))
	unsignedClaims, _ := json.Marshal(good)
	unsigned := unsignedHeader + "." + b64url.EncodeToString(unsignedClaims) + "."

	tests := []struct {
		name          string
		authorization string
		wantStatus    int
		wantChallenge string
		wantClaims    map[string]string
	}{
		{
			name:          "no header",
			wantStatus:    401,
			wantChallenge: "Bearer",
		},
		{
			name:          "wrong scheme",
			authorization: "Basic " + sign(good),
			wantStatus:    401,
			wantChallenge: `Bearer scope="" error="invalid_token" error_description="the token header is malformed"`,
		},
		{
			name:          "not a JWT",
			authorization: "Bearer not-a-jwt",
			wantStatus:    401,
			wantChallenge: `Bearer scope="" error="invalid_token" error_description="the token is not a JWS compact serialization"`,
		},
		{
			name:          "signed with another secret",
			authorization: "Bearer " + otherSecret,
			wantStatus:    401,
			wantChallenge: `Bearer scope="" error="invalid_token" error_description="the token signature is invalid"`,
		},
		{
			name:          "tampered claims",
			authorization: "Bearer " + tamper(t, sign(good), map[string]any{"sub": "yy22222-ovh", "exp": testNow.Add(hour).Unix()}),
			wantStatus:    401,
			wantChallenge: `Bearer scope="" error="invalid_token" error_description="the token signature is invalid"`,
		},
		{
			name:          "alg none",
			authorization: "Bearer " + unsigned,
			wantStatus:    401,
			wantChallenge: `Bearer scope="" error="invalid_token" error_description="signing method none is invalid"`,
		},
		{
			name:          "alg HS512",
			authorization: "Bearer " + withHeader(`{"alg":"HS512"}`, good),
			wantStatus:    401,
			wantChallenge: `Bearer scope="" error="invalid_token" error_description="signing method HS512 is invalid"`,
		},
		{
			name:          "quotes in alg are escaped",
			authorization: "Bearer " + withHeader(`{"alg":"x\" error=\"y"}`, good),
			wantStatus:    401,
			wantChallenge: `Bearer scope="" error="invalid_token" error_description="signing method x\" error=\"y is invalid"`,
		},
		{
			name:          "expired",
			authorization: "Bearer " + sign(map[string]any{"sub": "xx11111-ovh", "exp": testNow.Unix()}),
			wantStatus:    401,
			wantChallenge: `Bearer scope="" error="invalid_token" error_description="the token has expired"`,
		},
		{
			name:          "not valid yet",
			authorization: "Bearer " + sign(map[string]any{"sub": "xx11111-ovh", "nbf": testNow.Add(time.Minute).Unix()}),
			wantStatus:    401,
			wantChallenge: `Bearer scope="" error="invalid_token" error_description="the token is not valid yet"`,
		},
		{
			name:          "exp not a number",
			authorization: "Bearer " + sign(map[string]any{"sub": "xx11111-ovh", "exp": "tomorrow"}),
			wantStatus:    401,
			wantChallenge: `Bearer scope="" error="invalid_token" error_description="the exp claim is not a numeric date"`,
		},
		{
			name:          "missing sub",
			authorization: "Bearer " + sign(map[string]any{"exp": testNow.Add(hour).Unix()}),
			wantStatus:    401,
			wantChallenge: `Bearer scope="" error="invalid_token" error_description="the token has no sub claim"`,
		},
		{
			name:          "sub not a string",
			authorization: "Bearer " + sign(map[string]any{"sub": 42}),
			wantStatus:    401,
			wantChallenge: `Bearer scope="" error="invalid_token" error_description="the token has no sub claim"`,
		},
		{
			name:          "good",
			authorization: "Bearer " + sign(good),
			wantStatus:    200,
			wantClaims:    map[string]string{"sub": "xx11111-ovh", "exp": "1773345838"},
		},
		{
			name:          "good, lowercase scheme",
			authorization: "bearer " + sign(good),
			wantStatus:    200,
			wantClaims:    map[string]string{"sub": "xx11111-ovh", "exp": "1773345838"},
		},
		{
			name:          "good, token alone as API Gateway's identity source allows",
			authorization: sign(good),
			wantStatus:    200,
			wantClaims:    map[string]string{"sub": "xx11111-ovh", "exp": "1773345838"},
		},
		{
			name:          "good without exp, every claim stringified",
			authorization: "Bearer " + sign(map[string]any{"sub": "xx11111-ovh", "nbf": testNow.Unix(), "groups": []string{"a", "b"}, "admin": true}),
			wantStatus:    200,
			wantClaims:    map[string]string{"sub": "xx11111-ovh", "nbf": "1773342238", "groups": "[a b]", "admin": "true"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var calls atomic.Int32
			g := newTestGateway(t, counted(echo, &calls), Options{})
			req := httptest.NewRequest("GET", "/me/services", nil)
			if tt.authorization != "" {
				req.Header.Set("Authorization", tt.authorization)
			}
			resp, body := serve(g, req)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status %d, want %d; body %s", resp.StatusCode, tt.wantStatus, body)
			}
			if tt.wantStatus == http.StatusUnauthorized {
				if got, want := string(body), `{"message":"Unauthorized"}`; got != want {
					t.Errorf("body %s, want %s", got, want)
				}
				if got := resp.Header.Get("Www-Authenticate"); got != tt.wantChallenge {
					t.Errorf("www-authenticate %s, want %s", got, tt.wantChallenge)
				}
				if calls.Load() != 0 {
					t.Error("the function was called for an unauthorized request")
				}
				return
			}
			event := echoedEvent(t, resp, body)
			want := &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
				JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: tt.wantClaims},
			}
			if diff := cmp.Diff(want, event.RequestContext.Authorizer); diff != "" {
				t.Errorf("authorizer (-want +got):\n%s", diff)
			}
		})
	}
}

// tamper swaps the claims of a signed token, keeping its header and signature.
func tamper(t *testing.T, token string, claims map[string]any) string {
	t.Helper()
	parts := strings.Split(token, ".")
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	return parts[0] + "." + b64url.EncodeToString(payload) + "." + parts[2]
}

func TestPublicRoutesHaveNoAuthorizer(t *testing.T) {
	t.Parallel()
	g := newTestGateway(t, echo, Options{})
	tests := []struct {
		name          string
		method        string
		authorization string
	}{
		{"GET without a token", "GET", ""},
		{"POST without a token", "POST", ""},
		{"GET with a bad token", "GET", "Bearer forged"},
		{"GET with a good token", "GET", bearer(t)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(tt.method, "/contact-changes/c0ffee/confirm?token=abc", nil)
			if tt.authorization != "" {
				req.Header.Set("Authorization", tt.authorization)
			}
			resp, body := serve(g, req)
			event := echoedEvent(t, resp, body)
			if event.RequestContext.Authorizer != nil {
				t.Errorf("authorizer %+v on a public route, want none", event.RequestContext.Authorizer)
			}
			if want := tt.method + " /contact-changes/{id}/confirm"; event.RouteKey != want {
				t.Errorf("route key %q, want %q", event.RouteKey, want)
			}
		})
	}
}

func TestRequestBodies(t *testing.T) {
	t.Parallel()
	g := newTestGateway(t, echo, Options{})
	binary := []byte{0x00, 0xff, 0x10, 'x'}
	tests := []struct {
		name        string
		contentType string
		body        []byte
		wantBody    string
		wantBase64  bool
	}{
		{"json", "application/json", []byte(`{"a":1}`), `{"a":1}`, false},
		{"json with charset", "application/json; charset=utf-8", []byte(`{"a":1}`), `{"a":1}`, false},
		{"plain text", "text/plain", []byte("héllo"), "héllo", false},
		{"html", "text/html", []byte("<p>"), "<p>", false},
		{"xml", "application/xml", []byte("<a/>"), "<a/>", false},
		{"form post is base64 as in HTTP API", "application/x-www-form-urlencoded", []byte("token=t&decision=accept"), base64.StdEncoding.EncodeToString([]byte("token=t&decision=accept")), true},
		{"no content type", "", []byte("raw"), base64.StdEncoding.EncodeToString([]byte("raw")), true},
		{"binary", "application/octet-stream", binary, base64.StdEncoding.EncodeToString(binary), true},
		{"empty body", "application/json", nil, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest("POST", "/contact-changes/c0ffee/confirm", bytes.NewReader(tt.body))
			if tt.contentType != "" {
				req.Header.Set("Content-Type", tt.contentType)
			}
			resp, body := serve(g, req)
			event := echoedEvent(t, resp, body)
			if event.Body != tt.wantBody || event.IsBase64Encoded != tt.wantBase64 {
				t.Errorf("body %q base64 %t, want %q base64 %t", event.Body, event.IsBase64Encoded, tt.wantBody, tt.wantBase64)
			}
		})
	}
}

func TestBodyLimit(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		size       int
		chunked    bool
		wantStatus int
	}{
		{"at the limit", maxBodyBytes, false, http.StatusOK},
		{"declared over the limit", maxBodyBytes + 1, false, http.StatusRequestEntityTooLarge},
		{"streamed over the limit", maxBodyBytes + 1, true, http.StatusRequestEntityTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var calls atomic.Int32
			ok := func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
				return events.APIGatewayV2HTTPResponse{StatusCode: http.StatusOK}, nil
			}
			g := newTestGateway(t, counted(ok, &calls), Options{})
			req := httptest.NewRequest("POST", "/contact-changes/c0ffee/confirm", bytes.NewReader(make([]byte, tt.size)))
			if tt.chunked {
				req.ContentLength = -1
			}
			resp, body := serve(g, req)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.wantStatus)
			}
			if tt.wantStatus == http.StatusRequestEntityTooLarge {
				if got, want := string(body), `{"message":"Request Entity Too Large"}`; got != want {
					t.Errorf("body %s, want %s", got, want)
				}
				if calls.Load() != 0 {
					t.Error("the function was called for a request over the limit")
				}
			}
		})
	}
}

func TestResponses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		response    events.APIGatewayV2HTTPResponse
		wantStatus  int
		wantHeaders http.Header
		wantBody    string
	}{
		{
			name: "headers, multi-value headers and cookies",
			response: events.APIGatewayV2HTTPResponse{
				StatusCode:        http.StatusCreated,
				Headers:           map[string]string{"Content-Type": "application/json", "x-single": "1"},
				MultiValueHeaders: map[string][]string{"X-Multi": {"a", "b"}},
				Cookies:           []string{"a=1; Path=/", "b=2; HttpOnly"},
				Body:              `{"ok":true}`,
			},
			wantStatus: http.StatusCreated,
			wantHeaders: http.Header{
				"Content-Type": {"application/json"},
				"X-Single":     {"1"},
				"X-Multi":      {"a", "b"},
				"Set-Cookie":   {"a=1; Path=/", "b=2; HttpOnly"},
			},
			wantBody: `{"ok":true}`,
		},
		{
			name: "base64 body is decoded",
			response: events.APIGatewayV2HTTPResponse{
				StatusCode:      http.StatusOK,
				Headers:         map[string]string{"Content-Type": "application/octet-stream"},
				Body:            base64.StdEncoding.EncodeToString([]byte{0, 1, 2, 0xff}),
				IsBase64Encoded: true,
			},
			wantStatus:  http.StatusOK,
			wantHeaders: http.Header{"Content-Type": {"application/octet-stream"}},
			wantBody:    string([]byte{0, 1, 2, 0xff}),
		},
		{
			name:        "no body",
			response:    events.APIGatewayV2HTTPResponse{StatusCode: http.StatusAccepted},
			wantStatus:  http.StatusAccepted,
			wantHeaders: http.Header{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fn := func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
				return tt.response, nil
			}
			g := newTestGateway(t, fn, Options{})
			resp, body := serve(g, httptest.NewRequest("POST", "/contact-changes/c0ffee/confirm", nil))
			if resp.StatusCode != tt.wantStatus {
				t.Errorf("status %d, want %d", resp.StatusCode, tt.wantStatus)
			}
			got := resp.Header.Clone()
			got.Del("Apigw-Requestid")
			if diff := cmp.Diff(tt.wantHeaders, got); diff != "" {
				t.Errorf("headers (-want +got):\n%s", diff)
			}
			if string(body) != tt.wantBody {
				t.Errorf("body %q, want %q", body, tt.wantBody)
			}
		})
	}
}

func TestFunctionFailuresAre500(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		fn   Function
	}{
		{"error", func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
			return events.APIGatewayV2HTTPResponse{StatusCode: http.StatusOK, Body: "ignored"}, errors.New("boom")
		}},
		{"panic", func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
			panic("boom")
		}},
		{"no status code", func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
			return events.APIGatewayV2HTTPResponse{Body: "forgot the status"}, nil
		}},
		{"body marked base64 but not", func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
			return events.APIGatewayV2HTTPResponse{StatusCode: http.StatusOK, Body: "%%%", IsBase64Encoded: true}, nil
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var logs bytes.Buffer
			g := newTestGateway(t, tt.fn, Options{Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
			resp, body := serve(g, httptest.NewRequest("GET", "/contact-changes/c0ffee/confirm", nil))
			if resp.StatusCode != http.StatusInternalServerError {
				t.Errorf("status %d, want 500", resp.StatusCode)
			}
			if got, want := string(body), `{"message":"Internal Server Error"}`; got != want {
				t.Errorf("body %s, want %s", got, want)
			}
			if !strings.Contains(logs.String(), `"msg":"function failed"`) {
				t.Errorf("the failure was not logged:\n%s", logs.String())
			}
		})
	}
}

func TestRequestIDsAreUnique(t *testing.T) {
	t.Parallel()
	g := newTestGateway(t, echo, Options{})
	seen := make(map[string]bool)
	for range 50 {
		resp, body := serve(g, httptest.NewRequest("GET", "/contact-changes/c0ffee/confirm", nil))
		event := echoedEvent(t, resp, body)
		id := resp.Header.Get("Apigw-Requestid")
		if id == "" || id != event.RequestContext.RequestID {
			t.Fatalf("apigw-requestid %q, event request id %q: want the same non-empty id", id, event.RequestContext.RequestID)
		}
		if seen[id] {
			t.Fatalf("request id %q issued twice", id)
		}
		seen[id] = true
	}
	resp, _ := serve(g, httptest.NewRequest("GET", "/nowhere", nil))
	if resp.Header.Get("Apigw-Requestid") == "" {
		t.Error("no apigw-requestid header on API Gateway's own 404")
	}
}

func TestAccessLog(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		target     string
		wantPath   string
		wantStatus int
	}{
		{"token redacted", "/contact-changes/c0ffee/confirm?lang=it&token=s3cr3t-value", "/contact-changes/c0ffee/confirm?lang=it&token=REDACTED", 200},
		{"encoded token name redacted", "/contact-changes/c0ffee/confirm?%74oken=s3cr3t-value", "/contact-changes/c0ffee/confirm?%74oken=REDACTED", 200},
		{"repeated token redacted", "/contact-changes/c0ffee/confirm?token=s3cr3t-value&token=s3cr3t-value", "/contact-changes/c0ffee/confirm?token=REDACTED&token=REDACTED", 200},
		{"no query", "/me/services", "/me/services", 401},
		{"path of 5,000 characters cut", "/me/contact-changes/" + strings.Repeat("a", 5000), "/me/contact-changes/" + strings.Repeat("a", maxLoggedLength-len("/me/contact-changes/")) + "…", 401},
		{"query cut after the token is redacted", "/contact-changes/c0ffee/confirm?token=s3cr3t-value&x=" + strings.Repeat("b", 5000), "/contact-changes/c0ffee/confirm?token=REDACTED&x=" + strings.Repeat("b", maxLoggedLength-len("/contact-changes/c0ffee/confirm?token=REDACTED&x=")) + "…", 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var logs bytes.Buffer
			g := newTestGateway(t, echo, Options{Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
			resp, _ := serve(g, httptest.NewRequest("GET", tt.target, nil))
			if strings.Contains(logs.String(), "s3cr3t") {
				t.Fatalf("the token reached the log:\n%s", logs.String())
			}
			var entry struct {
				Msg       string `json:"msg"`
				Method    string `json:"method"`
				Path      string `json:"path"`
				Status    int    `json:"status"`
				RequestID string `json:"apigwRequestId"`
			}
			lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
			if err := json.Unmarshal([]byte(lines[len(lines)-1]), &entry); err != nil {
				t.Fatalf("decode access log entry: %v\n%s", err, logs.String())
			}
			want := struct {
				Msg       string `json:"msg"`
				Method    string `json:"method"`
				Path      string `json:"path"`
				Status    int    `json:"status"`
				RequestID string `json:"apigwRequestId"`
			}{"request", "GET", tt.wantPath, tt.wantStatus, resp.Header.Get("Apigw-Requestid")}
			if diff := cmp.Diff(want, entry); diff != "" {
				t.Errorf("access log entry (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNewRefusesBadConfigurations(t *testing.T) {
	t.Parallel()
	functions := allFunctions(echo)
	tests := []struct {
		name      string
		routes    []api.Route
		functions map[string]Function
		secret    []byte
		wantErr   string
	}{
		{"missing function", api.Routes, map[string]Function{api.FunctionList: echo}, testSecret, `no function "request"`},
		{"empty secret", api.Routes, functions, nil, "empty JWT secret"},
		{"duplicate route", []api.Route{{Method: "GET", Path: "/a", Function: api.FunctionList}, {Method: "GET", Path: "/a", Function: api.FunctionList}}, functions, testSecret, "declared twice"},
		{"relative path", []api.Route{{Method: "GET", Path: "a", Function: api.FunctionList}}, functions, testSecret, "does not start with /"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.routes, tt.functions, Options{Secret: tt.secret})
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("New: error %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestOverARealServer(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(newTestGateway(t, echo, Options{}))
	t.Cleanup(srv.Close)

	req, err := http.NewRequest("POST", srv.URL+"/services/example.com/contact-changes?x=1", strings.NewReader(`{"tech":"yy22222-ovh"}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", bearer(t))
	req.Header.Set("Content-Type", "application/json")
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatalf("POST: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read response: %v", err)
	}
	event := echoedEvent(t, resp, body)

	host := strings.TrimPrefix(srv.URL, "http://")
	got := map[string]string{
		"body":           event.Body,
		"host":           event.Headers["host"],
		"content-length": event.Headers["content-length"],
		"domainName":     event.RequestContext.DomainName,
		"protocol":       event.RequestContext.HTTP.Protocol,
		"sourceIp":       event.RequestContext.HTTP.SourceIP,
		"userAgent":      event.RequestContext.HTTP.UserAgent,
		"sub":            event.RequestContext.Authorizer.JWT.Claims["sub"],
	}
	want := map[string]string{
		"body":           `{"tech":"yy22222-ovh"}`,
		"host":           host,
		"content-length": "22",
		"domainName":     host,
		"protocol":       "HTTP/1.1",
		"sourceIp":       "127.0.0.1",
		"userAgent":      "Go-http-client/1.1",
		"sub":            "xx11111-ovh",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("event (-want +got):\n%s", diff)
	}
}
