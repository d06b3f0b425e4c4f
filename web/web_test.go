package web

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

func TestHandler(t *testing.T) {
	h := Handler(Config{})
	tests := []struct {
		method, path string
		status       int
		contentType  string
	}{
		{"GET", "/", http.StatusOK, "text/html; charset=utf-8"},
		{"GET", "/services", http.StatusOK, "text/html; charset=utf-8"},
		{"GET", "/requests", http.StatusOK, "text/html; charset=utf-8"},
		{"GET", "/profile", http.StatusOK, "text/html; charset=utf-8"},
		{"GET", "/signin", http.StatusOK, "text/html; charset=utf-8"},
		{"HEAD", "/services", http.StatusOK, "text/html; charset=utf-8"},
		{"GET", "/console/app.js", http.StatusOK, "text/javascript; charset=utf-8"},
		{"GET", "/console/rules.js", http.StatusOK, "text/javascript; charset=utf-8"},
		{"GET", "/console/app.css", http.StatusOK, "text/css; charset=utf-8"},
		{"GET", "/console/config.json", http.StatusOK, "application/json"},
		{"HEAD", "/console/config.json", http.StatusOK, "application/json"},
		{"POST", "/console/config.json", http.StatusMethodNotAllowed, ""},
		{"GET", "/console/missing.js", http.StatusNotFound, ""},
		{"GET", "/console/", http.StatusNotFound, ""},
		{"GET", "/console/../web.go", http.StatusNotFound, ""},
		{"GET", "/elsewhere", http.StatusNotFound, ""},
		{"POST", "/services", http.StatusMethodNotAllowed, ""},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(tt.method, tt.path, nil))
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d", rec.Code, tt.status)
			}
			if tt.status != http.StatusOK {
				return
			}
			if got := rec.Header().Get("Content-Type"); got != tt.contentType {
				t.Errorf("Content-Type %q, want %q", got, tt.contentType)
			}
			if got := rec.Header().Get("Cache-Control"); got != "no-cache" {
				t.Errorf("Cache-Control %q", got)
			}
			if got := rec.Header().Get("Content-Security-Policy"); got != Policy {
				t.Errorf("Content-Security-Policy %q", got)
			}
			if tt.method == "HEAD" && rec.Body.Len() != 0 {
				t.Errorf("HEAD answered a body")
			}
		})
	}
}

// The policy forbids inline scripts and styles: the page must have none.
func TestIndexHasNothingInline(t *testing.T) {
	rec := httptest.NewRecorder()
	Handler(Config{}).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	body, _ := io.ReadAll(rec.Body)
	page := string(body)
	for _, bad := range []*regexp.Regexp{
		regexp.MustCompile(`<script(?:\s[^>]*)?>\s*[^<\s]`), // a script with a body
		regexp.MustCompile(`<style`),
		regexp.MustCompile(`\sstyle=`),
		regexp.MustCompile(`\son[a-z]+=`),
		regexp.MustCompile(`https?://`),
	} {
		if loc := bad.FindStringIndex(page); loc != nil {
			t.Errorf("index.html has %q, which the policy blocks or which is external", page[loc[0]:min(loc[1]+20, len(page))])
		}
	}
	if !strings.Contains(page, `<script type="module" src="/console/app.js"></script>`) {
		t.Error("index.html does not load the console's module")
	}
}

func TestServes(t *testing.T) {
	for path, want := range map[string]bool{
		"/": true, "/services": true, "/requests": true, "/profile": true, "/signin": true,
		"/console/app.js": true, "/console/": true,
		"/me": false, "/me/services": false, "/services/example.com/contact-changes": false,
		"/_local/mail": false, "/contact-changes/x/confirm": false, "/consoles": false,
	} {
		if got := Serves(path); got != want {
			t.Errorf("Serves(%q) = %v, want %v", path, got, want)
		}
	}
}

// Locally the console calls the API on its own origin and signs in with the developer
// tokens: every setting is present, and empty.
func TestLocalConfig(t *testing.T) {
	rec := httptest.NewRecorder()
	Handler(Config{}).ServeHTTP(rec, httptest.NewRequest("GET", ConfigPath, nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d", rec.Code)
	}
	var got map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatalf("%s: %v", rec.Body, err)
	}
	want := map[string]any{"apiUrl": "", "issuer": "", "clientId": ""}
	if len(got) != len(want) {
		t.Errorf("settings %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %#v, want %#v", k, got[k], v)
		}
	}
}

// A console whose API and issuer are elsewhere may connect to their origins, and to nothing
// else; what is not an absolute http(s) URL adds nothing.
func TestContentSecurityPolicy(t *testing.T) {
	const rest = "; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
	const start = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'"
	tests := []struct {
		name string
		c    Config
		want string
	}{
		{"local", Config{}, Policy},
		{"issuer", Config{Issuer: "http://127.0.0.1:8080/default", ClientID: "console"}, start + " http://127.0.0.1:8080" + rest},
		{"api and issuer", Config{APIURL: "https://abc.execute-api.eu-west-1.amazonaws.com/", Issuer: "https://id.example.com/realms/x"},
			start + " https://abc.execute-api.eu-west-1.amazonaws.com https://id.example.com" + rest},
		{"same origin twice", Config{APIURL: "https://id.example.com/api", Issuer: "https://id.example.com"}, start + " https://id.example.com" + rest},
		{"not a URL", Config{APIURL: "/api", Issuer: "javascript:alert(1)"}, Policy},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.c.ContentSecurityPolicy(); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

// The handler serves the settings it is given, and the policy that lets the console reach
// the issuer they name.
func TestHandlerWithIssuer(t *testing.T) {
	c := Config{Issuer: "http://127.0.0.1:8080/default", ClientID: "console"}
	h := Handler(c)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", ConfigPath, nil))
	var got Config
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || got != c {
		t.Errorf("settings %s (%v), want %+v", rec.Body, err, c)
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/signin", nil))
	if got := rec.Header().Get("Content-Security-Policy"); !strings.Contains(got, "connect-src 'self' http://127.0.0.1:8080;") {
		t.Errorf("Content-Security-Policy %q does not let the console reach the issuer", got)
	}
}
