package config

import (
	"math"
	"strings"
)

// MinSecretBits is the strength production asks of every secret: 32 random bytes.
const MinSecretBits = 256

// shippedSecrets are the placeholder and example values this repository ships; production
// refuses them even where they would pass the strength check.
var shippedSecrets = []string{
	"change-me",
	"at-least-32-random-bytes-change-me-now",
	"change-me-admin-token",
	"change-me-node-token",
}

// Secret reads a required secret. The value never appears in an error; in production it must not
// be a value shipped in the repository and must carry at least 32 random bytes.
func (e *Env) Secret(name string) string {
	v, ok := e.raw(name)
	if !ok {
		e.errs = append(e.errs, errRequired(name))
		return ""
	}
	if e.Production() {
		if problem := SecretProblem(v); problem != "" {
			e.Refuse(name, "%s", problem)
		}
	}
	return v
}

// OptionalSecret is Secret for a secret that may be left unset.
func (e *Env) OptionalSecret(name string) string {
	if _, ok := e.raw(name); !ok {
		return ""
	}
	return e.Secret(name)
}

// SecretProblem says why a value is not a production secret, or "" when it is one.
func SecretProblem(v string) string {
	for _, s := range shippedSecrets {
		if strings.Contains(strings.ToLower(v), s) {
			return "is a placeholder shipped in the repository; generate one with `openssl rand -hex 32`"
		}
	}
	if SecretBits(v) < MinSecretBits {
		return "carries less than 32 random bytes; generate one with `openssl rand -hex 32`"
	}
	return ""
}

// SecretBits estimates the randomness of a value: its length times the bits per character of the
// smallest alphabet (hex, base64, printable) that spells it, and nothing for values with fewer
// than 12 distinct characters (repeated words) or a run of 8 ascending characters ("0123456789").
func SecretBits(v string) float64 {
	if hasRun(v, 8) {
		return 0
	}
	distinct := map[rune]bool{}
	hex, b64 := true, true
	for _, r := range v {
		distinct[r] = true
		isHex := '0' <= r && r <= '9' || 'a' <= r && r <= 'f' || 'A' <= r && r <= 'F'
		isB64 := isHex || 'g' <= r && r <= 'z' || 'G' <= r && r <= 'Z' || strings.ContainsRune("+/-_=", r)
		hex, b64 = hex && isHex, b64 && isB64
	}
	if len(distinct) < 12 {
		return 0
	}
	perChar := math.Log2(94)
	switch {
	case hex:
		perChar = 4
	case b64:
		perChar = 6
	}
	return float64(len(v)) * perChar
}

func hasRun(v string, n int) bool {
	run := 1
	for i := 1; i < len(v); i++ {
		if v[i] == v[i-1]+1 {
			run++
			if run >= n {
				return true
			}
		} else {
			run = 1
		}
	}
	return false
}
