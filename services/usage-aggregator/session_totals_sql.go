package usageaggregator

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
)

// sessionInput holds folded totals as columns, bound as arrays and read back with unnest.
type sessionInput struct {
	ids, devices, gateways, regions []string
	users, nodes, ups, downs, seqs  []int64
	started                         []time.Time
}

func newSessionInput(folded []sessionTotals) sessionInput {
	var in sessionInput
	for _, t := range folded {
		in.add(t)
	}
	return in
}

func (in *sessionInput) add(t sessionTotals) {
	in.ids = append(in.ids, t.SessionID)
	in.users = append(in.users, t.UserID)
	in.devices = append(in.devices, t.DeviceUUID)
	in.gateways = append(in.gateways, t.GatewayID)
	in.nodes = append(in.nodes, t.OutlineNodeID)
	in.regions = append(in.regions, t.Region)
	in.started = append(in.started, t.StartedAt)
	in.ups = append(in.ups, t.Up)
	in.downs = append(in.downs, t.Down)
	in.seqs = append(in.seqs, t.Seq)
}

func (in sessionInput) len() int { return len(in.ids) }

func (in sessionInput) row(i int) sessionTotals {
	return sessionTotals{
		SessionID: in.ids[i], UserID: in.users[i], DeviceUUID: in.devices[i], GatewayID: in.gateways[i],
		OutlineNodeID: in.nodes[i], Region: in.regions[i], StartedAt: in.started[i],
		Up: in.ups[i], Down: in.downs[i], Seq: in.seqs[i],
	}
}

func (in sessionInput) without(done map[string]bool) sessionInput {
	var out sessionInput
	for i, id := range in.ids {
		if !done[id] {
			out.add(in.row(i))
		}
	}
	return out
}

func (in sessionInput) args() []any {
	return []any{
		pgdialect.Array(in.ids), pgdialect.Array(in.users), pgdialect.Array(in.devices), pgdialect.Array(in.gateways),
		pgdialect.Array(in.nodes), pgdialect.Array(in.regions), pgdialect.Array(in.started),
		pgdialect.Array(in.ups), pgdialect.Array(in.downs), pgdialect.Array(in.seqs),
	}
}

// resolvedInputSQL resolves the report's references: the user is the device's owner (whatever the
// report says), and the device, gateway and outline node ids when those rows exist.
const resolvedInputSQL = `
v AS (
	SELECT i.id, i.device_uuid, i.gateway, i.region, i.started_at, i.up, i.down, i.seq,
		d.user_id AS user_id, d.id AS device_id, g.id AS gateway_node_id, o.id AS outline_node_id
	FROM unnest(?::uuid[], ?::bigint[], ?::text[], ?::text[], ?::bigint[], ?::text[], ?::timestamptz[],
		?::bigint[], ?::bigint[], ?::bigint[])
		AS i(id, user_id, device_uuid, gateway, outline_node_id, region, started_at, up, down, seq)
	LEFT JOIN devices d ON d.device_uuid = i.device_uuid
	LEFT JOIN gateway_nodes g ON g.name = i.gateway
	LEFT JOIN outline_nodes o ON o.id = i.outline_node_id
)`

// writeSessions updates the existing rows, inserts the others and updates again the ones another
// transaction created meanwhile (a new statement sees them); it returns the changed rows.
func writeSessions(ctx context.Context, tx bun.Tx, in sessionInput) (map[string]sessionChange, error) {
	changes := make(map[string]sessionChange, in.len())
	found, err := updateSessions(ctx, tx, in, changes)
	if err != nil {
		return nil, err
	}
	missing := in.without(found)
	if missing.len() == 0 {
		return changes, nil
	}
	created, err := insertSessions(ctx, tx, missing, changes)
	if err != nil {
		return nil, err
	}
	raced := missing.without(created)
	if raced.len() == 0 {
		return changes, nil
	}
	if found, err = updateSessions(ctx, tx, raced, changes); err != nil {
		return nil, err
	}
	if len(found) != raced.len() {
		return nil, fmt.Errorf("sessions: %d of %d rows neither created nor found", raced.len()-len(found), raced.len())
	}
	return changes, nil
}

