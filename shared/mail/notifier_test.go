package mail

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"html"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/servicecontacts/servicecontacts/shared/contact"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

const baseURL = "https://contacts.example.com"

var (
	admin    = contact.Account{NIC: "aa11111-ovh", Email: "admin@example.com", GoodStanding: true}
	oldTech  = contact.Account{NIC: "tt22222-ovh", Email: "tech@example.com", GoodStanding: true}
	newTech  = contact.Account{NIC: "nn44444-ovh", Email: "newbie@example.com", GoodStanding: true}
	fixedNow = time.Date(2025, time.March, 1, 9, 30, 0, 0, time.UTC)
)

// change is a request by the admin to hand the tech role over to newTech, with the admin
// having accepted already.
func change() contact.Change {
	return contact.Change{
		ID:          "9f2c4e1a7b3d4c5e8f9a0b1c2d3e4f50",
		ServiceID:   "example.com",
		ServiceType: "domain",
		Role:        contact.Tech,
		From:        oldTech.NIC,
		To:          newTech.NIC,
		RequestedBy: admin.NIC,
		State:       contact.Pending,
		Parties: []contact.Party{
			{NIC: admin.NIC, Status: contact.Accepted},
			{NIC: newTech.NIC, Status: contact.Waiting},
		},
		Notify:    []string{oldTech.NIC},
		CreatedAt: fixedNow,
		ExpiresAt: fixedNow.Add(14 * 24 * time.Hour),
	}
}

// notices returns one realistic notice of each kind, addressed to an account in lang.
func notices(lang contact.Language) map[contact.NoticeKind]contact.Notice {
	to := func(a contact.Account) contact.Account { a.Language = lang; return a }
	with := func(state contact.State, edit func(*contact.Change)) contact.Change {
		c := change()
		c.State = state
		if edit != nil {
			edit(&c)
		}
		return c
	}
	allAccepted := func(c *contact.Change) { c.Parties[1].Status = contact.Accepted }
	return map[contact.NoticeKind]contact.Notice{
		contact.NoticeToken: {Kind: contact.NoticeToken, To: to(newTech), Change: with(contact.Pending, func(c *contact.Change) {
			c.Parties[0].Status = contact.Waiting
		}), Token: "q5Yb0t_Kx-3Zr8LmW2vN9cHdEfGhJkPaSsTuVwXyZ01"},
		contact.NoticeWaiting:   {Kind: contact.NoticeWaiting, To: to(admin), Change: with(contact.Pending, nil)},
		contact.NoticeDone:      {Kind: contact.NoticeDone, To: to(admin), Change: with(contact.Done, allAccepted)},
		contact.NoticeReplaced:  {Kind: contact.NoticeReplaced, To: to(oldTech), Change: with(contact.Done, allAccepted)},
		contact.NoticeRefused:   {Kind: contact.NoticeRefused, To: to(admin), Change: with(contact.Refused, func(c *contact.Change) { c.Parties[1].Status = contact.Declined })},
		contact.NoticeCancelled: {Kind: contact.NoticeCancelled, To: to(newTech), Change: with(contact.Cancelled, nil)},
		contact.NoticeExpired:   {Kind: contact.NoticeExpired, To: to(admin), Change: with(contact.Expired, nil)},
		contact.NoticeFailed: {Kind: contact.NoticeFailed, To: to(admin), Change: with(contact.Failed, allAccepted),
			Failure: contact.Failure{Code: contact.FailureContactChanged, Role: contact.Tech}},
		contact.NoticeBatchToken: {Kind: contact.NoticeBatchToken, To: to(newTech), Batch: batch(),
			Changes: batchChanges(contact.Pending, contact.Pending, contact.Pending), Token: "Zr8LmW2vN9cHdEfGhJkPaSsTuVwXyZ01q5Yb0t_Kx-3"},
		contact.NoticeBatchOutcome: {Kind: contact.NoticeBatchOutcome, To: to(admin), Batch: batch(),
			Changes: batchChanges(contact.Done, contact.Refused, contact.Cancelled, contact.Expired, contact.Failed)},
	}
}

// batch is a batch the admin asked, handing the tech role of several services to newTech.
func batch() contact.Batch {
	return contact.Batch{
		ID:          "b7e1c0d2a3f4456789abcdef01234567",
		RequestedBy: admin.NIC,
		Wanted:      map[contact.Role]string{contact.Tech: newTech.NIC},
		CreatedAt:   fixedNow,
		ExpiresAt:   fixedNow.Add(14 * 24 * time.Hour),
	}
}

