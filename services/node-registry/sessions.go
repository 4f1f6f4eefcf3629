package noderegistry

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/services/node-registry/internal/store"
	"github.com/httvps/httvps/shared/jsconsume"
	"github.com/nats-io/nats.go/jetstream"
)

// sessionEvent is one decoded message of the SESSIONS stream.
type sessionEvent struct {
	ended     bool
	sessionID string
	nodeID    int64
	gateway   string
	startedAt time.Time
	endedAt   time.Time
}

var (
	sessionStartedPrefix = strings.TrimSuffix(schemas.SubjectSessionStartedAll, "*")
	sessionEndedPrefix   = strings.TrimSuffix(schemas.SubjectSessionEndedAll, "*")
)

func decodeSessionEvent(msg jetstream.Msg) (sessionEvent, error) {
	var ev sessionEvent
	switch subject := msg.Subject(); {
	case strings.HasPrefix(subject, sessionStartedPrefix):
		var m schemas.SessionStarted
		if err := json.Unmarshal(msg.Data(), &m); err != nil {
			return ev, fmt.Errorf("session started: %w", err)
		}
		ev = sessionEvent{sessionID: m.SessionID, nodeID: m.OutlineNodeID, gateway: m.GatewayID, startedAt: m.StartedAt}
	case strings.HasPrefix(subject, sessionEndedPrefix):
		var m schemas.SessionEnded
		if err := json.Unmarshal(msg.Data(), &m); err != nil {
			return ev, fmt.Errorf("session ended: %w", err)
		}
		ev = sessionEvent{ended: true, sessionID: m.SessionID, nodeID: m.OutlineNodeID, gateway: m.GatewayID,
			startedAt: m.StartedAt, endedAt: m.EndedAt}
	default:
		return ev, fmt.Errorf("subject %s is not a session started or ended event", subject)
	}
	switch {
	case !validUUID(ev.sessionID):
		return ev, fmt.Errorf("session event: session_id %q is not a UUID", ev.sessionID)
	case ev.nodeID < 0:
		return ev, fmt.Errorf("session event: outline_node_id %d must not be negative", ev.nodeID)
	case len(ev.gateway) > maxHeartbeatText:
		return ev, fmt.Errorf("session event: gateway_id is limited to %d bytes", maxHeartbeatText)
	case ev.gateway != "" && !strings.HasSuffix(msg.Subject(), "."+ev.gateway):
		return ev, fmt.Errorf("session event: gateway_id %q does not match subject %s", ev.gateway, msg.Subject())
	}
	return ev, nil
}

func (s *Service) storeSessionEvents(ctx context.Context, items []jsconsume.Item[sessionEvent]) error {
	return storeBatch(ctx, s, schemas.ConsumerSessionsRegistry, "store session events", items, applySessionEvent)
}

func applySessionEvent(ctx context.Context, tx *store.Store, ev sessionEvent) (string, error) {
	if ev.nodeID == 0 && !ev.ended {
		return resultIgnored, nil
	}
	var (
		r   store.SessionResult
		err error
	)
	if ev.ended {
		r, err = tx.EndSession(ctx, ev.sessionID, ev.nodeID, ev.gateway, ev.startedAt, ev.endedAt)
	} else {
		r, err = tx.StartSession(ctx, ev.sessionID, ev.nodeID, ev.gateway, ev.startedAt)
	}
	switch {
	case err != nil:
		return "", err
	case r == store.SessionUnknownNode:
		return resultUnknownNode, nil
	case r == store.SessionDuplicate:
		return resultIgnored, nil
	}
	return resultApplied, nil
}
