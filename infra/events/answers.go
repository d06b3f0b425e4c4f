package events

// The request id and the token the event files carry. Replayed, events on a request act on
// one the replay creates: these are replaced by its id and a party's real token.
const (
	SampleID    = "6f1c2a9e0b7d4c3f8e5a1b2c3d4e5f60"
	SampleToken = "Zk3q9XwR2mT7bV1cN8pL4sJ6dF0gA5eK2uY3hQ7oI9w"
	// SampleBatchID is replaced, with SampleToken, by a batch the replay creates.
	SampleBatchID = "7a2d3b8f1c9e4d6a8b0c2e4f6a8b0c2d"
)

// The request the events act on, on the demo seed (infra/local/seed.json): example.com's
// admin asks for dana (ww44444-ovh) as tech. request-contact-changes.json and
// request-contact-change-batch.json create it.
const (
	Requester = "xx11111-ovh"
	NewTech   = "ww44444-ovh"
	NewEmail  = "dana@example.com"
	ServiceID = "example.com"
)

// Answers is the status each API event file must answer, replayed on the demo seed with a
// fresh request (or batch) where it acts on one.
var Answers = map[string]int{
	"get-profile.json":             200,
	"list-services.json":           200,
	"list-contact-changes.json":    200,
	"get-contact-change.json":      200,
	"request-contact-changes.json": 201,
	"accept-contact-change.json":   200,
	"refuse-contact-change.json":   200,
	"cancel-contact-change.json":   200,
	"resend-contact-change.json":   202,
	"confirmation-page.json":       200,
	"confirmation-decision.json":   200,

	"request-contact-change-batch.json": 201,
	"get-contact-change-batch.json":     200,
	"accept-contact-change-batch.json":  200,
	"refuse-contact-change-batch.json":  200,
	"resend-contact-change-batch.json":  202,
	"batch-confirmation-page.json":      200,
	"batch-confirmation-decision.json":  200,

	"operator-put-account.json":           200,
	"operator-patch-account.json":         200,
	"operator-put-service.json":           200,
	"operator-delete-service.json":        204,
	"operator-find-contact-changes.json":  200,
	"operator-get-contact-change.json":    200,
	"operator-cancel-contact-change.json": 200,
	"operator-resend-contact-change.json": 202,
}

// SESEvents are the EventBridge events SES publishes, for the bounce function; they name
// the request the replay opens (SampleID) and its new tech contact.
var SESEvents = []string{"ses-email-bounced.json"}
