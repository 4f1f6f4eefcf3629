package usageaggregator

import (
	"context"
	"fmt"
	"regexp"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/shared/jsconsume"
	"github.com/httvps/httvps/shared/logging"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/uptrace/bun"
)

const opBoot = "boot"

var bootIDPattern = regexp.MustCompile(`^[0-9a-f]{32}$`)

func decodeBoot(msg jetstream.Msg) (schemas.GatewayBoot, error) {
	var b schemas.GatewayBoot
	if err := decodeStrict(msg.Data(), &b); err != nil {
		return b, err
	}
	v := fieldChecks{}
	v.required("gateway_id", b.GatewayID)
	v.required("region", b.Region)
	if !bootIDPattern.MatchString(b.BootID) {
		v.fail("boot_id", "must be 32 lowercase hex digits, got %q", b.BootID)
	}
	if b.BootedAt.IsZero() {
		v.fail("booted_at", "required")
	}
	if v.err != nil {
		return b, v.err
	}
	if msg.Subject() != schemas.SessionSubject(schemas.SessionBootEvent, b.GatewayID) {
		return b, fmt.Errorf("gateway_id %q does not match subject %s", b.GatewayID, msg.Subject())
	}
	return b, nil
}

// runBoots ends, for every gateway that announces a new boot, the sessions its older boots left
// open: a restarted gateway keeps its id and its heartbeats, so the gateway-lost sweep never
// would.
func (s *Service) runBoots(ctx context.Context) error {
	c := s.waitConsumer(ctx, schemas.StreamSessions, schemas.ConsumerBootsAggregator)
	if c == nil {
		return nil
	}
	loop := jsconsume.New(schemas.ConsumerBootsAggregator, c, decodeBoot, s.handleBoots, jsconsume.Options{
		BatchSize: 1, MaxWait: s.cfg.FetchWait, NakDelay: s.cfg.NakDelay, Log: s.log, Metrics: s.m.consumer,
	})
	return loop.Run(ctx)
}

func (s *Service) handleBoots(ctx context.Context, items []jsconsume.Item[schemas.GatewayBoot]) error {
	for _, it := range items {
		if err := s.applyBoot(ctx, it.Value); err != nil {
			return err
		}
	}
	return nil
}

// recordBootSQL keeps the newest boot per gateway.
const recordBootSQL = `
INSERT INTO gateway_boots AS b (gateway_name, boot_id, booted_at) VALUES (?, ?, ?)
ON CONFLICT (gateway_name) DO UPDATE SET boot_id = EXCLUDED.boot_id, booted_at = EXCLUDED.booted_at, updated_at = now()
	WHERE b.booted_at < EXCLUDED.booted_at`

const currentBootSQL = `SELECT boot_id FROM gateway_boots WHERE gateway_name = ?`

// oldBootSessionsSQL picks the open sessions of a gateway that started before its boot; their
// last word is the last report stored (updated_at), not after the boot.
const oldBootSessionsSQL = `
SELECT s.id::text, COALESCE(s.user_id, 0), COALESCE(s.device_uuid, ''), s.gateway_node_name,
	COALESCE(s.region, ''), COALESCE(s.outline_node_id, 0), s.started_at,
	LEAST(?::timestamptz, GREATEST(s.started_at, s.updated_at)), s.last_seq, s.bytes_up, s.bytes_down
FROM sessions s
WHERE s.ended_at IS NULL AND s.gateway_node_name = ? AND s.started_at < ?
ORDER BY s.id
LIMIT ?
FOR UPDATE OF s SKIP LOCKED`

// applyBoot records the boot and closes the older boots' sessions in batches, publishing a
// SessionEnded (reason gateway_restarted) for each before its row is closed, so node-registry
// releases their counts. A failure leaves the message to be redelivered and the work resumes.
func (s *Service) applyBoot(ctx context.Context, b schemas.GatewayBoot) error {
	current := ""
	err := s.inTx(ctx, opBoot, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.ExecContext(ctx, recordBootSQL, b.GatewayID, b.BootID, b.BootedAt); err != nil {
			return fmt.Errorf("record boot: %w", err)
		}
		return tx.QueryRowContext(ctx, currentBootSQL, b.GatewayID).Scan(&current)
	})
	if err != nil {
		return err
	}
	if current != b.BootID {
		s.log.Info().Str(logging.FieldGateway, b.GatewayID).Str(logging.FieldBoot, b.BootID).Msg("announcement of an older boot ignored")
		return nil
	}
	total := 0
	for {
		n, err := s.closeOldBootBatch(ctx, b)
		total += n
		if err != nil {
			return err
		}
		if n < s.cfg.SweepBatch {
			break
		}
	}
	if total > 0 {
		s.m.restarted.Add(float64(total))
		s.log.Info().Str(logging.FieldGateway, b.GatewayID).Str(logging.FieldBoot, b.BootID).Int(logging.FieldCount, total).
			Msg("gateway restarted: closed the sessions of its older boot")
	}
	return nil
}

func (s *Service) closeOldBootBatch(ctx context.Context, b schemas.GatewayBoot) (int, error) {
	closed := 0
	err := s.inTx(ctx, opBoot, func(ctx context.Context, tx bun.Tx) error {
		rows, err := tx.QueryContext(ctx, oldBootSessionsSQL, b.BootedAt, b.GatewayID, b.BootedAt, s.cfg.SweepBatch)
		if err != nil {
			return fmt.Errorf("select sessions of older boots: %w", err)
		}
		old, err := scanEnded(rows, schemas.EndReasonGatewayRestarted)
		if err != nil {
			return err
		}
		var failed int
		closed, failed, err = s.publishAndClose(ctx, tx, old, schemas.EndReasonGatewayRestarted)
		if err == nil && failed > 0 {
			err = fmt.Errorf("%d sessions of older boots left open: their session ended events were not stored", failed)
		}
		return err
	})
	return closed, err
}
