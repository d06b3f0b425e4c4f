package contact

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// The service every case starts from: each role held by a different account, plus an
// outsider and a stranger who hold nothing.
var svc = Service{
	ID:       "example.com",
	Type:     "domain",
	Contacts: map[Role]string{Admin: "ad1-ovh", Tech: "te1-ovh", Billing: "bi1-ovh"},
}

const (
	admin    = "ad1-ovh"
	tech     = "te1-ovh"
	billing  = "bi1-ovh"
	newcomer = "nw1-ovh"
	stranger = "st1-ovh"
)

func TestPermitEveryRoleAndAction(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		caller  string
		role    Role
		to      string
		want    Permission
		wantErr error
		code    string
	}{
		// The rows of "who may request what".
		{name: "admin sets new tech", caller: admin, role: Tech, to: newcomer,
			want: Permission{Authority: Admin, Parties: []string{admin, newcomer}, Notify: []string{tech}}},
		{name: "admin sets new billing", caller: admin, role: Billing, to: newcomer,
			want: Permission{Authority: Admin, Parties: []string{admin, newcomer}, Notify: []string{billing}}},
		{name: "admin takes tech himself", caller: admin, role: Tech, to: admin,
			want: Permission{Authority: Admin, Parties: []string{admin}, Notify: []string{tech}}},
		{name: "admin takes billing himself", caller: admin, role: Billing, to: admin,
			want: Permission{Authority: Admin, Parties: []string{admin}, Notify: []string{billing}}},
		{name: "admin hands admin over", caller: admin, role: Admin, to: newcomer,
			want: Permission{Authority: Admin, Parties: []string{admin, newcomer}}},
		{name: "tech hands tech over", caller: tech, role: Tech, to: newcomer,
			want: Permission{Authority: Tech, Parties: []string{tech, newcomer}}},
		{name: "billing hands billing over", caller: billing, role: Billing, to: newcomer,
			want: Permission{Authority: Billing, Parties: []string{billing, newcomer}}},
		// Everything else is refused.
		{name: "tech names a new admin", caller: tech, role: Admin, to: newcomer, wantErr: ErrForbidden, code: "not_allowed"},
		{name: "tech names a new billing", caller: tech, role: Billing, to: newcomer, wantErr: ErrForbidden, code: "not_allowed"},
		{name: "tech takes admin himself", caller: tech, role: Admin, to: tech, wantErr: ErrForbidden, code: "not_allowed"},
		{name: "tech takes billing himself", caller: tech, role: Billing, to: tech, wantErr: ErrForbidden, code: "not_allowed"},
		{name: "billing names a new admin", caller: billing, role: Admin, to: newcomer, wantErr: ErrForbidden, code: "not_allowed"},
		{name: "billing names a new tech", caller: billing, role: Tech, to: newcomer, wantErr: ErrForbidden, code: "not_allowed"},
		{name: "billing takes admin himself", caller: billing, role: Admin, to: billing, wantErr: ErrForbidden, code: "not_allowed"},
		{name: "billing takes tech himself", caller: billing, role: Tech, to: billing, wantErr: ErrForbidden, code: "not_allowed"},
		{name: "stranger names a tech", caller: stranger, role: Tech, to: newcomer, wantErr: ErrNotFound, code: "service_not_found"},
		{name: "stranger takes billing", caller: stranger, role: Billing, to: stranger, wantErr: ErrNotFound, code: "service_not_found"},
		{name: "admin names the current tech", caller: admin, role: Tech, to: tech, wantErr: ErrRule, code: "same_holder"},
		{name: "admin names himself admin", caller: admin, role: Admin, to: admin, wantErr: ErrRule, code: "same_holder"},
		{name: "tech names himself tech", caller: tech, role: Tech, to: tech, wantErr: ErrRule, code: "same_holder"},
		{name: "billing names the current billing", caller: billing, role: Billing, to: billing, wantErr: ErrRule, code: "same_holder"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Permit(svc, tt.caller, tt.role, tt.to)
			if tt.wantErr != nil {
				var e *Error
				if !errors.Is(err, tt.wantErr) || !errors.As(err, &e) || e.Code != tt.code {
					t.Fatalf("Permit() error = %v, want kind %v code %s", err, tt.wantErr, tt.code)
				}
				return
			}
			if err != nil {
				t.Fatalf("Permit() error = %v", err)
			}
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Permit() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPermitWhenOneAccountHoldsSeveralRoles(t *testing.T) {
	t.Parallel()
	both := Service{ID: "s1", Contacts: map[Role]string{Admin: admin, Tech: admin, Billing: billing}}
	// The admin who is also tech names a new tech: he confirms once, and as he was the
	// previous holder he is not told separately.
	got, err := Permit(both, admin, Tech, newcomer)
	if err != nil {
		t.Fatal(err)
	}
	want := Permission{Authority: Admin, Parties: []string{admin, newcomer}}
	if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
}

func TestNormalizeNIC(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"xx11111-ovh", "xx11111-ovh", true},
		{"  XX11111-OVH ", "xx11111-ovh", true},
		{"x11111-ovh", "", false},
		{"xx-ovh", "", false},
		{"xx11111", "", false},
		{"xx11111-ovh; drop", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		got, err := NormalizeNIC(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("NormalizeNIC(%q) = %q, %v; want %q, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
		if err != nil && !errors.Is(err, ErrInvalid) {
			t.Errorf("NormalizeNIC(%q) error %v is not ErrInvalid", tt.in, err)
		}
	}
}

func TestStateTerminal(t *testing.T) {
	t.Parallel()
	terminal := map[State]bool{Pending: false, Applying: false, Done: true, Refused: true, Expired: true, Cancelled: true, Failed: true}
	for s, want := range terminal {
		if got := s.Terminal(); got != want {
			t.Errorf("%s.Terminal() = %v, want %v", s, got, want)
		}
	}
	if State("bogus").Valid() {
		t.Error("an unknown state is valid")
	}
}

func TestTokens(t *testing.T) {
	t.Parallel()
	a, hashA, err := NewToken()
	if err != nil {
		t.Fatal(err)
	}
	b, hashB, err := NewToken()
	if err != nil {
		t.Fatal(err)
	}
	if a == b || hashA == hashB {
		t.Fatal("two tokens are equal")
	}
	if len(a) != 43 { // 32 bytes, base64url without padding
		t.Errorf("token length = %d, want 43", len(a))
	}
	if HashToken(a) != hashA || hashA == a {
		t.Error("the stored hash is not the token's SHA-256")
	}

	c := Change{Parties: []Party{{NIC: admin, TokenHash: hashA}, {NIC: newcomer, TokenHash: hashB, ReplacedHashes: []string{HashToken("old")}}}}
	tests := []struct {
		token string
		nic   string
		match tokenMatch
	}{
		{a, admin, tokenCurrent},
		{b, newcomer, tokenCurrent},
		{"old", newcomer, tokenReplaced},
		{"guess", "", tokenUnknown},
		{hashA, "", tokenUnknown}, // the stored hash is not a token
	}
	for _, tt := range tests {
		p, match := c.partyForToken(tt.token)
		if match != tt.match || (p != nil && p.NIC != tt.nic) || (p == nil && tt.nic != "") {
			t.Errorf("partyForToken(%q) = %v, %v; want %s, %v", tt.token, p, match, tt.nic, tt.match)
		}
	}
}

// A refused input is never repeated whole: messages quote at most its first 64 characters.
func TestRefusedInputIsQuotedBounded(t *testing.T) {
	long := strings.Repeat("x", 5000)
	_, err := NormalizeNIC(long)
	if err == nil || len(err.Error()) > 300 {
		t.Errorf("NormalizeNIC of 5,000 characters: error of %d bytes, want a short one", len(err.Error()))
	}
}
