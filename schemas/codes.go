package schemas

type ErrorCode string

const (
	CodeNoSubscription      ErrorCode = "NO_SUBSCRIPTION"
	CodeSubscriptionExpired ErrorCode = "SUBSCRIPTION_EXPIRED"
	CodeDeviceBanned        ErrorCode = "DEVICE_BANNED"
	CodeDeviceRevoked       ErrorCode = "DEVICE_REVOKED"
	CodeDeviceNotFound      ErrorCode = "DEVICE_NOT_FOUND"
	CodeUserBanned          ErrorCode = "USER_BANNED"
	CodeInvalidToken        ErrorCode = "INVALID_TOKEN"
	CodeDeviceLimitReached  ErrorCode = "DEVICE_LIMIT_REACHED"
	CodeLimitReached        ErrorCode = "LIMIT_REACHED"
	CodeRegionUnknown       ErrorCode = "REGION_UNKNOWN"
	CodeNoCapacity          ErrorCode = "NO_CAPACITY"
	CodeBackendUnavailable  ErrorCode = "BACKEND_UNAVAILABLE"
	CodeProtocolError       ErrorCode = "PROTOCOL_ERROR"
	CodeHelloTimeout        ErrorCode = "HELLO_TIMEOUT"
	CodeTargetForbidden     ErrorCode = "TARGET_FORBIDDEN"
	CodeUpstreamUnreachable ErrorCode = "UPSTREAM_UNREACHABLE"
	CodeGatewayShutdown     ErrorCode = "GATEWAY_SHUTDOWN"
	CodeSessionKicked       ErrorCode = "SESSION_KICKED"
	CodeIdleTimeout         ErrorCode = "IDLE_TIMEOUT"

	CodeInvalidArgument ErrorCode = "INVALID_ARGUMENT"
	CodeNotFound        ErrorCode = "NOT_FOUND"
	CodeConflict        ErrorCode = "CONFLICT"
	CodeUnauthorized    ErrorCode = "UNAUTHORIZED"
	CodeInternal        ErrorCode = "INTERNAL"
)

type LimitKind string

const (
	LimitTraffic LimitKind = "traffic"
	LimitDevices LimitKind = "devices"
	LimitStreams LimitKind = "streams"
	LimitFrame   LimitKind = "frame_size"
	// Gateway protection (docs/04): memory held for the client, sessions on the gateway and
	// per source address, handshakes in flight, stream_open rate.
	LimitMemory          LimitKind = "memory"
	LimitGatewaySessions LimitKind = "gateway_sessions"
	LimitAddressSessions LimitKind = "address_sessions"
	LimitHandshakes      LimitKind = "handshakes"
	LimitStreamOpenRate  LimitKind = "stream_open_rate"
	LimitFlows           LimitKind = "udp_flows"
	LimitDatagram        LimitKind = "datagram_size"
)

var AllErrorCodes = []ErrorCode{
	CodeNoSubscription, CodeSubscriptionExpired, CodeDeviceBanned, CodeDeviceRevoked,
	CodeDeviceNotFound, CodeUserBanned, CodeInvalidToken, CodeDeviceLimitReached,
	CodeLimitReached, CodeRegionUnknown, CodeNoCapacity, CodeBackendUnavailable,
	CodeProtocolError, CodeHelloTimeout, CodeTargetForbidden, CodeUpstreamUnreachable,
	CodeGatewayShutdown, CodeSessionKicked, CodeIdleTimeout, CodeInvalidArgument,
	CodeNotFound, CodeConflict, CodeUnauthorized, CodeInternal,
}
