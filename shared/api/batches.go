package api

import (
	"context"
	"net/http"

	"github.com/servicecontacts/servicecontacts/shared/contact"
)

// The batch endpoints: one change over many services, confirmed once per party.

// batchJSON is a batch: each service with its requests or why it has none.
type batchJSON struct {
	ID          string           `json:"id"`
	RequestedBy string           `json:"requestedBy"`
	CreatedAt   string           `json:"createdAt"`
	ExpiresAt   string           `json:"expiresAt"`
	Items       []batchItemJSON  `json:"items"`
	Parties     []batchPartyJSON `json:"parties"`
}

// batchItemJSON is one service of a batch: Created or Error is set.
type batchItemJSON struct {
	ServiceID string       `json:"serviceId"`
	Created   []changeJSON `json:"created,omitempty"`
	Error     *errorDetail `json:"error,omitempty"`
}

type batchPartyJSON struct {
	NIC     string   `json:"nic"`
	Changes []string `json:"changes"`
}

// createdBatchJSON is the answer to a new batch.
type createdBatchJSON struct {
	ID    string          `json:"id"`
	Items []batchItemJSON `json:"items"`
}

// batchAnswersJSON is what a batch decision did to each request that needed the caller.
type batchAnswersJSON struct {
	ID    string            `json:"id"`
	Items []batchAnswerJSON `json:"items"`
}

type batchAnswerJSON struct {
	ChangeID  string        `json:"changeId"`
	ServiceID string        `json:"serviceId"`
	Role      contact.Role  `json:"role"`
	State     contact.State `json:"state"`
	Error     *errorDetail  `json:"error,omitempty"`
}

func newBatchItems(b contact.Batch, changes []contact.Change) []batchItemJSON {
	byID := make(map[string]contact.Change, len(changes))
	for _, c := range changes {
		byID[c.ID] = c
	}
	items := make([]batchItemJSON, 0, len(b.Items))
	for _, it := range b.Items {
		out := batchItemJSON{ServiceID: it.ServiceID}
		if it.Error != nil {
			out.Error = &errorDetail{Code: it.Error.Code, Message: it.Error.Message}
		}
		for _, id := range it.Changes {
			if c, ok := byID[id]; ok {
				out.Created = append(out.Created, newChange(c))
			}
		}
		if out.Error == nil && len(out.Created) == 0 {
			// Its requests were written in the batch but not created: a crash in between.
			out.Error = &errorDetail{Code: "unavailable", Message: "the requests for this service could not be created; nothing was changed"}
		}
		items = append(items, out)
	}
	return items
}

func newBatch(b contact.Batch, changes []contact.Change) batchJSON {
	out := batchJSON{
		ID: b.ID, RequestedBy: b.RequestedBy, CreatedAt: timestamp(b.CreatedAt), ExpiresAt: timestamp(b.ExpiresAt),
		Items: newBatchItems(b, changes), Parties: make([]batchPartyJSON, 0, len(b.Parties)),
	}
	for _, p := range b.Parties {
		out.Parties = append(out.Parties, batchPartyJSON{NIC: p.NIC, Changes: nonNil(p.Changes)})
	}
	return out
}

// batchIDOf returns the batch id of the path, or the 404 an unknown id gets: a batch id has
// the form of a request id.
func batchIDOf(r *request) (string, error) {
	id := r.PathParameters["id"]
	if len(id) != 32 || !changeIDPattern().MatchString(id) {
		return "", contact.Errorf(contact.ErrNotFound, "batch_not_found", "no such batch: a batch id is 32 lowercase hex digits")
	}
	return id, nil
}

func (h *Handler) requestBatch(ctx context.Context, r *request) (response, error) {
	if err := requireMediaType(r.APIGatewayV2HTTPRequest, "application/json"); err != nil {
		return response{}, err
	}
	b, err := body(r.APIGatewayV2HTTPRequest)
	if err != nil {
		return response{}, err
	}
	fields, err := decodeObject(b, field{"services", stringsField},
		field{string(contact.Admin), stringField}, field{string(contact.Tech), stringField}, field{string(contact.Billing), stringField})
	if err != nil {
		return response{}, err
	}
	services, _ := fields["services"].([]string)
	if _, ok := fields["services"]; !ok {
		return response{}, invalid("missing_services", "name the services of the batch in \"services\"")
	}
	for _, id := range services {
		if _, err := serviceIDOf("each of services", id); err != nil {
			return response{}, err
		}
	}
	wanted := map[contact.Role]string{}
	for _, role := range contact.Roles {
		s, ok := fields[string(role)].(string)
		if !ok {
			continue
		}
		if _, err := nicOf(string(role), s); err != nil {
			return response{}, err
		}
		wanted[role] = s
	}
	batch, created, err := h.contacts.RequestBatch(ctx, r.caller, services, wanted)
	if err != nil {
		return response{}, err
	}
	return jsonResponse(http.StatusCreated, createdBatchJSON{ID: batch.ID, Items: newBatchItems(batch, created)}), nil
}

func (h *Handler) getBatch(ctx context.Context, r *request) (response, error) {
	id, err := batchIDOf(r)
	if err != nil {
		return response{}, err
	}
	b, changes, err := h.contacts.GetBatch(ctx, r.caller, id)
	if err != nil {
		return response{}, err
	}
	return jsonResponse(http.StatusOK, newBatch(b, changes)), nil
}

// decideBatch serves accept (accept true) and refuse of a whole batch through the API.
func (h *Handler) decideBatch(accept bool) func(context.Context, *request) (response, error) {
	return func(ctx context.Context, r *request) (response, error) {
		id, err := batchIDOf(r)
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
		b, answers, err := h.contacts.DecideBatch(ctx, contact.BatchDecision{BatchID: id, Token: token, Caller: r.caller, Source: r.RequestContext.HTTP.SourceIP, Accept: accept})
		if err != nil {
			return response{}, err
		}
		return jsonResponse(http.StatusOK, newBatchAnswers(b, answers)), nil
	}
}

func newBatchAnswers(b contact.Batch, answers []contact.BatchAnswer) batchAnswersJSON {
	out := batchAnswersJSON{ID: b.ID, Items: make([]batchAnswerJSON, 0, len(answers))}
	for _, a := range answers {
		item := batchAnswerJSON{ChangeID: a.Change.ID, ServiceID: a.Change.ServiceID, Role: a.Change.Role, State: a.Change.State}
		if a.Err != nil {
			item.Error = &errorDetail{Code: a.Err.Code, Message: a.Err.Message}
		}
		out.Items = append(out.Items, item)
	}
	return out
}

func (h *Handler) resendBatch(ctx context.Context, r *request) (response, error) {
	id, err := batchIDOf(r)
	if err != nil {
		return response{}, err
	}
	b, changes, err := h.contacts.ResendBatch(ctx, r.caller, id)
	if err != nil {
		return response{}, err
	}
	return jsonResponse(http.StatusAccepted, newBatch(b, changes)), nil
}
