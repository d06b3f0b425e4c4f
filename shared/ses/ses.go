// Package ses is the Amazon SES v2 adapter of the emails: it sends the messages package mail
// renders. It is a package of its own so that the functions that send nothing (and the
// bounce handler, which reads mail's tags) do not link the SES client.
package ses

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/aws/smithy-go"

	"github.com/servicecontacts/servicecontacts/shared/contact"
	"github.com/servicecontacts/servicecontacts/shared/mail"
)

// API is the part of the SES v2 client that Sender uses.
type API interface {
	SendEmail(ctx context.Context, in *sesv2.SendEmailInput, optFns ...func(*sesv2.Options)) (*sesv2.SendEmailOutput, error)
}

// ErrRejected means SES refused to send a message and sending it again will not help: the
// content or address was rejected, or the sender identity or account cannot send.
var ErrRejected = errors.New("email rejected")

// Sender sends messages through Amazon SES v2.
type Sender struct {
	api              API
	from             string
	configurationSet string
}

var _ mail.Sender = (*Sender)(nil)

// New returns a Sender that sends from the verified address from. configurationSet names
// the SES configuration set to send with (for event publishing); empty for none.
func New(api API, from, configurationSet string) *Sender {
	return &Sender{api: api, from: from, configurationSet: configurationSet}
}

// Send sends m as a simple message with a text and an HTML body, tagged with m.Tags() so
// that SES's bounce and complaint events name the recipient's account and the request.
//
// A throttled or paused account gives an error wrapping a *contact.Error of kind
// contact.ErrUnavailable (code "mail_throttled"); a message SES will never send gives an
// error wrapping ErrRejected.
func (s *Sender) Send(ctx context.Context, m mail.Message) error {
	in := &sesv2.SendEmailInput{
		FromEmailAddress: aws.String(s.from),
		Destination:      &types.Destination{ToAddresses: []string{m.To}},
		Content: &types.EmailContent{
			Simple: &types.Message{
				Subject: utf8(m.Subject),
				Body:    &types.Body{Text: utf8(m.Text), Html: utf8(m.HTML)},
			},
		},
		EmailTags: emailTags(m),
	}
	if s.configurationSet != "" {
		in.ConfigurationSetName = aws.String(s.configurationSet)
	}
	if _, err := s.api.SendEmail(ctx, in); err != nil {
		return fmt.Errorf("ses send email: %w", classify(err))
	}
	return nil
}

// emailTags returns m's tags as SES takes them, in the order of their names.
func emailTags(m mail.Message) []types.MessageTag {
	tags := m.Tags()
	out := make([]types.MessageTag, 0, len(tags))
	for _, name := range slices.Sorted(maps.Keys(tags)) {
		out = append(out, types.MessageTag{Name: aws.String(name), Value: aws.String(tags[name])})
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

func utf8(s string) *types.Content {
	return &types.Content{Data: aws.String(s), Charset: aws.String("UTF-8")}
}

// The SES error codes that say "not now" rather than "never".
var throttleCodes = map[string]bool{
	"Throttling":               true,
	"ThrottlingException":      true,
	"TooManyRequestsException": true,
	"LimitExceededException":   true,
	"SendingPausedException":   true,
}

// The SES error codes that say the message will never be sent as it is.
var rejectCodes = map[string]bool{
	"MessageRejected":                    true,
	"BadRequestException":                true,
	"MailFromDomainNotVerifiedException": true,
	"AccountSuspendedException":          true,
}

// classify wraps err with the kind of failure callers act on, keeping err in the chain.
func classify(err error) error {
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) {
		return err
	}
	switch code := apiErr.ErrorCode(); {
	case throttleCodes[code]:
		return fmt.Errorf("%w: %w", &contact.Error{
			Kind:    contact.ErrUnavailable,
			Code:    "mail_throttled",
			Message: "email sending is throttled or paused (" + code + ")",
		}, err)
	case rejectCodes[code]:
		return fmt.Errorf("%w (%s): %w", ErrRejected, code, err)
	}
	return err
}
