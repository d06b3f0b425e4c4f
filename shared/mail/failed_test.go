package mail

import (
	"strings"
	"testing"

	"github.com/servicecontacts/servicecontacts/shared/contact"
)

// A request can fail before everyone answered (the admin changed, the workflow was lost):
// its email must not say that everyone accepted, in any language; one that failed when it
// was applied says so.
func TestFailedEmailSaysWhetherEveryoneAccepted(t *testing.T) {
	everyone := map[contact.Language]string{
		contact.English: "Everyone accepted",
		contact.Italian: "Tutti hanno accettato",
		contact.French:  "Tout le monde a accepté",
	}
	n := NewNotifier(nil, "https://contacts.example.com")
	for lang, phrase := range everyone {
		for _, tt := range []struct {
			name        string
			allAccepted bool
		}{{"while waiting", false}, {"when applied", true}} {
			t.Run(string(lang)+"/"+tt.name, func(t *testing.T) {
				notice := notices(lang)[contact.NoticeFailed]
				notice.Failure = contact.Failure{Code: contact.FailureAdminChanged, Role: contact.Tech}
				notice.Change.Parties[1].Status = contact.Waiting
				if tt.allAccepted {
					notice.Change.Parties[1].Status = contact.Accepted
				}
				m, err := n.Render(notice)
				if err != nil {
					t.Fatal(err)
				}
				for part, body := range map[string]string{"text": m.Text, "html": m.HTML} {
					if got := strings.Contains(body, phrase); got != tt.allAccepted {
						t.Errorf("%s says %q: %v, want %v:\n%s", part, phrase, got, tt.allAccepted, body)
					}
				}
			})
		}
	}
}
