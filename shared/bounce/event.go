package bounce

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/servicecontacts/servicecontacts/shared/mail"
)

// Where the events Event builds say they come from: the local stack's account and region,
// and no real configuration set.
const (
	localAccount          = "000000000000"
	localRegion           = "local"
	localConfigurationSet = "local"
)

// Event returns the event EventBridge delivers when SES reports a hard bounce (the address
// does not exist) of m, sent at at: the event's mail.tags hold m's tags as SES publishes
// them, and m.To is the bounced recipient. The local mail catcher sends it for the
// addresses it bounces.
func Event(m mail.Message, at time.Time) json.RawMessage {
	return event(m, at, true)
}

// event builds the event of a bounce of m at at: a hard bounce when permanent, otherwise a
// soft bounce SES gave up retrying (the mailbox is full).
func event(m mail.Message, at time.Time, permanent bool) json.RawMessage {
	// SES's timestamps have milliseconds. A bounce comes after its email, so round up: a
	// bounce stamped before the email was sent would read as one of an earlier email.
	if t := at.UTC().Truncate(time.Millisecond); t.Before(at) {
		at = t.Add(time.Millisecond)
	} else {
		at = t
	}
	b := &bounceObject{
		BounceType:    bouncePermanent,
		BounceSubType: "General",
		BouncedRecipients: []recipient{{
			EmailAddress: m.To, Action: "failed", Status: "5.1.1", DiagnosticCode: "smtp; 550 5.1.1 user unknown",
		}},
		Timestamp:    sesTime{at},
		FeedbackID:   randomID(),
		ReportingMTA: "dsn; mailbox.local",
	}
	if !permanent {
		b.BounceType, b.BounceSubType = bounceTransient, "MailboxFull"
		b.BouncedRecipients[0].Status, b.BouncedRecipients[0].DiagnosticCode = "5.2.2", "smtp; 552 5.2.2 mailbox full"
	}
	tags := map[string][]string{"ses:configuration-set": {localConfigurationSet}}
	for name, value := range m.Tags() {
		tags[name] = []string{value}
	}
	detail, err := json.Marshal(record{
		EventType: eventBounce,
		Bounce:    b,
		Mail: mailObject{
			Timestamp:        sesTime{at},
			SendingAccountID: localAccount,
			MessageID:        randomID(),
			Destination:      []string{m.To},
			Tags:             tags,
		},
	})
	if err != nil {
		panic(fmt.Sprintf("encode an SES bounce record: %v", err)) // plain strings and times always encode
	}
	e, err := json.Marshal(events.EventBridgeEvent{
		Version:    "0",
		ID:         randomID(),
		DetailType: DetailTypeBounce,
		Source:     Source,
		AccountID:  localAccount,
		Time:       at.Truncate(time.Second),
		Region:     localRegion,
		Resources:  []string{"arn:aws:ses:" + localRegion + ":" + localAccount + ":configuration-set/" + localConfigurationSet},
		Detail:     detail,
	})
	if err != nil {
		panic(fmt.Sprintf("encode an EventBridge event: %v", err))
	}
	return e
}

// randomID returns a fresh id in the 8-4-4-4-12 form EventBridge gives its events.
func randomID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
