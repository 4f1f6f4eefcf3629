// Package control ends sessions on the control events of the control plane (kick, revoke,
// limit), received on a core NATS subscription.
package control

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/shared/logging"
	"github.com/nats-io/nats.go"
	"github.com/rs/zerolog"
)

// Target is what the events act on.
type Target interface {
	Control(ev schemas.ControlEvent, gatewayID string) int
}

// Nodes is told which Outline nodes the sessions must leave.
type Nodes interface {
	MoveOff(nodeID int64)
}

// Subscribe listens to every control event until the subscription is drained.
func Subscribe(nc *nats.Conn, gatewayID string, target Target, nodes Nodes, log zerolog.Logger) (*nats.Subscription, error) {
	sub, err := nc.Subscribe(schemas.SubjectControlAll, func(msg *nats.Msg) {
		var ev schemas.ControlEvent
		if err := json.Unmarshal(msg.Data, &ev); err != nil {
			log.Warn().Err(err).Str(logging.FieldSubject, msg.Subject).Msg("unreadable control event")
			return
		}
		if ev.Scope == schemas.ScopeOutlineNode {
			moveOff(ev, msg.Subject, nodes, log)
			return
		}
		if n := target.Control(ev, gatewayID); n > 0 {
			log.Info().Str(logging.FieldSubject, msg.Subject).Str(logging.FieldCode, string(ev.Code)).
				Int(logging.FieldCount, n).Msg("control event ended sessions")
		}
	})
	if err != nil {
		return nil, fmt.Errorf("control: subscribe %s: %w", schemas.SubjectControlAll, err)
	}
	return sub, nil
}

func moveOff(ev schemas.ControlEvent, subject string, nodes Nodes, log zerolog.Logger) {
	id, err := strconv.ParseInt(ev.ID, 10, 64)
	if err != nil || ev.What != schemas.ControlMove || id <= 0 {
		log.Warn().Str(logging.FieldSubject, subject).Msg("unusable outline node event")
		return
	}
	nodes.MoveOff(id)
	log.Info().Int64(logging.FieldNode, id).Str(logging.FieldReason, ev.Reason).Msg("sessions move off outline node")
}
