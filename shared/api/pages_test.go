package api

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"

	"github.com/servicecontacts/servicecontacts/shared/contact"
)

const (
	pageRoute   = "GET /contact-changes/{id}/confirm"
	decideRoute = "POST /contact-changes/{id}/confirm"
	linkToken   = "Zm9vYmFyLXRva2VuLWZvci10aGUtbmV3LXRlY2g"
)

func pageEvent(token string, headers map[string]string) events.APIGatewayV2HTTPRequest {
	e := newEvent(pageRoute, "")
	e.Headers = map[string]string{"accept": "text/html"}
	for k, v := range headers {
		e.Headers[k] = v
	}
	e.PathParameters = map[string]string{"id": sampleChangeID}
	if token != "" {
		e.QueryStringParameters = map[string]string{"token": token}
		e.RawQueryString = "token=" + token
	}
	return e
}

func formEvent(form url.Values, headers map[string]string) events.APIGatewayV2HTTPRequest {
	e := newEvent(decideRoute, "")
	e.Headers = map[string]string{"content-type": "application/x-www-form-urlencoded"}
	for k, v := range headers {
		e.Headers[k] = v
	}
	e.PathParameters = map[string]string{"id": sampleChangeID}
	e.Body = form.Encode()
	return e
}

// checkPage checks the headers every HTML page carries and its status.
func checkPage(t *testing.T, resp events.APIGatewayV2HTTPResponse, wantStatus int) {
	t.Helper()
	if resp.StatusCode != wantStatus {
		t.Errorf("status = %d, want %d; body:\n%s", resp.StatusCode, wantStatus, resp.Body)
	}
	want := map[string]string{
		"Content-Type":            "text/html; charset=utf-8",
		"Content-Security-Policy": "default-src 'none'; style-src '" + styleHash(t, resp.Body) + "'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
		"Referrer-Policy":         "no-referrer",
		"Cache-Control":           "no-store",
		"X-Content-Type-Options":  "nosniff",
	}
	got := map[string]string{}
	for k := range want {
		got[k] = resp.Headers[k]
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("page headers (-want +got):\n%s", diff)
	}
	for _, external := range []string{"<script", "http://", "https://", "<link", "<img", "<iframe"} {
		if strings.Contains(resp.Body, external) {
			t.Errorf("page contains %q; it must load nothing and run no script", external)
		}
	}
}

// styleHash is the CSP hash of the page's one inline style sheet, the only style the
// policy may allow.
func styleHash(t *testing.T, body string) string {
	t.Helper()
	if n := strings.Count(body, "<style>"); n != 1 {
		t.Errorf("page has %d style elements, want 1", n)
		return ""
	}
	if strings.Contains(body, "style=") {
		t.Error("page has a style attribute, which its policy blocks")
	}
	_, rest, _ := strings.Cut(body, "<style>")
	css, _, _ := strings.Cut(rest, "</style>")
	sum := sha256.Sum256([]byte(css))
	return "sha256-" + base64.StdEncoding.EncodeToString(sum[:])
}

func mustContain(t *testing.T, body string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(body, w) {
			t.Errorf("page lacks %q:\n%s", w, body)
		}
	}
}

func mustNotContain(t *testing.T, body string, unwanted ...string) {
	t.Helper()
	for _, u := range unwanted {
		if strings.Contains(body, u) {
			t.Errorf("page contains %q:\n%s", u, body)
		}
	}
}

// neverDecide fails the test if the GET page changes anything.
func neverDecide(t *testing.T) func(context.Context, contact.Decision) (contact.Change, error) {
	return func(context.Context, contact.Decision) (contact.Change, error) {
		t.Error("Decide called while showing the page: opening a link must change nothing")
		return contact.Change{}, errors.New("must not decide")
	}
}

