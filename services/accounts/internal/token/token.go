// Package token issues and verifies device access tokens: compact JWTs signed with HS256.
package token

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

const (
	MinKeyBytes = 32
	maxTokenLen = 4096
)

var (
	ErrMalformed = errors.New("malformed access token")
	ErrSignature = errors.New("access token signature does not match")
	ErrExpired   = errors.New("access token expired")
)

type Claims struct {
	Subject   string `json:"sub"`
	UserID    int64  `json:"uid"`
	Version   int    `json:"ver"`
	IssuedAt  int64  `json:"iat"`
	ExpiresAt int64  `json:"exp,omitempty"`
}

type header struct {
	Alg string `json:"alg"`
	Typ string `json:"typ,omitempty"`
}

var (
	b64           = base64.RawURLEncoding
	encodedHeader = b64.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))
)

type Signer struct {
	key []byte
	ttl time.Duration
	now func() time.Time
}

func NewSigner(key []byte, ttl time.Duration) (*Signer, error) {
	if len(key) < MinKeyBytes {
		return nil, fmt.Errorf("token: signing key has %d bytes, want at least %d", len(key), MinKeyBytes)
	}
	if ttl < 0 {
		return nil, fmt.Errorf("token: negative ttl %s", ttl)
	}
	return &Signer{key: append([]byte(nil), key...), ttl: ttl, now: time.Now}, nil
}

func (s *Signer) Issue(deviceUUID string, userID int64, version int) (string, error) {
	now := s.now()
	c := Claims{Subject: deviceUUID, UserID: userID, Version: version, IssuedAt: now.Unix()}
	if s.ttl > 0 {
		c.ExpiresAt = now.Add(s.ttl).Unix()
	}
	payload, err := json.Marshal(c)
	if err != nil {
		return "", fmt.Errorf("token: encode claims: %w", err)
	}
	signed := encodedHeader + "." + b64.EncodeToString(payload)
	return signed + "." + b64.EncodeToString(s.sign(signed)), nil
}

func (s *Signer) Verify(tok string) (Claims, error) {
	var c Claims
	if len(tok) > maxTokenLen {
		return c, ErrMalformed
	}
	h, rest, ok := strings.Cut(tok, ".")
	if !ok {
		return c, ErrMalformed
	}
	p, sig, ok := strings.Cut(rest, ".")
	if !ok || strings.Contains(sig, ".") {
		return c, ErrMalformed
	}
	if h != encodedHeader && !validHeader(h) {
		return c, ErrMalformed
	}
	got, err := b64.DecodeString(sig)
	if err != nil {
		return c, ErrMalformed
	}
	if !hmac.Equal(got, s.sign(tok[:len(h)+1+len(p)])) {
		return c, ErrSignature
	}
	raw, err := b64.DecodeString(p)
	if err != nil || json.Unmarshal(raw, &c) != nil || c.Subject == "" || c.UserID <= 0 || c.Version <= 0 {
		return Claims{}, ErrMalformed
	}
	if c.ExpiresAt != 0 && s.now().Unix() >= c.ExpiresAt {
		return Claims{}, ErrExpired
	}
	return c, nil
}

func (s *Signer) sign(signed string) []byte {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(signed))
	return m.Sum(nil)
}

func validHeader(h string) bool {
	raw, err := b64.DecodeString(h)
	if err != nil {
		return false
	}
	var hd header
	if json.Unmarshal(raw, &hd) != nil {
		return false
	}
	return hd.Alg == "HS256" && (hd.Typ == "" || hd.Typ == "JWT")
}