// updateSessionsSQL locks the existing rows in id order (FOR UPDATE returns the newest committed
// version), sets GREATEST(stored, reported) and returns every locked row with its totals before and
// after. Rows with nothing new are locked but not written.
const updateSessionsSQL = `
WITH v AS (
	SELECT i.id, i.gateway, i.up, i.down, i.seq,
		d.user_id AS user_id, d.id AS device_id, g.id AS gateway_node_id, o.id AS outline_node_id
	FROM unnest(?::uuid[], ?::bigint[], ?::text[], ?::text[], ?::bigint[], ?::bigint[], ?::bigint[], ?::bigint[])
		AS i(id, user_id, device_uuid, gateway, outline_node_id, up, down, seq)
	LEFT JOIN devices d ON d.device_uuid = i.device_uuid
	LEFT JOIN gateway_nodes g ON g.name = i.gateway
	LEFT JOIN outline_nodes o ON o.id = i.outline_node_id
),
old AS MATERIALIZED (
	SELECT s.id, s.bytes_up, s.bytes_down FROM sessions s
	WHERE s.id IN (SELECT v.id FROM v)
	ORDER BY s.id
	FOR UPDATE
),
upd AS (
	UPDATE sessions AS s SET
		user_id = COALESCE(s.user_id, v.user_id),
		device_id = COALESCE(s.device_id, v.device_id),
		gateway_node_id = COALESCE(s.gateway_node_id, v.gateway_node_id),
		outline_node_id = COALESCE(s.outline_node_id, v.outline_node_id),
		bytes_up = CASE WHEN COALESCE(s.user_id, v.user_id) IS NULL THEN s.bytes_up ELSE GREATEST(s.bytes_up, v.up) END,
		bytes_down = CASE WHEN COALESCE(s.user_id, v.user_id) IS NULL THEN s.bytes_down ELSE GREATEST(s.bytes_down, v.down) END,
		last_seq = GREATEST(s.last_seq, v.seq),
		updated_at = now()
	FROM old, v
	WHERE s.id = old.id AND v.id = old.id AND s.gateway_node_name = v.gateway AND (
		v.up > s.bytes_up OR v.down > s.bytes_down OR v.seq > s.last_seq
		OR (s.user_id IS NULL AND v.user_id IS NOT NULL)
		OR (s.device_id IS NULL AND v.device_id IS NOT NULL)
		OR (s.gateway_node_id IS NULL AND v.gateway_node_id IS NOT NULL)
		OR (s.outline_node_id IS NULL AND v.outline_node_id IS NOT NULL))
	RETURNING s.id, COALESCE(s.user_id, 0) AS user_id, s.bytes_up, s.bytes_down
)
SELECT old.id::text, upd.id IS NOT NULL, COALESCE(upd.user_id, 0), old.bytes_up, old.bytes_down,
	COALESCE(upd.bytes_up, 0), COALESCE(upd.bytes_down, 0)
FROM old LEFT JOIN upd ON upd.id = old.id`

// updateSessions records the rows it changed in out and returns the ids it found.
func updateSessions(ctx context.Context, tx bun.Tx, in sessionInput, out map[string]sessionChange) (map[string]bool, error) {
	rows, err := tx.QueryContext(ctx, updateSessionsSQL,
		pgdialect.Array(in.ids), pgdialect.Array(in.users), pgdialect.Array(in.devices), pgdialect.Array(in.gateways),
		pgdialect.Array(in.nodes), pgdialect.Array(in.ups), pgdialect.Array(in.downs), pgdialect.Array(in.seqs))
	if err != nil {
		return nil, fmt.Errorf("update sessions: %w", err)
	}
	defer rows.Close()
	found := make(map[string]bool, in.len())
	for rows.Next() {
		var id string
		var changed bool
		var ch sessionChange
		if err := rows.Scan(&id, &changed, &ch.UserID, &ch.Old.Up, &ch.Old.Down, &ch.New.Up, &ch.New.Down); err != nil {
			return nil, fmt.Errorf("update sessions: scan: %w", err)
		}
		found[id] = true
		if changed {
			out[id] = ch
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("update sessions: %w", err)
	}
	return found, nil
}

const insertSessionsSQL = `
WITH ` + resolvedInputSQL + `
INSERT INTO sessions AS s (id, user_id, device_id, device_uuid, gateway_node_name, gateway_node_id,
	outline_node_id, region, started_at, bytes_up, bytes_down, last_seq, updated_at)
SELECT v.id, v.user_id, v.device_id, v.device_uuid, v.gateway, v.gateway_node_id, v.outline_node_id,
	v.region, v.started_at,
	CASE WHEN v.user_id IS NULL THEN 0 ELSE v.up END,
	CASE WHEN v.user_id IS NULL THEN 0 ELSE v.down END,
	v.seq, now()
FROM v
ORDER BY v.id
ON CONFLICT (id) DO NOTHING
RETURNING s.id::text, COALESCE(s.user_id, 0), s.bytes_up, s.bytes_down`

// insertSessions creates the sessions seen for the first time, with their totals when the user is
// known; one another transaction is creating makes it wait and is left out.
func insertSessions(ctx context.Context, tx bun.Tx, in sessionInput, out map[string]sessionChange) (map[string]bool, error) {
	rows, err := tx.QueryContext(ctx, insertSessionsSQL, in.args()...)
	if err != nil {
		return nil, fmt.Errorf("insert sessions: %w", err)
	}
	defer rows.Close()
	created := make(map[string]bool, in.len())
	for rows.Next() {
		var id string
		var ch sessionChange
		if err := rows.Scan(&id, &ch.UserID, &ch.New.Up, &ch.New.Down); err != nil {
			return nil, fmt.Errorf("insert sessions: scan: %w", err)
		}
		created[id] = true
		out[id] = ch
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("insert sessions: %w", err)
	}
	return created, nil
}