func TestConfirmPage(t *testing.T) {
	answered := sampleChange()
	answered.Parties[1].Status = contact.Accepted
	closed := sampleChange()
	closed.State = contact.Cancelled

	tests := []struct {
		name     string
		change   contact.Change
		account  contact.Account
		headers  map[string]string
		want     []string
		wantNot  []string
		wantLang string
	}{
		{
			name:    "waiting party, English by default",
			change:  sampleChange(),
			account: contact.Account{NIC: newTechNIC},
			want: []string{
				`<html lang="en">`, "Confirm a contact change",
				"aa11111-ovh asks that the technical contact of domain example.com pass from aa11111-ovh to nn22222-ovh.",
				"<td>example.com</td>", "<td>domain</td>", "<td>technical</td>",
				"<td>2025-03-01 09:00 UTC</td>", "<td>2025-03-15 09:00 UTC</td>",
				"aa11111-ovh: accepted", "nn22222-ovh: waiting",
				"Do you, nn22222-ovh, accept this change?",
				`<form method="post" action="confirm">`,
				`<input type="hidden" name="token" value="` + linkToken + `">`,
				`<input type="hidden" name="lang" value="en">`,
				`name="decision" value="accept">Accept</button>`,
				`name="decision" value="refuse">Refuse</button>`,
			},
		},
		{
			name:    "the account's language wins over the browser's",
			change:  sampleChange(),
			account: contact.Account{NIC: newTechNIC, Language: contact.Italian},
			headers: map[string]string{"accept-language": "fr-FR,fr;q=0.9"},
			want: []string{`<html lang="it">`, "Conferma una modifica dei contatti", "contatto tecnico", ">Accetta</button>", ">Rifiuta</button>",
				`name="lang" value="it"`},
		},
		{
			name:    "the browser's language when the account has none",
			change:  sampleChange(),
			account: contact.Account{NIC: newTechNIC},
			headers: map[string]string{"accept-language": "de-DE, fr-CH;q=0.8, en;q=0.5"},
			want:    []string{`<html lang="fr">`, "Confirmer un changement de contact", ">Accepter</button>", ">Refuser</button>", "nn22222-ovh: en attente"},
		},
		{
			name:    "party already answered: no buttons",
			change:  answered,
			account: contact.Account{NIC: newTechNIC},
			want:    []string{"You have already answered this request."},
			wantNot: []string{"<form", "<button", linkToken},
		},
		{
			name:    "request closed: no buttons",
			change:  closed,
			account: contact.Account{NIC: newTechNIC},
			want:    []string{"This request is cancelled: it can no longer be answered."},
			wantNot: []string{"<form", "<button", linkToken},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := &fakeContacts{
				lookup: func(_ context.Context, id, token string) (contact.Change, contact.Account, error) {
					if id != sampleChangeID || token != linkToken {
						t.Errorf("Lookup(%q, %q), want (c0ffee, %q)", id, token, linkToken)
					}
					return tt.change, tt.account, nil
				},
				decide: neverDecide(t),
			}
			resp, logs := serve(t, fake, pageEvent(linkToken, tt.headers))
			checkPage(t, resp, http.StatusOK)
			mustContain(t, resp.Body, tt.want...)
			mustNotContain(t, resp.Body, append(tt.wantNot, secretTokenHash, secretOldHash, secretTaskToken)...)
			if strings.Contains(logs, linkToken) {
				t.Errorf("the token is logged: %s", logs)
			}
		})
	}
}

