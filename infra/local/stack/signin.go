package stack

import (
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/servicecontacts/servicecontacts/infra/local/gateway"
	"github.com/servicecontacts/servicecontacts/shared/contact"
	"github.com/servicecontacts/servicecontacts/shared/store"
)

// devSignIn serves the developer's sign-in of the local console, which stands in for an
// OpenID Connect issuer: GET /_local/accounts lists the seed's accounts, POST /_local/token
// {"nic"} answers {"token"}, a bearer token for that account. It exists in the local stack
// only: nothing deploys it.
type devSignIn struct {
	accounts []store.SeedAccount
	store    *store.Store
	secret   []byte
	claim    string
	now      func() time.Time
}

// devTokenTTL is how long a developer's token is valid: a working day.
const devTokenTTL = 12 * time.Hour

func (d devSignIn) register(mux *http.ServeMux) {
	mux.HandleFunc("GET /_local/accounts", d.listAccounts)
	mux.HandleFunc("POST /_local/token", d.token)
}

type devAccount struct {
	NIC      string `json:"nic"`
	Language string `json:"language"`
}

func (d devSignIn) listAccounts(w http.ResponseWriter, _ *http.Request) {
	out := make([]devAccount, 0, len(d.accounts))
	for _, a := range d.accounts {
		out = append(out, devAccount{NIC: a.NIC, Language: string(contact.ParseLanguage(a.Language))})
	}
	writeJSON(w, http.StatusOK, out)
}

func (d devSignIn) token(w http.ResponseWriter, r *http.Request) {
	var in struct {
		NIC string `json:"nic"`
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"message": `send {"nic": "<NIC handle>"}`})
		return
	}
	nic, err := contact.NormalizeNIC(in.NIC)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"message": "not a NIC handle"})
		return
	}
	if _, err := d.store.Account(r.Context(), nic); errors.Is(err, contact.ErrNotFound) {
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "no such account"})
		return
	} else if err != nil {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"message": "the store did not answer"})
		return
	}
	tok, err := gateway.Sign(d.secret, map[string]any{d.claim: nic, "exp": d.now().Add(devTokenTTL).Unix()})
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"message": "cannot sign"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"token": tok})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v) // a closed connection is the client's
}