// batchChanges returns one request of the batch per state, each on a service of its own
// (example-1.com, example-2.com...), the tech role going from oldTech to newTech; a refused
// one was refused by newTech, a failed one failed because the tech contact changed.
func batchChanges(states ...contact.State) []contact.Change {
	var out []contact.Change
	for i, state := range states {
		c := change()
		c.ID = fmt.Sprintf("%031x%d", 0, i+1)
		c.ServiceID = fmt.Sprintf("example-%d.com", i+1)
		c.BatchID = batch().ID
		c.State = state
		c.Parties[0].Status = contact.Accepted
		switch state {
		case contact.Pending:
			c.Parties[0].Status = contact.Waiting
		case contact.Done, contact.Failed:
			c.Parties[1].Status = contact.Accepted
		case contact.Refused:
			c.Parties[1].Status = contact.Declined
		}
		if state == contact.Failed {
			c.Failure = contact.Failure{Code: contact.FailureContactChanged, Role: contact.Tech}
		}
		out = append(out, c)
	}
	return out
}

// aboutID is the id an email about n names in its request tag: its request's, or for a
// batch notice its batch's.
func aboutID(n contact.Notice) string {
	if isBatch(n.Kind) {
		return n.Batch.ID
	}
	return n.Change.ID
}

// isTokenKind: the notices of kind k carry their recipient's token.
func isTokenKind(k contact.NoticeKind) bool {
	return k == contact.NoticeToken || k == contact.NoticeBatchToken
}

var (
	allKinds = []contact.NoticeKind{
		contact.NoticeToken, contact.NoticeWaiting, contact.NoticeDone, contact.NoticeReplaced,
		contact.NoticeRefused, contact.NoticeCancelled, contact.NoticeExpired, contact.NoticeFailed,
		contact.NoticeBatchToken, contact.NoticeBatchOutcome,
	}
	allLanguages = []contact.Language{contact.English, contact.Italian, contact.French}
)

func TestRenderGolden(t *testing.T) {
	n := NewNotifier(nil, baseURL)
	for _, lang := range allLanguages {
		for _, kind := range allKinds {
			t.Run(string(kind)+"/"+string(lang), func(t *testing.T) {
				m, err := n.Render(notices(lang)[kind])
				if err != nil {
					t.Fatal(err)
				}
				name := filepath.Join("testdata", string(kind)+"."+string(lang))
				golden(t, name+".txt.golden", "Subject: "+m.Subject+"\n\n"+m.Text)
				golden(t, name+".html.golden", m.HTML)
			})
		}
	}
}

func golden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./shared/mail -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s differs (-want +got):\n%s", path, diff)
	}
}

// The text and the HTML of an email say the same things: every value the recipient needs
// is in both.
func TestRenderSameValuesInTextAndHTML(t *testing.T) {
	n := NewNotifier(nil, baseURL)
	for _, lang := range allLanguages {
		for _, kind := range allKinds {
			t.Run(string(kind)+"/"+string(lang), func(t *testing.T) {
				notice := notices(lang)[kind]
				m, err := n.Render(notice)
				if err != nil {
					t.Fatal(err)
				}
				c := notice.Change
				values := []string{c.ID, c.ServiceID, c.ServiceType, c.From, c.To, c.RequestedBy, notice.To.NIC, locales[lang].failure(notice.Failure)}
				if kind == contact.NoticeToken {
					values = append(values, notice.Token, n.ConfirmLink(c.ID, notice.Token), locales[lang].date(c.ExpiresAt))
				}
				if isBatch(kind) {
					values = []string{notice.Batch.ID, notice.Batch.RequestedBy, notice.To.NIC}
					for _, c := range notice.Changes {
						values = append(values, c.ServiceID, c.ServiceType, locales[lang].role(c.Role), c.From, c.To, locales[lang].failure(c.Failure))
					}
				}
				if kind == contact.NoticeBatchToken {
					values = append(values, notice.Token, n.BatchConfirmLink(notice.Batch.ID, notice.Token), locales[lang].date(notice.Batch.ExpiresAt))
				}
				text, body := m.Text, html.UnescapeString(m.HTML)
				for _, v := range values {
					if !strings.Contains(text, v) {
						t.Errorf("text lacks %q:\n%s", v, text)
					}
					if !strings.Contains(body, v) {
						t.Errorf("HTML lacks %q:\n%s", v, m.HTML)
					}
				}
				if !strings.Contains(m.HTML, "<title>"+html.EscapeString(m.Subject)+"</title>") {
					t.Errorf("HTML title is not the subject %q:\n%s", m.Subject, m.HTML)
				}
				if strings.Contains(text+m.Subject, "<no value>") || strings.Contains(m.HTML, "<no value>") {
					t.Errorf("a template refers to a missing value:\n%s\n%s", text, m.HTML)
				}
			})
		}
	}
}

