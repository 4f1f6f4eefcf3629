package schemas

import "time"

type RPCError struct {
	Code    ErrorCode `json:"code"`
	Message string    `json:"message,omitempty"`
	Limit   LimitKind `json:"limit,omitempty"`
}

func (e *RPCError) Error() string {
	if e.Message == "" {
		return string(e.Code)
	}
	return string(e.Code) + ": " + e.Message
}

type ValidateDeviceRequest struct {
	DeviceID      string `json:"device_id"`
	AccessToken   string `json:"access_token"`
	Region        string `json:"region"`
	ClientVersion string `json:"client_version,omitempty"`
	Platform      string `json:"platform,omitempty"`
}

type ValidateDeviceReply struct {
	OK           bool              `json:"ok"`
	Error        *RPCError         `json:"error,omitempty"`
	UserID       int64             `json:"user_id,omitempty"`
	Device       *DeviceInfo       `json:"device,omitempty"`
	Subscription *SubscriptionInfo `json:"subscription,omitempty"`
	Limits       *AccountLimits    `json:"limits,omitempty"`
}

type DeviceInfo struct {
	ID       int64  `json:"id"`
	DeviceID string `json:"device_id"`
	Platform string `json:"platform,omitempty"`
	Status   string `json:"status"`
}

type SubscriptionInfo struct {
	ID         int64     `json:"id"`
	PlanID     int64     `json:"plan_id"`
	PlanName   string    `json:"plan_name"`
	ValidUntil time.Time `json:"valid_until"`
	Status     string    `json:"status"`
}

type AccountLimits struct {
	MaxDevices        int    `json:"max_devices"`
	ActiveDevices     int    `json:"active_devices"`
	TrafficLimitBytes *int64 `json:"traffic_limit_bytes"`
	UsedBytes         int64  `json:"used_bytes"`
	RemainingBytes    *int64 `json:"remaining_bytes"`
	MaxSessions       int    `json:"max_sessions"`
	SpeedLimitMbps    *int   `json:"speed_limit_mbps"`
}

type AssignOutlineRequest struct {
	Region         string  `json:"region"`
	UserID         int64   `json:"user_id"`
	DeviceID       string  `json:"device_id"`
	ExcludeNodeIDs []int64 `json:"exclude_node_ids,omitempty"`
}

type AssignOutlineReply struct {
	OK    bool               `json:"ok"`
	Error *RPCError          `json:"error,omitempty"`
	Node  *OutlineAssignment `json:"node,omitempty"`
}

type OutlineAssignment struct {
	NodeID     int64  `json:"node_id"`
	Region     string `json:"region"`
	InternalIP string `json:"internal_ip"`
	SSPort     int    `json:"ss_port"`
	SSMethod   string `json:"ss_method"`
	SSPassword string `json:"ss_password"`
}
