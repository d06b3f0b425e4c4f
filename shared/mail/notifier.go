package mail

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"

	"github.com/servicecontacts/servicecontacts/shared/contact"
	"github.com/servicecontacts/servicecontacts/shared/stencil"
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
		return fmt.Errorf("send %s email about %s: %w", n.Kind, about(n), err)
	}
	return nil
}

// Render builds the email for n without sending it.
func (s *Notifier) Render(n contact.Notice) (Message, error) {
	if err := check(n); err != nil {
		return Message{}, fmt.Errorf("render %s email about %s: %w", n.Kind, about(n), err)
	}
	lang := contact.ParseLanguage(string(n.To.Language))
	set, err := templates[lang]()
	if err != nil {
		return Message{}, fmt.Errorf("render %s email about %s: %w", n.Kind, about(n), err)
	}
	link := s.ConfirmLink(n.Change.ID, n.Token)
	if isBatch(n.Kind) {
		link = s.BatchConfirmLink(n.Batch.ID, n.Token)
	}
	v := newView(n, lang, link)

	subject, err := execute(set.text, string(n.Kind)+".subject", v)
	if err != nil {
		return Message{}, fmt.Errorf("render %s email about %s: %w", n.Kind, about(n), err)
	}
	// A subject is one header line, whatever the values in it contain.
	v.Subject = strings.Join(strings.Fields(subject), " ")

	text, err := execute(set.text, string(n.Kind), v)
	if err == nil {
		text, err = execute(set.text, "layout", page[string]{view: v, Content: text})
	}
	if err != nil {
		return Message{}, fmt.Errorf("render %s email about %s: %w", n.Kind, about(n), err)
	}

	html, err := execute(set.html, string(n.Kind), v)
	if err == nil {
		// The content comes out of an HTML template, so it is safe to embed as is.
		html, err = execute(set.html, "layout", page[stencil.HTML]{view: v, Content: stencil.HTML(html)})
	}
	if err != nil {
		return Message{}, fmt.Errorf("render %s email about %s: %w", n.Kind, about(n), err)
	}
	// The request tag identifies what the email is about: for a batch notice, the batch.
	requestID := n.Change.ID
	if isBatch(n.Kind) {
		requestID = n.Batch.ID
	}
	return Message{To: n.To.Email, Subject: v.Subject, Text: text, HTML: html, NIC: n.To.NIC, RequestID: requestID}, nil
}

// check refuses the notices that cannot make a proper email.
func check(n contact.Notice) error {
	switch {
	case n.To.Email == "":
		return fmt.Errorf("account %s has no email address", n.To.NIC)
	case (n.Kind == contact.NoticeToken || n.Kind == contact.NoticeBatchToken) && n.Token == "":
		return errors.New("no token")
	case isBatch(n.Kind) && n.Batch.ID == "":
		return errors.New("no batch id")
	case isBatch(n.Kind) && len(n.Changes) == 0:
		return errors.New("no requests to list")
	}
	return nil
}

// isBatch reports whether notices of kind k are about a batch (Notice.Batch and
// Notice.Changes) rather than one request (Notice.Change).
func isBatch(k contact.NoticeKind) bool {
	return k == contact.NoticeBatchToken || k == contact.NoticeBatchOutcome
}

// about names what n is about, for error messages: its request, or its batch.
func about(n contact.Notice) string {
	if isBatch(n.Kind) {
		return "batch " + n.Batch.ID
	}
	return "request " + n.Change.ID
}

// ConfirmLink is the address of the confirmation page for a request, with the token
// filled in.
func (s *Notifier) ConfirmLink(id, token string) string {
	return s.baseURL + "/contact-changes/" + url.PathEscape(id) + "/confirm?token=" + url.QueryEscape(token)
}

// BatchConfirmLink is the address of the confirmation page for a batch, where one token
// answers every request of the batch that needs its holder, with the token filled in.
func (s *Notifier) BatchConfirmLink(batchID, token string) string {
	return s.baseURL + "/contact-change-batches/" + url.PathEscape(batchID) + "/confirm?token=" + url.QueryEscape(token)
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

	// The batch notices fill these instead of the request's fields above (but Recipient,
	// RequestedBy, YouAsked, Link, Token and ExpiresAt, which are the batch's).
	Batch   bool
	BatchID string
	Items   []item // the requests, in the batch's order
	Count   int    // len(Items)
	// DoneCount counts the requests done, NotDone the others (batch_outcome).
	DoneCount, NotDone int
}

