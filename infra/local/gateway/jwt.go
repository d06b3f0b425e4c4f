package gateway

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
)

// signedHeader is the JOSE header of every token Sign issues.
const signedHeader = `{"alg":"HS256","typ":"JWT"}`

var b64url = base64.RawURLEncoding

// Sign returns a compact HS256 JWT carrying claims, signed with secret.
func Sign(secret []byte, claims map[string]any) (string, error) {
	if len(secret) == 0 {
		return "", errors.New("sign jwt: empty secret")
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("sign jwt: encode claims: %w", err)
	}
	signingInput := b64url.EncodeToString([]byte(signedHeader)) + "." + b64url.EncodeToString(payload)
	return signingInput + "." + b64url.EncodeToString(hs256(secret, signingInput)), nil
}

func hs256(secret []byte, signingInput string) []byte {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(signingInput))
	return mac.Sum(nil)
}

// tokenError is why the authorizer refused a token. Its text is the error_description of the
// www-authenticate challenge, as API Gateway's JWT authorizer reports it.
type tokenError string

func (e tokenError) Error() string { return string(e) }

// verify checks token the way API Gateway's JWT authorizer does (algorithm, signature, then
// the time claims) and returns its claims, numbers kept as written. Which claims the caller
// must have is the route's business: see customerClaims and operatorName.
func verify(secret []byte, token string, now time.Time) (map[string]any, error) {
	encodedHeader, encodedClaims, encodedSignature, header, err := splitJWS(token)
	if err != nil {
		return nil, err
	}
	// Pinning the algorithm rejects "none" and algorithm-confusion tokens before any
	// signature check.
	if header.Alg != "HS256" {
		return nil, tokenError(fmt.Sprintf("signing method %s is invalid", clip(header.Alg, 40)))
	}
	signature, err := b64url.DecodeString(encodedSignature)
	if err != nil || !hmac.Equal(signature, hs256(secret, encodedHeader+"."+encodedClaims)) {
		return nil, tokenError("the token signature is invalid")
	}

	var claims map[string]any
	if err := decodeSegment(encodedClaims, &claims); err != nil || claims == nil {
		return nil, tokenError("the token claims are malformed")
	}
	if err := checkTimes(claims, now); err != nil {
		return nil, err
	}
	return claims, nil
}

// joseHeader is what the authorizers read of a token's header.
type joseHeader struct {
	Alg string `json:"alg"`
	Kid string `json:"kid"`
}

// splitJWS splits a compact JWS into its three segments and decodes its header.
func splitJWS(token string) (encodedHeader, encodedClaims, encodedSignature string, header joseHeader, err error) {
	encodedHeader, rest, ok := strings.Cut(token, ".")
	encodedClaims, encodedSignature, ok2 := strings.Cut(rest, ".")
	if !ok || !ok2 || strings.Contains(encodedSignature, ".") {
		return "", "", "", header, tokenError("the token is not a JWS compact serialization")
	}
	if err := decodeSegment(encodedHeader, &header); err != nil {
		return "", "", "", header, tokenError("the token header is malformed")
	}
	return encodedHeader, encodedClaims, encodedSignature, header, nil
}

// stringifyClaims renders every claim as payload format 2.0 puts it in
// requestContext.authorizer.jwt.claims.
func stringifyClaims(claims map[string]any) map[string]string {
	stringified := make(map[string]string, len(claims))
	for name, value := range claims {
		stringified[name] = stringifyClaim(value)
	}
	return stringified
}

// decodeSegment decodes one base64url JSON segment, keeping numbers exact.
func decodeSegment(segment string, v any) error {
	raw, err := b64url.DecodeString(segment)
	if err != nil {
		return fmt.Errorf("decode base64url: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("decode json: %w", err)
	}
	return nil
}

// checkTimes enforces exp, nbf and iat when present: API Gateway requires exp to be after the
// current time, nbf and iat before it.
func checkTimes(claims map[string]any, now time.Time) error {
	checks := []struct {
		claim    string
		violated func(at time.Time) bool
		problem  string
	}{
		{"exp", func(at time.Time) bool { return !now.Before(at) }, "the token has expired"},
		{"nbf", func(at time.Time) bool { return now.Before(at) }, "the token is not valid yet"},
		{"iat", func(at time.Time) bool { return now.Before(at) }, "the token was issued in the future"},
	}
	for _, c := range checks {
		value, present := claims[c.claim]
		if !present {
			continue
		}
		at, ok := numericDate(value)
		if !ok {
			return tokenError(fmt.Sprintf("the %s claim is not a numeric date", c.claim))
		}
		if c.violated(at) {
			return tokenError(c.problem)
		}
	}
	return nil
}

// numericDate reads a JWT NumericDate: seconds since the epoch, possibly fractional.
func numericDate(v any) (time.Time, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return time.Time{}, false
	}
	seconds, err := n.Float64()
	if err != nil || math.IsInf(seconds, 0) || math.Abs(seconds) > 1<<53 {
		return time.Time{}, false
	}
	whole, fraction := math.Modf(seconds)
	return time.Unix(int64(whole), int64(fraction*1e9)), true
}

// stringifyClaim renders a claim value as API Gateway does in payload format 2.0: strings as
// they are, numbers as written in the token, arrays as "[a b c]".
func stringifyClaim(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return fmt.Sprint(v)
}
