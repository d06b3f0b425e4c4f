package gateway

import (
	"crypto"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Issuer is an OpenID Connect issuer whose tokens the customers' authorizer accepts, checked
// as API Gateway's JWT authorizer checks them: an RSA signature by a key of the issuer's
// JWKS that the token's kid names, iss equal to URL, aud (or client_id when there is no aud)
// equal to Audience, exp in the future, nbf and iat in the past. The local gateway checks no
// scopes.
type Issuer struct {
	URL      string       // the issuer identifier, e.g. http://127.0.0.1:8080/default
	Audience string       // the aud the tokens must carry: the console's client id
	Client   *http.Client // nil: a client with a 5 s timeout
}

func (iss *Issuer) check() error {
	u, err := url.Parse(iss.URL)
	if err != nil || !u.IsAbs() || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return fmt.Errorf("issuer %q is not an absolute http(s) URL", iss.URL)
	}
	if iss.Audience == "" {
		return errors.New("issuer without an audience")
	}
	return nil
}

// maxIssuerDocument bounds what the gateway reads of the discovery document and the JWKS.
const maxIssuerDocument = 1 << 20

// refetchEvery bounds how often a token with an unknown kid makes the gateway fetch the
// keys again: a flood of made-up kids cannot hammer the issuer.
const refetchEvery = 10 * time.Second

// rsaHashes are the algorithms API Gateway's JWT authorizer verifies: RSA only.
var rsaHashes = map[string]crypto.Hash{"RS256": crypto.SHA256, "RS384": crypto.SHA384, "RS512": crypto.SHA512}

// Refusals of a token whose key the gateway cannot have.
var (
	errUnknownKid = tokenError("the token's kid names no key of the issuer")
	errIssuerKeys = tokenError("the issuer's keys cannot be fetched")
)

// keySet holds an issuer's keys, fetched on first use and again when a token names a kid
// it does not know (the issuer rotated its keys), at most once per refetchEvery, failed
// fetches included: neither made-up kids nor an issuer that is down cost a fetch a request.
type keySet struct {
	issuer Issuer
	client *http.Client

	// fetching is held across a fetch, so that there is one at a time while tokens of
	// known keys, which take mu only, do not wait for a slow issuer.
	fetching sync.Mutex

	mu      sync.Mutex
	keys    map[string]*rsa.PublicKey // the last keys fetched; nil before the first
	fetched time.Time                 // when the last fetch was
	failure error                     // why the last fetch failed; nil when it did not
	tried   bool                      // whether there was a fetch
}

func newKeySet(iss Issuer) *keySet {
	client := iss.Client
	if client == nil {
		client = &http.Client{Timeout: 5 * time.Second}
	}
	return &keySet{issuer: iss, client: client}
}

// key returns the key kid names, fetching the keys when it is unknown and they were not
// fetched within refetchEvery.
func (ks *keySet) key(kid string, now time.Time) (*rsa.PublicKey, error) {
	if k, due, err := ks.cached(kid, now); !due {
		return k, err
	}
	ks.fetching.Lock()
	defer ks.fetching.Unlock()
	// Another request may have fetched while this one waited.
	if k, due, err := ks.cached(kid, now); !due {
		return k, err
	}
	keys, err := ks.fetch()

	ks.mu.Lock()
	defer ks.mu.Unlock()
	ks.fetched, ks.tried = now, true
	if err != nil {
		// The keys fetched before stay: tokens of known keys outlive an issuer's outage.
		ks.failure = fmt.Errorf("%w: %v", errIssuerKeys, err)
		return nil, ks.failure
	}
	ks.keys, ks.failure = keys, nil
	if k, ok := keys[kid]; ok {
		return k, nil
	}
	return nil, errUnknownKid
}

// cached returns the key kid names, or why there is none, unless a fetch is due.
func (ks *keySet) cached(kid string, now time.Time) (key *rsa.PublicKey, due bool, err error) {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	if k, ok := ks.keys[kid]; ok {
		return k, false, nil
	}
	switch {
	case !ks.tried || now.Sub(ks.fetched) >= refetchEvery:
		return nil, true, nil
	case ks.failure != nil:
		return nil, false, ks.failure
	default:
		return nil, false, errUnknownKid
	}
}

