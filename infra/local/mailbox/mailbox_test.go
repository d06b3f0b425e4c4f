package mailbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/servicecontacts/servicecontacts/shared/mail"
)

var start = time.Date(2025, time.March, 1, 9, 30, 0, 0, time.UTC)

// newBox returns a box whose clock moves one second per message, from start.
func newBox() *Box {
	b := New()
	var mu sync.Mutex
	next := start
	b.now = func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		t := next
		next = next.Add(time.Second)
		return t
	}
	return b
}

func send(t *testing.T, b *Box, messages ...mail.Message) {
	t.Helper()
	for _, m := range messages {
		if err := b.Send(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
}

var (
	first  = mail.Message{To: "admin@example.com", Subject: "first", Text: "one", HTML: "<p>one</p>"}
	second = mail.Message{To: "tech@example.com", Subject: "second", Text: "two", HTML: "<p>two</p>"}
)

func TestMessages(t *testing.T) {
	b := newBox()
	send(t, b, first, second)
	want := []Message{{Message: first, SentAt: start}, {Message: second, SentAt: start.Add(time.Second)}}
	if diff := cmp.Diff(want, b.Messages()); diff != "" {
		t.Errorf("Messages (-want +got):\n%s", diff)
	}
	b.Clear()
	if got := b.Messages(); len(got) != 0 {
		t.Errorf("after Clear, Messages = %v, want none", got)
	}
}

func TestSendAfterContextEnds(t *testing.T) {
	b := newBox()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := b.Send(ctx, first); !errors.Is(err, context.Canceled) {
		t.Errorf("Send = %v, want %v", err, context.Canceled)
	}
	if got := b.Messages(); len(got) != 0 {
		t.Errorf("Messages = %v, want none", got)
	}
}

func TestWait(t *testing.T) {
	to := func(address string) func(Message) bool {
		return func(m Message) bool { return m.To == address }
	}
	tests := []struct {
		name    string
		before  []mail.Message // sent before waiting
		clear   bool           // cleared while waiting, before the later messages
		later   []mail.Message // sent while waiting
		match   func(Message) bool
		want    string // subject of the message found; empty when none comes
		wantErr error
	}{
		{name: "already there", before: []mail.Message{first, second}, match: to("tech@example.com"), want: "second"},
		{name: "arrives later", before: []mail.Message{first}, later: []mail.Message{second}, match: to("tech@example.com"), want: "second"},
		{name: "oldest match", before: []mail.Message{first}, later: []mail.Message{first, second}, match: func(Message) bool { return true }, want: "first"},
		{name: "arrives after a clear", before: []mail.Message{first, first}, clear: true, later: []mail.Message{second}, match: to("tech@example.com"), want: "second"},
		{name: "never comes", before: []mail.Message{first}, later: []mail.Message{first}, match: to("tech@example.com"), wantErr: context.DeadlineExceeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newBox()
			send(t, b, tt.before...)
			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			defer cancel()
			var wg sync.WaitGroup
			wg.Add(1)
			go func() {
				defer wg.Done()
				if tt.clear {
					time.Sleep(10 * time.Millisecond)
					b.Clear()
				}
				for _, m := range tt.later {
					time.Sleep(10 * time.Millisecond)
					_ = b.Send(context.Background(), m)
				}
			}()
			got, err := b.Wait(ctx, tt.match)
			wg.Wait()
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Wait error = %v, want %v", err, tt.wantErr)
			}
			if got.Subject != tt.want {
				t.Errorf("Wait found %q, want %q", got.Subject, tt.want)
			}
		})
	}
}

func TestConcurrentSends(t *testing.T) {
	b := New()
	const n = 50
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = b.Send(context.Background(), mail.Message{To: fmt.Sprintf("%d@example.com", i)})
			_ = b.Messages()
		}()
	}
	wg.Wait()
	if got := len(b.Messages()); got != n {
		t.Errorf("%d messages, want %d", got, n)
	}
}

func serve(b *Box, method, path string) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	b.ServeHTTP(w, httptest.NewRequest(method, path, nil))
	return w
}

