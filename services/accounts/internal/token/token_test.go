package token

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

var testKey = []byte("0123456789abcdef0123456789abcdef")

func TestNewSignerRejectsShortKey(t *testing.T) {
	if _, err := NewSigner([]byte("short"), 0); err == nil || !strings.Contains(err.Error(), "at least 32") {
		t.Fatalf("err = %v, want a message naming the minimum length", err)
	}
}

func TestIssueVerifyRoundTrip(t *testing.T) {
	s, err := NewSigner(testKey, 0)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := s.Issue("phone-1", 42, 3)
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.Verify(tok)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	if c.Subject != "phone-1" || c.UserID != 42 || c.Version != 3 || c.ExpiresAt != 0 {
		t.Fatalf("claims = %+v", c)
	}
}

func TestTokenIsStandardJWT(t *testing.T) {
	s, _ := NewSigner(testKey, time.Hour)
	tok, _ := s.Issue("phone-1", 42, 3)
	parsed, err := jwt.Parse(tok, func(*jwt.Token) (any, error) { return testKey, nil },
		jwt.WithValidMethods([]string{"HS256"}), jwt.WithExpirationRequired())
	if err != nil {
		t.Fatalf("golang-jwt rejects our token: %v", err)
	}
	mc := parsed.Claims.(jwt.MapClaims)
	if mc["sub"] != "phone-1" || mc["uid"] != float64(42) || mc["ver"] != float64(3) {
		t.Fatalf("claims = %v", mc)
	}

	other := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "phone-2", "uid": 7, "ver": 1, "iat": time.Now().Unix()})
	signed, err := other.SignedString(testKey)
	if err != nil {
		t.Fatal(err)
	}
	if c, err := s.Verify(signed); err != nil || c.Subject != "phone-2" {
		t.Fatalf("verify golang-jwt token: %+v, %v", c, err)
	}
}

func TestVerifyRejects(t *testing.T) {
	s, _ := NewSigner(testKey, time.Minute)
	good, _ := s.Issue("phone-1", 42, 1)
	parts := strings.Split(good, ".")
	otherKey, _ := NewSigner([]byte("another-key-another-key-another-key"), 0)
	foreign, _ := otherKey.Issue("phone-1", 42, 1)
	expiredSigner, _ := NewSigner(testKey, time.Minute)
	expiredSigner.now = func() time.Time { return time.Now().Add(-2 * time.Minute) }
	expired, _ := expiredSigner.Issue("phone-1", 42, 1)
	none := b64.EncodeToString([]byte(`{"alg":"none"}`)) + "." + parts[1] + "."
	noVersion := func() string {
		tok := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "phone-1", "uid": 42})
		s, _ := tok.SignedString(testKey)
		return s
	}()

	for _, tc := range []struct {
		name, token string
		want        error
	}{
		{"empty", "", ErrMalformed},
		{"one part", "abc", ErrMalformed},
		{"four parts", good + ".x", ErrMalformed},
		{"alg none", none, ErrMalformed},
		{"bad signature encoding", parts[0] + "." + parts[1] + ".***", ErrMalformed},
		{"tampered payload", parts[0] + "." + b64.EncodeToString([]byte(`{"sub":"phone-9","uid":42,"ver":1,"iat":1}`)) + "." + parts[2], ErrSignature},
		{"other key", foreign, ErrSignature},
		{"expired", expired, ErrExpired},
		{"missing claims", noVersion, ErrMalformed},
		{"too long", strings.Repeat("a", maxTokenLen+1), ErrMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := s.Verify(tc.token); !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

func BenchmarkVerify(b *testing.B) {
	s, _ := NewSigner(testKey, time.Hour)
	tok, _ := s.Issue("3f2b9c1e-8d4a-4f6b-9e2c-7a1d5b0c6e84", 1017, 4)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Verify(tok); err != nil {
			b.Fatal(err)
		}
	}
}
