package schemas

import "encoding/json"

const (
	ResourceRegions       = "regions"
	ResourcePlans         = "plans"
	ResourceUsers         = "users"
	ResourceSubscriptions = "subscriptions"
	ResourceDevices       = "devices"
	ResourceOutlineNodes  = "outline-nodes"
	ResourceGatewayNodes  = "gateway-nodes"
	ResourceSessions      = "sessions"
	ResourceUsage         = "usage"

	VerbList      = "list"
	VerbGet       = "get"
	VerbCreate    = "create"
	VerbSetStatus = "set-status"
	VerbUpdate    = "update"
	VerbExtend    = "extend"
	VerbCancel    = "cancel"
	VerbRevoke    = "revoke"
	VerbRotate    = "rotate"
)

type AdminRequest struct {
	ID     int64             `json:"id,omitempty"`
	Key    string            `json:"key,omitempty"`
	Limit  int               `json:"limit,omitempty"`
	Offset int               `json:"offset,omitempty"`
	Filter map[string]string `json:"filter,omitempty"`
	Body   json.RawMessage   `json:"body,omitempty"`
}

type AdminReply struct {
	OK    bool            `json:"ok"`
	Error *RPCError       `json:"error,omitempty"`
	Data  json.RawMessage `json:"data,omitempty"`
	Total int64           `json:"total,omitempty"`
}
