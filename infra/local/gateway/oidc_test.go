package gateway

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// testIssuer serves an OpenID Connect discovery document and a JWKS on loopback, and signs
// tokens with its keys.
type testIssuer struct {
	*httptest.Server
	mu            sync.Mutex
	keys          map[string]*rsa.PrivateKey // served in the JWKS
	hold          chan struct{}              // when set, the JWKS answers once it is closed
	jwksHits      atomic.Int32
	discoveryHits atomic.Int32
	down          atomic.Bool // discovery answers 503
	issuerName    string      // what discovery says the issuer is; the URL when empty
}

func newTestIssuer(t *testing.T, kids ...string) *testIssuer {
	t.Helper()
	iss := &testIssuer{keys: map[string]*rsa.PrivateKey{}}
	for _, kid := range kids {
		iss.addKey(t, kid)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		iss.discoveryHits.Add(1)
		if iss.down.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		name := iss.issuerName
		if name == "" {
			name = iss.URL
		}
		_ = json.NewEncoder(w).Encode(map[string]string{"issuer": name, "jwks_uri": iss.URL + "/jwks"})
	})
	mux.HandleFunc("/jwks", func(w http.ResponseWriter, r *http.Request) {
		iss.jwksHits.Add(1)
		iss.mu.Lock()
		hold := iss.hold
		iss.mu.Unlock()
		if hold != nil {
			<-hold
		}
		iss.mu.Lock()
		defer iss.mu.Unlock()
		var keys []map[string]string
		for kid, k := range iss.keys {
			keys = append(keys, map[string]string{"kty": "RSA", "use": "sig", "kid": kid,
				"n": b64url.EncodeToString(k.N.Bytes()), "e": b64url.EncodeToString(big.NewInt(int64(k.E)).Bytes())})
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"keys": keys})
	})
	// httptest listens on 127.0.0.1.
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
		key = stranger
	}
	return signWith(t, key, alg, kid, claims)
}

// stranger is a key no test issuer publishes.
var stranger = func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
}()

