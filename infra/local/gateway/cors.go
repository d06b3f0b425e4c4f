package gateway

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// CORSConfig is an HTTP API's CorsConfiguration but its AllowOrigins, which each deployment
// lists (CORS_ORIGINS).
type CORSConfig struct {
	AllowHeaders  []string // Access-Control-Allow-Headers of preflight answers
	AllowMethods  []string // Access-Control-Allow-Methods of preflight answers
	ExposeHeaders []string // Access-Control-Expose-Headers of actual answers
	MaxAge        int      // Access-Control-Max-Age of preflight answers, in seconds
}

// CORS is the CorsConfiguration the gateway plays, and the one the SAM template's HttpApi
// must declare: the customers' routes are called with a bearer token (authorization) and
// JSON bodies (content-type), by GET and POST only; browsers read the request id and, on a
// 429, when to retry. No credentials: the API has no cookies. Operator routes are called
// with SigV4 from servers, never from a browser.
var CORS = CORSConfig{
	AllowHeaders:  []string{"authorization", "content-type"},
	AllowMethods:  []string{"GET", "POST"},
	ExposeHeaders: []string{"apigw-requestid", "retry-after"},
	MaxAge:        3600,
}

// ParseCORSOrigins reads a comma-separated list of origins, as CORS_ORIGINS holds them:
// "https://console.example.com,http://127.0.0.1:5173". Empty means none.
func ParseCORSOrigins(list string) ([]string, error) {
	var origins []string
	for o := range strings.SplitSeq(list, ",") {
		o = strings.TrimSpace(o)
		if o == "" {
			continue
		}
		normalized, err := normalizeOrigin(o)
		if err != nil {
			return nil, err
		}
		origins = append(origins, normalized)
	}
	return origins, nil
}

// normalizeOrigin checks that o is "*" or an origin as browsers send it (scheme://host[:port],
// nothing after), and returns it lowercased, as browsers serialize origins.
func normalizeOrigin(o string) (string, error) {
	if o == "*" {
		return o, nil
	}
	u, err := url.Parse(o)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("CORS origin %q is not an origin like https://console.example.com", o)
	}
	return strings.ToLower(u.Scheme + "://" + u.Host), nil
}

// cors is the gateway's CORS policy: CORS and the allowed origins.
type cors struct {
	origins map[string]bool
	any     bool // "*" is listed
}

func newCORS(origins []string) (cors, error) {
	c := cors{origins: make(map[string]bool, len(origins))}
	for _, o := range origins {
		normalized, err := normalizeOrigin(strings.TrimSpace(o))
		if err != nil {
			return cors{}, err
		}
		c.any = c.any || normalized == "*"
		c.origins[normalized] = true
	}
	return c, nil
}

func (c cors) enabled() bool { return len(c.origins) > 0 }

// allowOrigin is the Access-Control-Allow-Origin the request's Origin earns: "" when the
// request has none or it is not listed.
func (c cors) allowOrigin(r *http.Request) string {
	origin := r.Header.Get("Origin")
	switch {
	case origin == "":
		return ""
	case c.any:
		return "*"
	case c.origins[strings.ToLower(origin)]:
		return origin
	}
	return ""
}

// isPreflight tells a CORS preflight, which API Gateway answers itself on every path, from an
// OPTIONS call a route could serve: it carries Origin and Access-Control-Request-Method.
func isPreflight(r *http.Request) bool {
	return r.Method == http.MethodOptions && r.Header.Get("Origin") != "" &&
		r.Header.Get("Access-Control-Request-Method") != ""
}

// preflight answers a preflight as API Gateway does: 204, with the configured permissions
// for a listed origin and none for another, whose browser then refuses the call.
func (c cors) preflight(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	c.vary(h)
	if allow := c.allowOrigin(r); allow != "" {
		h.Set("Access-Control-Allow-Origin", allow)
		h.Set("Access-Control-Allow-Methods", strings.Join(CORS.AllowMethods, ","))
		h.Set("Access-Control-Allow-Headers", strings.Join(CORS.AllowHeaders, ","))
		h.Set("Access-Control-Max-Age", strconv.Itoa(CORS.MaxAge))
	}
	w.WriteHeader(http.StatusNoContent)
}

// vary says that the answer depends on the Origin, unless every origin gets the same.
func (c cors) vary(h http.Header) {
	if !c.any {
		h.Add("Vary", "Origin")
	}
}

// corsWriter applies the policy to an actual answer, the gateway's own or a function's, as
// its header goes out: API Gateway drops the CORS headers a function sets and adds its own
// for a listed origin.
type corsWriter struct {
	http.ResponseWriter
	policy      cors
	allowOrigin string
	wroteHeader bool
}

func (c *corsWriter) WriteHeader(status int) {
	if !c.wroteHeader {
		c.wroteHeader = true
		h := c.Header()
		for name := range h {
			if strings.HasPrefix(http.CanonicalHeaderKey(name), "Access-Control-") {
				delete(h, name)
			}
		}
		c.policy.vary(h)
		if c.allowOrigin != "" {
			h.Set("Access-Control-Allow-Origin", c.allowOrigin)
			h.Set("Access-Control-Expose-Headers", strings.Join(CORS.ExposeHeaders, ","))
		}
	}
	c.ResponseWriter.WriteHeader(status)
}

func (c *corsWriter) Write(b []byte) (int, error) {
	if !c.wroteHeader {
		c.WriteHeader(http.StatusOK)
	}
	return c.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (c *corsWriter) Unwrap() http.ResponseWriter { return c.ResponseWriter }
