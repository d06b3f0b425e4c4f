package gateway

import (
	"encoding/base64"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// The identity of the local API in events, in the shape of AWS's.
const (
	localAccountID = "000000000000"
	localAPIID     = "local"
	defaultStage   = "$default"
)

// eventTimeLayout is the layout of requestContext.time: "12/Mar/2020:19:03:58 +0000".
const eventTimeLayout = "02/Jan/2006:15:04:05 -0700"

// newEvent builds the payload format 2.0 event API Gateway would send for r.
func newEvent(r *http.Request, m matched, body []byte, requestID string, at time.Time) events.APIGatewayV2HTTPRequest {
	headers, cookies := eventHeaders(r)
	sourceIP := hostOnly(r.RemoteAddr)
	domainPrefix, _, _ := strings.Cut(hostOnly(r.Host), ".")

	event := events.APIGatewayV2HTTPRequest{
		Version:               "2.0",
		RouteKey:              m.route.Key(),
		RawPath:               r.URL.EscapedPath(),
		RawQueryString:        r.URL.RawQuery,
		Cookies:               cookies,
		Headers:               headers,
		QueryStringParameters: queryParameters(r.URL.RawQuery),
		PathParameters:        m.params,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RouteKey:     m.route.Key(),
			AccountID:    localAccountID,
			Stage:        defaultStage,
			RequestID:    requestID,
			APIID:        localAPIID,
			DomainName:   r.Host,
			DomainPrefix: domainPrefix,
			Time:         at.UTC().Format(eventTimeLayout),
			TimeEpoch:    at.UnixMilli(),
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method:    r.Method,
				Path:      r.URL.EscapedPath(),
				Protocol:  r.Proto,
				SourceIP:  sourceIP,
				UserAgent: r.UserAgent(),
			},
		},
	}
	if len(body) > 0 {
		if isTextContent(r.Header.Get("Content-Type")) {
			event.Body = string(body)
		} else {
			event.Body = base64.StdEncoding.EncodeToString(body)
			event.IsBase64Encoded = true
		}
	}
	return event
}

// eventHeaders returns the request's headers as payload format 2.0 has them (lowercase names,
// repeated headers joined with commas, the forwarding headers API Gateway adds) and its
// cookies, which 2.0 moves out of the headers.
func eventHeaders(r *http.Request) (map[string]string, []string) {
	headers := make(map[string]string, len(r.Header)+4)
	var cookies []string
	for name, values := range r.Header {
		lower := strings.ToLower(name)
		if lower == "cookie" {
			for _, line := range values {
				for cookie := range strings.SplitSeq(line, ";") {
					if cookie = strings.TrimSpace(cookie); cookie != "" {
						cookies = append(cookies, cookie)
					}
				}
			}
			continue
		}
		headers[lower] = strings.Join(values, ",")
	}
	// net/http moves Host out of the header map.
	headers["host"] = r.Host

	scheme, port := "http", "80"
	if r.TLS != nil {
		scheme, port = "https", "443"
	}
	if _, p, err := net.SplitHostPort(r.Host); err == nil {
		port = p
	}
	sourceIP := hostOnly(r.RemoteAddr)
	if previous := headers["x-forwarded-for"]; previous != "" {
		headers["x-forwarded-for"] = previous + ", " + sourceIP
	} else {
		headers["x-forwarded-for"] = sourceIP
	}
	headers["x-forwarded-port"] = port
	headers["x-forwarded-proto"] = scheme
	return headers, cookies
}

// queryParameters decodes the query string, joining repeated values with commas as payload
// format 2.0 does; nil when there is none. Malformed pairs are left out, the rest kept.
func queryParameters(rawQuery string) map[string]string {
	values, _ := url.ParseQuery(rawQuery)
	if len(values) == 0 {
		return nil
	}
	params := make(map[string]string, len(values))
	for name, vs := range values {
		params[name] = strings.Join(vs, ",")
	}
	return params
}

// isTextContent reports whether HTTP API passes a body of this media type as text. Anything
// else, form posts and bodies without a Content-Type included, reaches the function
// base64-encoded.
func isTextContent(contentType string) bool {
	mediaType, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	switch mediaType {
	case "application/json", "application/xml", "application/javascript":
		return true
	}
	return strings.HasPrefix(mediaType, "text/")
}

// hostOnly strips the port from "host:port"; other values are returned as they are.
func hostOnly(hostport string) string {
	if host, _, err := net.SplitHostPort(hostport); err == nil {
		return host
	}
	return hostport
}
