package schemas

import "time"

type UsageReport struct {
	SessionID     string     `json:"session_id"`
	Seq           uint64     `json:"seq"`
	GatewayID     string     `json:"gateway_id"`
	Region        string     `json:"region,omitempty"`
	UserID        int64      `json:"user_id,omitempty"`
	DeviceID      string     `json:"device_id"`
	OutlineNodeID int64      `json:"outline_node_id,omitempty"`
	BytesUp       int64      `json:"bytes_up"`
	BytesDown     int64      `json:"bytes_down"`
	DeltaUp       int64      `json:"delta_up"`
	DeltaDown     int64      `json:"delta_down"`
	StartedAt     time.Time  `json:"started_at"`
	ReportedAt    time.Time  `json:"reported_at"`
	EndedAt       *time.Time `json:"ended_at,omitempty"`
	Final         bool       `json:"final,omitempty"`
}
