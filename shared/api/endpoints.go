package api

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/servicecontacts/servicecontacts/shared/contact"
)

// The JSON endpoints. Each decodes its input, calls one use case and encodes the result;
// the domain validates roles, states, limits, cursors and NIC handles.

type response = events.APIGatewayV2HTTPResponse

func (h *Handler) listServices(ctx context.Context, r *request) (response, error) {
	limit, err := limitOf(r)
	if err != nil {
		return response{}, err
	}
	q := contact.ServiceQuery{
		Role:   contact.Role(r.QueryStringParameters["role"]),
		Type:   r.QueryStringParameters["type"],
		Limit:  limit,
		Cursor: r.QueryStringParameters["cursor"],
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
	limit, err := limitOf(r)
	if err != nil {
		return response{}, err
	}
	q := contact.ChangeQuery{
		State:  contact.State(r.QueryStringParameters["state"]),
		Limit:  limit,
		Cursor: r.QueryStringParameters["cursor"],
	}
	page, err := h.contacts.ListChanges(ctx, r.caller, q)
	if err != nil {
		return response{}, err
	}
	return jsonResponse(http.StatusOK, pageJSON[changeJSON]{Items: newChanges(page.Changes), NextCursor: cursor(page.NextCursor)}), nil
}

func (h *Handler) getChange(ctx context.Context, r *request) (response, error) {
	c, err := h.contacts.GetChange(ctx, r.caller, r.PathParameters["id"])
	if err != nil {
		return response{}, err
	}
	return jsonResponse(http.StatusOK, newChange(c)), nil
}

func (h *Handler) requestChanges(ctx context.Context, r *request) (response, error) {
	fields, err := jsonBody(r, string(contact.Admin), string(contact.Tech), string(contact.Billing))
	if err != nil {
		return response{}, err
	}
	wanted := make(map[contact.Role]string, len(fields))
	for role, nic := range fields {
		wanted[contact.Role(role)] = nic
	}
	created, err := h.contacts.RequestChanges(ctx, r.caller, r.PathParameters["serviceId"], wanted)
	if err != nil {
		return response{}, err
	}
	return jsonResponse(http.StatusCreated, itemsJSON[changeJSON]{Items: newChanges(created)}), nil
}

// decide serves accept (accept true) and refuse through the API: the caller must be the
// party the token was sent to.
func (h *Handler) decide(accept bool) func(context.Context, *request) (response, error) {
	return func(ctx context.Context, r *request) (response, error) {
		fields, err := jsonBody(r, "token")
		if err != nil {
			return response{}, err
		}
		token := strings.TrimSpace(fields["token"])
		if token == "" {
			return response{}, invalid("missing_token", "the body must hold the confirmation token: {\"token\": \"...\"}")
		}
		c, err := h.contacts.Decide(ctx, contact.Decision{ChangeID: r.PathParameters["id"], Token: token, Caller: r.caller, Accept: accept})
		if err != nil {
			return response{}, err
		}
		return jsonResponse(http.StatusOK, newChange(c)), nil
	}
}

func (h *Handler) cancel(ctx context.Context, r *request) (response, error) {
	c, err := h.contacts.Cancel(ctx, r.caller, r.PathParameters["id"])
	if err != nil {
		return response{}, err
	}
	return jsonResponse(http.StatusOK, newChange(c)), nil
}

func (h *Handler) resend(ctx context.Context, r *request) (response, error) {
	c, err := h.contacts.Resend(ctx, r.caller, r.PathParameters["id"])
	if err != nil {
		return response{}, err
	}
	return jsonResponse(http.StatusAccepted, newChange(c)), nil
}

// limitOf parses the limit query parameter; absent is 0, the domain's default page size.
func limitOf(r *request) (int, error) {
	s, ok := r.QueryStringParameters["limit"]
	if !ok || s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, invalid("invalid_limit", "limit must be a whole number, not %.20q", s)
	}
	return n, nil
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