func TestRenderTokenOnlyInTokenEmails(t *testing.T) {
	n := NewNotifier(nil, baseURL)
	for _, kind := range allKinds {
		t.Run(string(kind), func(t *testing.T) {
			notice := notices(contact.English)[kind]
			notice.Token = "do-not-leak-this-token"
			m, err := n.Render(notice)
			if err != nil {
				t.Fatal(err)
			}
			leaked := strings.Contains(m.Text, notice.Token) || strings.Contains(m.HTML, notice.Token)
			if want := isTokenKind(kind); leaked != want {
				t.Errorf("token in the email: %v, want %v", leaked, want)
			}
		})
	}
}

func TestRenderEscapesHTML(t *testing.T) {
	hostile := `<script>x</script>`
	tests := []struct {
		name string
		edit func(*contact.Notice)
	}{
		{"service id", func(n *contact.Notice) { n.Change.ServiceID = hostile }},
		{"service type", func(n *contact.Notice) { n.Change.ServiceType = hostile }},
		{"nic", func(n *contact.Notice) { n.Change.RequestedBy = hostile; n.To.NIC = hostile }},
		{"request id", func(n *contact.Notice) { n.Change.ID = hostile }},
		{"token", func(n *contact.Notice) { n.Token = hostile }},
		{"failure", func(n *contact.Notice) {
			n.Kind = contact.NoticeFailed
			n.Failure = contact.Failure{Code: contact.FailureAccountGone, Account: hostile}
		}},
	}
	n := NewNotifier(nil, baseURL)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			notice := notices(contact.English)[contact.NoticeToken]
			tt.edit(&notice)
			m, err := n.Render(notice)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(m.HTML, "<script") {
				t.Errorf("HTML carries the markup unescaped:\n%s", m.HTML)
			}
			if !strings.Contains(m.Text, hostile) {
				t.Errorf("text should show the value as it is:\n%s", m.Text)
			}
		})
	}
}

func TestRenderSubjectIsOneLine(t *testing.T) {
	notice := notices(contact.English)[contact.NoticeDone]
	notice.Change.ServiceID = "evil.example\r\nBcc: victim@example.com"
	m, err := NewNotifier(nil, baseURL).Render(notice)
	if err != nil {
		t.Fatal(err)
	}
	if want := "Done: nn44444-ovh is now the tech contact for evil.example Bcc: victim@example.com"; m.Subject != want {
		t.Errorf("subject = %q, want %q", m.Subject, want)
	}
}

func TestConfirmLink(t *testing.T) {
	tests := []struct {
		name, base, id, token, want string
	}{
		{"plain", "https://contacts.example.com", "abc123", "q5Yb0t_Kx-3Z", "https://contacts.example.com/contact-changes/abc123/confirm?token=q5Yb0t_Kx-3Z"},
		{"trailing slash", "http://127.0.0.1:3000/", "abc123", "tok", "http://127.0.0.1:3000/contact-changes/abc123/confirm?token=tok"},
		{"base with path", "https://example.com/contacts/", "abc123", "tok", "https://example.com/contacts/contact-changes/abc123/confirm?token=tok"},
		{"token escaped", "https://example.com", "abc123", "a+b/c=d&e f", "https://example.com/contact-changes/abc123/confirm?token=a%2Bb%2Fc%3Dd%26e+f"},
		{"id escaped", "https://example.com", "a/b?c", "tok", "https://example.com/contact-changes/a%2Fb%3Fc/confirm?token=tok"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := NewNotifier(nil, tt.base)
			if got := n.ConfirmLink(tt.id, tt.token); got != tt.want {
				t.Errorf("ConfirmLink = %q, want %q", got, tt.want)
			}
			notice := notices(contact.English)[contact.NoticeToken]
			notice.Change.ID, notice.Token = tt.id, tt.token
			m, err := n.Render(notice)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(m.Text, "\n"+tt.want+"\n") {
				t.Errorf("text lacks the link on a line of its own:\n%s", m.Text)
			}
			if !strings.Contains(html.UnescapeString(m.HTML), `href="`+tt.want+`"`) {
				t.Errorf("HTML lacks a link to %s:\n%s", tt.want, m.HTML)
			}
		})
	}
}

