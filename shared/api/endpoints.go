package api

import (
	"context"
	"net/http"

	"github.com/aws/aws-lambda-go/events"

	"github.com/servicecontacts/servicecontacts/shared/contact"
)

// The JSON endpoints. Each checks the form of its inputs to the bounds api/openapi.yaml
// publishes (inputs.go), calls one use case and encodes the result; the domain checks
// everything else.

type response = events.APIGatewayV2HTTPResponse

func (h *Handler) profile(ctx context.Context, r *request) (response, error) {
	a, err := h.contacts.Profile(ctx, r.caller)
	if err != nil {
		return response{}, err
	}
	return jsonResponse(http.StatusOK, newAccount(a)), nil
}

func (h *Handler) listServices(ctx context.Context, r *request) (response, error) {
	var q contact.ServiceQuery
	var err error
	if q.Role, err = roleOf(r); err != nil {
		return response{}, err
	}
	if q.Type, err = serviceTypeOf(r); err != nil {
		return response{}, err
	}
	if q.Limit, err = limitOf(r); err != nil {
		return response{}, err
	}
	if q.Cursor, err = cursorOf(r); err != nil {
		return response{}, err
	}
	page, err := h.contacts.ListServices(ctx, r.caller, q)
	if err != nil {
		return response{}, err
	}
	items := make([]serviceJSON, 0, len(page.Services))
	for _, s := range page.Services {
		items = append(items, newService(s, r.caller))
	}
	return jsonResponse(http.StatusOK, pageJSON[serviceJSON]{Items: items, NextCursor: cursor(page.NextCursor)}), nil
}

func (h *Handler) listChanges(ctx context.Context, r *request) (response, error) {
	var q contact.ChangeQuery
	var err error
	if q.State, err = stateOf(r); err != nil {
		return response{}, err
	}
	if q.Limit, err = limitOf(r); err != nil {
		return response{}, err
	}
	if q.Cursor, err = cursorOf(r); err != nil {
		return response{}, err
	}
	page, err := h.contacts.ListChanges(ctx, r.caller, q)
	if err != nil {
		return response{}, err
	}
	return jsonResponse(http.StatusOK, pageJSON[changeJSON]{Items: newChanges(page.Changes), NextCursor: cursor(page.NextCursor)}), nil
}

func (h *Handler) getChange(ctx context.Context, r *request) (response, error) {
	id, err := changeIDOf(r)
	if err != nil {
		return response{}, err
	}
	c, err := h.contacts.GetChange(ctx, r.caller, id)
	if err != nil {
		return response{}, err
	}
	return jsonResponse(http.StatusOK, newChange(c)), nil
}

func (h *Handler) requestChanges(ctx context.Context, r *request) (response, error) {
	serviceID, err := serviceIDOf("serviceId", r.PathParameters["serviceId"])
	if err != nil {
		return response{}, err
	}
	fields, err := jsonBody(r, string(contact.Admin), string(contact.Tech), string(contact.Billing))
	if err != nil {
		return response{}, err
	}
	wanted := make(map[contact.Role]string, len(fields))
	for _, role := range contact.Roles { // in order, so that the first bad one is reported
		s, ok := fields[string(role)]
		if !ok {
			continue
		}
		// Checked here to the published form, as sent; the domain normalizes the case.
		if _, err := nicOf(string(role), s); err != nil {
			return response{}, err
		}
		wanted[role] = s
	}
	created, err := h.contacts.RequestChanges(ctx, r.caller, serviceID, wanted)
	if err != nil {
		return response{}, err
	}
	return jsonResponse(http.StatusCreated, itemsJSON[changeJSON]{Items: newChanges(created)}), nil
}

// decide serves accept (accept true) and refuse through the API: the caller must be the
// party the token was sent to.
func (h *Handler) decide(accept bool) func(context.Context, *request) (response, error) {
	return func(ctx context.Context, r *request) (response, error) {
		id, err := changeIDOf(r)
		if err != nil {
			return response{}, err
		}
		fields, err := jsonBody(r, "token")
		if err != nil {
			return response{}, err
		}
		token, err := tokenOf(fields["token"])
		if err != nil {
			return response{}, err
		}
		c, err := h.contacts.Decide(ctx, contact.Decision{ChangeID: id, Token: token, Caller: r.caller, Source: r.RequestContext.HTTP.SourceIP, Accept: accept})
		if err != nil {
			return response{}, err
		}
		return jsonResponse(http.StatusOK, newChange(c)), nil
	}
}

func (h *Handler) cancel(ctx context.Context, r *request) (response, error) {
	id, err := changeIDOf(r)
	if err != nil {
		return response{}, err
	}
	c, err := h.contacts.Cancel(ctx, r.caller, id)
	if err != nil {
		return response{}, err
	}
	return jsonResponse(http.StatusOK, newChange(c)), nil
}

func (h *Handler) resend(ctx context.Context, r *request) (response, error) {
	id, err := changeIDOf(r)
	if err != nil {
		return response{}, err
	}
	c, err := h.contacts.Resend(ctx, r.caller, id)
	if err != nil {
		return response{}, err
	}
	return jsonResponse(http.StatusAccepted, newChange(c)), nil
}

// jsonBody reads a body that is a JSON object of strings with keys among allowed.
func jsonBody(r *request, allowed ...string) (map[string]string, error) {
	if err := requireMediaType(r.APIGatewayV2HTTPRequest, "application/json"); err != nil {
		return nil, err
	}
	b, err := body(r.APIGatewayV2HTTPRequest)
	if err != nil {
		return nil, err
	}
	return decodeStrings(b, allowed...)
}
