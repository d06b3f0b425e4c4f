package gateway

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/servicecontacts/servicecontacts/shared/api"
)

// The console's paths reach the site; the API's routes, the local endpoints and any other
// path do not.
func TestSitePaths(t *testing.T) {
	site := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("site")) })
	local := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("local")) })
	g, err := New(api.Routes, allFunctions(echo), Options{
		Secret: testSecret, Fallback: local, Site: site,
		IsSite: func(path string) bool { return path == "/" || path == "/requests" },
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		path       string
		wantStatus int
		wantBody   string
	}{
		{"/", http.StatusOK, "site"},
		{"/requests", http.StatusOK, "site"},
		{"/_local/mail", http.StatusOK, "local"},
		{"/nowhere", http.StatusNotFound, `{"message":"Not Found"}`},
		{"/me/services", http.StatusUnauthorized, `{"message":"Unauthorized"}`},
	} {
		rec := httptest.NewRecorder()
		g.ServeHTTP(rec, httptest.NewRequest("GET", tt.path, nil))
		if rec.Code != tt.wantStatus || rec.Body.String() != tt.wantBody {
			t.Errorf("GET %s: %d %q, want %d %q", tt.path, rec.Code, rec.Body.String(), tt.wantStatus, tt.wantBody)
		}
	}
	if _, err := New(api.Routes, allFunctions(echo), Options{Secret: testSecret, Site: site}); err == nil {
		t.Error("New took a Site without IsSite")
	}
}
