package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/servicecontacts/servicecontacts/shared/contact"
	"github.com/servicecontacts/servicecontacts/shared/stencil"
)

// The pages behind the emailed link. The link's token alone authenticates the reader.
// Opening the link (GET) only shows the request: mail scanners open links. The answer is a
// form POST. The pages need no JavaScript and load nothing from elsewhere.

//go:embed templates/pages.html templates/pages.css
var templateFiles embed.FS

// pageStyle is the pages' one style sheet, inline; the Content-Security-Policy allows it by
// its hash and allows no other style.
var pageStyle = func() string {
	b, err := templateFiles.ReadFile("templates/pages.css")
	if err != nil {
		panic(err)
	}
	return string(b)
}()

var (
	parsePagesOnce sync.Once
	parsedPages    *stencil.Set
	parsePagesErr  error
)

// pageTemplates parses the pages on the first one, once: most functions show none. It is a
// function, not a package-level sync.OnceValues, which package init would build, linking
// the HTML engine into every function.
func pageTemplates() (*stencil.Set, error) {
	parsePagesOnce.Do(func() { parsedPages, parsePagesErr = parsePages() })
	return parsedPages, parsePagesErr
}

func parsePages() (*stencil.Set, error) {
	set := stencil.NewHTML(map[string]stencil.Func{
		"style": func(...any) (any, error) { return stencil.CSS(pageStyle), nil },
	})
	if err := set.ParseFS(templateFiles, "templates/pages.html"); err != nil {
		return nil, fmt.Errorf("parse the page templates: %w", err)
	}
	return set, nil
}

// pageCSP allows nothing but the pages' own style sheet and posting the form back.
var pageCSP = "default-src 'none'; style-src '" + cspHash(pageStyle) + "'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// cspHash is the CSP source expression that allows an inline element whose content is s.
func cspHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "sha256-" + base64.StdEncoding.EncodeToString(sum[:])
}

// pageHeaders are sent with every HTML page: nothing may be loaded, framed or sent on, and
// a page holding a token must not be cached or leak through the Referer header.
var pageHeaders = map[string]string{
	"Content-Type":            "text/html; charset=utf-8",
	"Content-Security-Policy": pageCSP,
	"Referrer-Policy":         "no-referrer",
	"Cache-Control":           "no-store",
	"X-Content-Type-Options":  "nosniff",
}

// pageData feeds the templates. Only the fields of the page named by Page are set.
type pageData struct {
	Page  string // "confirm", "result" or "error"
	Lang  contact.Language
	Title string
	T     texts

	// The request, on confirm and result pages. Change is the API's view of it, which
	// holds no token material.
	Change               changeJSON
	Summary              string
	RoleName, StateName  string
	CreatedAt, ExpiresAt string
	Parties              []partyView

	// The confirm page: the form, or why there is none.
	CanAnswer        bool
	Question, Notice string
	Token            string

	Lines []string // the result page's outcome

	Sentence, Code string // the error page

	Rows []batchRow // the batch page's requests
}

// batchRow is one request on the batch page, in the reader's language.
type batchRow struct{ ServiceID, ServiceType, Role, From, To, State string }

type partyView struct{ NIC, Status string }

// confirmPage shows the request the token belongs to, with Accept and Refuse buttons when
// the token's party may still answer.
func (h *Handler) confirmPage(ctx context.Context, r *request) (response, error) {
	r.lang = preferredLanguage(header(r.APIGatewayV2HTTPRequest, "Accept-Language"))
	id, err := changeIDOf(r)
	if err != nil {
		return response{}, err
	}
	token, err := tokenOf(r.QueryStringParameters["token"])
	if err != nil {
		return response{}, err
	}
	c, account, err := h.contacts.Lookup(ctx, id, token, r.RequestContext.HTTP.SourceIP)
	if err != nil {
		return response{}, err
	}
	if l, ok := supported(string(account.Language)); ok {
		r.lang = l
	}
	d := changePage(r.lang, c)
	d.Page, d.Title = "confirm", d.T.ConfirmTitle
	party, _ := c.Party(account.NIC)
	switch {
	case c.State != contact.Pending:
		d.Notice = fmt.Sprintf(d.T.Closed, d.StateName)
	case party == nil || party.Status != contact.Waiting:
		d.Notice = d.T.AlreadyAnswered
	default:
		d.CanAnswer = true
		d.Question = fmt.Sprintf(d.T.Question, account.NIC)
		d.Token = token
	}
	return htmlResponse(http.StatusOK, d), nil
}

