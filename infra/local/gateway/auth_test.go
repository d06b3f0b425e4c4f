package gateway

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"

	"github.com/servicecontacts/servicecontacts/shared/api"
)

// ownRoutes is a route of each kind, so that these tests do not depend on the API's table.
var ownRoutes = []api.Route{
	{Method: "GET", Path: "/me/things", Function: "customer"},
	{Method: "GET", Path: "/things/{id}/page", Function: "public", Public: true},
	{Method: "PUT", Path: "/operator/things/{id}", Function: "operator", Operator: true},
}

func newOwnGateway(t *testing.T, fn Function, opts Options) *Gateway {
	t.Helper()
	if opts.Secret == nil {
		opts.Secret = testSecret
	}
	if opts.Now == nil {
		opts.Now = func() time.Time { return testNow }
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	g, err := New(ownRoutes, map[string]Function{"customer": fn, "public": fn, "operator": fn}, opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return g
}

func TestIdentityClaim(t *testing.T) {
	t.Parallel()
	exp := testNow.Add(time.Hour).Unix()
	tests := []struct {
		name          string
		identityClaim string
		claims        map[string]any
		wantStatus    int
		wantChallenge string
		wantClaims    map[string]string
	}{
		{
			name:       "default claim sub",
			claims:     map[string]any{"sub": "xx11111-ovh", "exp": exp},
			wantStatus: 200,
			wantClaims: map[string]string{"sub": "xx11111-ovh", "exp": "1773345838"},
		},
		{
			name:          "sub named explicitly",
			identityClaim: "sub",
			claims:        map[string]any{"sub": "xx11111-ovh"},
			wantStatus:    200,
			wantClaims:    map[string]string{"sub": "xx11111-ovh"},
		},
		{
			name:          "Cognito's custom:nic, every claim passed on as a string",
			identityClaim: "custom:nic",
			claims:        map[string]any{"sub": "5f0c2a8e-uuid", "custom:nic": "xx11111-ovh", "token_use": "access", "auth_time": 1773340000, "exp": exp},
			wantStatus:    200,
			wantClaims:    map[string]string{"sub": "5f0c2a8e-uuid", "custom:nic": "xx11111-ovh", "token_use": "access", "auth_time": "1773340000", "exp": "1773345838"},
		},
		{
			name:          "custom:nic alone",
			identityClaim: "custom:nic",
			claims:        map[string]any{"custom:nic": "xx11111-ovh"},
			wantStatus:    200,
			wantClaims:    map[string]string{"custom:nic": "xx11111-ovh"},
		},
		{
			name:          "custom:nic missing though sub is there",
			identityClaim: "custom:nic",
			claims:        map[string]any{"sub": "xx11111-ovh", "exp": exp},
			wantStatus:    401,
			wantChallenge: `Bearer scope="" error="invalid_token" error_description="the token has no custom:nic claim"`,
		},
		{
			name:          "custom:nic empty",
			identityClaim: "custom:nic",
			claims:        map[string]any{"custom:nic": ""},
			wantStatus:    401,
			wantChallenge: `Bearer scope="" error="invalid_token" error_description="the token has no custom:nic claim"`,
		},
		{
			name:          "custom:nic not a string",
			identityClaim: "custom:nic",
			claims:        map[string]any{"custom:nic": []string{"xx11111-ovh"}},
			wantStatus:    401,
			wantChallenge: `Bearer scope="" error="invalid_token" error_description="the token has no custom:nic claim"`,
		},
		{
			name:          "an expired token is refused before its claims are read",
			identityClaim: "custom:nic",
			claims:        map[string]any{"custom:nic": "xx11111-ovh", "exp": testNow.Unix()},
			wantStatus:    401,
			wantChallenge: `Bearer scope="" error="invalid_token" error_description="the token has expired"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var calls atomic.Int32
			g := newOwnGateway(t, counted(echo, &calls), Options{IdentityClaim: tt.identityClaim})
			req := httptest.NewRequest("GET", "/me/things", nil)
			req.Header.Set("Authorization", "Bearer "+validToken(t, tt.claims))
			resp, body := serve(g, req)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status %d, want %d; body %s", resp.StatusCode, tt.wantStatus, body)
			}
			if tt.wantStatus == http.StatusUnauthorized {
				if got := resp.Header.Get("Www-Authenticate"); got != tt.wantChallenge {
					t.Errorf("www-authenticate %s, want %s", got, tt.wantChallenge)
				}
				if calls.Load() != 0 {
					t.Error("the function was called for an unauthorized request")
				}
				return
			}
			want := &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
				JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: tt.wantClaims},
			}
			if diff := cmp.Diff(want, echoedEvent(t, resp, body).RequestContext.Authorizer); diff != "" {
				t.Errorf("authorizer (-want +got):\n%s", diff)
			}
		})
	}
}

func TestOperatorAuthorizer(t *testing.T) {
	t.Parallel()
	exp := testNow.Add(time.Hour).Unix()
	operator := validToken(t, map[string]any{"operator": "support-alice", "exp": exp})
	otherSecret, err := Sign([]byte("other-secret"), map[string]any{"operator": "support-alice"})
	if err != nil {
		t.Fatal(err)
	}
	alice := &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
		IAM: &events.APIGatewayV2HTTPRequestContextAuthorizerIAMDescription{
			AccountID: "000000000000",
			CallerID:  "LOCALSUPPORT-ALICE",
			UserARN:   "arn:aws:iam::000000000000:user/support-alice",
			UserID:    "LOCALSUPPORT-ALICE",
		},
	}
	tests := []struct {
		name           string
		identityClaim  string
		route          string // "METHOD /path"
		authorization  string
		wantStatus     int
		wantBody       string
		wantChallenge  string
		wantAuthorizer *events.APIGatewayV2HTTPRequestContextAuthorizerDescription
	}{
		{
			name:           "operator token on an operator route",
			route:          "PUT /operator/things/t1",
			authorization:  "Bearer " + operator,
			wantStatus:     200,
			wantAuthorizer: alice,
		},
		{
			name:           "operator token alone, as the identity source allows",
			route:          "PUT /operator/things/t1",
			authorization:  operator,
			wantStatus:     200,
			wantAuthorizer: alice,
		},
		{
			name:           "operator token that also has the identity claim: still only an operator",
			route:          "PUT /operator/things/t1",
			authorization:  "Bearer " + validToken(t, map[string]any{"operator": "support-alice", "sub": "xx11111-ovh"}),
			wantStatus:     200,
			wantAuthorizer: alice,
		},
		{
			name:       "no token on an operator route",
			route:      "PUT /operator/things/t1",
			wantStatus: 403,
			wantBody:   `{"message":"Forbidden"}`,
		},
		{
			name:          "customer token on an operator route",
			route:         "PUT /operator/things/t1",
			authorization: bearer(t),
			wantStatus:    403,
			wantBody:      `{"message":"Forbidden"}`,
		},
		{
			name:          "Cognito-style customer token on an operator route",
			identityClaim: "custom:nic",
			route:         "PUT /operator/things/t1",
			authorization: "Bearer " + validToken(t, map[string]any{"custom:nic": "xx11111-ovh"}),
			wantStatus:    403,
			wantBody:      `{"message":"Forbidden"}`,
		},
		{
			name:          "operator token signed with another secret",
			route:         "PUT /operator/things/t1",
			authorization: "Bearer " + otherSecret,
			wantStatus:    403,
			wantBody:      `{"message":"Forbidden"}`,
		},
		{
			name:          "tampered operator token",
			route:         "PUT /operator/things/t1",
			authorization: "Bearer " + tamper(t, operator, map[string]any{"operator": "root", "exp": exp}),
			wantStatus:    403,
			wantBody:      `{"message":"Forbidden"}`,
		},
		{
			name:          "expired operator token",
			route:         "PUT /operator/things/t1",
			authorization: "Bearer " + validToken(t, map[string]any{"operator": "support-alice", "exp": testNow.Unix()}),
			wantStatus:    403,
			wantBody:      `{"message":"Forbidden"}`,
		},
		{
			name:          "operator claim that is no IAM user name",
			route:         "PUT /operator/things/t1",
			authorization: "Bearer " + validToken(t, map[string]any{"operator": "alice/../root"}),
			wantStatus:    403,
			wantBody:      `{"message":"Forbidden"}`,
		},
		{
			name:          "operator claim not a string",
			route:         "PUT /operator/things/t1",
			authorization: "Bearer " + validToken(t, map[string]any{"operator": true}),
			wantStatus:    403,
			wantBody:      `{"message":"Forbidden"}`,
		},
		{
			name:          "a SigV4 header is no local credential",
			route:         "PUT /operator/things/t1",
			authorization: "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260312/local/execute-api/aws4_request, SignedHeaders=host;x-amz-date, Signature=deadbeef",
			wantStatus:    403,
			wantBody:      `{"message":"Forbidden"}`,
		},
		{
			name:          "operator token on a customer route",
			route:         "GET /me/things",
			authorization: "Bearer " + operator,
			wantStatus:    401,
			wantBody:      `{"message":"Unauthorized"}`,
			wantChallenge: `Bearer scope="" error="invalid_token" error_description="the token has no sub claim"`,
		},
		{
			name:          "operator token that also has the identity claim, on a customer route",
			route:         "GET /me/things",
			authorization: "Bearer " + validToken(t, map[string]any{"operator": "support-alice", "sub": "xx11111-ovh"}),
			wantStatus:    401,
			wantBody:      `{"message":"Unauthorized"}`,
			wantChallenge: `Bearer scope="" error="invalid_token" error_description="the token has no sub claim"`,
		},
		{
			name:          "operator token on a customer route with custom:nic",
			identityClaim: "custom:nic",
			route:         "GET /me/things",
			authorization: "Bearer " + validToken(t, map[string]any{"operator": "support-alice", "custom:nic": "xx11111-ovh"}),
			wantStatus:    401,
			wantBody:      `{"message":"Unauthorized"}`,
			wantChallenge: `Bearer scope="" error="invalid_token" error_description="the token has no custom:nic claim"`,
		},
		{
			name:          "operator token on a public route has no authorizer",
			route:         "GET /things/t1/page",
			authorization: "Bearer " + operator,
			wantStatus:    200,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var calls atomic.Int32
			g := newOwnGateway(t, counted(echo, &calls), Options{IdentityClaim: tt.identityClaim})
			method, path, _ := strings.Cut(tt.route, " ")
			req := httptest.NewRequest(method, path, nil)
			if tt.authorization != "" {
				req.Header.Set("Authorization", tt.authorization)
			}
			resp, body := serve(g, req)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status %d, want %d; body %s", resp.StatusCode, tt.wantStatus, body)
			}
			if tt.wantStatus != http.StatusOK {
				if string(body) != tt.wantBody {
					t.Errorf("body %s, want %s", body, tt.wantBody)
				}
				if got := resp.Header.Get("Www-Authenticate"); got != tt.wantChallenge {
					t.Errorf("www-authenticate %q, want %q", got, tt.wantChallenge)
				}
				if got := resp.Header.Get("Content-Type"); got != "application/json" {
					t.Errorf("content-type %q, want application/json", got)
				}
				if calls.Load() != 0 {
					t.Error("the function was called for a refused request")
				}
				return
			}
			if diff := cmp.Diff(tt.wantAuthorizer, echoedEvent(t, resp, body).RequestContext.Authorizer); diff != "" {
				t.Errorf("authorizer (-want +got):\n%s", diff)
			}
		})
	}
}

// Every operator route of the API's own table is behind the operator authorizer, and every
// other route that is not public behind the customers'.
func TestAPIRoutesAuthorizers(t *testing.T) {
	t.Parallel()
	g := newTestGateway(t, echo, Options{})
	operator := "Bearer " + validToken(t, map[string]any{"operator": "support-alice"})
	operators := 0
	for _, r := range api.Routes {
		if r.Public {
			continue
		}
		path := strings.NewReplacer("{id}", "c0ffee", "{nic}", "xx11111-ovh", "{serviceId}", "example.com").Replace(r.Path)
		t.Run(r.Key(), func(t *testing.T) {
			customerWant, operatorWant := http.StatusOK, http.StatusUnauthorized
			if r.Operator {
				customerWant, operatorWant = http.StatusForbidden, http.StatusOK
			}
			for _, c := range []struct {
				who, authorization string
				want               int
			}{{"customer", bearer(t), customerWant}, {"operator", operator, operatorWant}} {
				req := httptest.NewRequest(r.Method, path, nil)
				req.Header.Set("Authorization", c.authorization)
				if resp, body := serve(g, req); resp.StatusCode != c.want {
					t.Errorf("%s token: status %d, want %d; body %s", c.who, resp.StatusCode, c.want, body)
				}
			}
		})
		if r.Operator {
			operators++
		}
	}
	t.Logf("%d operator routes", operators)
}

func TestRefusalsAreLoggedWithoutTokens(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	g := newOwnGateway(t, echo, Options{Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	customer := validToken(t, map[string]any{"sub": "xx11111-ovh"})
	req := httptest.NewRequest("PUT", "/operator/things/t1", nil)
	req.Header.Set("Authorization", "Bearer "+customer)
	if resp, _ := serve(g, req); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("status %d, want 403", resp.StatusCode)
	}
	if !strings.Contains(logs.String(), `"msg":"forbidden"`) || !strings.Contains(logs.String(), `"reason":"not an operator token"`) {
		t.Errorf("the refusal and its reason were not logged:\n%s", logs.String())
	}
	if strings.Contains(logs.String(), customer) {
		t.Errorf("the token reached the log:\n%s", logs.String())
	}
}

func TestCheckOperatorName(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		ok   bool
	}{
		{"support-alice", true},
		{"billing.sync@example.com", true},
		{"a", true},
		{"A_b+c=d,e", true},
		{strings.Repeat("x", 64), true},
		{strings.Repeat("x", 65), false},
		{"", false},
		{"alice bob", false},
		{"alice/root", false},
		{"alíce", false},
	}
	for _, tt := range tests {
		if err := CheckOperatorName(tt.name); (err == nil) != tt.ok {
			t.Errorf("CheckOperatorName(%q) = %v, want ok %t", tt.name, err, tt.ok)
		}
	}
}

func TestSecretFromEnv(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"unset", nil, "local-dev-secret"},
		{"empty", map[string]string{"LOCAL_JWT_SECRET": ""}, "local-dev-secret"},
		{"set", map[string]string{"LOCAL_JWT_SECRET": "s3cret"}, "s3cret"},
	}
	for _, tt := range tests {
		if got := string(SecretFromEnv(func(k string) string { return tt.env[k] })); got != tt.want {
			t.Errorf("%s: SecretFromEnv = %q, want %q", tt.name, got, tt.want)
		}
	}
}
