package schemas

import "time"

type GatewayHeartbeat struct {
	GatewayID       string    `json:"gateway_id"`
	Region          string    `json:"region"`
	PublicIP        string    `json:"public_ip,omitempty"`
	InternalIP      string    `json:"internal_ip,omitempty"`
	Version         string    `json:"version,omitempty"`
	BootID          string    `json:"boot_id,omitempty"`
	Status          string    `json:"status"`
	Sessions        int       `json:"sessions"`
	Streams         int       `json:"streams"`
	BytesUpPerSec   float64   `json:"bytes_up_per_sec"`
	BytesDownPerSec float64   `json:"bytes_down_per_sec"`
	IntervalSeconds float64   `json:"interval_seconds"`
	SentAt          time.Time `json:"sent_at"`
}

// OutlineHeartbeat is the health and load of an Outline node, as its agent measured it.
type OutlineHeartbeat struct {
	NodeID            int64   `json:"node_id"`
	HealthStatus      string  `json:"health_status"`
	Reason            string  `json:"reason,omitempty"`
	ActiveConnections int     `json:"active_connections,omitempty"`
	BytesPerSec       float64 `json:"bytes_per_sec,omitempty"`
	Load              float64 `json:"load,omitempty"`
	// ProbeMS is how long the probe through the node took (0 when it failed).
	ProbeMS         float64   `json:"probe_ms,omitempty"`
	IntervalSeconds float64   `json:"interval_seconds,omitempty"`
	SentAt          time.Time `json:"sent_at"`
}

// OutlineDialReport is what one gateway saw when it dialed Outline nodes since its last report.
type OutlineDialReport struct {
	GatewayID string             `json:"gateway_id"`
	Nodes     []OutlineDialCount `json:"nodes"`
	SentAt    time.Time          `json:"sent_at"`
}

// OutlineDialCount is the outcome of the TCP connections to one node: failures are connects
// refused or timed out; LastOK tells whether the latest attempt connected.
type OutlineDialCount struct {
	NodeID    int64  `json:"node_id"`
	Failures  int    `json:"failures"`
	Successes int    `json:"successes"`
	LastOK    bool   `json:"last_ok"`
	LastError string `json:"last_error,omitempty"`
}

const (
	GatewayStatusOnline   = "online"
	GatewayStatusDraining = "draining"
	GatewayStatusOffline  = "offline"

	HealthHealthy   = "healthy"
	HealthUnhealthy = "unhealthy"
	HealthOffline   = "offline"
)