func (ks *keySet) fetch() (map[string]*rsa.PublicKey, error) {
	var discovery struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if err := ks.get(strings.TrimSuffix(ks.issuer.URL, "/")+"/.well-known/openid-configuration", &discovery); err != nil {
		return nil, err
	}
	// OpenID Connect Discovery §4.3: the document must name the issuer it was fetched for.
	if discovery.Issuer != ks.issuer.URL || discovery.JWKSURI == "" {
		return nil, fmt.Errorf("discovery document of issuer %q, jwks_uri %q", discovery.Issuer, discovery.JWKSURI)
	}
	var set struct {
		Keys []struct {
			Kty, Kid, Use, N, E string
		} `json:"keys"`
	}
	if err := ks.get(discovery.JWKSURI, &set); err != nil {
		return nil, err
	}
	keys := map[string]*rsa.PublicKey{}
	for _, k := range set.Keys {
		if k.Kty != "RSA" || k.Kid == "" || (k.Use != "" && k.Use != "sig") {
			continue
		}
		n, errN := b64url.DecodeString(k.N)
		e, errE := b64url.DecodeString(k.E)
		if errN != nil || errE != nil || len(e) == 0 || len(e) > 4 {
			continue
		}
		exponent := new(big.Int).SetBytes(e)
		keys[k.Kid] = &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(exponent.Int64())}
	}
	return keys, nil
}

func (ks *keySet) get(u string, v any) error {
	res, err := ks.client.Get(u)
	if err != nil {
		return fmt.Errorf("get %s: %w", u, err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("get %s: status %d", u, res.StatusCode)
	}
	if err := json.NewDecoder(io.LimitReader(res.Body, maxIssuerDocument)).Decode(v); err != nil {
		return fmt.Errorf("decode %s: %w", u, err)
	}
	return nil
}

// verify checks a token of the issuer and returns its claims, numbers kept as written.
func (ks *keySet) verify(token string, now time.Time) (map[string]any, error) {
	encodedHeader, encodedClaims, encodedSignature, header, err := splitJWS(token)
	if err != nil {
		return nil, err
	}
	hash, ok := rsaHashes[header.Alg]
	if !ok {
		return nil, tokenError(fmt.Sprintf("signing method %s is invalid", clip(header.Alg, 40)))
	}
	key, err := ks.key(header.Kid, now)
	if err != nil {
		return nil, err
	}
	signature, err := b64url.DecodeString(encodedSignature)
	if err != nil {
		return nil, tokenError("the token signature is invalid")
	}
	h := hash.New()
	h.Write([]byte(encodedHeader + "." + encodedClaims))
	if rsa.VerifyPKCS1v15(key, hash, h.Sum(nil), signature) != nil {
		return nil, tokenError("the token signature is invalid")
	}

	var claims map[string]any
	if err := decodeSegment(encodedClaims, &claims); err != nil || claims == nil {
		return nil, tokenError("the token claims are malformed")
	}
	if iss, _ := claims["iss"].(string); iss != ks.issuer.URL {
		return nil, tokenError("the token's issuer is not the configured issuer")
	}
	if !ks.forAudience(claims) {
		return nil, tokenError("the token's audience is not the configured audience")
	}
	if _, ok := claims["exp"]; !ok {
		return nil, tokenError("the token has no exp claim")
	}
	if err := checkTimes(claims, now); err != nil {
		return nil, err
	}
	return claims, nil
}

// forAudience: aud is the audience or a list holding it; only a token without aud may name
// it in client_id, as an OAuth access token does.
func (ks *keySet) forAudience(claims map[string]any) bool {
	aud, present := claims["aud"]
	if !present {
		id, _ := claims["client_id"].(string)
		return id == ks.issuer.Audience
	}
	switch a := aud.(type) {
	case string:
		return a == ks.issuer.Audience
	case []any:
		for _, v := range a {
			if s, _ := v.(string); s == ks.issuer.Audience {
				return true
			}
		}
	}
	return false
}

// algorithm is the alg a token's header names, "" when it has none readable.
func algorithm(token string) string {
	_, _, _, header, _ := splitJWS(token)
	return header.Alg
}
