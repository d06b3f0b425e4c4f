// Package gateway plays API Gateway HTTP API and its authorizers for the local stack: it
// matches requests against the route table, authenticates them with HS256 bearer tokens (the
// customers' JWT authorizer, and IAM authorization of the operator routes) and, for the
// customers, with the tokens of an OpenID Connect issuer when one is set, answers CORS as
// the API's CorsConfiguration does, hands the functions the payload format 2.0 events API
// Gateway would build, and turns their responses back into HTTP.
package gateway

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"

	"github.com/servicecontacts/servicecontacts/shared/api"
)

// maxBodyBytes is API Gateway HTTP API's payload quota.
const maxBodyBytes = 10 << 20

// LocalPrefix is where the local stack's own endpoints live (the mail catcher, the event
// log): the only paths, besides the routes, that the gateway does not answer itself.
const LocalPrefix = "/_local/"

// maxLoggedLength bounds what the access log writes of a request's path and query, and the
// reasons it gives: a caller controls them.
const maxLoggedLength = 512

// Function is a Lambda handler behind an HTTP API route.
type Function func(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)

// Options configure a Gateway.
type Options struct {
	// Secret is the HS256 key of the bearer tokens the authorizers accept (SecretFromEnv).
	// Required.
	Secret []byte
	// Issuer, when set, is an OpenID Connect issuer whose tokens the customers' routes accept
	// besides the local ones: a customer's token whose alg is not HS256 is checked against
	// it, an HS256 one still against Secret. The operator routes, IAM's on AWS, take local
	// tokens only.
	Issuer *Issuer
	// IdentityClaim is the claim a customer's token must hold, a non-empty string: the NIC
	// handle. DefaultIdentityClaim when empty; with Amazon Cognito, e.g. "custom:nic".
	IdentityClaim string
	// Logger receives the access log and function failures; slog.Default() when nil.
	Logger *slog.Logger
	// Now is the clock for token validity and event times; time.Now when nil.
	Now func() time.Time
	// Fallback serves the local-only endpoints: the requests whose path is under LocalPrefix
	// and matches no route. Every other path no route serves gets API Gateway's 404, with
	// or without a fallback.
	Fallback http.Handler
	// Site serves the web console's pages and assets: the paths no route serves for which
	// IsSite reports true (on AWS, CloudFront serves them from S3). None when nil.
	Site   http.Handler
	IsSite func(path string) bool
	// CORSOrigins are the browser origins allowed to call the API, as the HttpApi's
	// CorsConfiguration lists them on AWS ("*" for any); none when empty, and then the
	// gateway answers no preflight. The rest of the configuration is CORS.
	CORSOrigins []string
}

// Gateway is an http.Handler serving the HTTP API's routes with their functions.
type Gateway struct {
	routes        routeTable
	secret        []byte
	issuer        *keySet
	identityClaim string
	cors          cors
	logger        *slog.Logger
	now           func() time.Time
	fallback      http.Handler
	site          http.Handler
	isSite        func(string) bool
}

// New returns a Gateway serving routes, each with the function of its name in functions.
func New(routes []api.Route, functions map[string]Function, opts Options) (*Gateway, error) {
	if len(opts.Secret) == 0 {
		return nil, errors.New("gateway: empty JWT secret")
	}
	if (opts.Site == nil) != (opts.IsSite == nil) {
		return nil, errors.New("gateway: Site and IsSite go together")
	}
	claim := cmp.Or(opts.IdentityClaim, DefaultIdentityClaim)
	if claim == OperatorClaim {
		return nil, fmt.Errorf("gateway: the identity claim cannot be %q, the claim of operator tokens", OperatorClaim)
	}
	table, err := newRouteTable(routes, functions)
	if err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	policy, err := newCORS(opts.CORSOrigins)
	if err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	var issuer *keySet
	if opts.Issuer != nil {
		if err := opts.Issuer.check(); err != nil {
			return nil, fmt.Errorf("gateway: %w", err)
		}
		issuer = newKeySet(*opts.Issuer)
	}
	g := &Gateway{
		issuer:        issuer,
		routes:        table,
		secret:        opts.Secret,
		identityClaim: claim,
		cors:          policy,
		logger:        opts.Logger,
		now:           opts.Now,
		fallback:      opts.Fallback,
		site:          opts.Site,
		isSite:        opts.IsSite,
	}
	if g.logger == nil {
		g.logger = slog.Default()
	}
	if g.now == nil {
		g.now = time.Now
	}
	return g, nil
}

