package gateway

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestSignThenVerify(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_800_000_000, 0)
	tests := []struct {
		name       string
		claims     map[string]any
		wantClaims map[string]string
		wantErr    string
	}{
		{
			name:       "sub only",
			claims:     map[string]any{"sub": "xx11111-ovh"},
			wantClaims: map[string]string{"sub": "xx11111-ovh"},
		},
		{
			name:       "numbers keep their written form",
			claims:     map[string]any{"sub": "xx11111-ovh", "exp": 1_800_000_060, "iat": 1_800_000_000, "ratio": 0.5},
			wantClaims: map[string]string{"sub": "xx11111-ovh", "exp": "1800000060", "iat": "1800000000", "ratio": "0.5"},
		},
		{
			name:       "nested values",
			claims:     map[string]any{"sub": "xx11111-ovh", "aud": []string{"api", "web"}, "scope": "read write"},
			wantClaims: map[string]string{"sub": "xx11111-ovh", "aud": "[api web]", "scope": "read write"},
		},
		{
			name:       "fractional exp a moment ahead",
			claims:     map[string]any{"sub": "xx11111-ovh", "exp": 1_800_000_000.25},
			wantClaims: map[string]string{"sub": "xx11111-ovh", "exp": "1800000000.25"},
		},
		{
			name:    "exp equal to now",
			claims:  map[string]any{"sub": "xx11111-ovh", "exp": 1_800_000_000},
			wantErr: "the token has expired",
		},
		{
			name:    "nbf ahead",
			claims:  map[string]any{"sub": "xx11111-ovh", "nbf": 1_800_000_001},
			wantErr: "the token is not valid yet",
		},
		{
			name:    "iat ahead",
			claims:  map[string]any{"sub": "xx11111-ovh", "iat": 1_800_000_001},
			wantErr: "the token was issued in the future",
		},
		{
			name:    "absurd exp",
			claims:  map[string]any{"sub": "xx11111-ovh", "exp": math.MaxFloat64},
			wantErr: "the exp claim is not a numeric date",
		},
		{
			name:       "no claim is required of every token",
			claims:     map[string]any{"operator": "support-alice"},
			wantClaims: map[string]string{"operator": "support-alice"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			token, err := Sign(testSecret, tt.claims)
			if err != nil {
				t.Fatalf("Sign: %v", err)
			}
			got, err := verify(testSecret, token, now)
			if tt.wantErr != "" {
				var refused tokenError
				if !errors.As(err, &refused) || err.Error() != tt.wantErr {
					t.Fatalf("verify: error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("verify: %v", err)
			}
			if diff := cmp.Diff(tt.wantClaims, stringifyClaims(got)); diff != "" {
				t.Errorf("claims (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSignProducesStandardHS256(t *testing.T) {
	t.Parallel()
	token, err := Sign([]byte("k"), map[string]any{"sub": "xx11111-ovh"})
	if err != nil {
		t.Fatalf("Sign: %v", err)
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("token %q has %d parts, want 3", token, len(parts))
	}
	header, err := b64url.DecodeString(parts[0])
	if err != nil {
		t.Fatalf("decode header: %v", err)
	}
	var h map[string]string
	if err := json.Unmarshal(header, &h); err != nil {
		t.Fatalf("decode header: %v", err)
	}
	if diff := cmp.Diff(map[string]string{"alg": "HS256", "typ": "JWT"}, h); diff != "" {
		t.Errorf("header (-want +got):\n%s", diff)
	}
	if got, want := parts[2], b64url.EncodeToString(hs256([]byte("k"), parts[0]+"."+parts[1])); got != want {
		t.Errorf("signature %s, want %s", got, want)
	}
}

func TestHS256KnownAnswer(t *testing.T) {
	t.Parallel()
	// RFC 4231 test case 2.
	got := hs256([]byte("Jefe"), "what do ya want for nothing?")
	want := "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
	if diff := cmp.Diff(want, hex.EncodeToString(got)); diff != "" {
		t.Errorf("HMAC-SHA256 (-want +got):\n%s", diff)
	}
}

func TestSignRefuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		secret []byte
		claims map[string]any
	}{
		{"empty secret", nil, map[string]any{"sub": "xx11111-ovh"}},
		{"claims that are not JSON", testSecret, map[string]any{"sub": func() {}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if token, err := Sign(tt.secret, tt.claims); err == nil {
				t.Errorf("Sign = %q, want an error", token)
			}
		})
	}
}
