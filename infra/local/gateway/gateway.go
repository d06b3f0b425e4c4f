// Package gateway plays API Gateway HTTP API and its JWT authorizer for the local stack: it
// matches requests against the route table, authenticates them with HS256 bearer tokens,
// hands the functions the payload format 2.0 events API Gateway would build, and turns their
// responses back into HTTP.
package gateway

import (
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

	"github.com/aws/aws-lambda-go/events"

	"github.com/servicecontacts/servicecontacts/shared/api"
)

// maxBodyBytes is API Gateway HTTP API's payload quota.
const maxBodyBytes = 10 << 20

// Function is a Lambda handler behind an HTTP API route.
type Function func(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)

// Options configure a Gateway.
type Options struct {
	// Secret is the HS256 key of the bearer tokens the authorizer accepts. Required.
	Secret []byte
	// Logger receives the access log and function failures; slog.Default() when nil.
	Logger *slog.Logger
	// Now is the clock for token validity and event times; time.Now when nil.
	Now func() time.Time
	// Fallback serves the requests whose path matches no route (the local-only endpoints);
	// without it they get API Gateway's 404.
	Fallback http.Handler
	// CORSOrigins are the browser origins allowed to call the API, as the HttpApi's
	// CorsConfiguration lists them on AWS; none when empty.
	CORSOrigins []string
}

// Gateway is an http.Handler serving the HTTP API's routes with their functions.
type Gateway struct {
	routes   routeTable
	secret   []byte
	logger   *slog.Logger
	now      func() time.Time
	fallback http.Handler
}

// New returns a Gateway serving routes, each with the function of its name in functions.
func New(routes []api.Route, functions map[string]Function, opts Options) (*Gateway, error) {
	if len(opts.Secret) == 0 {
		return nil, errors.New("gateway: empty JWT secret")
	}
	table, err := newRouteTable(routes, functions)
	if err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	g := &Gateway{
		routes:   table,
		secret:   opts.Secret,
		logger:   opts.Logger,
		now:      opts.Now,
		fallback: opts.Fallback,
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
			slog.String("path", redactedURI(r.URL)),
			slog.Int("status", rec.statusOr(http.StatusOK)),
			slog.Duration("duration", g.now().Sub(start)),
			slog.String("requestId", requestID),
		)
	}()

	match, found := g.routes.lookup(r.Method, r.URL.EscapedPath())
	if found == noPath && g.fallback != nil {
		g.fallback.ServeHTTP(rec, r)
		return
	}
	rec.Header().Set("Apigw-Requestid", requestID)
	if found != routeFound {
		// HTTP API has no 405: a method without a route is as unknown as a path.
		writeMessage(rec, http.StatusNotFound, "Not Found")
		return
	}

	var authorizer *events.APIGatewayV2HTTPRequestContextAuthorizerDescription
	if !match.route.Public {
		claims, err := g.authorize(r, start)
		if err != nil {
			g.logger.LogAttrs(r.Context(), slog.LevelInfo, "unauthorized",
				slog.String("requestId", requestID), slog.String("reason", err.Error()))
			rec.Header().Set("Www-Authenticate", bearerChallenge(err))
			writeMessage(rec, http.StatusUnauthorized, "Unauthorized")
			return
		}
		authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
			JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: claims},
		}
	}

	body, err := readBody(r)
	if errors.Is(err, errBodyTooLarge) {
		writeMessage(rec, http.StatusRequestEntityTooLarge, "Request Entity Too Large")
		return
	}
	if err != nil {
		g.logger.LogAttrs(r.Context(), slog.LevelWarn, "read request body",
			slog.String("requestId", requestID), slog.String("error", err.Error()))
		writeMessage(rec, http.StatusBadRequest, "Bad Request")
		return
	}

	event := newEvent(r, match, body, requestID, start)
	event.RequestContext.Authorizer = authorizer
	resp, err := invoke(r.Context(), match.fn, event)
	if err == nil {
		err = writeResponse(rec, resp)
	}
	if err != nil {
		g.logger.LogAttrs(r.Context(), slog.LevelError, "function failed",
			slog.String("routeKey", match.route.Key()),
			slog.String("requestId", requestID),
			slog.String("error", err.Error()),
		)
		writeMessage(rec, http.StatusInternalServerError, "Internal Server Error")
	}
}

// authorize returns the claims of the request's bearer token. Like API Gateway's identity
// source, the Authorization header may hold the token alone or prefixed with "Bearer ".
func (g *Gateway) authorize(r *http.Request, now time.Time) (map[string]string, error) {
	credentials := strings.TrimSpace(r.Header.Get("Authorization"))
	if credentials == "" {
		return nil, errNoToken
	}
	if scheme, token, ok := strings.Cut(credentials, " "); ok && strings.EqualFold(scheme, "Bearer") {
		credentials = strings.TrimSpace(token)
	}
	return verify(g.secret, credentials, now)
}

var errNoToken = errors.New("no Authorization header")

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