func TestConfirmPageEscapesEverything(t *testing.T) {
	const evil = `<script>alert("x")</script>`
	c := sampleChange()
	c.ServiceID = evil + `"><img src=x onerror=alert(1)>`
	c.ServiceType = evil
	c.History = append(c.History, contact.Event{By: evil, Event: evil})
	fake := &fakeContacts{
		lookup: func(context.Context, string, string) (contact.Change, contact.Account, error) {
			return c, contact.Account{NIC: newTechNIC}, nil
		},
		decide: neverDecide(t),
	}
	resp, _ := serve(t, fake, pageEvent("Zm9vYmFyLXRva2Vu", nil))
	checkPage(t, resp, http.StatusOK)
	mustNotContain(t, resp.Body, "<script", "<img", `"><`)
	mustContain(t, resp.Body, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;", "&lt;img src=x onerror=alert(1)&gt;")

	// The token comes from the link, which anyone can forge: one that cannot be a token
	// never reaches the page.
	resp, _ = serve(t, fake, pageEvent(`"><script>alert(2)</script>`, nil))
	checkPage(t, resp, http.StatusBadRequest)
	mustNotContain(t, resp.Body, "<script", "alert(2)")
}

func TestConfirmPageErrors(t *testing.T) {
	tests := []struct {
		name       string
		token      string
		err        error
		headers    map[string]string
		wantStatus int
		want       []string
	}{
		{"no token", "", nil, nil, 400,
			[]string{"The link is incomplete", "missing_token"}},
		{"unknown request", linkToken, contact.Errorf(contact.ErrNotFound, "request_not_found", "request c0ffee not found"), nil, 404,
			[]string{"We found no contact-change request for this link", "request_not_found"}},
		{"request missing in the store", linkToken, errors.Join(errors.New("load request c0ffee"), contact.ErrNotFound), nil, 404,
			[]string{"We found no contact-change request for this link", "not_found"}},
		{"wrong token", linkToken, contact.Errorf(contact.ErrForbidden, "invalid_token", "this token is not valid"), nil, 403,
			[]string{"not valid for this request", "invalid_token"}},
		{"used token", linkToken, contact.Errorf(contact.ErrGone, "token_used", "already used"), nil, 410,
			[]string{"This link was already used", "token_used"}},
		{"replaced token, in Italian", linkToken, contact.Errorf(contact.ErrGone, "token_replaced", "replaced"), map[string]string{"accept-language": "it"}, 410,
			[]string{`<html lang="it">`, "Questo link è stato sostituito", "token_replaced"}},
		{"expired", linkToken, contact.Errorf(contact.ErrGone, "request_expired", "expired"), nil, 410,
			[]string{"This request has expired", "request_expired"}},
		{"closed", linkToken, contact.Errorf(contact.ErrGone, "request_closed", "closed"), map[string]string{"accept-language": "fr"}, 410,
			[]string{"Cette demande est close", "request_closed"}},
		{"internal error", linkToken, errors.New("dynamodb: access denied to table secret-table"), nil, 500,
			[]string{"Something went wrong on our side", "internal"}},
		{"throttled", linkToken, &contact.Error{Kind: contact.ErrUnavailable, Code: "throttled", Message: "busy", RetryAfter: 3}, nil, 503,
			[]string{"The service is busy"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := &fakeContacts{
				lookup: func(context.Context, string, string) (contact.Change, contact.Account, error) {
					if tt.err == nil {
						t.Error("Lookup called without a token")
					}
					return contact.Change{}, contact.Account{}, tt.err
				},
				decide: neverDecide(t),
			}
			resp, _ := serve(t, fake, pageEvent(tt.token, tt.headers))
			checkPage(t, resp, tt.wantStatus)
			mustContain(t, resp.Body, tt.want...)
			mustNotContain(t, resp.Body, "secret-table", "<form")
			if tt.wantStatus == 503 && resp.Headers["Retry-After"] != "3" {
				t.Errorf("Retry-After = %q, want 3", resp.Headers["Retry-After"])
			}
		})
	}
}

func TestConfirmDecision(t *testing.T) {
	applying := sampleChange()
	applying.Parties[1].Status = contact.Accepted
	applying.State = contact.Applying
	refused := sampleChange()
	refused.Parties[1].Status = contact.Declined
	refused.State = contact.Refused

	tests := []struct {
		name       string
		form       url.Values
		base64     bool
		headers    map[string]string
		result     contact.Change
		wantAccept bool
		want       []string
	}{
		{
			name:       "accepted, still waiting for the other party",
			form:       url.Values{"token": {linkToken}, "decision": {"accept"}},
			result:     sampleChange(),
			wantAccept: true,
			want:       []string{"Thank you: your acceptance is recorded.", "Still waiting for: nn22222-ovh.", "<td>example.com</td>"},
		},
		{
			name:       "accepted by everyone",
			form:       url.Values{"token": {linkToken}, "decision": {"accept"}, "lang": {"fr"}},
			result:     applying,
			wantAccept: true,
			want:       []string{`<html lang="fr">`, "Merci : votre acceptation est enregistrée.", "le changement est en cours d&#39;application"},
		},
		{
			name:       "refused, from a base64 body, in Italian from the browser",
			form:       url.Values{"token": {linkToken}, "decision": {"refuse"}},
			base64:     true,
			headers:    map[string]string{"accept-language": "it-IT,it;q=0.9,en;q=0.1"},
			result:     refused,
			wantAccept: false,
			want:       []string{`<html lang="it">`, "Hai rifiutato la modifica", "nn22222-ovh: rifiutato"},
		},
		{
			name:       "unknown form language falls back to the browser's",
			form:       url.Values{"token": {linkToken}, "decision": {"refuse"}, "lang": {"de"}},
			headers:    map[string]string{"accept-language": "fr"},
			result:     refused,
			wantAccept: false,
			want:       []string{`<html lang="fr">`, "Vous avez refusé le changement"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := 0
			fake := &fakeContacts{decide: func(_ context.Context, d contact.Decision) (contact.Change, error) {
				calls++
				want := contact.Decision{ChangeID: sampleChangeID, Token: linkToken, Caller: "", Accept: tt.wantAccept}
				if d != want {
					t.Errorf("Decide(%+v), want %+v", d, want)
				}
				return tt.result, nil
			}}
			e := formEvent(tt.form, tt.headers)
			if tt.base64 {
				e.Body, e.IsBase64Encoded = base64.StdEncoding.EncodeToString([]byte(e.Body)), true
			}
			resp, logs := serve(t, fake, e)
			checkPage(t, resp, http.StatusOK)
			mustContain(t, resp.Body, tt.want...)
			mustNotContain(t, resp.Body, linkToken, "<form")
			if calls != 1 {
				t.Errorf("Decide called %d times, want 1", calls)
			}
			if strings.Contains(logs, linkToken) {
				t.Errorf("the token is logged: %s", logs)
			}
		})
	}
}

func TestConfirmDecisionErrors(t *testing.T) {
	tests := []struct {
		name        string
		body        string
		contentType string
		err         error // from Decide
		wantStatus  int
		want        string
	}{
		{"no token", "decision=accept", "application/x-www-form-urlencoded", nil, 400, "missing_token"},
		{"blank token", "token=%20&decision=accept", "application/x-www-form-urlencoded", nil, 400, "missing_token"},
		{"no decision", "token=t", "application/x-www-form-urlencoded", nil, 400, "invalid_decision"},
		{"unknown decision", "token=t&decision=maybe", "application/x-www-form-urlencoded", nil, 400, "invalid_decision"},
		{"bad escape", "token=%zz&decision=accept", "application/x-www-form-urlencoded", nil, 400, "invalid_body"},
		{"JSON instead of a form", `{"token":"t","decision":"accept"}`, "application/json", nil, 415, "unsupported_media_type"},
		{"form too large", "token=" + strings.Repeat("a", maxBodyBytes) + "&decision=accept", "application/x-www-form-urlencoded", nil, 400, "invalid_body"},
		{"used token", "token=t&decision=accept", "application/x-www-form-urlencoded", contact.Errorf(contact.ErrGone, "token_used", "used"), 410, "This link was already used"},
		{"fails at apply", "token=t&decision=accept", "application/x-www-form-urlencoded", contact.Errorf(contact.ErrRule, "new_billing_not_in_good_standing", "standing"), 422, "one of its conditions no longer holds"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := &fakeContacts{decide: func(context.Context, contact.Decision) (contact.Change, error) {
				if tt.err == nil {
					t.Error("Decide called with a malformed form")
				}
				return contact.Change{}, tt.err
			}}
			e := newEvent(decideRoute, "")
			e.Headers = map[string]string{"content-type": tt.contentType}
			e.PathParameters = map[string]string{"id": sampleChangeID}
			e.Body = tt.body
			resp, _ := serve(t, fake, e)
			checkPage(t, resp, tt.wantStatus)
			mustContain(t, resp.Body, tt.want)
		})
	}
}

