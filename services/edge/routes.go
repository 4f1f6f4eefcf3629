package edge

import (
	"net/http"

	"github.com/gofiber/fiber/v2"
	"github.com/httvps/httvps/schemas"
)

const (
	APIPrefix   = "/api/v1"
	AdminPrefix = APIPrefix + "/admin"
)

// Route is one registered endpoint: what the OpenAPI document must describe.
type Route struct {
	Method string
	Path   string
	Access string

	need    access
	handler fiber.Handler
}

func (s *Service) routes() []Route {
	r := []Route{
		{Method: http.MethodGet, Path: APIPrefix + "/health", need: accessOpen, handler: s.health},
		{Method: http.MethodGet, Path: APIPrefix + "/openapi.json", need: accessOpen, handler: s.openapi},
		{Method: http.MethodPost, Path: APIPrefix + "/auth/validate-device", need: accessNode, handler: s.validateDevice},
		{Method: http.MethodPost, Path: APIPrefix + "/nodes/assign-outline", need: accessNode, handler: s.assignOutline},
		{Method: http.MethodPost, Path: APIPrefix + "/usage/report", need: accessNode, handler: s.usageReport},
		{Method: http.MethodPost, Path: APIPrefix + "/gateway/heartbeat", need: accessNode, handler: s.gatewayHeartbeat},
		{Method: http.MethodPost, Path: APIPrefix + "/outline/heartbeat", need: accessNode, handler: s.outlineHeartbeat},
	}
	for _, cmd := range schemas.AdminCommands() {
		r = append(r, s.adminRoute(cmd))
	}
	for i := range r {
		r[i].Access = r[i].need.String()
	}
	return r
}

// adminRoute derives the REST route of an admin command from its verb: list and get read the
// collection and one row, create posts to the collection, update patches the row, other verbs
// post to the row.
func (s *Service) adminRoute(cmd schemas.AdminCommand) Route {
	base := AdminPrefix + "/" + cmd.Resource
	route := func(method, path string, status int, build func(c *fiber.Ctx) (schemas.AdminRequest, *apiError)) Route {
		return Route{Method: method, Path: path, need: adminAccess(cmd.Permission), handler: s.admin(adminCall{cmd: cmd, status: status}, build)}
	}
	switch {
	case cmd.Resource == schemas.ResourceUsage && cmd.Verb == schemas.VerbGet:
		return route(http.MethodGet, AdminPrefix+"/"+schemas.ResourceUsers+"/:id/usage", http.StatusOK, idRequest)
	case cmd.Resource == schemas.ResourceUsage && cmd.Verb == schemas.VerbReset:
		return route(http.MethodPost, AdminPrefix+"/"+schemas.ResourceUsers+"/:id/usage/reset", http.StatusOK, idBodyRequest)
	case cmd.Verb == schemas.VerbUpdate:
		return route(http.MethodPatch, base+"/:id", http.StatusOK, bodyRequest(true))
	case cmd.Verb == schemas.VerbList:
		return route(http.MethodGet, base, http.StatusOK, listRequest)
	case cmd.Verb == schemas.VerbGet:
		return route(http.MethodGet, base+"/:id", http.StatusOK, targetRequest)
	case cmd.Verb == schemas.VerbCreate:
		return route(http.MethodPost, base, http.StatusCreated, createRequest)
	case cmd.Verb == schemas.VerbSetStatus:
		return route(http.MethodPost, base+"/:id/status", http.StatusOK, statusBody)
	default:
		return route(http.MethodPost, base+"/:id/"+cmd.Verb, http.StatusOK, bodyRequest(false))
	}
}

// Routes lists every endpoint the edge serves, with fiber path patterns.
func (s *Service) Routes() []Route {
	out := make([]Route, len(s.table))
	copy(out, s.table)
	return out
}
