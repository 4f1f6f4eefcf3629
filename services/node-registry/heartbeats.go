package noderegistry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/services/node-registry/internal/store"
	"github.com/httvps/httvps/shared/jsconsume"
	"github.com/httvps/httvps/shared/logging"
	"github.com/nats-io/nats.go/jetstream"
)

const maxHeartbeatText = 255

// heartbeat is one decoded message of the HEARTBEATS stream: exactly one of the two is set.
type heartbeat struct {
	gateway *store.GatewayBeat
	outline *store.OutlineBeat
}

var (
	gatewayHeartbeatPrefix = strings.TrimSuffix(schemas.SubjectGatewayHeartbeatAll, "*")
	outlineHeartbeatPrefix = strings.TrimSuffix(schemas.SubjectOutlineHeartbeatAll, "*")
)

func decodeHeartbeat(msg jetstream.Msg) (heartbeat, error) {
	at := storedAt(msg)
	switch subject := msg.Subject(); {
	case strings.HasPrefix(subject, gatewayHeartbeatPrefix):
		b, err := decodeGatewayHeartbeat(subject, msg.Data(), at)
		return heartbeat{gateway: b}, err
	case strings.HasPrefix(subject, outlineHeartbeatPrefix):
		b, err := decodeOutlineHeartbeat(subject, msg.Data(), at)
		return heartbeat{outline: b}, err
	default:
		return heartbeat{}, fmt.Errorf("subject %s is not a gateway or outline heartbeat", subject)
	}
}

// storedAt is when the NATS server stored the message: one clock for every heartbeat, so a
// redelivered old heartbeat is seen as old whatever the sender's clock says.
func storedAt(msg jetstream.Msg) time.Time {
	if md, err := msg.Metadata(); err == nil && !md.Timestamp.IsZero() {
		return md.Timestamp
	}
	return time.Now()
}

func decodeGatewayHeartbeat(subject string, data []byte, at time.Time) (*store.GatewayBeat, error) {
	var hb schemas.GatewayHeartbeat
	if err := json.Unmarshal(data, &hb); err != nil {
		return nil, fmt.Errorf("gateway heartbeat: %w", err)
	}
	switch {
	case !validName(hb.GatewayID):
		return nil, fmt.Errorf("gateway heartbeat: gateway_id %q must be 1 to 64 letters, digits, '-' or '_'", hb.GatewayID)
	case subject != schemas.GatewayHeartbeatSubject(hb.GatewayID):
		return nil, fmt.Errorf("gateway heartbeat: gateway_id %q does not match subject %s", hb.GatewayID, subject)
	case !slices.Contains(gatewayStatuses, hb.Status):
		return nil, fmt.Errorf("gateway heartbeat: status %q is not one of %s", hb.Status, strings.Join(gatewayStatuses, ", "))
	case hb.Sessions < 0 || hb.Streams < 0:
		return nil, errors.New("gateway heartbeat: sessions and streams must not be negative")
	case !validRate(hb.BytesUpPerSec) || !validRate(hb.BytesDownPerSec):
		return nil, errors.New("gateway heartbeat: bytes_up_per_sec and bytes_down_per_sec must be finite and not negative")
	case len(hb.Region) > maxHeartbeatText || len(hb.PublicIP) > maxHeartbeatText ||
		len(hb.InternalIP) > maxHeartbeatText || len(hb.Version) > maxHeartbeatText:
		return nil, fmt.Errorf("gateway heartbeat: region, public_ip, internal_ip and version are limited to %d bytes", maxHeartbeatText)
	}
	return &store.GatewayBeat{
		Name:            hb.GatewayID,
		RegionCode:      hb.Region,
		PublicIP:        hb.PublicIP,
		InternalIP:      hb.InternalIP,
		Status:          hb.Status,
		Sessions:        hb.Sessions,
		Streams:         hb.Streams,
		BytesUpPerSec:   hb.BytesUpPerSec,
		BytesDownPerSec: hb.BytesDownPerSec,
		Version:         hb.Version,
		At:              at,
	}, nil
}

func validRate(v float64) bool { return v >= 0 && !math.IsInf(v, 0) && !math.IsNaN(v) }

