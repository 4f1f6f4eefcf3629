package socks5

import (
	"strings"

	"github.com/httvps/httvps/schemas"
)

// ReplyFor maps the gateway's error code for a stream (or its session) to a SOCKS5 reply.
func ReplyFor(code schemas.ErrorCode, message string) Reply {
	switch code {
	case schemas.CodeTargetForbidden:
		return NotAllowed
	case schemas.CodeUpstreamUnreachable:
		if strings.Contains(strings.ToLower(message), "refused") {
			return ConnectionRefused
		}
		return HostUnreachable
	case schemas.CodeNoCapacity, schemas.CodeBackendUnavailable, schemas.CodeGatewayShutdown,
		schemas.CodeIdleTimeout, schemas.CodeSessionKicked:
		return NetworkUnreachable
	case schemas.CodeInvalidToken, schemas.CodeDeviceRevoked, schemas.CodeDeviceBanned, schemas.CodeUserBanned,
		schemas.CodeNoSubscription, schemas.CodeSubscriptionExpired, schemas.CodeDeviceNotFound,
		schemas.CodeDeviceLimitReached, schemas.CodeRegionUnknown:
		return NotAllowed
	}
	return GeneralFailure
}
