package usageaggregator

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/httvps/httvps/schemas"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
)

// mergeSessionMeta folds the events of one batch per session, sorted by session id.
func mergeSessionMeta(events []sessionEvent) []sessionMeta {
	sorted := make([]sessionMeta, len(events))
	for i, e := range events {
		sorted[i] = e.Meta
	}
	slices.SortStableFunc(sorted, func(a, b sessionMeta) int { return strings.Compare(a.SessionID, b.SessionID) })
	var out []sessionMeta
	for _, m := range sorted {
		if n := len(out); n > 0 && out[n-1].SessionID == m.SessionID {
			out[n-1].merge(m)
			continue
		}
		out = append(out, m)
	}
	return out
}

func (a *sessionMeta) merge(b sessionMeta) {
	a.UserID = firstID(a.UserID, b.UserID)
	a.DeviceUUID = firstText(a.DeviceUUID, b.DeviceUUID)
	a.GatewayID = firstText(a.GatewayID, b.GatewayID)
	a.Region = firstText(a.Region, b.Region)
	a.OutlineNodeID = firstID(a.OutlineNodeID, b.OutlineNodeID)
	if b.StartedAt.Before(a.StartedAt) {
		a.StartedAt = b.StartedAt
	}
	if !b.EndedAt.IsZero() && (a.EndedAt.IsZero() || (a.EndReason == schemas.EndReasonGatewayLost && b.EndReason != schemas.EndReasonGatewayLost)) {
		a.EndedAt, a.EndReason = b.EndedAt, b.EndReason
	}
}

// upsertSessionsSQL records what session events say; they describe the session with more authority
// than usage reports (region, outline node). The user is the device's owner, and a session belongs
// to the gateway that first named it: events of another gateway change nothing. A closing by the sweeper (gateway_lost) gives
// way to the gateway's own ended event; any other ended_at is final.
const upsertSessionsSQL = `
INSERT INTO sessions AS s (id, user_id, device_id, device_uuid, gateway_node_name, gateway_node_id,
	outline_node_id, region, started_at, ended_at, end_reason, bytes_up, bytes_down, last_seq, updated_at)
SELECT i.id, d.user_id, d.id, NULLIF(i.device_uuid, ''), i.gateway, g.id,
	o.id, i.region, i.started_at, NULLIF(i.ended_at, '')::timestamptz, NULLIF(i.end_reason, ''), 0, 0, 0, now()
FROM unnest(?::uuid[], ?::bigint[], ?::text[], ?::text[], ?::bigint[], ?::text[], ?::timestamptz[], ?::text[], ?::text[])
	AS i(id, user_id, device_uuid, gateway, outline_node_id, region, started_at, ended_at, end_reason)
LEFT JOIN devices d ON d.device_uuid = i.device_uuid
LEFT JOIN gateway_nodes g ON g.name = i.gateway
LEFT JOIN outline_nodes o ON o.id = i.outline_node_id
ORDER BY i.id
ON CONFLICT (id) DO UPDATE SET
	user_id = COALESCE(s.user_id, EXCLUDED.user_id),
	device_id = COALESCE(s.device_id, EXCLUDED.device_id),
	device_uuid = COALESCE(s.device_uuid, EXCLUDED.device_uuid),
	gateway_node_id = COALESCE(EXCLUDED.gateway_node_id, s.gateway_node_id),
	outline_node_id = COALESCE(EXCLUDED.outline_node_id, s.outline_node_id),
	region = COALESCE(NULLIF(EXCLUDED.region, ''), s.region),
	started_at = LEAST(s.started_at, EXCLUDED.started_at),
	ended_at = CASE WHEN EXCLUDED.ended_at IS NOT NULL AND (s.ended_at IS NULL OR s.end_reason = ?)
		THEN EXCLUDED.ended_at ELSE s.ended_at END,
	end_reason = CASE WHEN EXCLUDED.ended_at IS NOT NULL AND (s.ended_at IS NULL OR s.end_reason = ?)
		THEN EXCLUDED.end_reason ELSE s.end_reason END,
	updated_at = now()
WHERE s.gateway_node_name = EXCLUDED.gateway_node_name`

func upsertSessions(ctx context.Context, tx bun.Tx, metas []sessionMeta) error {
	if len(metas) == 0 {
		return nil
	}
	n := len(metas)
	ids, devices, gateways, regions := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	endedAt, reasons := make([]string, n), make([]string, n)
	users, nodes := make([]int64, n), make([]int64, n)
	started := make([]time.Time, n)
	for i, m := range metas {
		ids[i], users[i], devices[i], gateways[i] = m.SessionID, m.UserID, m.DeviceUUID, m.GatewayID
		nodes[i], regions[i], started[i], reasons[i] = m.OutlineNodeID, m.Region, m.StartedAt, m.EndReason
		if !m.EndedAt.IsZero() {
			endedAt[i] = m.EndedAt.UTC().Format(time.RFC3339Nano)
		}
	}
	_, err := tx.ExecContext(ctx, upsertSessionsSQL,
		pgdialect.Array(ids), pgdialect.Array(users), pgdialect.Array(devices), pgdialect.Array(gateways),
		pgdialect.Array(nodes), pgdialect.Array(regions), pgdialect.Array(started), pgdialect.Array(endedAt),
		pgdialect.Array(reasons), schemas.EndReasonGatewayLost, schemas.EndReasonGatewayLost)
	if err != nil {
		return fmt.Errorf("upsert sessions: %w", err)
	}
	return nil
}
