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
	for _, res := range adminResources() {
		r = append(r, s.adminRoutes(res)...)
	}
	r = append(r, Route{
		Method: http.MethodGet, Path: AdminPrefix + "/" + schemas.ResourceUsers + "/:id/usage", need: accessAdmin,
		handler: s.admin(adminCall{resource: schemas.ResourceUsage, verb: schemas.VerbGet, owner: ServiceUsageAggregator, status: http.StatusOK}, idRequest),
	})
	for i := range r {
		r[i].Access = r[i].need.String()
	}
	return r
}

func (s *Service) adminRoutes(res adminResource) []Route {
	base := AdminPrefix + "/" + res.name
	call := func(verb string, status int) adminCall {
		return adminCall{resource: res.name, verb: verb, owner: res.owner, status: status}
	}
	r := []Route{{Method: http.MethodGet, Path: base, handler: s.admin(call(schemas.VerbList, http.StatusOK), listRequest)}}
	if !res.noGet {
		r = append(r, Route{Method: http.MethodGet, Path: base + "/:id", handler: s.admin(call(schemas.VerbGet, http.StatusOK), targetRequest)})
	}
	if res.create {
		r = append(r, Route{Method: http.MethodPost, Path: base, handler: s.admin(call(schemas.VerbCreate, http.StatusCreated), createRequest)})
	}
	if res.status {
		r = append(r, Route{Method: http.MethodPost, Path: base + "/:id/status", handler: s.admin(call(schemas.VerbSetStatus, http.StatusOK), statusBody)})
	}
	for _, verb := range res.verbs {
		r = append(r, Route{Method: http.MethodPost, Path: base + "/:id/" + verb, handler: s.admin(call(verb, http.StatusOK), bodyRequest(false))})
	}
	for i := range r {
		r[i].need = accessAdmin
	}
	return r
}

// Routes lists every endpoint the edge serves, with fiber path patterns.
func (s *Service) Routes() []Route {
	out := make([]Route, len(s.table))
	copy(out, s.table)
	return out
}
