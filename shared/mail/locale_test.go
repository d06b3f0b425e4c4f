package mail

import (
	"strings"
	"testing"

	"github.com/servicecontacts/servicecontacts/shared/contact"
)

// Every reason a change can fail is worded in every language, naming the role or the account
// it is about.
func TestEveryFailureIsWordedInEveryLanguage(t *testing.T) {
	for lang, loc := range locales {
		for _, code := range contact.FailureCodes {
			if _, ok := loc.failures[code]; !ok {
				t.Errorf("%s: no words for failure %s", lang, code)
				continue
			}
			f := contact.Failure{Code: code, Role: contact.Billing, Account: "ab12345-ovh"}
			got := loc.failure(f)
			if strings.ContainsAny(got, "{}") {
				t.Errorf("%s, %s: badly formatted %q", lang, code, got)
			}
			switch code {
			case contact.FailureAccountGone, contact.FailureNotInGoodStanding:
				if !strings.Contains(got, f.Account) {
					t.Errorf("%s, %s: %q does not name the account", lang, code, got)
				}
			case contact.FailureContactChanged, contact.FailureRoleLocked:
				if !strings.Contains(got, loc.role(contact.Billing)) {
					t.Errorf("%s, %s: %q does not name the role", lang, code, got)
				}
			}
		}
	}
	if got := locales[contact.English].failure(contact.Failure{}); got != "" {
		t.Errorf("no failure worded %q", got)
	}
}
