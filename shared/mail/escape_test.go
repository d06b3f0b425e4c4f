package mail

import (
	"html"
	"strings"
	"testing"

	"github.com/servicecontacts/servicecontacts/shared/contact"
)

// Every value that reaches an email, in every kind and language, is escaped in the HTML:
// markup, both quote kinds and ampersands, in text and in attributes alike.
func TestRenderEscapesEveryValueEverywhere(t *testing.T) {
	n := NewNotifier(nil, baseURL)
	for _, lang := range allLanguages {
		for _, kind := range allKinds {
			t.Run(string(kind)+"/"+string(lang), func(t *testing.T) {
				notice := hostileNotice(lang, kind)
				m, err := n.Render(notice)
				if err != nil {
					t.Fatal(err)
				}
				for _, raw := range []string{"<script", "<img", `x"'>`, "&amp;<"} {
					if strings.Contains(m.HTML, raw) {
						t.Errorf("HTML carries %q unescaped", raw)
					}
				}
				// Each value shows, escaped, where the template puts it as text.
				if !strings.Contains(m.HTML, "svc-"+html.EscapeString(hostile)) {
					t.Error("HTML lacks the escaped service id")
				}
				if strings.ContainsAny(m.Subject, "\r\n") {
					t.Errorf("subject %q spans lines", m.Subject)
				}
			})
		}
	}
}

// hostile is markup, both quote kinds and ampersands, to put in every value of a notice.
const hostile = `x"'><script>alert(1)</script>&amp;<img src=x onerror=alert(2)>`

// hostileNotice is the notice of kind in lang with hostile in every value that reaches the
// email.
func hostileNotice(lang contact.Language, kind contact.NoticeKind) contact.Notice {
	notice := notices(lang)[kind]
	c := &notice.Change
	c.ServiceID, c.ServiceType, c.RequestedBy = "svc-"+hostile, "type-"+hostile, "req-"+hostile
	c.From, c.To, c.ID = "from-"+hostile, "to-"+hostile, "id-"+hostile
	for i := range c.Parties {
		c.Parties[i].NIC = "party-" + hostile
	}
	for i := range notice.Changes {
		c := &notice.Changes[i]
		c.ServiceID, c.ServiceType, c.RequestedBy = "svc-"+hostile, "type-"+hostile, "req-"+hostile
		c.From, c.To, c.ID = "from-"+hostile, "to-"+hostile, "id-"+hostile
		for j := range c.Parties {
			c.Parties[j].NIC = "party-" + hostile
		}
		if c.Failure.Code != "" {
			c.Failure = contact.Failure{Code: contact.FailureAccountGone, Account: "why-" + hostile}
		}
	}
	if notice.Batch.ID != "" {
		notice.Batch.ID, notice.Batch.RequestedBy = "batch-"+hostile, "req-"+hostile
	}
	notice.To.NIC = "me-" + hostile
	if notice.Token != "" {
		notice.Token = "tok-" + hostile
	}
	if notice.Failure.Code != "" {
		notice.Failure = contact.Failure{Code: contact.FailureAccountGone, Account: "why-" + hostile}
	}
	return notice
}
