package edge

import (
	"github.com/gofiber/fiber/v2"
	"github.com/httvps/httvps/schemas/openapi"
)

func (s *Service) openapi(c *fiber.Ctx) error {
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSONCharsetUTF8)
	c.Set(fiber.HeaderCacheControl, "public, max-age=300")
	return c.Send(openapi.Document)
}