// signWith returns a token of claims whose header names alg and kid, signed by key with
// PKCS #1 v1.5 (and SHA-256 when alg is not an RSA one).
func signWith(t *testing.T, key *rsa.PrivateKey, alg, kid string, claims map[string]any) string {
	t.Helper()
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

// confused returns an HS256 token of claims whose HMAC key is k's public key in PEM, as an
// algorithm-confusion attack forges one.
func confused(t *testing.T, k *rsa.PrivateKey, claims map[string]any) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	header, _ := json.Marshal(map[string]string{"alg": "HS256", "kid": "k1", "typ": "JWT"})
	payload, _ := json.Marshal(claims)
	input := b64url.EncodeToString(header) + "." + b64url.EncodeToString(payload)
	return input + "." + b64url.EncodeToString(hs256(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), input))
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
	tampered := iss.sign(t, "RS256", "k1", claims(nil))
	tampered = tampered[:len(tampered)-4] + "AAAA"
	tests := []struct {
		name   string
		token  string
		want   string            // the refusal's description; "" for a 200
		claims map[string]string // when set, the claims the function must get
	}{
		{"RS256", iss.sign(t, "RS256", "k1", claims(nil)), "", map[string]string{
			"iss": iss.URL, "aud": audience, "sub": "xx11111-ovh",
			"exp": strconv.FormatInt(exp, 10), "iat": strconv.FormatInt(testNow.Add(-time.Minute).Unix(), 10),
		}},
		{"RS384", iss.sign(t, "RS384", "k1", claims(nil)), "", nil},
		{"RS512", iss.sign(t, "RS512", "k1", claims(nil)), "", nil},
		{"aud among several", iss.sign(t, "RS256", "k1", claims(map[string]any{"aud": []string{"other", audience}})), "", map[string]string{
			"iss": iss.URL, "aud": "[other " + audience + "]", "sub": "xx11111-ovh",
			"exp": strconv.FormatInt(exp, 10), "iat": strconv.FormatInt(testNow.Add(-time.Minute).Unix(), 10),
		}},
		{"client_id without aud", iss.sign(t, "RS256", "k1", claims(map[string]any{"aud": nil, "client_id": audience})), "", nil},
		{"wrong issuer", iss.sign(t, "RS256", "k1", claims(map[string]any{"iss": "http://127.0.0.1:1/other"})), "the token's issuer is not the configured issuer", nil},
		{"wrong aud", iss.sign(t, "RS256", "k1", claims(map[string]any{"aud": "another-app"})), "the token's audience is not the configured audience", nil},
		{"wrong aud, right client_id", iss.sign(t, "RS256", "k1", claims(map[string]any{"aud": "another-app", "client_id": audience})), "the token's audience is not the configured audience", nil},
		{"no aud, wrong client_id", iss.sign(t, "RS256", "k1", claims(map[string]any{"aud": nil, "client_id": "another-app"})), "the token's audience is not the configured audience", nil},
		{"expired", iss.sign(t, "RS256", "k1", claims(map[string]any{"exp": testNow.Unix()})), "the token has expired", nil},
		{"no exp", iss.sign(t, "RS256", "k1", claims(map[string]any{"exp": nil})), "the token has no exp claim", nil},
		{"not yet valid", iss.sign(t, "RS256", "k1", claims(map[string]any{"nbf": testNow.Add(time.Minute).Unix()})), "the token is not valid yet", nil},
		{"tampered signature", tampered, "the token signature is invalid", nil},
		{"signed by a key the issuer does not publish", signWith(t, stranger, "RS256", "k1", claims(nil)), "the token signature is invalid", nil},
		// With alg HS256 the token is a local one, whose key is the secret, not the issuer's.
		{"HS256 keyed with the issuer's public key", confused(t, iss.keys["k1"], claims(nil)), "the token signature is invalid", nil},
		{"unknown kid", iss.sign(t, "RS256", "nobody", claims(nil)), "the token's kid names no key of the issuer", nil},
		{"alg none", b64url.EncodeToString([]byte(`{"alg":"none","kid":"k1"}`)) + "." + b64url.EncodeToString([]byte(`{"sub":"x"}`)) + ".", "signing method none is invalid", nil},
		{"ES256", iss.sign(t, "ES256", "k1", claims(nil)), "signing method ES256 is invalid", nil},
		{"an operator's token", iss.sign(t, "RS256", "k1", claims(map[string]any{OperatorClaim: "alice"})), "the token has no sub claim", nil},
		{"no identity claim", iss.sign(t, "RS256", "k1", claims(map[string]any{"sub": nil})), "the token has no sub claim", nil},
		// HS256 stays the local tokens': one signed with the secret passes, whatever its claims.
		{"local HS256 token", validToken(t, map[string]any{"sub": "xx11111-ovh", "exp": exp}), "", nil},
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
				if tt.claims != nil {
					event := echoedEvent(t, resp, body)
					if diff := cmp.Diff(tt.claims, event.RequestContext.Authorizer.JWT.Claims); diff != "" {
						t.Errorf("claims (-want +got):\n%s", diff)
					}
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

// clock is a settable Now that requests on several goroutines may read.
type clock struct{ offset atomic.Int64 }

func (c *clock) now() time.Time          { return testNow.Add(time.Duration(c.offset.Load())) }
func (c *clock) advance(d time.Duration) { c.offset.Add(int64(d)) }

// An issuer that is down costs one fetch per refetchEvery, not one a request; the keys
// fetched before it went down still serve.
func TestIssuerOutage(t *testing.T) {
	iss := newTestIssuer(t, "k1")
	var c clock
	g := newOwnGateway(t, echo, Options{Issuer: &Issuer{URL: iss.URL, Audience: audience}, Now: c.now})
	claims := map[string]any{"iss": iss.URL, "aud": audience, "sub": "xx11111-ovh", "exp": testNow.Add(time.Hour).Unix()}
	call := func(kid string) (int, string) {
		req := httptest.NewRequest("GET", "/me/things", nil)
		req.Header.Set("Authorization", "Bearer "+iss.sign(t, "RS256", kid, claims))
		resp, _ := serve(g, req)
		return resp.StatusCode, resp.Header.Get("Www-Authenticate")
	}
	cannot := `Bearer scope="" error="invalid_token" error_description="the issuer's keys cannot be fetched"`
	steps := []struct {
		name          string
		down          bool
		advance       time.Duration
		kid           string
		wantStatus    int
		wantChallenge string
		wantHits      int32 // discovery fetches so far
	}{
		{"down at the first token", true, 0, "k1", 401, cannot, 1},
		{"still down, within the window", true, time.Second, "k1", 401, cannot, 1},
		{"back, within the window", false, time.Second, "k1", 401, cannot, 1},
		{"back, window over", false, refetchEvery, "k1", 200, "", 2},
		{"down again: a known key needs no fetch", true, refetchEvery, "k1", 200, "", 2},
		{"down again: an unknown kid", true, 0, "k2", 401, cannot, 3},
		{"down again: the known key still serves", true, 0, "k1", 200, "", 3},
		{"down again: an unknown kid within the window", true, time.Second, "k3", 401, cannot, 3},
	}
	for _, st := range steps {
		iss.down.Store(st.down)
		c.advance(st.advance)
		status, challenge := call(st.kid)
		if status != st.wantStatus || challenge != st.wantChallenge {
			t.Errorf("%s: status %d, challenge %q; want %d, %q", st.name, status, challenge, st.wantStatus, st.wantChallenge)
		}
		if hits := iss.discoveryHits.Load(); hits != st.wantHits {
			t.Errorf("%s: %d discovery fetches, want %d", st.name, hits, st.wantHits)
		}
	}
}

// Tokens of known keys do not wait for a fetch that a made-up kid started, and concurrent
// made-up kids start one fetch between them.
func TestIssuerFetchDoesNotBlockKnownKeys(t *testing.T) {
	iss := newTestIssuer(t, "k1")
	var c clock
	g := newOwnGateway(t, echo, Options{Issuer: &Issuer{URL: iss.URL, Audience: audience}, Now: c.now})
	claims := map[string]any{"iss": iss.URL, "aud": audience, "sub": "xx11111-ovh", "exp": testNow.Add(time.Hour).Unix()}
	call := func(token string) int {
		req := httptest.NewRequest("GET", "/me/things", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, _ := serve(g, req)
		return resp.StatusCode
	}
	known := iss.sign(t, "RS256", "k1", claims)
	if got := call(known); got != 200 {
		t.Fatalf("first token: status %d", got)
	}

	hold := make(chan struct{})
	iss.mu.Lock()
	iss.hold = hold
	iss.mu.Unlock()
	c.advance(refetchEvery)
	var wg sync.WaitGroup
	statuses := make([]int, 20)
	for i := range statuses {
		token := iss.sign(t, "RS256", "made-up-"+strconv.Itoa(i), claims)
		wg.Go(func() { statuses[i] = call(token) })
	}
	// Wait until one of them is inside the JWKS fetch.
	for deadline := time.Now().Add(5 * time.Second); iss.jwksHits.Load() < 2; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			close(hold)
			t.Fatal("no refetch started")
		}
	}
	done := make(chan int)
	go func() { done <- call(known) }()
	select {
	case got := <-done:
		if got != 200 {
			t.Errorf("known key during a refetch: status %d", got)
		}
	case <-time.After(5 * time.Second):
		t.Error("a token of a known key waited for the refetch")
	}
	close(hold)
	wg.Wait()
	for i, got := range statuses {
		if got != 401 {
			t.Errorf("made-up kid %d: status %d", i, got)
		}
	}
	if hits := iss.jwksHits.Load(); hits != 2 {
		t.Errorf("%d JWKS fetches, want 2", hits)
	}
}

// The operator routes stand for IAM: an issuer's token is no operator's, whatever it holds.
func TestIssuerTokensAreNoOperators(t *testing.T) {
	iss := newTestIssuer(t, "k1")
	g := newOwnGateway(t, echo, Options{Issuer: &Issuer{URL: iss.URL, Audience: audience}})
	req := httptest.NewRequest("PUT", "/operator/things/x", nil)
	req.Header.Set("Authorization", "Bearer "+iss.sign(t, "RS256", "k1", map[string]any{
		"iss": iss.URL, "aud": audience, OperatorClaim: "alice", "exp": testNow.Add(time.Hour).Unix(),
	}))
	if resp, body := serve(g, req); resp.StatusCode != http.StatusForbidden {
		t.Errorf("status %d, want 403; body %s", resp.StatusCode, body)
	}
	if hits := iss.discoveryHits.Load(); hits != 0 {
		t.Errorf("an operator route fetched the issuer's keys %d times", hits)
	}
}
