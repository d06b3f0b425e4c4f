package api

import (
	"context"
	"fmt"
	"net/http"

	"github.com/servicecontacts/servicecontacts/shared/contact"
)

// The page behind a batch's emailed link: every request of the batch that needs the reader,
// with Accept all and Refuse all. As for a request's page, GET changes nothing.

func (h *Handler) batchConfirmPage(ctx context.Context, r *request) (response, error) {
	r.lang = preferredLanguage(header(r.APIGatewayV2HTTPRequest, "Accept-Language"))
	id, err := batchIDOf(r)
	if err != nil {
		return response{}, err
	}
	token, err := tokenOf(r.QueryStringParameters["token"])
	if err != nil {
		return response{}, err
	}
	b, changes, account, err := h.contacts.LookupBatch(ctx, id, token, r.RequestContext.HTTP.SourceIP)
	if err != nil {
		return response{}, err
	}
	if l, ok := supported(string(account.Language)); ok {
		r.lang = l
	}
	d := batchPage(r.lang, b, changes)
	waiting := 0
	for _, c := range changes {
		if p, ok := c.Party(account.NIC); ok && p.Status == contact.Waiting && c.State == contact.Pending {
			waiting++
		}
	}
	if waiting == 0 {
		d.Notice = d.T.BatchNothingLeft
	} else {
		d.CanAnswer, d.Token = true, token
		d.Question = fmt.Sprintf(d.T.BatchQuestion, account.NIC)
	}
	return htmlResponse(http.StatusOK, d), nil
}

func (h *Handler) batchConfirmDecision(ctx context.Context, r *request) (response, error) {
	r.lang = preferredLanguage(header(r.APIGatewayV2HTTPRequest, "Accept-Language"))
	id, err := batchIDOf(r)
	if err != nil {
		return response{}, err
	}
	token, accept, err := decisionForm(r)
	if err != nil {
		return response{}, err
	}
	b, answers, err := h.contacts.DecideBatch(ctx, contact.BatchDecision{BatchID: id, Token: token, Source: r.RequestContext.HTTP.SourceIP, Accept: accept})
	if err != nil {
		return response{}, err
	}
	changes := make([]contact.Change, 0, len(answers))
	answered := 0
	for _, a := range answers {
		changes = append(changes, a.Change)
		if a.Err == nil {
			answered++
		}
	}
	d := batchPage(r.lang, b, changes)
	d.Title = d.T.ResultTitle
	d.Lines = []string{fmt.Sprintf(d.T.BatchDone, answered)}
	for i, a := range answers {
		if a.Err != nil {
			d.Rows[i].State += " (" + d.T.NotAnswered + ")"
		}
	}
	return htmlResponse(http.StatusOK, d), nil
}

// batchPage fills the fields that describe the requests of b shown to the reader, in lang.
func batchPage(lang contact.Language, b contact.Batch, changes []contact.Change) pageData {
	t := languages[lang]
	d := pageData{Page: "batch", Lang: lang, T: t, Title: t.BatchTitle, ExpiresAt: pageTime(b.ExpiresAt)}
	d.Summary = fmt.Sprintf(t.BatchSummary, b.RequestedBy, len(changes))
	for _, c := range changes {
		d.Rows = append(d.Rows, batchRow{
			ServiceID: c.ServiceID, ServiceType: c.ServiceType, Role: label(t.Roles, c.Role),
			From: c.From, To: c.To, State: label(t.States, c.State),
		})
	}
	return d
}