// confirmDecision records the answer posted from the confirm page's form.
func (h *Handler) confirmDecision(ctx context.Context, r *request) (response, error) {
	r.lang = preferredLanguage(header(r.APIGatewayV2HTTPRequest, "Accept-Language"))
	id, err := changeIDOf(r)
	if err != nil {
		return response{}, err
	}
	token, accept, err := decisionForm(r)
	if err != nil {
		return response{}, err
	}
	c, err := h.contacts.Decide(ctx, contact.Decision{ChangeID: id, Token: token, Source: r.RequestContext.HTTP.SourceIP, Accept: accept})
	if err != nil {
		return response{}, err
	}

	d := changePage(r.lang, c)
	d.Page, d.Title = "result", d.T.ResultTitle
	switch waiting := c.WaitingFor(); {
	case !accept:
		d.Lines = []string{d.T.Refused}
	case len(waiting) > 0:
		d.Lines = []string{d.T.Accepted, fmt.Sprintf(d.T.WaitingFor, strings.Join(waiting, ", "))}
	default:
		d.Lines = []string{d.T.Accepted, d.T.Applying}
	}
	return htmlResponse(http.StatusOK, d), nil
}

// decisionForm reads the form a confirm page posts: the token and the decision, and the
// language the page was shown in, which the answer keeps.
func decisionForm(r *request) (token string, accept bool, err error) {
	if err := requireMediaType(r.APIGatewayV2HTTPRequest, "application/x-www-form-urlencoded"); err != nil {
		return "", false, err
	}
	b, err := body(r.APIGatewayV2HTTPRequest)
	if err != nil {
		return "", false, err
	}
	form, err := url.ParseQuery(string(b))
	if err != nil {
		return "", false, invalid("invalid_body", "the form is not URL-encoded")
	}
	if l, ok := supported(form.Get("lang")); ok {
		r.lang = l
	}
	if token, err = tokenOf(form.Get("token")); err != nil {
		return "", false, err
	}
	switch form.Get("decision") {
	case "accept":
		return token, true, nil
	case "refuse":
		return token, false, nil
	}
	return "", false, invalid("invalid_decision", "decision must be accept or refuse")
}

// errorPage explains p to a person who followed an emailed link.
func (h *Handler) errorPage(r *request, p problem) response {
	lang := r.lang
	if lang == "" {
		lang = preferredLanguage(header(r.APIGatewayV2HTTPRequest, "Accept-Language"))
	}
	t := languages[lang]
	sentence, ok := t.ErrorByCode[p.Code]
	if !ok {
		sentence, ok = t.ErrorByStatus[p.Status]
	}
	if !ok {
		sentence = t.ErrorByStatus[http.StatusInternalServerError]
		if p.Status < http.StatusInternalServerError {
			sentence = t.ErrorByStatus[http.StatusBadRequest]
		}
	}
	return htmlResponse(p.Status, pageData{Page: "error", Lang: lang, Title: t.ErrorTitle, T: t, Sentence: sentence, Code: p.Code})
}

// changePage fills the fields that describe c, in lang.
func changePage(lang contact.Language, c contact.Change) pageData {
	t := languages[lang]
	d := pageData{
		Lang:      lang,
		T:         t,
		Change:    newChange(c),
		RoleName:  label(t.Roles, c.Role),
		StateName: label(t.States, c.State),
		CreatedAt: pageTime(c.CreatedAt),
		ExpiresAt: pageTime(c.ExpiresAt),
	}
	d.Summary = fmt.Sprintf(t.Summary, c.RequestedBy, d.RoleName, c.ServiceID, c.ServiceType, c.From, c.To)
	for _, p := range c.Parties {
		d.Parties = append(d.Parties, partyView{NIC: p.NIC, Status: label(t.Statuses, p.Status)})
	}
	return d
}

// label translates a value, or shows it as is when the table does not know it.
func label[K ~string](table map[K]string, k K) string {
	if s, ok := table[k]; ok {
		return s
	}
	return string(k)
}

// pageTime shows a time the same way in every language.
func pageTime(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }

// htmlResponse renders d. The templates are fixed and their data is plain strings, so
// rendering cannot fail short of a bug; even then the reader gets a page.
func htmlResponse(status int, d pageData) response {
	var buf bytes.Buffer
	set, err := pageTemplates()
	if err == nil {
		err = set.Execute(&buf, "layout", d)
	}
	if err != nil {
		status = http.StatusInternalServerError
		buf.Reset()
		buf.WriteString("<!doctype html><title>Error</title><p>Something went wrong on our side. Please try again later.</p>")
	}
	return response{StatusCode: status, Headers: maps.Clone(pageHeaders), Body: buf.String()}
}