// ServeHTTP answers one request as API Gateway would.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := g.now()
	requestID := newRequestID()
	rec := &statusRecorder{ResponseWriter: w}
	defer func() {
		g.logger.LogAttrs(r.Context(), slog.LevelInfo, "request",
			slog.String("method", r.Method),
			slog.String("path", clip(redactedURI(r.URL), maxLoggedLength)),
			slog.Int("status", rec.statusOr(http.StatusOK)),
			slog.Duration("duration", g.now().Sub(start)),
			slog.String("apigwRequestId", requestID),
		)
	}()

	match, found := g.routes.lookup(r.Method, r.URL.EscapedPath())
	if found == noPath && g.fallback != nil && isLocal(r.URL.Path) {
		g.fallback.ServeHTTP(rec, r)
		return
	}
	if found == noPath && g.site != nil && g.isSite(r.URL.Path) {
		g.site.ServeHTTP(rec, r)
		return
	}
	rec.Header().Set("Apigw-Requestid", requestID)
	var out http.ResponseWriter = rec
	if g.cors.enabled() {
		// Preflights never reach a route nor an authorizer: the browser sends no token.
		if isPreflight(r) {
			g.cors.preflight(rec, r)
			return
		}
		out = &corsWriter{ResponseWriter: rec, policy: g.cors, allowOrigin: g.cors.allowOrigin(r)}
	}
	if found != routeFound {
		// HTTP API has no 405: a method without a route is as unknown as a path.
		writeMessage(out, http.StatusNotFound, "Not Found")
		return
	}

	var authorizer *events.APIGatewayV2HTTPRequestContextAuthorizerDescription
	switch {
	case match.route.Public:
	case match.route.Operator:
		var err error
		if authorizer, err = g.authorizeOperator(r, start); err != nil {
			g.logger.LogAttrs(r.Context(), slog.LevelInfo, "forbidden",
				slog.String("apigwRequestId", requestID), slog.String("reason", clip(err.Error(), maxLoggedLength)))
			// IAM's answer to an unsigned or wrongly signed call: no challenge, no reason.
			writeMessage(out, http.StatusForbidden, "Forbidden")
			return
		}
	default:
		var err error
		if authorizer, err = g.authorizeCustomer(r, start); err != nil {
			g.logger.LogAttrs(r.Context(), slog.LevelInfo, "unauthorized",
				slog.String("apigwRequestId", requestID), slog.String("reason", clip(err.Error(), maxLoggedLength)))
			out.Header().Set("Www-Authenticate", bearerChallenge(err))
			writeMessage(out, http.StatusUnauthorized, "Unauthorized")
			return
		}
	}

	body, err := readBody(r)
	if errors.Is(err, errBodyTooLarge) {
		writeMessage(out, http.StatusRequestEntityTooLarge, "Request Entity Too Large")
		return
	}
	if err != nil {
		g.logger.LogAttrs(r.Context(), slog.LevelWarn, "read request body",
			slog.String("apigwRequestId", requestID), slog.String("err", err.Error()))
		writeMessage(out, http.StatusBadRequest, "Bad Request")
		return
	}

	event := newEvent(r, match, body, requestID, start)
	event.RequestContext.Authorizer = authorizer
	resp, err := invoke(r.Context(), match.fn, event)
	if err == nil {
		err = writeResponse(out, resp)
	}
	if err != nil {
		g.logger.LogAttrs(r.Context(), slog.LevelError, "function failed",
			slog.String("routeKey", match.route.Key()),
			slog.String("apigwRequestId", requestID),
			slog.String("err", err.Error()),
		)
		writeMessage(out, http.StatusInternalServerError, "Internal Server Error")
	}
}

// isLocal reports whether path is one of the local stack's own endpoints.
func isLocal(path string) bool {
	return path+"/" == LocalPrefix || strings.HasPrefix(path, LocalPrefix)
}

// clip bounds s to at most n bytes, cut on a rune boundary and marked with "…" when cut.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// bearerChallenge is the www-authenticate value of a refusal: a bare "Bearer" when no token
// came, the reason in RFC 6750 form, as API Gateway writes it, when one was refused.
func bearerChallenge(err error) string {
	var refused tokenError
	if !errors.As(err, &refused) {
		return "Bearer"
	}
	return `Bearer scope="" error="invalid_token" error_description="` + quotedStringContent(string(refused)) + `"`
}

// quotedStringContent keeps printable ASCII and escapes what a quoted-string cannot hold
// as is: the description may echo a token's header.
func quotedStringContent(s string) string {
	var b strings.Builder
	for _, c := range s {
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteRune(c)
		case c >= ' ' && c <= '~':
			b.WriteRune(c)
		}
	}
	return b.String()
}

var errBodyTooLarge = errors.New("request body too large")

// readBody reads the whole body, refusing more than API Gateway's quota.
func readBody(r *http.Request) ([]byte, error) {
	if r.ContentLength > maxBodyBytes {
		return nil, errBodyTooLarge
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read request body: %w", err)
	}
	if len(body) > maxBodyBytes {
		return nil, errBodyTooLarge
	}
	return body, nil
}

// invoke calls fn, turning a panic into an error as the Lambda runtime reports one.
func invoke(ctx context.Context, fn Function, event events.APIGatewayV2HTTPRequest) (resp events.APIGatewayV2HTTPResponse, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("function panicked: %v", p)
		}
	}()
	resp, err = fn(ctx, event)
	if err != nil {
		return resp, fmt.Errorf("function returned an error: %w", err)
	}
	return resp, nil
}

// writeMessage writes API Gateway's own JSON answer, {"message": "..."}.
func writeMessage(w http.ResponseWriter, status int, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	// The client may be gone; there is nobody left to tell.
	_, _ = io.WriteString(w, `{"message":"`+message+`"}`)
}

// newRequestID returns an id shaped like API Gateway's ("Mc7UVioPPHcEKPA="): 11 random bytes
// in base64.
func newRequestID() string {
	var b [11]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails.
	return base64.StdEncoding.EncodeToString(b[:])
}
