package noderegistry

import (
	"encoding/json"
	"strconv"
	"time"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/shared/logging"
)

// Why sessions were told to leave a node: a bounded metrics label.
const (
	sourceAgent   = "agent"
	sourceDials   = "dials"
	sourceSweeper = "sweeper"
	sourceAdmin   = "admin"
)

// moveSessionsOff tells every gateway to move the sessions on the node to another node.
func (s *Service) moveSessionsOff(nodeID int64, source, reason string) {
	ev := schemas.ControlEvent{
		Scope: schemas.ScopeOutlineNode, ID: strconv.FormatInt(nodeID, 10), What: schemas.ControlMove,
		Code: schemas.CodeUpstreamUnreachable, Reason: reason, IssuedAt: time.Now().UTC(),
	}
	data, err := json.Marshal(ev)
	if err == nil {
		err = s.nc.Publish(ev.Subject(), data)
	}
	if err != nil {
		s.log.Warn().Err(err).Int64(logging.FieldNode, nodeID).Msg("publish outline move")
		return
	}
	s.metrics.moves.WithLabelValues(source).Inc()
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
