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
	accessAdminRead
	accessAdmin
)

func (a access) String() string {
	return [...]string{"open", "node", "adminRead", "admin"}[a]
}

// adminAccess is what an admin command's permission asks of the bearer token.
func adminAccess(p schemas.Permission) access {
	if p == schemas.PermissionAdminRead {
		return accessAdminRead
	}
	return accessAdmin
}

type tokenDigest [sha256.Size]byte

// tokens compares bearer tokens in constant time by comparing their digests; the read-only
// admin token is optional.
type tokens struct {
	admin, node, adminRead tokenDigest
	hasAdminRead           bool
}

func newTokens(admin, node, adminRead string) tokens {
	return tokens{admin: sha256.Sum256([]byte(admin)), node: sha256.Sum256([]byte(node)),
		adminRead: sha256.Sum256([]byte(adminRead)), hasAdminRead: adminRead != ""}
}

func (t tokens) allows(need access, presented string) bool {
	got := sha256.Sum256([]byte(presented))
	isAdmin := subtle.ConstantTimeCompare(got[:], t.admin[:]) == 1
	isNode := subtle.ConstantTimeCompare(got[:], t.node[:]) == 1
	isAdminRead := t.hasAdminRead && subtle.ConstantTimeCompare(got[:], t.adminRead[:]) == 1
	switch need {
	case accessOpen:
		return true
	case accessNode:
		return isNode || isAdmin
	case accessAdminRead:
		return isAdminRead || isAdmin
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
			return newError(schemas.CodeUnauthorized, "token not accepted for %s endpoints", strings.TrimSuffix(need.String(), "Read"))
		}
		return c.Next()
	}
}
