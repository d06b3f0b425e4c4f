package mail

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"net/url"
	"strings"
	texttemplate "text/template"

	"github.com/servicecontacts/servicecontacts/shared/contact"
)

var _ contact.Notifier = (*Notifier)(nil)

// Notifier renders notices into emails in the recipient's language and hands them to a
// Sender.
type Notifier struct {
	sender  Sender
	baseURL string
}

// NewNotifier returns a Notifier that sends through sender. publicBaseURL is where the
// confirmation pages are served (https://contacts.example.com); token emails link there.
func NewNotifier(sender Sender, publicBaseURL string) *Notifier {
	return &Notifier{sender: sender, baseURL: strings.TrimRight(publicBaseURL, "/")}
}

// Notify renders n and sends it to the recipient's email address.
func (s *Notifier) Notify(ctx context.Context, n contact.Notice) error {
	m, err := s.Render(n)
	if err != nil {
		return err
	}
	if err := s.sender.Send(ctx, m); err != nil {
		return fmt.Errorf("send %s email about request %s: %w", n.Kind, n.Change.ID, err)
	}
	return nil
}

// Render builds the email for n without sending it.
func (s *Notifier) Render(n contact.Notice) (Message, error) {
	if n.To.Email == "" {
		return Message{}, fmt.Errorf("render %s email about request %s: account %s has no email address", n.Kind, n.Change.ID, n.To.NIC)
	}
	if n.Kind == contact.NoticeToken && n.Token == "" {
		return Message{}, fmt.Errorf("render token email about request %s: no token", n.Change.ID)
	}
	lang := contact.ParseLanguage(string(n.To.Language))
	set := templates[lang]
	v := newView(n, lang, s.ConfirmLink(n.Change.ID, n.Token))

	subject, err := executeText(set.text, string(n.Kind)+".subject", v)
	if err != nil {
		return Message{}, fmt.Errorf("render %s email about request %s: %w", n.Kind, n.Change.ID, err)
	}
	// A subject is one header line, whatever the values in it contain.
	v.Subject = strings.Join(strings.Fields(subject), " ")

	text, err := executeText(set.text, string(n.Kind), v)
	if err == nil {
		text, err = executeText(set.text, "layout", page[string]{view: v, Content: text})
	}
	if err != nil {
		return Message{}, fmt.Errorf("render %s email about request %s: %w", n.Kind, n.Change.ID, err)
	}

	html, err := executeHTML(set.html, string(n.Kind), v)
	if err == nil {
		// The content comes out of html/template, so it is safe to embed as is.
		html, err = executeHTML(set.html, "layout", page[htmltemplate.HTML]{view: v, Content: htmltemplate.HTML(html)})
	}
	if err != nil {
		return Message{}, fmt.Errorf("render %s email about request %s: %w", n.Kind, n.Change.ID, err)
	}
	return Message{To: n.To.Email, Subject: v.Subject, Text: text, HTML: html, NIC: n.To.NIC, RequestID: n.Change.ID}, nil
}

// ConfirmLink is the address of the confirmation page for a request, with the token
// filled in.
func (s *Notifier) ConfirmLink(id, token string) string {
	return s.baseURL + "/contact-changes/" + url.PathEscape(id) + "/confirm?token=" + url.QueryEscape(token)
}

// view is what the templates see: every value already formatted for the recipient.
type view struct {
	Lang        contact.Language
	Subject     string
	Recipient   string // the recipient's NIC handle
	ID          string
	ServiceID   string
	ServiceType string
	Role        string // the role's name in the recipient's language
	From        string
	To          string
	RequestedBy string
	YouAsked    bool
	Link        string
	Token       string
	ExpiresAt   string
	WaitingFor  string // the parties that have not answered, comma separated
	RefusedBy   string
	YouRefused  bool
	Reason      string
	// AllAccepted: every party accepted (a failure then came when the change was applied).
	AllAccepted bool
}

// page wraps a rendered body with the layout shared by every kind of email.
type page[T any] struct {
	view
	Content T
}

func newView(n contact.Notice, lang contact.Language, link string) view {
	c := n.Change
	loc := locales[lang]
	v := view{
		Lang:        lang,
		Recipient:   n.To.NIC,
		ID:          c.ID,
		ServiceID:   c.ServiceID,
		ServiceType: c.ServiceType,
		Role:        loc.role(c.Role),
		From:        c.From,
		To:          c.To,
		RequestedBy: c.RequestedBy,
		YouAsked:    c.RequestedBy == n.To.NIC,
		ExpiresAt:   loc.date(c.ExpiresAt),
		WaitingFor:  strings.Join(c.WaitingFor(), ", "),
		Reason:      loc.failure(n.Failure),
		AllAccepted: len(c.WaitingFor()) == 0 && len(c.Parties) > 0,
	}
	if n.Kind == contact.NoticeToken {
		v.Link, v.Token = link, n.Token
	}
	for _, p := range c.Parties {
		if p.Status == contact.Declined {
			v.RefusedBy, v.YouRefused = p.NIC, p.NIC == n.To.NIC
			break
		}
	}
	return v
}

//go:embed templates/*
var templateFS embed.FS

type templateSet struct {
	text *texttemplate.Template
	html *htmltemplate.Template
}

// templates holds one set per language; each defines, for every notice kind K, the text
// templates "K.subject" and "K" and the HTML template "K", plus "details" and "footer"
// for the shared layout.
var templates = loadTemplates()

func loadTemplates() map[contact.Language]templateSet {
	sets := make(map[contact.Language]templateSet, len(locales))
	for lang := range locales {
		sets[lang] = templateSet{
			text: texttemplate.Must(texttemplate.ParseFS(templateFS, "templates/layout.txt", "templates/"+string(lang)+".txt")),
			html: htmltemplate.Must(htmltemplate.ParseFS(templateFS, "templates/layout.html", "templates/"+string(lang)+".html")),
		}
	}
	return sets
}

var errUnknownKind = errors.New("no template for this kind of notice")

func executeText(t *texttemplate.Template, name string, data any) (string, error) {
	if t.Lookup(name) == nil {
		return "", fmt.Errorf("%w: %q", errUnknownKind, name)
	}
	var b bytes.Buffer
	if err := t.ExecuteTemplate(&b, name, data); err != nil {
		return "", err
	}
	return b.String(), nil
}

func executeHTML(t *htmltemplate.Template, name string, data any) (string, error) {
	if t.Lookup(name) == nil {
		return "", fmt.Errorf("%w: %q", errUnknownKind, name)
	}
	var b bytes.Buffer
	if err := t.ExecuteTemplate(&b, name, data); err != nil {
		return "", err
	}
	return b.String(), nil
}
