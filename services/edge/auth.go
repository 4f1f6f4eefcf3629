package edge

import (
	"crypto/sha256"
	"crypto/subtle"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/httvps/httvps/schemas"
)

type access int

const (
	accessOpen access = iota
	accessNode
	accessAdmin
)

func (a access) String() string {
	return [...]string{"open", "node", "admin"}[a]
}

type tokenDigest [sha256.Size]byte

// tokens compares bearer tokens in constant time by comparing their digests.
type tokens struct {
	admin, node tokenDigest
}

func newTokens(admin, node string) tokens {
	return tokens{admin: sha256.Sum256([]byte(admin)), node: sha256.Sum256([]byte(node))}
}

func (t tokens) allows(need access, presented string) bool {
	got := sha256.Sum256([]byte(presented))
	isAdmin := subtle.ConstantTimeCompare(got[:], t.admin[:]) == 1
	isNode := subtle.ConstantTimeCompare(got[:], t.node[:]) == 1
	switch need {
	case accessOpen:
		return true
	case accessNode:
		return isNode || isAdmin
	default:
		return isAdmin
	}
}

func (t tokens) require(need access) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if need == accessOpen {
			return c.Next()
		}
		header := c.Get(fiber.HeaderAuthorization)
		scheme, token, ok := strings.Cut(header, " ")
		if header == "" {
			return newError(schemas.CodeUnauthorized, "missing Authorization: Bearer <token>")
		}
		if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
			return newError(schemas.CodeUnauthorized, "Authorization must be Bearer <token>")
		}
		if !t.allows(need, strings.TrimSpace(token)) {
			return newError(schemas.CodeUnauthorized, "token not accepted for %s endpoints", need)
		}
		return c.Next()
	}
}
