package mailbox

import (
	"encoding/json"
	"html/template"
	"log/slog"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"
)

// ServeHTTP serves the box:
//
//	GET    /_local/mail     the messages as JSON, oldest first (bounced ones say "bounced": true)
//	GET    /_local/mail/ui  a page showing the messages, newest first
//	DELETE /_local/mail     forget every message
func (b *Box) ServeHTTP(w http.ResponseWriter, r *http.Request) { b.handler.ServeHTTP(w, r) }

func (b *Box) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /_local/mail", b.serveJSON)
	mux.HandleFunc("DELETE /_local/mail", b.serveClear)
	mux.HandleFunc("GET /_local/mail/ui", b.serveUI)
	return mux
}

// jsonMessage is the shape of a message in GET /_local/mail.
type jsonMessage struct {
	To      string `json:"to"`
	Subject string `json:"subject"`
	Text    string `json:"text"`
	HTML    string `json:"html"`
	SentAt  string `json:"sentAt"`
	// Bounced: SES would have reported a permanent bounce (see Bounces).
	Bounced bool `json:"bounced,omitempty"`
}

func (b *Box) serveJSON(w http.ResponseWriter, r *http.Request) {
	messages := b.Messages()
	out := make([]jsonMessage, 0, len(messages))
	for _, m := range messages {
		out = append(out, jsonMessage{To: m.To, Subject: m.Subject, Text: m.Text, HTML: m.HTML, SentAt: m.SentAt.UTC().Format(time.RFC3339Nano), Bounced: m.Bounced})
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if err := json.NewEncoder(w).Encode(out); err != nil {
		slog.WarnContext(r.Context(), "write local mail list", "err", err)
	}
}

func (b *Box) serveClear(w http.ResponseWriter, _ *http.Request) {
	b.Clear()
	w.WriteHeader(http.StatusNoContent)
}

// uiMessage is a message as the page shows it.
type uiMessage struct {
	Message
	// Page is the email's HTML with its links set to open at the top level, out of the
	// frame that shows it.
	Page  string
	Links []string
}

func (b *Box) serveUI(w http.ResponseWriter, r *http.Request) {
	messages := b.Messages()
	slices.Reverse(messages)
	view := make([]uiMessage, 0, len(messages))
	for _, m := range messages {
		view = append(view, uiMessage{Message: m, Page: linksAtTop(m.HTML), Links: links(m.Text)})
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	// The emails are shown as they are, so the page allows nothing but inline styles.
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-src 'self'")
	if err := uiPage.Execute(w, view); err != nil {
		slog.WarnContext(r.Context(), "write local mail page", "err", err)
	}
}

var headTag = regexp.MustCompile(`(?i)<head(\s[^>]*)?>`)

// linksAtTop makes the links of an email open in the whole window rather than in the
// frame that shows it.
func linksAtTop(html string) string {
	const base = `<base target="_top">`
	if loc := headTag.FindStringIndex(html); loc != nil {
		return html[:loc[1]] + base + html[loc[1]:]
	}
	return base + html
}

var linkPattern = regexp.MustCompile(`https?://[^\s<>"]+`)

// links lists the web addresses in a plain-text email, without repeats.
func links(text string) []string {
	var out []string
	for _, l := range linkPattern.FindAllString(text, -1) {
		// Punctuation after an address ends the sentence, not the address.
		l = strings.TrimRight(l, ".,;:!?)")
		if !slices.Contains(out, l) {
			out = append(out, l)
		}
	}
	return out
}

var uiPage = template.Must(template.New("ui").Funcs(template.FuncMap{
	"rfc3339": func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"when":    func(t time.Time) string { return t.UTC().Format("2 Jan 2006 15:04:05 UTC") },
}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Local mail</title>
<style>
body { margin: 0; font-family: system-ui, sans-serif; background: #f3f4f6; color: #1f2937; }
header, main { max-width: 900px; margin: 0 auto; padding: 16px; }
h1 { margin: 0 0 4px; font-size: 22px; }
article { background: #fff; border: 1px solid #d1d5db; border-radius: 6px; margin: 0 0 24px; padding: 16px; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 4px 12px; margin: 0 0 12px; }
dt { color: #6b7280; }
dd { margin: 0; word-break: break-all; }
.subject { font-weight: bold; }
.bounced { color: #b91c1c; }
ul { margin: 0 0 12px; padding-left: 20px; word-break: break-all; }
iframe { width: 100%; height: 560px; border: 1px solid #e5e7eb; resize: vertical; }
pre { white-space: pre-wrap; background: #f9fafb; padding: 12px; }
</style>
</head>
<body>
<header>
<h1>Local mail</h1>
<p>{{len .}} message(s), newest first. Reload the page to see new ones. As JSON: <a href="/_local/mail">/_local/mail</a>.</p>
</header>
<main>
{{range .}}<article>
<dl>
<dt>To</dt><dd>{{.To}}</dd>
<dt>Subject</dt><dd class="subject">{{.Subject}}</dd>
<dt>Sent</dt><dd><time datetime="{{rfc3339 .SentAt}}">{{when .SentAt}}</time></dd>
{{if .Bounced}}<dt>Bounced</dt><dd class="bounced">yes: addresses under bounce.test bounce as an address that does not exist would</dd>
{{end}}</dl>
{{with .Links}}<ul>
{{range .}}<li><a href="{{.}}">{{.}}</a></li>
{{end}}</ul>
{{end}}<iframe title="{{.Subject}}" sandbox="allow-popups allow-popups-to-escape-sandbox allow-top-navigation-by-user-activation" srcdoc="{{.Page}}"></iframe>
<details><summary>Plain text</summary><pre>{{.Text}}</pre></details>
</article>
{{else}}<p>No mail yet.</p>
{{end}}</main>
</body>
</html>
`))
