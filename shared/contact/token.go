package contact

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
)

// NewToken returns a fresh confirmation token (256 bits from crypto/rand, base64url) and the
// hash that is stored in its place: the token itself is only ever emailed.
func NewToken() (token, hash string, err error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", "", fmt.Errorf("read random token: %w", err)
	}
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, HashToken(token), nil
}

// HashToken is the SHA-256 of a token, hex encoded.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// sameHash compares two token hashes in constant time.
func sameHash(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// newID returns a request id: 128 random bits, hex encoded.
func newID() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("read random id: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// tokenMatch is what a presented token turned out to be for a request.
type tokenMatch int

const (
	tokenUnknown  tokenMatch = iota
	tokenCurrent             // the party's current token
	tokenReplaced            // a token that a resend replaced
)

// partyForToken finds the party a token belongs to. Every hash is compared, so that the time
// taken does not tell which party matched.
func (c *Change) partyForToken(token string) (*Party, tokenMatch) {
	h := HashToken(token)
	var found *Party
	match := tokenUnknown
	for i := range c.Parties {
		p := &c.Parties[i]
		if sameHash(p.TokenHash, h) {
			found, match = p, tokenCurrent
		}
		for _, old := range p.ReplacedHashes {
			if sameHash(old, h) && match == tokenUnknown {
				found, match = p, tokenReplaced
			}
		}
	}
	return found, match
}
