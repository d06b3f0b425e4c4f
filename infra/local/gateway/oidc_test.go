package gateway

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// testIssuer serves an OpenID Connect discovery document and a JWKS on loopback, and signs
// tokens with its keys.
type testIssuer struct {
	*httptest.Server
	mu         sync.Mutex
	keys       map[string]*rsa.PrivateKey // served in the JWKS
	jwksHits   atomic.Int32
	issuerName string // what discovery says the issuer is; the URL when empty
}

func newTestIssuer(t *testing.T, kids ...string) *testIssuer {
	t.Helper()
	iss := &testIssuer{keys: map[string]*rsa.PrivateKey{}}
	for _, kid := range kids {
		iss.addKey(t, kid)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		name := iss.issuerName
		if name == "" {
			name = iss.URL
		}
		_ = json.NewEncoder(w).Encode(map[string]string{"issuer": name, "jwks_uri": iss.URL + "/jwks"})
	})
	mux.HandleFunc("/jwks", func(w http.ResponseWriter, r *http.Request) {
		iss.jwksHits.Add(1)
		iss.mu.Lock()
		defer iss.mu.Unlock()
		var keys []map[string]string
		for kid, k := range iss.keys {
			keys = append(keys, map[string]string{"kty": "RSA", "use": "sig", "kid": kid,
				"n": b64url.EncodeToString(k.N.Bytes()), "e": b64url.EncodeToString(big.NewInt(int64(k.E)).Bytes())})
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"keys": keys})
	})
	iss.Server = httptest.NewServer(mux)
	t.Cleanup(iss.Close)
	return iss
}

func (iss *testIssuer) addKey(t *testing.T, kid string) {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	iss.mu.Lock()
	iss.keys[kid] = k
	iss.mu.Unlock()
}

// sign returns a token of claims signed with alg by the key kid (another, unpublished key
// when kid is not the issuer's).
func (iss *testIssuer) sign(t *testing.T, alg, kid string, claims map[string]any) string {
	t.Helper()
	iss.mu.Lock()
	key := iss.keys[kid]
	iss.mu.Unlock()
	if key == nil {
		var err error
		if key, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			t.Fatal(err)
		}
	}
	header, _ := json.Marshal(map[string]string{"alg": alg, "kid": kid, "typ": "JWT"})
	payload, _ := json.Marshal(claims)
	input := b64url.EncodeToString(header) + "." + b64url.EncodeToString(payload)
	hash := map[string]crypto.Hash{"RS256": crypto.SHA256, "RS384": crypto.SHA384, "RS512": crypto.SHA512}[alg]
	if hash == 0 {
		hash = crypto.SHA256
	}
	h := hash.New()
	h.Write([]byte(input))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, hash, h.Sum(nil))
	if err != nil {
		t.Fatal(err)
	}
	return input + "." + b64url.EncodeToString(sig)
}

const audience = "customer-space"

func TestIssuerTokens(t *testing.T) {
	iss := newTestIssuer(t, "k1")
	exp := testNow.Add(time.Hour).Unix()
	claims := func(extra map[string]any) map[string]any {
		c := map[string]any{"iss": iss.URL, "aud": audience, "sub": "xx11111-ovh", "exp": exp, "iat": testNow.Add(-time.Minute).Unix()}
		for k, v := range extra {
			if v == nil {
				delete(c, k)
			} else {
				c[k] = v
			}
		}
		return c
	}
	otherKey := iss.sign(t, "RS256", "k1", claims(nil))
	tests := []struct {
		name  string
		token string
		want  string // the refusal's description; "" for a 200
	}{
		{"RS256", iss.sign(t, "RS256", "k1", claims(nil)), ""},
		{"RS384", iss.sign(t, "RS384", "k1", claims(nil)), ""},
		{"RS512", iss.sign(t, "RS512", "k1", claims(nil)), ""},
		{"aud among several", iss.sign(t, "RS256", "k1", claims(map[string]any{"aud": []string{"other", audience}})), ""},
		{"client_id without aud", iss.sign(t, "RS256", "k1", claims(map[string]any{"aud": nil, "client_id": audience})), ""},
		{"wrong issuer", iss.sign(t, "RS256", "k1", claims(map[string]any{"iss": "http://127.0.0.1:1/other"})), "the token's issuer is not the configured issuer"},
		{"wrong aud", iss.sign(t, "RS256", "k1", claims(map[string]any{"aud": "another-app"})), "the token's audience is not the configured audience"},
		{"wrong aud, right client_id", iss.sign(t, "RS256", "k1", claims(map[string]any{"aud": "another-app", "client_id": audience})), "the token's audience is not the configured audience"},
		{"no aud, wrong client_id", iss.sign(t, "RS256", "k1", claims(map[string]any{"aud": nil, "client_id": "another-app"})), "the token's audience is not the configured audience"},
		{"expired", iss.sign(t, "RS256", "k1", claims(map[string]any{"exp": testNow.Unix()})), "the token has expired"},
		{"no exp", iss.sign(t, "RS256", "k1", claims(map[string]any{"exp": nil})), "the token has no exp claim"},
		{"not yet valid", iss.sign(t, "RS256", "k1", claims(map[string]any{"nbf": testNow.Add(time.Minute).Unix()})), "the token is not valid yet"},
		{"signed by another key", otherKey[:len(otherKey)-4] + "AAAA", "the token signature is invalid"},
		{"unknown kid", iss.sign(t, "RS256", "nobody", claims(nil)), "the token's kid names no key of the issuer"},
		{"alg none", b64url.EncodeToString([]byte(`{"alg":"none","kid":"k1"}`)) + "." + b64url.EncodeToString([]byte(`{"sub":"x"}`)) + ".", "signing method none is invalid"},
		{"ES256", iss.sign(t, "ES256", "k1", claims(nil)), "signing method ES256 is invalid"},
		{"an operator's token", iss.sign(t, "RS256", "k1", claims(map[string]any{OperatorClaim: "alice"})), "the token has no sub claim"},
		{"no identity claim", iss.sign(t, "RS256", "k1", claims(map[string]any{"sub": nil})), "the token has no sub claim"},
		// HS256 stays the local tokens': one signed with the secret passes, whatever its claims.
		{"local HS256 token", validToken(t, map[string]any{"sub": "xx11111-ovh", "exp": exp}), ""},
	}
	g := newOwnGateway(t, echo, Options{Issuer: &Issuer{URL: iss.URL, Audience: audience}})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest("GET", "/me/things", nil)
			req.Header.Set("Authorization", "Bearer "+tt.token)
			resp, body := serve(g, req)
			if tt.want == "" {
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("status %d, challenge %q; body %s", resp.StatusCode, resp.Header.Get("Www-Authenticate"), body)
				}
				return
			}
			want := `Bearer scope="" error="invalid_token" error_description="` + tt.want + `"`
			if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("Www-Authenticate") != want {
				t.Errorf("status %d, challenge %q; want 401, %q", resp.StatusCode, resp.Header.Get("Www-Authenticate"), want)
			}
		})
	}
}

