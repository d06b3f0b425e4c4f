package api

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"

	"github.com/servicecontacts/servicecontacts/shared/contact"
)

// The operator endpoints: the provider's systems keep accounts and services current, and
// support acts on any request. The caller is r.by, an IAM principal. Inputs are checked
// here to the bounds api/openapi.yaml publishes; the domain checks everything else.

// Bounds of the operator API's inputs, published in api/openapi.yaml (a test compares).
const (
	// nicInput is the form of a NIC handle as sent: matched case-insensitively, stored
	// lowercase, with no surrounding spaces.
	nicInput     = `^[A-Za-z]{2}[0-9]+-[Oo][Vv][Hh]$`
	maxNICLength = 64

	emailInput     = contact.EmailPattern
	maxEmailLength = contact.MaxEmailLength

	serviceIDInput     = contact.ServiceIDPattern
	maxServiceIDLength = contact.MaxServiceIDLength

	serviceTypeInput     = contact.ServiceTypePattern
	maxServiceTypeLength = contact.MaxServiceTypeLength

	maxReasonLength = contact.MaxReasonLength
)

var (
	nicPattern         = compiled(nicInput)
	emailPattern       = compiled(emailInput)
	serviceTypePattern = compiled(serviceTypeInput)
)

// The fields of the operator's bodies.
var (
	accountFields = []field{{"email", stringField}, {"language", stringField}, {"goodStanding", boolField}}
	serviceFields = []field{{"type", stringField}, {string(contact.Admin), stringField}, {string(contact.Tech), stringField}, {string(contact.Billing), stringField}}
	cancelFields  = []field{{"reason", stringField}}
)

func (h *Handler) putAccount(ctx context.Context, r *request) (response, error) {
	nic, err := nicOf("nic", r.PathParameters["nic"])
	if err != nil {
		return response{}, err
	}
	values, err := jsonObject(r, accountFields...)
	if err != nil {
		return response{}, err
	}
	if err := require(values, accountFields); err != nil {
		return response{}, err
	}
	p, err := accountPatchOf(values)
	if err != nil {
		return response{}, err
	}
	a := contact.Account{NIC: nic, Email: *p.Email, Language: *p.Language, GoodStanding: *p.GoodStanding}
	stored, _, err := h.contacts.PutAccount(ctx, r.by, a)
	if err != nil {
		return response{}, err
	}
	return jsonResponse(http.StatusOK, newAccount(stored)), nil
}

func (h *Handler) patchAccount(ctx context.Context, r *request) (response, error) {
	nic, err := nicOf("nic", r.PathParameters["nic"])
	if err != nil {
		return response{}, err
	}
	values, err := jsonObject(r, accountFields...)
	if err != nil {
		return response{}, err
	}
	if len(values) == 0 {
		return response{}, invalid("empty_patch", "the body must change at least one of email, language, goodStanding")
	}
	p, err := accountPatchOf(values)
	if err != nil {
		return response{}, err
	}
	stored, _, err := h.contacts.PatchAccount(ctx, r.by, nic, p)
	if err != nil {
		return response{}, err
	}
	return jsonResponse(http.StatusOK, newAccount(stored)), nil
}

// accountPatchOf checks the account fields present in values.
func accountPatchOf(values map[string]any) (contact.AccountPatch, error) {
	var p contact.AccountPatch
	if v, ok := values["email"]; ok {
		email := v.(string)
		if utf8.RuneCountInString(email) > maxEmailLength || !emailPattern().MatchString(email) {
			// The address is not echoed: error messages may end up in logs.
			return p, invalid("invalid_email", "email must be one address of at most %d characters, with a single @ and no spaces", maxEmailLength)
		}
		p.Email = &email
	}
	if v, ok := values["language"]; ok {
		lang := contact.Language(v.(string))
		if !lang.Valid() {
			return p, invalid("invalid_language", "language must be en, fr or it, not %.20q", lang)
		}
		p.Language = &lang
	}
	if v, ok := values["goodStanding"]; ok {
		standing := v.(bool)
		p.GoodStanding = &standing
	}
	return p, nil
}

func (h *Handler) putService(ctx context.Context, r *request) (response, error) {
	id, err := serviceIDOf("serviceId", r.PathParameters["serviceId"])
	if err != nil {
		return response{}, err
	}
	values, err := jsonObject(r, serviceFields...)
	if err != nil {
		return response{}, err
	}
	if err := require(values, serviceFields); err != nil {
		return response{}, err
	}
	typ := values["type"].(string)
	if utf8.RuneCountInString(typ) > maxServiceTypeLength || !serviceTypePattern().MatchString(typ) {
		return response{}, invalid("invalid_service_type", "type must be 1 to %d lowercase letters, digits or '-', starting with a letter or digit", maxServiceTypeLength)
	}
	s := contact.Service{ID: id, Type: typ, Contacts: make(map[contact.Role]string, len(contact.Roles))}
	for _, role := range contact.Roles {
		nic, err := nicOf(string(role), values[string(role)].(string))
		if err != nil {
			return response{}, err
		}
		s.Contacts[role] = nic
	}
	stored, _, err := h.contacts.PutService(ctx, r.by, s)
	if err != nil {
		return response{}, err
	}
	return jsonResponse(http.StatusOK, newStoredService(stored)), nil
}

