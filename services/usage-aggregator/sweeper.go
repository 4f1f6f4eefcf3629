package usageaggregator

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/shared/logging"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
)

func (s *Service) runSweeper(ctx context.Context) error {
	t := time.NewTicker(s.cfg.SweepInterval)
	defer t.Stop()
	for {
		for ctx.Err() == nil {
			n, err := s.sweepOnce(ctx)
			if err != nil {
				s.log.Error().Err(err).Msg("gateway-lost sweep failed")
				break
			}
			if n < s.cfg.SweepBatch {
				break
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// lostSessionsSQL picks open sessions whose gateway has been silent longer than the timeout: by its
// last heartbeat, or by the session's last update when the gateway has no heartbeat on record.
// SKIP LOCKED lets several sweepers (and the consumers) work side by side.
const lostSessionsSQL = `
SELECT s.id::text, COALESCE(s.user_id, 0), COALESCE(s.device_uuid, ''), s.gateway_node_name,
	COALESCE(s.region, ''), COALESCE(s.outline_node_id, 0), s.started_at,
	GREATEST(s.started_at, COALESCE(g.last_heartbeat_at, s.updated_at)), s.last_seq, s.bytes_up, s.bytes_down
FROM sessions s
LEFT JOIN gateway_nodes g ON g.name = s.gateway_node_name
WHERE s.ended_at IS NULL
	AND COALESCE(g.last_heartbeat_at, s.updated_at) < now() - make_interval(secs => ?)
ORDER BY s.id
LIMIT ?
FOR UPDATE OF s SKIP LOCKED`

const closeLostSQL = `
UPDATE sessions AS s SET ended_at = v.ended_at, end_reason = ?, updated_at = now()
FROM unnest(?::uuid[], ?::timestamptz[]) AS v(id, ended_at)
WHERE s.id = v.id AND s.ended_at IS NULL`

// sweepOnce publishes a SessionEnded (reason gateway_lost) for every lost session before closing it
// in the same transaction: if the commit fails, the consumer still closes the row from the event;
// if a publish fails, that session stays open for the next sweep.
func (s *Service) sweepOnce(ctx context.Context) (int, error) {
	closed := 0
	err := s.inTx(ctx, opSweep, func(ctx context.Context, tx bun.Tx) error {
		lost, err := selectLost(ctx, tx, s.cfg.GatewayTimeout, s.cfg.SweepBatch)
		if err != nil {
			return err
		}
		closed, _, err = s.publishAndClose(ctx, tx, lost, schemas.EndReasonGatewayLost)
		return err
	})
	if closed > 0 {
		s.m.swept.Add(float64(closed))
		s.log.Info().Int(logging.FieldCount, closed).Str(logging.FieldReason, schemas.EndReasonGatewayLost).Msg("closed sessions of lost gateways")
	}
	return closed, err
}

func selectLost(ctx context.Context, tx bun.Tx, timeout time.Duration, limit int) ([]schemas.SessionEnded, error) {
	rows, err := tx.QueryContext(ctx, lostSessionsSQL, timeout.Seconds(), limit)
	if err != nil {
		return nil, fmt.Errorf("select lost sessions: %w", err)
	}
	return scanEnded(rows, schemas.EndReasonGatewayLost)
}

// scanEnded reads the rows of a session closing query as SessionEnded events with the reason.
func scanEnded(rows *sql.Rows, reason string) ([]schemas.SessionEnded, error) {
	defer rows.Close()
	var out []schemas.SessionEnded
	for rows.Next() {
		e := schemas.SessionEnded{Reason: reason}
		var seq int64
		if err := rows.Scan(&e.SessionID, &e.UserID, &e.DeviceID, &e.GatewayID, &e.Region, &e.OutlineNodeID,
			&e.StartedAt, &e.EndedAt, &seq, &e.BytesUp, &e.BytesDown); err != nil {
			return nil, fmt.Errorf("scan %s sessions: %w", reason, err)
		}
		e.Seq = uint64(seq)
		e.StartedAt, e.EndedAt = e.StartedAt.UTC(), e.EndedAt.UTC()
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("scan %s sessions: %w", reason, err)
	}
	return out, nil
}

// publishAndClose publishes a SessionEnded for each session, then closes in tx those whose event
// was acknowledged. A session whose publish failed stays open; failed counts them.
func (s *Service) publishAndClose(ctx context.Context, tx bun.Tx, sessions []schemas.SessionEnded, reason string) (closed, failed int, err error) {
	var ids []string
	var endedAt []time.Time
	for _, e := range sessions {
		if err := s.publishEnded(ctx, e); err != nil {
			failed++
			s.m.publishErrors.WithLabelValues(publishEnded).Inc()
			s.log.Error().Err(err).Str(logging.FieldSession, e.SessionID).Str(logging.FieldReason, reason).Msg("publish session end")
			continue
		}
		ids, endedAt = append(ids, e.SessionID), append(endedAt, e.EndedAt)
	}
	if len(ids) == 0 {
		return 0, failed, nil
	}
	res, err := tx.ExecContext(ctx, closeLostSQL, reason, pgdialect.Array(ids), pgdialect.Array(endedAt))
	if err != nil {
		return 0, failed, fmt.Errorf("close %s sessions: %w", reason, err)
	}
	n, _ := res.RowsAffected()
	return int(n), failed, nil
}

func endedMsgID(sessionID string) string { return "ended:" + sessionID }

func (s *Service) publishEnded(ctx context.Context, e schemas.SessionEnded) error {
	data, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("encode session ended: %w", err)
	}
	msg := &nats.Msg{Subject: schemas.SessionSubject(schemas.SessionEndedEvent, e.GatewayID), Data: data}
	if _, err := s.js.PublishMsg(ctx, msg, jetstream.WithMsgID(endedMsgID(e.SessionID))); err != nil {
		return fmt.Errorf("publish %s: %w", msg.Subject, err)
	}
	return nil
}