// A key the issuer adds after the first fetch is found by fetching again; unknown kids do
// not make the gateway fetch more than once per refetchEvery.
func TestIssuerKeyRotation(t *testing.T) {
	iss := newTestIssuer(t, "k1")
	now := testNow
	g := newOwnGateway(t, echo, Options{Issuer: &Issuer{URL: iss.URL, Audience: audience}, Now: func() time.Time { return now }})
	call := func(token string) int {
		req := httptest.NewRequest("GET", "/me/things", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, _ := serve(g, req)
		return resp.StatusCode
	}
	claims := map[string]any{"iss": iss.URL, "aud": audience, "sub": "xx11111-ovh", "exp": testNow.Add(time.Hour).Unix()}
	if got := call(iss.sign(t, "RS256", "k1", claims)); got != 200 {
		t.Fatalf("first token: status %d", got)
	}
	for range 5 {
		if got := call(iss.sign(t, "RS256", "made-up", claims)); got != 401 {
			t.Fatalf("unknown kid: status %d", got)
		}
	}
	if hits := iss.jwksHits.Load(); hits != 1 {
		t.Errorf("the gateway fetched the keys %d times within %s, want 1", hits, refetchEvery)
	}
	iss.addKey(t, "k2")
	now = now.Add(refetchEvery)
	if got := call(iss.sign(t, "RS256", "k2", claims)); got != 200 {
		t.Errorf("a rotated-in key: status %d", got)
	}
	if hits := iss.jwksHits.Load(); hits != 2 {
		t.Errorf("the gateway fetched the keys %d times, want 2", hits)
	}
}

func TestIssuerUnreachableOrImpostor(t *testing.T) {
	iss := newTestIssuer(t, "k1")
	iss.issuerName = "https://somebody.else"
	claims := map[string]any{"iss": iss.URL, "aud": audience, "sub": "xx11111-ovh", "exp": testNow.Add(time.Hour).Unix()}
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close()
	for name, url := range map[string]string{"discovery names another issuer": iss.URL, "issuer down": down.URL} {
		t.Run(name, func(t *testing.T) {
			g := newOwnGateway(t, echo, Options{Issuer: &Issuer{URL: url, Audience: audience}})
			req := httptest.NewRequest("GET", "/me/things", nil)
			req.Header.Set("Authorization", "Bearer "+iss.sign(t, "RS256", "k1", claims))
			resp, _ := serve(g, req)
			want := `Bearer scope="" error="invalid_token" error_description="the issuer's keys cannot be fetched"`
			if resp.StatusCode != 401 || resp.Header.Get("Www-Authenticate") != want {
				t.Errorf("status %d, challenge %q", resp.StatusCode, resp.Header.Get("Www-Authenticate"))
			}
		})
	}
}

func TestIssuerOptions(t *testing.T) {
	for name, iss := range map[string]Issuer{
		"no audience":  {URL: "http://127.0.0.1:8080/default"},
		"relative URL": {URL: "/default", Audience: audience},
		"no scheme":    {URL: "127.0.0.1:8080", Audience: audience},
	} {
		if _, err := New(ownRoutes, map[string]Function{"customer": echo, "public": echo, "operator": echo}, Options{Secret: testSecret, Issuer: &iss}); err == nil {
			t.Errorf("%s: New accepted %+v", name, iss)
		}
	}
}