func TestRenderLanguage(t *testing.T) {
	tests := []struct {
		language contact.Language
		want     string // a word of the subject
	}{
		{contact.English, "Please confirm"},
		{contact.Italian, "Conferma"},
		{contact.French, "Confirmez"},
		{"", "Please confirm"},
		{"de", "Please confirm"},
		{"FR", "Confirmez"},
	}
	n := NewNotifier(nil, baseURL)
	for _, tt := range tests {
		t.Run(string(tt.language), func(t *testing.T) {
			notice := notices(contact.English)[contact.NoticeToken]
			notice.To.Language = tt.language
			m, err := n.Render(notice)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(m.Subject, tt.want) {
				t.Errorf("subject %q does not contain %q", m.Subject, tt.want)
			}
		})
	}
}

func TestRenderErrors(t *testing.T) {
	tests := []struct {
		name string
		kind contact.NoticeKind
		edit func(*contact.Notice)
	}{
		{"no email address", contact.NoticeToken, func(n *contact.Notice) { n.To.Email = "" }},
		{"token notice without token", contact.NoticeToken, func(n *contact.Notice) { n.Token = "" }},
		{"unknown kind", contact.NoticeToken, func(n *contact.Notice) { n.Kind = "birthday" }},
		{"batch token notice without token", contact.NoticeBatchToken, func(n *contact.Notice) { n.Token = "" }},
		{"batch notice without a batch id", contact.NoticeBatchToken, func(n *contact.Notice) { n.Batch.ID = "" }},
		{"batch outcome without a batch id", contact.NoticeBatchOutcome, func(n *contact.Notice) { n.Batch.ID = "" }},
		{"batch notice without requests", contact.NoticeBatchOutcome, func(n *contact.Notice) { n.Changes = nil }},
		{"batch notice without an email address", contact.NoticeBatchOutcome, func(n *contact.Notice) { n.To.Email = "" }},
	}
	n := NewNotifier(nil, baseURL)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			notice := notices(contact.English)[tt.kind]
			tt.edit(&notice)
			if _, err := n.Render(notice); err == nil {
				t.Error("Render succeeded, want an error")
			}
		})
	}
}

type senderFunc func(ctx context.Context, m Message) error

func (f senderFunc) Send(ctx context.Context, m Message) error { return f(ctx, m) }

func TestNotify(t *testing.T) {
	errDown := errors.New("mail server down")
	tests := []struct {
		name    string
		notice  contact.Notice
		sendErr error
		wantTo  string
		wantErr error
		sent    bool
	}{
		{name: "sent to the account's address", notice: notices(contact.French)[contact.NoticeDone], wantTo: "admin@example.com", sent: true},
		{name: "sender error wrapped", notice: notices(contact.English)[contact.NoticeToken], sendErr: errDown, wantTo: "newbie@example.com", wantErr: errDown, sent: true},
		{name: "nothing sent without an address", notice: func() contact.Notice {
			n := notices(contact.English)[contact.NoticeDone]
			n.To.Email = ""
			return n
		}(), wantErr: errAny},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []Message
			n := NewNotifier(senderFunc(func(_ context.Context, m Message) error {
				got = append(got, m)
				return tt.sendErr
			}), baseURL)
			err := n.Notify(context.Background(), tt.notice)
			switch {
			case tt.wantErr == errAny && err == nil:
				t.Error("Notify succeeded, want an error")
			case tt.wantErr != errAny && !errors.Is(err, tt.wantErr):
				t.Errorf("Notify error = %v, want %v", err, tt.wantErr)
			}
			if !tt.sent {
				if len(got) != 0 {
					t.Errorf("sent %d messages, want none", len(got))
				}
				return
			}
			want, err := n.Render(tt.notice)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]Message{want}, got); diff != "" {
				t.Errorf("sent messages (-want +got):\n%s", diff)
			}
			if got[0].To != tt.wantTo {
				t.Errorf("sent to %q, want %q", got[0].To, tt.wantTo)
			}
		})
	}
}

// errAny stands for "some error" in the table of TestNotify.
var errAny = errors.New("any error")

// Every email names its recipient's account and its request, which its SES tags carry.
func TestRenderNamesRecipientAndRequest(t *testing.T) {
	n := NewNotifier(nil, baseURL)
	for _, kind := range allKinds {
		t.Run(string(kind), func(t *testing.T) {
			notice := notices(contact.Italian)[kind]
			m, err := n.Render(notice)
			if err != nil {
				t.Fatal(err)
			}
			if m.NIC != notice.To.NIC || m.RequestID != aboutID(notice) || m.To != notice.To.Email {
				t.Errorf("message to %q, NIC %q, request %q; want %q, %q, %q",
					m.To, m.NIC, m.RequestID, notice.To.Email, notice.To.NIC, aboutID(notice))
			}
		})
	}
}
