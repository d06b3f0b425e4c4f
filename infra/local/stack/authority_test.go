package stack_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/servicecontacts/servicecontacts/infra/local/stack"
)

// The admin of example.com asks at once for the tech role for himself and for a new admin.
// The admin hand-over applies first: the other request was allowed by an authority he no
// longer has, so it ends failed, and the tech stays who it was, even though he accepted it
// with his own token. The same for a tech hand-over to a third party.
func TestRequestsEndWithTheAuthorityThatAllowedThem(t *testing.T) {
	for _, b := range backends {
		for _, tt := range []struct {
			name, to string
		}{
			{"tech for himself", admin},
			{"tech for a third party", newbie},
		} {
			t.Run(b.name+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				e := b.start(t, stack.Options{})
				created := e.request(admin, "example.com", map[string]string{"tech": tt.to, "admin": billing})
				byRole := map[string]change{}
				for _, c := range created {
					byRole[c.Role] = c
				}
				handover, techChange := byRole["admin"], byRole["tech"]

				_, t1 := e.link("admin@example.com", handover.ID)
				_, t2 := e.link("billing@example.com", handover.ID)
				e.must(http.StatusOK, e.accept(admin, handover.ID, t1))
				e.must(http.StatusOK, e.accept(billing, handover.ID, t2))
				e.waitState(admin, handover.ID, "done")

				// The former admin's other request ended when the admin changed.
				end := e.waitEnded(admin, techChange.ID)
				if end.State != "failed" {
					t.Fatalf("the tech request ended %s, want failed; history %v", end.State, events(end))
				}
				last := end.History[len(end.History)-1]
				if !strings.Contains(last.Detail, "admin changed") {
					t.Errorf("last event %+v, want failed because the admin changed", last)
				}
				// His token no longer does anything.
				_, own := e.link("admin@example.com", techChange.ID)
				if r := e.accept(admin, techChange.ID, own); r.status != http.StatusGone {
					t.Errorf("accepting the failed request: status %d, want 410: %s", r.status, r.body)
				}
				got := e.services(billing)["example.com"]
				if got["admin"] != billing || got["tech"] != tech {
					t.Fatalf("contacts %v, want admin %s and tech %s unchanged", got, billing, tech)
				}
				e.waitMail("admin@example.com", techChange.ID, regexp.MustCompile(`^Failed`))
			})
		}
	}
}