func decodeOutlineHeartbeat(subject string, data []byte, at time.Time) (*store.OutlineBeat, error) {
	var hb schemas.OutlineHeartbeat
	if err := json.Unmarshal(data, &hb); err != nil {
		return nil, fmt.Errorf("outline heartbeat: %w", err)
	}
	switch {
	case hb.NodeID <= 0:
		return nil, fmt.Errorf("outline heartbeat: node_id %d must be positive", hb.NodeID)
	case subject != schemas.OutlineHeartbeatSubject(hb.NodeID):
		return nil, fmt.Errorf("outline heartbeat: node_id %d does not match subject %s", hb.NodeID, subject)
	case !slices.Contains(healthStatuses, hb.HealthStatus):
		return nil, fmt.Errorf("outline heartbeat: health_status %q is not one of %s", hb.HealthStatus, strings.Join(healthStatuses, ", "))
	case hb.ActiveConnections < 0 || !validRate(hb.BytesPerSec) || !validRate(hb.ProbeMS):
		return nil, errors.New("outline heartbeat: active_connections, bytes_per_sec and probe_ms must be finite and not negative")
	case len(hb.Reason) > maxHeartbeatText:
		return nil, fmt.Errorf("outline heartbeat: reason is limited to %d bytes", maxHeartbeatText)
	}
	b := &store.OutlineBeat{NodeID: hb.NodeID, HealthStatus: hb.HealthStatus, Reason: hb.Reason,
		ActiveConnections: hb.ActiveConnections, BytesPerSec: hb.BytesPerSec, At: at}
	if hb.ProbeMS > 0 {
		b.ProbeMS = &hb.ProbeMS
	}
	return b, nil
}

func (s *Service) storeHeartbeats(ctx context.Context, items []jsconsume.Item[heartbeat]) error {
	offlineAfter := s.cfg.OfflineAfter()
	var left []*store.OutlineBeat
	err := storeBatch(ctx, s, schemas.ConsumerHeartbeatsRegistry, "store heartbeats", items,
		func(ctx context.Context, tx *store.Store, hb heartbeat) (string, error) {
			result, nodeLeft, err := applyHeartbeat(ctx, tx, hb, offlineAfter)
			if nodeLeft {
				left = append(left, hb.outline)
			}
			return result, err
		})
	if err != nil {
		return err
	}
	for _, b := range left {
		s.log.Warn().Int64(logging.FieldNode, b.NodeID).Str(fieldStatus, b.HealthStatus).Str(logging.FieldReason, b.Reason).
			Msg("outline node reported not healthy, sessions move off it")
		s.moveSessionsOff(b.NodeID, sourceAgent, orDefault(b.Reason, "its agent reports "+b.HealthStatus))
	}
	return nil
}

// storeBatch applies a batch of events in one transaction and counts their results once it commits.
func storeBatch[T any](ctx context.Context, s *Service, consumer, op string, items []jsconsume.Item[T],
	apply func(ctx context.Context, tx *store.Store, v T) (string, error)) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.DBTimeout)
	defer cancel()
	var results map[string]int
	err := s.store.InTx(ctx, func(ctx context.Context, tx *store.Store) error {
		results = map[string]int{}
		for _, it := range items {
			result, err := apply(ctx, tx, it.Value)
			if err != nil {
				return err
			}
			results[result]++
		}
		return nil
	})
	if err != nil {
		s.metrics.dbErrors.WithLabelValues(op).Inc()
		return err
	}
	for result, n := range results {
		s.metrics.events.WithLabelValues(consumer, result).Add(float64(n))
	}
	return nil
}

// applyHeartbeat stores one heartbeat; left reports an Outline node that stopped being healthy.
func applyHeartbeat(ctx context.Context, tx *store.Store, hb heartbeat, offlineAfter time.Duration) (result string, left bool, err error) {
	if hb.gateway != nil {
		applied, err := tx.ApplyGatewayHeartbeat(ctx, *hb.gateway, offlineAfter)
		if err != nil || !applied {
			return resultStale, false, err
		}
		return resultApplied, false, nil
	}
	r, left, err := tx.ApplyOutlineHeartbeat(ctx, *hb.outline, offlineAfter)
	switch {
	case err != nil:
		return "", false, err
	case r == store.BeatUnknownNode:
		return resultUnknownNode, false, nil
	case r == store.BeatStale:
		return resultStale, false, nil
	}
	return resultApplied, left, nil
}

const (
	resultApplied     = "applied"
	resultStale       = "stale"
	resultUnknownNode = "unknown_node"
	resultIgnored     = "ignored"
	resultInvalid     = "invalid"

	consumerDials = "dials"
)
