// Package web is the Customer Space: the reference web console of the API, as static files
// (plain ES modules, no build step) served from the binary.
package web

import (
	"embed"
	"encoding/json"
	"io/fs"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strings"
)

//go:embed static
var files embed.FS

// Policy is the Content-Security-Policy of the console: its own scripts and styles only,
// never inline, and the API on the same origin. A console whose API or issuer is elsewhere
// adds their origins to connect-src (Config.ContentSecurityPolicy); deployed, template.yaml
// does so (infra/samtemplate compares them).
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

// ContentSecurityPolicy is Policy with the origins of the API and of the issuer, when they
// are set, added to connect-src: the console fetches the issuer's discovery document and
// exchanges its code at the issuer's token endpoint.
func (c Config) ContentSecurityPolicy() string {
	extra := ""
	for _, u := range []string{c.APIURL, c.Issuer} {
		if o := origin(u); o != "" && !strings.Contains(extra, " "+o) {
			extra += " " + o
		}
	}
	return strings.Replace(Policy, "connect-src 'self'", "connect-src 'self'"+extra, 1)
}

// origin is the scheme and host of an absolute URL, or "" for anything else.
func origin(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return ""
	}
	return u.Scheme + "://" + u.Host
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

// Handler serves the console's pages, its assets under AssetPrefix and c at ConfigPath.
// The zero Config is the local stack's: the API on the same origin, and its developer
// sign-in instead of an issuer.
func Handler(c Config) http.Handler {
	static, err := fs.Sub(files, "static")
	if err != nil {
		panic("web: embedded files: " + err.Error()) // the embed directive guarantees the folder
	}
	settings, err := json.Marshal(c)
	if err != nil {
		panic("web: " + err.Error()) // a struct of strings always marshals
	}
	policy := c.ContentSecurityPolicy()
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
		body := settings
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
		h.Set("Content-Security-Policy", policy)
		h.Set("Referrer-Policy", "no-referrer")
		if r.Method == http.MethodHead {
			return
		}
		_, _ = w.Write(body)
	})
}
