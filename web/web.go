// Package web is the Customer Space: the reference web console of the API, as static files
// (plain ES modules, no build step) served from the binary.
package web

import (
	"embed"
	"encoding/json"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
)

//go:embed static
var files embed.FS

// Policy is the Content-Security-Policy of the console: its own scripts and styles only,
// never inline, and the API on the same origin. Deployed, template.yaml sets it with the
// API's and the issuer's origins added to connect-src (infra/samtemplate compares them).
const Policy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

// AssetPrefix is the path under which the console's assets are served.
const AssetPrefix = "/console/"

// ConfigPath is where the console reads its settings, written when it is deployed.
const ConfigPath = AssetPrefix + "config.json"

// Config is the console's settings, as ConfigPath holds them.
type Config struct {
	APIURL   string `json:"apiUrl"`   // the API's base URL; empty for the console's own origin
	Issuer   string `json:"issuer"`   // the OIDC issuer customers sign in with; empty for none
	ClientID string `json:"clientId"` // the console's OAuth client id at the issuer
}

// localConfig is the local stack's settings: the API on the same origin, and its
// developer sign-in instead of an issuer.
var localConfig = mustJSON(Config{})

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic("web: " + err.Error()) // a struct of strings always marshals
	}
	return b
}

// pages are the console's screens: each serves index.html, and the script shows the screen
// that location.pathname names.
var pages = map[string]bool{"/": true, "/services": true, "/requests": true, "/profile": true, "/signin": true}

var types = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".svg":  "image/svg+xml",
	".png":  "image/png",
	".json": "application/json",
}

// Handler serves the console's pages and its assets under AssetPrefix.
func Handler() http.Handler {
	static, err := fs.Sub(files, "static")
	if err != nil {
		panic("web: embedded files: " + err.Error()) // the embed directive guarantees the folder
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := ""
		switch {
		case pages[r.URL.Path]:
			name = "index.html"
		case strings.HasPrefix(r.URL.Path, AssetPrefix):
			name = strings.TrimPrefix(r.URL.Path, AssetPrefix)
		}
		if name == "" || !fs.ValidPath(name) || strings.HasPrefix(path.Base(name), ".") {
			http.NotFound(w, r)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		body := localConfig
		if r.URL.Path != ConfigPath {
			var err error
			if body, err = fs.ReadFile(static, name); err != nil {
				http.NotFound(w, r)
				return
			}
		}
		ct := types[path.Ext(name)]
		if ct == "" {
			ct = mime.TypeByExtension(path.Ext(name))
		}
		if ct == "" {
			ct = "application/octet-stream"
		}
		h := w.Header()
		h.Set("Content-Type", ct)
		// Files change with the binary, which has no build step to fingerprint them.
		h.Set("Cache-Control", "no-cache")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Content-Security-Policy", Policy)
		h.Set("Referrer-Policy", "no-referrer")
		if r.Method == http.MethodHead {
			return
		}
		_, _ = w.Write(body)
	})
}
