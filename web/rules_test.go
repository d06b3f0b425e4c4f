package web

import (
	"errors"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/servicecontacts/servicecontacts/shared/contact"
)

// jsRule is a row of the console's copy of the rules table (static/rules.js).
type jsRule struct {
	callerHolds, changes, to string
	confirmedBy              []string
	notifyPrevious           bool
}

var jsRow = regexp.MustCompile(`\{\s*callerHolds: '(\w+)', changes: '(\w+)', to: '(\w+)', confirmedBy: \[([^\]]*)\], notifyPrevious: (true|false)\s*\}`)

func readJSRules(t *testing.T) []jsRule {
	t.Helper()
	src, err := os.ReadFile("static/rules.js")
	if err != nil {
		t.Fatal(err)
	}
	var rows []jsRule
	for _, m := range jsRow.FindAllStringSubmatch(string(src), -1) {
		var by []string
		for _, p := range strings.Split(m[4], ",") {
			by = append(by, strings.Trim(strings.TrimSpace(p), "'"))
		}
		rows = append(rows, jsRule{m[1], m[2], m[3], by, m[5] == "true"})
	}
	if len(rows) == 0 {
		t.Fatal("no rows found in static/rules.js")
	}
	return rows
}

// The console decides what the form lets a person edit, and who must confirm, from its own
// copy of the rules table: it must decide as the domain does, for every roles a caller may
// hold, every role and either new holder.
func TestConsoleRulesAreTheDomains(t *testing.T) {
	rows := readJSRules(t)
	const me, other, holder = "me11111-ovh", "ot22222-ovh", "ho33333-ovh"
	for mask := 1; mask < 1<<len(contact.Roles); mask++ {
		svc := contact.Service{ID: "example.com", Contacts: map[contact.Role]string{}}
		var holds []string
		for i, r := range contact.Roles {
			svc.Contacts[r] = holder
			if mask&(1<<i) != 0 {
				svc.Contacts[r] = me
				holds = append(holds, string(r))
			}
		}
		for _, role := range contact.Roles {
			for _, to := range []string{other, me} {
				if svc.Contacts[role] == to {
					continue // the same holder again: refused before the table
				}
				perm, err := contact.Permit(svc, me, role, to)
				allowed := err == nil
				if err != nil && !errors.Is(err, contact.ErrForbidden) && !errors.Is(err, contact.ErrRule) {
					t.Fatalf("Permit: %v", err)
				}
				row, ok := jsPermit(rows, holds, string(role), to == me)
				if ok != allowed {
					t.Errorf("holding %v, %s to %s: console allows=%v, domain allows=%v (%v)", holds, role, to, ok, allowed, err)
					continue
				}
				if !ok {
					continue
				}
				var parties []string
				for _, who := range row.confirmedBy {
					nic := me
					if who == "newHolder" {
						nic = to
					}
					if !slices.Contains(parties, nic) {
						parties = append(parties, nic)
					}
				}
				if !slices.Equal(parties, perm.Parties) {
					t.Errorf("holding %v, %s to %s: console asks %v to confirm, domain %v", holds, role, to, parties, perm.Parties)
				}
			}
		}
	}
}

func jsPermit(rows []jsRule, holds []string, role string, himself bool) (jsRule, bool) {
	want := "another"
	if himself {
		want = "himself"
	}
	for _, r := range rows {
		if r.changes == role && r.to == want && slices.Contains(holds, r.callerHolds) {
			return r, true
		}
	}
	return jsRule{}, false
}
