// Package stacktest serves the local stack on a loopback port for tests, and calls it as the
// API's callers do: over HTTP, with a bearer token signed for a NIC handle.
package stacktest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/servicecontacts/servicecontacts/infra/local/gateway"
	"github.com/servicecontacts/servicecontacts/infra/local/stack"
)

// Site is a running stack and the address it answers on.
type Site struct {
	URL   string
	Stack *stack.Stack

	t      testing.TB
	secret []byte
}

// Start builds a stack from opts and serves it on 127.0.0.1 until the test ends. Emailed links
// point at the site; a missing JWT secret or logger gets a test default.
func Start(t testing.TB, opts stack.Options) *Site {
	t.Helper()
	// The stack needs the server's address for its links, and the server needs the stack.
	var handler http.Handler = http.NotFoundHandler()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	if opts.JWTSecret == nil {
		opts.JWTSecret = []byte("stacktest-secret")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	opts.PublicBaseURL = srv.URL
	st, err := stack.New(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	handler = st.Handler
	return &Site{URL: srv.URL, Stack: st, t: t, secret: opts.JWTSecret}
}

// Bearer returns a token the stack's authorizer accepts for nic, valid for an hour.
func (s *Site) Bearer(nic string) string {
	s.t.Helper()
	tok, err := gateway.Sign(s.secret, map[string]any{"sub": nic, "exp": time.Now().Add(time.Hour).Unix()})
	if err != nil {
		s.t.Fatal(err)
	}
	return tok
}

// Request builds a call to path as nic ("" for none) with a JSON body (nil for none).
func (s *Site) Request(method, path, nic string, body any) *http.Request {
	s.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			s.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, s.URL+path, rd)
	if err != nil {
		s.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if nic != "" {
		req.Header.Set("Authorization", "Bearer "+s.Bearer(nic))
	}
	return req
}

// Response is an answer, read whole.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// client waits long: a 2-core machine running tests under -race answers slowly.
var client = &http.Client{Timeout: time.Minute}

// Do sends req and reads the answer.
func (s *Site) Do(req *http.Request) Response {
	s.t.Helper()
	res, err := client.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		s.t.Fatal(err)
	}
	return Response{Status: res.StatusCode, Header: res.Header, Body: b}
}

// Call sends a request built as Request builds it.
func (s *Site) Call(method, path, nic string, body any) Response {
	s.t.Helper()
	return s.Do(s.Request(method, path, nic, body))
}

// Must calls, fails the test unless the answer has status want, and returns its body.
func (s *Site) Must(want int, method, path, nic string, body any) []byte {
	s.t.Helper()
	r := s.Call(method, path, nic, body)
	if r.Status != want {
		s.t.Fatalf("%s %s: status %d, want %d: %s", method, path, r.Status, want, r.Body)
	}
	return r.Body
}
