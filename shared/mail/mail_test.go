package mail

import (
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// sesTagValue is what SES accepts as a message tag value.
var sesTagValue = regexp.MustCompile(`^[A-Za-z0-9_-]{1,256}$`)

func TestTagValue(t *testing.T) {
	tests := []struct{ in, want string }{
		{"nn44444-ovh", "nn44444-ovh"},
		{"9f2c4e1a7b3d4c5e8f9a0b1c2d3e4f50", "9f2c4e1a7b3d4c5e8f9a0b1c2d3e4f50"},
		{"Mixed-Case-09", "Mixed-Case-09"},
		{"a_b", "a_5fb"},
		{"a b.c", "a_20b_2ec"},
		{"x@y", "x_40y"},
		{"é", "_c3_a9"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got := TagValue(tt.in)
			if got != tt.want {
				t.Errorf("TagValue(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if !sesTagValue.MatchString(got) {
				t.Errorf("TagValue(%q) = %q, which SES refuses", tt.in, got)
			}
			back, err := ParseTagValue(got)
			if err != nil || back != tt.in {
				t.Errorf("ParseTagValue(%q) = %q, %v; want %q", got, back, err, tt.in)
			}
		})
	}
}

func TestParseTagValueMalformed(t *testing.T) {
	for _, v := range []string{"a_", "a_4", "a_zz", "_+1", "__41"} {
		t.Run(v, func(t *testing.T) {
			if got, err := ParseTagValue(v); err == nil {
				t.Errorf("ParseTagValue(%q) = %q, want an error", v, got)
			}
		})
	}
}

func TestMessageTags(t *testing.T) {
	long := strings.Repeat("x", 200) + "."
	tests := []struct {
		name string
		m    Message
		want map[string]string
	}{
		{"both", Message{NIC: "nn44444-ovh", RequestID: "9f2c"}, map[string]string{"nic": "nn44444-ovh", "request": "9f2c"}},
		{"nic only", Message{NIC: "nn44444-ovh"}, map[string]string{"nic": "nn44444-ovh"}},
		{"none", Message{To: "a@example.com"}, map[string]string{}},
		{"encoded", Message{NIC: "a b", RequestID: "r_1"}, map[string]string{"nic": "a_20b", "request": "r_5f1"}},
		// 200 letters and a dot are 203 characters encoded; twice that is too long.
		{"too long once encoded is left out", Message{NIC: long + long, RequestID: long}, map[string]string{"request": TagValue(long)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.m.Tags()
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Tags (-want +got):\n%s", diff)
			}
			for name, v := range got {
				if !sesTagValue.MatchString(name) || !sesTagValue.MatchString(v) {
					t.Errorf("tag %q=%q: SES refuses it", name, v)
				}
			}
		})
	}
}