// item is one request of a batch notice, formatted like view.
type item struct {
	ID          string
	ServiceID   string
	ServiceType string
	Role        string
	From        string
	To          string
	State       string // the contact.State, for the templates to word
	Reason      string // why it failed, worded; "" unless it failed
	RefusedBy   string
	YouRefused  bool
}

// page wraps a rendered body with the layout shared by every kind of email.
type page[T any] struct {
	view
	Content T
}

func newView(n contact.Notice, lang contact.Language, link string) view {
	if isBatch(n.Kind) {
		return newBatchView(n, lang, link)
	}
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
	v.RefusedBy, v.YouRefused = refusedBy(c, n.To.NIC)
	return v
}

// newBatchView is the view of a batch notice: the batch, and one item per request.
func newBatchView(n contact.Notice, lang contact.Language, link string) view {
	loc := locales[lang]
	v := view{
		Lang:        lang,
		Recipient:   n.To.NIC,
		RequestedBy: n.Batch.RequestedBy,
		YouAsked:    n.Batch.RequestedBy == n.To.NIC,
		ExpiresAt:   loc.date(n.Batch.ExpiresAt),
		Batch:       true,
		BatchID:     n.Batch.ID,
		Count:       len(n.Changes),
	}
	if n.Kind == contact.NoticeBatchToken {
		v.Link, v.Token = link, n.Token
	}
	for _, c := range n.Changes {
		it := item{
			ID:          c.ID,
			ServiceID:   c.ServiceID,
			ServiceType: c.ServiceType,
			Role:        loc.role(c.Role),
			From:        c.From,
			To:          c.To,
			State:       string(c.State),
		}
		if c.State == contact.Failed {
			it.Reason = loc.failure(c.Failure)
		}
		it.RefusedBy, it.YouRefused = refusedBy(c, n.To.NIC)
		if c.State == contact.Done {
			v.DoneCount++
		}
		v.Items = append(v.Items, it)
	}
	v.NotDone = v.Count - v.DoneCount
	return v
}

// refusedBy returns the party who refused c, if one did, and whether it is nic.
func refusedBy(c contact.Change, nic string) (string, bool) {
	for _, p := range c.Parties {
		if p.Status == contact.Declined {
			return p.NIC, p.NIC == nic
		}
	}
	return "", false
}

//go:embed templates/*
var templateFS embed.FS

type templateSet struct {
	text *stencil.Set
	html *stencil.Set
}

// templates holds, per language, the parse of its set: each defines, for every notice kind
// K, the text templates "K.subject" and "K" and the HTML template "K", plus "details",
// "footer" and "button" for the shared layout, and "changes", "item" and "outcome" for the
// batch notices' lists. A language is parsed on its first email, once: most functions send
// none.
var templates = func() map[contact.Language]func() (templateSet, error) {
	sets := make(map[contact.Language]func() (templateSet, error), len(locales))
	for lang := range locales {
		sets[lang] = sync.OnceValues(func() (templateSet, error) { return parseTemplates(lang) })
	}
	return sets
}()

func parseTemplates(lang contact.Language) (templateSet, error) {
	set := templateSet{text: stencil.NewText(nil), html: stencil.NewHTML(nil)}
	if err := set.text.ParseFS(templateFS, "templates/layout.txt", "templates/"+string(lang)+".txt"); err != nil {
		return templateSet{}, fmt.Errorf("parse the %s text templates: %w", lang, err)
	}
	if err := set.html.ParseFS(templateFS, "templates/layout.html", "templates/"+string(lang)+".html"); err != nil {
		return templateSet{}, fmt.Errorf("parse the %s HTML templates: %w", lang, err)
	}
	return set, nil
}

var errUnknownKind = errors.New("no template for this kind of notice")

// execute runs the template name of set; the text and the HTML sets run alike.
func execute(set *stencil.Set, name string, data any) (string, error) {
	if !set.Has(name) {
		return "", fmt.Errorf("%w: %q", errUnknownKind, name)
	}
	return set.ExecuteString(name, data)
}
