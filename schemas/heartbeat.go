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

type OutlineHeartbeat struct {
	NodeID            int64     `json:"node_id"`
	HealthStatus      string    `json:"health_status"`
	ActiveConnections int       `json:"active_connections,omitempty"`
	Load              float64   `json:"load,omitempty"`
	SentAt            time.Time `json:"sent_at"`
}

const (
	GatewayStatusOnline   = "online"
	GatewayStatusDraining = "draining"
	GatewayStatusOffline  = "offline"

	HealthHealthy   = "healthy"
	HealthUnhealthy = "unhealthy"
	HealthOffline   = "offline"
)
