package ses

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/servicecontacts/servicecontacts/shared/contact"
	"github.com/servicecontacts/servicecontacts/shared/mail"
)

// fakeSES answers SendEmail with a function.
type fakeSES struct {
	sendEmail func(*sesv2.SendEmailInput) (*sesv2.SendEmailOutput, error)
}

func (f fakeSES) SendEmail(_ context.Context, in *sesv2.SendEmailInput, _ ...func(*sesv2.Options)) (*sesv2.SendEmailOutput, error) {
	return f.sendEmail(in)
}

var sesTypes = cmpopts.IgnoreUnexported(sesv2.SendEmailInput{}, types.Destination{}, types.EmailContent{}, types.Message{}, types.Body{}, types.Content{}, types.MessageTag{})

func TestSESSendInput(t *testing.T) {
	msg := mail.Message{To: "newbie@example.com", Subject: "Confirmez : é", Text: "plain text", HTML: "<p>html</p>",
		NIC: "nn44444-ovh", RequestID: "9f2c4e1a7b3d4c5e8f9a0b1c2d3e4f50"}
	content := &types.EmailContent{Simple: &types.Message{
		Subject: &types.Content{Data: aws.String("Confirmez : é"), Charset: aws.String("UTF-8")},
		Body: &types.Body{
			Text: &types.Content{Data: aws.String("plain text"), Charset: aws.String("UTF-8")},
			Html: &types.Content{Data: aws.String("<p>html</p>"), Charset: aws.String("UTF-8")},
		},
	}}
	tag := func(name, value string) types.MessageTag {
		return types.MessageTag{Name: aws.String(name), Value: aws.String(value)}
	}
	tags := []types.MessageTag{tag("nic", "nn44444-ovh"), tag("request", "9f2c4e1a7b3d4c5e8f9a0b1c2d3e4f50")}
	tests := []struct {
		name             string
		edit             func(*mail.Message)
		configurationSet string
		want             *sesv2.SendEmailInput
	}{
		{
			name:             "with configuration set",
			configurationSet: "contacts-events",
			want: &sesv2.SendEmailInput{
				FromEmailAddress:     aws.String("no-reply@contacts.example.com"),
				Destination:          &types.Destination{ToAddresses: []string{"newbie@example.com"}},
				Content:              content,
				EmailTags:            tags,
				ConfigurationSetName: aws.String("contacts-events"),
			},
		},
		{
			name: "without configuration set",
			want: &sesv2.SendEmailInput{
				FromEmailAddress: aws.String("no-reply@contacts.example.com"),
				Destination:      &types.Destination{ToAddresses: []string{"newbie@example.com"}},
				Content:          content,
				EmailTags:        tags,
			},
		},
		{
			name: "without a request, only the nic tag",
			edit: func(m *mail.Message) { m.RequestID = "" },
			want: &sesv2.SendEmailInput{
				FromEmailAddress: aws.String("no-reply@contacts.example.com"),
				Destination:      &types.Destination{ToAddresses: []string{"newbie@example.com"}},
				Content:          content,
				EmailTags:        []types.MessageTag{tag("nic", "nn44444-ovh")},
			},
		},
		{
			name: "untagged",
			edit: func(m *mail.Message) { m.NIC, m.RequestID = "", "" },
			want: &sesv2.SendEmailInput{
				FromEmailAddress: aws.String("no-reply@contacts.example.com"),
				Destination:      &types.Destination{ToAddresses: []string{"newbie@example.com"}},
				Content:          content,
			},
		},
		{
			name: "values outside the characters SES allows are encoded",
			edit: func(m *mail.Message) { m.NIC, m.RequestID = "nn 44444.ovh", "id_1" },
			want: &sesv2.SendEmailInput{
				FromEmailAddress: aws.String("no-reply@contacts.example.com"),
				Destination:      &types.Destination{ToAddresses: []string{"newbie@example.com"}},
				Content:          content,
				EmailTags:        []types.MessageTag{tag("nic", "nn_2044444_2eovh"), tag("request", "id_5f1")},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := msg
			if tt.edit != nil {
				tt.edit(&m)
			}
			var got []*sesv2.SendEmailInput
			ses := New(fakeSES{func(in *sesv2.SendEmailInput) (*sesv2.SendEmailOutput, error) {
				got = append(got, in)
				return &sesv2.SendEmailOutput{MessageId: aws.String("0100-abc")}, nil
			}}, "no-reply@contacts.example.com", tt.configurationSet)
			if err := ses.Send(context.Background(), m); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]*sesv2.SendEmailInput{tt.want}, got, sesTypes); diff != "" {
				t.Errorf("SendEmail input (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSESSendErrors(t *testing.T) {
	tests := []struct {
		name       string
		err        error
		wantKind   error // contact kind the error must wrap, if any
		wantCode   string
		wantReject bool
	}{
		{name: "too many requests", err: &types.TooManyRequestsException{Message: aws.String("slow down")}, wantKind: contact.ErrUnavailable, wantCode: "mail_throttled"},
		{name: "limit exceeded", err: &types.LimitExceededException{Message: aws.String("quota")}, wantKind: contact.ErrUnavailable, wantCode: "mail_throttled"},
		{name: "sending paused", err: &types.SendingPausedException{Message: aws.String("paused")}, wantKind: contact.ErrUnavailable, wantCode: "mail_throttled"},
		{name: "generic throttling", err: &smithy.GenericAPIError{Code: "Throttling", Message: "Rate exceeded"}, wantKind: contact.ErrUnavailable, wantCode: "mail_throttled"},
		{name: "message rejected", err: &types.MessageRejected{Message: aws.String("Email address is not verified.")}, wantReject: true},
		{name: "bad request", err: &types.BadRequestException{Message: aws.String("invalid")}, wantReject: true},
		{name: "mail from not verified", err: &types.MailFromDomainNotVerifiedException{Message: aws.String("mx")}, wantReject: true},
		{name: "account suspended", err: &types.AccountSuspendedException{Message: aws.String("suspended")}, wantReject: true},
		{name: "other API error", err: &types.NotFoundException{Message: aws.String("no such configuration set")}},
		{name: "network error", err: errors.New("dial tcp: connection refused")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ses := New(fakeSES{func(*sesv2.SendEmailInput) (*sesv2.SendEmailOutput, error) {
				return nil, tt.err
			}}, "no-reply@contacts.example.com", "")
			err := ses.Send(context.Background(), mail.Message{To: "a@example.com", Subject: "s", Text: "secret body", HTML: "<p>secret body</p>"})
			if err == nil {
				t.Fatal("Send succeeded, want an error")
			}
			if !errors.Is(err, tt.err) {
				t.Errorf("error %v does not wrap the SES error %v", err, tt.err)
			}
			var domainErr *contact.Error
			isDomain := errors.As(err, &domainErr)
			if tt.wantKind != nil {
				if !isDomain || !errors.Is(err, tt.wantKind) || domainErr.Code != tt.wantCode {
					t.Errorf("error %v: want a %q error of kind %v", err, tt.wantCode, tt.wantKind)
				}
			} else if isDomain {
				t.Errorf("error %v wraps a domain error, want none", err)
			}
			if got := errors.Is(err, ErrRejected); got != tt.wantReject {
				t.Errorf("errors.Is(%v, ErrRejected) = %v, want %v", err, got, tt.wantReject)
			}
			if strings.Contains(err.Error(), "secret body") {
				t.Errorf("error %q carries the message body", err)
			}
		})
	}
}
