// Package upstream reaches stream targets: the target policy, resolution at the gateway and
// Shadowsocks connections to the session's Outline node, with failover to a replacement node.
package upstream

import (
	"fmt"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/services/gateway/internal/metrics"
)

// Failure is why a stream could not reach its target. Kind is a bounded metrics label.
type Failure struct {
	Code    schemas.ErrorCode
	Kind    string
	Message string
}

func (f *Failure) Error() string { return fmt.Sprintf("%s (%s): %s", f.Code, f.Kind, f.Message) }

func forbidden(format string, args ...any) *Failure {
	return &Failure{Code: schemas.CodeTargetForbidden, Kind: metrics.DialForbidden, Message: fmt.Sprintf(format, args...)}
}

func unreachable(kind, format string, args ...any) *Failure {
	return &Failure{Code: schemas.CodeUpstreamUnreachable, Kind: kind, Message: fmt.Sprintf(format, args...)}
}
