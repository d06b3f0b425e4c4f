// Package web is the Customer Space: the reference web console of the API, as static files
// (plain ES modules, no build step) served from the binary.
package web

import (
	"embed"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
)

//go:embed static
var files embed.FS

// Policy is the Content-Security-Policy of the console: its own scripts and styles only,
// never inline, and the API on the same origin.
const Policy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

// AssetPrefix is the path under which the console's assets are served.
const AssetPrefix = "/console/"

// pages are the console's screens: each serves index.html, and the script shows the screen
// that location.pathname names.
var pages = map[string]bool{"/": true, "/services": true, "/requests": true, "/profile": true, "/signin": true}

var types = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".svg":  "image/svg+xml",
	".png":  "image/png",
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
		body, err := fs.ReadFile(static, name)
		if err != nil {
			http.NotFound(w, r)
			return
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