func TestJSON(t *testing.T) {
	tests := []struct {
		name     string
		messages []mail.Message
		want     string
	}{
		{name: "empty is an empty list", want: "[]\n"},
		{
			name:     "oldest first",
			messages: []mail.Message{first, second},
			want: `[{"to":"admin@example.com","subject":"first","text":"one","html":"<p>one</p>","sentAt":"2025-03-01T09:30:00Z"},` +
				`{"to":"tech@example.com","subject":"second","text":"two","html":"<p>two</p>","sentAt":"2025-03-01T09:30:01Z"}]`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newBox()
			send(t, b, tt.messages...)
			w := serve(b, http.MethodGet, "/_local/mail")
			if w.Code != http.StatusOK {
				t.Fatalf("status %d, want 200", w.Code)
			}
			if ct := w.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q", ct)
			}
			var got, want any
			if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
				t.Fatalf("body %q: %v", w.Body, err)
			}
			if err := json.Unmarshal([]byte(tt.want), &want); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("body (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSentAtIsUTC(t *testing.T) {
	b := New()
	b.now = func() time.Time { return time.Date(2025, time.March, 1, 10, 30, 0, 500, time.FixedZone("CET", 3600)) }
	send(t, b, first)
	var got []jsonMessage
	if err := json.Unmarshal(serve(b, http.MethodGet, "/_local/mail").Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if want := "2025-03-01T09:30:00.0000005Z"; len(got) != 1 || got[0].SentAt != want {
		t.Errorf("sentAt = %+v, want %s", got, want)
	}
}

func TestDelete(t *testing.T) {
	b := newBox()
	send(t, b, first, second)
	if w := serve(b, http.MethodDelete, "/_local/mail"); w.Code != http.StatusNoContent {
		t.Errorf("DELETE status %d, want 204", w.Code)
	}
	if got := serve(b, http.MethodGet, "/_local/mail").Body.String(); got != "[]\n" {
		t.Errorf("after DELETE, GET = %q, want []", got)
	}
}

func TestRoutes(t *testing.T) {
	tests := []struct {
		method, path string
		want         int
	}{
		{http.MethodGet, "/_local/mail", http.StatusOK},
		{http.MethodGet, "/_local/mail/ui", http.StatusOK},
		{http.MethodDelete, "/_local/mail", http.StatusNoContent},
		{http.MethodPost, "/_local/mail", http.StatusMethodNotAllowed},
		{http.MethodGet, "/_local/other", http.StatusNotFound},
		{http.MethodGet, "/_local/mail/ui/x", http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			if got := serve(newBox(), tt.method, tt.path).Code; got != tt.want {
				t.Errorf("status %d, want %d", got, tt.want)
			}
		})
	}
}

func TestUI(t *testing.T) {
	const link = "http://127.0.0.1:3000/contact-changes/abc123/confirm?token=q5Yb0t_Kx-3Z"
	hostile := mail.Message{
		To:      `"><script>alert(1)</script>@example.com`,
		Subject: `<img src=x onerror=alert(1)>`,
		Text:    "Open this link:\n" + link + "\n\nThe end. <b>not bold</b>",
		HTML:    `<!DOCTYPE html><html><head><title>t</title></head><body><p>Open <a href="` + link + `">the page</a></p></body></html>`,
	}
	b := newBox()
	send(t, b, first, hostile)
	w := serve(b, http.MethodGet, "/_local/mail/ui")
	if w.Code != http.StatusOK {
		t.Fatalf("status %d", w.Code)
	}
	if ct := w.Header().Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("Content-Type = %q", ct)
	}
	page := w.Body.String()

	t.Run("values escaped", func(t *testing.T) {
		for _, raw := range []string{"<script>", "<img", "<b>not bold</b>"} {
			if strings.Contains(page, raw) {
				t.Errorf("page carries %q unescaped:\n%s", raw, page)
			}
		}
		if !strings.Contains(page, html.EscapeString(hostile.Subject)) {
			t.Errorf("page lacks the escaped subject:\n%s", page)
		}
	})
	t.Run("newest first", func(t *testing.T) {
		newest, oldest := strings.Index(page, html.EscapeString(hostile.Subject)), strings.Index(page, ">first<")
		if newest < 0 || oldest < 0 || newest > oldest {
			t.Errorf("newest message at %d, oldest at %d: want the newest first", newest, oldest)
		}
	})
	t.Run("link clickable on the page", func(t *testing.T) {
		if !strings.Contains(html.UnescapeString(page), `<a href="`+link+`">`) {
			t.Errorf("page lacks a link to %s:\n%s", link, page)
		}
	})
	t.Run("email shown in a sandboxed frame, links at top level", func(t *testing.T) {
		const frame = `sandbox="allow-popups allow-popups-to-escape-sandbox allow-top-navigation-by-user-activation" srcdoc="`
		i := strings.Index(page, frame)
		if i < 0 {
			t.Fatalf("page lacks a sandboxed frame:\n%s", page)
		}
		srcdoc, _, _ := strings.Cut(page[i+len(frame):], `"`)
		want := strings.Replace(hostile.HTML, "<head>", `<head><base target="_top">`, 1)
		if got := html.UnescapeString(srcdoc); got != want {
			t.Errorf("frame shows\n%s\nwant\n%s", got, want)
		}
	})
}

func TestUIEmpty(t *testing.T) {
	page := serve(newBox(), http.MethodGet, "/_local/mail/ui").Body.String()
	if !strings.Contains(page, "No mail yet.") {
		t.Errorf("empty page does not say so:\n%s", page)
	}
}

func TestLinksAtTop(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"head", `<html><head><title>t</title></head></html>`, `<html><head><base target="_top"><title>t</title></head></html>`},
		{"head with attributes", `<HEAD lang="en"><title>t</title>`, `<HEAD lang="en"><base target="_top"><title>t</title>`},
		{"no head", `<p>hi</p>`, `<base target="_top"><p>hi</p>`},
		{"header is not head", `<header>x</header>`, `<base target="_top"><header>x</header>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := linksAtTop(tt.in); got != tt.want {
				t.Errorf("linksAtTop(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestLinks(t *testing.T) {
	tests := []struct {
		text string
		want []string
	}{
		{"no links here", nil},
		{"a http://h/x?token=1 and https://h/y.\nagain http://h/x?token=1", []string{"http://h/x?token=1", "https://h/y"}},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, links(tt.text)); diff != "" {
				t.Errorf("links (-want +got):\n%s", diff)
			}
		})
	}
}
