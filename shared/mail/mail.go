// Package mail turns contact-change notices into emails and sends them: the Notifier renders
// a notice in the recipient's language, and a Sender delivers it (SES on AWS, the local mail
// catcher in the local stack).
package mail

import (
	"context"
	"fmt"
	"strconv"
	"strings"
)

// Message is one email, ready to send.
type Message struct {
	To      string
	Subject string
	Text    string
	HTML    string
	// NIC is the recipient's NIC handle and RequestID the request the email is about. They
	// travel with the email as message tags (see Tags): SES publishes them back with its
	// bounce and complaint events, so that a bounce can be traced to the account and the
	// request without the address.
	NIC       string
	RequestID string
}

// Sender delivers messages.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// The names of the message tags every email carries.
const (
	TagNIC     = "nic"     // Message.NIC
	TagRequest = "request" // Message.RequestID
)

// maxTagValue is the longest tag value SES accepts.
const maxTagValue = 256

// Tags returns the message tags m carries, by name: TagNIC and TagRequest, each when its
// field is set, encoded by TagValue. A value too long for SES is left out: a missing tag
// costs the trace of a bounce, a tag SES refuses would cost the email.
func (m Message) Tags() map[string]string {
	tags := map[string]string{}
	for name, value := range map[string]string{TagNIC: m.NIC, TagRequest: m.RequestID} {
		if v := TagValue(value); v != "" && len(v) <= maxTagValue {
			tags[name] = v
		}
	}
	return tags
}

// TagValue encodes s in the only characters SES allows in a tag value (ASCII letters,
// digits, '_' and '-'): every other byte, '_' included, becomes '_' and two hex digits.
// NIC handles and request ids are made of allowed characters and so stay as they are.
func TagValue(s string) string {
	var b strings.Builder
	for i := range len(s) {
		c := s[i]
		if c == '-' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "_%02x", c)
	}
	return b.String()
}

// ParseTagValue decodes a value TagValue encoded.
func ParseTagValue(v string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if v[i] != '_' {
			b.WriteByte(v[i])
			continue
		}
		c, ok := hexByte(v[i+1:])
		if !ok {
			return "", fmt.Errorf("tag value: '_' at %d is not followed by two hex digits", i)
		}
		b.WriteByte(c)
		i += 2
	}
	return b.String(), nil
}

// hexByte decodes the two hex digits s starts with.
func hexByte(s string) (byte, bool) {
	if len(s) < 2 {
		return 0, false
	}
	c, err := strconv.ParseUint(s[:2], 16, 8)
	return byte(c), err == nil
}
