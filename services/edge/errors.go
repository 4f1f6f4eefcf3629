package edge

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/gofiber/fiber/v2"
	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/shared/rpc"
)

// statusByCode is the one place that maps error codes to HTTP statuses.
var statusByCode = map[schemas.ErrorCode]int{
	schemas.CodeInvalidArgument:     http.StatusBadRequest,
	schemas.CodeProtocolError:       http.StatusBadRequest,
	schemas.CodeUnauthorized:        http.StatusUnauthorized,
	schemas.CodeNoSubscription:      http.StatusForbidden,
	schemas.CodeSubscriptionExpired: http.StatusForbidden,
	schemas.CodeDeviceBanned:        http.StatusForbidden,
	schemas.CodeDeviceRevoked:       http.StatusForbidden,
	schemas.CodeDeviceNotFound:      http.StatusForbidden,
	schemas.CodeUserBanned:          http.StatusForbidden,
	schemas.CodeInvalidToken:        http.StatusForbidden,
	schemas.CodeLimitReached:        http.StatusForbidden,
	schemas.CodeTargetForbidden:     http.StatusForbidden,
	schemas.CodeSessionKicked:       http.StatusForbidden,
	schemas.CodeSessionReplaced:     http.StatusConflict,
	schemas.CodeNotFound:            http.StatusNotFound,
	schemas.CodeRegionUnknown:       http.StatusNotFound,
	schemas.CodeHelloTimeout:        http.StatusRequestTimeout,
	schemas.CodeIdleTimeout:         http.StatusRequestTimeout,
	schemas.CodeConflict:            http.StatusConflict,
	schemas.CodeDeviceLimitReached:  http.StatusConflict,
	schemas.CodeInternal:            http.StatusInternalServerError,
	schemas.CodeUpstreamUnreachable: http.StatusBadGateway,
	schemas.CodeBackendUnavailable:  http.StatusServiceUnavailable,
	schemas.CodeNoCapacity:          http.StatusServiceUnavailable,
	schemas.CodeGatewayShutdown:     http.StatusServiceUnavailable,
}

// HTTPStatus is the HTTP status the edge answers with for an error code.
func HTTPStatus(code schemas.ErrorCode) int {
	if s, ok := statusByCode[code]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// codeForStatus names the framework's own failures (no route, body too large, ...).
func codeForStatus(status int) schemas.ErrorCode {
	switch {
	case status == http.StatusUnauthorized:
		return schemas.CodeUnauthorized
	case status == http.StatusNotFound || status == http.StatusMethodNotAllowed:
		return schemas.CodeNotFound
	case status == http.StatusServiceUnavailable:
		return schemas.CodeBackendUnavailable
	case status >= 400 && status < 500:
		return schemas.CodeInvalidArgument
	default:
		return schemas.CodeInternal
	}
}

// ErrorBody is every error response: the specification's {ok:false, code} plus the error object.
type ErrorBody struct {
	OK    bool              `json:"ok"`
	Code  schemas.ErrorCode `json:"code"`
	Error *schemas.RPCError `json:"error"`
}

type apiError struct {
	status int
	rpc    *schemas.RPCError
	cause  error
}

func (e *apiError) Error() string {
	if e.cause != nil {
		return e.rpc.Error() + ": " + e.cause.Error()
	}
	return e.rpc.Error()
}

func (e *apiError) Unwrap() error { return e.cause }

func newError(code schemas.ErrorCode, format string, args ...any) *apiError {
	return &apiError{status: HTTPStatus(code), rpc: &schemas.RPCError{Code: code, Message: fmt.Sprintf(format, args...)}}
}

func fieldError(field, problem string) *apiError {
	return newError(schemas.CodeInvalidArgument, "field %s: %s", field, problem)
}

func unavailable(what string, cause error) *apiError {
	e := newError(schemas.CodeBackendUnavailable, "%s did not answer", what)
	e.cause = cause
	return e
}

func internal(cause error) *apiError {
	e := newError(schemas.CodeInternal, "internal error")
	e.cause = cause
	return e
}

// fromRPC turns a failed NATS request into the error the client sees.
func fromRPC(what string, err error) *apiError {
	if re, ok := rpc.AsRPCError(err); ok {
		return fromCode(re)
	}
	if errors.Is(err, rpc.ErrUnavailable) {
		return unavailable(what, err)
	}
	return internal(err)
}

func fromCode(re *schemas.RPCError) *apiError {
	if re.Message == "" {
		re = &schemas.RPCError{Code: re.Code, Message: string(re.Code), Limit: re.Limit}
	}
	return &apiError{status: HTTPStatus(re.Code), rpc: re}
}

func toAPIError(err error) *apiError {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae
	}
	var fe *fiber.Error
	if errors.As(err, &fe) {
		e := newError(codeForStatus(fe.Code), "%s", fe.Message)
		e.status = fe.Code
		return e
	}
	return internal(err)
}

var errMissingCode = errors.New("owner replied ok:false without an error code")
