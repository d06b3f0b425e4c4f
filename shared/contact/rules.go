package contact

// Who may request what: the table of the product rules, one row per case. The first row
// whose conditions hold decides; when none does, the request is refused.
type target int

const (
	anotherAccount target = iota // the new holder is someone other than the caller
	himself                      // the caller takes the role for himself
)

type party int

const (
	caller    party = iota // the account making the request
	newHolder              // the account that would hold the role
)

type rule struct {
	callerHolds    Role
	changes        Role
	to             target
	confirmedBy    []party
	notifyPrevious bool
}

var rules = []rule{
	// The admin may set a new tech or billing contact, or take either role himself.
	{callerHolds: Admin, changes: Tech, to: anotherAccount, confirmedBy: []party{caller, newHolder}, notifyPrevious: true},
	{callerHolds: Admin, changes: Billing, to: anotherAccount, confirmedBy: []party{caller, newHolder}, notifyPrevious: true},
	{callerHolds: Admin, changes: Tech, to: himself, confirmedBy: []party{caller}, notifyPrevious: true},
	{callerHolds: Admin, changes: Billing, to: himself, confirmedBy: []party{caller}, notifyPrevious: true},
	// The admin may hand his own role over to someone else.
	{callerHolds: Admin, changes: Admin, to: anotherAccount, confirmedBy: []party{caller, newHolder}},
	// The tech and billing contacts may only hand their own role over.
	{callerHolds: Tech, changes: Tech, to: anotherAccount, confirmedBy: []party{caller, newHolder}},
	{callerHolds: Billing, changes: Billing, to: anotherAccount, confirmedBy: []party{caller, newHolder}},
}

// Permission is what a permitted request needs: whose confirmation, and who is told.
type Permission struct {
	// Authority is the role of the caller's that the permitting row relies on.
	Authority Role
	Parties   []string
	Notify    []string
}

// Permit decides whether the caller may ask that role of svc pass to the account to.
// It returns the parties whose confirmation the change needs and the accounts to notify.
func Permit(svc Service, callerNIC string, role Role, to string) (Permission, error) {
	holds := svc.RolesOf(callerNIC)
	if len(holds) == 0 {
		// Same answer as for a service that does not exist: services cannot be probed.
		return Permission{}, Errorf(ErrNotFound, "service_not_found", "service %s not found", svc.ID)
	}
	previous := svc.Contacts[role]
	if to == previous {
		return Permission{}, Errorf(ErrRule, "same_holder", "%s already holds the %s role of %s", to, role, svc.ID)
	}
	want := anotherAccount
	if to == callerNIC {
		want = himself
	}
	for _, r := range rules {
		if r.changes != role || r.to != want || !holdsRole(holds, r.callerHolds) {
			continue
		}
		p := Permission{Authority: r.callerHolds}
		for _, who := range r.confirmedBy {
			nic := callerNIC
			if who == newHolder {
				nic = to
			}
			p.Parties = appendUnique(p.Parties, nic)
		}
		if r.notifyPrevious && !contains(p.Parties, previous) {
			p.Notify = append(p.Notify, previous)
		}
		return p, nil
	}
	return Permission{}, Errorf(ErrForbidden, "not_allowed", "as %s of %s you may not request a new %s contact%s",
		joinRoles(holds), svc.ID, role, map[target]string{himself: " for yourself", anotherAccount: ""}[want])
}

// StillPermitted evaluates the rules table again on svc as it is now, for a request made
// earlier: the requester must still hold the role that allowed it (c.Authority), and the
// table must still ask the same parties to confirm. It returns why not, or a zero Failure.
func StillPermitted(svc Service, c Change) Failure {
	perm, err := Permit(svc, c.RequestedBy, c.Role, c.To)
	if err == nil && perm.Authority == c.Authority && sameMembers(perm.Parties, c.partyNICs()) {
		return Failure{}
	}
	if c.Authority == Admin && svc.Contacts[Admin] != c.RequestedBy {
		return Failure{Code: FailureAdminChanged, Role: c.Role}
	}
	return Failure{Code: FailureAuthorityLost, Role: c.Authority, Account: c.RequestedBy}
}

func (c Change) partyNICs() []string {
	nics := make([]string, len(c.Parties))
	for i, p := range c.Parties {
		nics[i] = p.NIC
	}
	return nics
}

func sameMembers(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for _, x := range a {
		if !contains(b, x) {
			return false
		}
	}
	return true
}

func holdsRole(holds []Role, r Role) bool {
	for _, h := range holds {
		if h == r {
			return true
		}
	}
	return false
}

func joinRoles(rs []Role) string {
	s := ""
	for i, r := range rs {
		if i > 0 {
			s += " and "
		}
		s += string(r)
	}
	return s
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func appendUnique(list []string, s string) []string {
	if contains(list, s) {
		return list
	}
	return append(list, s)
}
