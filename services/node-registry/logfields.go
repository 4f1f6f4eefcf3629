package noderegistry

// Log field names of this service beyond the shared ones in shared/logging.
const (
	fieldRegionID       = "region_id"
	fieldGatewayNodeID  = "gateway_node_id"
	fieldStatus         = "status"
	fieldOfflineAfter   = "offline_after"
	fieldActiveSessions = "active_sessions"
	fieldMaxSessions    = "max_sessions"
	fieldConnections    = "active_connections"
)
