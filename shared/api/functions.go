package api

import "fmt"

// Each function's endpoints are a table of its own, behind a constructor of its own: a
// function's main calls only its constructor, so that its binary links its endpoints and no
// other, and only the confirm function links the pages.

// NewList returns the handler of the list function: the caller's profile, services,
// requests and batches.
func NewList(contacts Contacts, opts Options) *Handler {
	return newHandler(FunctionList, contacts, opts, func(h *Handler) map[string]endpoint {
		return map[string]endpoint{
			"GET /me":                             {serve: h.profile},
			"GET /me/services":                    {serve: h.listServices},
			"GET /me/contact-changes":             {serve: h.listChanges},
			"GET /me/contact-changes/{id}":        {serve: h.getChange},
			"GET /me/contact-change-batches/{id}": {serve: h.getBatch},
		}
	})
}

// NewRequest returns the handler of the request function: new requests and batches.
func NewRequest(contacts Contacts, opts Options) *Handler {
	return newHandler(FunctionRequest, contacts, opts, func(h *Handler) map[string]endpoint {
		return map[string]endpoint{
			"POST /services/{serviceId}/contact-changes": {serve: h.requestChanges},
			"POST /me/contact-change-batches":            {serve: h.requestBatch},
		}
	})
}

// NewConfirm returns the handler of the confirm function: the parties' answers through the
// API and through the emailed link's pages, and cancellations.
func NewConfirm(contacts Contacts, opts Options) *Handler {
	return newHandler(FunctionConfirm, contacts, opts, func(h *Handler) map[string]endpoint {
		return map[string]endpoint{
			"POST /me/contact-changes/{id}/accept":        {serve: h.decide(true)},
			"POST /me/contact-changes/{id}/refuse":        {serve: h.decide(false)},
			"POST /me/contact-changes/{id}/cancel":        {serve: h.cancel},
			"GET /contact-changes/{id}/confirm":           {page: h.errorPage, serve: h.confirmPage},
			"POST /contact-changes/{id}/confirm":          {page: h.errorPage, serve: h.confirmDecision},
			"POST /me/contact-change-batches/{id}/accept": {serve: h.decideBatch(true)},
			"POST /me/contact-change-batches/{id}/refuse": {serve: h.decideBatch(false)},
			"GET /contact-change-batches/{id}/confirm":    {page: h.errorPage, serve: h.batchConfirmPage},
			"POST /contact-change-batches/{id}/confirm":   {page: h.errorPage, serve: h.batchConfirmDecision},
		}
	})
}

// NewResend returns the handler of the resend function: new tokens for a request or a batch.
func NewResend(contacts Contacts, opts Options) *Handler {
	return newHandler(FunctionResend, contacts, opts, func(h *Handler) map[string]endpoint {
		return map[string]endpoint{
			"POST /me/contact-changes/{id}/resend":        {serve: h.resend},
			"POST /me/contact-change-batches/{id}/resend": {serve: h.resendBatch},
		}
	})
}

// NewOperator returns the handler of the operator API.
func NewOperator(contacts Contacts, opts Options) *Handler {
	return newHandler(FunctionOperator, contacts, opts, func(h *Handler) map[string]endpoint {
		return map[string]endpoint{
			"PUT /operator/accounts/{nic}":               {serve: h.putAccount},
			"PATCH /operator/accounts/{nic}":             {serve: h.patchAccount},
			"PUT /operator/services/{serviceId}":         {serve: h.putService},
			"DELETE /operator/services/{serviceId}":      {serve: h.deleteService},
			"GET /operator/contact-changes":              {serve: h.findChanges},
			"GET /operator/contact-changes/{id}":         {serve: h.changeByID},
			"POST /operator/contact-changes/{id}/cancel": {serve: h.cancelFor},
			"POST /operator/contact-changes/{id}/resend": {serve: h.resendFor},
		}
	})
}

// New returns the handler of the function named function (one of the Function*
// constants), for the local stack and the tests, which serve every function in one process.
// A function's main calls its own constructor instead, not to link the others: a switch,
// unlike a package-level map of constructors, links them only in the programs that call New.
func New(function string, contacts Contacts, opts Options) *Handler {
	switch function {
	case FunctionList:
		return NewList(contacts, opts)
	case FunctionRequest:
		return NewRequest(contacts, opts)
	case FunctionConfirm:
		return NewConfirm(contacts, opts)
	case FunctionResend:
		return NewResend(contacts, opts)
	case FunctionOperator:
		return NewOperator(contacts, opts)
	}
	panic(fmt.Sprintf("api: no function %q", function))
}
