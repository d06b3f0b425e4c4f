package gateway

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/aws/aws-lambda-go/events"
)

// writeResponse writes a function's response. Everything that can make it invalid is checked
// before the first byte goes out, so that an invalid response still becomes a clean 500.
func writeResponse(w http.ResponseWriter, resp events.APIGatewayV2HTTPResponse) error {
	if resp.StatusCode < 100 || resp.StatusCode > 599 {
		return fmt.Errorf("invalid response: status code %d", resp.StatusCode)
	}
	body := []byte(resp.Body)
	if resp.IsBase64Encoded {
		decoded, err := base64.StdEncoding.DecodeString(resp.Body)
		if err != nil {
			return fmt.Errorf("invalid response: body marked base64: %w", err)
		}
		body = decoded
	}

	h := w.Header()
	for name, value := range resp.Headers {
		h.Set(name, value)
	}
	for name, values := range resp.MultiValueHeaders {
		for _, v := range values {
			h.Add(name, v)
		}
	}
	for _, cookie := range resp.Cookies {
		h.Add("Set-Cookie", cookie)
	}
	w.WriteHeader(resp.StatusCode)
	// Once the status is out, a failed write means the client went away.
	_, _ = w.Write(body)
	return nil
}

// statusRecorder remembers the status written, for the access log.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(status int) {
	if s.status == 0 {
		s.status = status
	}
	s.ResponseWriter.WriteHeader(status)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

func (s *statusRecorder) statusOr(fallback int) int {
	if s.status == 0 {
		return fallback
	}
	return s.status
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// redactedURI is the request's path and query for the access log, with the value of every
// "token" parameter replaced: emailed links carry confirmation tokens there.
func redactedURI(u *url.URL) string {
	path := u.EscapedPath()
	if u.RawQuery == "" {
		return path
	}
	pairs := strings.Split(u.RawQuery, "&")
	for i, pair := range pairs {
		rawName, _, _ := strings.Cut(pair, "=")
		name, err := url.QueryUnescape(rawName)
		if err != nil {
			name = rawName
		}
		if strings.EqualFold(name, "token") {
			pairs[i] = rawName + "=REDACTED"
		}
	}
	return path + "?" + strings.Join(pairs, "&")
}
