package stack_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/servicecontacts/servicecontacts/infra/local/stack"
)

// The console's developer sign-in: pick an account of the seed, get a token the gateway
// takes, with whatever identity claim the stack reads.
func TestDeveloperSignIn(t *testing.T) {
	t.Parallel()
	for _, claim := range []string{"", "custom:nic"} {
		t.Run("claim "+claim, func(t *testing.T) {
			t.Parallel()
			e := start(t, stack.Options{IdentityClaim: claim})
			var accounts []struct{ NIC, Language string }
			list := e.call("GET", "/_local/accounts", "", nil)
			if err := json.Unmarshal(list.body, &accounts); err != nil || list.status != http.StatusOK {
				t.Fatalf("GET /_local/accounts: %d %s", list.status, list.body)
			}
			if len(accounts) != len(seed().Accounts) || accounts[0].NIC != admin {
				t.Fatalf("accounts %+v, want the seed's", accounts)
			}
			token := func(body string) response {
				req := mustRequest(t, "POST", e.base+"/_local/token", bytes.NewReader([]byte(body)))
				req.Header.Set("Content-Type", "application/json")
				return e.send(req)
			}
			got := token(`{"nic":"` + admin + `"}`)
			var tok struct{ Token string }
			if err := json.Unmarshal(got.body, &tok); err != nil || got.status != http.StatusOK || tok.Token == "" {
				t.Fatalf("token: %d %s", got.status, got.body)
			}
			req := mustRequest(t, "GET", e.base+"/me", nil)
			req.Header.Set("Authorization", "Bearer "+tok.Token)
			me := e.must(http.StatusOK, e.send(req))
			if me["nic"] != admin || me["email"] != "admin@example.com" {
				t.Errorf("GET /me with the token: %v", me)
			}
			for body, want := range map[string]int{`{"nic":"zz99999-ovh"}`: http.StatusNotFound, `{"nic":"bob"}`: http.StatusBadRequest, `nic`: http.StatusBadRequest} {
				if r := token(body); r.status != want {
					t.Errorf("token for %s: status %d, want %d", body, r.status, want)
				}
			}
		})
	}
}
