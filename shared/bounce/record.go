package bounce

import (
	"time"

	"github.com/servicecontacts/servicecontacts/shared/mail"
)

// Where SES's email events come from on EventBridge, and the detail-types of the two that
// say an address cannot be mailed.
const (
	Source              = "aws.ses"
	DetailTypeBounce    = "Email Bounced"
	DetailTypeComplaint = "Email Complaint Received"
)

// The values of record.EventType, bounceObject.BounceType and
// complaintObject.ComplaintFeedbackType this package tells apart.
const (
	eventBounce    = "Bounce"
	eventComplaint = "Complaint"

	bouncePermanent = "Permanent"
	bounceTransient = "Transient"

	feedbackNotSpam = "not-spam"
)

// record is SES's event record, the detail of the EventBridge event, with the fields this
// package reads or writes. SES documents it in "Contents of event data that Amazon SES
// publishes"; fields are added over time, and unknown ones are ignored.
type record struct {
	EventType string           `json:"eventType"`
	Bounce    *bounceObject    `json:"bounce,omitempty"`
	Complaint *complaintObject `json:"complaint,omitempty"`
	Mail      mailObject       `json:"mail"`
}

// mailObject describes the email the event is about.
type mailObject struct {
	Timestamp        sesTime             `json:"timestamp"`
	Source           string              `json:"source,omitempty"`
	SendingAccountID string              `json:"sendingAccountId,omitempty"`
	MessageID        string              `json:"messageId"`
	Destination      []string            `json:"destination"`
	HeadersTruncated bool                `json:"headersTruncated"`
	Tags             map[string][]string `json:"tags,omitempty"`
}

// tag returns the first value of the message tag name, decoded as mail.TagValue encoded
// it, or "" when the email has no such tag or its value is not one mail encoded.
func (m mailObject) tag(name string) string {
	v := m.Tags[name]
	if len(v) == 0 {
		return ""
	}
	s, err := mail.ParseTagValue(v[0])
	if err != nil {
		return ""
	}
	return s
}

type bounceObject struct {
	BounceType        string      `json:"bounceType"`
	BounceSubType     string      `json:"bounceSubType"`
	BouncedRecipients []recipient `json:"bouncedRecipients"`
	Timestamp         sesTime     `json:"timestamp"`
	FeedbackID        string      `json:"feedbackId"`
	ReportingMTA      string      `json:"reportingMTA,omitempty"`
}

type complaintObject struct {
	ComplainedRecipients  []recipient `json:"complainedRecipients"`
	Timestamp             sesTime     `json:"timestamp"`
	FeedbackID            string      `json:"feedbackId"`
	ComplaintSubType      *string     `json:"complaintSubType,omitempty"`
	UserAgent             string      `json:"userAgent,omitempty"`
	ComplaintFeedbackType string      `json:"complaintFeedbackType,omitempty"`
}

// recipient is one address a bounce or a complaint is about; the DSN fields come only with
// bounces that carried a delivery status notification.
type recipient struct {
	EmailAddress   string `json:"emailAddress"`
	Action         string `json:"action,omitempty"`
	Status         string `json:"status,omitempty"`
	DiagnosticCode string `json:"diagnosticCode,omitempty"`
}

// addresses lists the recipients' addresses, skipping the empty ones.
func addresses(rs []recipient) []string {
	var out []string
	for _, r := range rs {
		if r.EmailAddress != "" {
			out = append(out, r.EmailAddress)
		}
	}
	return out
}

// sesTime is a time as SES writes it: UTC, with milliseconds ("2025-03-01T09:31:01.669Z").
type sesTime struct{ time.Time }

func (t sesTime) MarshalJSON() ([]byte, error) {
	return []byte(`"` + t.UTC().Format("2006-01-02T15:04:05.000Z") + `"`), nil
}