func TestPreferredLanguage(t *testing.T) {
	tests := []struct {
		header string
		want   contact.Language
	}{
		{"", contact.English},
		{"it", contact.Italian},
		{"FR-ca", contact.French},
		{"de-DE,de;q=0.9", contact.English},
		{"de, it;q=0.3, fr;q=0.7", contact.French},
		{"fr;q=0, it", contact.Italian},
		{"fr;q=abc, it;q=0.1", contact.Italian},
		{"*;q=0.5, fr;q=0.4", contact.French},
		{"en;q=0.8, it;q=0.8", contact.English},
		{";;;,,,-", contact.English},
	}
	for _, tt := range tests {
		t.Run(tt.header, func(t *testing.T) {
			if got := preferredLanguage(tt.header); got != tt.want {
				t.Errorf("preferredLanguage(%q) = %q, want %q", tt.header, got, tt.want)
			}
		})
	}
}

// Every language has every text: a missing entry would show an empty sentence.
func TestTextsAreComplete(t *testing.T) {
	english := languages[contact.English]
	for lang, tx := range languages {
		t.Run(string(lang), func(t *testing.T) {
			for _, s := range []string{tx.ConfirmTitle, tx.ResultTitle, tx.ErrorTitle, tx.Summary, tx.Service, tx.Type, tx.Role,
				tx.From, tx.To, tx.RequestedBy, tx.Requested, tx.Expires, tx.State, tx.Parties, tx.Accept, tx.Refuse,
				tx.ErrorCode, tx.Question, tx.AlreadyAnswered, tx.Closed, tx.Accepted, tx.WaitingFor, tx.Applying, tx.Refused} {
				if s == "" {
					t.Errorf("a text is empty in %s", lang)
				}
			}
			for _, r := range contact.Roles {
				if tx.Roles[r] == "" {
					t.Errorf("no name for role %s", r)
				}
			}
			for _, s := range []contact.State{contact.Pending, contact.Applying, contact.Done, contact.Refused, contact.Expired, contact.Cancelled, contact.Failed} {
				if tx.States[s] == "" {
					t.Errorf("no name for state %s", s)
				}
			}
			for _, s := range []contact.PartyStatus{contact.Waiting, contact.Accepted, contact.Declined} {
				if tx.Statuses[s] == "" {
					t.Errorf("no name for party status %s", s)
				}
			}
			for code := range english.ErrorByCode {
				if tx.ErrorByCode[code] == "" {
					t.Errorf("no sentence for error %s", code)
				}
			}
			for status := range english.ErrorByStatus {
				if tx.ErrorByStatus[status] == "" {
					t.Errorf("no sentence for status %d", status)
				}
			}
		})
	}
}