// deleteService answers 204 whether the service was there or not: the caller's intent,
// "this service is gone", holds either way.
func (h *Handler) deleteService(ctx context.Context, r *request) (response, error) {
	id, err := serviceIDOf("serviceId", r.PathParameters["serviceId"])
	if err != nil {
		return response{}, err
	}
	if _, err := h.contacts.DeleteService(ctx, r.by, id); err != nil && !errors.Is(err, contact.ErrNotFound) {
		return response{}, err
	}
	return noContent(), nil
}

func (h *Handler) findChanges(ctx context.Context, r *request) (response, error) {
	var q contact.ChangeSearch
	var err error
	if s, ok := query(r, "serviceId"); ok {
		if q.ServiceID, err = serviceIDOf("serviceId", s); err != nil {
			return response{}, err
		}
	}
	if q.State, err = stateOf(r); err != nil {
		return response{}, err
	}
	if q.Limit, err = limitOf(r); err != nil {
		return response{}, err
	}
	if q.Cursor, err = cursorOf(r); err != nil {
		return response{}, err
	}
	if s, ok := query(r, "nic"); ok {
		if q.NIC, err = nicOf("nic", s); err != nil {
			return response{}, err
		}
	}
	if q.ServiceID == "" && q.NIC == "" {
		// Without a filter the search would read every request: support looks for a
		// service's or an account's requests.
		return response{}, invalid("missing_filter", "give serviceId, nic or both")
	}
	page, err := h.contacts.FindChanges(ctx, q)
	if err != nil {
		return response{}, err
	}
	return jsonResponse(http.StatusOK, pageJSON[changeJSON]{Items: newChanges(page.Changes), NextCursor: cursor(page.NextCursor)}), nil
}

func (h *Handler) changeByID(ctx context.Context, r *request) (response, error) {
	id, err := changeIDOf(r)
	if err != nil {
		return response{}, err
	}
	c, err := h.contacts.ChangeByID(ctx, id)
	if err != nil {
		return response{}, err
	}
	return jsonResponse(http.StatusOK, newChange(c)), nil
}

func (h *Handler) cancelFor(ctx context.Context, r *request) (response, error) {
	id, err := changeIDOf(r)
	if err != nil {
		return response{}, err
	}
	values, err := jsonObject(r, cancelFields...)
	if err != nil {
		return response{}, err
	}
	reason, _ := values["reason"].(string)
	if strings.TrimSpace(reason) == "" {
		return response{}, invalid("missing_reason", "the body must say why: {\"reason\": \"...\"}")
	}
	if utf8.RuneCountInString(reason) > maxReasonLength {
		return response{}, invalid("invalid_reason", "the reason must be at most %d characters", maxReasonLength)
	}
	c, err := h.contacts.CancelFor(ctx, r.by, id, strings.TrimSpace(reason))
	if err != nil {
		return response{}, err
	}
	return jsonResponse(http.StatusOK, newChange(c)), nil
}

func (h *Handler) resendFor(ctx context.Context, r *request) (response, error) {
	id, err := changeIDOf(r)
	if err != nil {
		return response{}, err
	}
	c, err := h.contacts.ResendFor(ctx, r.by, id)
	if err != nil {
		return response{}, err
	}
	return jsonResponse(http.StatusAccepted, newChange(c)), nil
}

// nicOf checks a NIC handle sent as name and returns it lowercase. Unlike the customers'
// bodies, whose handles the domain trims, an operator's handle must be sent exactly.
func nicOf(name, s string) (string, error) {
	if len(s) > maxNICLength || !nicPattern().MatchString(s) {
		return "", invalid("invalid_nic", "%s must be a NIC handle (two letters, digits, -ovh, like xx11111-ovh), not %.70q", name, s)
	}
	return contact.NormalizeNIC(s)
}

// require refuses values that lack one of fields.
func require(values map[string]any, fields []field) error {
	for _, f := range fields {
		if _, ok := values[f.name]; !ok {
			return invalid("missing_field", "the body must hold %q", f.name)
		}
	}
	return nil
}

// jsonObject reads a body that is a JSON object with keys among fields.
func jsonObject(r *request, fields ...field) (map[string]any, error) {
	if err := requireMediaType(r.APIGatewayV2HTTPRequest, "application/json"); err != nil {
		return nil, err
	}
	b, err := body(r.APIGatewayV2HTTPRequest)
	if err != nil {
		return nil, err
	}
	return decodeObject(b, fields...)
}

// noContent is a 204: no body, and no Content-Type to go with it.
func noContent() events.APIGatewayV2HTTPResponse {
	return events.APIGatewayV2HTTPResponse{
		StatusCode: http.StatusNoContent,
		Headers: map[string]string{
			"Cache-Control":          "no-store",
			"X-Content-Type-Options": "nosniff",
		},
	}
}
