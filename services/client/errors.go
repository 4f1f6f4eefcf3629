package client

import (
	"errors"
	"fmt"

	"github.com/httvps/httvps/schemas"
)

// GatewayError is an error code the gateway sent: in an error frame (for the session, or for
// one stream when Stream is set) or in a stream_close.
type GatewayError struct {
	Code     schemas.ErrorCode
	Limit    schemas.LimitKind
	Message  string
	StreamID uint32
	Stream   bool
	// FlowID names the UDP flow of a udp_close or of a refused datagram.
	FlowID uint32
	// Handshake is true when the gateway refused the hello.
	Handshake bool
}

func (e *GatewayError) Error() string {
	text := Describe(e.Code, e.Limit)
	if e.Message != "" {
		text += ": " + e.Message
	}
	return text
}

// Definitive reports whether retrying cannot help: the device, its user or subscription is
// refused, or the configuration is wrong.
func (e *GatewayError) Definitive() bool { return definitive(e.Code) }

func definitive(code schemas.ErrorCode) bool {
	switch code {
	case schemas.CodeInvalidToken, schemas.CodeDeviceRevoked, schemas.CodeDeviceBanned, schemas.CodeUserBanned,
		schemas.CodeNoSubscription, schemas.CodeSubscriptionExpired, schemas.CodeDeviceNotFound,
		schemas.CodeDeviceLimitReached, schemas.CodeRegionUnknown:
		return true
	}
	return false
}

var plainWords = map[schemas.ErrorCode]string{
	schemas.CodeInvalidToken:        "the gateway refused this device: its token is not valid",
	schemas.CodeDeviceRevoked:       "the gateway refused this device: it has been revoked",
	schemas.CodeDeviceBanned:        "the gateway refused this device: it is banned",
	schemas.CodeUserBanned:          "the gateway refused this device: its user is banned",
	schemas.CodeNoSubscription:      "the gateway refused this device: its user has no subscription",
	schemas.CodeSubscriptionExpired: "the gateway refused this device: the subscription has expired",
	schemas.CodeDeviceNotFound:      "the gateway refused this device: no device has this id",
	schemas.CodeDeviceLimitReached:  "the gateway refused this device: the plan's device limit is reached",
	schemas.CodeRegionUnknown:       "the gateway does not know this region",
	schemas.CodeNoCapacity:          "the gateway has no free server in this region right now",
	schemas.CodeBackendUnavailable:  "the gateway cannot reach its control plane right now",
	schemas.CodeProtocolError:       "the gateway reports a protocol error",
	schemas.CodeHelloTimeout:        "the gateway did not get the hello in time",
	schemas.CodeTargetForbidden:     "the gateway does not allow this destination",
	schemas.CodeUpstreamUnreachable: "the destination cannot be reached",
	schemas.CodeGatewayShutdown:     "the gateway is shutting down",
	schemas.CodeSessionKicked:       "the session was ended by an administrator",
	schemas.CodeIdleTimeout:         "the gateway ended the session after a silence",
}

var limitWords = map[schemas.LimitKind]string{
	schemas.LimitTraffic:         "the traffic limit of the plan is used up",
	schemas.LimitDevices:         "the plan's device limit is reached",
	schemas.LimitStreams:         "too many streams are open in this session",
	schemas.LimitFrame:           "a frame was larger than the gateway accepts",
	schemas.LimitMemory:          "the session holds as much unsent data as the gateway allows",
	schemas.LimitGatewaySessions: "the gateway is full",
	schemas.LimitAddressSessions: "too many sessions from this address",
	schemas.LimitHandshakes:      "the gateway is busy with other connections",
	schemas.LimitStreamOpenRate:  "streams are opened faster than the gateway allows",
}

// Describe puts a gateway error code in plain words, ending with the code itself, e.g.
// "the gateway refused this device: its token is not valid (INVALID_TOKEN)".
func Describe(code schemas.ErrorCode, limit schemas.LimitKind) string {
	if code == schemas.CodeLimitReached {
		words, ok := limitWords[limit]
		if !ok {
			words = "a limit is reached"
		}
		if limit == "" {
			return fmt.Sprintf("%s (%s)", words, code)
		}
		return fmt.Sprintf("%s (%s, limit %s)", words, code, limit)
	}
	words, ok := plainWords[code]
	if !ok {
		words = "the gateway reports an error"
	}
	return fmt.Sprintf("%s (%s)", words, code)
}

// ErrSessionClosed is the error of streams whose session has ended; errors.Is matches it and
// errors.As finds the gateway's reason when there was one.
var ErrSessionClosed = errors.New("httvps: session closed")

// ErrStreamClosed is returned by a stream after Close.
var ErrStreamClosed = errors.New("httvps: stream closed")

type sessionEnded struct{ cause error }

func (e *sessionEnded) Error() string {
	if e.cause == nil {
		return ErrSessionClosed.Error()
	}
	return ErrSessionClosed.Error() + ": " + e.cause.Error()
}

func (e *sessionEnded) Unwrap() []error {
	if e.cause == nil {
		return []error{ErrSessionClosed}
	}
	return []error{ErrSessionClosed, e.cause}
}

// AsGatewayError finds the gateway's error in err.
func AsGatewayError(err error) (*GatewayError, bool) {
	var ge *GatewayError
	ok := errors.As(err, &ge)
	return ge, ok
}

// IsDefinitive reports whether err is a refusal that retrying cannot change: a definitive
// gateway code or an untrusted certificate.
func IsDefinitive(err error) bool {
	if ge, ok := AsGatewayError(err); ok {
		return ge.Definitive()
	}
	var ce *CertificateError
	return errors.As(err, &ce)
}

// CertificateError is a gateway certificate this client does not trust.
type CertificateError struct{ Err error }

func (e *CertificateError) Error() string {
	return "the gateway's certificate is not trusted (pass --ca FILE with the gateway's CA, or --insecure for the development certificate): " + e.Err.Error()
}

func (e *CertificateError) Unwrap() error { return e.Err }
