package schemas

import "time"

type SessionStarted struct {
	SessionID     string    `json:"session_id"`
	GatewayID     string    `json:"gateway_id"`
	BootID        string    `json:"boot_id,omitempty"`
	Region        string    `json:"region"`
	UserID        int64     `json:"user_id"`
	DeviceID      string    `json:"device_id"`
	OutlineNodeID int64     `json:"outline_node_id"`
	ClientVersion string    `json:"client_version,omitempty"`
	Platform      string    `json:"platform,omitempty"`
	StartedAt     time.Time `json:"started_at"`
}

type SessionEnded struct {
	SessionID     string    `json:"session_id"`
	GatewayID     string    `json:"gateway_id"`
	BootID        string    `json:"boot_id,omitempty"`
	Region        string    `json:"region"`
	UserID        int64     `json:"user_id"`
	DeviceID      string    `json:"device_id"`
	OutlineNodeID int64     `json:"outline_node_id"`
	StartedAt     time.Time `json:"started_at"`
	EndedAt       time.Time `json:"ended_at"`
	Seq           uint64    `json:"seq"`
	BytesUp       int64     `json:"bytes_up"`
	BytesDown     int64     `json:"bytes_down"`
	Reason        string    `json:"reason"`
}

const (
	EndReasonClientClosed = "client_closed"
	EndReasonKicked       = "kicked"
	EndReasonLimit        = "limit_reached"
	EndReasonRevoked      = "revoked"
	EndReasonProtocol     = "protocol_error"
	EndReasonIdle         = "idle_timeout"
	EndReasonShutdown     = "gateway_shutdown"
	EndReasonGatewayLost  = "gateway_lost"
	// EndReasonGatewayRestarted ends the sessions of an older boot when a gateway starts again.
	EndReasonGatewayRestarted = "gateway_restarted"
)

// GatewayBoot is published on httvps.session.boot.<gateway_id> when a gateway process starts:
// the sessions of any other boot of that gateway id are over.
type GatewayBoot struct {
	GatewayID string    `json:"gateway_id"`
	BootID    string    `json:"boot_id"`
	Region    string    `json:"region"`
	BootedAt  time.Time `json:"booted_at"`
}
